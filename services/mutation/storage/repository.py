"""The mutation service's unit of work: positions, grants, subscriptions and the outbox in one
transaction (the fan-out's position moves in the same commit as its notifications)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mutation.service.model import LEGAL_CONTEXTS, Delivery, Grant, Lag, Position, StreamEntry
from mutation.storage.models import (
    OUTBOX,
    EventTypeGrantRow,
    SourcePositionRow,
    StreamNotificationRow,
    SubscriberRow,
    SubscriptionRow,
)
from runtime.clock import Clock, SystemClock, as_utc
from runtime.db import Database
from runtime.errors import ConflictError
from runtime.outbox import DeliveryStatus, Outbox, OutgoingAttestation

SENDER = "cbss"


class StrictClock:
    """The system clock, strictly increasing within the process: the outbox orders a person's
    notifications by creation time, so two queued in one transaction must not tie."""

    def __init__(self, inner: Clock | None = None) -> None:
        self._inner = inner or SystemClock()
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            now = self._inner.now()
            if now <= self._last:
                now = self._last + dt.timedelta(microseconds=1)
            self._last = now
            return now

    def today(self) -> dt.date:
        return self._inner.today()


def mutation_outbox(clock: Clock | None = None) -> Outbox:
    return Outbox(OUTBOX, SENDER, LEGAL_CONTEXTS, clock or StrictClock())


def _grant(row: EventTypeGrantRow) -> Grant:
    return Grant(
        id=row.id,
        institution=row.institution,
        event_type=row.event_type,
        capacities=frozenset(row.capacities),
        deliberation=row.deliberation,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


class SqlMutationUnit:
    """One transaction; never commits (the unit factory does)."""

    def __init__(self, session: Session, outbox: Outbox, clock: Clock) -> None:
        self._session, self._outbox, self._clock = session, outbox, clock

    def position(self, source: str) -> Position:
        row = self._session.get(SourcePositionRow, source)
        if row is None:
            return Position(source, 0, 0, None)
        return Position(row.source, row.sequence, row.source_last, as_utc(row.updated_at))

    def advance(self, source: str, expected: int, to: int, source_last: int) -> None:
        """Compare-and-set: raises ConflictError when the position is no longer `expected`."""
        t = SourcePositionRow.__table__
        now = self._clock.now()
        result = self._session.execute(
            sa.update(t)
            .where(t.c.source == source, t.c.sequence == expected)
            .values(sequence=to, source_last=source_last, updated_at=now)
        )
        if result.rowcount == 1:
            return
        if expected == 0 and self._session.get(SourcePositionRow, source) is None:
            # The first pass: a concurrent first pass makes this insert fail (ConflictError).
            self._session.execute(
                sa.insert(t).values(
                    source=source, sequence=to, source_last=source_last, updated_at=now
                )
            )
            return
        raise ConflictError()

    def positions(self) -> list[Position]:
        rows = self._session.scalars(
            sa.select(SourcePositionRow).order_by(SourcePositionRow.source)
        )
        return [Position(r.source, r.sequence, r.source_last, as_utc(r.updated_at)) for r in rows]

    def grants(self, institution: str | None = None) -> list[Grant]:
        query = sa.select(EventTypeGrantRow)
        if institution:
            query = query.where(EventTypeGrantRow.institution == institution)
        query = query.order_by(
            EventTypeGrantRow.institution, EventTypeGrantRow.event_type, EventTypeGrantRow.id
        )
        return [_grant(r) for r in self._session.scalars(query)]

    def add_grant(self, grant: Grant) -> None:
        self._session.add(
            EventTypeGrantRow(
                id=grant.id,
                institution=grant.institution,
                event_type=grant.event_type,
                capacities=sorted(grant.capacities),
                deliberation=grant.deliberation,
                valid_from=grant.valid_from,
                valid_to=grant.valid_to,
                created_at=self._clock.now(),
            )
        )

    def subscriptions(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for institution, event_type in self._session.execute(
            sa.select(SubscriptionRow.institution, SubscriptionRow.event_type)
        ):
            found.setdefault(institution, set()).add(event_type)
        return {k: frozenset(v) for k, v in found.items()}

    def set_subscription(self, institution: str, event_types: Sequence[str]) -> None:
        t = SubscriptionRow.__table__
        self._session.execute(sa.delete(t).where(t.c.institution == institution))
        now = self._clock.now()
        if event_types:
            self._session.execute(
                sa.insert(t),
                [
                    {"institution": institution, "event_type": e, "created_at": now}
                    for e in event_types
                ],
            )

    def enqueue(self, attestations: Sequence[OutgoingAttestation]) -> None:
        self._outbox.enqueue_all(self._session, attestations)

    # -- delivery modes and streams ----------------------------------------------------------
    def deliveries(self) -> dict[str, Delivery]:
        rows = self._session.execute(sa.select(SubscriberRow.institution, SubscriberRow.delivery))
        return {i: Delivery(d) for i, d in rows}

    def set_delivery(self, institution: str, delivery: Delivery) -> None:
        row = self._session.get(SubscriberRow, institution)
        if row is None:
            self._session.add(
                SubscriberRow(
                    institution=institution,
                    delivery=delivery.value,
                    acknowledged_sequence=0,
                    updated_at=self._clock.now(),
                )
            )
        elif row.delivery != delivery.value:
            row.delivery, row.updated_at = delivery.value, self._clock.now()

    def append_stream(self, entries: Sequence[StreamEntry]) -> None:
        if not entries:
            return
        now = self._clock.now()
        self._session.execute(
            sa.insert(StreamNotificationRow.__table__),
            [
                {
                    "id": e.id,
                    "institution": e.institution,
                    "event_type": e.event_type,
                    "insz": e.insz,
                    "payload": e.payload,
                    "created_at": now,
                }
                for e in entries
            ],
        )

    def stream_after(self, institution: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        t = StreamNotificationRow.__table__
        rows = self._session.execute(
            sa.select(t.c.seq, t.c.payload)
            .where(t.c.institution == institution, t.c.seq > after)
            .order_by(t.c.seq)
            .limit(limit)
        )
        return [(seq, bytes(payload)) for seq, payload in rows]

    def acknowledged(self, institution: str) -> int:
        row = self._session.get(SubscriberRow, institution)
        return row.acknowledged_sequence if row is not None else 0

    def last_stream_sequence(self, institution: str) -> int:
        t = StreamNotificationRow.__table__
        last = self._session.scalar(
            sa.select(sa.func.max(t.c.seq)).where(t.c.institution == institution)
        )
        return last or 0

    def acknowledge(self, institution: str, up_to: int) -> None:
        t = SubscriberRow.__table__
        self._session.execute(
            sa.update(t)
            .where(t.c.institution == institution, t.c.acknowledged_sequence < up_to)
            .values(acknowledged_sequence=up_to, updated_at=self._clock.now())
        )

    def unacknowledged(self, institution: str, after: int) -> int:
        t = StreamNotificationRow.__table__
        return (
            self._session.scalar(
                sa.select(sa.func.count()).where(t.c.institution == institution, t.c.seq > after)
            )
            or 0
        )

    def purge_stream(self, before: dt.datetime) -> int:
        """Delete acknowledged stream notifications created before `before`."""
        n, sub = StreamNotificationRow.__table__, SubscriberRow.__table__
        acknowledged = (
            sa.select(sub.c.acknowledged_sequence)
            .where(sub.c.institution == n.c.institution)
            .scalar_subquery()
        )
        result = self._session.execute(
            sa.delete(n).where(n.c.created_at < before, n.c.seq <= acknowledged)
        )
        return result.rowcount or 0

    def _stream_lags(self) -> list[Lag]:
        n, s = StreamNotificationRow.__table__, SubscriberRow.__table__
        rows = self._session.execute(
            sa.select(
                s.c.institution,
                s.c.acknowledged_sequence,
                sa.func.count(n.c.seq).filter(n.c.seq > s.c.acknowledged_sequence),
                sa.func.count(n.c.seq).filter(n.c.seq <= s.c.acknowledged_sequence),
                sa.func.min(n.c.created_at).filter(n.c.seq > s.c.acknowledged_sequence),
            )
            .select_from(s.outerjoin(n, n.c.institution == s.c.institution))
            .where(s.c.delivery == Delivery.STREAM.value)
            .group_by(s.c.institution, s.c.acknowledged_sequence)
        )
        return [
            Lag(institution, pending, 0, acked, 0, as_utc(oldest), Delivery.STREAM)
            for institution, _, pending, acked, oldest in rows
        ]

    def lags(self) -> list[Lag]:
        t = OUTBOX
        unacknowledged = (DeliveryStatus.PENDING.value, DeliveryStatus.DELIVERED.value)
        rows = self._session.execute(
            sa.select(t.c.destination, t.c.status, sa.func.count(), sa.func.min(t.c.created_at))
            .group_by(t.c.destination, t.c.status)
            .order_by(t.c.destination)
        )
        by: dict[str, dict[str, Any]] = {}
        for destination, status, count, oldest in rows:
            lag = by.setdefault(destination, {"oldest": None})
            lag[status] = count
            oldest = as_utc(oldest)
            if status in unacknowledged and (lag["oldest"] is None or oldest < lag["oldest"]):
                lag["oldest"] = oldest
        inbox = [
            Lag(
                institution=destination,
                pending=v.get(DeliveryStatus.PENDING.value, 0),
                delivered=v.get(DeliveryStatus.DELIVERED.value, 0),
                acknowledged=v.get(DeliveryStatus.ACKNOWLEDGED.value, 0),
                dead_lettered=v.get(DeliveryStatus.DEAD_LETTERED.value, 0),
                oldest_unacknowledged=v["oldest"],
            )
            for destination, v in sorted(by.items())
        ]
        return sorted(
            [*inbox, *self._stream_lags()], key=lambda lag: (lag.institution, lag.delivery.value)
        )


def unit_factory(db: Database, outbox: Outbox, clock: Clock | None = None) -> Any:
    clock = clock or SystemClock()

    @contextmanager
    def units(*, write: bool = True) -> Iterator[SqlMutationUnit]:
        with db.unit_of_work(write=write) as session:
            yield SqlMutationUnit(session, outbox, clock)

    return units
