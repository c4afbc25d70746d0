"""The rules that look at a worker's other periods: overlap, consecutive occasional days, the
student quota (and its counter, where the actual hours the DmfA recorded replace the planned
ones) and the flexi-job employment condition. Pure functions over `Period` lists, so that the
unit tests exercise them without a database; `declarations` calls them inside the unit of work
that holds the worker's lock, so that the periods they see cannot change before the declaration
is written. (Recorded actual hours are not under that lock: a recording is a blind write that
reads nothing the rules decide on, so a declaration that read the figures before it committed is
simply ordered before it; see storage/repository.py.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dimona.service.calendar import ONE_DAY, quarter_bounds, quarter_of, shift_quarter
from dimona.service.model import Anomaly, Period, Severity, StudentActual, WorkerType
from dimona.service.rules import (
    FLEXI_MIN_FRACTION,
    FLEXI_QUALIFYING_TYPES,
    PeriodDraft,
    student_quota_hours,
)


def overlapping(
    draft: PeriodDraft, employer: str, others: Iterable[Period], exclude: int = 0
) -> list[Anomaly]:
    """A period may not overlap another active one of the same employer, worker, joint
    committee and worker type (`others` are the worker's active periods)."""
    out = []
    for p in others:
        if (
            p.period_id != exclude
            and p.active
            and p.employer == employer
            and p.joint_committee == draft.joint_committee
            and p.worker_type is draft.worker_type
            and p.overlaps(draft.start_date, draft.end_date)
        ):
            out.append(
                Anomaly(
                    "OVERLAPPING_PERIOD",
                    Severity.BLOCKING,
                    "start_date",
                    str(p.period_id),
                    "another period of this worker with the same employer, joint committee "
                    "and worker type covers these days",
                )
            )
    return out


_OCCASIONAL = (WorkerType.EXT, WorkerType.STX)


def consecutive_days(
    draft: PeriodDraft, employer: str, others: Iterable[Period], exclude: int = 0
) -> list[Anomaly]:
    """EXT and STX: at most `max_consecutive_days` consecutive days with one employer; beyond,
    the worker is an ordinary worker or student (OTH / STU)."""
    limit = draft.rule.max_consecutive_days
    if limit is None:
        return []
    days = {
        p.start_date
        for p in others
        if p.period_id != exclude
        and p.active
        and p.employer == employer
        and p.worker_type in _OCCASIONAL
    }
    day = draft.start_date
    before = after = 0
    while day - (before + 1) * ONE_DAY in days:
        before += 1
    while day + (after + 1) * ONE_DAY in days:
        after += 1
    run = before + 1 + after
    if run <= limit:
        return []
    other = "STU" if draft.worker_type is WorkerType.STX else "OTH"
    return [
        Anomaly(
            "TOO_MANY_CONSECUTIVE_DAYS",
            Severity.BLOCKING,
            "start_date",
            str(run),
            f"more than {limit} consecutive occasional days with one employer: declare {other}",
        )
    ]


@dataclass(frozen=True)
class StudentCounter:
    """What a student's quota counter holds for one calendar year, per (employer, quarter).

    The one place where DIMONA decides what counts against the quota — the declarations' quota
    check, GetStudentBalance, GetWorkerStudentBalance and the DmfA's quarter balances all read
    it: for each employer and quarter of the year, the actual minutes the DmfA recorded
    (DimonaQuarterService.RecordStudentActualHours) when there is a record, even of 0 minutes;
    otherwise the planned minutes of that employer's active student periods (STU planned hours,
    STX day hours) starting in that quarter — they never cross a quarter.
    """

    year: int
    #: Minutes counted per (employer, quarter); only the parts that hold something or a record.
    parts: Mapping[tuple[str, int], int]
    #: The (employer, quarter) parts whose figure is a recorded actual one.
    recorded: frozenset[tuple[str, int]] = frozenset()

    @property
    def used(self) -> int:
        """Minutes counted in the year, every employer and quarter."""
        return sum(self.parts.values())

    def quarter(self, quarter: int) -> int:
        """Minutes counted in one quarter (1..4), every employer."""
        return sum(m for (_employer, q), m in self.parts.items() if q == quarter)

    def part(self, employer: str, quarter: int) -> int:
        """Of `used`, the minutes counted for this employer in this quarter."""
        return self.parts.get((employer, quarter), 0)


def student_counter(
    year: int, periods: Iterable[Period], actuals: Iterable[StudentActual] = ()
) -> StudentCounter:
    """The counter of `year` from a worker's periods and recorded actual minutes (either may
    hold other years, cancelled or non-student periods: they are left out here)."""
    parts: dict[tuple[str, int], int] = {}
    for p in periods:
        if p.active and p.student_minutes and p.start_date.year == year:
            key = (p.employer, quarter_of(p.start_date)[1])
            parts[key] = parts.get(key, 0) + p.student_minutes
    recorded = set()
    for a in actuals:
        if a.year == year:
            parts[(a.employer, a.quarter)] = a.minutes
            recorded.add((a.employer, a.quarter))
    return StudentCounter(year, parts, frozenset(recorded))


@dataclass(frozen=True)
class QuotaOutcome:
    """This period's minutes against the student quota of its year."""

    year: int
    quota_hours: int
    used_before: int  # minutes counted in that year without this period, all employers
    mine: int  # this period's own (planned) minutes, stored as its `student_minutes`
    #: What this period adds to the counter: `mine`, or 0 when the employer's quarter already
    #: counts recorded actual minutes (they replace every planned minute of that quarter).
    counted: int

    @property
    def exceeding(self) -> int:
        """Minutes of this period beyond the quota."""
        if not self.quota_hours:
            return 0
        beyond = self.used_before + self.counted - self.quota_hours * 60
        return max(0, min(self.counted, beyond))


def student_quota(
    draft: PeriodDraft,
    employer: str,
    others: Iterable[Period],
    actuals: Iterable[StudentActual] = (),
    exclude: int = 0,
) -> QuotaOutcome:
    """The quota is per worker and calendar year, across every employer, as `student_counter`
    counts it; `others` are the worker's periods, `actuals` the actual minutes recorded for
    him (`exclude`: the period being changed, counted as the draft instead)."""
    year = draft.start_date.year
    counter = student_counter(year, (p for p in others if p.period_id != exclude), actuals)
    mine = draft.student_minutes()
    replaced = (employer, quarter_of(draft.start_date)[1]) in counter.recorded
    return QuotaOutcome(
        year, student_quota_hours(year), counter.used, mine, counted=0 if replaced else mine
    )


def quota_warning(outcome: QuotaOutcome, field: str) -> list[Anomaly]:
    if not outcome.exceeding:
        return []
    return [
        Anomaly(
            "STUDENT_QUOTA_EXCEEDED",
            Severity.WARNING,
            field,
            format_hours(outcome.exceeding),
            f"the student quota of {outcome.quota_hours} hours in {outcome.year} is exceeded "
            f"by {format_hours(outcome.exceeding)} hours of this period: ordinary social "
            "security contributions apply to them",
        )
    ]


def format_hours(minutes: int) -> str:
    """Minutes as hours: `12` or `12.5` (two decimals at most)."""
    hours = minutes / 60
    return f"{hours:.2f}".rstrip("0").rstrip(".")


def flexi_fraction(
    draft: PeriodDraft, employer: str, others: Iterable[Period]
) -> tuple[tuple[int, int], float]:
    """The fraction of quarter T-3's days covered by the worker's ordinary employment with
    *other* employers, T being the flexi period's quarter.

    Approximation (documented in the README): Dimona carries no working-time fraction, so "at
    least 4/5 employment in T-3" is read as "ordinary periods with other employers cover at
    least 4/5 of the calendar days of T-3" (a part-time contract covering the whole quarter
    counts in full). DmfA's actual working time would refine it (DmfA issue). Since 2024 the
    condition may also be met in T-4 / T-5: not modelled. The pensioner exception (a retired
    worker needs no other employment) is not modelled either: the register has no pension data.
    """
    year, quarter = shift_quarter(*quarter_of(draft.start_date), -3)
    first, last = quarter_bounds(year, quarter)
    covered: set[dt.date] = set()
    for p in others:
        if not p.active or p.employer == employer or p.worker_type not in FLEXI_QUALIFYING_TYPES:
            continue
        start = max(p.start_date, first)
        end = min(p.end_date or last, last)
        day = start
        while day <= end:
            covered.add(day)
            day += ONE_DAY
    return (year, quarter), len(covered) / ((last - first).days + 1)


def flexi_warning(
    draft: PeriodDraft, employer: str, others: Iterable[Period], field: str
) -> list[Anomaly]:
    if not draft.rule.flexi:
        return []
    (year, quarter), fraction = flexi_fraction(draft, employer, others)
    if fraction >= FLEXI_MIN_FRACTION:
        return []
    return [
        Anomaly(
            "FLEXI_EMPLOYMENT_INSUFFICIENT",
            Severity.WARNING,
            field,
            f"{fraction:.0%}",
            f"in {year}-Q{quarter} (T-3) the worker was employed elsewhere on {fraction:.0%} of "
            "the days, less than 4/5: the flexi-job rates may not apply",
        )
    ]
