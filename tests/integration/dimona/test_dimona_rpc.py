"""DIMONA's RPCs over mTLS on a real database: permissions and mandates, idempotency, malformed
input, refusals stored, concurrent declarations (overlaps and the same reference), the event log
and the lists — on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
import sqlalchemy as sa

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from runtime.client import failure
from runtime.identifiers import make_insz
from tests.integration.dimona.conftest import Alone
from tests.integration.dimona.protos import dimona_in, submit_in, submit_out

pytestmark = pytest.mark.integration

RETAIL = "000100006"
STATE = "000935467"


def stub(alone: Alone, party: str) -> dimona_pb2_grpc.DimonaServiceStub:
    return dimona_pb2_grpc.DimonaServiceStub(alone.channel(party))


def submit(alone: Alone, request, party: str = f"employer-{RETAIL}"):  # noqa: ANN001, ANN201
    return stub(alone, party).SubmitDeclaration(request, timeout=20).declaration


def refused(alone: Alone, request, party: str = f"employer-{RETAIL}"):  # noqa: ANN001, ANN201
    with pytest.raises(grpc.RpcError) as err:
        submit(alone, request, party)
    return failure(err.value)


def count(alone: Alone, table: str) -> int:
    engine = sa.create_engine(alone.url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
    finally:
        engine.dispose()


def worker(n: int) -> str:
    return make_insz(birth_year=1980 + n % 20, birth_month=1 + n % 12, birth_day=1 + n % 28,
                     serial=101 + 2 * n)  # fmt: skip


@pytest.mark.parametrize(
    ("party", "employer", "code", "reason"),
    [
        (f"employer-{RETAIL}", STATE, grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER"),
        ("bureau-0314595348", STATE, grpc.StatusCode.PERMISSION_DENIED, "NO_MANDATE"),
        ("institution-onem", RETAIL, grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED"),
    ],
)
def test_declaration_is_refused_when_caller_may_not_act_for_the_employer(
    alone: Alone, party: str, employer: str, code: grpc.StatusCode, reason: str
) -> None:
    before = count(alone, "declaration")
    info = refused(alone, submit_in(employer, "perm-1", dimona_in(worker(1))), party)
    assert (info.code, info.reason) == (code, reason)
    assert count(alone, "declaration") == before


def test_bureau_declares_for_a_mandator_and_is_recorded_when_mandate_is_stored(
    alone: Alone,
) -> None:
    declared = submit(
        alone, submit_in(RETAIL, "bureau-1", dimona_in(worker(2))), "bureau-0314595348"
    )
    assert declared.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED
    assert declared.submitted_by == "spiffe://carrefour.local/bureau/0314595348"
    assert declared.name == f"employers/{RETAIL}/declarations/bureau-1"


def test_malformed_declaration_is_invalid_argument_and_stores_nothing_when_sent(
    alone: Alone,
) -> None:
    before = count(alone, "declaration"), count(alone, "period")
    bad = submit_in(RETAIL, "bad ref", dimona_in("85071412331", worker_type=0, jc="2"))
    info = refused(alone, bad)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(info.field_violations) == {
        "declaration_reference",
        "dimona_in.worker.insz",
        "dimona_in.worker_type",
        "dimona_in.joint_committee",
    }
    assert (count(alone, "declaration"), count(alone, "period")) == before


def test_rule_breaking_declaration_is_ok_refused_and_stored_when_well_formed(
    alone: Alone,
) -> None:
    form = dimona_in(worker(3), worker_type=dimona_pb2.WORKER_TYPE_STU, jc="202")  # no end
    declared = submit(alone, submit_in(RETAIL, "refused-1", form))
    assert declared.status == dimona_pb2.DECLARATION_STATUS_REFUSED
    assert {(a.code, a.field) for a in declared.anomalies} == {
        ("END_DATE_REQUIRED", "dimona_in.end_date"),
        ("PLANNED_HOURS_REQUIRED", "dimona_in.planned_hours"),
    }
    again = submit(alone, submit_in(RETAIL, "refused-1", form))
    assert again == declared  # stored: the retry answers it again


def test_same_reference_answers_the_same_and_other_content_is_refused_when_reused(
    alone: Alone,
) -> None:
    request = submit_in(RETAIL, "idem-1", dimona_in(worker(4)))
    first = submit(alone, request)
    assert submit(alone, request) == first
    other = submit_in(RETAIL, "idem-1", dimona_in(worker(5)))
    info = refused(alone, other)
    assert (info.code, info.reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED")


def test_only_one_of_parallel_overlapping_declarations_is_accepted_when_racing(
    alone: Alone,
) -> None:
    insz = worker(6)
    requests = [
        submit_in(RETAIL, f"race-{i}", dimona_in(insz, start=dt.date(2025, 6, 3 + i % 5)))
        for i in range(16)
    ]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda r: submit(alone, r), requests))
    accepted = [a for a in answers if a.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED]
    assert len(accepted) == 1
    assert all(
        [x.code for x in a.anomalies] == ["OVERLAPPING_PERIOD"]
        for a in answers
        if a is not accepted[0]
    )
    listed = stub(alone, f"employer-{RETAIL}").ListPeriods(
        dimona_pb2.ListPeriodsRequest(parent=f"employers/{RETAIL}", worker_insz=insz), timeout=10
    )
    assert [p.period_id for p in listed.periods] == [accepted[0].period_id]


def test_parallel_retries_of_one_reference_answer_the_same_when_racing(alone: Alone) -> None:
    request = submit_in(RETAIL, "race-same", dimona_in(worker(7)))
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _i: submit(alone, request), range(12)))
    assert all(a == answers[0] for a in answers)
    assert answers[0].status == dimona_pb2.DECLARATION_STATUS_ACCEPTED


def test_quota_is_shared_by_parallel_declarations_of_two_employers_when_racing(
    alone: Alone,
) -> None:
    insz = worker(8)

    def one(i: int) -> dimona_pb2.Declaration:
        employer = (RETAIL, STATE)[i % 2]
        month = 7 + i // 2  # July to October, both employers: all after the clock
        end = dt.date(2025, month, 28)
        form = dimona_in(insz, worker_type=dimona_pb2.WORKER_TYPE_STU, jc="202",
                         start=dt.date(2025, month, 1), end=end, hours=100)  # fmt: skip
        return submit(alone, submit_in(employer, f"quota-{i}", form), f"employer-{employer}")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))  # 800 h in 2025: 150 h beyond 650
    exceeding = sum(p.period.exceeding_minutes for p in answers)
    assert exceeding == 150 * 60
    warned = [a for a in answers if [x.code for x in a.anomalies] == ["STUDENT_QUOTA_EXCEEDED"]]
    assert len(warned) == 2  # 50 h of one period, then all 100 h of the last one
    assert all(a.status != dimona_pb2.DECLARATION_STATUS_REFUSED for a in answers)


def test_employment_events_are_gap_free_and_in_order_when_listed(alone: Alone) -> None:
    opened = submit(alone, submit_in(RETAIL, "ev-in", dimona_in(worker(9))))
    submit(alone, submit_out(RETAIL, "ev-out", opened.period_id, dt.date(2025, 6, 30)))
    events_stub = dimona_pb2_grpc.EmploymentEventServiceStub(alone.channel("onss"))
    seen, after = [], 0
    while True:
        page = events_stub.ListEmploymentEvents(
            dimona_pb2.ListEmploymentEventsRequest(after_sequence=after, page_size=7), timeout=10
        )
        if not page.events:
            break
        seen += list(page.events)
        after = page.events[-1].sequence
    assert [e.sequence for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1].sequence == page.last_sequence == count(alone, "employment_event")
    mine = [e for e in seen if e.period.period_id == opened.period_id]
    assert [e.kind for e in mine] == [
        dimona_pb2.EMPLOYMENT_EVENT_KIND_STARTED,
        dimona_pb2.EMPLOYMENT_EVENT_KIND_ENDED,
    ]
    with pytest.raises(grpc.RpcError) as err:
        dimona_pb2_grpc.EmploymentEventServiceStub(
            alone.channel(f"employer-{RETAIL}")
        ).ListEmploymentEvents(dimona_pb2.ListEmploymentEventsRequest(), timeout=10)
    assert failure(err.value).reason == "NOT_AUTHORISED"


def test_student_balance_is_answered_to_the_workers_employer_when_asked(alone: Alone) -> None:
    insz = worker(10)
    form = dimona_in(insz, worker_type=dimona_pb2.WORKER_TYPE_STU, jc="202",
                     start=dt.date(2025, 4, 1), end=dt.date(2025, 4, 30), hours=120)  # fmt: skip
    submit(alone, submit_in(RETAIL, "bal-1", form))
    reply = stub(alone, f"employer-{RETAIL}").GetStudentBalance(
        dimona_pb2.GetStudentBalanceRequest(parent=f"employers/{RETAIL}", insz=insz, year=2025),
        timeout=10,
    )
    assert (reply.balance.used_minutes, reply.balance.remaining_minutes) == (7200, 530 * 60)
    assert list(reply.balance.quarter_minutes) == [0, 7200, 0, 0]
    with pytest.raises(grpc.RpcError) as err:
        stub(alone, f"employer-{STATE}").GetStudentBalance(
            dimona_pb2.GetStudentBalanceRequest(parent=f"employers/{STATE}", insz=insz, year=2025),
            timeout=10,
        )
    assert failure(err.value).reason == "NOT_WORKERS_EMPLOYER"


def test_get_period_hides_other_employers_periods_when_asked(alone: Alone) -> None:
    opened = submit(alone, submit_in(RETAIL, "get-1", dimona_in(worker(11))))
    mine = stub(alone, f"employer-{RETAIL}").GetPeriod(
        dimona_pb2.GetPeriodRequest(name=opened.period.name), timeout=10
    )
    assert mine.period == opened.period
    with pytest.raises(grpc.RpcError) as err:
        stub(alone, f"employer-{STATE}").GetPeriod(
            dimona_pb2.GetPeriodRequest(name=f"employers/{STATE}/periods/{opened.period_id}"),
            timeout=10,
        )
    assert failure(err.value).reason == "PERIOD_NOT_FOUND"


@pytest.mark.parametrize(
    "method",
    [
        "/cbss.dimona.v1.DimonaService/SubmitDeclaration",
        "/cbss.dimona.v1.DimonaService/ListPeriods",
        "/cbss.dimona.v1.DimonaService/GetStudentBalance",
        "/cbss.dimona.v1.EmploymentEventService/ListEmploymentEvents",
    ],
)
@pytest.mark.parametrize("payload", [b"\xff\xff\xff", b"", b"\x0a\x03abc\x12\x00\x1a\x02\x08\x05"])
def test_any_bytes_get_a_reasoned_status_never_internal_when_sent(
    alone: Alone, method: str, payload: bytes
) -> None:
    call = alone.channel(f"employer-{RETAIL}").unary_unary(method)
    try:
        call(payload, timeout=10)
    except grpc.RpcError as exc:
        assert exc.code() != grpc.StatusCode.INTERNAL, (method, exc.details())
        assert failure(exc).reason
