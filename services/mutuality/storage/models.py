"""SQLAlchemy models of a mutuality: `affiliation`, one row per member per period."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata


class Base(DeclarativeBase):
    metadata = metadata()


class AffiliationRow(Base):
    """A person's affiliation to this mutuality from `since` (to `until`, NULL: ongoing)."""

    __tablename__ = "affiliation"
    __table_args__ = (
        sa.Index(
            "ix_affiliation_not_integrated",
            "insz",
            sqlite_where=sa.text("integrated_at IS NULL"),
            postgresql_where=sa.text("integrated_at IS NULL"),
        ),
    )

    insz: Mapped[str] = mapped_column(sa.String(11), primary_key=True)
    since: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    until: Mapped[dt.date | None] = mapped_column(sa.Date)
    role: Mapped[str] = mapped_column(sa.String(10))
    insurability: Mapped[str] = mapped_column(sa.String(10))
    integrated_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
