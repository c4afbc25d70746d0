"""Integrating the members in the reference directory at the hub, once each.

The mutuality remembers which affiliations it has integrated (`integrated_at`): a run sends only
the others, in batches, and marks each batch after the hub has taken it. The hub integrates them
at the primary router first (under its own identity), so a batch the primary refuses is stored
nowhere and sent again next time. Idempotent at the hub too (an entry already there is
"unchanged").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from mutuality.service.model import Affiliation
from runtime.clock import Clock

BATCH = 1000  # the directory's largest batch


class PendingRepository(Protocol):
    def not_integrated(self, limit: int) -> list[Affiliation]: ...
    def mark_integrated(self, affiliations: Sequence[Affiliation], at: object) -> None: ...


class IntegrationUnit(Protocol):
    affiliations: PendingRepository


class HubDirectory(Protocol):
    """The hub router's directory, as this mutuality: returns (added, unchanged)."""

    def register(self, affiliations: Sequence[Affiliation]) -> tuple[int, int]: ...


@dataclass(frozen=True)
class IntegrationReport:
    sent: int
    added: int
    unchanged: int


def integrate(
    unit: Callable[[], AbstractContextManager[IntegrationUnit]],
    hub: HubDirectory,
    clock: Clock,
) -> IntegrationReport:
    """Send every affiliation not integrated yet to the hub; raises what the hub raises."""
    sent = added = unchanged = 0
    while True:
        with unit() as u:
            batch = u.affiliations.not_integrated(BATCH)
        if not batch:
            return IntegrationReport(sent, added, unchanged)
        a, n = hub.register(batch)
        with unit() as u:
            u.affiliations.mark_integrated(batch, clock.now())
        sent, added, unchanged = sent + len(batch), added + a, unchanged + n
