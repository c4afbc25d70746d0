"""The shared outbox: durable delivery of attestations through the router, at least once.

One implementation for every sender (DRS, the mutation service, later ones):

1. **The table lives in the sender's own database.** `outbox_table(metadata)` defines
   `outbox_attestation` on the sender's MetaData (so its models and Alembic autogenerate see it);
   a migration creates it with `create_outbox_table(op)` (and drops it with
   `drop_outbox_table(op)`).
2. **Enqueue in the business transaction.** `Outbox.enqueue(session, attestation)` inserts the
   row with the session (or Core connection) of the sender's own unit of work: the attestation
   is stored if and only if the business write commits. Then `Dispatcher.wake()` (optional: the
   dispatcher also polls every `poll_seconds`).
3. **The dispatcher** (a thread per sender process; several processes may share one table) claims
   due rows with a lease (`next_attempt_at` moved `lease_seconds` ahead in one short write
   transaction, `FOR UPDATE SKIP LOCKED` on PostgreSQL), delivers each through the router
   (`InboxService.DeliverAttestation` with the kind's legal context as `cbss-legal-context` and the
   sender's destination, if any, as `cbss-destination`; none: the router picks the holder by the
   reference directory), then records the outcome. A dispatcher that dies between the call and
   the record leaves the row leased: another pass re-sends it when the lease expires, and the
   inbox's idempotency on the attestation id makes the second delivery harmless — at least once
   on the wire, exactly once in effect.
4. **Retries**: a transient failure (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
   INTERNAL, UNKNOWN, CANCELLED; and the directory answers NO_HOLDER / SUBJECT_NOT_INTEGRATED,
   which a later integration may cure) is retried after `RetryPolicy.delay(attempt)`: exponential
   from `base_seconds`, capped at `max_delay_seconds`, with "equal jitter" (half fixed, half
   random, from an injectable `random.Random`). Once `horizon_seconds` have passed since the
   attestation was created (or re-queued by an operator: `Outbox.requeue`), the row is
   **dead-lettered** (`DEAD_LETTERED`, last error kept).
   A **permanent refusal** (any other code: PERMISSION_DENIED NOT_AUTHORISED or
   LEGAL_CONTEXT_NOT_AUTHORISED, INVALID_ARGUMENT, ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED, ...)
   is dead-lettered at once, never retried: retrying cannot change the answer, and the sender's
   operators see the reason in the status.
5. **Status per attestation** (`Outbox.status`): PENDING -> DELIVERED (the inbox stored it; the
   inbox's resource name and the router's ticket are recorded) -> ACKNOWLEDGED (the institution
   took it in hand), or DEAD_LETTERED. Acknowledgement comes back by asking the inbox: the
   dispatcher polls delivered rows (`InboxService.GetAttestationStatus`, routed like the
   delivery, every `ack_poll_seconds`; 0 = never) and `Dispatcher.refresh(ids)` asks at once
   for the rows a sender's user is looking at.
6. **Graceful stop**: `stop()` lets in-flight deliveries finish and records them.
7. **Order**: by default deliveries run concurrently, so two attestations about one person may
   arrive in either order. `Dispatcher(per_subject_order=True)` (for the mutation service's
   "in order per person") sends a person's next attestation only once the previous one is
   delivered or dead-lettered (order of `created_at`, then id).

Logs name the attestation id, kind, destination and the failure's code and reason; never the
INSZ or the payload.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import random
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from opentelemetry import trace

from runtime import faults, identifiers
from runtime.clock import Clock, SystemClock, as_utc
from runtime.db import Database

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

TABLE = "outbox_attestation"
_KIND = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}[a-z0-9]$")


class DeliveryStatus(enum.Enum):
    """Where an attestation stands, from its sender's point of view."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    DEAD_LETTERED = "DEAD_LETTERED"


# -- the table -------------------------------------------------------------------------------
def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject_insz", sa.String(11), nullable=False),
        sa.Column("reference_date", sa.Date(), nullable=False),
        #: A provider id named by the sender; "" = chosen by the reference directory.
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("legal_context", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_type", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True),
        #: `inboxes/{institution}/attestations/{id}`: where it landed (the directory's choice).
        sa.Column("delivered_to", sa.String(160), nullable=False),
        sa.Column("router_ticket", sa.String(36), nullable=False),
        #: `CODE REASON` of the last failure (no personal data: codes and reasons only).
        sa.Column("last_error", sa.String(200), nullable=False),
        #: When an operator re-queued a dead letter: the horizon runs again from then.
        sa.Column("requeued_at", sa.DateTime(timezone=True), nullable=True),
    ]


_INDEXES = (
    ("ix_outbox_attestation_due", ("status", "next_attempt_at")),
    # Per-subject order (Dispatcher(per_subject_order=True)): a person's earlier pending rows.
    ("ix_outbox_attestation_subject", ("subject_insz", "status", "created_at")),
)


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Define `outbox_attestation` on a sender's MetaData (its models then include it)."""
    table = sa.Table(TABLE, metadata, *_columns())
    for name, columns in _INDEXES:
        sa.Index(name, *(table.c[c] for c in columns))
    return table


def create_outbox_table(op: Any) -> None:
    """In a sender's Alembic migration `upgrade()`: `create_outbox_table(op)`."""
    op.create_table(TABLE, *_columns())
    for name, columns in _INDEXES:
        op.create_index(name, TABLE, list(columns))


def drop_outbox_table(op: Any) -> None:
    """In the same migration's `downgrade()`."""
    for name, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=TABLE)
    op.drop_table(TABLE)


# -- what a sender hands over ------------------------------------------------------------------
@dataclass(frozen=True)
class OutgoingAttestation:
    """An attestation to deliver. `destination` names the receiving provider (e.g. `onem`);
    empty, the router chooses it by the reference directory (e.g. the person's mutuality)."""

    kind: str
    subject_insz: str
    reference_date: dt.date
    payload: bytes = b""
    payload_type: str = ""
    destination: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class OutboxEntry:
    """One row of the outbox, as the sender and the dispatcher read it."""

    id: str
    kind: str
    subject_insz: str
    reference_date: dt.date
    destination: str
    legal_context: str
    payload: bytes
    payload_type: str
    created_at: dt.datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    dead_lettered_at: dt.datetime | None
    delivered_to: str
    router_ticket: str
    last_error: str
    requeued_at: dt.datetime | None = None

    @property
    def horizon_from(self) -> dt.datetime:
        """Where the dead-letter horizon runs from: creation, or the last re-queue."""
        return self.requeued_at or self.created_at


def _entry(row: Any) -> OutboxEntry:
    m = row._mapping
    return OutboxEntry(
        **{
            **{k: m[k] for k in m.keys()},  # noqa: SIM118 - a RowMapping
            "status": DeliveryStatus(m["status"]),
            "created_at": as_utc(m["created_at"]),
            "requeued_at": as_utc(m["requeued_at"]),
            "next_attempt_at": as_utc(m["next_attempt_at"]),
            "delivered_at": as_utc(m["delivered_at"]),
            "acknowledged_at": as_utc(m["acknowledged_at"]),
            "dead_lettered_at": as_utc(m["dead_lettered_at"]),
        }
    )


class UnknownKind(ValueError):
    """An attestation kind the sender has no legal context for."""


class Outbox:
    """A sender's outbox: its table, its identity and the legal context of each kind it sends.

    `legal_contexts` maps each attestation kind to the legal context its delivery is authorised
    under (the router checks the sender's authorisation per kind through it).
    """

    def __init__(
        self,
        table: sa.Table,
        sender: str,
        legal_contexts: Mapping[str, str],
        clock: Clock | None = None,
    ) -> None:
        self.table, self.sender = table, sender
        self.legal_contexts = dict(legal_contexts)
        self.clock = clock or SystemClock()

    def enqueue(self, session: Any, attestation: OutgoingAttestation) -> str:
        """Insert the attestation with the sender's own session or connection (same
        transaction as its business write); returns its id. Raises UnknownKind or ValueError."""
        return self.enqueue_all(session, [attestation])[0]

    def enqueue_all(self, session: Any, attestations: Sequence[OutgoingAttestation]) -> list[str]:
        """`enqueue` for many, in one multi-row insert (a fan-out queues hundreds at once);
        every one is checked before any is inserted."""
        rows: list[dict[str, Any]] = []
        for attestation in attestations:
            legal = self.legal_contexts.get(attestation.kind)
            if legal is None:
                raise UnknownKind(f"no legal context for attestation kind {attestation.kind!r}")
            if (
                not _KIND.match(attestation.kind)
                or str(uuid.UUID(attestation.id)) != attestation.id
            ):
                raise ValueError("attestation kind or id malformed")
            try:  # refused here, in the sender's transaction, rather than dead-lettered later
                identifiers.parse_insz(attestation.subject_insz)
            except identifiers.IdentifierError as exc:
                raise ValueError(f"attestation subject: {exc.reason}") from None
            rows.append(
                {
                    "id": attestation.id,
                    "kind": attestation.kind,
                    "subject_insz": attestation.subject_insz,
                    "reference_date": attestation.reference_date,
                    "destination": attestation.destination,
                    "legal_context": legal,
                    "payload": attestation.payload,
                    "payload_type": attestation.payload_type,
                    # The clock per row: a strictly increasing clock keeps a person's rows in
                    # the order queued (the order per_subject_order delivers them in).
                    "created_at": (now := self.clock.now()),
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "delivered_at": None,
                    "acknowledged_at": None,
                    "dead_lettered_at": None,
                    "delivered_to": "",
                    "router_ticket": "",
                    "last_error": "",
                }
            )
        if rows:
            session.execute(sa.insert(self.table), rows)
        return [r["id"] for r in rows]

    def status(self, db: Database, attestation_id: str) -> OutboxEntry | None:
        with db.read() as conn:
            row = conn.execute(
                sa.select(self.table).where(self.table.c.id == attestation_id)
            ).first()
        return None if row is None else _entry(row)

    def entries(
        self, db: Database, *, status: DeliveryStatus | None = None, limit: int = 1000
    ) -> list[OutboxEntry]:
        stmt = sa.select(self.table).order_by(self.table.c.created_at, self.table.c.id)
        if status is not None:
            stmt = stmt.where(self.table.c.status == status.value)
        with db.read() as conn:
            return [_entry(r) for r in conn.execute(stmt.limit(limit))]

    def requeue(self, db: Database, ids: Sequence[str]) -> int:
        """An operator's second chance for dead letters (the cause fixed: an authorisation
        granted, a person integrated): PENDING again, due now, with a fresh horizon from now.
        Returns how many were dead-lettered and are pending again."""
        t, now = self.table, self.clock.now()
        with db.write() as conn:
            result = conn.execute(
                sa.update(t)
                .where(t.c.id.in_(list(ids)), t.c.status == DeliveryStatus.DEAD_LETTERED.value)
                .values(
                    status=DeliveryStatus.PENDING.value,
                    next_attempt_at=now,
                    dead_lettered_at=None,
                    requeued_at=now,
                )
            )
        return result.rowcount or 0

    def purge(self, db: Database, before: dt.datetime) -> int:
        """Delete DELIVERED and ACKNOWLEDGED rows delivered before `before` (the sender's
        retention; the inboxes keep the attestations). Dead-lettered rows stay for operators."""
        t = self.table
        done = [DeliveryStatus.DELIVERED.value, DeliveryStatus.ACKNOWLEDGED.value]
        with db.write() as conn:
            result = conn.execute(
                sa.delete(t).where(t.c.status.in_(done), t.c.delivered_at < before)
            )
        return result.rowcount or 0

    def counts(self, db: Database) -> dict[DeliveryStatus, int]:
        t = self.table
        with db.read() as conn:
            rows = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status))
            found = {DeliveryStatus(s): n for s, n in rows}
        return {s: found.get(s, 0) for s in DeliveryStatus}


# -- delivering ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with equal jitter, and the dead-letter horizon."""

    base_seconds: float = 0.5
    max_delay_seconds: float = 300.0
    horizon_seconds: float = 24 * 3600.0
    multiplier: float = 2.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before attempt `attempt + 1`, after `attempt` (>= 1) failed attempts."""
        ceiling = min(self.max_delay_seconds, self.base_seconds * self.multiplier ** (attempt - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


@dataclass(frozen=True)
class Delivered:
    """The inbox stored the attestation (now or at an earlier delivery)."""

    inbox_name: str
    router_ticket: str


class DeliveryFailed(Exception):  # noqa: N818 - an outcome, reported by the transport
    """A delivery that did not happen: the gRPC code name and ErrorInfo reason."""

    def __init__(self, code: str, reason: str, *, permanent: bool) -> None:
        super().__init__(f"{code} {reason}".strip())
        self.code, self.reason, self.permanent = code, reason, permanent


#: Refusals a later directory change can cure: retried until the horizon.
RETRYABLE_REASONS = frozenset({"NO_HOLDER", "SUBJECT_NOT_INTEGRATED"})
TRANSIENT_CODES = frozenset(
    {
        "UNAVAILABLE",
        "DEADLINE_EXCEEDED",
        "RESOURCE_EXHAUSTED",
        "ABORTED",
        "INTERNAL",
        "UNKNOWN",
        "CANCELLED",
    }
)


def is_permanent(code: str, reason: str) -> bool:
    """Whether a failed delivery cannot succeed by retrying (see the module doc, point 4)."""
    return code not in TRANSIENT_CODES and reason not in RETRYABLE_REASONS


class Transport(Protocol):
    """How the dispatcher reaches the inboxes (gRPC through the router: `RouterTransport`)."""

    def deliver(self, entry: OutboxEntry, sender: str) -> Delivered: ...

    def acknowledged(self, entry: OutboxEntry) -> dt.datetime | None: ...


class Dispatcher:
    """Delivers a sender's outbox through a Transport, in a thread of its own.

    `run_once()` does one pass synchronously (tests, and the loop's body). Several dispatchers
    (processes) may share one outbox table: rows are claimed with a lease.
    """

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        transport: Transport,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        batch: int = 64,
        workers: int = 8,
        poll_seconds: float = 0.05,
        lease_seconds: float = 30.0,
        ack_poll_seconds: float = 0.0,
        per_subject_order: bool = False,
        on_delivered: Callable[[OutboxEntry], None] | None = None,
    ) -> None:
        self.db, self.outbox, self.transport = db, outbox, transport
        self.policy = policy or RetryPolicy()
        self.clock = clock or outbox.clock
        self.rng = rng or random.Random()
        self.batch, self.poll_seconds = batch, poll_seconds
        self._refill = max(1, batch // 4)
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.ack_poll_seconds = ack_poll_seconds
        self.on_delivered = on_delivered
        self._pool = futures.ThreadPoolExecutor(workers, thread_name_prefix="outbox-send")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng_lock = threading.Lock()
        self._last_ack_poll = 0.0
        t = outbox.table
        self._delivered = (
            sa.update(t)
            .where(
                t.c.id == sa.bindparam("row_id"),
                t.c.status == DeliveryStatus.PENDING.value,
            )
            .values(
                status=DeliveryStatus.DELIVERED.value,
                delivered_at=sa.bindparam("now"),
                delivered_to=sa.bindparam("to"),
                router_ticket=sa.bindparam("ticket"),
                last_error="",
            )
        )
        self._due = sa.select(t).where(t.c.status == DeliveryStatus.PENDING.value)
        if per_subject_order:
            # Per person, oldest first: a row is due only when no earlier row about the same
            # person is still pending (in flight, waiting for a retry); dead-lettered or
            # delivered rows do not hold the next one back.
            earlier = t.alias("earlier")
            self._due = self._due.where(
                ~sa.exists().where(
                    earlier.c.subject_insz == t.c.subject_insz,
                    earlier.c.status == DeliveryStatus.PENDING.value,
                    sa.or_(
                        earlier.c.created_at < t.c.created_at,
                        sa.and_(earlier.c.created_at == t.c.created_at, earlier.c.id < t.c.id),
                    ),
                )
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._loop, name="outbox-dispatcher", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the outbox now (call after committing an enqueue)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; let in-flight deliveries finish and record them, then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)

    def _loop(self) -> None:
        """Pipelined: up to `batch` deliveries in flight; each outcome is recorded as soon as it
        comes back (those that came back together in one transaction), and due rows are
        claimed as soon as there is room, so no delivery waits for a slower one."""
        inflight: dict[str, futures.Future[Delivered | DeliveryFailed | None]] = {}
        done: list[tuple[OutboxEntry, futures.Future[Delivered | DeliveryFailed | None]]] = []
        lock = threading.Lock()

        def finished(entry: OutboxEntry, fut: futures.Future[Any]) -> None:
            with lock:
                done.append((entry, fut))
            self._wake.set()

        while True:
            self._wake.clear()  # before looking: a wake() from now on is not lost
            stopping = self._stop.is_set()
            with lock:
                ready, done[:] = list(done), []
            try:
                if ready:
                    for entry, _ in ready:
                        inflight.pop(entry.id, None)
                    outcomes = [(e, f.result()) for e, f in ready]
                    self._record([(e, o) for e, o in outcomes if o is not None])
                if stopping:
                    if not inflight:
                        return
                else:
                    room = self.batch - len(inflight)
                    # Claim in chunks (a quarter of the pipeline at least, or when it ran dry):
                    # every claim is a write transaction, one per finished delivery is too many.
                    worth = room >= self._refill or not inflight
                    claimed = self.claim(room) if room > 0 and worth else []
                    for entry in claimed:
                        fut = self._pool.submit(self._send, entry)
                        inflight[entry.id] = fut
                        fut.add_done_callback(lambda f, e=entry: finished(e, f))
                    if self.ack_poll_seconds:
                        now = self.clock.now().timestamp()
                        if now - self._last_ack_poll >= self.ack_poll_seconds:
                            self._last_ack_poll = now
                            self.refresh()
                    if len(claimed) == room and room > 0:
                        continue  # more may be due: claim again at once
            except Exception:  # the database is down, say: log and try again in a second
                logger.exception("outbox pass failed")
                self._stop.wait(1.0)
            self._wake.wait(self.poll_seconds)

    # -- one pass ----------------------------------------------------------------------------
    def claim(self, limit: int | None = None) -> list[OutboxEntry]:
        """Lease up to `limit` (`batch`) due rows (their next attempt moved `lease_seconds`
        ahead: no other pass or dispatcher takes them meanwhile)."""
        t, now = self.outbox.table, self.clock.now()
        stmt = self._due.where(t.c.next_attempt_at <= now).order_by(t.c.next_attempt_at)
        stmt = stmt.limit(limit or self.batch)
        if not self.db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        with self.db.write() as conn:
            rows = [_entry(r) for r in conn.execute(stmt)]
            if rows:
                conn.execute(
                    sa.update(t)
                    .where(t.c.id.in_([r.id for r in rows]))
                    .values(next_attempt_at=now + self.lease, attempts=t.c.attempts + 1)
                )
        return rows

    def run_once(self) -> int:
        """Claim due rows, deliver them concurrently, record every outcome; returns how many."""
        rows = self.claim()
        if not rows:
            return 0
        outcomes = list(self._pool.map(self._send, rows))
        self._record([(r, o) for r, o in zip(rows, outcomes, strict=True) if o is not None])
        return len(rows)

    def _send(self, entry: OutboxEntry) -> Delivered | DeliveryFailed | None:
        # One client span per attempt: the routers' and the inbox's server spans join its trace.
        span = _tracer.start_as_current_span(
            "cbss.outbox.deliver",
            kind=trace.SpanKind.CLIENT,
            attributes={
                "cbss.attestation.id": entry.id,
                "cbss.attestation.kind": entry.kind,
                "cbss.attestation.attempt": entry.attempts + 1,
            },
        )
        try:
            with span:
                faults.check("outbox.before_send")
                outcome: Delivered | DeliveryFailed = self.transport.deliver(
                    entry, self.outbox.sender
                )
        except faults.InjectedFault:
            return None  # "died" before the call: the lease expires, the row is sent again
        except DeliveryFailed as exc:
            outcome = exc
        except Exception:  # a bug or a broken channel: transient, logged in full
            logger.exception("delivering attestation %s failed", entry.id)
            outcome = DeliveryFailed("INTERNAL", "SENDER_ERROR", permanent=False)
        try:
            faults.check("outbox.after_send")
        except faults.InjectedFault:
            return None  # "died" after the call, before recording: sent again after the lease
        return outcome

    def _record(self, results: Sequence[tuple[OutboxEntry, Delivered | DeliveryFailed]]) -> None:
        t, now = self.outbox.table, self.clock.now()
        pending = t.c.status == DeliveryStatus.PENDING.value
        delivered: list[OutboxEntry] = []
        with self.db.write() as conn:
            updates = []
            for entry, outcome in results:
                if isinstance(outcome, Delivered):
                    updates.append(
                        {
                            "row_id": entry.id,
                            "to": outcome.inbox_name[:160],
                            "ticket": outcome.router_ticket[:36],
                        }
                    )
                    delivered.append(entry)
                    logger.debug(
                        "attestation %s (%s) delivered to %s after %d attempt(s)",
                        entry.id,
                        entry.kind,
                        outcome.inbox_name.split("/attestations/")[0],
                        entry.attempts + 1,
                    )
            if updates:  # one statement for the batch (executemany)
                conn.execute(self._delivered, [{**u, "now": now} for u in updates])
                logger.info("%d attestation(s) delivered", len(updates))
            for entry, outcome in results:
                if isinstance(outcome, Delivered):
                    continue
                row = t.c.id == entry.id
                attempts = entry.attempts + 1
                error = str(outcome)[:200]
                horizon = entry.horizon_from + dt.timedelta(seconds=self.policy.horizon_seconds)
                if outcome.permanent or now >= horizon:
                    conn.execute(
                        sa.update(t)
                        .where(row, pending)
                        .values(
                            status=DeliveryStatus.DEAD_LETTERED.value,
                            dead_lettered_at=now,
                            last_error=error,
                        )
                    )
                    logger.warning(
                        "attestation %s (%s, destination %s) dead-lettered after %d attempt(s): "
                        "%s%s",
                        entry.id,
                        entry.kind,
                        entry.destination or "by directory",
                        attempts,
                        error,
                        "" if outcome.permanent else " (horizon reached)",
                    )
                    continue
                with self._rng_lock:
                    delay = self.policy.delay(attempts, self.rng)
                retry_at = min(now + dt.timedelta(seconds=delay), horizon)
                conn.execute(
                    sa.update(t)
                    .where(row, pending)
                    .values(next_attempt_at=retry_at, last_error=error)
                )
                logger.info(
                    "attestation %s (%s) attempt %d failed: %s; retry in %.2fs",
                    entry.id,
                    entry.kind,
                    attempts,
                    error,
                    (retry_at - now).total_seconds(),
                )
        if self.on_delivered is not None:
            for entry in delivered:
                self.on_delivered(entry)

    # -- acknowledgements ------------------------------------------------------------------------
    def refresh(self, ids: Sequence[str] | None = None, limit: int = 200) -> int:
        """Ask the inboxes whether delivered attestations were acknowledged (those of `ids`, or
        up to `limit` delivered ones, oldest first); records ACKNOWLEDGED. Returns how many."""
        t = self.outbox.table
        stmt = sa.select(t).where(t.c.status == DeliveryStatus.DELIVERED.value)
        stmt = stmt.where(t.c.id.in_(list(ids))) if ids is not None else stmt
        with self.db.read() as conn:
            rows = [_entry(r) for r in conn.execute(stmt.order_by(t.c.delivered_at).limit(limit))]
        acked: list[tuple[str, dt.datetime]] = []
        for entry in rows:
            try:
                at = self.transport.acknowledged(entry)
            except DeliveryFailed as exc:
                logger.info("status of attestation %s not known: %s", entry.id, exc)
                continue
            if at is not None:
                acked.append((entry.id, at))
        if acked:
            with self.db.write() as conn:
                for attestation_id, at in acked:
                    conn.execute(
                        sa.update(t)
                        .where(
                            t.c.id == attestation_id, t.c.status == DeliveryStatus.DELIVERED.value
                        )
                        .values(status=DeliveryStatus.ACKNOWLEDGED.value, acknowledged_at=at)
                    )
        return len(acked)


# -- the gRPC transport: through the router ------------------------------------------------------
class RouterTransport:
    """Delivers through a router: `InboxService` on a channel to the router, presenting the
    sender's certificate, with the kind's legal context and the destination (if any) as
    metadata. Every call has a deadline (`timeout`); keep the dispatcher's lease above it."""

    def __init__(self, channel: Any, *, timeout: float = 10.0) -> None:
        from cbss.inbox.v1 import inbox_pb2_grpc

        self._stub = inbox_pb2_grpc.InboxServiceStub(channel)
        self._timeout = timeout

    @staticmethod
    def _metadata(entry: OutboxEntry) -> list[tuple[str, str]]:
        from runtime.identity import (
            CUSTOMER_TICKET_HEADER,
            DESTINATION_HEADER,
            LEGAL_CONTEXT_HEADER,
        )

        metadata = [(LEGAL_CONTEXT_HEADER, entry.legal_context), (CUSTOMER_TICKET_HEADER, entry.id)]
        if entry.destination:
            metadata.append((DESTINATION_HEADER, entry.destination))
        return metadata

    @staticmethod
    def _failed(exc: Exception) -> DeliveryFailed:
        from runtime.client import failure

        info = failure(exc)  # type: ignore[arg-type]
        code = info.code.name if info.code is not None else "UNKNOWN"
        return DeliveryFailed(code, info.reason, permanent=is_permanent(code, info.reason))

    def deliver(self, entry: OutboxEntry, sender: str) -> Delivered:
        import grpc
        from google.protobuf import timestamp_pb2
        from google.type import date_pb2

        from cbss.inbox.v1 import inbox_pb2
        from runtime.identity import router_ticket

        created = timestamp_pb2.Timestamp()
        created.FromDatetime(entry.created_at.astimezone(dt.UTC))
        day = entry.reference_date
        request = inbox_pb2.DeliverAttestationRequest(
            attestation=inbox_pb2.Attestation(
                id=entry.id,
                kind=entry.kind,
                subject_insz=entry.subject_insz,
                reference_date=date_pb2.Date(year=day.year, month=day.month, day=day.day),
                sender=sender,
                create_time=created,
                payload=entry.payload,
                payload_type=entry.payload_type,
            )
        )
        try:
            reply, call = self._stub.DeliverAttestation.with_call(
                request, timeout=self._timeout, metadata=self._metadata(entry)
            )
        except grpc.RpcError as exc:
            raise self._failed(exc) from None
        ticket = router_ticket(call)
        return Delivered(reply.name, ticket)

    def acknowledged(self, entry: OutboxEntry) -> dt.datetime | None:
        import grpc
        from google.type import date_pb2

        from cbss.inbox.v1 import inbox_pb2

        day = entry.reference_date
        request = inbox_pb2.GetAttestationStatusRequest(
            id=entry.id,
            subject_insz=entry.subject_insz,
            reference_date=date_pb2.Date(year=day.year, month=day.month, day=day.day),
        )
        try:
            reply = self._stub.GetAttestationStatus(
                request, timeout=self._timeout, metadata=self._metadata(entry)
            )
        except grpc.RpcError as exc:
            raise self._failed(exc) from None
        if reply.state != inbox_pb2.ATTESTATION_STATE_ACKNOWLEDGED:
            return None
        return reply.acknowledge_time.ToDatetime(dt.UTC)
