"""The registry's person cache: served only while the mutation counter has not moved."""

from __future__ import annotations

from registry.service.cache import PersonCache


def _person() -> object:
    return object()  # any answer: the cache does not look inside


def test_entry_is_served_when_counter_has_not_moved() -> None:
    cache = PersonCache()
    person = _person()
    cache.put("85071412330", 7, person)
    assert cache.get("85071412330", 7) is person


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
