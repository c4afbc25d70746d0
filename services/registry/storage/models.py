"""SQLAlchemy models of the registry.

- `person`: one row per number ever issued (never deleted: numbers are never reused). A replaced
  number keeps its row with `replaced_by`; the person's data lives in the new number's row.
  `last_name_norm` / `first_names_norm` hold `registry.service.names` forms for search and
  duplicate detection, indexed with the INSZ in search order.
- `address`: address periods of a person (`end_date` NULL: the current address).
- `mutation_event`: the event log; `sequence` comes from `mutation_counter`, a one-row counter
  updated in the writing transaction, so that a rollback leaves no gap.
- `idempotency_key`: the first answer per (caller, request_id).
- `seed_run`: which synthetic population was loaded (`python -m registry seed`).

Text compared by range or sorted (INSZ, normalised names) uses the "C" collation on PostgreSQL:
byte order of UTF-8 is code-point order, the same as SQLite's BINARY and Python's `<`, so keyset
positions and prefix ranges mean the same everywhere, whatever the database's locale.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata


def ordered_text(length: int) -> sa.types.TypeEngine[str]:
    """A string compared in code-point order on every backend ("C" collation on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


#: 64-bit integers that are still SQLite's rowid alias when used as an autoincrement key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


class PersonRow(Base):
    """A number and, unless it was replaced, its person's data."""

    __tablename__ = "person"
    __table_args__ = (
        sa.Index("ix_person_search", "last_name_norm", "first_names_norm", "insz"),
        # Partial: only replaced numbers (0.5 %); never chosen for `replaced_by IS NULL`.
        sa.Index(
            "ix_person_replaced_by",
            "replaced_by",
            sqlite_where=sa.text("replaced_by IS NOT NULL"),
            postgresql_where=sa.text("replaced_by IS NOT NULL"),
        ),
    )

    insz: Mapped[str] = mapped_column(ordered_text(11), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_names: Mapped[list[str]] = mapped_column(sa.JSON)
    last_name_norm: Mapped[str] = mapped_column(ordered_text(200))
    first_names_norm: Mapped[str] = mapped_column(ordered_text(600))
    sex: Mapped[str] = mapped_column(sa.String(8))
    birth_year: Mapped[int] = mapped_column(sa.SmallInteger)
    birth_month: Mapped[int] = mapped_column(sa.SmallInteger)
    birth_day: Mapped[int] = mapped_column(sa.SmallInteger)
    birth_place: Mapped[str] = mapped_column(sa.String(100))
    birth_country: Mapped[str] = mapped_column(sa.String(2))
    nationality: Mapped[str] = mapped_column(sa.String(2))
    civil_state: Mapped[str] = mapped_column(sa.String(10))
    name_since: Mapped[dt.date | None] = mapped_column(sa.Date)
    death_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    death_place: Mapped[str] = mapped_column(sa.String(100))
    replaced_by: Mapped[str | None] = mapped_column(ordered_text(11))


class AddressRow(Base):
    """An address period of a person."""

    __tablename__ = "address"
    __table_args__ = (sa.Index("ix_address_insz_start", "insz", "start_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    insz: Mapped[str] = mapped_column(ordered_text(11), sa.ForeignKey("person.insz"))
    street: Mapped[str] = mapped_column(sa.String(100))
    house_number: Mapped[str] = mapped_column(sa.String(10))
    box: Mapped[str] = mapped_column(sa.String(10))
    postcode: Mapped[str] = mapped_column(sa.String(12))
    municipality: Mapped[str] = mapped_column(sa.String(100))
    country_code: Mapped[str] = mapped_column(sa.String(2))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)


class MutationEventRow(Base):
    """One event of the log."""

    __tablename__ = "mutation_event"
    __table_args__ = (sa.Index("ix_mutation_event_insz", "insz"),)

    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    insz: Mapped[str] = mapped_column(ordered_text(11))
    kind: Mapped[str] = mapped_column(sa.String(20))
    effective_date: Mapped[dt.date] = mapped_column(sa.Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    values_before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    values_after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    recorded_by: Mapped[str] = mapped_column(sa.String(200))


class MutationCounterRow(Base):
    """The one-row counter that numbers events (row id 1, created by the migration)."""

    __tablename__ = "mutation_counter"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class IdempotencyKeyRow(Base):
    """The first answer to a (caller, request_id)."""

    __tablename__ = "idempotency_key"

    caller: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    request_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(sa.String(32))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class SeedRunRow(Base):
    """A synthetic population loaded by `python -m registry seed`."""

    __tablename__ = "seed_run"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    count: Mapped[int] = mapped_column(sa.Integer)
    generator_version: Mapped[int] = mapped_column(sa.Integer)
    persons: Mapped[int] = mapped_column(sa.Integer)
    addresses: Mapped[int] = mapped_column(sa.Integer)
    completed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
