"""The affiliations repository and the unit of work over a mutuality's database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mutuality.service.model import Affiliation, Insurability, Role
from mutuality.storage.models import AffiliationRow
from runtime.db import Database

_table = AffiliationRow.__table__


def _affiliation(row: AffiliationRow, mutuality: str) -> Affiliation:
    integrated = row.integrated_at
    if integrated is not None and integrated.tzinfo is None:
        integrated = integrated.replace(tzinfo=dt.UTC)  # SQLite keeps no offset
    return Affiliation(
        mutuality=mutuality,
        insz=row.insz,
        since=row.since,
        until=row.until,
        role=Role(row.role),
        insurability=Insurability(row.insurability),
        integrated_at=integrated,
    )


class SqlAffiliationRepository:
    """Affiliations in SQL; never commits (the unit of work does)."""

    def __init__(self, session: Session, mutuality: str) -> None:
        self._session, self._mutuality = session, mutuality

    def for_person(self, insz: str) -> list[Affiliation]:
        rows = self._session.scalars(
            sa.select(AffiliationRow)
            .where(AffiliationRow.insz == insz)
            .order_by(AffiliationRow.since)
        )
        return [_affiliation(r, self._mutuality) for r in rows]

    def add_all(self, affiliations: Sequence[Affiliation]) -> None:
        if affiliations:
            self._session.execute(
                sa.insert(_table),
                [
                    {
                        "insz": a.insz,
                        "since": a.since,
                        "until": a.until,
                        "role": a.role.value,
                        "insurability": a.insurability.value,
                        "integrated_at": a.integrated_at,
                    }
                    for a in affiliations
                ],
            )

    def count(self) -> int:
        return self._session.scalar(sa.select(sa.func.count()).select_from(AffiliationRow)) or 0

    def not_integrated(self, limit: int) -> list[Affiliation]:
        rows = self._session.scalars(
            sa.select(AffiliationRow)
            .where(AffiliationRow.integrated_at.is_(None))
            .order_by(AffiliationRow.insz, AffiliationRow.since)
            .limit(limit)
        )
        return [_affiliation(r, self._mutuality) for r in rows]

    def mark_integrated(self, affiliations: Sequence[Affiliation], at: dt.datetime) -> None:
        for a in affiliations:
            self._session.execute(
                sa.update(AffiliationRow)
                .where(AffiliationRow.insz == a.insz, AffiliationRow.since == a.since)
                .values(integrated_at=at)
            )


class SqlAffiliationsUnit:
    """What the service layer sees of one transaction."""

    def __init__(self, session: Session, mutuality: str) -> None:
        self.affiliations = SqlAffiliationRepository(session, mutuality)


def unit_factory(db: Database, mutuality: str, *, write: bool = True):  # noqa: ANN201
    """A factory of units of work over this mutuality's database."""

    @contextmanager
    def unit() -> Iterator[SqlAffiliationsUnit]:
        with db.unit_of_work(write=write) as session:
            yield SqlAffiliationsUnit(session, mutuality)

    return unit
