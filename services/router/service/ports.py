"""What the router's rules need from the outside world (implemented in storage/ and transport/)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from router.service.model import Capacity, ConfigSnapshot, PersonStatus


class ConfigSource(Protocol):
    def snapshot(self) -> ConfigSnapshot:
        """The current configuration; cheap when nothing changed since the last call."""
        ...


class DirectoryReader(Protocol):
    def holdings(
        self, institution: str, inszs: Sequence[str], on: dt.date
    ) -> dict[str, set[Capacity]]:
        """For each INSZ, the capacities in which `institution` holds it on `on`."""
        ...


class HolderDirectory(Protocol):
    def holders(self, inszs: Sequence[str], on: dt.date) -> dict[str, set[tuple[str, Capacity]]]:
        """For each INSZ, the (institution, capacity) pairs that hold it on `on`."""
        ...


class PersonRegistry(Protocol):
    def statuses(self, inszs: Iterable[str], ticket: str) -> dict[str, PersonStatus]:
        """What the National Register says of each INSZ (raises Unavailable when unreachable)."""
        ...
