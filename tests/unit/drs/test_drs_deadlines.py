"""Each scenario's deadline on the Belgian calendar, and lateness judged on a fixed clock: one
day after the deadline is late (ACCEPTED_WITH_WARNINGS, LATE_DECLARATION), the deadline itself
is not. ZIMA 001's first working day skips weekends and public holidays."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drs.service import deadlines
from drs.service.deadlines import deadline, is_working_day
from drs.service.model import Scenario, Status
from runtime.clock import BRUSSELS
from tests.unit.drs.fakes import ME, STATE_CALLER, risks, submission, world

S = Scenario


@pytest.mark.parametrize(
    ("scenario", "risk_date", "expected"),
    [
        # ONEM 1: the day after the last day worked (UNCONFIRMED).
        (S.UNEMPLOYMENT_END_OF_CONTRACT, dt.date(2026, 10, 30), dt.date(2026, 10, 31)),
        (S.UNEMPLOYMENT_END_OF_CONTRACT, dt.date(2026, 12, 31), dt.date(2027, 1, 1)),
        # ONEM 2: the first day of temporary unemployment (UNCONFIRMED).
        (S.TEMPORARY_UNEMPLOYMENT, dt.date(2026, 10, 5), dt.date(2026, 10, 5)),
        # ONEM 5: the last day of the month (February of a leap year).
        (S.TEMPORARY_UNEMPLOYMENT_HOURS, dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
        (S.TEMPORARY_UNEMPLOYMENT_HOURS, dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        # ZIMA 001: the first working day of the next month. 1 December 2026 is a Tuesday.
        (S.SICKNESS_INCAPACITY, dt.date(2026, 11, 10), dt.date(2026, 12, 1)),
        # 1 March 2026 is a Sunday: Monday 2 March.
        (S.SICKNESS_INCAPACITY, dt.date(2026, 2, 27), dt.date(2026, 3, 2)),
        # 1 January 2026 (Thursday) is New Year's Day: Friday 2 January.
        (S.SICKNESS_INCAPACITY, dt.date(2025, 12, 15), dt.date(2026, 1, 2)),
        # 1 November 2026 is a Sunday and All Saints' Day: Monday 2 November.
        (S.SICKNESS_INCAPACITY, dt.date(2026, 10, 1), dt.date(2026, 11, 2)),
        # 1 May 2027 (Labour Day) is a Saturday: Monday 3 May.
        (S.SICKNESS_INCAPACITY, dt.date(2027, 4, 30), dt.date(2027, 5, 3)),
        # ZIMA 006: 8 days after the risk date (UNCONFIRMED).
        (S.SICKNESS_RESUMPTION, dt.date(2026, 10, 26), dt.date(2026, 11, 3)),
        # Work accident: 8 calendar days from the day after the accident.
        (S.WORK_ACCIDENT, dt.date(2026, 12, 28), dt.date(2027, 1, 5)),
    ],
)
def test_deadline_is_the_scenarios_when_computed(
    scenario: Scenario, risk_date: dt.date, expected: dt.date
) -> None:
    assert deadline(scenario, risk_date) == expected


def test_public_holidays_are_not_working_days_when_belgian() -> None:
    for day in (dt.date(2026, 7, 21), dt.date(2026, 5, 14), dt.date(2026, 11, 11)):
        assert day.weekday() < 5 and not is_working_day(day)
    assert is_working_day(dt.date(2026, 7, 22))


@given(st.dates(min_value=dt.date(2003, 1, 1), max_value=dt.date(2100, 11, 30)))
def test_zima_001_deadline_is_a_working_day_early_next_month_when_any_risk_date(
    day: dt.date,
) -> None:
    due = deadline(S.SICKNESS_INCAPACITY, day)
    following = deadlines.first_day_of_next_month(day)
    assert is_working_day(due)
    assert following <= due <= following + dt.timedelta(days=6)
    # No working day is skipped between the 1st and the deadline.
    assert not any(
        is_working_day(following + dt.timedelta(days=n)) for n in range((due - following).days)
    )


@given(st.dates(min_value=dt.date(2003, 1, 1), max_value=dt.date(2100, 12, 1)))
def test_monthly_hours_deadline_is_the_months_last_day_when_any_month(day: dt.date) -> None:
    first = day.replace(day=1)
    due = deadline(S.TEMPORARY_UNEMPLOYMENT_HOURS, first)
    assert due.month == first.month and (due + dt.timedelta(days=1)).day == 1


def _at(day: dt.date, hour: int = 23) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 59, tzinfo=BRUSSELS)


@pytest.mark.parametrize("scenario", list(Scenario))
def test_declaration_is_on_time_on_the_deadline_and_late_the_day_after_when_clock_is_fixed(
    scenario: Scenario,
) -> None:
    risk_date = dt.date(2026, 10, 1)
    risk, day = risks(risk_date)[scenario]
    due = deadline(scenario, day)
    for when, late in ((_at(due), False), (_at(due + dt.timedelta(days=1), 0), True)):
        # STATE files ZIMA 001 spontaneously (DestHa): no request needed.
        caller = STATE_CALLER if scenario is S.SICKNESS_INCAPACITY else ME
        d = world(at=when).declarations.submit(caller, submission(risk, day, employer=caller.id))
        assert d.late is late and d.deadline == due
        if late:
            assert d.status is Status.ACCEPTED_WITH_WARNINGS
            late_anomaly = next(a for a in d.anomalies if a.code == "LATE_DECLARATION")
            assert late_anomaly.value == due.isoformat() and late_anomaly.field == "risk_date"
        else:
            assert d.status is Status.ACCEPTED, d.anomalies
        assert d.attestation_id  # late is accepted: the attestation is sent


def test_lateness_is_judged_on_the_brussels_date_when_utc_is_still_the_day_before() -> None:
    # 23:30 UTC on 1 November is 00:30 on 2 November in Brussels (winter time): one day late
    # for an end of contract on 31 October (deadline 1 November).
    at = dt.datetime(2026, 11, 1, 23, 30, tzinfo=dt.UTC)
    risk, day = risks(dt.date(2026, 10, 31))[S.UNEMPLOYMENT_END_OF_CONTRACT]
    d = world(at=at).declarations.submit(ME, submission(risk, day))
    assert d.late
