"""`python -m dimona seed-periods --workers N` into DIMONA's own database, on SQLite and on
PostgreSQL (TEST_DATABASE_URL): `make run`'s size (350 extra workers beside the roster) declared
through the real rules and storage (the worker's identity from a scripted fake), stored accepted
and on time, answered from storage when run again (nothing added, no event), the next quarter and
the same quarter a year later (the extra slots wrapped around: the same workers) declared without
an overlap.

One database per module, committed by the seed's own units of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from dimona.seed import periods as seed
from dimona.seed.command import load
from dimona.service.model import PeriodState, Status
from dimona.storage import MIGRATIONS
from dimona.storage.repository import unit_factory
from runtime.db import Database
from tests.unit.dimona.fakes import ScriptedIdentity
from tests.unit.dimona.test_dimona_seed_periods import large_population

pytestmark = pytest.mark.storage

#: `make run`'s prepare step (services/runtime/supervise.py).
WORKERS = 350
PEOPLE = large_population(6000)


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Database]:
    database = Database(module_database_url)
    database.migrate(MIGRATIONS)
    load(database)
    yield database
    database.dispose()


def stored(db: Database, planned: list[seed.Planned]) -> list[tuple[str, object, object]]:
    """(reference, declaration status, its period) of each planned IN, as stored."""
    out = []
    with unit_factory(db, write=False)() as unit:
        for p in planned:
            declaration = unit.declarations.get(p.employer, p.reference)
            assert declaration is not None, p.reference
            out.append((p.reference, declaration, unit.periods.get(declaration.period_id)))
    return out


def last_event(db: Database) -> int:
    with unit_factory(db, write=False)() as unit:
        return unit.events.last_sequence()


def test_the_extra_workers_are_stored_once_when_seeded_twice(
    db: Database, module_database_url: str
) -> None:
    planned = seed.plan(2025, 2, PEOPLE, WORKERS)
    first = seed.seed_quarter(module_database_url, 2025, 2, PEOPLE, ScriptedIdentity(), WORKERS)
    assert (first.declared, first.already, first.late, first.refused) == (382, 0, 0, [])
    extras = [p for p in planned if "-w" in p.reference]
    assert len(extras) == WORKERS
    for (reference, declaration, period), p in zip(stored(db, extras), extras, strict=True):
        assert declaration.status is Status.ACCEPTED and not declaration.late, reference
        assert declaration.worker == p.worker
        assert period.state is PeriodState.ACTIVE and period.worker == p.worker
        assert (period.start_date, period.end_date) == (p.draft.start_date, dt.date(2025, 6, 30))
        assert period.worker_type is p.draft.worker_type
        assert period.joint_committee == p.draft.joint_committee
    events = last_event(db)

    again = seed.seed_quarter(module_database_url, 2025, 2, PEOPLE, ScriptedIdentity(), WORKERS)
    assert (again.declared, again.already, again.refused) == (0, 382, [])
    assert last_event(db) == events  # answered from storage: no period, no event


def test_the_next_quarter_and_a_year_later_are_declared_without_overlap_when_seeded(
    db: Database, module_database_url: str
) -> None:
    seed.seed_quarter(module_database_url, 2025, 2, PEOPLE, ScriptedIdentity(), WORKERS)
    q2 = {p.worker for p in seed.plan(2025, 2, PEOPLE, WORKERS) if "-w" in p.reference}
    # The next quarter: other extra workers, all accepted (the demonstration kept, not redone).
    nxt = seed.seed_quarter(module_database_url, 2025, 3, PEOPLE, ScriptedIdentity(), 40)
    assert (nxt.declared, nxt.already, nxt.refused) == (71, 1, [])
    q3 = {p.worker for p in seed.plan(2025, 3, PEOPLE, 40) if "-w" in p.reference}
    assert not q2 & q3
    # A year later the extra slots wrap around: the first of 2025Q2's workers again, in new
    # periods after their 2025Q2 ones (which ended with the quarter).
    later = seed.plan(2026, 2, PEOPLE, 40)
    again = [p for p in later if "-w" in p.reference]
    assert {p.worker for p in again} <= q2
    outcome = seed.seed_quarter(module_database_url, 2026, 2, PEOPLE, ScriptedIdentity(), 40)
    assert (outcome.declared, outcome.refused) == (71, [])
    with unit_factory(db, write=False)() as unit:
        for p in again:
            periods = [x for x in unit.periods.of_worker(p.worker) if x.employer == p.employer]
            spans = sorted((x.start_date, x.end_date) for x in periods)
            assert spans[-1] == (p.draft.start_date, dt.date(2026, 6, 30))
            assert all(end is not None and end < dt.date(2026, 4, 1) for _s, end in spans[:-1])
