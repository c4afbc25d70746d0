"""SQLAlchemy models of an inbox: `attestation`, one row per attestation received."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata

#: A 64-bit key on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (the rowid) to auto-increment.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


class AttestationRow(Base):
    """An attestation as received: the sender's content, its digest, and the inbox's state."""

    __tablename__ = "attestation"
    __table_args__ = (
        sa.Index("ix_attestation_kind_seq", "kind", "seq"),
        sa.Index("ix_attestation_state_seq", "state", "seq"),
    )

    #: Storage order: ListAttestations pages by it.
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    subject_insz: Mapped[str] = mapped_column(sa.String(11))
    reference_date: Mapped[dt.date] = mapped_column(sa.Date)
    sender: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    payload_type: Mapped[str] = mapped_column(sa.String(128))
    digest: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    state: Mapped[str] = mapped_column(sa.String(16))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    router_ticket: Mapped[str] = mapped_column(sa.String(36))
