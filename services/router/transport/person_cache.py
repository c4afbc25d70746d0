"""Person statuses kept by the router, fresh within a bound, fed by the register's mutations.

Asking the National Register about every subject of every message cost more than the rest of
the route (measured with `make bench`: the register answered two calls per routed message). The
router therefore keeps the statuses of the persons it has seen, the way the CBSS keeps the
register's data it needs, and follows the register's mutation events
(`RegistryService.ListMutationEvents`, read through gRPC from the last sequence taken):

- only persons that exist are cached (a number unknown now may be registered a moment later);
- a death evicts that person; a number replacement clears everything (replacements re-point
  older numbers, and are rare);
- freshness is bounded: the events are read every `poll_seconds`, and when the last successful
  read is older than `max_staleness` (the register is unreachable, say) the cache is not used at
  all — every check asks the register again, as without a cache (fail closed).

So a death or a replacement recorded in the register is seen by the router's checks within
`max_staleness` (1 s by default); `PERSON_CACHE_SECONDS=0` turns the cache off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

import grpc

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from router.service.model import PersonStatus
from router.service.ports import PersonRegistry

logger = logging.getLogger(__name__)

_EVICTING = {registry_pb2.MUTATION_KIND_DEATH_RECORDED}
_CLEARING = {registry_pb2.MUTATION_KIND_INSZ_REPLACED}


class CachingPersonRegistry:
    """A PersonRegistry that remembers existing persons while the mutation feed is fresh."""

    def __init__(
        self,
        inner: PersonRegistry,
        channel: grpc.Channel,
        *,
        max_staleness: float = 1.0,
        poll_seconds: float = 0.2,
        capacity: int = 200_000,
    ) -> None:
        self._inner = inner
        self._events = registry_pb2_grpc.RegistryServiceStub(channel)
        self._max_staleness = max_staleness
        self._poll = poll_seconds
        self._capacity = capacity
        self._cache: OrderedDict[str, PersonStatus] = OrderedDict()
        self._lock = threading.Lock()
        self._after: int | None = None  # last sequence taken; None until the first read
        self._fresh_at = 0.0  # monotonic time of the last successful read
        self._generation = 0  # bumped by every eviction, so a racing fill is dropped
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="person-cache", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the poller (so that nothing is logged after the router's
        last words: a call cut by the closing channel is not an unreachable feed)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def fresh(self) -> bool:
        return time.monotonic() - self._fresh_at <= self._max_staleness

    def statuses(self, inszs: Iterable[str], ticket: str) -> dict[str, PersonStatus]:
        wanted = list(dict.fromkeys(inszs))
        if not self.fresh():
            return self._inner.statuses(wanted, ticket)
        found: dict[str, PersonStatus] = {}
        with self._lock:
            for insz in wanted:
                status = self._cache.get(insz)
                if status is not None:
                    found[insz] = status
        missing = [i for i in wanted if i not in found]
        if missing:
            generation = self._generation
            answered = self._inner.statuses(missing, ticket)
            found.update(answered)
            with self._lock:
                if generation == self._generation:  # no eviction happened meanwhile
                    for insz, status in answered.items():
                        if status.exists:
                            self._cache[insz] = status
                    while len(self._cache) > self._capacity:
                        self._cache.popitem(last=False)
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_events()
                self._fresh_at = time.monotonic()
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    break  # the router is stopping: its channels close under the poller
                logger.warning("mutation feed unreachable (%s): person cache bypassed", exc.code())  # type: ignore[attr-defined]
            self._stop.wait(self._poll)

    def _read_events(self) -> None:
        if self._after is None:
            reply = self._events.ListMutationEvents(
                registry_pb2.ListMutationEventsRequest(after_sequence=0, page_size=1), timeout=5
            )
            self._after = reply.last_sequence  # start from now: the cache is empty
            return
        while True:
            reply = self._events.ListMutationEvents(
                registry_pb2.ListMutationEventsRequest(after_sequence=self._after, page_size=1000),
                timeout=5,
            )
            with self._lock:
                for event in reply.events:
                    if event.kind in _CLEARING:
                        self._cache.clear()
                        self._generation += 1
                    elif event.kind in _EVICTING:
                        self._cache.pop(event.insz, None)
                        self._generation += 1
                    self._after = event.sequence
            if not reply.events or self._after >= reply.last_sequence:
                return
