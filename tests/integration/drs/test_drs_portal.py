"""The DRS for the portal, a real server over mTLS on a real database (SQLite, or PostgreSQL
when TEST_DATABASE_URL is set), its network scripted (tests.unit.drs.fakes) and its
attestations delivered by a recording transport:

- DrsConsultationService.ListWorkerDeclarations called as the router calls it, for the worker
  himself (`person/{insz}`, SELF_SERVICE, capacity `self`) and for an institution: every
  employer's declarations about him, newest first, in pages, the acting person left out; every
  bad input with its reason; any direct caller refused DIRECT_ACCESS_FORBIDDEN; the person's
  number never in the logs;
- people acting for an employer, as the edge forwards them (the gateway's certificate and
  `x-carrefour-claims`): a reader reads but is refused READ_ONLY_ROLE on SubmitDeclaration with
  nothing stored; a declarant's declaration records and returns the acting person; certificate
  callers are unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from drs.config import Settings as DrsSettings
from drs.seed.command import load as load_drs
from drs.server import create_server as create_drs
from drs.storage import MIGRATIONS
from runtime.client import failure, party_tls, secure_channel
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.identifiers import make_insz
from runtime.outbox import Delivered, OutboxEntry
from runtime.server import ServiceHost
from tests.integration.drs.portal import claims, routed_for_institution, routed_for_person
from tests.support.servers import running, service_env
from tests.unit.drs import protos as p
from tests.unit.drs.fakes import (
    EMPLOYMENT,
    NOW,
    OTHER_WORKER,
    RETAIL,
    STATE,
    TODAY,
    WORKER,
    FakeNetwork,
)

pytestmark = pytest.mark.integration

#: A worker only the listing tests declare about (employed by RETAIL and STATE).
LISTED = make_insz(birth_year=1991, birth_month=4, birth_day=9, serial=211)
JAN = make_insz(birth_year=1970, birth_month=2, birth_day=3, serial=45)  # acts for RETAIL
ANNA = make_insz(birth_year=1975, birth_month=11, birth_day=20, serial=46)  # acts for RETAIL
PERSON = f"spiffe://carrefour.local/person/{LISTED}"


class DeliveringTransport:
    """Every attestation reaches its inbox at once; none is acknowledged."""

    def deliver(self, entry: OutboxEntry, sender: str) -> Delivered:
        return Delivered(f"inboxes/{entry.destination or 'mut-100'}/attestations/{entry.id}", "t")

    def acknowledged(self, entry: OutboxEntry) -> dt.datetime | None:
        return None


@dataclass
class Drs:
    pki_dir: Path
    host: ServiceHost
    url: str
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def channel(self, party: str) -> grpc.Channel:
        if party not in self.channels:
            self.channels[party] = secure_channel(
                f"localhost:{self.host.port}", party_tls(self.pki_dir, party)
            )
        return self.channels[party]

    def employer_api(self, party: str = f"employer-{RETAIL}") -> drs_pb2_grpc.DrsServiceStub:
        return drs_pb2_grpc.DrsServiceStub(self.channel(party))

    def consultation(self, party: str = "router") -> drs_pb2_grpc.DrsConsultationServiceStub:
        return drs_pb2_grpc.DrsConsultationServiceStub(self.channel(party))

    def count(self, table: str) -> int:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
        finally:
            engine.dispose()

    def acting_person(self, employer: str, reference: str) -> str:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(
                        "SELECT acting_person FROM declaration"
                        " WHERE employer = :e AND reference = :r"
                    ),
                    {"e": employer, "r": reference},
                ).scalar_one()
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def drs(pki_dir: Path, module_database_url: str) -> Iterator[Drs]:
    db = Database(module_database_url)
    db.migrate(MIGRATIONS)
    load_drs(db)
    db.dispose()
    network = FakeNetwork()
    network.employments |= {(LISTED, RETAIL): EMPLOYMENT, (LISTED, STATE): EMPLOYMENT}
    host = create_drs(
        DrsSettings.from_env(
            service_env(
                pki_dir,
                "onss",
                module_database_url,
                OUTBOX_POLL_SECONDS="0.05",
                ACK_POLL_SECONDS="0",
            )
        ),
        clock=FixedClock(NOW),
        network=network,
        transport=DeliveringTransport(),
    )
    with running(host):
        state = Drs(pki_dir, host, module_database_url)
        yield state
        for channel in state.channels.values():
            channel.close()


def _c4(employer: str, reference: str, insz: str) -> drs_pb2.SubmitDeclarationRequest:
    return p.submit(employer, reference, insz, TODAY, **p.end_of_contract(TODAY))


def _refusal(call) -> tuple[grpc.StatusCode, str, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = failure(caught.value)
    return info.code, info.reason, info.domain


def _list(drs: Drs, insz: str, metadata, size: int = 0, token: str = ""):  # noqa: ANN001, ANN202
    return drs.consultation().ListWorkerDeclarations(
        drs_pb2.ListWorkerDeclarationsRequest(insz=insz, page_size=size, page_token=token),
        metadata=metadata,
        timeout=10,
    )


@pytest.fixture(scope="module")
def listed(drs: Drs) -> list[str]:
    """LISTED's declarations, oldest first: RETAIL's, STATE's, one a person filed for RETAIL."""
    drs.employer_api().SubmitDeclaration(_c4(RETAIL, "list-r0", LISTED), timeout=30)
    drs.employer_api(f"employer-{STATE}").SubmitDeclaration(
        _c4(STATE, "list-s0", LISTED), timeout=30
    )
    drs.employer_api().SubmitDeclaration(_c4(RETAIL, "list-o0", OTHER_WORKER), timeout=30)
    request = p.submit(
        RETAIL, "list-r1", LISTED, TODAY, **p.temporary()
    )  # a temporary unemployment
    drs.employer_api("gateway").SubmitDeclaration(
        request, metadata=[claims(JAN, RETAIL, "declarant")], timeout=30
    )
    return ["list-r1", "list-s0", "list-r0"]


# -- ListWorkerDeclarations --------------------------------------------------------------------


def test_the_worker_reads_his_declarations_by_every_employer_through_the_router(
    drs: Drs, listed: list[str]
) -> None:
    seen, token, pages = [], "", 0
    while True:
        page = _list(drs, LISTED, routed_for_person(LISTED), size=2, token=token)
        seen += list(page.declarations)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert [d.declaration_reference for d in seen] == listed and pages == 2
    assert [d.name for d in seen] == [
        f"employers/{RETAIL}/declarations/list-r1",
        f"employers/{STATE}/declarations/list-s0",
        f"employers/{RETAIL}/declarations/list-r0",
    ]
    newest = seen[0]
    assert newest.insz == LISTED and newest.scenario == drs_pb2.SCENARIO_TEMPORARY_UNEMPLOYMENT
    assert (newest.attestation_kind, newest.destination) == ("unemployment.temporary", "onem")
    assert newest.attestation_status in (
        drs_pb2.ATTESTATION_STATUS_PENDING,
        drs_pb2.ATTESTATION_STATUS_DELIVERED,
    )
    assert newest.submitted_by == f"spiffe://carrefour.local/employer/{RETAIL}"
    # A third person's number is not the worker's data: stored, never shown here.
    assert [d.acting_person for d in seen] == ["", "", ""]
    assert drs.acting_person(RETAIL, "list-r1") == JAN


def test_an_institution_reads_the_same_through_the_router(drs: Drs, listed: list[str]) -> None:
    page = _list(drs, LISTED, routed_for_institution("onem", "unemployment.control"))
    assert [d.declaration_reference for d in page.declarations] == listed
    assert page.next_page_token == ""
    other = _list(drs, OTHER_WORKER, routed_for_person(OTHER_WORKER))
    assert [d.declaration_reference for d in other.declarations] == ["list-o0"]
    nobody = make_insz(birth_year=1960, birth_month=1, birth_day=1, serial=1)
    assert list(_list(drs, nobody, routed_for_person(nobody)).declarations) == []


@pytest.mark.parametrize(
    ("insz", "size", "token", "reason"),
    [
        ("", 0, "", "INSZ_MALFORMED"),
        ("8507141233x", 0, "", "INSZ_MALFORMED"),
        (LISTED[:-1] + str((int(LISTED[-1]) + 1) % 10), 0, "", "INSZ_CHECK_DIGITS"),
        (LISTED, -1, "", "INVALID_PAGE_SIZE"),
        (LISTED, 0, "not-a-token", "INVALID_PAGE_TOKEN"),
    ],
)
def test_bad_input_is_invalid_argument_with_its_reason(
    drs: Drs, insz: str, size: int, token: str, reason: str
) -> None:
    assert _refusal(lambda: _list(drs, insz, routed_for_person(LISTED), size, token)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        "drs.cbss",
    )


def test_a_page_token_of_another_worker_is_refused(drs: Drs, listed: list[str]) -> None:
    first = _list(drs, LISTED, routed_for_person(LISTED), size=1)
    assert first.next_page_token
    code, reason, _ = _refusal(
        lambda: _list(drs, OTHER_WORKER, routed_for_person(OTHER_WORKER), 1, first.next_page_token)
    )
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


@pytest.mark.parametrize(
    ("party", "metadata"),
    [
        ("institution-onem", routed_for_person(LISTED)),  # forged routing headers change nothing
        (f"employer-{RETAIL}", []),
        ("admin-ops", routed_for_institution("onem", "unemployment.control")),
        ("gateway", [claims(LISTED)]),  # the citizen himself, not through the router
        ("onss", routed_for_person(LISTED)),
    ],
)
def test_a_direct_caller_is_refused_direct_access_forbidden(
    drs: Drs, party: str, metadata: list[tuple[str, str]]
) -> None:
    code, reason, _ = _refusal(
        lambda: drs.consultation(party).ListWorkerDeclarations(
            drs_pb2.ListWorkerDeclarationsRequest(insz=LISTED), metadata=metadata, timeout=10
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECT_ACCESS_FORBIDDEN")


def test_the_persons_number_is_never_in_the_logs_when_he_consults(
    drs: Drs, listed: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _list(drs, LISTED, routed_for_person(LISTED))
        _refusal(lambda: _list(drs, LISTED, routed_for_person(LISTED), -1))
    lines = [r.getMessage() for r in caplog.records]
    assert any("ListWorkerDeclarations" in line and "person/*" in line for line in lines)
    assert not [line for line in lines if LISTED in line]


# -- people acting for an employer -----------------------------------------------------------


def test_a_reader_is_refused_read_only_role_and_nothing_is_stored(drs: Drs) -> None:
    reader = [claims(JAN, RETAIL, "reader")]
    before = (drs.count("declaration"), drs.count("outbox_attestation"))
    for n, risk in enumerate(
        (p.end_of_contract(TODAY), p.temporary(), p.hours(), p.incapacity(TODAY - dt.timedelta(1)))
    ):
        day = TODAY.replace(day=1) if "temporary_unemployment_hours" in risk else TODAY
        request = p.submit(RETAIL, f"reader-{n}", WORKER, day, **risk)
        code, reason, domain = _refusal(
            lambda r=request: drs.employer_api("gateway").SubmitDeclaration(
                r, metadata=reader, timeout=30
            )
        )
        assert (code, reason, domain) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "READ_ONLY_ROLE",
            "drs.cbss",
        )
    assert (drs.count("declaration"), drs.count("outbox_attestation")) == before
    # Of another employer: the employer check first.
    code, reason, _ = _refusal(
        lambda: drs.employer_api("gateway").SubmitDeclaration(
            _c4(STATE, "reader-state", WORKER), metadata=reader, timeout=30
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER")


def test_a_reader_prefills_and_reads_the_employers_declarations_and_tasks(drs: Drs) -> None:
    drs.employer_api().SubmitDeclaration(_c4(RETAIL, "read-me", WORKER), timeout=30)
    reader = [claims(JAN, RETAIL, "reader")]
    api = drs.employer_api("gateway")
    prefill = api.PrefillDeclaration(
        drs_pb2.PrefillDeclarationRequest(
            parent=f"employers/{RETAIL}",
            insz=WORKER,
            scenario=drs_pb2.SCENARIO_WORK_ACCIDENT,
            risk_date=p.pb(TODAY),
        ),
        metadata=reader,
        timeout=30,
    ).prefill
    assert prefill.worker.insz == WORKER and prefill.employment.period_id == EMPLOYMENT.period_id
    got = api.GetDeclaration(
        drs_pb2.GetDeclarationRequest(name=f"employers/{RETAIL}/declarations/read-me"),
        metadata=reader,
        timeout=10,
    ).declaration
    assert got.declaration_reference == "read-me" and got.acting_person == ""
    listed = api.ListDeclarations(
        drs_pb2.ListDeclarationsRequest(parent=f"employers/{RETAIL}", page_size=500),
        metadata=reader,
        timeout=10,
    )
    assert "read-me" in [d.declaration_reference for d in listed.declarations]
    api.ListTasks(
        drs_pb2.ListTasksRequest(parent=f"employers/{RETAIL}"), metadata=reader, timeout=10
    )


def test_a_declarants_declaration_records_the_acting_person(drs: Drs) -> None:
    api = drs.employer_api("gateway")
    request = _c4(RETAIL, "declarant-1", WORKER)
    declared = api.SubmitDeclaration(
        request, metadata=[claims(JAN, RETAIL, "declarant")], timeout=30
    ).declaration
    assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED
    assert declared.submitted_by == f"spiffe://carrefour.local/employer/{RETAIL}"
    assert declared.acting_person == JAN
    assert drs.acting_person(RETAIL, "declarant-1") == JAN
    # The employer's certificate reads who acted.
    got = (
        drs.employer_api()
        .GetDeclaration(
            drs_pb2.GetDeclarationRequest(name=f"employers/{RETAIL}/declarations/declarant-1"),
            timeout=10,
        )
        .declaration
    )
    assert got.acting_person == JAN
    # The same content again, by another person or by the certificate: the stored declaration.
    for party, metadata in (
        ("gateway", [claims(ANNA, RETAIL, "declarant")]),
        (f"employer-{RETAIL}", []),
    ):
        again = (
            drs.employer_api(party)
            .SubmitDeclaration(request, metadata=metadata, timeout=30)
            .declaration
        )
        assert again.acting_person == JAN and again.attestation_id == declared.attestation_id
    assert drs.count("declaration WHERE reference = 'declarant-1'") == 1


def test_a_certificate_caller_records_no_acting_person(drs: Drs) -> None:
    for party, employer in ((f"employer-{RETAIL}", RETAIL), ("bureau-0314595348", RETAIL)):
        reference = f"cert-{party}"
        declared = (
            drs.employer_api(party)
            .SubmitDeclaration(_c4(employer, reference, WORKER), timeout=30)
            .declaration
        )
        assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED
        assert declared.acting_person == "" and drs.acting_person(employer, reference) == ""
