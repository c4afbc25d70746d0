"""Tables of the mutation service: source positions, grants, subscriptions, and the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata
from runtime.outbox import outbox_table

_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


#: The shared outbox (runtime.outbox), on this service's metadata.
OUTBOX = outbox_table(Base.metadata)
# The lag per institution reads the outbox by destination and status.
Index("ix_outbox_attestation_destination", OUTBOX.c.destination, OUTBOX.c.status)


class SourcePositionRow(Base):
    """How far the fan-out has durably taken a source's event log."""

    __tablename__ = "source_position"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    sequence: Mapped[int] = mapped_column(_SEQ)
    source_last: Mapped[int] = mapped_column(_SEQ)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class EventTypeGrantRow(Base):
    __tablename__ = "event_type_grant"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    capacities: Mapped[list[str]] = mapped_column(JSON)
    deliberation: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SubscriptionRow(Base):
    __tablename__ = "subscription"

    institution: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SubscriberRow(Base):
    """How an institution receives its notifications, and (STREAM) how far it acknowledged."""

    __tablename__ = "subscriber"

    institution: Mapped[str] = mapped_column(String(64), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(8))
    acknowledged_sequence: Mapped[int] = mapped_column(_SEQ)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class StreamNotificationRow(Base):
    """A notification kept for a STREAM subscriber, read with StreamNotifications."""

    __tablename__ = "stream_notification"
    __table_args__ = (Index("ix_stream_notification_institution_seq", "institution", "seq"),)

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    institution: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    insz: Mapped[str] = mapped_column(String(11))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
