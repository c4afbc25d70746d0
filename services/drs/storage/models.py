"""The DRS's tables: the employer register and mandates (the ONSS's, as DIMONA's and the
DmfA's, with the DestHa flag), the work-accident insurers, declarations with their anomalies,
the to-do tasks institutions asked for, and the shared outbox (`outbox_attestation`,
runtime.outbox) written in the declaration's transaction.

A declaration's risk data, employment and quarters are JSON documents (read whole, never
queried inside). Unique constraints are named explicitly: the naming convention's
`uq_%(table_name)s_%(column_0_name)s` would give two constraints starting with the same column
the same name.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata
from runtime.outbox import outbox_table

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


OUTBOX = outbox_table(Base.metadata)


class EmployerRow(Base):
    __tablename__ = "employer"
    onss_number: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    provisional: Mapped[bool] = mapped_column(sa.Boolean)
    #: DestHa: files ZIMA 001 without a mutuality's request.
    spontaneous_sickness: Mapped[bool] = mapped_column(sa.Boolean)


class MandateRow(Base):
    __tablename__ = "mandate"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.ForeignKey("employer.onss_number"))
    bureau: Mapped[str] = mapped_column(sa.String(10))
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    __table_args__ = (sa.Index("ix_mandate_employer_bureau", "employer", "bureau"),)


class InsurerRow(Base):
    __tablename__ = "insurer"
    kbo: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    #: The insurer's institution id in the network (the attestation's destination).
    institution: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean)


class DeclarationRow(Base):
    __tablename__ = "declaration"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    employer: Mapped[str] = mapped_column(sa.String(10))
    reference: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64))
    scenario: Mapped[str] = mapped_column(sa.String(40))
    insz: Mapped[str] = mapped_column(sa.String(11))
    risk_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(32))
    late: Mapped[bool] = mapped_column(sa.Boolean)
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    risk: Mapped[dict] = mapped_column(sa.JSON)
    quarters: Mapped[list] = mapped_column(sa.JSON)
    employment: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    dmfa_quarters: Mapped[list] = mapped_column(sa.JSON)
    #: The outbox row's id; NULL when refused (nothing sent).
    attestation_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    attestation_kind: Mapped[str] = mapped_column(sa.String(64))
    destination: Mapped[str] = mapped_column(sa.String(64))
    task_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True)
    submitted_by: Mapped[str] = mapped_column(sa.String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: Mapped[str] = mapped_column(sa.String(11), server_default="")
    __table_args__ = (
        sa.UniqueConstraint("employer", "reference", name="uq_declaration_reference"),
        sa.Index("ix_declaration_employer_id", "employer", "id"),
        #: A worker's declarations newest first (DrsConsultationService.ListWorkerDeclarations).
        sa.Index("ix_declaration_insz_id", "insz", "id"),
    )


class DeclarationAnomalyRow(Base):
    __tablename__ = "declaration_anomaly"
    declaration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("declaration.id", ondelete="CASCADE"), primary_key=True
    )
    ordinal: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[str] = mapped_column(sa.String(16))
    field: Mapped[str] = mapped_column(sa.String(80))
    value: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(200))


class TaskRow(Base):
    __tablename__ = "task"
    #: Request order (the to-do list's order after the state).
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(sa.String(36))
    employer: Mapped[str] = mapped_column(sa.String(10))
    scenario: Mapped[str] = mapped_column(sa.String(40))
    insz: Mapped[str] = mapped_column(sa.String(11))
    risk_date: Mapped[dt.date] = mapped_column(sa.Date)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    request_id: Mapped[str] = mapped_column(sa.String(36))
    digest: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    state: Mapped[str] = mapped_column(sa.String(8))  # OPEN, DONE
    #: The answering declaration's reference, when done.
    declaration: Mapped[str] = mapped_column(sa.String(64))
    __table_args__ = (
        sa.UniqueConstraint("id", name="uq_task_id"),
        sa.UniqueConstraint("requested_by", "request_id", name="uq_task_request"),
        sa.Index("ix_task_employer_state_seq", "employer", "state", "seq"),
        sa.Index("ix_task_employer_insz", "employer", "insz", "scenario", "state"),
    )
