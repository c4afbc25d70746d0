"""The registry's person cache: served only while the mutation counter has not moved."""

from __future__ import annotations

import datetime as dt
import gc

from registry.service.cache import PersonCache
from registry.service.model import PartialDate


def _person() -> object:
    # Any picklable answer: the cache does not look inside.
    return {"insz": "85071412330", "born": PartialDate(1985, 7, 14), "names": ["Anna"]}


def test_entry_is_served_when_counter_has_not_moved() -> None:
    cache = PersonCache()
    person = _person()
    cache.put("85071412330", 7, person)
    assert cache.get("85071412330", 7) == person


def test_each_hit_is_the_callers_own_copy() -> None:
    cache = PersonCache()
    cache.put("85071412330", 7, _person())
    first = cache.get("85071412330", 7)
    first["names"].append("changed by a caller")
    assert cache.get("85071412330", 7) == _person()


def test_entries_are_out_of_the_garbage_collectors_walk() -> None:
    """A full collection walks every tracked object: a cached answer (pickled) and a key of
    plain values are not tracked once the collector has seen them."""
    cache = PersonCache()
    for i in range(100):
        cache.put((f"8507141{i:04d}", ("address", "identity"), dt.date(2026, 1, 1)), 7, _person())
    gc.collect()
    gc.collect()  # the collector untracks what it finds untrackable as it passes
    held = [o for o in gc.get_referents(cache._entries) if gc.is_tracked(o)]
    assert held == []


def test_entry_is_dropped_when_counter_moved() -> None:
    cache = PersonCache()
    cache.put("85071412330", 7, _person())
    assert cache.get("85071412330", 8) is None
    assert cache.get("85071412330", 7) is None  # gone, not kept for an older counter


def test_oldest_entry_is_evicted_when_capacity_is_reached() -> None:
    cache = PersonCache(capacity=2)
    for insz in ("a", "b", "c"):
        cache.put(insz, 1, _person())
    assert cache.get("a", 1) is None and cache.get("c", 1) is not None
