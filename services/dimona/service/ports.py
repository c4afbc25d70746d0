"""What DIMONA's rules need from storage and from the network.

Storage (`dimona.storage`, or in-memory fakes in the unit tests): repositories that never
commit, grouped in a unit of work that commits when its block ends and rolls back on any
exception. The network (`dimona.transport.router_client`): the worker's identity and the
reference directory, both through the router.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from dimona.service.model import (
    Declaration,
    Employer,
    EmploymentEvent,
    Identification,
    Period,
    StudentActual,
)
from runtime.errors import ConflictError  # noqa: F401 - storage's lost race, re-exported


class EmployerRepository(Protocol):
    def get(self, onss_number: str) -> Employer | None: ...

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        """Does `bureau` (a KBO number) hold a mandate of `employer` valid on `on`?"""
        ...


class PeriodRepository(Protocol):
    def lock_worker(self, insz: str) -> None:
        """Serialise with every other declaration about this worker until the unit ends."""
        ...

    def get(self, period_id: int) -> Period | None: ...

    def of_worker(self, insz: str) -> list[Period]:
        """Every active (not cancelled) period of the worker, any employer."""
        ...

    def add(self, period: Period) -> Period:
        """Store a new period (its `period_id` is ignored); returns it with its id."""
        ...

    def update(self, period: Period) -> None: ...

    def by_employer(
        self, employer: str, worker: str | None, after_id: int, limit: int
    ) -> list[Period]:
        """The employer's periods (cancelled included) with id > after_id, by id."""
        ...

    def by_worker(
        self,
        insz: str,
        start: dt.date | None,
        end: dt.date | None,
        after: tuple[dt.date, int] | None,
        limit: int,
    ) -> list[Period]:
        """The worker's active periods overlapping [start, end], by (start date, id)."""
        ...

    def for_workers(self, inszs: Sequence[str]) -> dict[str, list[Period]]:
        """Active periods of several workers (the directory dispatcher)."""
        ...

    def employed_by(self, employer: str, insz: str) -> bool:
        """Has the employer an active period of this worker?"""
        ...

    def in_quarter(
        self, employer: str, first: dt.date, last: dt.date, after_id: int, limit: int
    ) -> list[Period]:
        """The employer's active periods with id > after_id whose days meet [first, last], by
        id (one statement: the DmfA reads a large employer's quarter page by page)."""
        ...

    def student_periods(self, inszs: Sequence[str], year: int) -> dict[str, list[Period]]:
        """Active student periods (student minutes > 0) of several workers starting in `year`."""
        ...


class StudentActualRepository(Protocol):
    def of_workers(self, inszs: Sequence[str], year: int) -> dict[str, list[StudentActual]]:
        """The actual minutes recorded for these workers in `year`, every employer."""
        ...

    def record(self, actuals: Sequence[StudentActual]) -> None:
        """Insert or replace each (employer, worker, year, quarter)'s figure."""
        ...


class DeclarationRepository(Protocol):
    def get(self, employer: str, reference: str) -> Declaration | None: ...

    def add(self, declaration: Declaration) -> None: ...


class EventRepository(Protocol):
    def next_sequence(self) -> int:
        """Take the next sequence number (undone by a rollback: no gaps)."""
        ...

    def last_sequence(self) -> int: ...

    def add(self, event: EmploymentEvent) -> None: ...

    def list(self, after: int, limit: int) -> list[EmploymentEvent]: ...


@dataclass(frozen=True)
class DirectoryInterval:
    """A directory entry ONSS keeps at the router for a worker: capacity 1/1 over a period."""

    start: dt.date
    end: dt.date | None


class OutboxRepository(Protocol):
    def add(self, insz: str) -> None:
        """Note that the worker's directory entries must be brought up to date."""
        ...

    def last_id(self) -> int:
        """The highest row id pending (0 when none)."""
        ...

    def pending(self, limit: int) -> list[tuple[int, str]]:
        """(outbox id, worker) rows, oldest first."""
        ...

    def delete_handled(self, inszs: Sequence[str], last_id: int) -> None:
        """Delete these workers' rows up to `last_id` (they were handled)."""
        ...

    def mirror(self, inszs: Sequence[str]) -> dict[str, list[DirectoryInterval]]:
        """What was last registered at the router for these workers."""
        ...

    def set_mirrors(self, intervals: Mapping[str, Sequence[DirectoryInterval]]) -> None:
        """Replace the mirror of each worker given."""
        ...


class DimonaUnit(Protocol):
    """What the rules see of one transaction."""

    employers: EmployerRepository
    periods: PeriodRepository
    declarations: DeclarationRepository
    events: EventRepository
    outbox: OutboxRepository
    actuals: StudentActualRepository

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception in the block undoes only the block (a lost race
        raises ConflictError)."""
        ...


UnitFactory = Callable[[], AbstractContextManager[DimonaUnit]]


class PersonOutcome(enum.Enum):
    """What the register says of a worker's INSZ (through the router)."""

    ACTIVE = "ACTIVE"
    NOT_FOUND = "NOT_FOUND"
    REPLACED = "REPLACED"
    DECEASED = "DECEASED"


@dataclass(frozen=True)
class PersonCheck:
    outcome: PersonOutcome
    replaced_by: str = ""


class IdentificationRefused(Exception):
    """The registry refused to find or register a worker from his identification data (a
    well-formed declaration whose data the registry does not accept): a blocking anomaly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerIdentity(Protocol):
    """The worker's identity, asked of the registry through the router as ONSS.

    Raises runtime.errors.Unavailable when the router or the registry cannot answer now.
    """

    def check(self, insz: str) -> PersonCheck: ...

    def identify(self, identification: Identification, request_id: str) -> str:
        """The INSZ of a worker declared without one: an existing person's, or a new BIS
        number. Raises IdentificationRefused when the registry refuses the data."""
        ...


class DirectoryPort(Protocol):
    """ONSS's entries in the router's reference directory (capacity 1/1).

    Raises runtime.errors.Unavailable when the router does not take them now.
    """

    def withdraw(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        """Remove entries (by worker and start date) entirely."""
        ...

    def end(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        """Set the end date of entries (by worker and start date)."""
        ...

    def register(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None: ...
