"""The warehouse's store over SQL (SQLite or PostgreSQL): Core statements, one transaction per
call (a quarter is replaced whole in one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from runtime.db import Database
from warehouse.service.model import (
    CodedPeriod,
    CodedPerson,
    CodedWorkerRecord,
    Extraction,
    Grant,
    Project,
    Quarter,
    QuarterBuild,
    Source,
)
from warehouse.service.ports import ExportEntry, QuarterRecords
from warehouse.service.positions import PersonPosition, Position
from warehouse.service.suppression import ProtectedCell, Status
from warehouse.storage.models import (
    CodedPeriodRow,
    CodedPersonRow,
    CodedWorkerRecordRow,
    ExportLogRow,
    ExtractionRow,
    PositionRow,
    ProjectGrantRow,
    QuarterBuildRow,
    ResearchProjectRow,
    TableCellRow,
)

_project = ResearchProjectRow.__table__
_grant = ProjectGrantRow.__table__
_extraction = ExtractionRow.__table__
_build = QuarterBuildRow.__table__
_person = CodedPersonRow.__table__
_period = CodedPeriodRow.__table__
_worker = CodedWorkerRecordRow.__table__
_position = PositionRow.__table__
_cell = TableCellRow.__table__
_export = ExportLogRow.__table__
#: Rows per INSERT statement (executemany batches).
_CHUNK = 5000


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite


def _of_quarter(table: sa.Table, project: str, quarter: Quarter) -> Any:
    return sa.and_(
        table.c.project == project,
        table.c.year == quarter.year,
        table.c.quarter == quarter.quarter,
    )


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _CHUNK:
            conn.execute(sa.insert(table), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(table), batch)


def _build_of(row: Any) -> QuarterBuild:
    return QuarterBuild(
        project=row.project,
        quarter=Quarter(row.year, row.quarter),
        key_id=row.key_id,
        persons=row.persons,
        in_work=row.in_work,
        cells=row.cells,
        primary_suppressed=row.primary_suppressed,
        secondary_suppressed=row.secondary_suppressed,
        threshold=row.threshold,
        dominance_percent=row.dominance_percent,
        built_at=_utc(row.built_at),
        extractions=tuple(
            Extraction(Source(e["source"]), e["records"], e["router_ticket"], e["key_id"])
            for e in row.extractions
        ),
    )


class SqlWarehouseStore:
    """The warehouse's database (warehouse.service.ports.WarehouseStore)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- projects and grants ------------------------------------------------------------------
    def project(self, project_id: str) -> Project | None:
        with self._db.read() as conn:
            row = conn.execute(sa.select(_project).where(_project.c.id == project_id)).first()
        return Project(row.id, row.title, row.unlinkable, row.public) if row else None

    def grants(self, project_id: str, institution: str) -> list[Grant]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_grant)
                .where(_grant.c.project == project_id, _grant.c.institution == institution)
                .order_by(_grant.c.valid_from)
            ).all()
        return [
            Grant(r.project, r.institution, r.microdata, r.valid_from, r.valid_to) for r in rows
        ]

    def add_project(self, project: Project, grants: Sequence[Grant]) -> bool:
        """Seed a project and its grants unless the project exists (True when added)."""
        with self._db.write() as conn:
            if conn.execute(sa.select(_project.c.id).where(_project.c.id == project.id)).first():
                return False
            conn.execute(
                sa.insert(_project),
                {
                    "id": project.id,
                    "title": project.title,
                    "unlinkable": project.unlinkable,
                    "public": project.public,
                },
            )
            _insert(
                conn,
                _grant,
                (
                    {
                        "project": g.project,
                        "institution": g.institution,
                        "valid_from": g.valid_from,
                        "valid_to": g.valid_to,
                        "microdata": g.microdata,
                    }
                    for g in grants
                ),
            )
            return True

    def key_ids(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self._db.read() as conn:
            rows = conn.execute(sa.select(_build.c.project, _build.c.key_id).distinct()).all()
        for row in rows:
            found.setdefault(row.project, set()).add(row.key_id)
        return found

    # -- the extraction log and builds --------------------------------------------------------
    def log_extraction(
        self, project: str, quarter: Quarter, extraction: Extraction, at: dt.datetime
    ) -> None:
        with self._db.write() as conn:
            conn.execute(
                sa.insert(_extraction),
                {
                    "project": project,
                    "year": quarter.year,
                    "quarter": quarter.quarter,
                    "source": extraction.source.value,
                    "records": extraction.records,
                    "router_ticket": extraction.router_ticket,
                    "key_id": extraction.key_id,
                    "received_at": at,
                },
            )

    def extractions(self, project: str) -> list[tuple[Quarter, Extraction, dt.datetime]]:
        """The extraction log of a project, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_extraction)
                .where(_extraction.c.project == project)
                .order_by(_extraction.c.id)
            ).all()
        return [
            (
                Quarter(r.year, r.quarter),
                Extraction(Source(r.source), r.records, r.router_ticket, r.key_id),
                _utc(r.received_at),
            )
            for r in rows
        ]

    def replace_quarter(
        self,
        build: QuarterBuild,
        records: QuarterRecords | None,
        positions: Sequence[PersonPosition],
        cells: Sequence[ProtectedCell],
    ) -> None:
        project, quarter = build.project, build.quarter
        common = {"project": project, "year": quarter.year, "quarter": quarter.quarter}
        with self._db.write() as conn:
            tables = [_position, _cell, _build]
            if records is not None:
                tables += [_person, _period, _worker]
            for table in tables:
                conn.execute(sa.delete(table).where(_of_quarter(table, project, quarter)))
            if records is not None:
                _insert(conn, _person, (
                    {**common, "person": p.person, "age": p.age, "sex": p.sex,
                     "postcode": p.postcode, "country_code": p.country_code}
                    for p in records.persons
                ))  # fmt: skip
                _insert(conn, _period, (
                    {**common, "person": p.person, "employer": p.employer,
                     "worker_type": p.worker_type, "joint_committee": p.joint_committee,
                     "start_date": p.start, "end_date": p.end}
                    for p in records.periods
                ))  # fmt: skip
                _insert(conn, _worker, (
                    {**common, "person": w.person, "employer": w.employer,
                     "worker_code": w.worker_code, "days": w.days, "hours": w.hours,
                     "pay": w.pay}
                    for w in records.workers
                ))  # fmt: skip
            _insert(conn, _position, (
                {**common, "person": p.person, "position": p.position.value,
                 "worker_class": p.worker_class, "joint_committee": p.joint_committee,
                 "employers": p.employers, "age_band": p.age_band, "sex": p.sex,
                 "region": p.region, "pay": p.pay}
                for p in positions
            ))  # fmt: skip
            _insert(conn, _cell, (
                {**common, "table_id": c.table, "cell_key": "|".join(c.key),
                 "categories": list(c.key), "persons": c.persons, "pay": c.pay,
                 "status": c.status.value}
                for c in cells
            ))  # fmt: skip
            conn.execute(
                sa.insert(_build),
                {
                    **common,
                    "key_id": build.key_id,
                    "persons": build.persons,
                    "in_work": build.in_work,
                    "cells": build.cells,
                    "primary_suppressed": build.primary_suppressed,
                    "secondary_suppressed": build.secondary_suppressed,
                    "threshold": build.threshold,
                    "dominance_percent": build.dominance_percent,
                    "extractions": [
                        {
                            "source": e.source.value,
                            "records": e.records,
                            "router_ticket": e.router_ticket,
                            "key_id": e.key_id,
                        }
                        for e in build.extractions
                    ],
                    "built_at": build.built_at,
                },
            )

    def quarter_records(self, project: str, quarter: Quarter) -> QuarterRecords:
        with self._db.read() as conn:
            persons = [
                CodedPerson(r.person, r.age, r.sex, r.postcode, r.country_code)
                for r in conn.execute(
                    sa.select(_person.c.person, _person.c.age, _person.c.sex, _person.c.postcode,
                              _person.c.country_code)
                    .where(_of_quarter(_person, project, quarter))
                )
            ]  # fmt: skip
            periods = [
                CodedPeriod(r.person, r.employer, r.worker_type, r.joint_committee, r.start_date,
                            r.end_date)
                for r in conn.execute(
                    sa.select(_period.c.person, _period.c.employer, _period.c.worker_type,
                              _period.c.joint_committee, _period.c.start_date, _period.c.end_date)
                    .where(_of_quarter(_period, project, quarter))
                )
            ]  # fmt: skip
            workers = [
                CodedWorkerRecord(r.person, r.employer, r.worker_code, r.days, r.hours, r.pay)
                for r in conn.execute(
                    sa.select(_worker.c.person, _worker.c.employer, _worker.c.worker_code,
                              _worker.c.days, _worker.c.hours, _worker.c.pay)
                    .where(_of_quarter(_worker, project, quarter))
                )
            ]  # fmt: skip
        return QuarterRecords(persons, periods, workers)

    def builds(self, project: str) -> list[QuarterBuild]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_build)
                .where(_build.c.project == project)
                .order_by(_build.c.year, _build.c.quarter)
            ).all()
        return [_build_of(r) for r in rows]

    # -- reads ---------------------------------------------------------------------------------
    def cells(self, project: str, quarter: Quarter, table: str) -> list[ProtectedCell]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_cell.c.categories, _cell.c.persons, _cell.c.pay, _cell.c.status)
                .where(_of_quarter(_cell, project, quarter), _cell.c.table_id == table)
                .order_by(_cell.c.cell_key)
            ).all()
        return [
            ProtectedCell(table, tuple(r.categories), r.persons, r.pay, Status(r.status))
            for r in rows
        ]

    def positions(self, project: str, quarter: Quarter) -> list[PersonPosition]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_position)
                .where(_of_quarter(_position, project, quarter))
                .order_by(_position.c.person)
            ).all()
        return [
            PersonPosition(
                r.person, Position(r.position), r.worker_class, r.joint_committee, r.employers,
                r.age_band, r.sex, r.region, r.pay,
            )
            for r in rows
        ]  # fmt: skip

    def log_export(self, entry: ExportEntry) -> int:
        with self._db.write() as conn:
            return conn.execute(
                sa.insert(_export).returning(_export.c.id),
                {
                    "project": entry.project,
                    "requester": entry.requester,
                    "quarters": ",".join(str(q) for q in entry.quarters),
                    "format": entry.format,
                    "microdata": entry.microdata,
                    "files": [list(f) for f in entry.files],
                    "exported_at": entry.exported_at,
                },
            ).scalar_one()

    def exports(self, project: str) -> list[dict[str, Any]]:
        """The export log of a project, oldest first (operators, tests)."""
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(_export).where(_export.c.project == project).order_by(_export.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]
