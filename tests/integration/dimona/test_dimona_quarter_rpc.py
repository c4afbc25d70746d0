"""DimonaQuarterService over mTLS on a real DIMONA server and database, called as a router
forwarding the ONSS's DmfA (routing headers naming `institution/onss`): an employer's quarter in
pages, the students' counters, actual hours recorded and replaced — and seen by
GetStudentBalance and GetWorkerStudentBalance; refused for another requester and for a direct
caller; malformed recordings write nothing. On SQLite, and on PostgreSQL when TEST_DATABASE_URL
is set."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
import sqlalchemy as sa
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from runtime.client import RpcFailure, failure
from runtime.identifiers import make_insz, make_onss_number
from tests.integration.dimona.conftest import Alone
from tests.integration.dimona.protos import dimona_in, submit_in

pytestmark = pytest.mark.integration

RETAIL = "000100006"
STATE = "000935467"
Q = dimona_pb2


def routing(requester: str = "institution/onss") -> list[tuple[str, str]]:
    """The metadata a router sends with a request it forwards."""
    return [
        ("cbss-requester", f"spiffe://carrefour.local/{requester}"),
        ("cbss-legal-context", "dmfa.declaration"),
        ("cbss-ticket", str(uuid.uuid4())),
        ("cbss-capacity", "none"),
    ]


def quarter_stub(alone: Alone, party: str = "router") -> dimona_pb2_grpc.DimonaQuarterServiceStub:
    return dimona_pb2_grpc.DimonaQuarterServiceStub(alone.channel(party))


def worker(n: int) -> str:
    return make_insz(birth_year=1985 + n // 336, birth_month=1 + n // 28 % 12,
                     birth_day=1 + n % 28, serial=201)  # fmt: skip


def declare(alone: Alone, employer: str, reference: str, form: Q.DimonaIn) -> Q.Declaration:
    stub = dimona_pb2_grpc.DimonaServiceStub(alone.channel(f"employer-{employer}"))
    declared = stub.SubmitDeclaration(submit_in(employer, reference, form), timeout=20).declaration
    assert declared.status != Q.DECLARATION_STATUS_REFUSED, declared.anomalies
    return declared


def stu(insz: str, start: dt.date, end: dt.date, hours: int) -> Q.DimonaIn:
    return dimona_in(insz, worker_type=Q.WORKER_TYPE_STU, jc="202", start=start, end=end,
                     hours=hours)  # fmt: skip


def record(alone: Alone, employer: str, quarter: int, entries: dict[str, int],
           source: str = "dmfa/1", year: int = 2026) -> int:  # fmt: skip
    request = Q.RecordStudentActualHoursRequest(
        employer=employer, year=year, quarter=quarter, source=source,
        entries=[Q.StudentActualHours(insz=i, minutes=m) for i, m in entries.items()],
    )  # fmt: skip
    return (
        quarter_stub(alone)
        .RecordStudentActualHours(request, metadata=routing(), timeout=20)
        .recorded
    )


def rpc_failure(call) -> tuple[RpcFailure, dict[str, str]]:  # noqa: ANN001
    """The failure of a call that must fail, and its field violations' reasons."""
    with pytest.raises(grpc.RpcError) as err:
        call()
    reasons: dict[str, str] = {}
    status = rpc_status.from_call(err.value)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            reasons = {v.field: v.reason for v in bad.field_violations}
    return failure(err.value), reasons


def count(alone: Alone, table: str) -> int:
    engine = sa.create_engine(alone.url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
    finally:
        engine.dispose()


def test_actual_hours_replace_planned_ones_in_every_counter_when_recorded(alone: Alone) -> None:
    insz = worker(1)
    # 100 h planned with the retailer in Q1, 50 h with the State in Q2.
    declare(alone, RETAIL, "q-stu-1", stu(insz, dt.date(2026, 2, 2), dt.date(2026, 2, 27), 100))
    declare(alone, STATE, "q-stu-2", stu(insz, dt.date(2026, 4, 6), dt.date(2026, 4, 30), 50))
    assert record(alone, RETAIL, 1, {insz: 80 * 60}) == 1  # 80 h actually worked in Q1

    def employer_balance() -> Q.StudentBalance:
        return (
            dimona_pb2_grpc.DimonaServiceStub(alone.channel(f"employer-{RETAIL}"))
            .GetStudentBalance(
                Q.GetStudentBalanceRequest(parent=f"employers/{RETAIL}", insz=insz, year=2026),
                timeout=10,
            )
            .balance
        )

    def institution_balance() -> Q.StudentBalance:
        return (
            dimona_pb2_grpc.DimonaConsultationServiceStub(alone.channel("router"))
            .GetWorkerStudentBalance(
                Q.GetWorkerStudentBalanceRequest(insz=insz, year=2026),
                metadata=routing("institution/famiwal"),
                timeout=10,
            )
            .balance
        )

    def quarter_balances(employer: str, quarter: int) -> list[Q.StudentQuarterBalance]:
        request = Q.BatchGetStudentQuarterBalancesRequest(
            employer=employer, year=2026, quarter=quarter, inszs=[insz, worker(2), insz]
        )
        reply = quarter_stub(alone).BatchGetStudentQuarterBalances(
            request, metadata=routing(), timeout=10
        )
        return list(reply.balances)

    balance = employer_balance()
    assert balance.used_minutes == 130 * 60 == 7800
    assert list(balance.quarter_minutes) == [4800, 3000, 0, 0]
    assert balance.remaining_minutes == (650 - 130) * 60
    assert institution_balance() == balance
    mine, nobody, again = quarter_balances(RETAIL, 1)
    assert (mine.insz, mine.quota_hours, mine.used_minutes, mine.employer_quarter_minutes) == (
        insz, 650, 7800, 4800
    )  # fmt: skip
    assert again == mine and (nobody.insz, nobody.used_minutes) == (worker(2), 0)
    assert quarter_balances(STATE, 2)[0].employer_quarter_minutes == 3000  # planned: not recorded

    assert record(alone, RETAIL, 1, {insz: 90 * 60}, source="dmfa/2") == 1  # a correction
    assert employer_balance().used_minutes == 140 * 60  # replaced, not added
    assert institution_balance().used_minutes == 140 * 60
    assert quarter_balances(RETAIL, 1)[0].employer_quarter_minutes == 90 * 60


def test_quota_check_of_a_new_declaration_counts_the_recorded_hours_when_declared(
    alone: Alone,
) -> None:
    insz = worker(3)
    declare(alone, RETAIL, "q-quota-1", stu(insz, dt.date(2026, 1, 5), dt.date(2026, 1, 30), 600))
    record(alone, RETAIL, 1, {insz: 500 * 60})
    fits = declare(alone, STATE, "q-quota-2",
                   stu(insz, dt.date(2026, 4, 6), dt.date(2026, 4, 30), 100))  # fmt: skip
    assert fits.status == Q.DECLARATION_STATUS_ACCEPTED and fits.period.exceeding_minutes == 0
    over = declare(alone, STATE, "q-quota-3",
                   stu(insz, dt.date(2026, 7, 6), dt.date(2026, 7, 31), 60))  # fmt: skip
    assert [(a.code, a.value) for a in over.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "10")]


def test_employer_quarter_is_read_in_pages_by_period_id_when_listed(alone: Alone) -> None:
    nobody_declares = make_onss_number(1_234_567)  # seed.data: the Brasserie du Sablon
    declared = [
        declare(alone, RETAIL, f"q-list-{n}", dimona_in(worker(10 + n), start=start, end=end))
        for n, (start, end) in enumerate(
            [
                (dt.date(2025, 12, 1), None),  # open, from before the quarter
                (dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
                (dt.date(2026, 3, 31), dt.date(2026, 5, 31)),
                (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
                (dt.date(2025, 12, 1), dt.date(2025, 12, 31)),  # before: not listed
                (dt.date(2026, 4, 1), None),  # after: not listed
            ]
        )
    ]
    listed, token, pages = [], "", 0
    while True:
        reply = quarter_stub(alone).ListEmployerQuarterPeriods(
            Q.ListEmployerQuarterPeriodsRequest(
                employer=RETAIL, year=2026, quarter=1, page_size=2, page_token=token
            ),
            metadata=routing(),
            timeout=10,
        )
        listed += reply.periods
        pages += 1
        token = reply.next_page_token
        if not token:
            break
    mine = [p for p in listed if p.worker_insz in {worker(10 + n) for n in range(6)}]
    assert mine == [d.period for d in declared[:4]]  # by period id, as declared
    assert [p.period_id for p in listed] == sorted(p.period_id for p in listed)
    assert all(p.state == Q.PERIOD_STATE_ACTIVE for p in listed)
    assert pages == -(-len(listed) // 2)  # a full last page has no token: one call less
    empty = quarter_stub(alone).ListEmployerQuarterPeriods(
        Q.ListEmployerQuarterPeriodsRequest(employer=nobody_declares, year=2026, quarter=1),
        metadata=routing(),
        timeout=10,
    )
    assert list(empty.periods) == [] and empty.next_page_token == ""


CALLS = [
    ("ListEmployerQuarterPeriods",
     Q.ListEmployerQuarterPeriodsRequest(employer=RETAIL, year=2026, quarter=1)),
    ("BatchGetStudentQuarterBalances",
     Q.BatchGetStudentQuarterBalancesRequest(employer=RETAIL, year=2026, quarter=1,
                                             inszs=[worker(1)])),
    ("RecordStudentActualHours",
     Q.RecordStudentActualHoursRequest(employer=RETAIL, year=2026, quarter=2, source="dmfa/x",
                                       entries=[Q.StudentActualHours(insz=worker(4), minutes=1)])),
]  # fmt: skip


@pytest.mark.parametrize(("method", "request_"), CALLS, ids=[c[0] for c in CALLS])
@pytest.mark.parametrize("requester", ["institution/onem", "employer/000100006", "router/cin"])
def test_every_rpc_is_refused_when_the_router_forwards_another_requester(
    alone: Alone, method: str, request_: object, requester: str
) -> None:
    before = count(alone, "student_actuals")
    call = getattr(quarter_stub(alone), method)
    info, _ = rpc_failure(lambda: call(request_, metadata=routing(requester), timeout=10))
    assert (info.code, info.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")
    assert count(alone, "student_actuals") == before


@pytest.mark.parametrize(("method", "request_"), CALLS, ids=[c[0] for c in CALLS])
@pytest.mark.parametrize("party", ["onss", "institution-onem", f"employer-{RETAIL}"])
def test_every_rpc_is_refused_when_called_directly(
    alone: Alone, method: str, request_: object, party: str
) -> None:
    call = getattr(quarter_stub(alone, party), method)
    info, _ = rpc_failure(lambda: call(request_, metadata=routing(), timeout=10))
    assert (info.code, info.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "DIRECT_ACCESS_FORBIDDEN",
    )


def test_malformed_recording_is_invalid_argument_with_every_field_and_writes_nothing(
    alone: Alone,
) -> None:
    before = count(alone, "student_actuals")
    request = Q.RecordStudentActualHoursRequest(
        employer=f"employers/{RETAIL}", year=2026, quarter=5, source="",
        entries=[
            Q.StudentActualHours(insz=worker(5), minutes=60),
            Q.StudentActualHours(insz=worker(5), minutes=60),
            Q.StudentActualHours(insz="85071412331", minutes=60),
            Q.StudentActualHours(insz=worker(6), minutes=132_481),
            Q.StudentActualHours(insz=worker(7), minutes=60),  # fine, but not written either
        ],
    )  # fmt: skip
    info, reasons = rpc_failure(
        lambda: quarter_stub(alone).RecordStudentActualHours(
            request, metadata=routing(), timeout=10
        )
    )
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert reasons == {
        "employer": "INVALID_EMPLOYER",
        "quarter": "INVALID_QUARTER",
        "entries[1].insz": "DUPLICATE_INSZ",
        "entries[2].insz": reasons["entries[2].insz"],
        "entries[3].minutes": "INVALID_MINUTES",
        "source": "INVALID_SOURCE",
    }
    assert reasons["entries[2].insz"].startswith("INSZ_")
    assert count(alone, "student_actuals") == before
    too_many = Q.RecordStudentActualHoursRequest(
        employer=RETAIL, year=2026, quarter=1, source="s",
        entries=[Q.StudentActualHours(insz=worker(n), minutes=1) for n in range(501)],
    )  # fmt: skip
    _, reasons = rpc_failure(
        lambda: quarter_stub(alone).RecordStudentActualHours(
            too_many, metadata=routing(), timeout=10
        )
    )
    assert reasons == {"entries": "TOO_MANY_ENTRIES"}
    _, reasons = rpc_failure(
        lambda: quarter_stub(alone).BatchGetStudentQuarterBalances(
            Q.BatchGetStudentQuarterBalancesRequest(
                employer=RETAIL, year=2026, quarter=1, inszs=[worker(1), "1"]
            ),
            metadata=routing(),
            timeout=10,
        )
    )
    assert list(reasons) == ["inszs[1]"]
    _, reasons = rpc_failure(
        lambda: quarter_stub(alone).ListEmployerQuarterPeriods(
            Q.ListEmployerQuarterPeriodsRequest(
                employer=RETAIL, year=2026, quarter=1, page_size=-1
            ),
            metadata=routing(),
            timeout=10,
        )
    )
    assert reasons == {"page_size": "INVALID_PAGE_SIZE"}


def test_500_entries_and_parallel_corrections_are_recorded_whole_when_sent(alone: Alone) -> None:
    workers = [worker(100 + n) for n in range(500)]
    assert record(alone, STATE, 3, dict.fromkeys(workers, 60)) == 500

    def correct(i: int) -> int:
        return record(alone, STATE, 3, dict.fromkeys(workers, i), source=f"dmfa/{i}")

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(correct, range(1, 9))) == [500] * 8
    engine = sa.create_engine(alone.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT source, minutes FROM student_actuals"
                    " WHERE employer = :e AND year = 2026 AND quarter = 3"
                ),
                {"e": STATE},
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 500 and len({(r.source, r.minutes) for r in rows}) == 1


@pytest.mark.parametrize("method", [c[0] for c in CALLS])
@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"", b"\x0a\x03abc\x12\x00\x1a\x02\x08\x05"])
def test_any_bytes_get_a_reasoned_status_never_internal_when_forwarded(
    alone: Alone, method: str, payload: bytes
) -> None:
    call = alone.channel("router").unary_unary(f"/cbss.dimona.v1.DimonaQuarterService/{method}")
    try:
        call(payload, metadata=routing(), timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() != grpc.StatusCode.INTERNAL, (method, exc.details())
        assert failure(exc).reason
