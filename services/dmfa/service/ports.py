"""What the DmfA's rules need from storage and from the network.

Storage (`dmfa.storage`, or in-memory fakes in unit tests): repositories that never commit,
grouped in a unit of work that commits when its block ends and rolls back on any exception.
The network (`dmfa.transport.router_client`): the register and DIMONA, through the router only
(never another service's database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from dmfa.service.model import (
    Anomaly,
    DeclarationEvent,
    DeclarationSummary,
    DeclaredWorker,
    DimonaPeriod,
    Employer,
    EmployerQuarter,
    EventKind,
    PersonCheck,
    Quarter,
    StudentBalance,
    Version,
)
from runtime.errors import ConflictError  # noqa: F401 - storage's lost race, re-exported


@dataclass(frozen=True)
class DeclarationState:
    """Where a declaration stands: versions so far and the current accepted one."""

    version_count: int = 0
    current: int | None = None


@dataclass(frozen=True)
class QuotaUpdate:
    """Students' actual minutes to record in DIMONA's quota counter (an outbox row)."""

    id: int
    employer: str
    quarter: Quarter
    entries: tuple[tuple[str, int], ...]  # (INSZ, minutes)
    source: str
    attempts: int


class EmployerRepository(Protocol):
    def get(self, onss_number: str) -> Employer | None: ...

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool: ...


class VersionRepository(Protocol):
    def lock(self, employer: str, quarter: Quarter) -> DeclarationState:
        """Serialise with every other submission about this declaration until the unit ends
        (creates the declaration's row when it is new)."""
        ...

    def state(self, employer: str, quarter: Quarter) -> DeclarationState: ...

    def by_reference(self, employer: str, reference: str) -> Version | None: ...

    def get(self, employer: str, quarter: Quarter, number: int) -> Version | None: ...

    def add(
        self, version: Version, workers: Sequence[DeclaredWorker], anomalies: Sequence[Anomaly]
    ) -> Version:
        """Store a version with its workers and anomalies; returns it with its id."""
        ...

    def supersede(self, employer: str, quarter: Quarter, number: int, by: int) -> None: ...

    def of_declaration(
        self, employer: str, quarter: Quarter, after: int, limit: int
    ) -> list[Version]: ...

    def declarations(
        self, employer: str, before: Quarter | None, limit: int
    ) -> list[DeclarationSummary]: ...

    def workers(self, version_id: int, after: str, limit: int) -> list[DeclaredWorker]: ...


class WorkerQuarterRepository(Protocol):
    def replace(
        self,
        employer: str,
        quarter: Quarter,
        version: Version,
        workers: Sequence[DeclaredWorker],
        student_minutes: dict[str, int],
    ) -> dict[str, int]:
        """Make `version` the employer's quarter for every worker; returns the student minutes
        the previous current version had recorded (INSZ -> minutes)."""
        ...

    def of_worker(self, insz: str, quarter: Quarter) -> list[EmployerQuarter]: ...

    def of_worker_with(
        self, insz: str, employer: str, before: Quarter, limit: int
    ) -> list[tuple[Quarter, EmployerQuarter]]:
        """The worker's quarters with one employer before `before`, newest first."""
        ...


class EventRepository(Protocol):
    def append(
        self,
        kind: EventKind,
        version: Version,
        superseded: int | None,
        at: dt.datetime,
    ) -> int: ...

    def after(self, sequence: int, limit: int) -> tuple[list[DeclarationEvent], int]: ...


class QuotaOutbox(Protocol):
    def add(
        self,
        employer: str,
        quarter: Quarter,
        entries: dict[str, int],
        source: str,
        now: dt.datetime,
    ) -> None: ...

    def due(self, now: dt.datetime, limit: int) -> list[QuotaUpdate]: ...

    def done(self, update_id: int, now: dt.datetime) -> None: ...

    def retry(self, update_id: int, at: dt.datetime, error: str) -> None: ...

    def fail(self, update_id: int, now: dt.datetime, error: str) -> None: ...


class DmfaUnit(Protocol):
    employers: EmployerRepository
    versions: VersionRepository
    worker_quarters: WorkerQuarterRepository
    events: EventRepository
    quota: QuotaOutbox


UnitFactory = Callable[[], AbstractContextManager[DmfaUnit]]


class Network(Protocol):
    """The register and DIMONA, through the router (as the ONSS, legal context
    `social-security.contributions`). Each raises runtime.errors.Unavailable when the answer
    cannot be had now."""

    def persons(self, inszs: Sequence[str]) -> dict[str, PersonCheck]:
        """The register's word on each (valid) INSZ."""
        ...

    def periods(self, employer: str, quarter: Quarter) -> list[DimonaPeriod]:
        """The employer's accepted, not cancelled Dimona periods overlapping the quarter."""
        ...

    def student_balances(
        self, employer: str, quarter: Quarter, inszs: Sequence[str]
    ) -> dict[str, StudentBalance]: ...

    def record_student_hours(
        self, employer: str, quarter: Quarter, entries: Sequence[tuple[str, int]], source: str
    ) -> None:
        """Raises runtime.errors.Unavailable (retry later) or another ServiceError (refused
        for good)."""
        ...
