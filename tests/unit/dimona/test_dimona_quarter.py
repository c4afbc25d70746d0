"""DimonaQuarterService's rules on in-memory fakes: who may call (the ONSS through a router),
malformed input (every bad field at once, nothing written; property tests on the quarter and
the page size), an employer's quarter in pages, the students' counters with the DmfA's actual
hours — and the quota counter every other path reads (GetStudentBalance, the consultation, the
declarations' quota check) agreeing with them."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dimona.service import checks
from dimona.service.calendar import quarter_bounds
from dimona.service.commands import RawActualHours
from dimona.service.model import Period, PeriodState, Status, StudentActual, WorkerType
from dimona.service.quarter import DimonaQuarters
from runtime.clock import FixedClock
from runtime.errors import InvalidArgument, PermissionDenied
from runtime.identifiers import make_insz
from runtime.identity import Caller, Consultation, PartyKind
from tests.unit.dimona.builders import din, dupdate
from tests.unit.dimona.fakes import NOW, OTHER_WORKER, RETAIL, STATE, WORKER, World, world
from tests.unit.dimona.fakes import ONSS as ONSS_CALLER
from tests.unit.dimona.test_dimona_declarations import declare, stu

A, B = RETAIL.id, STATE.id
ROUTER = Caller(PartyKind.ROUTER, "cbss")


def routed(requester: Caller = ONSS_CALLER) -> Consultation:
    return Consultation(ROUTER, requester, "dmfa.declaration", "ticket-1", "none")


ONSS = routed()


@pytest.fixture
def w() -> World:
    w = world()
    w.clock.set(dt.datetime(2025, 12, 1, 8, tzinfo=dt.UTC))  # 2026 declared on time
    return w


def invalid(call) -> InvalidArgument:  # noqa: ANN001
    with pytest.raises(InvalidArgument) as err:
        call()
    return err.value


def fields(err: InvalidArgument) -> dict[str, str]:
    return {v.field: v.reason for v in err.violations}


def record(w: World, employer: str, quarter: int, *entries: tuple[str, int], year: int = 2026,
           source: str = "dmfa/1") -> int:  # fmt: skip
    raw = [RawActualHours(insz, minutes) for insz, minutes in entries]
    return w.quarters.record_actual_hours(ONSS, employer, year, quarter, raw, source)


# -- who may call ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "consultation",
    [
        None,  # a direct call (the runtime refuses it before; the rules refuse it too)
        routed(Caller(PartyKind.INSTITUTION, "onem")),
        routed(Caller(PartyKind.EMPLOYER, A)),
        routed(Caller(PartyKind.ROUTER, "cin")),
        routed(Caller(PartyKind.ADMIN, "ops")),
    ],
)
def test_every_rpc_is_refused_before_the_input_is_read_when_requester_is_not_the_onss(
    w: World, consultation: Consultation | None
) -> None:
    calls = [
        lambda: w.quarters.list_employer_quarter_periods(consultation, "x", 0, 0, -1, "?"),
        lambda: w.quarters.student_quarter_balances(consultation, "x", 0, 0, []),
        lambda: w.quarters.record_actual_hours(consultation, A, 2026, 1,
                                               [RawActualHours(WORKER, 60)], "s"),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(PermissionDenied) as err:
            call()
        assert err.value.reason == "NOT_AUTHORISED"
    assert w.fake.state.actuals == {}


# -- malformed input ------------------------------------------------------------------------


def _spy_quarters() -> tuple[DimonaQuarters, list[tuple]]:
    seen: list[tuple] = []

    def in_quarter(*args: object) -> list[Period]:
        seen.append(args)
        return []

    @contextmanager
    def unit():  # noqa: ANN202
        yield SimpleNamespace(periods=SimpleNamespace(in_quarter=in_quarter))

    return DimonaQuarters(unit, unit, FixedClock(NOW)), seen  # type: ignore[arg-type]


@given(
    year=st.one_of(st.integers(1990, 2110), st.integers(-(2**31), 2**31 - 1)),
    quarter=st.one_of(st.integers(-1, 6), st.integers(-(2**31), 2**31 - 1)),
    page_size=st.one_of(st.integers(-3, 1200), st.integers(-(2**31), 2**31 - 1)),
)
def test_quarter_and_page_size_are_checked_when_listing(
    year: int, quarter: int, page_size: int
) -> None:
    quarters, seen = _spy_quarters()
    bad = {"year"} if not 2000 <= year <= 2100 else set()
    bad |= {"quarter"} if not 1 <= quarter <= 4 else set()
    call = lambda: quarters.list_employer_quarter_periods(ONSS, A, year, quarter, page_size, "")  # noqa: E731
    if bad:
        err = invalid(call)
        assert (
            fields(err) == dict.fromkeys(bad, "INVALID_QUARTER") and err.reason == "INVALID_QUARTER"
        )
    elif page_size < 0:
        assert fields(invalid(call)) == {"page_size": "INVALID_PAGE_SIZE"}
    else:
        assert call().periods == [] and call().next_page_token == ""
        first, last = quarter_bounds(year, quarter)
        expected = min(page_size or 500, 1000)
        assert seen[0] == (A, first, last, 0, expected + 1)  # one more: is there a next page?
    if bad or page_size < 0:
        assert seen == []


@pytest.mark.parametrize(
    "employer", ["employers/000100006", "000100007", "", "12345678", "5100000000", " 000100006"]
)
def test_employer_is_invalid_employer_when_not_a_bare_onss_number(w: World, employer: str) -> None:
    for call in (
        lambda: w.quarters.list_employer_quarter_periods(ONSS, employer, 2026, 1, 0, ""),
        lambda: w.quarters.student_quarter_balances(ONSS, employer, 2026, 1, [WORKER]),
        lambda: record_raw(w, employer, [RawActualHours(WORKER, 1)], "s"),
    ):
        err = invalid(call)
        assert fields(err) == {"employer": "INVALID_EMPLOYER"} and err.reason == "INVALID_EMPLOYER"


def record_raw(w: World, employer: str, entries: list[RawActualHours], source: str) -> int:
    return w.quarters.record_actual_hours(ONSS, employer, 2026, 1, entries, source)


def test_provisional_and_dashed_onss_numbers_are_read_as_canonical_when_given(w: World) -> None:
    assert record_raw(w, "0000100006", [RawActualHours(WORKER, 60)], "s") == 1
    assert record_raw(w, "0001000-06", [RawActualHours(OTHER_WORKER, 60)], "s") == 1
    assert {k[0] for k in w.fake.state.actuals} == {A}


def test_page_token_is_refused_when_garbage_or_from_another_employer_or_quarter(
    w: World,
) -> None:
    for n in range(3):
        declare(w, din(insz=worker(n), start=dt.date(2026, 1, 5)), f"p{n}")
    page = w.quarters.list_employer_quarter_periods(ONSS, A, 2026, 1, 1, "")
    assert page.next_page_token
    for employer, quarter, token in (
        (A, 1, "garbage"),
        (A, 2, page.next_page_token),
        (B, 1, page.next_page_token),
        (A, 1, page.next_page_token[:-2]),
    ):
        err = invalid(
            lambda e=employer, q=quarter, t=token: w.quarters.list_employer_quarter_periods(
                ONSS, e, 2026, q, 1, t
            )
        )
        assert fields(err) == {"page_token": "INVALID_PAGE_TOKEN"}


@pytest.mark.parametrize("count", [0, 501])
def test_batch_is_too_many_inszs_when_empty_or_beyond_500(w: World, count: int) -> None:
    err = invalid(lambda: w.quarters.student_quarter_balances(ONSS, A, 2026, 1, [WORKER] * count))
    assert fields(err) == {"inszs": "TOO_MANY_INSZS"}


def test_batch_names_each_bad_insz_by_index_when_some_fail(w: World) -> None:
    err = invalid(
        lambda: w.quarters.student_quarter_balances(
            ONSS, "bad", 1999, 5, [WORKER, "85071412331", "abc", OTHER_WORKER]
        )
    )
    reasons = fields(err)
    assert set(reasons) == {"employer", "year", "quarter", "inszs[1]", "inszs[2]"}
    assert reasons["inszs[1]"].startswith("INSZ_") and reasons["inszs[2]"].startswith("INSZ_")


def test_recording_reports_every_bad_field_and_writes_nothing_when_malformed(w: World) -> None:
    entries = [
        RawActualHours(WORKER, 60),
        RawActualHours(WORKER, 120),  # the same worker again
        RawActualHours("85071412331", 60),  # check digits
        RawActualHours(OTHER_WORKER, -1),
        RawActualHours(worker(7), 92 * 24 * 60 + 1),
        RawActualHours(worker(8), 92 * 24 * 60),  # the most a quarter holds: fine
        RawActualHours(worker(9), 0),  # did not work: fine
    ]
    err = invalid(lambda: record_raw(w, A, entries, "dmfa\n1"))
    reasons = fields(err)
    assert reasons == {
        "entries[1].insz": "DUPLICATE_INSZ",
        "entries[2].insz": reasons["entries[2].insz"],
        "entries[3].minutes": "INVALID_MINUTES",
        "entries[4].minutes": "INVALID_MINUTES",
        "source": "INVALID_SOURCE",
    }
    assert reasons["entries[2].insz"].startswith("INSZ_")
    assert w.fake.state.actuals == {}


@pytest.mark.parametrize("count", [0, 501])
def test_recording_is_too_many_entries_when_empty_or_beyond_500(w: World, count: int) -> None:
    entries = [RawActualHours(worker(i), 60) for i in range(count)]
    assert fields(invalid(lambda: record_raw(w, A, entries, "s"))) == {
        "entries": "TOO_MANY_ENTRIES"
    }


@pytest.mark.parametrize(
    ("source", "ok"),
    [("", False), ("x" * 200, True), ("x" * 201, False), ("dmfa/é", False), ("a\tb", False),
     ("employers/000100006/dmfa/2026-1@v2 ~!", True), ("\x7f", False)],
)  # fmt: skip
def test_source_is_1_to_200_printable_ascii_when_recorded(w: World, source: str, ok: bool) -> None:
    call = lambda: record_raw(w, A, [RawActualHours(WORKER, 60)], source)  # noqa: E731
    if ok:
        assert call() == 1
        assert next(iter(w.fake.state.actuals.values())).source == source
    else:
        assert fields(invalid(call)) == {"source": "INVALID_SOURCE"}


def test_500_entries_are_recorded_together_when_well_formed(w: World) -> None:
    entries = [RawActualHours(worker(i), i) for i in range(500)]
    assert record_raw(w, A, entries, "dmfa/bulk") == 500
    assert len(w.fake.state.actuals) == 500


# -- an employer's quarter ------------------------------------------------------------------


def worker(n: int) -> str:
    """A distinct valid INSZ per n (0 to 3,000)."""
    return make_insz(birth_year=1980 + n // 336, birth_month=1 + n // 28 % 12,
                     birth_day=1 + n % 28, serial=101)  # fmt: skip


def test_quarter_lists_active_periods_meeting_its_days_in_id_order_when_paged(w: World) -> None:
    w.clock.set(dt.datetime(2025, 9, 1, 8, tzinfo=dt.UTC))
    before = declare(w, din(insz=worker(1), start=dt.date(2025, 9, 1), end=dt.date(2025, 9, 30)),
                     "before")  # fmt: skip
    open_ended = declare(w, din(insz=worker(2), start=dt.date(2025, 9, 15)), "open")
    ends_first_day = declare(w, din(insz=worker(3), start=dt.date(2025, 9, 20),
                                    end=dt.date(2025, 10, 1)), "first-day")  # fmt: skip
    inside = declare(w, stu(dt.date(2025, 11, 3), dt.date(2025, 11, 28), 40, insz=worker(4)), "in")
    last_day = declare(w, din(insz=worker(5), start=dt.date(2025, 12, 31)), "last-day")
    declare(w, din(insz=worker(6), start=dt.date(2026, 1, 1)), "after")
    cancelled = declare(w, din(insz=worker(7), start=dt.date(2025, 10, 6)), "cancelled")
    w.declarations.submit(RETAIL, _cancel(cancelled.period_id))
    declare(w, din(insz=worker(8), start=dt.date(2025, 10, 6)), "other", caller=STATE)
    expected = [open_ended, ends_first_day, inside, last_day]
    assert before.period_id not in {d.period_id for d in expected}
    seen, token = [], ""
    while True:
        page = w.quarters.list_employer_quarter_periods(ONSS, A, 2025, 4, 3, token)
        seen += page.periods
        token = page.next_page_token
        if not token:
            break
    assert [p.period_id for p in seen] == [d.period_id for d in expected]
    assert all(p.state is PeriodState.ACTIVE for p in seen)
    whole = w.quarters.list_employer_quarter_periods(ONSS, A, 2025, 4, 0, "")
    assert whole.periods == seen and whole.next_page_token == ""


def _cancel(period_id: int):  # noqa: ANN202
    from tests.unit.dimona.builders import dcancel, submission

    return submission(dcancel(period_id), f"cancel-{period_id}")


# -- the quota counter with actual hours ----------------------------------------------------


def test_actual_hours_replace_the_planned_ones_and_a_new_figure_replaces_the_old_when_recorded(
    w: World,
) -> None:
    # The brief's example: 100 h planned with A in Q1, 50 h with B in Q2.
    declare(w, stu(dt.date(2026, 2, 2), dt.date(2026, 2, 27), 100), "a")
    declare(w, stu(dt.date(2026, 4, 6), dt.date(2026, 4, 30), 50), "b", caller=STATE)
    assert w.queries.worker_student_balance(WORKER, 2026).used_minutes == 150 * 60
    assert record(w, A, 1, (WORKER, 80 * 60)) == 1
    balance = w.queries.student_balance(RETAIL, f"employers/{A}", WORKER, 2026)
    assert balance.used_minutes == 130 * 60 == 7800
    assert balance.quarter_minutes == (80 * 60, 50 * 60, 0, 0)
    assert w.queries.worker_student_balance(WORKER, 2026) == balance
    record(w, A, 1, (WORKER, 90 * 60), source="dmfa/2")  # a correction replaces, never adds
    assert w.queries.worker_student_balance(WORKER, 2026).used_minutes == 140 * 60
    (stored,) = w.fake.state.actuals.values()
    assert (stored.minutes, stored.source, stored.recorded_at) == (5400, "dmfa/2", w.clock.now())
    # The periods keep their planned figures: only the counter moves.
    assert sorted(p.student_minutes for p in w.fake.state.periods.values()) == [3000, 6000]


def test_batch_answers_each_insz_in_order_with_the_employers_quarter_part_when_asked(
    w: World,
) -> None:
    declare(w, stu(dt.date(2026, 2, 2), dt.date(2026, 2, 27), 100), "a")
    declare(w, stu(dt.date(2026, 4, 6), dt.date(2026, 4, 30), 50), "b", caller=STATE)
    declare(w, stu(dt.date(2026, 3, 2), dt.date(2026, 3, 27), 30, insz=OTHER_WORKER), "c")
    declare(w, stu(dt.date(2025, 12, 1), dt.date(2025, 12, 19), 200, insz=OTHER_WORKER), "old")
    record(w, A, 1, (WORKER, 80 * 60))
    record(w, B, 3, (OTHER_WORKER, 10 * 60))  # a quarter without a period counts too
    record(w, A, 1, (OTHER_WORKER, 25 * 60), year=2025)  # another year: not counted in 2026
    nobody = worker(50)
    answers = w.quarters.student_quarter_balances(
        ONSS, A, 2026, 1, [OTHER_WORKER, WORKER, nobody, OTHER_WORKER]
    )
    assert [(b.insz, b.quota_hours, b.used_minutes, b.employer_quarter_minutes)
            for b in answers] == [
        (OTHER_WORKER, 650, (30 + 10) * 60, 30 * 60),  # planned: nothing recorded for A/Q1
        (WORKER, 650, (80 + 50) * 60, 80 * 60),  # actual
        (nobody, 650, 0, 0),
        (OTHER_WORKER, 650, 40 * 60, 30 * 60),  # asked twice: answered twice
    ]  # fmt: skip
    other = w.quarters.student_quarter_balances(ONSS, B, 2026, 2, [WORKER])
    assert (other[0].used_minutes, other[0].employer_quarter_minutes) == (130 * 60, 50 * 60)


def test_a_recorded_zero_replaces_the_planned_minutes_when_the_student_did_not_work(
    w: World,
) -> None:
    declare(w, stu(dt.date(2026, 2, 2), dt.date(2026, 2, 27), 100), "a")
    record(w, A, 1, (WORKER, 0))
    assert w.queries.worker_student_balance(WORKER, 2026).used_minutes == 0


def test_quota_check_counts_recorded_actual_hours_when_a_student_is_declared(w: World) -> None:
    declare(w, stu(dt.date(2026, 2, 2), dt.date(2026, 2, 27), 600), "a")
    # Planned, 600 + 100 h would pass the 650 h quota; actually 500 h were worked in Q1.
    record(w, A, 1, (WORKER, 500 * 60))
    fits = declare(w, stu(dt.date(2026, 4, 6), dt.date(2026, 4, 30), 100), "b", caller=STATE)
    assert fits.status is Status.ACCEPTED and fits.period.exceeding_minutes == 0
    over = declare(w, stu(dt.date(2026, 7, 6), dt.date(2026, 7, 31), 60), "c", caller=STATE)
    assert [(a.code, a.value) for a in over.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "10")]
    # An UPDATE recounts against the same counter.
    raised = declare(w, dupdate(fits.period_id, planned_hours=140), "u", caller=STATE)
    assert [(a.code, a.value) for a in raised.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "50")]
    balance = w.queries.worker_student_balance(WORKER, 2026)
    assert balance.used_minutes == (500 + 140 + 60) * 60 and balance.exceeding_minutes == 50 * 60


def test_a_period_declared_in_a_recorded_quarter_adds_nothing_when_the_actuals_cover_it(
    w: World,
) -> None:
    record(w, A, 1, (WORKER, 640 * 60))
    late = declare(w, stu(dt.date(2026, 3, 2), dt.date(2026, 3, 27), 50), "a")
    assert late.status is Status.ACCEPTED and late.period.exceeding_minutes == 0
    assert late.period.student_minutes == 50 * 60  # its own planned figure, kept
    assert w.queries.worker_student_balance(WORKER, 2026).used_minutes == 640 * 60
    other = declare(w, stu(dt.date(2026, 3, 2), dt.date(2026, 3, 27), 20), "b", caller=STATE)
    assert [(a.code, a.value) for a in other.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "10")]


def test_counter_counts_each_employer_quarter_once_when_computed() -> None:
    def p(employer: str, start: dt.date, minutes: int, **kw: object) -> Period:
        return Period(
            period_id=0, employer=employer, worker=WORKER, worker_type=WorkerType.STU,
            joint_committee="202", sub_entity="", using_employer="", start_date=start,
            start_time=None, end_date=start, end_time=None, planned_hours=minutes // 60,
            flexi_contract=None, state=kw.get("state", PeriodState.ACTIVE),
            student_minutes=minutes, exceeding_minutes=0, late=False, created_at=NOW,
            updated_at=NOW,
        )  # fmt: skip

    def actual(employer: str, year: int, quarter: int, minutes: int) -> StudentActual:
        return StudentActual(employer, WORKER, year, quarter, minutes, "s", NOW)

    periods = [
        p(A, dt.date(2026, 1, 5), 600),
        p(A, dt.date(2026, 3, 5), 300),  # A/Q1: 900 planned
        p(A, dt.date(2026, 4, 5), 120),  # A/Q2: 120 planned
        p(B, dt.date(2026, 2, 5), 60),  # B/Q1
        p(B, dt.date(2026, 2, 6), 999, state=PeriodState.CANCELLED),
        p(B, dt.date(2025, 12, 6), 999),  # another year
    ]
    planned = checks.student_counter(2026, periods)
    assert planned.used == 1080 and planned.part(A, 1) == 900 and planned.quarter(1) == 960
    counter = checks.student_counter(
        2026, periods, [actual(A, 2026, 1, 500), actual(B, 2026, 4, 30), actual(A, 2025, 4, 7)]
    )
    assert (counter.part(A, 1), counter.part(A, 2), counter.part(B, 1), counter.part(B, 4)) == (
        500, 120, 60, 30
    )  # fmt: skip
    assert counter.used == 710 and counter.recorded == {(A, 1), (B, 4)}
    assert [counter.quarter(q) for q in (1, 2, 3, 4)] == [560, 120, 0, 30]
