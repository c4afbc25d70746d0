"""The DmfA's repositories and units of work over SQL (SQLite or PostgreSQL).

Core statements on the unit of work's connection; repositories never commit. Locks:
`versions.lock()` inserts the declaration's row if it is new (`ON CONFLICT DO NOTHING`) and
selects it `FOR UPDATE`: on PostgreSQL every submission about one employer's quarter waits for
the one before it to commit (version numbers, the current version and the idempotency key are
then decided on committed data); on SQLite every write unit of work starts with BEGIN IMMEDIATE
and is serialised as a whole. `events.append()` takes the event counter's row
(`UPDATE ... RETURNING`) after the declaration's lock, always in that order: no deadlock, no gap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dmfa.service.model import (
    Anomaly,
    BlockKey,
    ComputedRecord,
    ContributionLine,
    DeclarationEvent,
    DeclarationSummary,
    DeclaredWorker,
    Employer,
    EmployerQuarter,
    EventKind,
    Occupation,
    Party,
    Quarter,
    RemunerationLine,
    RemunerationTotal,
    ServiceLine,
    Severity,
    Status,
    Totals,
    Version,
    WorkerCodeQuarter,
    WorkerRecord,
)
from dmfa.service.ports import DeclarationState, DmfaUnit, QuotaUpdate, UnitFactory
from dmfa.storage.models import (
    AnomalyRow,
    DeclarationEventRow,
    DeclarationRow,
    EmployerRow,
    EventCounterRow,
    MandateRow,
    QuotaUpdateRow,
    VersionRow,
    VersionWorkerRow,
    WorkerQuarterRow,
)
from runtime.db import Database

_employer = EmployerRow.__table__
_mandate = MandateRow.__table__
_declaration = DeclarationRow.__table__
_version = VersionRow.__table__
_anomaly = AnomalyRow.__table__
_worker = VersionWorkerRow.__table__
_quarter = WorkerQuarterRow.__table__
_event = DeclarationEventRow.__table__
_counter = EventCounterRow.__table__
_quota = QuotaUpdateRow.__table__


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _insert_ignore(conn: sa.Connection, table: sa.Table, values: dict[str, Any]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


# -- JSON documents ---------------------------------------------------------------------------


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value is not None else None


def worker_to_json(worker: DeclaredWorker) -> dict[str, Any]:
    return {
        "r": [
            [
                c.record.employer_category,
                c.record.worker_code,
                _date(c.record.start),
                _date(c.record.end),
                [
                    [
                        o.number,
                        _date(o.start),
                        _date(o.end),
                        o.joint_committee,
                        o.working_days_system,
                        o.mean_working_hours,
                        o.reference_working_hours,
                        [[s.code, s.days, s.hours] for s in o.services],
                        [[m.code, m.amount] for m in o.remunerations],
                    ]
                    for o in c.record.occupations
                ],
                [
                    [x.party.value, x.kind, x.basis, x.rate_percent, x.amount]
                    for x in c.contributions
                ],
            ]
            for c in worker.records
        ]
    }


def worker_from_json(insz: str, body: dict[str, Any]) -> DeclaredWorker:
    records = []
    for category, code, start, end, occupations, lines in body["r"]:
        record = WorkerRecord(
            category,
            code,
            _parse_date(start),  # type: ignore[arg-type]
            _parse_date(end),  # type: ignore[arg-type]
            tuple(
                Occupation(
                    number,
                    _parse_date(o_start),  # type: ignore[arg-type]
                    _parse_date(o_end),
                    jc,
                    wds,
                    mwh,
                    rwh,
                    tuple(ServiceLine(*s) for s in services),
                    tuple(RemunerationLine(*m) for m in pays),
                )
                for number, o_start, o_end, jc, wds, mwh, rwh, services, pays in occupations
            ),
        )
        contributions = tuple(
            ContributionLine(Party(p), kind, basis, rate, amount)
            for p, kind, basis, rate, amount in lines
        )
        records.append(ComputedRecord(record, contributions))
    return DeclaredWorker(insz, tuple(records))


def quarter_summary(worker: DeclaredWorker) -> list[list[Any]]:
    """What the worker's quarter keeps of a record: worker code, days, hours, pay per code."""
    out = []
    for computed in worker.records:
        pay: dict[str, int] = {}
        days = hours = 0
        for o in computed.record.occupations:
            for s in o.services:
                days += s.days
                hours += s.hours
            for m in o.remunerations:
                pay[m.code] = pay.get(m.code, 0) + m.amount
        out.append([computed.record.worker_code, days, hours, sorted(pay.items())])
    return out


# -- repositories ---------------------------------------------------------------------------


class SqlEmployers:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, onss_number: str) -> Employer | None:
        row = self._conn.execute(
            sa.select(_employer).where(_employer.c.onss_number == onss_number)
        ).first()
        return Employer(row.onss_number, row.name, row.provisional) if row else None

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        found = self._conn.execute(
            sa.select(_mandate.c.id).where(
                _mandate.c.employer == employer,
                _mandate.c.bureau == bureau,
                _mandate.c.valid_from <= on,
                sa.or_(_mandate.c.valid_to.is_(None), _mandate.c.valid_to >= on),
            )
        ).first()
        return found is not None

    def count(self) -> int:
        return int(self._conn.execute(sa.select(sa.func.count()).select_from(_employer)).scalar())

    def add(self, employer: Employer) -> None:
        self._conn.execute(
            sa.insert(_employer).values(
                onss_number=employer.onss_number,
                name=employer.name,
                provisional=employer.provisional,
            )
        )

    def add_mandate(self, employer: str, bureau: str, since: dt.date) -> None:
        self._conn.execute(
            sa.insert(_mandate).values(employer=employer, bureau=bureau, valid_from=since)
        )


class SqlVersions:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _key(self, employer: str, quarter: Quarter) -> Any:
        return sa.and_(
            _declaration.c.employer == employer,
            _declaration.c.year == quarter.year,
            _declaration.c.quarter == quarter.quarter,
        )

    def lock(self, employer: str, quarter: Quarter) -> DeclarationState:
        _insert_ignore(
            self._conn,
            _declaration,
            {
                "employer": employer,
                "year": quarter.year,
                "quarter": quarter.quarter,
                "version_count": 0,
                "current_version": None,
            },
        )
        row = self._conn.execute(
            sa.select(_declaration).where(self._key(employer, quarter)).with_for_update()
        ).one()
        return DeclarationState(row.version_count, row.current_version)

    def state(self, employer: str, quarter: Quarter) -> DeclarationState:
        row = self._conn.execute(
            sa.select(_declaration).where(self._key(employer, quarter))
        ).first()
        return (
            DeclarationState(row.version_count, row.current_version) if row else DeclarationState()
        )

    def _anomalies(self, version_ids: list[int]) -> dict[int, list[Anomaly]]:
        out: dict[int, list[Anomaly]] = {i: [] for i in version_ids}
        if not version_ids:
            return out
        rows = self._conn.execute(
            sa.select(_anomaly)
            .where(_anomaly.c.version_id.in_(version_ids))
            .order_by(_anomaly.c.version_id, _anomaly.c.ordinal)
        )
        for r in rows:
            out[r.version_id].append(
                Anomaly(
                    r.code,
                    Severity(r.severity),
                    BlockKey(
                        r.insz, r.worker_code, r.occupation, r.service_code, r.remuneration_code
                    ),
                    r.value,
                    r.label,
                )
            )
        return out

    def _versions(self, where: Any, order: Any, limit: int | None = None) -> list[Version]:
        query = sa.select(_version).where(where).order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        rows = self._conn.execute(query).all()
        currents = self._currents(rows)
        anomalies = self._anomalies([r.id for r in rows])
        return [
            Version(
                employer=r.employer,
                quarter=Quarter(r.year, r.quarter),
                number=r.number,
                submission_reference=r.submission_reference,
                digest=r.digest,
                status=Status(r.status),
                corrects=r.corrects,
                current=currents.get((r.employer, r.year, r.quarter)) == r.number,
                superseded_by=r.superseded_by,
                anomalies=tuple(anomalies[r.id]),
                totals=Totals(
                    r.workers, r.remuneration, r.worker_contributions, r.employer_contributions
                ),
                late=r.late,
                submitted_by=r.submitted_by,
                submitted_at=_utc(r.submitted_at),
                id=r.id,
                acting_person=r.acting_person,
            )
            for r in rows
        ]

    def _currents(self, rows: Sequence[Any]) -> dict[tuple[str, int, int], int | None]:
        keys = {(r.employer, r.year, r.quarter) for r in rows}
        out: dict[tuple[str, int, int], int | None] = {}
        for employer, year, quarter in keys:
            out[(employer, year, quarter)] = self.state(employer, Quarter(year, quarter)).current
        return out

    def by_reference(self, employer: str, reference: str) -> Version | None:
        found = self._versions(
            sa.and_(_version.c.employer == employer, _version.c.submission_reference == reference),
            (_version.c.id,),
        )
        return found[0] if found else None

    def get(self, employer: str, quarter: Quarter, number: int) -> Version | None:
        found = self._versions(
            sa.and_(
                _version.c.employer == employer,
                _version.c.year == quarter.year,
                _version.c.quarter == quarter.quarter,
                _version.c.number == number,
            ),
            (_version.c.id,),
        )
        return found[0] if found else None

    def add(
        self, version: Version, workers: Sequence[DeclaredWorker], anomalies: Sequence[Anomaly]
    ) -> Version:
        q = version.quarter
        version_id = self._conn.execute(
            sa.insert(_version)
            .values(
                employer=version.employer,
                year=q.year,
                quarter=q.quarter,
                number=version.number,
                submission_reference=version.submission_reference,
                digest=version.digest,
                status=version.status.value,
                corrects=version.corrects,
                superseded_by=None,
                late=version.late,
                workers=version.totals.workers,
                remuneration=version.totals.remuneration,
                worker_contributions=version.totals.worker_contributions,
                employer_contributions=version.totals.employer_contributions,
                submitted_by=version.submitted_by,
                submitted_at=version.submitted_at,
                acting_person=version.acting_person,
            )
            .returning(_version.c.id)
        ).scalar_one()
        self._conn.execute(
            sa.update(_declaration)
            .where(self._key(version.employer, q))
            .values(
                version_count=version.number,
                **({"current_version": version.number} if version.current else {}),
            )
        )
        if anomalies:
            self._conn.execute(
                sa.insert(_anomaly),
                [
                    {
                        "version_id": version_id,
                        "ordinal": i,
                        "code": a.code,
                        "severity": a.severity.value,
                        "insz": a.block.insz,
                        "worker_code": a.block.worker_code,
                        "occupation": a.block.occupation,
                        "service_code": a.block.service_code,
                        "remuneration_code": a.block.remuneration_code,
                        "value": a.value[:64],
                        "label": a.label[:200],
                    }
                    for i, a in enumerate(anomalies)
                ],
            )
        if workers:
            self._conn.execute(
                sa.insert(_worker),
                [
                    {
                        "version_id": version_id,
                        "ordinal": i,
                        "insz": w.insz,
                        "body": worker_to_json(w),
                    }
                    for i, w in enumerate(workers)
                ],
            )
        return dataclasses.replace(version, id=version_id)

    def supersede(self, employer: str, quarter: Quarter, number: int, by: int) -> None:
        self._conn.execute(
            sa.update(_version)
            .where(
                _version.c.employer == employer,
                _version.c.year == quarter.year,
                _version.c.quarter == quarter.quarter,
                _version.c.number == number,
            )
            .values(superseded_by=by)
        )

    def of_declaration(
        self, employer: str, quarter: Quarter, after: int, limit: int
    ) -> list[Version]:
        return self._versions(
            sa.and_(
                _version.c.employer == employer,
                _version.c.year == quarter.year,
                _version.c.quarter == quarter.quarter,
                _version.c.number > after,
            ),
            (_version.c.number,),
            limit,
        )

    def declarations(
        self, employer: str, before: Quarter | None, limit: int
    ) -> list[DeclarationSummary]:
        query = sa.select(_declaration).where(
            _declaration.c.employer == employer, _declaration.c.version_count > 0
        )
        if before is not None:
            query = query.where(
                sa.or_(
                    _declaration.c.year < before.year,
                    sa.and_(
                        _declaration.c.year == before.year,
                        _declaration.c.quarter < before.quarter,
                    ),
                )
            )
        rows = self._conn.execute(
            query.order_by(_declaration.c.year.desc(), _declaration.c.quarter.desc()).limit(limit)
        ).all()
        out = []
        for r in rows:
            quarter = Quarter(r.year, r.quarter)
            current = (
                self.get(employer, quarter, r.current_version)
                if r.current_version is not None
                else None
            )
            out.append(DeclarationSummary(employer, quarter, r.version_count, current))
        return out

    def workers(self, version_id: int, after: str, limit: int) -> list[DeclaredWorker]:
        rows = self._conn.execute(
            sa.select(_worker.c.insz, _worker.c.body)
            .where(_worker.c.version_id == version_id, _worker.c.insz > after)
            .order_by(_worker.c.insz, _worker.c.ordinal)
            .limit(limit)
        )
        return [worker_from_json(r.insz, r.body) for r in rows]


class SqlWorkerQuarters:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def replace(
        self,
        employer: str,
        quarter: Quarter,
        version: Version,
        workers: Sequence[DeclaredWorker],
        student_minutes: dict[str, int],
    ) -> dict[str, int]:
        where = sa.and_(
            _quarter.c.employer == employer,
            _quarter.c.year == quarter.year,
            _quarter.c.quarter == quarter.quarter,
        )
        previous = {
            r.insz: r.student_minutes
            for r in self._conn.execute(
                sa.select(_quarter.c.insz, _quarter.c.student_minutes).where(
                    where, _quarter.c.student_minutes.is_not(None)
                )
            )
        }
        self._conn.execute(sa.delete(_quarter).where(where))
        if workers:
            self._conn.execute(
                sa.insert(_quarter),
                [
                    {
                        "insz": w.insz,
                        "year": quarter.year,
                        "quarter": quarter.quarter,
                        "employer": employer,
                        "version": version.number,
                        "body": quarter_summary(w),
                        "student_minutes": student_minutes.get(w.insz),
                    }
                    for w in workers
                ],
            )
        return previous

    def of_worker(self, insz: str, quarter: Quarter) -> list[EmployerQuarter]:
        rows = self._conn.execute(
            sa.select(_quarter)
            .where(
                _quarter.c.insz == insz,
                _quarter.c.year == quarter.year,
                _quarter.c.quarter == quarter.quarter,
            )
            .order_by(_quarter.c.employer)
        )
        return [_employer_quarter(r) for r in rows]

    def of_worker_with(
        self, insz: str, employer: str, before: Quarter, limit: int
    ) -> list[tuple[Quarter, EmployerQuarter]]:
        """The worker's quarters with one employer before `before`, newest first."""
        q = _quarter.c
        rows = self._conn.execute(
            sa.select(_quarter)
            .where(
                q.insz == insz,
                q.employer == employer,
                sa.or_(
                    q.year < before.year,
                    sa.and_(q.year == before.year, q.quarter < before.quarter),
                ),
            )
            .order_by(q.year.desc(), q.quarter.desc())
            .limit(limit)
        )
        return [(Quarter(r.year, r.quarter), _employer_quarter(r)) for r in rows]


def _employer_quarter(r: Any) -> EmployerQuarter:
    return EmployerQuarter(
        r.employer,
        r.version,
        tuple(
            WorkerCodeQuarter(code, days, hours, tuple(RemunerationTotal(c, a) for c, a in pay))
            for code, days, hours, pay in r.body
        ),
    )


class SqlEvents:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def append(
        self, kind: EventKind, version: Version, superseded: int | None, at: dt.datetime
    ) -> int:
        sequence = self._conn.execute(
            sa.update(_counter)
            .where(_counter.c.id == 1)
            .values(value=_counter.c.value + 1)
            .returning(_counter.c.value)
        ).scalar_one()
        self._conn.execute(
            sa.insert(_event).values(
                sequence=sequence,
                kind=kind.value,
                version_id=version.id,
                employer=version.employer,
                year=version.quarter.year,
                quarter=version.quarter.quarter,
                version=version.number,
                superseded=superseded,
                recorded_at=at,
            )
        )
        return int(sequence)

    def after(self, sequence: int, limit: int) -> tuple[list[DeclarationEvent], int]:
        rows = self._conn.execute(
            sa.select(_event)
            .where(_event.c.sequence > sequence)
            .order_by(_event.c.sequence)
            .limit(limit)
        ).all()
        inszs: dict[int, list[str]] = {r.version_id: [] for r in rows}
        if rows:
            for r in self._conn.execute(
                sa.select(_worker.c.version_id, _worker.c.insz)
                .where(_worker.c.version_id.in_(list(inszs)))
                .order_by(_worker.c.version_id, _worker.c.insz)
            ):
                inszs[r.version_id].append(r.insz)
        last = self._conn.execute(sa.select(_counter.c.value).where(_counter.c.id == 1)).scalar()
        return [
            DeclarationEvent(
                r.sequence,
                EventKind(r.kind),
                r.employer,
                Quarter(r.year, r.quarter),
                r.version,
                r.superseded,
                tuple(inszs[r.version_id]),
                _utc(r.recorded_at),
            )
            for r in rows
        ], int(last or 0)


class SqlQuotaOutbox:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(
        self,
        employer: str,
        quarter: Quarter,
        entries: dict[str, int],
        source: str,
        now: dt.datetime,
    ) -> None:
        self._conn.execute(
            sa.insert(_quota).values(
                employer=employer,
                year=quarter.year,
                quarter=quarter.quarter,
                entries=sorted([insz, minutes] for insz, minutes in entries.items()),
                source=source,
                state="PENDING",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
                finished_at=None,
            )
        )

    def due(self, now: dt.datetime, limit: int) -> list[QuotaUpdate]:
        """The oldest pending rows, in order, up to the first that is not due yet."""
        rows = self._conn.execute(
            sa.select(_quota).where(_quota.c.state == "PENDING").order_by(_quota.c.id).limit(limit)
        ).all()
        out = []
        for r in rows:
            if _utc(r.next_attempt_at) > now:
                break
            out.append(
                QuotaUpdate(
                    r.id,
                    r.employer,
                    Quarter(r.year, r.quarter),
                    tuple((insz, minutes) for insz, minutes in r.entries),
                    r.source,
                    r.attempts,
                )
            )
        return out

    def done(self, update_id: int, now: dt.datetime) -> None:
        self._conn.execute(
            sa.update(_quota)
            .where(_quota.c.id == update_id)
            .values(state="DONE", finished_at=now, attempts=_quota.c.attempts + 1)
        )

    def retry(self, update_id: int, at: dt.datetime, error: str) -> None:
        self._conn.execute(
            sa.update(_quota)
            .where(_quota.c.id == update_id)
            .values(next_attempt_at=at, last_error=error[:200], attempts=_quota.c.attempts + 1)
        )

    def fail(self, update_id: int, now: dt.datetime, error: str) -> None:
        self._conn.execute(
            sa.update(_quota)
            .where(_quota.c.id == update_id)
            .values(
                state="FAILED",
                finished_at=now,
                last_error=error[:200],
                attempts=_quota.c.attempts + 1,
            )
        )

    def pending(self) -> int:
        return int(
            self._conn.execute(
                sa.select(sa.func.count()).select_from(_quota).where(_quota.c.state == "PENDING")
            ).scalar()
        )


class SqlUnit:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.employers = SqlEmployers(conn)
        self.versions = SqlVersions(conn)
        self.worker_quarters = SqlWorkerQuarters(conn)
        self.events = SqlEvents(conn)
        self.quota = SqlQuotaOutbox(conn)


def unit_factory(db: Database, *, write: bool = True) -> UnitFactory:
    """Units of work on Core connections: committed when the block ends (write), rolled back
    on any exception; a lost race raises runtime.errors.ConflictError."""

    @contextmanager
    def unit() -> Iterator[DmfaUnit]:
        with db.write() if write else db.read() as conn:
            yield SqlUnit(conn)  # type: ignore[misc]

    return unit
