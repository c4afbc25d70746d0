"""What the mutation service needs from the outside: sources, the directory, its storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from mutation.service.model import Grant, Holder, Lag, Page, Position
from runtime.outbox import OutgoingAttestation


class SourceUnavailable(Exception):
    """A source or the router could not be read now (a transient failure; retried)."""

    def __init__(self, what: str, code: str) -> None:
        super().__init__(f"{what}: {code}")
        self.what, self.code = what, code


class EventSource(Protocol):
    """A numbered event log read through gRPC."""

    name: str

    def read(self, after: int, limit: int) -> Page: ...


class HolderDirectory(Protocol):
    """The router's reference directory, as the fan-out asks it."""

    def holders(
        self, queries: Sequence[tuple[str, dt.date, dt.date]]
    ) -> list[tuple[int, Holder]]: ...

    def move(self, old_insz: str, new_insz: str) -> int: ...


class MutationUnit(Protocol):
    """One transaction over the mutation service's database."""

    def position(self, source: str) -> Position: ...
    def advance(self, source: str, expected: int, to: int, source_last: int) -> None: ...
    def grants(self, institution: str | None = None) -> list[Grant]: ...
    def add_grant(self, grant: Grant) -> None: ...
    def subscriptions(self) -> dict[str, frozenset[str]]: ...
    def set_subscription(self, institution: str, event_types: Sequence[str]) -> None: ...
    def enqueue(self, attestations: Sequence[OutgoingAttestation]) -> None: ...
    def positions(self) -> list[Position]: ...
    def lags(self) -> list[Lag]: ...


class UnitFactory(Protocol):
    def __call__(self, *, write: bool = True) -> AbstractContextManager[MutationUnit]: ...
