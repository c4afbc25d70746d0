"""SQLAlchemy models of the router: institutions, services, authorisations, the directory.

The message log's tables are in storage/message_log.py. `config_version` is a one-row counter
that every administrative write increments in the same transaction, so that every router replica
sees a revocation or a suspension on its next call (it compares the counter, then reloads).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata


class Base(DeclarativeBase):
    metadata = metadata()


class ConfigVersionRow(Base):
    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class InstitutionRow(Base):
    __tablename__ = "institution"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    network: Mapped[str] = mapped_column(String(16))
    hub: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sectors: Mapped[list[int]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ServiceProviderRow(Base):
    __tablename__ = "service_provider"

    service: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    deceased_policy: Mapped[str] = mapped_column(String(20))
    #: A serialized google.protobuf.FileDescriptorSet: the service's files and dependencies.
    descriptor_set: Mapped[bytes] = mapped_column(LargeBinary)
    holder_capacities: Mapped[list[str]] = mapped_column(JSON, default=list)  # ["11/1", ...]
    via_router: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuthorisationRow(Base):
    __tablename__ = "authorisation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    deliberation: Mapped[str] = mapped_column(String(100))
    requester: Mapped[str] = mapped_column(String(64), index=True)
    service: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(100), default="")
    destination: Mapped[str] = mapped_column(String(64), default="")
    legal_contexts: Mapped[list[str]] = mapped_column(JSON)
    directory_check: Mapped[str] = mapped_column(String(16))
    capacities: Mapped[list[str]] = mapped_column(JSON)  # ["11/1", ...]
    read_mask_cap: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DirectoryEntryRow(Base):
    __tablename__ = "directory_entry"
    __table_args__ = (
        Index("ix_directory_entry_institution_insz", "institution", "insz"),
        Index("ix_directory_entry_insz", "insz"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    insz: Mapped[str] = mapped_column(String(11))
    institution: Mapped[str] = mapped_column(String(64))
    sector: Mapped[int] = mapped_column(Integer)
    code: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
