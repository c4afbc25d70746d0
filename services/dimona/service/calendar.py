"""Belgian calendar arithmetic for DIMONA: quarters, working days and declaration deadlines.

Deadlines are judged on the Europe/Brussels date and time (runtime.clock.BRUSSELS). A working day
is Monday to Friday except Belgian public holidays, from the `holidays` package (the ten legal
holidays: New Year, Easter Monday, 1 May, Ascension, Whit Monday, 21 July, 15 August, 1 and 11
November, Christmas).

Each deadline is the *first late instant* (exclusive): a declaration received before it is on
time. Deadlines per action (domain brief §2; the exact instants are our reading, UNCONFIRMED):
- IN: before work starts — the start date at the declared start time, or at 00:00 when no start
  time is declared (work may start as the day begins);
- OUT: by the first working day after the last day — until that working day ends;
- UPDATE: start earlier → before the new start; start later → before the old start; end earlier
  → by the first working day after the new end; end later → before the declared end passes (the
  end of the old last day); other changes (hours) → by the first working day after the end. The
  earliest deadline of the changes made applies;
- CANCEL: by the declared start date — until that day ends.
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays

from runtime.clock import BRUSSELS

ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=256)
def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("BE", years=[year]).keys())


def is_public_holiday(day: dt.date) -> bool:
    return day in _holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, not a Belgian public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after `day`."""
    candidate = day + ONE_DAY
    while not is_working_day(candidate):
        candidate += ONE_DAY
    return candidate


def quarter_of(day: dt.date) -> tuple[int, int]:
    """(year, quarter 1..4)."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter."""
    first = dt.date(year, 3 * (quarter - 1) + 1, 1)
    following = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, following - ONE_DAY


def shift_quarter(year: int, quarter: int, by: int) -> tuple[int, int]:
    """The quarter `by` quarters after (negative: before) the given one."""
    index = year * 4 + (quarter - 1) + by
    return index // 4, index % 4 + 1


def brussels(day: dt.date, minutes: int = 0) -> dt.datetime:
    """The instant `minutes` after midnight of `day` in Brussels (DST-aware), in UTC."""
    local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=BRUSSELS)
    return local.astimezone(dt.UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` ends in Brussels."""
    return brussels(day + ONE_DAY)


def in_deadline(start: dt.date, start_time: int | None) -> dt.datetime:
    return brussels(start, start_time or 0)


def out_deadline(end: dt.date) -> dt.datetime:
    return end_of_day(next_working_day(end))


def cancel_deadline(start: dt.date) -> dt.datetime:
    return end_of_day(start)


def update_deadline(
    *,
    old_start: dt.date,
    old_start_time: int | None,
    new_start: dt.date,
    new_start_time: int | None,
    old_end: dt.date | None,
    new_end: dt.date | None,
    other_changes: bool,
) -> dt.datetime | None:
    """The earliest deadline among the changes an UPDATE makes; None when it changes nothing
    that has a deadline."""
    found: list[dt.datetime] = []
    old_begin = in_deadline(old_start, old_start_time)
    new_begin = in_deadline(new_start, new_start_time)
    if new_begin < old_begin:
        found.append(new_begin)  # start earlier: before work starts
    elif new_begin > old_begin:
        found.append(old_begin)  # start later: before the old start (work has not started)
    if new_end != old_end:
        if old_end is not None and (new_end is None or new_end > old_end):
            found.append(end_of_day(old_end))  # end later: before the declared end passes
        elif new_end is not None:
            found.append(out_deadline(new_end))  # end earlier (or a first end): next working day
    if other_changes:
        last = new_end or old_end
        if last is not None:  # an open-ended period's hours may change at any time
            found.append(out_deadline(last))
    return min(found) if found else None
