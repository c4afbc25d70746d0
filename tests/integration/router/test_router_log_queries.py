"""Who consulted this person's data: questions to the message log, authorised and logged."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from cbss.router.v1 import (
    directory_pb2,
    message_log_pb2,
    message_log_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from registry.seed.population import FIXED_MAN
from runtime.client import failure
from tests.integration.router.conftest import REGISTRY, Network, date, integrate, routed
from tests.integration.router.test_router_routing import _get

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def consultations(network: Network) -> None:
    """ONEM consults FIXED_MAN twice, once under a confidential (police) legal context."""
    with network.channel("admin-ops") as channel:
        router_admin_pb2_grpc.RouterAdminServiceStub(channel).GrantAuthorisation(
            router_admin_pb2.GrantAuthorisationRequest(
                authorisation=router_admin_pb2.Authorisation(
                    deliberation="ISC/26/007",
                    requester="onem",
                    service=REGISTRY,
                    method="GetPerson",
                    legal_contexts=["police.fraud-investigation"],
                    capacities=[directory_pb2.Capacity(sector=18, code=1)],
                    valid_from=date(dt.date(2020, 1, 1)),
                )
            ),
            timeout=10,
        )
    integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
    _get(network, "institution-onem", FIXED_MAN, routed())
    _get(network, "institution-onem", FIXED_MAN, routed("police.fraud-investigation"))


def _list(network: Network, party: str, **fields):  # noqa: ANN003, ANN202
    with network.channel(party) as channel:
        return message_log_pb2_grpc.MessageLogServiceStub(channel).ListMessages(
            message_log_pb2.ListMessagesRequest(**fields), timeout=10
        )


def test_who_consulted_a_person_is_listed_when_an_administrator_asks(network: Network) -> None:
    reply = _list(network, "admin-ops", subject=FIXED_MAN)
    forwarded = [m for m in reply.messages if m.outcome == "FORWARDED"]
    assert {m.legal_context for m in forwarded} == {
        "unemployment.control",
        "police.fraud-investigation",
    }
    assert all(m.requester == "spiffe://carrefour.local/institution/onem" for m in forwarded)
    times = [m.occurred_at.ToDatetime() for m in reply.messages]
    assert times == sorted(times, reverse=True)


def test_confidential_contexts_are_hidden_when_citizen_view_is_asked(network: Network) -> None:
    reply = _list(network, "admin-ops", subject=FIXED_MAN, citizen_view=True)
    contexts = {m.legal_context for m in reply.messages}
    assert "unemployment.control" in contexts
    assert not any(c.startswith("police.") for c in contexts)


def test_pages_cover_every_row_once_when_page_size_is_small(network: Network) -> None:
    everything = [
        m.ticket + m.outcome for m in _list(network, "admin-ops", subject=FIXED_MAN).messages
    ]
    seen, token = [], ""
    while True:
        page = _list(network, "admin-ops", subject=FIXED_MAN, page_size=1, page_token=token)
        seen += [m.ticket + m.outcome for m in page.messages]
        token = page.next_page_token
        if not token:
            break
    # The paging queries are logged too, as QUERY rows about the same person: compare the
    # crossings, not the queries.
    crossings = [k for k in everything if not k.endswith("QUERY")]
    assert [k for k in seen if not k.endswith("QUERY")] == crossings


def test_institution_sees_its_own_requests_when_it_asks(network: Network) -> None:
    reply = _list(network, "institution-onem", requester="onem")
    assert reply.messages and all(
        m.requester == "spiffe://carrefour.local/institution/onem" for m in reply.messages
    )


@pytest.mark.parametrize(
    ("party", "fields", "code", "reason"),
    [
        ("institution-onem", {"subject": FIXED_MAN}, grpc.StatusCode.PERMISSION_DENIED,
         "NOT_AUTHORISED"),
        ("institution-onem", {"requester": "famiwal"}, grpc.StatusCode.PERMISSION_DENIED,
         "NOT_AUTHORISED"),
        ("admin-ops", {}, grpc.StatusCode.INVALID_ARGUMENT, "QUERY_REQUIRED"),
        ("admin-ops", {"subject": "123"}, grpc.StatusCode.INVALID_ARGUMENT, "INSZ_MALFORMED"),
        ("admin-ops", {"subject": FIXED_MAN, "page_token": "garbage"},
         grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"),
    ],
)  # fmt: skip
def test_bad_or_unauthorised_query_is_refused_with_its_reason(
    network: Network, party: str, fields: dict, code: grpc.StatusCode, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _list(network, party, **fields)
    assert failure(err.value).code is code and failure(err.value).reason == reason


def test_every_query_is_itself_in_the_log_when_answered(network: Network) -> None:
    before = [m for m in _list(network, "admin-ops", subject=FIXED_MAN).messages]
    after = _list(network, "admin-ops", subject=FIXED_MAN).messages
    queries = [m for m in after if m.outcome == "QUERY"]
    # The first of these two queries is in the answer to the second.
    assert len(queries) == len([m for m in before if m.outcome == "QUERY"]) + 1
    assert queries[0].requester == "spiffe://carrefour.local/admin/ops"
    assert queries[0].service == "cbss.router.v1.MessageLogService"
