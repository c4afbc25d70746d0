"""GetPerson answers read recently, kept in memory and stamped with the mutation counter.

Every change to the register increments the one-row mutation counter in the same transaction
(it numbers the mutation events). A cached answer — keyed by INSZ, information types and
reference date — is served only when the counter still has the value it had when the answer was
read, so a hit is exactly as fresh as reading the database, on any number of registry
processes. One read of the counter replaces the person, replaced-numbers and address reads
(measured with `make bench`: GetPerson spent most of its CPU in those reads); a miss costs what
a read cost before, plus that counter read. Any change anywhere invalidates every entry.

Answers are kept pickled: a person's answer is a handful of objects (the record, its dates, its
addresses), each of which the garbage collector's full collections walk, with the GIL held —
at this cache's 100,000 entries, most of a million objects, a pause of a large part of a second
in every call in flight. A pickled answer is one `bytes`, which the collector does not track,
and the key is a tuple of plain values, which it stops tracking; a hit costs an unpickling
(≈ 10 µs) and hands the caller its own copy.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class PersonCache:
    """A bounded, thread-safe LRU map key -> (counter value, answer)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
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
            blob = entry[1]
        return pickle.loads(blob)  # noqa: S301 - our own answers, pickled by put() below

    def put(self, key: Hashable, version: int, answer: object) -> None:
        """`key`: plain values (str, int, date, and tuples of them), so that the collector
        stops tracking it."""
        blob = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries[key] = (version, blob)
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
