"""The router's person-status index: loaded from a snapshot, fed by mutation events, and never
behind the register for a check (strict mode), with a fake register behind both ports."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from cbss.registry.v1 import registry_pb2
from router.service.model import PersonStatus
from router.service.refusals import refusal
from router.transport.person_index import BOUNDED, PersonIndex
from runtime.errors import ServiceError

ALIVE, OTHER, DEAD, OLD, NEW, NEWER, BIS, UNKNOWN = (
    "85071412330",
    "03020100274",
    "40010100140",
    "72010101123",
    "72010101321",
    "72010101519",
    "85493000163",
    "06070500252",
)
K = registry_pb2


class FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class FakeWatch:
    """One WatchMutationEvents call: answers each of the router's messages with the events after
    what it sent so far and, for a renewal, the register's grant (a lease when the router has
    applied every event); `push` sends the events recorded since (the register's own wake-up)."""

    def __init__(self, register: Register, requests: Iterator[K.WatchMutationEventsRequest]):
        self._register, self._out = register, queue.SimpleQueue()
        self._sent: int | None = None
        self._lock = threading.Lock()
        self.applied = 0
        threading.Thread(target=self._read, args=(requests,), daemon=True).start()

    def _read(self, requests: Iterator[K.WatchMutationEventsRequest]) -> None:
        try:
            for request in requests:
                with self._lock:
                    if self._sent is None:
                        self._sent = request.after_sequence
                    self.applied = max(self.applied, request.applied_sequence)
                reg = self._register
                with reg.lock:
                    head = len(reg.events)
                granted = reg.grant_millis if self.applied >= head else 0
                self.push(renewal=request.renewal, lease=granted if reg.answering else None)
                with reg.lock:
                    reg.acks.notify_all()
        finally:
            with self._register.lock:
                self._register.watches.remove(self)
                self._register.acks.notify_all()
            self._out.put(None)

    def push(self, renewal: int = 0, lease: int | None = 0) -> None:
        with self._lock:
            if self._sent is None:
                return
            with self._register.lock:
                events = self._register.events[self._sent :]
                self._sent = len(self._register.events)
            if events or lease is not None:
                self._out.put(
                    K.WatchMutationEventsResponse(
                        events=events,
                        renewal=renewal if lease is not None else 0,
                        lease_millis=lease or 0,
                    )
                )

    def cancel(self) -> None:
        self._out.put(None)

    def __iter__(self) -> FakeWatch:
        return self

    def __next__(self) -> K.WatchMutationEventsResponse:
        item = self._out.get()
        if item is None:
            raise FakeRpcError(grpc.StatusCode.CANCELLED)
        return item


@dataclass
class Register:
    """The National Register as the index sees it: statuses, the event log, both RPCs."""

    persons: dict[str, PersonStatus] = field(default_factory=dict)
    events: list[registry_pb2.MutationEvent] = field(default_factory=list)
    feed_down: bool = False
    statuses_down: bool = False
    asked: list[list[str]] = field(default_factory=list)  # GetPersonStatuses calls
    feed_calls: int = 0
    #: Called in each ListMutationEvents after the register has read the events.
    on_feed: object = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: WatchMutationEvents: None answers UNIMPLEMENTED (a register without leases); else the
    #: lease granted (ms) to a router that has applied every event.
    grant_millis: int | None = None
    answering: bool = True  # False: renewals go unanswered (a register that hangs)
    watches: list[FakeWatch] = field(default_factory=list)
    acks: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.acks = threading.Condition(self.lock)

    # -- changes, as the register records them (state and event in one step) -------------
    def _event(self, insz: str, kind: int, after: str = "") -> None:
        values = registry_pb2.MutationValues(insz=registry_pb2.InszValues(insz=after))
        self.events.append(
            registry_pb2.MutationEvent(
                sequence=len(self.events) + 1, insz=insz, kind=kind, after=values
            )
        )

    def record_death(self, insz: str) -> None:
        with self.lock:
            self.persons[insz] = PersonStatus(True, True, self.persons[insz].replaced_by)
            self._event(insz, K.MUTATION_KIND_DEATH_RECORDED)
        self._acknowledged(len(self.events))

    def _acknowledged(self, sequence: int) -> None:
        """The register's rule under leases: push the event, answer once every watch has
        applied it (these tests' leases outlive them, so no expiry is awaited)."""
        for watch in list(self.watches):
            watch.push()
        with self.lock:
            self.acks.wait_for(lambda: all(w.applied >= sequence for w in self.watches), 5)

    def replace(self, old: str, new: str) -> None:
        with self.lock:
            self.persons[new] = PersonStatus(True, self.persons[old].deceased)
            for insz, status in list(self.persons.items()):
                if status.replaced_by == old or insz == old:
                    self.persons[insz] = PersonStatus(True, status.deceased, new)
            self._event(old, K.MUTATION_KIND_INSZ_REPLACED, new)
        self._acknowledged(len(self.events))

    def register_bis(self, insz: str) -> None:
        with self.lock:
            self.persons[insz] = PersonStatus(True)
            self._event(insz, K.MUTATION_KIND_BIS_REGISTERED, insz)

    # -- the PersonRegistry port (GetPersonStatuses) ---------------------------------------
    def statuses(self, inszs, ticket: str) -> dict[str, PersonStatus]:
        if self.statuses_down:
            raise refusal("REGISTRY_UNAVAILABLE", {"code": "UNAVAILABLE"})
        with self.lock:
            self.asked.append(list(inszs))
            return {i: self.persons.get(i, PersonStatus(False)) for i in inszs}

    # -- the stub the index reads -----------------------------------------------------------
    def ListMutationEvents(self, request, timeout: float):  # noqa: N802, ANN001, ANN201
        if self.feed_down:
            raise FakeRpcError()
        with self.lock:
            self.feed_calls += 1
            last = len(self.events)
            after = self.events[request.after_sequence : last][: request.page_size or 100]
        if callable(self.on_feed):
            self.on_feed()  # the register has read; its answer is on its way
        return K.ListMutationEventsResponse(events=after, last_sequence=last)

    def WatchMutationEvents(self, requests):  # noqa: N802, ANN001, ANN201
        if self.grant_millis is None:
            raise FakeRpcError(grpc.StatusCode.UNIMPLEMENTED)
        watch = FakeWatch(self, requests)
        self.watches.append(watch)
        return watch

    def ListPersonStatuses(self, request, timeout: float):  # noqa: N802, ANN001, ANN201
        if self.feed_down:
            raise FakeRpcError()
        with self.lock:
            numbers = sorted(i for i in self.persons if i > request.page_token)
            page = numbers[: request.page_size]
            return K.ListPersonStatusesResponse(
                statuses=[
                    K.ListedPersonStatus(
                        insz=i,
                        deceased=self.persons[i].deceased,
                        replaced_by=self.persons[i].replaced_by,
                    )
                    for i in page
                ],
                next_page_token=page[-1] if len(numbers) > len(page) else "",
                last_sequence=len(self.events),
            )


def make_index(register: Register, **options) -> PersonIndex:  # noqa: ANN003
    index = PersonIndex(register, grpc.insecure_channel("localhost:1"), **options)
    index._stub = register  # the register's RPCs, faked
    return index


@pytest.fixture
def register() -> Register:
    reg = Register()
    for insz in (ALIVE, OTHER, OLD):
        reg.persons[insz] = PersonStatus(True)
    reg.persons[DEAD] = PersonStatus(True, True)
    return reg


@pytest.fixture
def index(register: Register) -> PersonIndex:
    idx = make_index(register)
    idx.rebuild()
    return idx


def test_checks_ask_the_register_when_the_index_is_not_loaded(register: Register) -> None:
    idx = make_index(register)
    assert idx.statuses([ALIVE], "t")[ALIVE].exists
    assert register.asked == [[ALIVE]] and register.feed_calls == 0


def test_snapshot_answers_every_status_without_the_register_when_loaded(
    register: Register,
) -> None:
    register.replace(OLD, NEW)
    idx = make_index(register)
    loaded = idx.rebuild()
    assert (loaded.numbers, loaded.sequence) == (5, 1)
    found = idx.statuses([ALIVE, DEAD, OLD, NEW], "t")
    assert found[ALIVE] == PersonStatus(True)
    assert found[DEAD].deceased
    assert found[OLD].replaced_by == NEW and found[NEW] == PersonStatus(True)
    assert register.asked == []


def test_snapshot_is_loaded_in_the_background_when_started(register: Register) -> None:
    idx = make_index(register, poll_seconds=0.05)
    idx.start()
    try:
        for _ in range(200):
            if idx.loaded:
                break
            threading.Event().wait(0.01)
        assert idx.loaded and len(idx) == 4
    finally:
        idx.stop()


def test_death_is_seen_by_the_very_next_check_when_recorded_before_it(
    index: PersonIndex, register: Register
) -> None:
    for insz in (ALIVE, OTHER):
        assert not index.statuses([insz], "t")[insz].deceased
        register.record_death(insz)
        assert index.statuses([insz], "t")[insz].deceased
    assert register.asked == []


def test_replacement_is_seen_and_older_numbers_repointed_when_recorded(
    index: PersonIndex, register: Register
) -> None:
    register.replace(OLD, NEW)
    assert index.statuses([OLD], "t")[OLD].replaced_by == NEW
    assert index.statuses([NEW], "t")[NEW] == PersonStatus(True)
    register.replace(NEW, NEWER)
    found = index.statuses([OLD, NEW, NEWER], "t")
    assert (found[OLD].replaced_by, found[NEW].replaced_by) == (NEWER, NEWER)
    assert found[NEWER] == PersonStatus(True)
    assert register.asked == []


def test_bis_registration_makes_the_number_exist_when_recorded(
    index: PersonIndex, register: Register
) -> None:
    register.register_bis(BIS)
    assert index.statuses([BIS], "t")[BIS].exists
    assert register.asked == []


def test_replay_converges_when_the_snapshot_already_reflects_later_events(
    register: Register,
) -> None:
    """A snapshot page read after events it replays (a database where each statement sees the
    latest commits): applying them again ends in the register's state."""
    register.replace(OLD, NEW)
    register.replace(NEW, NEWER)
    register.record_death(ALIVE)
    idx = make_index(register)
    idx.rebuild()
    idx._sequence = 0  # as if the page's counter had been read before all three events
    found = idx.statuses([OLD, NEW, NEWER, ALIVE], "t")
    assert found == {k: register.persons[k] for k in (OLD, NEW, NEWER, ALIVE)}


def _hold_a_read(
    index: PersonIndex, register: Register
) -> tuple[threading.Thread, threading.Event]:
    """A check whose feed read the register holds (until the event is set): the thread of that
    check, once the read is in flight, and the event that lets the register answer."""
    in_flight, release = threading.Event(), threading.Event()

    def hold_first_read() -> None:
        register.on_feed = None
        in_flight.set()
        release.wait(5)

    register.on_feed = hold_first_read
    first = threading.Thread(target=index.statuses, args=([OTHER], "t"))
    first.start()
    assert in_flight.wait(5)
    return first, release


def test_feed_read_started_before_a_check_never_answers_it_when_strict(
    index: PersonIndex, register: Register
) -> None:
    """The rule itself: a read already in flight when the check began does not count."""
    first, release = _hold_a_read(index, register)  # in flight; the death comes after it began
    register.record_death(ALIVE)
    seen: dict[str, PersonStatus] = {}
    check = threading.Thread(target=lambda: seen.update(index.statuses([ALIVE], "t")))
    check.start()
    release.set()
    first.join(5)
    check.join(5)
    assert seen[ALIVE].deceased
    assert register.asked == []


def test_checks_arriving_during_a_read_share_exactly_one_next_read_when_it_completes(
    index: PersonIndex, register: Register
) -> None:
    """Read 1 is in flight when five checks begin: it does not count for them (strict), and the
    one read that starts once it completes answers all five."""
    first, release = _hold_a_read(index, register)
    register.record_death(ALIVE)  # after read 1 began: only a later read may answer
    seen: list[PersonStatus] = []
    checks = [
        threading.Thread(target=lambda: seen.append(index.statuses([ALIVE], "t")[ALIVE]))
        for _ in range(5)
    ]
    for check in checks:
        check.start()
    for _ in range(500):  # every check is waiting (for read 1, or to lead read 2)
        with index._cond:
            if len(index._done) == 2 and index._leads == {2}:
                break
        threading.Event().wait(0.01)
    release.set()
    first.join(5)
    for check in checks:
        check.join(5)
    assert len(seen) == 5 and all(s.deceased for s in seen)
    assert register.feed_calls == 2 and register.asked == []
    assert index._done == {} and index._leads == set()  # nothing left waiting


def test_concurrent_checks_share_feed_reads_and_never_ask_the_register_when_under_load(
    index: PersonIndex, register: Register
) -> None:
    slow = threading.Event()
    register.on_feed = lambda: slow.wait(0.002)  # a feed read takes a moment
    errors: list[BaseException] = []

    def client() -> None:
        try:
            for _ in range(25):
                assert index.statuses([ALIVE, OTHER], "t")[ALIVE].exists
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert register.asked == []
    assert register.feed_calls < 20 * 25 / 3  # shared: far fewer reads than checks


def test_checks_ask_the_register_when_the_feed_is_unreachable(
    index: PersonIndex, register: Register
) -> None:
    register.feed_down = True
    register.persons[ALIVE] = PersonStatus(True, True)  # a change the index cannot learn
    assert index.statuses([ALIVE], "t")[ALIVE].deceased
    assert register.asked == [[ALIVE]]
    register.statuses_down = True
    with pytest.raises(ServiceError) as err:
        index.statuses([ALIVE], "t")
    assert err.value.reason == "REGISTRY_UNAVAILABLE"  # fail closed
    register.feed_down = register.statuses_down = False
    register.asked.clear()
    assert index.statuses([OTHER], "t")[OTHER].exists
    assert register.asked == []


def test_unknown_number_is_asked_every_time_and_a_known_one_remembered_when_missing(
    index: PersonIndex, register: Register
) -> None:
    register.persons[BIS] = PersonStatus(True)  # added without an event (a bulk seed)
    index.statuses([UNKNOWN, BIS], "t")
    index.statuses([UNKNOWN, BIS], "t")
    assert register.asked == [[UNKNOWN, BIS], [UNKNOWN]]


def test_racing_answer_is_not_kept_when_an_event_was_applied_meanwhile(
    index: PersonIndex, register: Register
) -> None:
    register.persons[BIS] = PersonStatus(True)
    original = register.statuses

    def racing(inszs, ticket):  # noqa: ANN001, ANN202 - the death lands while it answers
        answer = original(inszs, ticket)
        register.record_death(BIS)
        index.statuses([OTHER], "t")  # another check applies the event
        return answer

    register.statuses = racing  # type: ignore[method-assign]
    index.statuses([BIS], "t")
    register.statuses = original  # type: ignore[method-assign]
    assert index.statuses([BIS], "t")[BIS].deceased


def test_rebuild_swaps_a_fresh_snapshot_in_when_asked(
    index: PersonIndex, register: Register
) -> None:
    register.persons[BIS] = PersonStatus(True, True)  # changed behind the feed's back
    loaded = index.rebuild()
    assert loaded.numbers == 5
    assert index.statuses([BIS], "t")[BIS].deceased
    assert register.asked == []


def test_unknown_event_kind_makes_the_register_asked_for_its_numbers_when_applied(
    index: PersonIndex, register: Register
) -> None:
    register.events.append(registry_pb2.MutationEvent(sequence=1, insz=ALIVE, kind=99))
    index.statuses([ALIVE], "t")
    assert register.asked == [[ALIVE]]


def test_bounded_mode_answers_from_the_index_while_fresh_and_asks_when_stale(
    register: Register,
) -> None:
    idx = make_index(register, mode=BOUNDED, max_staleness=60)
    idx.rebuild()
    assert idx.statuses([ALIVE], "t")[ALIVE].exists
    assert register.asked == [[ALIVE]]  # never read the feed yet: stale
    with idx._cond:
        idx._round_locked()
    register.record_death(ALIVE)
    assert not idx.statuses([ALIVE], "t")[ALIVE].deceased  # within the bound, not yet read
    assert register.feed_calls == 1 and len(register.asked) == 1


# -- the lease (strict mode, a register that grants one) ----------------------------------------


def _wait_until(predicate, seconds: float = 5.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture
def leased(register: Register) -> Iterator[PersonIndex]:
    register.grant_millis = 60_000
    idx = make_index(register, poll_seconds=0.05)
    idx.start()
    assert _wait_until(lambda: idx.leased)
    try:
        yield idx
    finally:
        idx.stop()


def test_checks_under_a_lease_read_no_feed_and_still_see_every_acknowledged_change(
    leased: PersonIndex, register: Register
) -> None:
    reads = register.feed_calls
    for insz in (ALIVE, OTHER):
        assert not leased.statuses([insz], "t")[insz].deceased
        register.record_death(insz)  # answers once the router has applied it
        assert leased.statuses([insz], "t")[insz].deceased
    register.replace(OLD, NEW)
    assert leased.statuses([OLD], "t")[OLD].replaced_by == NEW
    assert register.feed_calls == reads and register.asked == []
    assert leased.leased_checks == 5


def test_checks_read_the_feed_again_when_the_lease_runs_out(register: Register) -> None:
    register.grant_millis = 300
    idx = make_index(register, poll_seconds=60)
    idx.start()
    try:
        assert _wait_until(lambda: idx.leased)
        register.answering = False  # renewals go unanswered: the lease is not renewed
        assert _wait_until(lambda: not idx.leased, 2)
        reads = register.feed_calls
        register.persons[ALIVE] = PersonStatus(True, True)  # recorded, not pushed
        register._event(ALIVE, K.MUTATION_KIND_DEATH_RECORDED)
        assert idx.statuses([ALIVE], "t")[ALIVE].deceased  # a feed read proved it
        assert register.feed_calls == reads + 1
    finally:
        idx.stop()


def test_no_lease_is_counted_when_the_register_refuses_it(register: Register) -> None:
    register.grant_millis = 0  # the register grants nothing (the router is behind, say)
    idx = make_index(register, poll_seconds=60)
    idx.start()
    try:
        assert _wait_until(lambda: idx.loaded and len(register.watches) == 1)
        time.sleep(0.1)
        assert not idx.leased
        register.record_death(ALIVE)
        assert idx.statuses([ALIVE], "t")[ALIVE].deceased
        assert idx.leased_checks == 0 and register.feed_calls >= 1
    finally:
        idx.stop()


def test_rebuild_drops_the_lease_and_the_watch_starts_again_from_the_new_position(
    leased: PersonIndex, register: Register
) -> None:
    first = register.watches[0]
    leased.rebuild()
    assert _wait_until(lambda: register.watches and register.watches[0] is not first)
    assert _wait_until(lambda: leased.leased)  # granted again on the new stream
    register.record_death(ALIVE)
    assert leased.statuses([ALIVE], "t")[ALIVE].deceased


def test_checks_read_the_feed_when_the_register_grants_no_lease(register: Register) -> None:
    idx = make_index(register, poll_seconds=60)  # grant_millis None: UNIMPLEMENTED
    idx.start()
    try:
        assert _wait_until(lambda: idx.loaded and not idx._follower.is_alive())
        register.record_death(ALIVE)
        assert idx.statuses([ALIVE], "t")[ALIVE].deceased
        assert not idx.leased and register.feed_calls >= 1
    finally:
        idx.stop()
