"""Each scenario's deadline, on the Belgian calendar.

A deadline is the last calendar day (Europe/Brussels) on which a declaration is on time: one
received later (`today > deadline`, today from the injectable clock) is accepted with the
warning LATE_DECLARATION, never refused. Working days are Monday to Friday except Belgian public
holidays, from the `holidays` package (the same source as DIMONA's calendar; not DIMONA's code).

- ONEM scenario 1, end of contract: the day after the risk date (the last day worked).
  **UNCONFIRMED**: the brief says "at the latest the last working day"; we read it as the C4
  being due once the contract has ended, i.e. by the next day.
- ONEM scenario 2, temporary unemployment: the risk date (its first day). **UNCONFIRMED**:
  "filed at first temporary unemployment".
- ONEM scenario 5, monthly hours: the last day of the risk date's month (brief: "end of month").
- ZIMA 001, incapacity: the first working day of the month after the risk date's month (brief
  §4; a weekend or a public holiday on the 1st moves it).
- ZIMA 006, resumption: 8 days after the risk date. **UNCONFIRMED**: no source; our choice.
- Work accident: 8 calendar days from the day after the accident, i.e. the risk date + 8
  (brief §4).
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

from drs.service.model import Scenario

ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=256)
def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("BE", years=[year]).keys())


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, not a Belgian public holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def first_working_day_on_or_after(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += ONE_DAY
    return day


def first_day_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def last_day_of_month(day: dt.date) -> dt.date:
    return first_day_of_next_month(day) - ONE_DAY


def days_in_month(day: dt.date) -> int:
    return last_day_of_month(day).day


def deadline(scenario: Scenario, risk_date: dt.date) -> dt.date:
    """The last day on which a declaration of `scenario` about `risk_date` is on time."""
    if scenario is Scenario.UNEMPLOYMENT_END_OF_CONTRACT:
        return risk_date + ONE_DAY
    if scenario is Scenario.TEMPORARY_UNEMPLOYMENT:
        return risk_date
    if scenario is Scenario.TEMPORARY_UNEMPLOYMENT_HOURS:
        return last_day_of_month(risk_date)
    if scenario is Scenario.SICKNESS_INCAPACITY:
        return first_working_day_on_or_after(first_day_of_next_month(risk_date))
    if scenario is Scenario.SICKNESS_RESUMPTION:
        return risk_date + 8 * ONE_DAY
    if scenario is Scenario.WORK_ACCIDENT:
        # "8 days from the day after the accident": the day after is day 1, so day 8 is the
        # accident's day + 8.
        return risk_date + 8 * ONE_DAY
    raise ValueError(f"no deadline for {scenario}")


def is_late(scenario: Scenario, risk_date: dt.date, today: dt.date) -> bool:
    return today > deadline(scenario, risk_date)
