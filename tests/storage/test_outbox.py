"""The shared outbox on the production engine (SQLite, or PostgreSQL with TEST_DATABASE_URL):
enqueue in the sender's transaction, delivery, retries with backoff and jitter on an injected
clock and random generator, dead-lettering at the horizon and at a permanent refusal, a
dispatcher dying between send and record, acknowledgements, competing dispatchers."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from inbox.sender import DECLARATION, MIGRATIONS, DemoSender
from runtime import faults
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.outbox import (
    Delivered,
    DeliveryFailed,
    DeliveryStatus,
    Dispatcher,
    OutboxEntry,
    RetryPolicy,
    is_permanent,
)

pytestmark = pytest.mark.storage

MAN = "85071412330"
DAY = dt.date(2026, 11, 2)
T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


class FakeTransport:
    """Answers from a script of outcomes per attempt; counts deliveries per id."""

    def __init__(self, script: list[object] | None = None) -> None:
        self.script = list(script or [])
        self.sent: Counter[str] = Counter()
        self.acked: set[str] = set()
        self.fail_once: set[str] = set()
        self.order: list[str] = []
        self.lock = threading.Lock()

    def deliver(self, entry: OutboxEntry, sender: str) -> Delivered:
        with self.lock:
            self.sent[entry.id] += 1
            outcome = self.script.pop(0) if self.script else None
            if entry.id in self.fail_once:
                self.fail_once.discard(entry.id)
                outcome = DeliveryFailed("UNAVAILABLE", "", permanent=False)
            else:
                self.order.append(entry.id)
        if isinstance(outcome, DeliveryFailed):
            raise outcome
        return Delivered(f"inboxes/{entry.destination or 'mut-100'}/attestations/{entry.id}", "tk")

    def acknowledged(self, entry: OutboxEntry) -> dt.datetime | None:
        return T0 if entry.id in self.acked else None


@pytest.fixture
def db(database_url: str):  # noqa: ANN201
    database = Database(database_url)
    database.migrate(MIGRATIONS)  # the demo sender's migration uses create_outbox_table(op)
    yield database
    database.dispose()


def _dispatcher(db: Database, sender: DemoSender, transport: FakeTransport, clock, **kw):  # noqa: ANN001, ANN202
    policy = RetryPolicy(base_seconds=1.0, max_delay_seconds=8.0, horizon_seconds=60.0)
    return Dispatcher(
        db, sender.outbox, transport, policy=policy, clock=clock, rng=random.Random(3), **kw
    )


def test_nothing_is_queued_when_the_business_transaction_rolls_back(db: Database) -> None:
    sender = DemoSender(db, FixedClock(T0))
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        session.execute(sa.insert(DECLARATION).values(id="x", kind="k", created_at=T0))
        sender.outbox.enqueue(session, _outgoing())
        raise RuntimeError("the business write failed")
    assert sender.outbox.entries(db) == []
    kept = sender.declare("unemployment.c4", MAN, DAY)
    assert [e.id for e in sender.outbox.entries(db)] == [kept]
    for kind, insz in (("unknown.kind", MAN), ("unemployment.c4", "85071412331")):
        with pytest.raises(ValueError):
            sender.declare(kind, insz, DAY)
    assert len(sender.outbox.entries(db)) == 1


def _outgoing():  # noqa: ANN202
    from runtime.outbox import OutgoingAttestation

    return OutgoingAttestation("unemployment.c4", MAN, DAY, destination="onem")


def test_delivered_with_inbox_and_ticket_when_the_inbox_stores_it(db: Database) -> None:
    clock = FixedClock(T0)
    sender, transport = DemoSender(db, clock), FakeTransport()
    att = sender.declare("unemployment.c4", MAN, DAY, b"{}")
    assert _dispatcher(db, sender, transport, clock).run_once() == 1
    entry = sender.outbox.status(db, att)
    assert entry is not None and entry.status is DeliveryStatus.DELIVERED
    assert (entry.delivered_to, entry.router_ticket, entry.attempts) == (
        f"inboxes/onem/attestations/{att}",
        "tk",
        1,
    )
    assert (entry.legal_context, entry.destination) == ("drs.unemployment", "onem")


def test_retried_with_growing_jittered_delays_then_dead_lettered_when_the_horizon_passes(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    down = DeliveryFailed("UNAVAILABLE", "HOLDER_UNAVAILABLE", permanent=False)
    sender, transport = DemoSender(db, clock), FakeTransport([down] * 100)
    att = sender.declare("sickness.zima-001", MAN, DAY)
    dispatcher = _dispatcher(db, sender, transport, clock)
    delays = []
    while (entry := sender.outbox.status(db, att)).status is DeliveryStatus.PENDING:
        assert dispatcher.run_once() == 1
        assert dispatcher.run_once() == 0  # not due before its next attempt
        entry = sender.outbox.status(db, att)
        if entry.status is DeliveryStatus.PENDING:
            delays.append((entry.next_attempt_at - clock.now()).total_seconds())
            clock.set(entry.next_attempt_at)
    assert entry.status is DeliveryStatus.DEAD_LETTERED
    assert entry.last_error == "UNAVAILABLE HOLDER_UNAVAILABLE"
    assert entry.dead_lettered_at == T0 + dt.timedelta(seconds=60)  # exactly at the horizon
    # Equal jitter: attempt n waits between half and all of min(8, 2^(n-1)) seconds.
    for n, delay in enumerate(delays[:-1], start=1):
        ceiling = min(8.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays[3:-1])) > 1  # jittered, not a fixed schedule


def test_dead_lettered_at_once_when_the_router_refuses_for_good(db: Database) -> None:
    clock = FixedClock(T0)
    refused = DeliveryFailed("PERMISSION_DENIED", "NOT_AUTHORISED", permanent=True)
    sender, transport = DemoSender(db, clock), FakeTransport([refused])
    att = sender.declare("unemployment.c4", MAN, DAY)
    _dispatcher(db, sender, transport, clock).run_once()
    entry = sender.outbox.status(db, att)
    assert (entry.status, entry.attempts, entry.last_error) == (
        DeliveryStatus.DEAD_LETTERED,
        1,
        "PERMISSION_DENIED NOT_AUTHORISED",
    )
    assert is_permanent("PERMISSION_DENIED", "LEGAL_CONTEXT_NOT_AUTHORISED")
    assert is_permanent("ALREADY_EXISTS", "IDEMPOTENCY_KEY_REUSED")
    assert not is_permanent("NOT_FOUND", "NO_HOLDER")  # a later integration may cure it
    assert not is_permanent("UNAVAILABLE", "")


def test_sent_again_after_the_lease_when_the_dispatcher_dies_before_recording(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    sender, transport = DemoSender(db, clock), FakeTransport()
    att = sender.declare("unemployment.c4", MAN, DAY)
    dispatcher = _dispatcher(db, sender, transport, clock, lease_seconds=20)
    faults.install(faults.FaultPlan().add("outbox.after_send", first=1))
    try:
        dispatcher.run_once()
    finally:
        faults.install(None)
    assert sender.outbox.status(db, att).status is DeliveryStatus.PENDING
    assert dispatcher.run_once() == 0  # leased: not sent again before the lease ends
    clock.advance(dt.timedelta(seconds=20))
    dispatcher.run_once()
    assert sender.outbox.status(db, att).status is DeliveryStatus.DELIVERED
    assert transport.sent[att] == 2  # at least once on the wire; the inbox makes it once


def test_acknowledged_when_the_inbox_says_so(db: Database) -> None:
    clock = FixedClock(T0)
    sender, transport = DemoSender(db, clock), FakeTransport()
    first, second = (sender.declare("unemployment.c4", MAN, DAY) for _ in range(2))
    dispatcher = _dispatcher(db, sender, transport, clock)
    dispatcher.run_once()
    transport.acked.add(first)
    assert dispatcher.refresh() == 1
    assert sender.outbox.status(db, first).status is DeliveryStatus.ACKNOWLEDGED
    assert sender.outbox.status(db, first).acknowledged_at == T0
    assert sender.outbox.status(db, second).status is DeliveryStatus.DELIVERED
    counts = sender.outbox.counts(db)
    assert (counts[DeliveryStatus.ACKNOWLEDGED], counts[DeliveryStatus.DELIVERED]) == (1, 1)


def test_each_attestation_is_sent_once_when_dispatchers_compete(db: Database) -> None:
    clock = FixedClock(T0)
    sender, transport = DemoSender(db, clock), FakeTransport()
    ids = [sender.declare("unemployment.c4", MAN, DAY) for _ in range(60)]
    dispatchers = [_dispatcher(db, sender, transport, clock, batch=7) for _ in range(3)]
    threads = [
        threading.Thread(target=lambda d=d: [d.run_once() for _ in range(12)]) for d in dispatchers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(sender.outbox.status(db, i).status is DeliveryStatus.DELIVERED for i in ids)
    assert set(transport.sent) == set(ids) and set(transport.sent.values()) == {1}


def test_the_thread_delivers_and_stops_gracefully_when_started(db: Database) -> None:
    sender, transport = DemoSender(db), FakeTransport()
    dispatcher = Dispatcher(db, sender.outbox, transport, poll_seconds=0.01).start()
    ids = [sender.declare("unemployment.c4", MAN, DAY) for _ in range(5)]
    dispatcher.wake()
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    while dt.datetime.now(dt.UTC) < deadline:
        if sender.outbox.counts(db)[DeliveryStatus.DELIVERED] == 5:
            break
        threading.Event().wait(0.01)
    dispatcher.stop()
    assert sender.outbox.counts(db)[DeliveryStatus.DELIVERED] == 5 and len(transport.sent) == 5
    assert set(transport.sent) == set(ids)


def test_a_persons_attestations_arrive_in_order_when_per_subject_order_is_on(db: Database) -> None:
    clock = FixedClock(T0)
    sender, transport = DemoSender(db, clock), FakeTransport()
    first = sender.declare("unemployment.c4", MAN, DAY)
    clock.advance(dt.timedelta(milliseconds=1))
    second, third = (sender.declare("unemployment.c4", MAN, DAY) for _ in range(2))
    other = sender.declare("unemployment.c4", "03020100274", DAY)
    transport.fail_once.add(first)
    dispatcher = _dispatcher(db, sender, transport, clock, per_subject_order=True)
    dispatcher.run_once()  # the first fails; the person's later ones wait, another person's not
    assert transport.order == [other] and set(transport.sent) == {first, other}
    clock.set(sender.outbox.status(db, first).next_attempt_at)
    while dispatcher.run_once():
        pass
    mine = [i for i in transport.order if i != other]
    assert mine[0] == first and sorted(mine[1:]) == sorted([second, third])
    ordered = sorted([second, third])  # same created_at: by id
    assert mine[1:] == ordered


def test_only_old_delivered_rows_are_purged_when_the_retention_ends(db: Database) -> None:
    clock = FixedClock(T0)
    refused = DeliveryFailed("PERMISSION_DENIED", "NOT_AUTHORISED", permanent=True)
    sender, transport = DemoSender(db, clock), FakeTransport([refused])
    dead = sender.declare("unemployment.c4", MAN, DAY)
    dispatcher = _dispatcher(db, sender, transport, clock)
    dispatcher.run_once()
    old = sender.declare("unemployment.c4", MAN, DAY)
    dispatcher.run_once()
    clock.advance(dt.timedelta(days=1))
    recent = sender.declare("unemployment.c4", MAN, DAY)
    dispatcher.run_once()
    assert sender.outbox.purge(db, T0 + dt.timedelta(hours=1)) == 1
    assert {e.id for e in sender.outbox.entries(db)} == {dead, recent}
    assert old not in {e.id for e in sender.outbox.entries(db)}


def test_a_dead_letter_is_delivered_with_a_fresh_horizon_when_an_operator_requeues_it(
    db: Database,
) -> None:
    clock = FixedClock(T0)
    refused = DeliveryFailed("PERMISSION_DENIED", "NOT_AUTHORISED", permanent=True)
    down = DeliveryFailed("UNAVAILABLE", "", permanent=False)
    sender, transport = DemoSender(db, clock), FakeTransport([refused])
    att = sender.declare("unemployment.c4", MAN, DAY)
    dispatcher = _dispatcher(db, sender, transport, clock)
    dispatcher.run_once()
    assert sender.outbox.status(db, att).status is DeliveryStatus.DEAD_LETTERED
    # The authorisation is granted meanwhile, long after the original horizon (60 s).
    clock.advance(dt.timedelta(hours=2))
    assert sender.outbox.requeue(db, [att, "not-an-id"]) == 1
    assert sender.outbox.requeue(db, [att]) == 0  # pending now: nothing to re-queue
    transport.script = [down]
    dispatcher.run_once()
    entry = sender.outbox.status(db, att)
    assert entry.status is DeliveryStatus.PENDING  # retried: the horizon runs from the re-queue
    assert entry.requeued_at == clock.now() and entry.dead_lettered_at is None
    clock.set(entry.next_attempt_at)
    dispatcher.run_once()
    assert sender.outbox.status(db, att).status is DeliveryStatus.DELIVERED
