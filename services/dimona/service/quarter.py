"""DimonaQuarterService: what the ONSS's DmfA reads from and records in DIMONA, through the
router only — the only-once link between the immediate and the quarterly declaration.

- ListEmployerQuarterPeriods: an employer's accepted, not cancelled periods whose days meet a
  calendar quarter, every worker type, by period id, one page (one statement) per call;
- BatchGetStudentQuarterBalances: students' quota counters for a batch of workers (two
  statements whatever the batch: IN lists), with one employer's part in one quarter;
- RecordStudentActualHours: students' actual minutes with one employer in one quarter, from an
  accepted DmfA. They replace, in the quota counter (checks.student_counter), the planned
  minutes of that employer's student periods in that quarter; recording again replaces the
  figure (a DmfA correction; a retry is harmless). All entries are validated before anything is
  written, then written in one transaction (on SQLite through the group committer, like the
  declarations). No employment event is emitted: the event log records accepted changes of
  Dimona periods, and a recording changes no period — the periods' own `student_minutes` and
  `exceeding_minutes` stay what they were when declared; only the counter moves.

Every call is checked first (`access.require_onss_consultation`): the runtime answers only a
router (ACCESS_ROUTED), and that router must forward a request of the ONSS itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dimona.service import access
from dimona.service.calendar import quarter_bounds
from dimona.service.checks import student_counter
from dimona.service.commands import RawActualHours
from dimona.service.group_commit import GroupCommitter
from dimona.service.model import Period, StudentActual, StudentQuarterBalance
from dimona.service.ports import ConflictError, DimonaUnit, UnitFactory
from dimona.service.rules import student_quota_hours
from dimona.service.validation import (
    validate_actual_hours,
    validate_employer_quarter,
    validate_quarter_batch,
)
from runtime import page_tokens as tokens
from runtime.clock import Clock
from runtime.errors import Aborted
from runtime.identity import Consultation

T = TypeVar("T")

#: ListEmployerQuarterPeriods' page size: 0 means this, and more is reduced to MAX_PAGE.
DEFAULT_PAGE = 500
MAX_PAGE = 1000
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class QuarterPage:
    periods: list[Period]
    next_page_token: str


class DimonaQuarters:
    """DimonaQuarterService's rules."""

    def __init__(
        self,
        unit: UnitFactory,
        read_unit: UnitFactory,
        clock: Clock,
        committer: GroupCommitter | None = None,
    ) -> None:
        """`committer`: run the recordings' units of work in the declarations' groups (SQLite)."""
        self._unit, self._read, self._clock, self._committer = unit, read_unit, clock, committer

    def list_employer_quarter_periods(
        self,
        consultation: Consultation | None,
        employer: str,
        year: int,
        quarter: int,
        page_size: int,
        page_token: str,
    ) -> QuarterPage:
        access.require_onss_consultation(consultation)
        target = validate_employer_quarter(employer, year, quarter)
        limit = tokens.page_size(page_size, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        filters = ["quarter-periods", target.employer, target.year, target.quarter]
        after = int(tokens.decode(page_token, filters, (int,))[0]) if page_token else 0
        first, last = quarter_bounds(target.year, target.quarter)
        with self._read() as unit:
            rows = unit.periods.in_quarter(target.employer, first, last, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        token = tokens.encode(filters, [rows[-1].period_id]) if more and rows else ""
        return QuarterPage(rows, token)

    def student_quarter_balances(
        self,
        consultation: Consultation | None,
        employer: str,
        year: int,
        quarter: int,
        inszs: list[str],
    ) -> list[StudentQuarterBalance]:
        """One balance per INSZ asked, in that order (a duplicate is answered twice)."""
        access.require_onss_consultation(consultation)
        target, checked = validate_quarter_batch(employer, year, quarter, inszs)
        workers = sorted(set(checked))
        with self._read() as unit:
            periods = unit.periods.student_periods(workers, target.year)
            actuals = unit.actuals.of_workers(workers, target.year)
        quota = student_quota_hours(target.year)
        out = []
        for insz in checked:
            counter = student_counter(target.year, periods.get(insz, []), actuals.get(insz, []))
            out.append(
                StudentQuarterBalance(
                    insz=insz,
                    quota_hours=quota,
                    used_minutes=counter.used,
                    employer_quarter_minutes=counter.part(target.employer, target.quarter),
                )
            )
        return out

    def record_actual_hours(
        self,
        consultation: Consultation | None,
        employer: str,
        year: int,
        quarter: int,
        entries: list[RawActualHours],
        source: str,
    ) -> int:
        """The number of entries recorded: all of them, or an error and none."""
        access.require_onss_consultation(consultation)
        valid = validate_actual_hours(employer, year, quarter, entries, source)
        now = self._clock.now()
        t = valid.target
        actuals = [
            StudentActual(t.employer, insz, t.year, t.quarter, minutes, valid.source, now)
            for insz, minutes in valid.entries
        ]
        self._write(lambda unit: unit.actuals.record(actuals))
        return len(actuals)

    def _write(self, work: Callable[[DimonaUnit], T]) -> T:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                if self._committer is not None:
                    return self._committer.run(work)
                with self._unit() as unit:
                    return work(unit)
            except ConflictError:
                continue  # PostgreSQL: a deadlock or serialization failure; the write is whole
        raise Aborted("CONCURRENT_UPDATE", "too many concurrent recordings; retry")
