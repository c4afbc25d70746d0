"""SQLAlchemy models of the research data warehouse. No column holds an INSZ: persons are the
trusted third party's codes (`person`, 32 base32 characters).

- `research_project`, `project_grant`: the projects and the research centres granted them;
- `extraction`: the extraction log, one row per source extraction received from the TTP;
- `quarter_build`: one row per built quarter of a project;
- `coded_person`, `coded_period`, `coded_worker_record`: a quarter's coded records;
- `position`: each coded person's socio-economic position on the quarter's last day;
- `table_cell`: the published tables' cells, with their true values and their status
  (PUBLISHED, PRIMARY, SECONDARY): suppressed values never leave the warehouse;
- `export_log`: every export, written before its first byte is sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from runtime.db import metadata

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Project = sa.String(40)
Code = sa.String(32)


class Base(DeclarativeBase):
    metadata = metadata()


class ResearchProjectRow(Base):
    __tablename__ = "research_project"

    id: Mapped[str] = mapped_column(Project, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    unlinkable: Mapped[bool] = mapped_column(sa.Boolean)
    public: Mapped[bool] = mapped_column(sa.Boolean)


class ProjectGrantRow(Base):
    __tablename__ = "project_grant"

    project: Mapped[str] = mapped_column(
        Project, sa.ForeignKey("research_project.id"), primary_key=True
    )
    institution: Mapped[str] = mapped_column(sa.String(63), primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    microdata: Mapped[bool] = mapped_column(sa.Boolean)


class ExtractionRow(Base):
    __tablename__ = "extraction"
    __table_args__ = (sa.Index("ix_extraction_project_year_quarter", "project", "year", "quarter"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(Project)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger)
    source: Mapped[str] = mapped_column(sa.String(32))
    records: Mapped[int] = mapped_column(sa.BigInteger)
    router_ticket: Mapped[str] = mapped_column(sa.String(64))
    key_id: Mapped[str] = mapped_column(sa.String(16))
    received_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class QuarterBuildRow(Base):
    __tablename__ = "quarter_build"

    project: Mapped[str] = mapped_column(Project, primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    key_id: Mapped[str] = mapped_column(sa.String(16))
    persons: Mapped[int] = mapped_column(sa.Integer)
    in_work: Mapped[int] = mapped_column(sa.Integer)
    cells: Mapped[int] = mapped_column(sa.Integer)
    primary_suppressed: Mapped[int] = mapped_column(sa.Integer)
    secondary_suppressed: Mapped[int] = mapped_column(sa.Integer)
    threshold: Mapped[int] = mapped_column(sa.SmallInteger)
    dominance_percent: Mapped[int] = mapped_column(sa.SmallInteger)
    #: The extractions it was built from: [{source, records, router_ticket, key_id}, ...].
    extractions: Mapped[list[Any]] = mapped_column(sa.JSON)
    built_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class CodedPersonRow(Base):
    __tablename__ = "coded_person"

    project: Mapped[str] = mapped_column(Project, primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    person: Mapped[str] = mapped_column(Code, primary_key=True)
    age: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sex: Mapped[str] = mapped_column(sa.String(8))
    postcode: Mapped[str] = mapped_column(sa.String(12))
    country_code: Mapped[str] = mapped_column(sa.String(2))


class CodedPeriodRow(Base):
    __tablename__ = "coded_period"
    __table_args__ = (
        sa.Index("ix_coded_period_quarter_person", "project", "year", "quarter", "person"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(Project)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger)
    person: Mapped[str] = mapped_column(Code)
    employer: Mapped[str] = mapped_column(sa.String(10))
    worker_type: Mapped[str] = mapped_column(sa.String(3))
    joint_committee: Mapped[str] = mapped_column(sa.String(8))
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date | None] = mapped_column(sa.Date)


class CodedWorkerRecordRow(Base):
    __tablename__ = "coded_worker_record"
    __table_args__ = (
        sa.Index("ix_coded_worker_record_quarter_person", "project", "year", "quarter", "person"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(Project)
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger)
    person: Mapped[str] = mapped_column(Code)
    employer: Mapped[str] = mapped_column(sa.String(10))
    worker_code: Mapped[str] = mapped_column(sa.String(3))
    days: Mapped[int] = mapped_column(sa.Integer)
    hours: Mapped[int] = mapped_column(sa.Integer)
    pay: Mapped[int] = mapped_column(sa.BigInteger)


class PositionRow(Base):
    __tablename__ = "position"
    # A person's trajectory: their positions quarter after quarter.
    __table_args__ = (sa.Index("ix_position_project_person", "project", "person"),)

    project: Mapped[str] = mapped_column(Project, primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    person: Mapped[str] = mapped_column(Code, primary_key=True)
    position: Mapped[str] = mapped_column(sa.String(20))
    worker_class: Mapped[str] = mapped_column(sa.String(16))
    joint_committee: Mapped[str] = mapped_column(sa.String(8))
    employers: Mapped[int] = mapped_column(sa.SmallInteger)
    age_band: Mapped[str] = mapped_column(sa.String(8))
    sex: Mapped[str] = mapped_column(sa.String(8))
    region: Mapped[str] = mapped_column(sa.String(10))
    pay: Mapped[int] = mapped_column(sa.BigInteger)


class TableCellRow(Base):
    __tablename__ = "table_cell"

    project: Mapped[str] = mapped_column(Project, primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    quarter: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    table_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: The categories joined by "|" (e.g. "302|BLUE_COLLAR|25-34|MALE|BRUSSELS").
    cell_key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    categories: Mapped[list[Any]] = mapped_column(sa.JSON)
    persons: Mapped[int] = mapped_column(sa.BigInteger)
    pay: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(10))


class ExportLogRow(Base):
    __tablename__ = "export_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project: Mapped[str] = mapped_column(Project)
    requester: Mapped[str] = mapped_column(sa.String(200))
    quarters: Mapped[str] = mapped_column(sa.String(400))
    format: Mapped[str] = mapped_column(sa.String(8))
    microdata: Mapped[bool] = mapped_column(sa.Boolean)
    #: [[name, bytes, sha256], ...] of the data files.
    files: Mapped[list[Any]] = mapped_column(sa.JSON)
    exported_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
