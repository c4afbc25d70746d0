"""Reading DIMONA: a period, an employer's periods, a worker's periods (for institutions,
through the router), a student's balance, the employment event log."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dimona.service import access
from dimona.service.checks import student_counter
from dimona.service.commands import RawDate
from dimona.service.model import EmploymentEvent, Period, StudentActual, StudentBalance
from dimona.service.ports import UnitFactory
from dimona.service.rules import student_quota_hours
from dimona.service.validation import Problems, parse_parent
from runtime import page_tokens as tokens
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import Caller

_PERIOD_NAME = re.compile(r"employers/([0-9]{9,10})/periods/([0-9]{1,12})", re.ASCII)
MAX_EVENTS = 1000


@dataclass(frozen=True)
class Page:
    periods: list[Period]
    next_page_token: str


def _insz(field: str, value: str) -> str:
    problems = Problems()
    insz = problems.insz(field, value)
    problems.raise_if_any()
    assert insz is not None
    return insz


def _year(value: int) -> int:
    if not 2000 <= value <= 2100:
        raise InvalidArgument.for_fields([FieldViolation("year", "2000 to 2100", "INVALID_YEAR")])
    return value


def period_not_found() -> NotFound:
    return NotFound("PERIOD_NOT_FOUND", "no such period of this employer")


class DimonaQueries:
    """The read side."""

    def __init__(self, read_unit: UnitFactory, clock: Clock) -> None:
        self._read, self._clock = read_unit, clock

    def get_period(self, caller: Caller, name: str) -> Period:
        access.require_declarant(caller)
        match = _PERIOD_NAME.fullmatch(name)
        if match is None:
            raise InvalidArgument.for_fields(
                [
                    FieldViolation(
                        "name", "employers/{onss number}/periods/{period id}", "INVALID_NAME"
                    )
                ]
            )
        employer = parse_parent(f"employers/{match.group(1)}", "name")
        with self._read() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            period = unit.periods.get(int(match.group(2)))
        if period is None or period.employer != employer:
            raise period_not_found()
        return period

    def list_periods(
        self, caller: Caller, parent: str, worker: str, page_size: int, page_token: str
    ) -> Page:
        access.require_declarant(caller)
        employer = parse_parent(parent)
        insz = _insz("worker_insz", worker) if worker else ""
        limit = tokens.page_size(page_size, default=50, maximum=500)
        filters = ["periods", employer, insz]
        after = int(tokens.decode(page_token, filters, (int,))[0]) if page_token else 0
        with self._read() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            rows = unit.periods.by_employer(employer, insz or None, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        token = tokens.encode(filters, [rows[-1].period_id]) if more and rows else ""
        return Page(rows, token)

    def list_worker_periods(
        self,
        insz: str,
        from_date: RawDate,
        to_date: RawDate,
        page_size: int,
        page_token: str,
    ) -> Page:
        """A consultation: the runtime lets only a router call it, after its checks."""
        problems = Problems()
        checked = problems.insz("insz", insz)
        start = problems.date("from_date", from_date, required=False)
        end = problems.date("to_date", to_date, required=False)
        problems.raise_if_any()
        assert checked is not None
        insz = checked
        if start is not None and end is not None and end < start:
            raise InvalidArgument.for_fields(
                [FieldViolation("to_date", "not before from_date", "INVALID_RANGE")]
            )
        limit = tokens.page_size(page_size, default=50, maximum=500)
        filters = ["worker", insz, str(start), str(end)]
        after = None
        if page_token:
            day, period_id = tokens.decode(page_token, filters, (str, int))
            try:
                after = (dt.date.fromisoformat(str(day)), int(period_id))
            except ValueError:
                raise tokens.invalid_page_token() from None
        with self._read() as unit:
            rows = unit.periods.by_worker(insz, start, end, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        token = (
            tokens.encode(filters, [rows[-1].start_date.isoformat(), rows[-1].period_id])
            if more and rows
            else ""
        )
        return Page(rows, token)

    def employment_on_date(self, insz: str, employer: str, date: RawDate) -> Period:
        """A consultation (the DRS's): the worker's period with this employer covering `date`,
        the lowest period id when several do; NOT_FOUND `NO_EMPLOYMENT` when none does."""
        problems = Problems()
        checked = problems.insz("insz", insz)
        onss = problems.employer("employer", employer)
        day = problems.date("date", date, required=True)
        problems.raise_if_any()
        assert checked is not None and onss is not None and day is not None
        with self._read() as unit:
            rows = unit.periods.by_worker(checked, day, day, None, 500)
        mine = [p for p in rows if p.employer == onss]
        if not mine:
            raise NotFound(
                "NO_EMPLOYMENT", "no period of this employer covers this worker on that date"
            )
        return min(mine, key=lambda p: p.period_id)

    def student_balance(self, caller: Caller, parent: str, insz: str, year: int) -> StudentBalance:
        """For one of the worker's employers (or its bureau)."""
        access.require_declarant(caller)
        employer = parse_parent(parent)
        insz = _insz("insz", insz)
        year = _year(year)
        with self._read() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            if not unit.periods.employed_by(employer, insz):
                raise PermissionDenied(
                    "NOT_WORKERS_EMPLOYER", "the employer has declared no period of this worker"
                )
            periods = unit.periods.of_worker(insz)
            actuals = unit.actuals.of_workers([insz], year).get(insz, [])
        return balance(insz, year, periods, actuals)

    def worker_student_balance(self, insz: str, year: int) -> StudentBalance:
        """A consultation (through the router)."""
        insz = _insz("insz", insz)
        year = _year(year)
        with self._read() as unit:
            periods = unit.periods.of_worker(insz)
            actuals = unit.actuals.of_workers([insz], year).get(insz, [])
        return balance(insz, year, periods, actuals)

    def list_events(
        self, caller: Caller, after: int, page_size: int
    ) -> tuple[list[EmploymentEvent], int]:
        access.require_event_reader(caller)
        if after < 0:
            raise InvalidArgument.for_fields(
                [FieldViolation("after_sequence", "not negative", "INVALID_AFTER_SEQUENCE")]
            )
        limit = tokens.page_size(page_size, default=100, maximum=MAX_EVENTS)
        with self._read() as unit:
            last = unit.events.last_sequence()
            return unit.events.list(after, limit), last


def balance(
    insz: str, year: int, periods: Sequence[Period], actuals: Sequence[StudentActual] = ()
) -> StudentBalance:
    """The student's minutes of a year per quarter, every employer, as the quota counter counts
    them (checks.student_counter: recorded actual minutes, else the planned ones)."""
    counter = student_counter(year, periods, actuals)
    return StudentBalance(
        insz=insz,
        year=year,
        quota_hours=student_quota_hours(year),
        used_minutes=counter.used,
        quarter_minutes=(
            counter.quarter(1),
            counter.quarter(2),
            counter.quarter(3),
            counter.quarter(4),
        ),
    )
