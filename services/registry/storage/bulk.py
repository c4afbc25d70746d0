"""Bulk loading for the seeder: Core `insert()` with executemany, batch by batch, and the record of
which synthetic population a database holds (`seed_run`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from registry.service.model import AddressPeriod, PersonRecord
from registry.storage.models import AddressRow, PersonRow, SeedRunRow
from registry.storage.repository import address_values, person_values

_person = PersonRow.__table__
_address = AddressRow.__table__
_seed_run = SeedRunRow.__table__


@dataclass(frozen=True)
class SeedRun:
    """A population loaded into this database."""

    seed: int
    count: int
    generator_version: int
    persons: int
    addresses: int
    completed_at: dt.datetime


class BulkWriter:
    """Writes batches of persons and addresses on one connection (the caller's transaction)."""

    def __init__(self, connection: sa.Connection) -> None:
        self._conn = connection

    def persons(self, persons: Sequence[PersonRecord]) -> None:
        if persons:
            self._conn.execute(sa.insert(_person), [person_values(p) for p in persons])

    def addresses(self, addresses: Sequence[tuple[str, AddressPeriod]]) -> None:
        if addresses:
            self._conn.execute(
                sa.insert(_address), [address_values(insz, period) for insz, period in addresses]
            )

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load.

        Without them PostgreSQL estimates a name-prefix range at a few rows and sorts a bitmap
        scan instead of walking the search index (measured on 1M persons: 20 ms instead of
        0.4 ms per page); SQLite's plans stay the same.
        """
        for table in (_person.name, _address.name):
            self._conn.exec_driver_sql(f"ANALYZE {table}")

    def seed_runs(self) -> list[SeedRun]:
        rows = self._conn.execute(sa.select(_seed_run).order_by(_seed_run.c.id))
        return [
            SeedRun(
                r.seed,
                r.count,
                r.generator_version,
                r.persons,
                r.addresses,
                r.completed_at if r.completed_at.tzinfo else r.completed_at.replace(tzinfo=dt.UTC),
            )
            for r in rows
        ]

    def living_current_inszs(self) -> list[str]:
        """The numbers of living persons that were not replaced, in INSZ order."""
        rows = self._conn.execute(
            sa.select(_person.c.insz)
            .where(_person.c.death_date.is_(None), _person.c.replaced_by.is_(None))
            .order_by(_person.c.insz)
        )
        return list(rows.scalars())

    def person_count(self) -> int:
        return self._conn.execute(sa.select(sa.func.count()).select_from(_person)).scalar_one()

    def record_seed_run(self, run: SeedRun) -> None:
        self._conn.execute(
            sa.insert(_seed_run).values(
                seed=run.seed,
                count=run.count,
                generator_version=run.generator_version,
                persons=run.persons,
                addresses=run.addresses,
                completed_at=run.completed_at,
            )
        )
