"""The router's person-status index: exists / replaced / deceased per INSZ, kept in memory,
loaded from the National Register and fed by its mutation events.

Check (5) asks, for every subject of every routed message, whether the number exists, was
replaced or belongs to a deceased person. Asking the register per message cost more than the
rest of the route (`make bench`), so the router keeps every number's status:

- **Load.** At start, in the background, the index pages through
  `RegistryService.ListPersonStatuses` and takes the first page's `last_sequence` as its
  position; until the load is complete every check asks the register (`GetPersonStatuses`), as
  without an index. `rebuild()` (RouterAdminService.RebuildPersonIndex, `router.cli person-index
  rebuild`) loads a new snapshot the same way and swaps it in; the old one serves meanwhile.
- **Feed.** `ListMutationEvents` after the index's position, applied in place: a death marks the
  number deceased; a replacement marks the old number replaced by the new one, re-points the
  numbers that pointed to the old one, and makes the new one exist; a BIS registration makes the
  number exist; an event of a kind the router does not know drops the numbers it names (they
  are asked again). Pages of a snapshot may already reflect events after the position it
  replays from; each event's application converges, so the state after the replay is the
  register's whatever was recorded while the router paged.
- **Misses.** A number not in the index (unknown to the register, or added without an event,
  e.g. by `registry seed`) is asked to the register, and remembered when it exists — unless an
  event was applied meanwhile (the answer might predate it).

**Consistency rule (mode `strict`, the default): a check never sees the register as it was
before the check began.** Like Raft's ReadIndex: a check is answered from the index only after a
feed read that *started after the check began* has been applied (read up to the sequence the
register reported at that read). A death or replacement committed before a routed call arrives
is therefore seen by that call, with no delay. Concurrent checks share feed reads: while one
read is in flight, the checks arriving meanwhile wait for it and then share the next one, so
under load the register sees one small `ListMutationEvents` per batch of messages, not a
`GetPersonStatuses` per message. Each read has its own event: a check sleeps once, until the
read it needs has completed, and the first check to need the next read leads it as soon as
the one in flight completes. (One condition woken at every completion woke every waiting check
at each read, most of them to sleep again, and they queued on its lock: measured with `make
bench`, about three context switches per routed message.) When the feed read fails (register
unreachable, a rebuild swapped the index under it), the checks waiting for it ask the register
directly — and are refused `REGISTRY_UNAVAILABLE` when that fails too (fail closed).

**The lease** (registry.service.leases; strict mode, when the register grants one): the index
also follows the log on a `WatchMutationEvents` stream, applies events as the register records
them, acknowledges what it has applied and renews a lease every quarter of its length. While
the lease runs, the register acknowledges no death and no replacement this router has not
applied, so a check needs no feed read: the index already holds every such change acknowledged
before the check began — the same rule, proved on the (rare) write instead of on every check.
The lease counts from when the renewal was sent, shortened by `LEASE_SAFETY`. When no lease
runs (stream cut, register restarting, a rebuild just swapped the index, a register that does
not grant leases) checks fall back to the feed reads above; the poller reads only then.

Mode `bounded` (an option, `PERSON_INDEX=bounded`): a background poller reads the feed every
`poll_seconds`; checks are answered from the index without waiting while the last successful
read started less than `max_staleness` seconds ago, else they ask the register. A change is
then seen within that bound, not on the next call.

Memory: one dict entry per number (shared status objects for the living and the deceased); the
register's ≈ 12 million numbers would take a few GB in CPython — fine for the demonstration's
10,000, a compact store (e.g. a sorted array of numbers and a status byte) for production.
"""

from __future__ import annotations

import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from router.service.model import PersonStatus
from router.service.ports import PersonRegistry
from runtime.server import settle_heap

logger = logging.getLogger(__name__)

STRICT, BOUNDED = "strict", "bounded"
FEED_PAGE = 1000
TIMEOUT_SECONDS = 5.0
#: The share of a granted lease the router counts on: it starts when the renewal was sent, before
#: the register received it, and ends this much earlier again (clock rates may differ slightly).
LEASE_SAFETY = 0.9
#: How often the router asks to renew before the first grant told it the lease's length.
RENEW_SECONDS = 0.5
_ALIVE = PersonStatus(exists=True)
_DECEASED = PersonStatus(exists=True, deceased=True)
_K = registry_pb2


@dataclass(frozen=True)
class Loaded:
    """What a (re)build loaded."""

    numbers: int
    sequence: int


class FeedFailed(Exception):
    """A feed read that did not complete (register unreachable, or a rebuild swapped the index)."""


class PersonIndex:
    """A PersonRegistry answered from the index under the module's consistency rule."""

    def __init__(
        self,
        inner: PersonRegistry,
        channel: grpc.Channel,
        *,
        mode: str = STRICT,
        max_staleness: float = 1.0,
        poll_seconds: float = 1.0,
    ) -> None:
        if mode not in (STRICT, BOUNDED):
            raise ValueError(f"unknown person index mode {mode!r}")
        self._inner = inner
        self._stub = registry_pb2_grpc.RegistryServiceStub(channel)
        self._mode = mode
        self._max_staleness = max_staleness
        self._poll = poll_seconds
        self._cond = threading.Condition(threading.Lock())
        # -- guarded by _cond ----------------------------------------------------------------
        self._entries: dict[str, PersonStatus] = {}
        self._pointing: dict[str, set[str]] = {}  # current number -> numbers replaced by it
        self._sequence = 0  # the last event applied
        self._loaded = False
        self._epoch = 0  # bumped when a (re)build swaps the entries in
        self._generation = 0  # bumped by every event applied (a racing miss is not kept)
        self._started = 0  # feed reads started (numbered 1, 2, ...)
        self._completed = 0  # the highest feed read finished
        self._succeeded = 0  # the highest feed read that succeeded
        self._reading = False
        self._done: dict[int, threading.Event] = {}  # read number -> set when it completes
        self._leads: set[int] = set()  # read numbers a waiting check will lead
        self._fresh_from = -1e9  # bounded mode: when the last successful read started
        self._feed_down = False  # logged once per outage
        self._lease_until = -math.inf  # strict mode: checks need no feed read until then
        self._renewals = itertools.count(1)
        self._sent: dict[int, tuple[float, int]] = {}  # renewal -> (sent at, epoch)
        self._renew_every = RENEW_SECONDS
        self._watch: grpc.Future | None = None  # the WatchMutationEvents call in progress
        # ----------------------------------------------------------------------------------
        self._rebuilding = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="person-index", daemon=True)
        self._follower = threading.Thread(target=self._follow, name="person-watch", daemon=True)
        #: Counters for tests and operators: feed reads, registry fallbacks, checks answered
        #: under a lease.
        self.feed_reads = 0
        self.fallbacks = 0
        self.leased_checks = 0

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the loader / poller and wait for it (nothing is logged after the router's last
        line: a call cut by the closing channel is not an unreachable feed)."""
        self._stop.set()
        with self._cond:
            watch = self._watch
        if watch is not None:
            watch.cancel()
        for thread in (self._thread, self._follower):
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout=10)

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def sequence(self) -> int:
        return self._sequence

    @property
    def leased(self) -> bool:
        """Whether checks are answered now under the register's lease (strict mode)."""
        return time.monotonic() < self._lease_until

    def __len__(self) -> int:
        return len(self._entries)

    # -- the port ---------------------------------------------------------------------------
    def statuses(self, inszs: Iterable[str], ticket: str) -> dict[str, PersonStatus]:
        wanted = list(dict.fromkeys(inszs))
        looked_up = self._lookup(wanted)
        if looked_up is None:
            self.fallbacks += 1
            return self._inner.statuses(wanted, ticket)
        found, generation = looked_up
        if len(found) < len(wanted):
            missing = [i for i in wanted if i not in found]
            answered = self._inner.statuses(missing, ticket)
            found.update(answered)
            with self._cond:
                if generation == self._generation:  # no event applied meanwhile
                    for insz, status in answered.items():
                        if status.exists and insz not in self._entries:
                            self._put(insz, _shared(status))
        return found

    def _lookup(self, wanted: list[str]) -> tuple[dict[str, PersonStatus], int] | None:
        """What the index knows of `wanted` and its generation, or None when the index may not
        answer a check that begins now (the module's rule)."""
        if not self._loaded:
            return None
        with self._cond:
            if self._mode == BOUNDED:
                if time.monotonic() - self._fresh_from > self._max_staleness:
                    return None
            elif time.monotonic() < self._lease_until:
                self.leased_checks += 1  # no change acknowledged before now is missing
            else:
                needed = self._started + 1  # the first read to start after this check began
                self._await_read_locked(needed)
                if self._succeeded < needed:
                    return None
            entries = self._entries
            found = {}
            for insz in wanted:
                status = entries.get(insz)
                if status is not None:
                    found[insz] = status
            return found, self._generation

    # -- feed reads ---------------------------------------------------------------------------
    def _await_read_locked(self, needed: int) -> None:
        """Return once read number `needed` (or a later one) has completed (the caller holds
        _cond, released while it sleeps). No read in flight: lead one now. The read before
        `needed` in flight: the first check to come leads `needed` once it completes, the
        others sleep until `needed` completes."""
        leading = False
        while self._completed < needed:
            if not self._reading:
                self._round_locked()  # lead it (read `needed`), and serve everyone waiting
                continue
            if self._started >= needed:  # a read that counts is in flight
                done = self._event(self._started)
            elif leading or needed not in self._leads:
                self._leads.add(needed)
                leading = True
                done = self._event(self._started)  # then lead `needed`
            else:
                done = self._event(needed)
            self._cond.release()
            try:
                # Bounded: a wait that outlives a read's deadline finds out why on waking.
                done.wait(TIMEOUT_SECONDS + 1)
            finally:
                self._cond.acquire()

    def _event(self, number: int) -> threading.Event:
        done = self._done.get(number)
        if done is None:
            done = self._done[number] = threading.Event()
        return done

    def _round_locked(self) -> None:
        """Run one feed read (the caller holds _cond; released while the register answers)."""
        self._started += 1
        number, epoch, after = self._started, self._epoch, self._sequence
        self._reading = True
        began = time.monotonic()
        ok = False
        self._cond.release()
        try:
            self._read_feed(epoch, after)
            ok = True
        except FeedFailed:
            pass
        except grpc.RpcError as exc:
            if not self._stop.is_set() and not self._feed_down:
                self._feed_down = True
                code = exc.code()  # type: ignore[attr-defined]
                logger.warning("mutation feed unreachable (%s): checks ask the register", code)
        finally:
            self._cond.acquire()
            self._reading = False
            self._completed = number
            if ok:
                self._succeeded = number
                self._fresh_from = began
                if self._feed_down:
                    self._feed_down = False
                    logger.info("mutation feed read again: checks answered from the index")
            self._leads.discard(number)  # led by someone else (the poller), if it was promised
            done = self._done.pop(number, None)
            if done is not None:
                done.set()  # wakes exactly the checks waiting for this read

    def _read_feed(self, epoch: int, after: int) -> None:
        """Read and apply events after `after` up to the sequence the register reports now."""
        self.feed_reads += 1
        target: int | None = None
        while True:
            reply = self._stub.ListMutationEvents(
                registry_pb2.ListMutationEventsRequest(after_sequence=after, page_size=FEED_PAGE),
                timeout=TIMEOUT_SECONDS,
            )
            if target is None:
                target = reply.last_sequence
            with self._cond:
                if self._epoch != epoch:
                    raise FeedFailed()  # a rebuild swapped the index in meanwhile
                for event in reply.events:
                    after = event.sequence
                    if after > self._sequence:  # else the watch applied it first
                        self._apply(event)
                        self._sequence = after
            if not reply.events or after >= target:
                return

    def _apply(self, event: registry_pb2.MutationEvent) -> None:
        """One event, in place (the caller holds _cond)."""
        self._generation += 1
        kind, insz = event.kind, event.insz
        if kind == _K.MUTATION_KIND_DEATH_RECORDED:
            status = self._entries.get(insz)
            if status is None or not status.replaced_by:
                self._put(insz, _DECEASED)
            else:
                self._put(insz, PersonStatus(True, True, status.replaced_by))
        elif kind == _K.MUTATION_KIND_INSZ_REPLACED:
            new = event.after.insz.insz
            before = self._entries.get(insz)
            if new not in self._entries:
                dead = before is not None and before.deceased and not before.replaced_by
                self._put(new, _DECEASED if dead else _ALIVE)
            deceased = before is not None and before.deceased
            for number in [insz, *self._pointing.get(insz, ())]:
                self._put(number, PersonStatus(True, deceased, new))
        elif kind == _K.MUTATION_KIND_BIS_REGISTERED:
            if insz not in self._entries:
                self._put(insz, _ALIVE)
        elif kind in (_K.MUTATION_KIND_ADDRESS_CHANGED, _K.MUTATION_KIND_NAME_CHANGED):
            pass  # nothing a check looks at
        else:  # a kind this router does not know: forget what it names, ask the register
            for number in (insz, event.after.insz.insz, event.before.insz.insz):
                if number:
                    self._forget(number)

    def _put(self, insz: str, status: PersonStatus) -> None:
        previous = self._entries.get(insz)
        if previous is not None and previous.replaced_by:
            self._pointing.get(previous.replaced_by, set()).discard(insz)
        self._entries[insz] = status
        if status.replaced_by:
            self._pointing.setdefault(status.replaced_by, set()).add(insz)

    def _forget(self, insz: str) -> None:
        previous = self._entries.pop(insz, None)
        if previous is not None and previous.replaced_by:
            self._pointing.get(previous.replaced_by, set()).discard(insz)

    # -- snapshots ----------------------------------------------------------------------------
    def rebuild(self) -> Loaded:
        """Load a new snapshot from the register and swap it in (one rebuild at a time)."""
        with self._rebuilding:
            entries: dict[str, PersonStatus] = {}
            pointing: dict[str, set[str]] = {}
            position: int | None = None
            token = ""
            while True:
                page = self._stub.ListPersonStatuses(
                    registry_pb2.ListPersonStatusesRequest(page_size=1000, page_token=token),
                    timeout=TIMEOUT_SECONDS,
                )
                if position is None:
                    position = page.last_sequence
                for s in page.statuses:
                    if s.replaced_by:
                        entries[s.insz] = PersonStatus(True, s.deceased, s.replaced_by)
                        pointing.setdefault(s.replaced_by, set()).add(s.insz)
                    else:
                        entries[s.insz] = _DECEASED if s.deceased else _ALIVE
                token = page.next_page_token
                if not token:
                    break
                if self._stop.is_set():
                    raise FeedFailed()  # stopping: never swap a partial snapshot in
            with self._cond:
                self._entries, self._pointing = entries, pointing
                self._sequence = position or 0
                self._epoch += 1
                self._generation += 1
                self._loaded = True
                # The lease covered the old entries: the watch starts again from this position.
                self._lease_until = -math.inf
                watch = self._watch
            if watch is not None:
                watch.cancel()
            # Millions of numbers in production: out of every later full collection's walk.
            settle_heap()
            logger.info("person index loaded: %d numbers at sequence %d", len(entries), position)
            return Loaded(len(entries), position or 0)

    def _run(self) -> None:
        while not self._stop.is_set() and not self._loaded:
            try:
                self.rebuild()
            except FeedFailed:
                return
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    return
                logger.warning("person index not loaded (%s): checks ask the register", exc.code())  # type: ignore[attr-defined]
                self._stop.wait(1.0)
        if self._mode == STRICT and not self._stop.is_set():
            self._follower.start()
        while not self._stop.wait(self._poll):
            # Keeps the index near the register when no call comes (strict: so that the first
            # call after a quiet hour does not replay the hour), and fresh (bounded). Not while
            # a lease holds: the watch brings every event.
            with self._cond:
                if not self._reading and time.monotonic() >= self._lease_until:
                    self._round_locked()

    # -- the lease (strict mode) --------------------------------------------------------------
    def _follow(self) -> None:
        """Follow the log on WatchMutationEvents, acknowledge what is applied, renew the lease;
        start again from the index's position when the stream ends or a rebuild swapped it."""
        down = False
        while not self._stop.is_set():
            with self._cond:
                epoch, position = self._epoch, self._sequence
            acks: queue.SimpleQueue[bool] = queue.SimpleQueue()
            try:
                call = self._stub.WatchMutationEvents(self._requests(epoch, position, acks))
                with self._cond:
                    self._watch = call
                if self._stop.is_set():
                    call.cancel()
                for response in call:
                    if not self._take(response, epoch):
                        break  # a rebuild: start again from its position
                    if down:
                        down = False
                        logger.info("mutation watch resumed: checks answered under a lease")
                    if response.events:
                        acks.put(True)
            except grpc.RpcError as exc:
                code = exc.code()  # type: ignore[attr-defined]
                if self._stop.is_set() or code is grpc.StatusCode.CANCELLED:
                    pass
                elif code is grpc.StatusCode.UNIMPLEMENTED:
                    logger.warning("the register grants no lease: every check reads the feed")
                    return
                elif not down:
                    down = True
                    logger.warning("mutation watch interrupted (%s): checks read the feed", code)
            finally:
                acks.put(False)  # ends the requests
                with self._cond:
                    self._watch = None
                    self._sent.clear()
                    swapped = self._epoch != epoch
            if not swapped:  # a rebuild starts again at once; a cut stream after a pause
                self._stop.wait(RENEW_SECONDS)

    def _requests(
        self, epoch: int, position: int, acks: queue.SimpleQueue[bool]
    ) -> Iterable[registry_pb2.WatchMutationEventsRequest]:
        """The router's side of one stream: its position, then an acknowledgement after each
        batch of events applied and a renewal every quarter of a lease."""
        yield self._renewal(epoch, position)
        while not self._stop.is_set():
            try:
                if not acks.get(timeout=self._renew_every):
                    return
            except queue.Empty:
                pass
            with self._cond:
                if self._epoch != epoch:
                    return  # a rebuild: `applied` would go back
            yield self._renewal(epoch, 0)

    def _renewal(self, epoch: int, after: int) -> registry_pb2.WatchMutationEventsRequest:
        with self._cond:
            number = next(self._renewals)
            self._sent[number] = (time.monotonic(), epoch)  # the lease runs from now
            applied = self._sequence
        return registry_pb2.WatchMutationEventsRequest(
            after_sequence=after, applied_sequence=applied, renewal=number
        )

    def _take(self, response: registry_pb2.WatchMutationEventsResponse, epoch: int) -> bool:
        """Apply a message of the register's; False when the index was swapped meanwhile."""
        with self._cond:
            if self._epoch != epoch:
                return False
            for event in response.events:
                if event.sequence > self._sequence + 1:
                    # Never skip an event (the register's numbers have no gaps): start again.
                    logger.warning("mutation watch skipped past sequence %d", self._sequence)
                    return False
                if event.sequence > self._sequence:  # else a feed read applied it first
                    self._apply(event)
                    self._sequence = event.sequence
            if response.renewal:
                sent = self._sent.pop(response.renewal, None)
                for older in [n for n in self._sent if n < response.renewal]:
                    del self._sent[older]  # answered in order: those were lost
                if sent is not None and sent[1] == epoch and response.lease_millis > 0:
                    lease = response.lease_millis / 1000
                    self._lease_until = max(self._lease_until, sent[0] + lease * LEASE_SAFETY)
                    self._renew_every = lease / 4
            return True


def _shared(status: PersonStatus) -> PersonStatus:
    if status.replaced_by:
        return status
    return _DECEASED if status.deceased else _ALIVE
