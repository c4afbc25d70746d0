"""What the registry's rules need from storage: repositories and the unit of work.

Implemented by `registry.storage` over SQL, and by in-memory fakes in the unit tests.
Repositories never commit; the unit of work (one per call) commits when its block ends and rolls
back on any exception, so a refused change writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from registry.service.model import (
    AddressPeriod,
    InszKind,
    MutationEvent,
    NumberStatus,
    PartialDate,
    PersonRecord,
    PersonSummary,
)
from registry.service.tokens import Position, SearchFilters
from runtime.errors import ConflictError  # noqa: F401 - storage's lost race, re-exported


@dataclass(frozen=True)
class SearchHit:
    """A search result and its position in the search order."""

    position: Position
    person: PersonSummary


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first answer to a (caller, request_id), kept to answer retries the same way."""

    caller: str
    request_id: str
    operation: str
    fingerprint: str
    result: dict[str, Any]
    created_at: dt.datetime


class PersonRepository(Protocol):
    def get(self, insz: str) -> PersonRecord | None: ...

    def get_with_replaced(self, insz: str) -> tuple[PersonRecord | None, list[str]]:
        """The person, and the numbers it replaced (sorted), in one read."""
        ...

    def get_many(self, inszs: Sequence[str]) -> dict[str, PersonRecord]:
        """The persons among `inszs` that exist, by INSZ."""
        ...

    def lock(self, insz: str) -> PersonRecord | None:
        """Like `get`, and holds the person's row until the unit of work ends."""
        ...

    def exists(self, insz: str) -> bool: ...

    def add(self, person: PersonRecord, addresses: Sequence[AddressPeriod] = ()) -> None: ...

    def current_address(self, insz: str) -> AddressPeriod | None: ...

    def address_on(self, insz: str, day: dt.date) -> AddressPeriod | None: ...

    def address_history(self, insz: str) -> list[AddressPeriod]: ...

    def replaces(self, insz: str) -> list[str]: ...

    def end_current_address(self, insz: str, end: dt.date) -> None: ...

    def add_address(self, insz: str, period: AddressPeriod) -> None: ...

    def set_name(
        self, insz: str, last_name: str, first_names: tuple[str, ...], since: dt.date
    ) -> None: ...

    def set_death(self, insz: str, date: dt.date, place: str) -> None: ...

    def replace(self, old: str, new: str, new_kind: InszKind) -> None:
        """Move the person from `old` to `new` (a fresh row with the same data and addresses);
        `old`, and every number that pointed to it, now point to `new`."""
        ...

    def numbers_with_prefix(self, prefix: str) -> list[str]:
        """Every number (any state) whose first digits are `prefix`."""
        ...

    def find_likely(
        self, last_name_norm: str, first_names_norm: str, birth_date: PartialDate
    ) -> str | None:
        """The lowest current (not replaced) number with these normalised names and birth date."""
        ...

    def search(
        self, filters: SearchFilters, after: Position | None, limit: int
    ) -> list[SearchHit]: ...

    def list_statuses(self, after: str, limit: int) -> list[NumberStatus]:
        """Up to `limit` numbers greater than `after` (any state), in INSZ order."""
        ...


class EventRepository(Protocol):
    def lock(self) -> None:
        """Serialise with every other writer of events until the unit of work ends."""
        ...

    def next_sequence(self) -> int:
        """Take the next sequence number (undone by a rollback: no gaps)."""
        ...

    def last_sequence(self) -> int: ...

    def add(self, event: MutationEvent) -> None: ...

    def get(self, sequence: int) -> MutationEvent | None: ...

    def list(self, after: int, upto: int, limit: int) -> list[MutationEvent]: ...


class IdempotencyRepository(Protocol):
    def get(self, caller: str, request_id: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None: ...


class RegistryUnit(Protocol):
    """What the service sees of one transaction."""

    persons: PersonRepository
    events: EventRepository
    idempotency: IdempotencyRepository


UnitFactory = Callable[[], AbstractContextManager[RegistryUnit]]
