"""DIMONA's repositories and units of work over SQL (SQLite or PostgreSQL).

Core statements on the unit of work's connection: every statement reaches the database when it
is called, so a lost race on the idempotency key shows where it happens and the unit of work
raises runtime.errors.ConflictError. Repositories never commit.

Locks: `periods.lock_worker()` inserts the worker's row if it is new (`ON CONFLICT DO NOTHING`)
and selects it `FOR UPDATE`: on PostgreSQL every declaration about a worker waits for the one
before it to commit (overlaps and the student quota are then decided on committed data); on
SQLite every write unit of work starts with BEGIN IMMEDIATE and is serialised as a whole.
`events.next_sequence()` is `UPDATE event_counter SET value = value + 1 RETURNING value`, taken
after the worker's lock (always in that order: no deadlock).

Students' actual minutes (`actuals.record()`, DimonaQuarterService) are one multi-row
`INSERT … ON CONFLICT (employer, worker_insz, year, quarter) DO UPDATE` in the caller's unit of
work (the same statement on SQLite and PostgreSQL, each dialect's construct), its rows in key
order so that two recordings of the same workers take the row locks in the same order. No
worker lock is taken: a recording reads nothing and decides nothing. A declaration reads the
figures under its worker's lock; on PostgreSQL (read committed) it sees them committed or not at
all — in the latter case it is ordered before the recording, which changes no period. Two
recordings of the same key at once: the later one waits for the first and replaces its figure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dimona.service.codec import (
    anomalies_from_json,
    anomalies_to_json,
    period_from_json,
    period_to_json,
)
from dimona.service.model import (
    Action,
    Declaration,
    Employer,
    EmploymentEvent,
    EventKind,
    FlexiContract,
    Period,
    PeriodState,
    Status,
    StudentActual,
    WorkerType,
)
from dimona.service.ports import DirectoryInterval
from dimona.storage.models import (
    DeclarationRow,
    DirectoryMirrorRow,
    DirectoryOutboxRow,
    EmployerRow,
    EmploymentEventRow,
    EventCounterRow,
    MandateRow,
    PeriodRow,
    StudentActualRow,
    WorkerRow,
)
from runtime.db import Database
from runtime.errors import ConflictError

_employer = EmployerRow.__table__
_mandate = MandateRow.__table__
_worker = WorkerRow.__table__
_period = PeriodRow.__table__
_declaration = DeclarationRow.__table__
_event = EmploymentEventRow.__table__
_counter = EventCounterRow.__table__
_outbox = DirectoryOutboxRow.__table__
_mirror = DirectoryMirrorRow.__table__
_actual = StudentActualRow.__table__


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _period_of(row: sa.Row[Any]) -> Period:
    return Period(
        period_id=row.id,
        employer=row.employer,
        worker=row.worker,
        worker_type=WorkerType(row.worker_type),
        joint_committee=row.joint_committee,
        sub_entity=row.sub_entity,
        using_employer=row.using_employer,
        start_date=row.start_date,
        start_time=row.start_time,
        end_date=row.end_date,
        end_time=row.end_time,
        planned_hours=row.planned_hours,
        flexi_contract=FlexiContract(row.flexi_contract) if row.flexi_contract else None,
        state=PeriodState(row.state),
        student_minutes=row.student_minutes,
        exceeding_minutes=row.exceeding_minutes,
        late=row.late,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )


def period_values(p: Period) -> dict[str, Any]:
    return {
        "employer": p.employer,
        "worker": p.worker,
        "worker_type": p.worker_type.value,
        "joint_committee": p.joint_committee,
        "sub_entity": p.sub_entity,
        "using_employer": p.using_employer,
        "start_date": p.start_date,
        "start_time": p.start_time,
        "end_date": p.end_date,
        "end_time": p.end_time,
        "planned_hours": p.planned_hours,
        "flexi_contract": p.flexi_contract.value if p.flexi_contract else None,
        "state": p.state.value,
        "student_minutes": p.student_minutes,
        "exceeding_minutes": p.exceeding_minutes,
        "late": p.late,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


# Hot statements, built once (building a select() costs more than SQLite takes to run it).
_GET_PERIOD = sa.select(_period).where(_period.c.id == sa.bindparam("id"))
_OF_WORKER = (
    sa.select(_period)
    .where(_period.c.worker == sa.bindparam("worker"), _period.c.state == PeriodState.ACTIVE.value)
    .order_by(_period.c.start_date, _period.c.id)
)
_GET_DECLARATION = sa.select(_declaration).where(
    _declaration.c.employer == sa.bindparam("employer"),
    _declaration.c.reference == sa.bindparam("reference"),
)
_LOCK_WORKER = (
    sa.select(_worker.c.insz).where(_worker.c.insz == sa.bindparam("insz")).with_for_update()
)
#: A new worker's row, or nothing when it exists (PostgreSQL: the row the lock is taken on).
_ADD_WORKER = postgresql.insert(_worker).on_conflict_do_nothing()
# Inserts and updates built once too; the values travel as bind parameters.
_INSERT_PERIOD = sa.insert(_period).returning(_period.c.id)
_UPDATE_PERIOD = sa.update(_period).where(_period.c.id == sa.bindparam("period_id"))
_INSERT_DECLARATION = sa.insert(_declaration)
_INSERT_EVENT = sa.insert(_event)
_INSERT_OUTBOX = sa.insert(_outbox)
_GET_EMPLOYER = sa.select(_employer).where(_employer.c.onss_number == sa.bindparam("onss"))
_HAS_MANDATE = sa.select(_mandate.c.id).where(
    _mandate.c.employer == sa.bindparam("employer"),
    _mandate.c.bureau == sa.bindparam("bureau"),
    _mandate.c.valid_from <= sa.bindparam("on"),
    sa.or_(_mandate.c.valid_to.is_(None), _mandate.c.valid_to >= sa.bindparam("on")),
)
#: An employer's active periods meeting [first, last], after a period id: served by
#: ix_period_employer_state_id (employer, state, id), in index order, so one page is one range
#: scan that stops after `limit` rows.
_IN_QUARTER = (
    sa.select(_period)
    .where(
        _period.c.employer == sa.bindparam("employer"),
        _period.c.state == PeriodState.ACTIVE.value,
        _period.c.id > sa.bindparam("after"),
        _period.c.start_date <= sa.bindparam("last"),
        sa.or_(_period.c.end_date.is_(None), _period.c.end_date >= sa.bindparam("first")),
    )
    .order_by(_period.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
#: Workers' active student periods starting in one year (ix_period_worker_start).
_STUDENT_PERIODS = sa.select(_period).where(
    _period.c.worker.in_(sa.bindparam("workers", expanding=True)),
    _period.c.state == PeriodState.ACTIVE.value,
    _period.c.student_minutes > 0,
    _period.c.start_date >= sa.bindparam("first"),
    _period.c.start_date <= sa.bindparam("last"),
)
#: Workers' recorded actual minutes in one year (ix_student_actuals_worker_year).
_ACTUALS_OF = sa.select(_actual).where(
    _actual.c.worker_insz.in_(sa.bindparam("workers", expanding=True)),
    _actual.c.year == sa.bindparam("year"),
)


def _upsert_actuals(insert: Any) -> Any:
    stmt = insert(_actual)
    return stmt.on_conflict_do_update(
        index_elements=[
            _actual.c.employer,
            _actual.c.worker_insz,
            _actual.c.year,
            _actual.c.quarter,
        ],
        set_={
            "minutes": stmt.excluded.minutes,
            "source": stmt.excluded.source,
            "recorded_at": stmt.excluded.recorded_at,
        },
    )


#: Insert or replace a figure: each dialect's ON CONFLICT construct, the same SQL.
_RECORD_ACTUALS = {
    "postgresql": _upsert_actuals(postgresql.insert),
    "sqlite": _upsert_actuals(sqlite.insert),
}
#: IN lists are cut to this many values (PostgreSQL and SQLite take far more; plans stay small).
_CHUNK = 500
_NEXT_SEQUENCE = (
    sa.update(_counter)
    .where(_counter.c.id == 1)
    .values(value=_counter.c.value + 1)
    .returning(_counter.c.value)
)


class SqlEmployers:
    def __init__(self, conn: sa.Connection, known: dict[str, Employer] | None = None) -> None:
        self._c = conn
        #: Employers read before, shared by a factory's units: an employer's record never
        #: changes nor goes away in this service (no RPC changes the register), so once read
        #: it need not be read again. Mandates are always read: they can be revoked.
        self._known = {} if known is None else known

    def get(self, onss_number: str) -> Employer | None:
        found = self._known.get(onss_number)
        if found is not None:
            return found
        row = self._c.execute(_GET_EMPLOYER, {"onss": onss_number}).first()
        if row is None:
            return None
        found = Employer(
            row.onss_number,
            row.enterprise_number,
            row.name,
            row.provisional,
            tuple(row.joint_committees),
            row.size_class,
        )
        self._known[onss_number] = found
        return found

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        found = self._c.execute(
            _HAS_MANDATE, {"employer": employer, "bureau": bureau, "on": on}
        ).first()
        return found is not None

    def add(self, employer: Employer) -> None:
        self._c.execute(
            sa.insert(_employer).values(
                onss_number=employer.onss_number,
                enterprise_number=employer.enterprise_number,
                name=employer.name,
                provisional=employer.provisional,
                joint_committees=list(employer.joint_committees),
                size_class=employer.size_class,
            )
        )

    def add_mandate(
        self, employer: str, bureau: str, valid_from: dt.date, valid_to: dt.date | None = None
    ) -> None:
        self._c.execute(
            sa.insert(_mandate).values(
                employer=employer, bureau=bureau, valid_from=valid_from, valid_to=valid_to
            )
        )

    def count(self) -> int:
        return int(self._c.execute(sa.select(sa.func.count()).select_from(_employer)).scalar_one())


class SqlPeriods:
    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def lock_worker(self, insz: str) -> None:
        if self._c.dialect.name == "sqlite":
            return  # every write transaction is serialised as a whole already
        self._c.execute(_ADD_WORKER, {"insz": insz})
        self._c.execute(_LOCK_WORKER, {"insz": insz})

    def get(self, period_id: int) -> Period | None:
        row = self._c.execute(_GET_PERIOD, {"id": period_id}).first()
        return _period_of(row) if row else None

    def of_worker(self, insz: str) -> list[Period]:
        return [_period_of(r) for r in self._c.execute(_OF_WORKER, {"worker": insz})]

    def add(self, period: Period) -> Period:
        new_id = self._c.execute(_INSERT_PERIOD, period_values(period)).scalar_one()
        return dataclasses.replace(period, period_id=int(new_id))

    def update(self, period: Period) -> None:
        self._c.execute(_UPDATE_PERIOD, {**period_values(period), "period_id": period.period_id})

    def by_employer(
        self, employer: str, worker: str | None, after_id: int, limit: int
    ) -> list[Period]:
        stmt = sa.select(_period).where(_period.c.employer == employer, _period.c.id > after_id)
        if worker:
            stmt = stmt.where(_period.c.worker == worker)
        rows = self._c.execute(stmt.order_by(_period.c.id).limit(limit))
        return [_period_of(r) for r in rows]

    def by_worker(
        self,
        insz: str,
        start: dt.date | None,
        end: dt.date | None,
        after: tuple[dt.date, int] | None,
        limit: int,
    ) -> list[Period]:
        p = _period.c
        stmt = sa.select(_period).where(p.worker == insz, p.state == PeriodState.ACTIVE.value)
        if start is not None:
            stmt = stmt.where(sa.or_(p.end_date.is_(None), p.end_date >= start))
        if end is not None:
            stmt = stmt.where(p.start_date <= end)
        if after is not None:
            stmt = stmt.where(sa.tuple_(p.start_date, p.id) > sa.tuple_(*after))
        rows = self._c.execute(stmt.order_by(p.start_date, p.id).limit(limit))
        return [_period_of(r) for r in rows]

    def for_workers(self, inszs: Sequence[str]) -> dict[str, list[Period]]:
        found: dict[str, list[Period]] = {}
        for i in range(0, len(inszs), 500):
            rows = self._c.execute(
                sa.select(_period).where(
                    _period.c.worker.in_(list(inszs[i : i + 500])),
                    _period.c.state == PeriodState.ACTIVE.value,
                )
            )
            for row in rows:
                found.setdefault(row.worker, []).append(_period_of(row))
        return found

    def employed_by(self, employer: str, insz: str) -> bool:
        found = self._c.execute(
            sa.select(_period.c.id).where(
                _period.c.employer == employer,
                _period.c.worker == insz,
                _period.c.state == PeriodState.ACTIVE.value,
            )
        ).first()
        return found is not None

    def in_quarter(
        self, employer: str, first: dt.date, last: dt.date, after_id: int, limit: int
    ) -> list[Period]:
        rows = self._c.execute(
            _IN_QUARTER,
            {"employer": employer, "first": first, "last": last, "after": after_id, "limit": limit},
        )
        return [_period_of(r) for r in rows]

    def student_periods(self, inszs: Sequence[str], year: int) -> dict[str, list[Period]]:
        found: dict[str, list[Period]] = {}
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        for i in range(0, len(inszs), _CHUNK):
            rows = self._c.execute(
                _STUDENT_PERIODS,
                {"workers": list(inszs[i : i + _CHUNK]), "first": first, "last": last},
            )
            for row in rows:
                found.setdefault(row.worker, []).append(_period_of(row))
        return found


class SqlStudentActuals:
    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def of_workers(self, inszs: Sequence[str], year: int) -> dict[str, list[StudentActual]]:
        found: dict[str, list[StudentActual]] = {}
        for i in range(0, len(inszs), _CHUNK):
            rows = self._c.execute(
                _ACTUALS_OF, {"workers": list(inszs[i : i + _CHUNK]), "year": year}
            )
            for r in rows:
                found.setdefault(r.worker_insz, []).append(
                    StudentActual(
                        employer=r.employer,
                        worker=r.worker_insz,
                        year=r.year,
                        quarter=r.quarter,
                        minutes=r.minutes,
                        source=r.source,
                        recorded_at=_utc(r.recorded_at),
                    )
                )
        return found

    def record(self, actuals: Sequence[StudentActual]) -> None:
        rows = sorted(
            (
                {
                    "employer": a.employer,
                    "worker_insz": a.worker,
                    "year": a.year,
                    "quarter": a.quarter,
                    "minutes": a.minutes,
                    "source": a.source,
                    "recorded_at": a.recorded_at,
                }
                for a in actuals
            ),
            key=lambda r: (r["employer"], r["worker_insz"], r["year"], r["quarter"]),
        )
        if rows:
            self._c.execute(_RECORD_ACTUALS[self._c.dialect.name], rows)


class SqlDeclarations:
    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def get(self, employer: str, reference: str) -> Declaration | None:
        row = self._c.execute(
            _GET_DECLARATION, {"employer": employer, "reference": reference}
        ).first()
        if row is None:
            return None
        return Declaration(
            employer=row.employer,
            reference=row.reference,
            action=Action(row.action),
            status=Status(row.status),
            anomalies=anomalies_from_json(row.anomalies),
            period_id=row.period_id,
            worker=row.worker,
            late=row.late,
            deadline=_utc(row.deadline) if row.deadline else None,
            submitted_by=row.submitted_by,
            submitted_at=_utc(row.submitted_at),
            fingerprint=row.fingerprint,
            period=period_from_json(row.period_snapshot) if row.period_snapshot else None,
            acting_person=row.acting_person,
        )

    def add(self, d: Declaration) -> None:
        self._c.execute(
            _INSERT_DECLARATION,
            dict(
                employer=d.employer,
                reference=d.reference,
                action=d.action.value,
                status=d.status.value,
                anomalies=anomalies_to_json(d.anomalies),
                period_id=d.period_id,
                worker=d.worker,
                late=d.late,
                deadline=d.deadline,
                submitted_by=d.submitted_by,
                submitted_at=d.submitted_at,
                fingerprint=d.fingerprint,
                period_snapshot=period_to_json(d.period) if d.period else None,
                acting_person=d.acting_person,
            ),
        )


class SqlEvents:
    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def next_sequence(self) -> int:
        return int(self._c.execute(_NEXT_SEQUENCE).scalar_one())

    def last_sequence(self) -> int:
        return int(
            self._c.execute(sa.select(_counter.c.value).where(_counter.c.id == 1)).scalar_one()
        )

    def add(self, event: EmploymentEvent) -> None:
        self._c.execute(
            _INSERT_EVENT,
            dict(
                sequence=event.sequence,
                kind=event.kind.value,
                period_id=event.period.period_id,
                declaration=event.declaration,
                period=period_to_json(event.period),
                recorded_at=event.recorded_at,
            ),
        )

    def list(self, after: int, limit: int) -> list[EmploymentEvent]:
        rows = self._c.execute(
            sa.select(_event)
            .where(_event.c.sequence > after)
            .order_by(_event.c.sequence)
            .limit(limit)
        )
        return [
            EmploymentEvent(
                sequence=r.sequence,
                kind=EventKind(r.kind),
                period=period_from_json(r.period),
                declaration=r.declaration,
                recorded_at=_utc(r.recorded_at),
            )
            for r in rows
        ]


class SqlOutbox:
    def __init__(self, conn: sa.Connection) -> None:
        self._c = conn

    def add(self, insz: str) -> None:
        self._c.execute(_INSERT_OUTBOX, {"worker": insz, "created_at": dt.datetime.now(dt.UTC)})

    def last_id(self) -> int:
        return int(
            self._c.execute(sa.select(sa.func.coalesce(sa.func.max(_outbox.c.id), 0))).scalar_one()
        )

    def pending(self, limit: int) -> list[tuple[int, str]]:
        rows = self._c.execute(
            sa.select(_outbox.c.id, _outbox.c.worker).order_by(_outbox.c.id).limit(limit)
        )
        return [(int(r.id), r.worker) for r in rows]

    def delete_handled(self, inszs: Sequence[str], last_id: int) -> None:
        for i in range(0, len(inszs), 500):
            self._c.execute(
                sa.delete(_outbox).where(
                    _outbox.c.worker.in_(list(inszs[i : i + 500])), _outbox.c.id <= last_id
                )
            )

    def mirror(self, inszs: Sequence[str]) -> dict[str, list[DirectoryInterval]]:
        found: dict[str, list[DirectoryInterval]] = {}
        for i in range(0, len(inszs), 500):
            rows = self._c.execute(
                sa.select(_mirror)
                .where(_mirror.c.worker.in_(list(inszs[i : i + 500])))
                .order_by(_mirror.c.worker, _mirror.c.start_date)
            )
            for r in rows:
                found.setdefault(r.worker, []).append(DirectoryInterval(r.start_date, r.end_date))
        return found

    def set_mirrors(self, intervals: Mapping[str, Sequence[DirectoryInterval]]) -> None:
        workers = list(intervals)
        for i in range(0, len(workers), 500):
            self._c.execute(sa.delete(_mirror).where(_mirror.c.worker.in_(workers[i : i + 500])))
        rows = [
            {"worker": w, "start_date": span.start, "end_date": span.end}
            for w, spans in intervals.items()
            for span in spans
        ]
        if rows:
            self._c.execute(sa.insert(_mirror), rows)

    def count(self) -> int:
        return int(self._c.execute(sa.select(sa.func.count()).select_from(_outbox)).scalar_one())


class SqlDimonaUnit:
    """What the rules see of one transaction."""

    def __init__(self, conn: sa.Connection, employers: dict[str, Employer] | None = None) -> None:
        self._conn = conn
        self.employers = SqlEmployers(conn, employers)
        self.periods = SqlPeriods(conn)
        self.declarations = SqlDeclarations(conn)
        self.events = SqlEvents(conn)
        self.outbox = SqlOutbox(conn)
        self.actuals = SqlStudentActuals(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        try:
            with self._conn.begin_nested():
                yield
        except sa.exc.IntegrityError as exc:  # the key was written first: a lost race
            raise ConflictError() from exc


def unit_factory(db: Database, *, write: bool = True):  # noqa: ANN201 - a UnitFactory
    """Units of work on Core connections (a lost race raises runtime.errors.ConflictError)."""

    employers: dict[str, Employer] = {}

    @contextmanager
    def unit() -> Iterator[SqlDimonaUnit]:
        with db.write() if write else db.read() as conn:
            yield SqlDimonaUnit(conn, employers)

    return unit
