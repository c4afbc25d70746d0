"""GetPerson for the portal, on a real registry over mTLS: called as the router calls it for a
person about himself (`person/{insz}`, legal context SELF_SERVICE, capacity `self`) it answers
as for an institution; the citizen calling directly (the gateway's certificate and his verified
token) is DIRECT_ACCESS_FORBIDDEN; his number is never in the logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2
from registry_rpc import Stub, routing, rpc_failure

from cbss.registry.v1 import registry_pb2
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from tests.integration.drs.portal import claims, routed_for_person

pytestmark = pytest.mark.integration


def _get(stub: Callable[[str], Stub], insz: str, metadata, party: str = "router"):  # noqa: ANN001, ANN202
    request = registry_pb2.GetPersonRequest(
        insz=insz, read_mask=field_mask_pb2.FieldMask(paths=["identity", "address"])
    )
    return stub(party).GetPerson(request, metadata=metadata, timeout=10).person


def test_a_person_reads_himself_through_the_router_as_an_institution_would(
    stub: Callable[[str], Stub],
) -> None:
    mine = _get(stub, FIXED_MAN, routed_for_person(FIXED_MAN))
    assert (mine.name, mine.insz) == (f"persons/{FIXED_MAN}", FIXED_MAN)
    assert mine.identity.last_name == "Peeters"
    assert mine.HasField("address")
    assert mine == _get(stub, FIXED_MAN, routing())


def test_the_registry_leaves_the_persons_own_check_to_the_router(
    stub: Callable[[str], Stub],
) -> None:
    # The router refuses a person asking about someone else (the subject is not the requester);
    # the registry, like every holder, answers what the router forwards.
    other = _get(stub, FIXED_WOMAN, routed_for_person(FIXED_MAN))
    assert other.insz == FIXED_WOMAN


@pytest.mark.parametrize(
    ("party", "metadata"),
    [
        ("gateway", [claims(FIXED_MAN)]),  # the citizen himself, not through the router
        ("gateway", [claims(FIXED_MAN), *routed_for_person(FIXED_MAN)]),
        ("institution-onem", routed_for_person(FIXED_MAN)),
    ],
)
def test_a_direct_caller_is_refused_direct_access_forbidden(
    stub: Callable[[str], Stub], party: str, metadata: list[tuple[str, str]]
) -> None:
    failed = rpc_failure(lambda: _get(stub, FIXED_MAN, metadata, party))
    assert (failed.code, failed.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "DIRECT_ACCESS_FORBIDDEN",
    )


def test_the_persons_number_is_never_in_the_logs_when_he_consults(
    stub: Callable[[str], Stub], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _get(stub, FIXED_MAN, routed_for_person(FIXED_MAN))
        rpc_failure(lambda: _get(stub, FIXED_MAN[:-1] + "x", routed_for_person(FIXED_MAN)))
    lines = [r.getMessage() for r in caplog.records]
    assert any("GetPerson" in line and "person/*" in line for line in lines)
    assert not [line for line in lines if FIXED_MAN in line]
