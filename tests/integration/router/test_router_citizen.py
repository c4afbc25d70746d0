"""The router's side of the portal, on the real router and a real (counting) holder over mTLS.

A person reaches the router as the edge forwards them: the gateway's certificate and the
verified token's payload in `x-carrefour-claims`. They may consult their own data through a
method open to self-service (logged SELF_SERVICE / self), nobody else's (NOT_OWN_DATA, the
holder receives nothing), and ask CitizenService who consulted them and who holds a file about
them. A holder's answer naming someone else is withheld.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import textwrap
import threading

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2, timestamp_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import (
    citizen_pb2,
    citizen_pb2_grpc,
    directory_pb2,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime import identity
from runtime.client import failure
from runtime.db import Database
from runtime.identity import current_caller, current_consultation
from tests.integration.router.conftest import REGISTRY, Network, date, integrate, routed
from tests.support.protos import compiled
from tests.support.servers import holder_host, running

pytestmark = pytest.mark.integration

X, Y = FIXED_MAN, FIXED_WOMAN
MASK = field_mask_pb2.FieldMask(paths=["identity"])
PERSON_X = f"spiffe://carrefour.local/person/{X}"
ONEM = "spiffe://carrefour.local/institution/onem"
CONFIDENTIAL = "police.fraud-investigation"


def claims(**payload: object) -> tuple[str, str]:
    raw = json.dumps(payload).encode()
    return (identity.CLAIMS_HEADER, base64.urlsafe_b64encode(raw).decode().rstrip("="))


def as_person(insz: str = X, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    """What the edge sends for a citizen signed in at the portal."""
    return [claims(sub=insz, aud="carrefour-portal"), *extra]


def _ticket(call_or_error) -> str:  # noqa: ANN001
    return identity.router_ticket(call_or_error)


def _get(network: Network, party: str, insz: str, metadata, mask=MASK):  # noqa: ANN001, ANN202
    with network.channel(party) as channel:
        return registry_pb2_grpc.RegistryServiceStub(channel).GetPerson.with_call(
            registry_pb2.GetPersonRequest(insz=insz, read_mask=mask), metadata=metadata, timeout=10
        )


def _refused(network: Network, party: str, call) -> tuple[object, str]:  # noqa: ANN001
    before = network.seen.calls
    with network.channel(party) as channel, pytest.raises(grpc.RpcError) as err:
        call(channel)
    assert network.seen.calls == before, "a refused request must not reach the holder"
    return failure(err.value), _ticket(err.value)


def _log_rows(network: Network, where: str, **params: str) -> list[sa.Row]:
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            return conn.execute(
                sa.text(f"SELECT * FROM message_log WHERE {where} ORDER BY seq"),  # noqa: S608
                params,
            ).all()
    finally:
        db.dispose()


class _Citizen:
    """CitizenService as `party` (with `metadata`): each call on a channel of its own."""

    def __init__(self, network: Network, party: str, metadata=()) -> None:  # noqa: ANN001
        self._network, self._party, self._metadata = network, party, list(metadata)

    def _call(self, method: str, request):  # noqa: ANN001, ANN202
        with self._network.channel(self._party) as channel:
            stub = citizen_pb2_grpc.CitizenServiceStub(channel)
            return getattr(stub, method)(request, metadata=self._metadata, timeout=10)

    def consultations(self, **fields: object):  # noqa: ANN202
        return self._call("ListMyConsultations", citizen_pb2.ListMyConsultationsRequest(**fields))

    def holders(self, **fields: object):  # noqa: ANN202
        return self._call("ListMyFileHolders", citizen_pb2.ListMyFileHoldersRequest(**fields))


_citizen = _Citizen


@pytest.fixture(scope="module")
def consulted(network: Network) -> dict[str, str]:
    """ONEM consults X (once under a confidential context) and Y; X and Y are integrated by
    ONEM (capacity 18/1). Returns the tickets."""
    with network.channel("admin-ops") as channel:
        router_admin_pb2_grpc.RouterAdminServiceStub(channel).GrantAuthorisation(
            router_admin_pb2.GrantAuthorisationRequest(
                authorisation=router_admin_pb2.Authorisation(
                    deliberation="ISC/26/007",
                    requester="onem",
                    service=REGISTRY,
                    method="GetPerson",
                    legal_contexts=[CONFIDENTIAL],
                    capacities=[directory_pb2.Capacity(sector=18, code=1)],
                    valid_from=date(dt.date(2020, 1, 1)),
                )
            ),
            timeout=10,
        )
    integrate(network, "institution-onem", [X, Y], 18, 1)
    _, about_x = _get(network, "institution-onem", X, routed())
    _, confidential = _get(network, "institution-onem", X, routed(CONFIDENTIAL))
    _, about_y = _get(network, "institution-onem", Y, routed())
    return {
        "about_x": _ticket(about_x),
        "confidential": _ticket(confidential),
        "about_y": _ticket(about_y),
    }


# -- the self-service rule ------------------------------------------------------------------------


def test_person_reads_their_own_record_as_self_service_when_signed_in(network: Network) -> None:
    # A legal context the client sends is ignored: a person's is always SELF_SERVICE.
    metadata = as_person(X, (identity.LEGAL_CONTEXT_HEADER, "unemployment.control"))
    reply, call = _get(network, "gateway", X, metadata, field_mask_pb2.FieldMask(paths=["*"]))
    assert reply.person.insz == X
    assert network.seen.requesters[-1] == PERSON_X
    assert network.seen.legal_contexts[-1] == "SELF_SERVICE"
    assert network.seen.capacities[-1] == "self"
    rows = _log_rows(network, "ticket = :t", t=_ticket(call))
    assert [
        (r.requester, r.legal_context, r.capacity, r.subject, r.outcome, r.destination)
        for r in rows
    ] == [(PERSON_X, "SELF_SERVICE", "self", X, "FORWARDED", "nr")]


def test_person_is_refused_not_own_data_when_asking_about_someone_else(network: Network) -> None:
    error, ticket = _refused(
        network,
        "gateway",
        lambda ch: registry_pb2_grpc.RegistryServiceStub(ch).GetPerson(
            registry_pb2.GetPersonRequest(insz=Y, read_mask=MASK), metadata=as_person(X), timeout=10
        ),
    )
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_DATA")
    assert Y not in str(error.metadata) and Y not in error.message
    rows = _log_rows(network, "ticket = :t", t=ticket)
    assert [(r.requester, r.legal_context, r.subject, r.outcome, r.reason) for r in rows] == [
        (PERSON_X, "SELF_SERVICE", Y, "REFUSED", "NOT_OWN_DATA")
    ]


def test_person_is_not_authorised_when_the_method_is_not_open_to_self_service(
    network: Network,
) -> None:
    error, _ = _refused(
        network,
        "gateway",
        lambda ch: registry_pb2_grpc.RegistryServiceStub(ch).GetPersonStatuses(
            registry_pb2.GetPersonStatusesRequest(inszs=[X]), metadata=as_person(X), timeout=10
        ),
    )
    assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")


def test_person_naming_nobody_is_refused_when_the_insz_is_empty(network: Network) -> None:
    error, _ = _refused(
        network,
        "gateway",
        lambda ch: registry_pb2_grpc.RegistryServiceStub(ch).GetPerson(
            registry_pb2.GetPersonRequest(insz="", read_mask=MASK),
            metadata=as_person(X),
            timeout=10,
        ),
    )
    assert error.reason == "OWN_SUBJECT_REQUIRED"


def test_claims_header_is_ignored_when_an_institution_certificate_sends_it(
    network: Network, consulted: dict[str, str]
) -> None:
    """Only the gateway's token counts: ONEM sending a person's claims is still ONEM."""
    metadata = routed() + as_person(X)
    reply, call = _get(network, "institution-onem", X, metadata)
    assert reply.person.insz == X
    assert network.seen.requesters[-1] == ONEM
    assert network.seen.legal_contexts[-1] == "unemployment.control"
    assert network.seen.capacities[-1] == "18/1"
    with pytest.raises(grpc.RpcError) as err:
        _citizen(network, "institution-onem", as_person(X)).consultations()
    assert failure(err.value).reason == "NOT_AUTHORISED"


# -- CitizenService: who consulted me -------------------------------------------------------------


def test_person_sees_who_consulted_them_but_not_their_own_reads_nor_confidential_ones(
    network: Network, consulted: dict[str, str]
) -> None:
    _, own = _get(network, "gateway", X, as_person(X))
    reply = _citizen(network, "gateway", as_person(X)).consultations()
    tickets = [c.ticket for c in reply.consultations]
    assert consulted["about_x"] in tickets
    assert consulted["confidential"] not in tickets  # an investigation stays unseen
    assert consulted["about_y"] not in tickets  # someone else's
    assert _ticket(own) not in tickets  # the person's own read
    assert all(
        c.institution != "" and c.legal_context != "SELF_SERVICE" for c in reply.consultations
    )
    found = next(c for c in reply.consultations if c.ticket == consulted["about_x"])
    assert (found.institution, found.institution_name) == ("onem", "ONEM")
    assert (found.legal_context, found.capacity) == ("unemployment.control", "18/1")
    assert found.method == "cbss.registry.v1.RegistryService/GetPerson"
    age = dt.datetime.now(dt.UTC) - found.time.ToDatetime(tzinfo=dt.UTC)
    assert dt.timedelta(0) <= age < dt.timedelta(minutes=10)
    times = [c.time.ToDatetime() for c in reply.consultations]
    assert times == sorted(times, reverse=True)


def test_other_person_sees_the_consultation_of_their_own_data_only_when_asking(
    network: Network, consulted: dict[str, str]
) -> None:
    tickets = [
        c.ticket for c in _citizen(network, "gateway", as_person(Y)).consultations().consultations
    ]
    assert consulted["about_y"] in tickets and consulted["about_x"] not in tickets


def test_pages_cover_every_consultation_once_when_followed(
    network: Network, consulted: dict[str, str]
) -> None:
    for _ in range(3):
        _get(network, "institution-onem", X, routed())
    citizen = _citizen(network, "gateway", as_person(X))
    everything = [c.ticket for c in citizen.consultations().consultations]
    seen, token = [], ""
    while True:
        page = citizen.consultations(page_size=2, page_token=token)
        seen += [c.ticket for c in page.consultations]
        token = page.next_page_token
        if not token:
            break
    assert seen == everything and len(seen) >= 4


def test_citizen_reads_are_logged_as_the_person_own_queries_when_answered(
    network: Network,
) -> None:
    before = len(_log_rows(network, "requester = :r AND outcome = 'QUERY'", r=PERSON_X))
    citizen = _citizen(network, "gateway", as_person(X))
    citizen.consultations()
    citizen.holders()
    rows = _log_rows(network, "requester = :r AND outcome = 'QUERY'", r=PERSON_X)
    assert [(r.method, r.subject, r.legal_context, r.capacity) for r in rows[before:]] == [
        ("ListMyConsultations", X, "SELF_SERVICE", "self"),
        ("ListMyFileHolders", X, "SELF_SERVICE", "self"),
    ]


def _stamp(at: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(at)
    return stamp


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"page_size": -1}, "INVALID_PAGE_SIZE"),
        ({"page_token": "garbage"}, "INVALID_PAGE_TOKEN"),
        (
            {"start_time": _stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=200))},
            "INVALID_PERIOD",
        ),
        (
            {
                "start_time": _stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)),
                "end_time": _stamp(dt.datetime.now(dt.UTC) - dt.timedelta(days=3)),
            },
            "INVALID_PERIOD",
        ),
    ],
)
def test_bad_consultations_request_is_refused_with_its_reason(
    network: Network, fields: dict, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _citizen(network, "gateway", as_person(X)).consultations(**fields)
    assert failure(err.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure(err.value).reason == reason


@pytest.mark.parametrize(
    ("fields", "reason"),
    [({"page_size": -5}, "INVALID_PAGE_SIZE"), ({"page_token": "e30"}, "INVALID_PAGE_TOKEN")],
)
def test_bad_holders_request_is_refused_with_its_reason(
    network: Network, fields: dict, reason: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _citizen(network, "gateway", as_person(X)).holders(**fields)
    assert failure(err.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure(err.value).reason == reason


@pytest.mark.parametrize(
    ("party", "metadata"),
    [
        ("institution-onem", []),
        ("admin-ops", []),
        ("gateway", []),  # the gateway itself, no token
        ("gateway", [claims(sub=X, employer="000935467", role="declarant")]),  # for an employer
    ],
)
def test_citizen_service_is_refused_when_the_caller_is_not_a_person(
    network: Network, party: str, metadata: list
) -> None:
    citizen = _citizen(network, party, metadata)
    for ask in (citizen.consultations, citizen.holders):
        with pytest.raises(grpc.RpcError) as err:
            ask()
        assert failure(err.value).code is grpc.StatusCode.PERMISSION_DENIED
        assert failure(err.value).reason == "NOT_AUTHORISED"


# -- CitizenService: who holds a file about me ----------------------------------------------------


def test_person_sees_the_institutions_holding_a_file_about_them_when_asking(
    network: Network, consulted: dict[str, str]
) -> None:
    reply = _citizen(network, "gateway", as_person(X)).holders()
    assert [
        (h.institution, h.institution_name, h.sector, h.capacity, h.description)
        for h in reply.holders
    ] == [("onem", "ONEM", 18, 1, "unemployment: controlled unemployed")]
    held = reply.holders[0]
    assert (held.start_date.year, held.start_date.month, held.start_date.day) == (2024, 1, 1)
    assert not held.HasField("end_date") and reply.next_page_token == ""


# -- answers naming someone else are withheld -----------------------------------------------------

SERVICE = "be.test.household.v1.HouseholdService"
PROTO = textwrap.dedent(
    """
    syntax = "proto3";
    // A holder whose answers may name other persons than the one asked about.
    package be.test.household.v1;
    import "cbss/common/v1/options.proto";
    service HouseholdService {
      rpc GetHousehold(GetHouseholdRequest) returns (GetHouseholdResponse) {
        option (cbss.common.v1.access) = ACCESS_ROUTED;
        option (cbss.common.v1.self_service) = true;
      }
      rpc StreamHousehold(GetHouseholdRequest) returns (stream Member) {
        option (cbss.common.v1.access) = ACCESS_ROUTED;
        option (cbss.common.v1.self_service) = true;
      }
    }
    message GetHouseholdRequest {
      string insz = 1 [(cbss.common.v1.subject) = true];
      // The holder adds these persons to its answer (the test's lever).
      repeated string also = 2;
    }
    message Member { string insz = 1 [(cbss.common.v1.response_subject) = true]; }
    message GetHouseholdResponse { repeated Member members = 1; }
    """
)


@pytest.fixture(scope="module")
def household(network: Network, tmp_path_factory: pytest.TempPathFactory):
    with compiled(
        tmp_path_factory.mktemp("household"), "be/test/household/v1/household.proto", PROTO
    ) as (pb2, grpc_mod):
        seen: list[tuple[str, str, str]] = []
        lock = threading.Lock()

        class Household(grpc_mod.HouseholdServiceServicer):
            def _record(self) -> None:
                consultation = current_consultation()
                with lock:
                    seen.append(
                        (current_caller().uri, consultation.legal_context, consultation.capacity)
                    )

            def GetHousehold(self, request, context):  # noqa: N802, ANN001, ANN201
                self._record()
                return pb2.GetHouseholdResponse(
                    members=[pb2.Member(insz=i) for i in [request.insz, *request.also]]
                )

            def StreamHousehold(self, request, context):  # noqa: N802, ANN001, ANN201
                self._record()
                for insz in [request.insz, *request.also]:
                    yield pb2.Member(insz=insz)

        host = holder_host(
            network.pki_dir,
            "institution-famiwal",
            tmp_path_factory.mktemp("household-holder"),
            grpc_mod.add_HouseholdServiceServicer_to_server,
            Household(),
            SERVICE,
        )
        with running(host):
            with network.channel("admin-ops") as channel:
                router_admin_pb2_grpc.RouterAdminServiceStub(channel).RegisterService(
                    router_admin_pb2.RegisterServiceRequest(
                        registration=router_admin_pb2.ServiceRegistration(
                            service=SERVICE, provider="famiwal", endpoint=f"localhost:{host.port}"
                        )
                    ),
                    timeout=10,
                )
            yield pb2, grpc_mod, seen


def _household(network: Network, household, also: list[str], stream: bool = False):  # noqa: ANN001, ANN202
    pb2, grpc_mod, _ = household
    request = pb2.GetHouseholdRequest(insz=X, also=also)
    with network.channel("gateway") as channel:
        stub = grpc_mod.HouseholdServiceStub(channel)
        if stream:
            call = stub.StreamHousehold(request, metadata=as_person(X), timeout=10)
            return [m.insz for m in call], call
        return stub.GetHousehold.with_call(request, metadata=as_person(X), timeout=10)


def test_answer_about_the_person_alone_reaches_them_when_self_service(
    network: Network, household
) -> None:  # noqa: ANN001
    reply, _ = _household(network, household, [])
    assert [m.insz for m in reply.members] == [X]
    assert household[2][-1] == (PERSON_X, "SELF_SERVICE", "self")


@pytest.mark.parametrize("stream", [False, True])
def test_answer_naming_someone_else_is_withheld_when_a_person_asked(
    network: Network,
    household,
    stream: bool,  # noqa: ANN001
) -> None:
    received: list[str] = []
    with pytest.raises(grpc.RpcError) as err:
        if stream:
            pb2, grpc_mod, _ = household
            with network.channel("gateway") as channel:
                call = grpc_mod.HouseholdServiceStub(channel).StreamHousehold(
                    pb2.GetHouseholdRequest(insz=X, also=[Y]), metadata=as_person(X), timeout=10
                )
                for member in call:
                    received.append(member.insz)
        else:
            _household(network, household, [Y])
    assert failure(err.value).code is grpc.StatusCode.PERMISSION_DENIED
    assert failure(err.value).reason == "RESPONSE_NOT_OWN_DATA"
    assert Y not in received  # (the person's own member, first in the stream, did pass)
    rows = _log_rows(network, "ticket = :t", t=_ticket(err.value))
    outcomes = [(r.subject, r.outcome, r.reason) for r in rows]
    assert (X, "REFUSED", "RESPONSE_NOT_OWN_DATA") in outcomes
    assert all(r.subject != Y for r in rows)  # nobody saw Y: no REVEALED row for them
