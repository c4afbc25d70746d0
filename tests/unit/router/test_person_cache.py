"""The router's person-status cache: used only while its mutation feed is fresh."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
import pytest

from cbss.registry.v1 import registry_pb2
from router.service.model import PersonStatus
from router.transport.person_cache import CachingPersonRegistry

ALIVE, OTHER, UNKNOWN = "85071412330", "03020100274", "06070500252"


@dataclass
class Inner:
    calls: list[list[str]] = field(default_factory=list)
    dead: set[str] = field(default_factory=set)

    def statuses(self, inszs, ticket: str) -> dict[str, PersonStatus]:
        self.calls.append(list(inszs))
        return {i: PersonStatus(exists=i != UNKNOWN, deceased=i in self.dead) for i in inszs}


@dataclass
class Feed:
    events: list[registry_pb2.MutationEvent] = field(default_factory=list)
    down: bool = False

    def ListMutationEvents(self, request, timeout: float):  # noqa: N802, ANN001, ANN201
        if self.down:
            raise FakeRpcError()
        after = [e for e in self.events if e.sequence > request.after_sequence]
        last = self.events[-1].sequence if self.events else 0
        return registry_pb2.ListMutationEventsResponse(
            events=after[: request.page_size or 100], last_sequence=last
        )


class FakeRpcError(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


@pytest.fixture
def parts():
    inner, feed = Inner(), Feed()
    cache = CachingPersonRegistry(inner, grpc.insecure_channel("localhost:1"), max_staleness=60)
    cache._events = feed  # the feed the cache reads, faked
    cache._read_events()  # first read: starts from the feed's current end
    cache._fresh_at = __import__("time").monotonic()
    return cache, inner, feed


def test_known_person_is_answered_from_cache_when_feed_is_fresh(parts) -> None:
    cache, inner, _ = parts
    assert cache.statuses([ALIVE], "t")[ALIVE].exists
    assert cache.statuses([ALIVE, OTHER], "t")[ALIVE].exists
    assert inner.calls == [[ALIVE], [OTHER]]


def test_unknown_person_is_never_cached_when_register_does_not_know_it(parts) -> None:
    cache, inner, _ = parts
    cache.statuses([UNKNOWN], "t")
    cache.statuses([UNKNOWN], "t")
    assert inner.calls == [[UNKNOWN], [UNKNOWN]]


def test_death_event_evicts_the_person_when_feed_is_read(parts) -> None:
    cache, inner, feed = parts
    cache.statuses([ALIVE], "t")
    inner.dead.add(ALIVE)
    feed.events.append(
        registry_pb2.MutationEvent(
            sequence=1, insz=ALIVE, kind=registry_pb2.MUTATION_KIND_DEATH_RECORDED
        )
    )
    cache._read_events()
    assert cache.statuses([ALIVE], "t")[ALIVE].deceased


def test_replacement_event_clears_everything_when_feed_is_read(parts) -> None:
    cache, inner, feed = parts
    cache.statuses([ALIVE, OTHER], "t")
    feed.events.append(
        registry_pb2.MutationEvent(
            sequence=1, insz=OTHER, kind=registry_pb2.MUTATION_KIND_INSZ_REPLACED
        )
    )
    cache._read_events()
    cache.statuses([ALIVE, OTHER], "t")
    assert inner.calls[-1] == [ALIVE, OTHER]


def test_register_is_asked_every_time_when_feed_is_stale(parts) -> None:
    cache, inner, feed = parts
    cache.statuses([ALIVE], "t")
    cache._fresh_at -= 120  # last successful read two minutes ago (bound: 60 s)
    cache.statuses([ALIVE], "t")
    cache.statuses([ALIVE], "t")
    assert inner.calls == [[ALIVE], [ALIVE], [ALIVE]]


def test_fill_is_dropped_when_an_eviction_raced_it(parts) -> None:
    cache, inner, feed = parts
    original = inner.statuses

    def racing(inszs, ticket):  # a death recorded while the register was being asked
        answer = original(inszs, ticket)
        feed.events.append(
            registry_pb2.MutationEvent(
                sequence=1, insz=ALIVE, kind=registry_pb2.MUTATION_KIND_DEATH_RECORDED
            )
        )
        cache._read_events()
        return answer

    inner.statuses = racing  # type: ignore[method-assign]
    cache.statuses([ALIVE], "t")
    inner.statuses = original  # type: ignore[method-assign]
    cache.statuses([ALIVE], "t")
    assert len(inner.calls) == 2  # the racing answer was not kept
