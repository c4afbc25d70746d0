"""SQLAlchemy models of DIMONA.

- `employer`, `mandate`: the employer register ONSS keeps here and the bureaus' mandates;
- `worker`: one row per worker ever declared — the row a declaration locks (`SELECT … FOR
  UPDATE`) so that every declaration about a worker is serialised, whatever the employer;
- `period`: Dimona periods; `id` is the Dimona period id (numeric, at most 12 digits: checked);
- `declaration`: every declaration received, accepted or refused, with its answer; unique per
  (employer, reference): the idempotency key;
- `employment_event` and its one-row counter `event_counter` (updated in the writing
  transaction, so a rollback leaves no gap);
- `directory_outbox`, `directory_mirror`: the directory dispatcher's queue and what it last
  registered at the router (service/directory_sync.py);
- `student_actuals`: students' actual minutes per employer and quarter, recorded from the DmfA
  (DimonaQuarterService); in the quota counter they replace the planned minutes of that
  employer's student periods in that quarter. (Named as the DmfA contract's brief names it; the
  other tables are singular.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata

#: 64-bit integers that are still SQLite's rowid alias when used as an autoincrement key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


class EmployerRow(Base):
    __tablename__ = "employer"

    onss_number: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    enterprise_number: Mapped[str] = mapped_column(sa.String(10))
    name: Mapped[str] = mapped_column(sa.String(200))
    provisional: Mapped[bool] = mapped_column(sa.Boolean)
    joint_committees: Mapped[list[str]] = mapped_column(sa.JSON)
    size_class: Mapped[str] = mapped_column(sa.String(10))


class MandateRow(Base):
    __tablename__ = "mandate"
    __table_args__ = (sa.Index("ix_mandate_employer_bureau", "employer", "bureau"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10), sa.ForeignKey("employer.onss_number"))
    bureau: Mapped[str] = mapped_column(sa.String(10))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)


class WorkerRow(Base):
    __tablename__ = "worker"

    insz: Mapped[str] = mapped_column(sa.String(11), primary_key=True)


class PeriodRow(Base):
    __tablename__ = "period"
    __table_args__ = (
        sa.CheckConstraint("id BETWEEN 1 AND 999999999999", name="period_id_12_digits"),
        sa.Index("ix_period_worker_start", "worker", "start_date"),
        sa.Index("ix_period_employer_id", "employer", "id"),
        # ListEmployerQuarterPeriods: one employer's active periods in id order (keyset pages).
        sa.Index("ix_period_employer_state_id", "employer", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10))
    worker: Mapped[str] = mapped_column(sa.String(11))
    worker_type: Mapped[str] = mapped_column(sa.String(3))
    joint_committee: Mapped[str] = mapped_column(sa.String(6))
    sub_entity: Mapped[str] = mapped_column(sa.String(10))
    using_employer: Mapped[str] = mapped_column(sa.String(10))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    start_time: Mapped[int | None] = mapped_column(sa.SmallInteger)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    end_time: Mapped[int | None] = mapped_column(sa.SmallInteger)
    planned_hours: Mapped[int] = mapped_column(sa.Integer)
    flexi_contract: Mapped[str | None] = mapped_column(sa.String(8))
    state: Mapped[str] = mapped_column(sa.String(10))
    student_minutes: Mapped[int] = mapped_column(sa.Integer)
    exceeding_minutes: Mapped[int] = mapped_column(sa.Integer)
    late: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class DeclarationRow(Base):
    __tablename__ = "declaration"
    __table_args__ = (sa.UniqueConstraint("employer", "reference", name="uq_declaration_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10))
    reference: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(6))
    status: Mapped[str] = mapped_column(sa.String(24))
    anomalies: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    period_id: Mapped[int] = mapped_column(sa.BigInteger)
    worker: Mapped[str] = mapped_column(sa.String(11))
    late: Mapped[bool] = mapped_column(sa.Boolean)
    deadline: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(sa.String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    #: The period as it was after this declaration (the answer, replayed on a retry).
    period_snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: Mapped[str] = mapped_column(sa.String(11), server_default="")


class EmploymentEventRow(Base):
    __tablename__ = "employment_event"

    sequence: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(10))
    period_id: Mapped[int] = mapped_column(sa.BigInteger)
    declaration: Mapped[str] = mapped_column(sa.String(120))
    period: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class EventCounterRow(Base):
    __tablename__ = "event_counter"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class DirectoryOutboxRow(Base):
    __tablename__ = "directory_outbox"
    __table_args__ = (sa.Index("ix_directory_outbox_worker", "worker", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    worker: Mapped[str] = mapped_column(sa.String(11))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class DirectoryMirrorRow(Base):
    __tablename__ = "directory_mirror"

    worker: Mapped[str] = mapped_column(sa.String(11), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)


class StudentActualRow(Base):
    __tablename__ = "student_actuals"
    __table_args__ = (
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_1_to_4"),
        sa.CheckConstraint("minutes BETWEEN 0 AND 132480", name="minutes_in_a_quarter"),
        # The quota counter reads a worker's year (IN lists of workers).
        sa.Index("ix_student_actuals_worker_year", "worker_insz", "year"),
    )

    employer: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    worker_insz: Mapped[str] = mapped_column(sa.String(11), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    minutes: Mapped[int] = mapped_column(sa.Integer)
    source: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
