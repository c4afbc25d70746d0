"""SQLAlchemy models of the echo service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata


class Base(DeclarativeBase):
    metadata = metadata()


class NoteRow(Base):
    """A note; (creator, request_id) is the idempotency key."""

    __tablename__ = "note"
    __table_args__ = (UniqueConstraint("creator", "request_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[str] = mapped_column(String(1000))
    creator: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
