"""The business checks (checks.judge): each anomaly of checks.py's list from a minimal
submission, with its severity, block and path; the status they make; the Dimona cross-check
(coverage by the union of periods, worker types, missing workers); the deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmfa.service import checks
from dmfa.service.checks import Judgement, first_uncovered, judge
from dmfa.service.model import (
    BlockKey,
    CrossCheck,
    DimonaPeriod,
    Person,
    PersonCheck,
    PersonOutcome,
    RemunerationLine,
    ServiceLine,
    Severity,
    Status,
)
from tests.unit.dmfa.builders import (
    MANUAL,
    OTHER,
    STUDENT,
    TODAY,
    WORKER,
    covered,
    occupation,
    period,
    person,
    record,
    submission,
)
from tests.unit.dmfa.fakes import TABLES

B, W = Severity.BLOCKING, Severity.WARNING
D = dt.date
BAD_INSZ = WORKER[:-1] + str((int(WORKER[-1]) + 1) % 10)  # last check digit off by one
AT = f"workers[insz={WORKER}]"
REC = f"{AT}/records[worker_code=495]"
OCC = f"{REC}/occupations[1]"


def judged(
    *persons: Person,
    network: CrossCheck | None = None,
    today: dt.date = TODAY,
) -> Judgement:
    persons = persons or (person(),)
    return judge(submission(*persons), network or covered(*persons), TABLES, today)


def found(j: Judgement) -> list[tuple[str, Severity, BlockKey, str]]:
    return [(a.code, a.severity, a.block, a.value) for a in j.anomalies]


def with_register(outcome: PersonOutcome, replaced_by: str = "") -> CrossCheck:
    return dataclasses.replace(
        covered(person()), persons={WORKER: PersonCheck(outcome, replaced_by)}
    )


def one(*occupations: object, code: str = "495", **changes: object) -> Callable[[], Judgement]:
    return lambda: judged(person(WORKER, record(code, *occupations, **changes)))  # type: ignore[arg-type]


def job(**changes: object):  # noqa: ANN201
    return occupation(**changes)  # type: ignore[arg-type]


OCC_KEY = BlockKey(WORKER, "495", 1)

# (code, how to get it, severity, block, value, path)
CASES = [
    ("INVALID_INSZ", lambda: judged(person(BAD_INSZ)), B, BlockKey(BAD_INSZ),
     "INSZ_CHECK_DIGITS", f"workers[insz={BAD_INSZ}]"),
    ("DUPLICATE_WORKER", lambda: judged(person(), person()), B, BlockKey(WORKER), "", AT),
    ("WORKER_UNKNOWN", lambda: judged(network=with_register(PersonOutcome.NOT_FOUND)), B,
     BlockKey(WORKER), "", AT),
    ("WORKER_REPLACED", lambda: judged(network=with_register(PersonOutcome.REPLACED, OTHER)), B,
     BlockKey(WORKER), OTHER, AT),
    ("WORKER_DECEASED", lambda: judged(network=with_register(PersonOutcome.DECEASED)), W,
     BlockKey(WORKER), "", AT),
    ("UNKNOWN_WORKER_CODE", one(code="999"), B, BlockKey(WORKER, "999"), "999",
     f"{AT}/records[worker_code=999]"),
    ("UNKNOWN_SERVICE_CODE",
     one(job(services=[ServiceLine("001", 6000, 45600), ServiceLine("999", 0, 0)])), B,
     BlockKey(WORKER, "495", 1, service_code="999"), "999", f"{OCC}/services[service_code=999]"),
    ("UNKNOWN_REMUNERATION_CODE",
     one(job(remunerations=[RemunerationLine("001", 300_000), RemunerationLine("999", 100)])), B,
     BlockKey(WORKER, "495", 1, remuneration_code="999"), "999",
     f"{OCC}/remunerations[remuneration_code=999]"),
    ("DUPLICATE_SERVICE_CODE",
     one(job(services=[ServiceLine("001", 3000, 22800), ServiceLine("001", 3000, 22800)])), B,
     BlockKey(WORKER, "495", 1, service_code="001"), "001", f"{OCC}/services[service_code=001]"),
    ("DUPLICATE_REMUNERATION_CODE",
     one(job(remunerations=[RemunerationLine("001", 1), RemunerationLine("001", 2)])), B,
     BlockKey(WORKER, "495", 1, remuneration_code="001"), "001",
     f"{OCC}/remunerations[remuneration_code=001]"),
    ("RECORD_OUTSIDE_QUARTER", one(end=D(2026, 4, 1)), B, BlockKey(WORKER, "495"),
     "2026-01-01..2026-04-01", REC),
    ("RECORD_OUTSIDE_QUARTER", one(start=D(2026, 3, 31), end=D(2026, 1, 1)), B,
     BlockKey(WORKER, "495"), "2026-03-31..2026-01-01", REC),
    ("DUPLICATE_OCCUPATION",
     one(job(days=3000, hours=22800), job(days=3000, hours=22800)), B, OCC_KEY, "", OCC),
    ("INVALID_OCCUPATION_DATES", one(job(start=D(2026, 3, 1), end=D(2026, 2, 1))), B, OCC_KEY,
     "", OCC),
    ("OCCUPATION_OUTSIDE_QUARTER", one(job(start=D(2025, 1, 1), end=D(2025, 12, 31))), B,
     OCC_KEY, "", OCC),
    ("INVALID_JOINT_COMMITTEE", one(job(jc="20")), B, OCC_KEY, "20", OCC),
    ("MEAN_HOURS_ABOVE_REFERENCE", one(job(mean=4000, reference=3800)), B, OCC_KEY, "4000", OCC),
    # 13 weeks x 5 days = 65 days (6,500); 6,501 x 7.6 h = 49,407.6 h -> hours 49,400 coherent
    ("DAYS_EXCEED_SYSTEM", one(job(days=6501, hours=49400)), B, OCC_KEY, "6501", OCC),
    # one day (100) x 24 h = 2,400
    ("HOURS_EXCEED_DAYS", one(job(days=100, hours=2401)), B, OCC_KEY, "2401", OCC),
    ("STUDENT_HOURS_REQUIRED",
     lambda: judged(person(STUDENT, record("841", job(days=500, hours=0, pay=10_000)))), B,
     BlockKey(STUDENT, "841"), "", f"workers[insz={STUDENT}]/records[worker_code=841]"),
    ("OCCUPATION_NOT_COVERED", lambda: judged(network=CrossCheck()), B, OCC_KEY, "2026-01-01",
     OCC),
    ("NO_RATE", one(category=2), B, BlockKey(WORKER, "495"), "ORDINARY/2/2026Q1", REC),
    # 60 days x 7.6 h = 456 h (45,600); x 1.5 = 68,400
    ("HOURS_INCOHERENT", one(job(hours=68401)), W, OCC_KEY, "68401", OCC),
    ("DIMONA_TYPE_MISMATCH",
     lambda: judged(network=CrossCheck(periods=(period(WORKER, "STU"),))), W, OCC_KEY, "STU",
     OCC),
    ("MISSING_WORKER",
     lambda: judged(network=dataclasses.replace(
         covered(person()),
         periods=(*covered(person()).periods, period(OTHER, "OTH", period_id=7)))),
     W, BlockKey(OTHER), "7", f"workers[insz={OTHER}]"),
    ("LATE", lambda: judged(today=D(2026, 5, 1)), W, BlockKey(), "2026-04-30", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "make", "severity", "block", "value", "path"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_minimal_submission_has_exactly_one_anomaly_when_one_rule_is_broken(
    code: str,
    make: Callable[[], Judgement],
    severity: Severity,
    block: BlockKey,
    value: str,
    path: str,
) -> None:
    result = make()
    assert found(result) == [(code, severity, block, value)]
    assert result.anomalies[0].block.path == path
    expected = Status.REFUSED if severity is B else Status.ACCEPTED_WITH_ANOMALIES
    assert result.status is expected


def test_every_documented_anomaly_code_has_a_case_when_listed_in_checks_docstring() -> None:
    documented = set(re.findall(r"\b[A-Z][A-Z_]{2,}[A-Z]\b", checks.__doc__ or ""))
    documented -= {"UNCONFIRMED", "INSZ", "ONSS", "DMFA", "DIMONA", "DWD", "STG"}
    assert documented == {c[0] for c in CASES}


def test_default_submission_is_accepted_without_anomaly_when_every_rule_holds() -> None:
    result = judged()
    assert result.anomalies == [] and result.status is Status.ACCEPTED and not result.late


def test_status_is_refused_when_blocking_and_warning_mix() -> None:
    network = dataclasses.replace(
        with_register(PersonOutcome.DECEASED), periods=()
    )  # deceased (warning) and not covered (blocking)
    result = judged(network=network)
    assert {a.code for a in result.anomalies} == {"WORKER_DECEASED", "OCCUPATION_NOT_COVERED"}
    assert result.status is Status.REFUSED


def test_duplicate_worker_is_counted_once_when_declared_twice() -> None:
    result = judged(person(), person())
    assert result.totals.workers == 1 and result.totals.remuneration == 300_000


def test_path_names_every_key_when_block_is_a_service_line() -> None:
    key = BlockKey(WORKER, "015", 12, service_code="005")
    assert key.path == (
        f"workers[insz={WORKER}]/records[worker_code=015]/occupations[12]/services[service_code=005]"
    )
    assert BlockKey().path == ""


# -- rules at their bounds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "exceeds"),
    [
        (D(2026, 1, 1), 6500, False),  # 90 days: 13 weeks started, 13 x 500 = 6,500
        (D(2026, 1, 1), 6501, True),
        (D(2025, 12, 1), 6500, False),  # only the quarter's part counts: 13 weeks again
        (D(2026, 3, 25), 500, False),  # 7 days: one week, 5 days
        (D(2026, 3, 25), 501, True),
        (D(2026, 3, 24), 1000, False),  # 8 days: two weeks started
    ],
)
def test_days_are_bounded_by_system_times_weeks_started_when_in_quarter(
    start: D, days: int, exceeds: bool
) -> None:
    result = one(job(start=start, days=days, hours=days * 7))()  # 7 h a day: coherent
    assert ("DAYS_EXCEED_SYSTEM" in {a.code for a in result.anomalies}) is exceeds


def test_hours_at_one_and_a_half_schedule_are_coherent_when_exactly_at_limit() -> None:
    assert found(one(job(hours=68400))()) == []  # 45,600 x 1.5


def test_hours_at_24_a_day_are_not_over_limit_when_exactly_at_limit() -> None:
    # one day, 24 h: not over 24 h a day, but far above the schedule's 7.6 h (a warning)
    assert [a.code for a in one(job(days=100, hours=2400))().anomalies] == ["HOURS_INCOHERENT"]


def test_hours_without_days_exceed_days_when_no_day_is_declared() -> None:
    assert [a.code for a in one(job(days=0, hours=100))().anomalies] == ["HOURS_EXCEED_DAYS"]


@pytest.mark.parametrize(
    ("jc", "valid"),
    [("200", True), ("140.03", True), ("XXX", True), ("20", False), ("2000", False),
     ("140.3", False), ("xxx", False), ("140.031", False), (" 200", False)],
)  # fmt: skip
def test_joint_committee_is_ddd_or_ddd_dd_or_xxx_when_checked(jc: str, valid: bool) -> None:
    codes = {a.code for a in one(job(jc=jc))().anomalies}
    assert ("INVALID_JOINT_COMMITTEE" not in codes) is valid


def test_mean_hours_equal_to_reference_are_allowed_when_full_time() -> None:
    assert found(one(job(mean=3800, reference=3800))()) == []


# -- Dimona coverage ------------------------------------------------------------------------


def p(start: D, end: D | None, kind: str = "OTH", period_id: int = 1, insz: str = WORKER):  # noqa: ANN201
    return period(insz, kind, start, end, period_id)


@pytest.mark.parametrize(
    ("periods", "uncovered"),
    [
        ([p(D(2026, 1, 1), None)], None),  # one open period
        ([p(D(2025, 6, 1), D(2026, 12, 31))], None),  # one period around the quarter
        ([p(D(2026, 1, 1), D(2026, 2, 15)), p(D(2026, 2, 16), None, period_id=2)], None),
        ([p(D(2026, 2, 16), None, period_id=2), p(D(2026, 1, 1), D(2026, 2, 15))], None),
        ([p(D(2026, 1, 1), D(2026, 2, 20)), p(D(2026, 2, 10), D(2026, 3, 31), period_id=2)],
         None),  # overlapping
        ([p(D(2026, 1, 1), D(2026, 2, 15)), p(D(2026, 2, 17), None, period_id=2)],
         "2026-02-16"),  # a one-day gap
        ([p(D(2026, 1, 10), None)], "2026-01-01"),  # starts late
        ([p(D(2026, 1, 1), D(2026, 3, 30))], "2026-03-31"),  # ends a day early
        ([], "2026-01-01"),  # no period at all
        ([p(D(2026, 1, 1), None, insz=OTHER)], "2026-01-01"),  # another worker's
        ([p(D(2025, 1, 1), D(2025, 12, 31))], "2026-01-01"),  # last year's
    ],
)  # fmt: skip
def test_occupation_is_covered_by_union_of_periods_when_checked(
    periods: list[DimonaPeriod], uncovered: str | None
) -> None:
    result = judged(network=CrossCheck(periods=tuple(periods)))
    not_covered = [
        (a.block, a.value) for a in result.anomalies if a.code == "OCCUPATION_NOT_COVERED"
    ]
    assert not_covered == ([] if uncovered is None else [(OCC_KEY, uncovered)])


def test_only_occupation_days_in_quarter_need_cover_when_it_starts_before_and_ends_early() -> None:
    early = job(start=D(2025, 11, 1), end=D(2026, 2, 28), days=4000, hours=30400)
    covering = CrossCheck(periods=(p(D(2026, 1, 1), D(2026, 2, 28)),))
    assert (
        found(judge(submission(person(WORKER, record("495", early))), covering, TABLES, TODAY))
        == []
    )
    short = CrossCheck(periods=(p(D(2026, 1, 1), D(2026, 2, 27)),))
    result = judge(submission(person(WORKER, record("495", early))), short, TABLES, TODAY)
    assert found(result) == [("OCCUPATION_NOT_COVERED", B, OCC_KEY, "2026-02-28")]


def test_each_occupation_is_checked_when_a_record_has_two() -> None:
    first = job(number=1, end=D(2026, 1, 31), days=2000, hours=15200)
    second = job(number=2, start=D(2026, 3, 1), days=2000, hours=15200)
    periods = (p(D(2026, 1, 1), D(2026, 1, 31)),)  # only January declared to Dimona
    result = judge(
        submission(person(WORKER, record("495", first, second))),
        CrossCheck(periods=periods),
        TABLES,
        TODAY,
    )
    assert found(result) == [
        ("OCCUPATION_NOT_COVERED", B, BlockKey(WORKER, "495", 2), "2026-03-01")
    ]


def test_no_type_mismatch_when_one_covering_period_has_expected_type() -> None:
    periods = (p(D(2026, 1, 1), D(2026, 2, 15), "STU"), p(D(2026, 2, 16), None, "OTH", 2))
    assert found(judged(network=CrossCheck(periods=periods))) == []


def test_type_mismatch_lists_sorted_types_when_no_period_matches() -> None:
    periods = (p(D(2026, 1, 1), D(2026, 2, 15), "STU"), p(D(2026, 2, 16), None, "FLX", 2))
    assert found(judged(network=CrossCheck(periods=periods))) == [
        ("DIMONA_TYPE_MISMATCH", W, OCC_KEY, "FLX,STU")
    ]


def test_manual_worker_code_accepts_bcw_period_when_types_listed_in_tables() -> None:
    manual = person(MANUAL, record("015"))
    network = CrossCheck(periods=(p(D(2026, 1, 1), None, "BCW", insz=MANUAL),))
    assert found(judged(manual, network=network)) == []


def test_uncovered_occupation_is_not_also_a_type_mismatch_when_periods_have_wrong_type() -> None:
    network = CrossCheck(periods=(p(D(2026, 2, 1), None, "STU"),))
    assert found(judged(network=network)) == [("OCCUPATION_NOT_COVERED", B, OCC_KEY, "2026-01-01")]


# -- missing workers ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["DWD", "A17", "STG"])
def test_missing_worker_is_not_reported_when_period_type_never_appears_in_dmfa(kind: str) -> None:
    network = dataclasses.replace(
        covered(person()),
        periods=(*covered(person()).periods, p(D(2026, 1, 5), None, kind, 9, OTHER)),
    )
    assert found(judged(network=network)) == []


def test_missing_workers_are_reported_by_period_id_when_several_are_undeclared() -> None:
    extra = (
        p(D(2026, 2, 1), None, "STU", 12, STUDENT),
        p(D(2026, 1, 5), D(2026, 1, 5), "OTH", 8, OTHER),
        p(D(2026, 3, 1), None, "DWD", 10, MANUAL),  # exempt
    )
    network = dataclasses.replace(covered(person()), periods=(*covered(person()).periods, *extra))
    result = judged(network=network)
    assert found(result) == [
        ("MISSING_WORKER", W, BlockKey(OTHER), "8"),
        ("MISSING_WORKER", W, BlockKey(STUDENT), "12"),
    ]
    assert result.status is Status.ACCEPTED_WITH_ANOMALIES


def test_declared_worker_is_not_missing_when_one_of_its_periods_is_not_used() -> None:
    extra = p(D(2026, 3, 1), D(2026, 3, 2), "STU", 5)  # the same worker, another period
    network = dataclasses.replace(covered(person()), periods=(*covered(person()).periods, extra))
    assert found(judged(network=network)) == []


# -- the deadline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "late"),
    [(D(2026, 4, 30), False), (D(2026, 5, 1), True), (D(2026, 4, 1), False), (D(2027, 1, 1), True)],
)
def test_late_only_after_deadline_when_judged_on_a_given_day(today: D, late: bool) -> None:
    result = judged(today=today)
    assert result.late is late
    assert [(a.code, a.value) for a in result.anomalies] == (
        [("LATE", "2026-04-30")] if late else []
    )


# -- first_uncovered: a property against a day-by-day count -------------------------------

BASE = D(2026, 1, 1)
offsets = st.integers(0, 60)


@st.composite
def spans_and_periods(draw: st.DrawFn) -> tuple[tuple[D, D], list[DimonaPeriod]]:
    a, b = sorted((draw(offsets), draw(offsets)))
    periods = []
    for i in range(draw(st.integers(0, 6))):
        s = draw(st.integers(-10, 70))
        e = draw(st.one_of(st.none(), st.integers(s, 75)))
        periods.append(
            period(WORKER, "OTH", BASE + dt.timedelta(s),
                   None if e is None else BASE + dt.timedelta(e), i + 1)
        )  # fmt: skip
    return (BASE + dt.timedelta(a), BASE + dt.timedelta(b)), periods


def brute_force(span: tuple[D, D], periods: list[DimonaPeriod]) -> D | None:
    day = span[0]
    while day <= span[1]:
        if not any(x.start <= day and (x.end is None or day <= x.end) for x in periods):
            return day
        day += dt.timedelta(days=1)
    return None


@settings(max_examples=500, deadline=None)
@given(spans_and_periods())
def test_first_uncovered_matches_day_by_day_search_when_periods_are_random(
    case: tuple[tuple[D, D], list[DimonaPeriod]],
) -> None:
    span, periods = case
    # as the checks call it: only the periods that overlap the span
    covering = [x for x in periods if x.start <= span[1] and (x.end is None or x.end >= span[0])]
    assert first_uncovered(span, covering) == brute_force(span, periods)
