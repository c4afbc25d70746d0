"""The attestations repository and the unit of work over an inbox's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from inbox.service.model import Attestation, ListQuery, State
from inbox.storage.models import AttestationRow
from runtime.clock import as_utc
from runtime.db import Database

_table = AttestationRow.__table__
# Built once: building a statement costs more Python time than SQLite takes to run it (measured
# with `make bench --only mutation`: ten inboxes each storing a delivery per routed call).
_GET = sa.select(_table).where(_table.c.id == sa.bindparam("attestation_id"))
_INSERT = sa.insert(_table)


def _attestation(row: AttestationRow) -> Attestation:
    return Attestation(
        id=row.id,
        kind=row.kind,
        subject_insz=row.subject_insz,
        reference_date=row.reference_date,
        sender=row.sender,
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
        payload=row.payload,
        payload_type=row.payload_type,
        received_at=as_utc(row.received_at),
        state=State(row.state),
        acknowledged_at=as_utc(row.acknowledged_at),
        router_ticket=row.router_ticket,
        seq=row.seq,
    )


class SqlAttestationRepository:
    """Attestations in SQL; never commits (the unit of work does)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, attestation_id: str) -> Attestation | None:
        row = self._session.execute(_GET, {"attestation_id": attestation_id}).first()
        return None if row is None else _attestation(row)  # type: ignore[arg-type]

    def add(self, att: Attestation) -> None:
        self._session.execute(
            _INSERT,
            dict(
                id=att.id,
                kind=att.kind,
                subject_insz=att.subject_insz,
                reference_date=att.reference_date,
                sender=att.sender,
                created_at=att.created_at,
                payload=att.payload,
                payload_type=att.payload_type,
                digest=att.digest(),
                received_at=att.received_at,
                state=att.state.value,
                acknowledged_at=att.acknowledged_at,
                router_ticket=att.router_ticket,
            ),
        )

    def page(self, query: ListQuery, after: int, limit: int) -> list[Attestation]:
        stmt = sa.select(AttestationRow).where(AttestationRow.seq > after)
        if query.kind:
            stmt = stmt.where(AttestationRow.kind == query.kind)
        if query.state is not None:
            stmt = stmt.where(AttestationRow.state == query.state.value)
        if query.reference_from is not None:
            stmt = stmt.where(AttestationRow.reference_date >= query.reference_from)
        if query.reference_to is not None:
            stmt = stmt.where(AttestationRow.reference_date <= query.reference_to)
        rows = self._session.scalars(stmt.order_by(AttestationRow.seq).limit(limit))
        return [_attestation(r) for r in rows]

    def acknowledge(self, att: Attestation) -> None:
        self._session.execute(
            sa.update(AttestationRow)
            .where(AttestationRow.id == att.id)
            .values(state=att.state.value, acknowledged_at=att.acknowledged_at)
        )

    def count(self) -> int:
        return self._session.scalar(sa.select(sa.func.count()).select_from(AttestationRow)) or 0


class SqlInboxUnit:
    """What the service layer sees of one transaction."""

    def __init__(self, session: Session) -> None:
        self.attestations = SqlAttestationRepository(session)


def unit_factory(db: Database, *, write: bool = True):  # noqa: ANN201
    """A factory of units of work over this inbox's database."""

    @contextmanager
    def unit() -> Iterator[SqlInboxUnit]:
        with db.unit_of_work(write=write) as session:
            yield SqlInboxUnit(session)

    return unit
