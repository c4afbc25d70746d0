"""The DmfA's tables: the employer register and mandates (the ONSS's, as DIMONA's), declarations
(one lock row per employer and quarter), versions with their anomalies and workers, the
workers' quarters (the current accepted version of each employer, for consultation), the
numbered event log and its counter, and the quota outbox (students' actual hours for DIMONA).

Workers and their contributions are stored as JSON documents per worker (`version_worker.body`,
`worker_quarter.body`): they are read whole, never queried inside.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


class EmployerRow(Base):
    __tablename__ = "employer"
    onss_number: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    provisional: Mapped[bool] = mapped_column(sa.Boolean)


class MandateRow(Base):
    __tablename__ = "mandate"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.ForeignKey("employer.onss_number"))
    bureau: Mapped[str] = mapped_column(sa.String(10))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    __table_args__ = (sa.Index("ix_mandate_employer_bureau", "employer", "bureau"),)


class DeclarationRow(Base):
    """One per employer and quarter: the row submissions lock, and where it stands."""

    __tablename__ = "declaration"
    employer: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    version_count: Mapped[int] = mapped_column(sa.Integer)
    current_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class VersionRow(Base):
    __tablename__ = "version"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10))
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.Integer)
    number: Mapped[int] = mapped_column(sa.Integer)
    submission_reference: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(32))
    corrects: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    superseded_by: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    late: Mapped[bool] = mapped_column(sa.Boolean)
    workers: Mapped[int] = mapped_column(sa.Integer)
    remuneration: Mapped[int] = mapped_column(sa.BigInteger)
    worker_contributions: Mapped[int] = mapped_column(sa.BigInteger)
    employer_contributions: Mapped[int] = mapped_column(sa.BigInteger)
    submitted_by: Mapped[str] = mapped_column(sa.String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: Mapped[str] = mapped_column(sa.String(11), server_default="")
    __table_args__ = (
        sa.UniqueConstraint("employer", "year", "quarter", "number", name="uq_version_number"),
        sa.UniqueConstraint("employer", "submission_reference", name="uq_version_reference"),
    )


class AnomalyRow(Base):
    __tablename__ = "anomaly"
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("version.id", ondelete="CASCADE"), primary_key=True
    )
    ordinal: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[str] = mapped_column(sa.String(16))
    insz: Mapped[str] = mapped_column(sa.String(11))
    worker_code: Mapped[str] = mapped_column(sa.String(3))
    occupation: Mapped[int] = mapped_column(sa.Integer)
    service_code: Mapped[str] = mapped_column(sa.String(3))
    remuneration_code: Mapped[str] = mapped_column(sa.String(3))
    value: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(200))


class VersionWorkerRow(Base):
    __tablename__ = "version_worker"
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("version.id", ondelete="CASCADE"), primary_key=True
    )
    ordinal: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    insz: Mapped[str] = mapped_column(sa.String(11))
    body: Mapped[dict] = mapped_column(sa.JSON)
    __table_args__ = (sa.Index("ix_version_worker_version_insz", "version_id", "insz"),)


class WorkerQuarterRow(Base):
    """A worker's quarter with one employer, from its current accepted version."""

    __tablename__ = "worker_quarter"
    insz: Mapped[str] = mapped_column(sa.String(11), primary_key=True)
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    employer: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    body: Mapped[dict] = mapped_column(sa.JSON)
    #: The student minutes sent to DIMONA for this worker; NULL when not a student here.
    student_minutes: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    __table_args__ = (sa.Index("ix_worker_quarter_employer", "employer", "year", "quarter"),)


class DeclarationEventRow(Base):
    __tablename__ = "declaration_event"
    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(sa.String(16))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("version.id"))
    employer: Mapped[str] = mapped_column(sa.String(10))
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.Integer)
    version: Mapped[int] = mapped_column(sa.Integer)
    superseded: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class EventCounterRow(Base):
    __tablename__ = "event_counter"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigId)


class QuotaUpdateRow(Base):
    __tablename__ = "quota_update"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10))
    year: Mapped[int] = mapped_column(sa.Integer)
    quarter: Mapped[int] = mapped_column(sa.Integer)
    entries: Mapped[list] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(16))  # PENDING, DONE, FAILED
    attempts: Mapped[int] = mapped_column(sa.Integer)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
    __table_args__ = (sa.Index("ix_quota_update_state_id", "state", "id"),)
