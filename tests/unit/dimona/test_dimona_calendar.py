"""Working days, Belgian public holidays, quarters and deadlines (Europe/Brussels)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dimona.service import calendar as cal
from runtime.clock import BRUSSELS

DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))


def local(instant: dt.datetime) -> tuple[dt.date, dt.time]:
    here = instant.astimezone(BRUSSELS)
    return here.date(), here.time()


def test_belgian_public_holidays_are_not_working_days_when_on_a_weekday() -> None:
    for day in (
        dt.date(2025, 1, 1),  # New Year (Wednesday)
        dt.date(2025, 4, 21),  # Easter Monday
        dt.date(2025, 5, 1),  # Labour Day
        dt.date(2025, 5, 29),  # Ascension
        dt.date(2025, 6, 9),  # Whit Monday
        dt.date(2025, 7, 21),  # National Day
        dt.date(2025, 8, 15),  # Assumption
        dt.date(2025, 11, 11),  # Armistice
        dt.date(2025, 12, 25),  # Christmas
    ):
        assert day.weekday() < 5 and not cal.is_working_day(day), day
    assert cal.is_working_day(dt.date(2025, 6, 2))
    assert not cal.is_working_day(dt.date(2025, 6, 7))  # Saturday


def test_next_working_day_skips_weekend_and_holidays_when_they_follow() -> None:
    assert cal.next_working_day(dt.date(2025, 5, 30)) == dt.date(2025, 6, 2)  # Fri -> Mon
    assert cal.next_working_day(dt.date(2025, 4, 18)) == dt.date(2025, 4, 22)  # Easter Monday
    assert cal.next_working_day(dt.date(2025, 12, 24)) == dt.date(2025, 12, 26)


@given(DAYS)
def test_next_working_day_is_the_first_working_day_after_when_any_day(day: dt.date) -> None:
    following = cal.next_working_day(day)
    assert following > day and cal.is_working_day(following)
    between = day + cal.ONE_DAY
    while between < following:
        assert not cal.is_working_day(between)
        between += cal.ONE_DAY


@given(DAYS)
def test_quarter_bounds_contain_the_day_when_any_day(day: dt.date) -> None:
    year, quarter = cal.quarter_of(day)
    first, last = cal.quarter_bounds(year, quarter)
    assert first <= day <= last and first.day == 1 and (last + cal.ONE_DAY).day == 1
    assert cal.shift_quarter(*cal.shift_quarter(year, quarter, -3), 3) == (year, quarter)


def test_t_minus_3_crosses_the_year_when_in_first_quarters() -> None:
    assert cal.shift_quarter(2025, 1, -3) == (2024, 2)
    assert cal.shift_quarter(2025, 4, -3) == (2025, 1)


def test_in_deadline_is_the_start_instant_in_brussels_when_time_declared() -> None:
    # 30 March 2025: clocks go forward at 02:00; 08:00 local is 06:00 UTC.
    assert cal.in_deadline(dt.date(2025, 3, 30), 8 * 60) == dt.datetime(
        2025, 3, 30, 6, 0, tzinfo=dt.UTC
    )
    assert local(cal.in_deadline(dt.date(2025, 1, 6), None)) == (dt.date(2025, 1, 6), dt.time(0))


def test_out_deadline_ends_with_the_next_working_day_when_holiday_follows() -> None:
    deadline = cal.out_deadline(dt.date(2025, 4, 18))  # Good Friday; Easter Monday is off
    assert local(deadline) == (dt.date(2025, 4, 23), dt.time(0))


def test_cancel_deadline_ends_with_the_start_day_when_declared() -> None:
    assert local(cal.cancel_deadline(dt.date(2025, 6, 3))) == (dt.date(2025, 6, 4), dt.time(0))


def test_update_deadline_is_the_earliest_of_its_changes_when_several() -> None:
    old_start, old_end = dt.date(2025, 6, 10), dt.date(2025, 6, 30)
    earlier = cal.update_deadline(
        old_start=old_start,
        old_start_time=None,
        new_start=dt.date(2025, 6, 5),
        new_start_time=None,
        old_end=old_end,
        new_end=old_end,
        other_changes=False,
    )
    assert local(earlier) == (dt.date(2025, 6, 5), dt.time(0))
    later_end = cal.update_deadline(
        old_start=old_start,
        old_start_time=None,
        new_start=old_start,
        new_start_time=None,
        old_end=old_end,
        new_end=dt.date(2025, 7, 15),
        other_changes=False,
    )
    assert local(later_end) == (dt.date(2025, 7, 1), dt.time(0))  # before the old end passes
    earlier_end = cal.update_deadline(
        old_start=old_start,
        old_start_time=None,
        new_start=old_start,
        new_start_time=None,
        old_end=old_end,
        new_end=dt.date(2025, 6, 20),  # a Friday
        other_changes=False,
    )
    assert local(earlier_end) == (dt.date(2025, 6, 24), dt.time(0))
    nothing = cal.update_deadline(
        old_start=old_start,
        old_start_time=None,
        new_start=old_start,
        new_start_time=None,
        old_end=None,
        new_end=None,
        other_changes=True,
    )
    assert nothing is None
