"""The DRS's repositories and units of work over SQL (SQLite or PostgreSQL).

Core statements on the unit of work's connection; repositories never commit. Idempotency keys
are unique constraints (`uq_declaration_reference`, `uq_task_request`): the loser of a race gets
runtime.errors.ConflictError from the unit of work and the service layer reads the winner. A
task answered by a declaration is locked first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite
serialises write units with BEGIN IMMEDIATE). The attestation is queued with runtime.outbox's
`Outbox.enqueue` on the same connection: it commits with the declaration or not at all.

The attestation status shown with a declaration is the outbox row's, read in the same query (an
outer join); a declaration whose attestation row was purged after delivery
(`Outbox.purge`) shows DELIVERED.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from drs.service import codec
from drs.service.model import (
    LEGAL_CONTEXTS,
    Anomaly,
    Attestation,
    AttestationStatus,
    Declaration,
    Employer,
    Insurer,
    Scenario,
    Severity,
    Status,
    Task,
    TaskState,
)
from drs.service.ports import DrsUnit, UnitFactory
from drs.storage.models import (
    OUTBOX,
    DeclarationAnomalyRow,
    DeclarationRow,
    EmployerRow,
    InsurerRow,
    MandateRow,
    TaskRow,
)
from runtime.db import Database
from runtime.outbox import Outbox, OutgoingAttestation

_employer = EmployerRow.__table__
_mandate = MandateRow.__table__
_insurer = InsurerRow.__table__
_declaration = DeclarationRow.__table__
_anomaly = DeclarationAnomalyRow.__table__
_task = TaskRow.__table__

#: The sender's identity in the network: DRS is the ONSS's.
SENDER = "onss"


def drs_outbox(clock: Any = None) -> Outbox:
    """The DRS's outbox: its table, the ONSS as sender, each attestation kind's legal context."""
    return Outbox(OUTBOX, SENDER, LEGAL_CONTEXTS, clock)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class SqlEmployers:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, onss_number: str) -> Employer | None:
        row = self._conn.execute(
            sa.select(_employer).where(_employer.c.onss_number == onss_number)
        ).first()
        if row is None:
            return None
        return Employer(row.onss_number, row.name, row.provisional, row.spontaneous_sickness)

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
                spontaneous_sickness=employer.spontaneous_sickness,
            )
        )

    def add_mandate(self, employer: str, bureau: str, since: dt.date) -> None:
        self._conn.execute(
            sa.insert(_mandate).values(employer=employer, bureau=bureau, valid_from=since)
        )


class SqlInsurers:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, kbo: str) -> Insurer | None:
        row = self._conn.execute(sa.select(_insurer).where(_insurer.c.kbo == kbo)).first()
        return Insurer(row.kbo, row.institution, row.name, row.active) if row else None

    def all(self) -> list[Insurer]:
        rows = self._conn.execute(sa.select(_insurer).order_by(_insurer.c.name))
        return [Insurer(r.kbo, r.institution, r.name, r.active) for r in rows]

    def put(self, insurer: Insurer) -> bool:
        """Add or update; True when something changed."""
        if self.get(insurer.kbo) == insurer:
            return False
        self._conn.execute(sa.delete(_insurer).where(_insurer.c.kbo == insurer.kbo))
        self._conn.execute(sa.insert(_insurer).values(**dataclasses.asdict(insurer)))
        return True


_OUTBOX_STATUS = {s.value: AttestationStatus(s.value) for s in AttestationStatus}


class SqlDeclarations:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _select(self) -> sa.Select[Any]:
        return sa.select(_declaration, OUTBOX.c.status.label("outbox_status")).select_from(
            _declaration.outerjoin(OUTBOX, OUTBOX.c.id == _declaration.c.attestation_id)
        )

    def _anomalies(self, ids: list[int]) -> dict[int, list[Anomaly]]:
        out: dict[int, list[Anomaly]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = self._conn.execute(
            sa.select(_anomaly)
            .where(_anomaly.c.declaration_id.in_(ids))
            .order_by(_anomaly.c.declaration_id, _anomaly.c.ordinal)
        )
        for r in rows:
            out[r.declaration_id].append(
                Anomaly(r.code, Severity(r.severity), r.field, r.value, r.label)
            )
        return out

    def _declarations(self, query: sa.Select[Any]) -> list[Declaration]:
        rows = self._conn.execute(query).all()
        anomalies = self._anomalies([r.id for r in rows])
        out = []
        for r in rows:
            scenario = Scenario(r.scenario)
            if r.attestation_id is None:
                status = AttestationStatus.NONE
            else:
                status = _OUTBOX_STATUS.get(r.outbox_status or "DELIVERED", AttestationStatus.NONE)
            out.append(
                Declaration(
                    employer=r.employer,
                    reference=r.reference,
                    scenario=scenario,
                    insz=r.insz,
                    risk_date=r.risk_date,
                    status=Status(r.status),
                    anomalies=tuple(anomalies[r.id]),
                    late=r.late,
                    deadline=r.deadline,
                    digest=r.digest,
                    risk=codec.risk_from_json(scenario, r.risk),
                    quarters=codec.quarters_from_json(r.quarters),
                    employment=codec.employment_from_json(r.employment),
                    dmfa_quarters=codec.quarters_from_json(r.dmfa_quarters),
                    attestation_id=r.attestation_id or "",
                    attestation_kind=r.attestation_kind,
                    destination=r.destination,
                    task=r.task_id or "",
                    submitted_by=r.submitted_by,
                    submitted_at=_utc(r.submitted_at),
                    attestation_status=status,
                    id=r.id,
                    acting_person=r.acting_person,
                )
            )
        return out

    def by_reference(self, employer: str, reference: str) -> Declaration | None:
        found = self._declarations(
            self._select().where(
                _declaration.c.employer == employer, _declaration.c.reference == reference
            )
        )
        return found[0] if found else None

    def add(self, d: Declaration) -> Declaration:
        declaration_id = self._conn.execute(
            sa.insert(_declaration)
            .values(
                employer=d.employer,
                reference=d.reference,
                digest=d.digest,
                scenario=d.scenario.value,
                insz=d.insz,
                risk_date=d.risk_date,
                status=d.status.value,
                late=d.late,
                deadline=d.deadline,
                risk=codec.risk_to_json(d.risk),
                quarters=codec.quarters_to_json(d.quarters),
                employment=codec.employment_to_json(d.employment),
                dmfa_quarters=codec.quarters_to_json(d.dmfa_quarters),
                attestation_id=d.attestation_id or None,
                attestation_kind=d.attestation_kind,
                destination=d.destination,
                task_id=d.task or None,
                submitted_by=d.submitted_by,
                submitted_at=d.submitted_at,
                acting_person=d.acting_person,
            )
            .returning(_declaration.c.id)
        ).scalar_one()
        if d.anomalies:
            self._conn.execute(
                sa.insert(_anomaly),
                [
                    {
                        "declaration_id": declaration_id,
                        "ordinal": i,
                        "code": a.code,
                        "severity": a.severity.value,
                        "field": a.field[:80],
                        "value": a.value[:64],
                        "label": a.label[:200],
                    }
                    for i, a in enumerate(d.anomalies)
                ],
            )
        status = AttestationStatus.PENDING if d.attestation_id else AttestationStatus.NONE
        return dataclasses.replace(d, id=declaration_id, attestation_status=status)

    def newest(self, employer: str, before_id: int | None, limit: int) -> list[Declaration]:
        query = self._select().where(_declaration.c.employer == employer)
        if before_id is not None:
            query = query.where(_declaration.c.id < before_id)
        return self._declarations(query.order_by(_declaration.c.id.desc()).limit(limit))

    def of_worker(self, insz: str, before_id: int | None, limit: int) -> list[Declaration]:
        query = self._select().where(_declaration.c.insz == insz)
        if before_id is not None:
            query = query.where(_declaration.c.id < before_id)
        return self._declarations(query.order_by(_declaration.c.id.desc()).limit(limit))


_RANK = sa.case((_task.c.state == TaskState.OPEN.value, 0), else_=1)


def _task_of(r: Any) -> Task:
    return Task(
        id=r.id,
        employer=r.employer,
        scenario=Scenario(r.scenario),
        insz=r.insz,
        risk_date=r.risk_date,
        requested_by=r.requested_by,
        request_id=r.request_id,
        digest=r.digest,
        requested_at=_utc(r.requested_at),
        deadline=r.deadline,
        state=TaskState(r.state),
        declaration=r.declaration,
        seq=r.seq,
    )


class SqlTasks:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _one(self, query: sa.Select[Any]) -> Task | None:
        row = self._conn.execute(query).first()
        return _task_of(row) if row else None

    def get(self, employer: str, task_id: str) -> Task | None:
        return self._one(
            sa.select(_task).where(_task.c.employer == employer, _task.c.id == task_id)
        )

    def oldest_open(self, employer: str, insz: str, scenario: Scenario) -> Task | None:
        return self._one(
            sa.select(_task)
            .where(
                _task.c.employer == employer,
                _task.c.insz == insz,
                _task.c.scenario == scenario.value,
                _task.c.state == TaskState.OPEN.value,
            )
            .order_by(_task.c.seq)
            .limit(1)
        )

    def lock(self, task_id: str) -> Task | None:
        return self._one(sa.select(_task).where(_task.c.id == task_id).with_for_update())

    def mark_done(self, task_id: str, declaration_reference: str) -> None:
        self._conn.execute(
            sa.update(_task)
            .where(_task.c.id == task_id)
            .values(state=TaskState.DONE.value, declaration=declaration_reference)
        )

    def by_request(self, requested_by: str, request_id: str) -> Task | None:
        return self._one(
            sa.select(_task).where(
                _task.c.requested_by == requested_by, _task.c.request_id == request_id
            )
        )

    def add(self, task: Task) -> Task:
        seq = self._conn.execute(
            sa.insert(_task)
            .values(
                id=task.id,
                employer=task.employer,
                scenario=task.scenario.value,
                insz=task.insz,
                risk_date=task.risk_date,
                requested_by=task.requested_by,
                request_id=task.request_id,
                digest=task.digest,
                requested_at=task.requested_at,
                deadline=task.deadline,
                state=task.state.value,
                declaration=task.declaration,
            )
            .returning(_task.c.seq)
        ).scalar_one()
        return dataclasses.replace(task, seq=seq)

    def page(self, employer: str, after: tuple[int, int] | None, limit: int) -> list[Task]:
        query = sa.select(_task).where(_task.c.employer == employer)
        if after is not None:
            rank, seq = after
            query = query.where(sa.or_(_RANK > rank, sa.and_(_RANK == rank, _task.c.seq > seq)))
        rows = self._conn.execute(query.order_by(_RANK, _task.c.seq).limit(limit))
        return [_task_of(r) for r in rows]


class SqlAttestations:
    def __init__(self, conn: sa.Connection, outbox: Outbox) -> None:
        self._conn, self._outbox = conn, outbox

    def enqueue(self, attestation: Attestation) -> None:
        self._outbox.enqueue(
            self._conn,
            OutgoingAttestation(
                kind=attestation.kind,
                subject_insz=attestation.insz,
                reference_date=attestation.reference_date,
                payload=attestation.payload,
                payload_type="application/json",
                destination=attestation.destination,
                id=attestation.id,
            ),
        )


class SqlUnit:
    def __init__(self, conn: sa.Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.employers = SqlEmployers(conn)
        self.insurers = SqlInsurers(conn)
        self.declarations = SqlDeclarations(conn)
        self.tasks = SqlTasks(conn)
        self.attestations = SqlAttestations(conn, outbox)


def unit_factory(db: Database, outbox: Outbox | None = None, *, write: bool = True) -> UnitFactory:
    """Units of work on Core connections: committed when the block ends (write), rolled back
    on any exception; a lost race raises runtime.errors.ConflictError."""
    queue = outbox or drs_outbox()

    @contextmanager
    def unit() -> Iterator[DrsUnit]:
        with db.write() if write else db.read() as conn:
            yield SqlUnit(conn, queue)  # type: ignore[misc]

    return unit
