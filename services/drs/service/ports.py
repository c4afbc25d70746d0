"""What the DRS's rules need from storage and from the network.

Storage (`drs.storage`, or in-memory fakes in unit tests): repositories that never commit,
grouped in a unit of work that commits when its block ends and rolls back on any exception —
the attestation queue (runtime.outbox's table) included, so that an attestation exists if and
only if its declaration does. The network (`drs.transport.router_client`): the register,
DIMONA and the DmfA, through the router only (never another service's database).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from drs.service.model import (
    Attestation,
    Declaration,
    Employer,
    Employment,
    Insurer,
    QuarterPay,
    Scenario,
    Task,
    Worker,
)
from runtime.errors import ConflictError  # noqa: F401 - storage's lost race, re-exported


class EmployerRepository(Protocol):
    def get(self, onss_number: str) -> Employer | None: ...

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool: ...


class InsurerRepository(Protocol):
    def get(self, kbo: str) -> Insurer | None: ...


class DeclarationRepository(Protocol):
    def by_reference(self, employer: str, reference: str) -> Declaration | None: ...

    def add(self, declaration: Declaration) -> Declaration:
        """Store a declaration with its anomalies; returns it with its id. A second one with the
        same (employer, reference) raises ConflictError (when the unit ends at the latest)."""
        ...

    def newest(self, employer: str, before_id: int | None, limit: int) -> list[Declaration]:
        """The employer's declarations, newest first (by id), with the attestations' status."""
        ...

    def of_worker(self, insz: str, before_id: int | None, limit: int) -> list[Declaration]:
        """The worker's declarations (every employer's), newest first (by id), with the
        attestations' status."""
        ...


class TaskRepository(Protocol):
    def get(self, employer: str, task_id: str) -> Task | None: ...

    def oldest_open(self, employer: str, insz: str, scenario: Scenario) -> Task | None: ...

    def lock(self, task_id: str) -> Task | None:
        """The task, locked until the unit ends (a second answer waits, then sees it DONE)."""
        ...

    def mark_done(self, task_id: str, declaration_reference: str) -> None: ...

    def by_request(self, requested_by: str, request_id: str) -> Task | None: ...

    def add(self, task: Task) -> Task:
        """A second one with the same (requester, request id) raises ConflictError."""
        ...

    def page(self, employer: str, after: tuple[int, int] | None, limit: int) -> list[Task]:
        """Open tasks first, then by request order; `after` = (state rank, seq) of the last
        task of the previous page."""
        ...


class AttestationQueue(Protocol):
    def enqueue(self, attestation: Attestation) -> None:
        """Queue it for delivery, in this unit's transaction."""
        ...


class DrsUnit(Protocol):
    employers: EmployerRepository
    insurers: InsurerRepository
    declarations: DeclarationRepository
    tasks: TaskRepository
    attestations: AttestationQueue


UnitFactory = Callable[[], AbstractContextManager[DrsUnit]]


class Network(Protocol):
    """The register, DIMONA and the DmfA through the router, as the ONSS (legal context
    `social-risks.declaration`), each call with the risk date as its reference date. Each
    raises runtime.errors.Unavailable when the answer cannot be had now, and a
    FailedPrecondition with the router's reason when the person is refused (PERSON_NOT_FOUND,
    PERSON_REPLACED, PERSON_DECEASED)."""

    def employment(self, insz: str, employer: str, on: dt.date) -> Employment | None:
        """The worker's Dimona period with this employer covering `on`; None when none does."""
        ...

    def worker(self, insz: str, on: dt.date) -> Worker: ...

    def quarters(
        self, insz: str, employer: str, on: dt.date, max_quarters: int
    ) -> list[QuarterPay]:
        """The closed quarters before `on`'s quarter with this employer, newest first."""
        ...


#: Asks the inboxes now whether the named attestations were acknowledged (Dispatcher.refresh);
#: returns how many changed.
Refresh = Callable[[Sequence[str]], int]
