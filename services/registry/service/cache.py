"""GetPerson answers read recently, kept in memory and stamped with the mutation counter.

Every change to the register increments the one-row mutation counter in the same transaction
(it numbers the mutation events). A cached answer — keyed by INSZ, information types and
reference date — is served only when the counter still has the value it had when the answer was
read, so a hit is exactly as fresh as reading the database, on any number of registry
processes. One read of the counter replaces the person, replaced-numbers and address reads
(measured with `make bench`: GetPerson spent most of its CPU in those reads); a miss costs what
a read cost before, plus that counter read. Any change anywhere invalidates every entry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class PersonCache:
    """A bounded, thread-safe LRU map key -> (counter value, answer)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != version:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: int, answer: object) -> None:
        with self._lock:
            self._entries[key] = (version, answer)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
