"""DIMONA for the portal, a real server over mTLS on a real database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set; the `alone` fixture: a scripted identity, no router):

- ListWorkerPeriods called as the router calls it for the worker himself (`person/{insz}`,
  SELF_SERVICE, capacity `self`) answers his periods by every employer; called directly by
  anyone else (the citizen through the gateway included) it is DIRECT_ACCESS_FORBIDDEN; the
  person's number is never in the logs;
- people acting for an employer, as the edge forwards them (the gateway's certificate and
  `x-carrefour-claims`): a reader reads the employer's periods but is refused READ_ONLY_ROLE on
  SubmitDeclaration with nothing stored; a declarant's declaration records and returns the
  acting person (kept on a resubmission by someone else); certificate callers are unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging

import grpc
import pytest
import sqlalchemy as sa

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from runtime.client import failure
from runtime.identifiers import make_insz
from tests.integration.dimona.conftest import Alone
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.integration.drs.portal import claims, routed_for_institution, routed_for_person

pytestmark = pytest.mark.integration

RETAIL = "000100006"
STATE = "000935467"
HIRED = make_insz(birth_year=1992, birth_month=8, birth_day=21, serial=77)  # by both employers
JAN = make_insz(birth_year=1970, birth_month=2, birth_day=3, serial=45)  # acts for RETAIL
ANNA = make_insz(birth_year=1975, birth_month=11, birth_day=20, serial=46)  # acts for RETAIL


def _api(alone: Alone, party: str = f"employer-{RETAIL}") -> dimona_pb2_grpc.DimonaServiceStub:
    return dimona_pb2_grpc.DimonaServiceStub(alone.channel(party))


def _consultation(alone: Alone, party: str = "router"):  # noqa: ANN202
    return dimona_pb2_grpc.DimonaConsultationServiceStub(alone.channel(party))


def _refusal(call) -> tuple[grpc.StatusCode, str, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = failure(caught.value)
    return info.code, info.reason, info.domain


def _count(alone: Alone, where: str = "") -> int:
    engine = sa.create_engine(alone.url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(sa.text(f"SELECT count(*) FROM declaration {where}")).scalar_one()  # noqa: S608
            )
    finally:
        engine.dispose()


def _stored_acting_person(alone: Alone, employer: str, reference: str) -> str:
    engine = sa.create_engine(alone.url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT acting_person FROM declaration WHERE employer = :e AND reference = :r"
                ),
                {"e": employer, "r": reference},
            ).scalar_one()
    finally:
        engine.dispose()


def _worker_periods(alone: Alone, insz: str, metadata, party: str = "router"):  # noqa: ANN001, ANN202
    return _consultation(alone, party).ListWorkerPeriods(
        dimona_pb2.ListWorkerPeriodsRequest(insz=insz), metadata=metadata, timeout=10
    )


@pytest.fixture(scope="module")
def hired(alone: Alone) -> list[int]:
    """HIRED's periods: RETAIL's (filed by a person at the portal) and STATE's."""
    ids = []
    for party, employer, metadata, start in (
        ("gateway", RETAIL, [claims(JAN, RETAIL, "declarant")], dt.date(2025, 6, 3)),
        (f"employer-{STATE}", STATE, [], dt.date(2025, 6, 10)),
    ):
        declared = (
            _api(alone, party)
            .SubmitDeclaration(
                submit_in(employer, "portal-hired", dimona_in(HIRED, start=start)),
                metadata=metadata,
                timeout=20,
            )
            .declaration
        )
        assert declared.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED, declared
        ids.append(declared.period_id)
    return ids


# -- ListWorkerPeriods for the person himself --------------------------------------------------


def test_the_worker_reads_his_periods_by_every_employer_through_the_router(
    alone: Alone, hired: list[int]
) -> None:
    found = _worker_periods(alone, HIRED, routed_for_person(HIRED))
    assert [(p.employer, p.period_id) for p in found.periods] == [
        (RETAIL, hired[0]),
        (STATE, hired[1]),
    ]
    assert all(p.worker_insz == HIRED for p in found.periods)
    institution = _worker_periods(alone, HIRED, routed_for_institution("onem", "unemployment"))
    assert list(institution.periods) == list(found.periods)
    code, reason, domain = _refusal(
        lambda: _worker_periods(alone, HIRED[:-1] + "x", routed_for_person(HIRED))
    )
    assert (code, reason, domain) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INSZ_MALFORMED",
        "dimona.cbss",
    )


@pytest.mark.parametrize(
    ("party", "metadata"),
    [
        ("gateway", [claims(HIRED)]),  # the citizen himself, not through the router
        ("institution-onem", routed_for_person(HIRED)),
        (f"employer-{RETAIL}", []),
    ],
)
def test_a_direct_caller_of_worker_periods_is_refused(
    alone: Alone, party: str, metadata: list[tuple[str, str]]
) -> None:
    code, reason, _ = _refusal(lambda: _worker_periods(alone, HIRED, metadata, party))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECT_ACCESS_FORBIDDEN")


def test_the_persons_number_is_never_in_the_logs_when_he_consults(
    alone: Alone, hired: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _worker_periods(alone, HIRED, routed_for_person(HIRED))
        _refusal(lambda: _worker_periods(alone, HIRED[:-1] + "x", routed_for_person(HIRED)))
    lines = [r.getMessage() for r in caplog.records]
    assert any("ListWorkerPeriods" in line and "person/*" in line for line in lines)
    assert not [line for line in lines if HIRED in line]


# -- people acting for an employer -----------------------------------------------------------


def test_a_reader_is_refused_read_only_role_and_nothing_is_stored(alone: Alone) -> None:
    reader = [claims(JAN, RETAIL, "reader")]
    before, checked = _count(alone), list(alone.identity.checked)
    worker = make_insz(birth_year=1993, birth_month=1, birth_day=5, serial=81)
    code, reason, domain = _refusal(
        lambda: _api(alone, "gateway").SubmitDeclaration(
            submit_in(RETAIL, "reader-1", dimona_in(worker)), metadata=reader, timeout=20
        )
    )
    assert (code, reason, domain) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "READ_ONLY_ROLE",
        "dimona.cbss",
    )
    assert _count(alone) == before and alone.identity.checked == checked  # nothing asked
    # For another employer, the employer check answers first.
    code, reason, _ = _refusal(
        lambda: _api(alone, "gateway").SubmitDeclaration(
            submit_in(STATE, "reader-2", dimona_in(worker)), metadata=reader, timeout=20
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER")


def test_a_reader_reads_the_employers_periods(alone: Alone, hired: list[int]) -> None:
    reader = [claims(JAN, RETAIL, "reader")]
    api = _api(alone, "gateway")
    listed = api.ListPeriods(
        dimona_pb2.ListPeriodsRequest(parent=f"employers/{RETAIL}", worker_insz=HIRED),
        metadata=reader,
        timeout=10,
    )
    assert [p.period_id for p in listed.periods] == [hired[0]]
    period = api.GetPeriod(
        dimona_pb2.GetPeriodRequest(name=f"employers/{RETAIL}/periods/{hired[0]}"),
        metadata=reader,
        timeout=10,
    ).period
    assert period.worker_insz == HIRED


def test_a_declarants_declaration_records_the_acting_person(alone: Alone, hired: list[int]) -> None:
    assert _stored_acting_person(alone, RETAIL, "portal-hired") == JAN
    assert _stored_acting_person(alone, STATE, "portal-hired") == ""  # STATE's certificate
    request = submit_in(RETAIL, "portal-hired", dimona_in(HIRED, start=dt.date(2025, 6, 3)))
    for party, metadata in (
        ("gateway", [claims(ANNA, RETAIL, "declarant")]),
        (f"employer-{RETAIL}", []),
    ):
        again = (
            _api(alone, party).SubmitDeclaration(request, metadata=metadata, timeout=20).declaration
        )
        # The stored declaration, as first filed: by JAN, for the employer.
        assert again.period_id == hired[0] and again.acting_person == JAN
        assert again.submitted_by == f"spiffe://carrefour.local/employer/{RETAIL}"
    assert _count(alone, "WHERE reference = 'portal-hired'") == 2  # RETAIL's and STATE's


def test_a_certificate_caller_records_no_acting_person(alone: Alone) -> None:
    for n, party in enumerate((f"employer-{RETAIL}", "bureau-0314595348")):
        worker = make_insz(birth_year=1994, birth_month=2, birth_day=6 + n, serial=83)
        reference = f"cert-{n}"
        declared = (
            _api(alone, party)
            .SubmitDeclaration(
                submit_in(RETAIL, reference, dimona_in(worker, start=dt.date(2025, 6, 3))),
                timeout=20,
            )
            .declaration
        )
        assert declared.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED, declared
        assert declared.acting_person == ""
        assert _stored_acting_person(alone, RETAIL, reference) == ""
