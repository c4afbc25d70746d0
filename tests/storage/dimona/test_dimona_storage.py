"""DIMONA's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): migrations, the seed, the
period id's bound, the idempotency key as a lost race, the person who acted at the portal, the
gap-free event counter under rollback, range and keyset queries, the directory outbox and
mirror.

Repository tests run in an outer transaction that is rolled back (one migrated database per
module); the commit and rollback tests use their own units of work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from dimona.seed.command import load
from dimona.seed.data import BUREAU, RETAIL, STATE, employers
from dimona.service.model import (
    Action,
    Declaration,
    EmploymentEvent,
    EventKind,
    Period,
    PeriodState,
    Status,
    WorkerType,
)
from dimona.service.ports import DirectoryInterval
from dimona.storage import MIGRATIONS
from dimona.storage.repository import SqlDimonaUnit, unit_factory
from runtime.db import Database
from runtime.errors import ConflictError
from runtime.identifiers import make_insz

pytestmark = pytest.mark.storage

NOW = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
WORKER = make_insz(birth_year=2004, birth_month=3, birth_day=14, serial=121)


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Database]:
    database = Database(module_database_url)
    database.migrate(MIGRATIONS)
    load(database)
    yield database
    database.dispose()


@pytest.fixture
def unit(db: Database) -> Iterator[SqlDimonaUnit]:
    with db.engine.connect() as conn:
        outer = conn.begin()
        try:
            yield SqlDimonaUnit(conn)
        finally:
            outer.rollback()


def period(start: dt.date, end: dt.date | None = None, **changes: object) -> Period:
    base = Period(
        period_id=0, employer=RETAIL, worker=WORKER, worker_type=WorkerType.OTH,
        joint_committee="200", sub_entity="", using_employer="", start_date=start,
        start_time=None, end_date=end, end_time=None, planned_hours=0, flexi_contract=None,
        state=PeriodState.ACTIVE, student_minutes=0, exceeding_minutes=0, late=False,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def declaration(reference: str, **changes: object) -> Declaration:
    base = Declaration(
        employer=RETAIL, reference=reference, action=Action.IN, status=Status.ACCEPTED,
        anomalies=(), period_id=0, worker=WORKER, late=False, deadline=None,
        submitted_by="spiffe://carrefour.local/employer/000100006", submitted_at=NOW,
        fingerprint="f" * 64,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_seed_loads_the_register_once_when_run_twice(db: Database, unit: SqlDimonaUnit) -> None:
    assert load(db) == 0
    assert unit.employers.count() == len(employers())
    assert unit.employers.get(STATE) is not None and unit.employers.get(RETAIL) is not None
    provisional = [e for e in employers() if e.provisional]
    assert provisional and unit.employers.get(provisional[0].onss_number).provisional
    assert unit.employers.has_mandate(RETAIL, BUREAU, dt.date(2025, 1, 1))
    assert not unit.employers.has_mandate(STATE, BUREAU, dt.date(2025, 1, 1))
    assert not unit.employers.has_mandate(RETAIL, BUREAU, dt.date(2019, 12, 31))


def test_period_round_trips_and_updates_when_stored(unit: SqlDimonaUnit) -> None:
    stored = unit.periods.add(period(dt.date(2025, 6, 3), start_time=8 * 60 + 30))
    assert stored.period_id > 0 and unit.periods.get(stored.period_id) == stored
    closed = dataclasses.replace(stored, end_date=dt.date(2025, 6, 30), end_time=17 * 60)
    unit.periods.update(closed)
    assert unit.periods.get(stored.period_id) == closed


def test_period_id_beyond_12_digits_is_refused_when_inserted(unit: SqlDimonaUnit) -> None:
    from dimona.storage.models import PeriodRow
    from dimona.storage.repository import period_values

    values = {**period_values(period(dt.date(2025, 6, 3))), "id": 10**12}
    with pytest.raises(sa.exc.IntegrityError):
        unit.periods._c.execute(sa.insert(PeriodRow.__table__).values(values))


def test_worker_queries_keep_to_active_periods_and_ranges_when_asked(unit: SqlDimonaUnit) -> None:
    a = unit.periods.add(period(dt.date(2025, 1, 1), dt.date(2025, 1, 31)))
    b = unit.periods.add(period(dt.date(2025, 3, 1), None, employer=STATE))
    unit.periods.add(period(dt.date(2025, 2, 1), dt.date(2025, 2, 2), state=PeriodState.CANCELLED))
    assert [p.period_id for p in unit.periods.of_worker(WORKER)] == [a.period_id, b.period_id]
    feb_on = unit.periods.by_worker(WORKER, dt.date(2025, 2, 1), None, None, 10)
    assert [p.period_id for p in feb_on] == [b.period_id]
    first_page = unit.periods.by_worker(WORKER, None, None, None, 1)
    rest = unit.periods.by_worker(
        WORKER, None, None, (first_page[0].start_date, first_page[0].period_id), 10
    )
    assert [p.period_id for p in [*first_page, *rest]] == [a.period_id, b.period_id]
    assert unit.periods.employed_by(STATE, WORKER) and not unit.periods.employed_by("0", WORKER)
    assert set(unit.periods.for_workers([WORKER])[WORKER]) == {a, b}
    assert [p.period_id for p in unit.periods.by_employer(RETAIL, WORKER, 0, 10)][0] == a.period_id


def test_same_declaration_key_is_a_lost_race_when_written_twice(db: Database) -> None:
    write = unit_factory(db)
    with write() as u:
        u.declarations.add(declaration("race-key"))
    with pytest.raises(ConflictError), write() as u:
        u.declarations.add(declaration("race-key", status=Status.REFUSED))
    with unit_factory(db, write=False)() as u:
        assert u.declarations.get(RETAIL, "race-key").status is Status.ACCEPTED


def test_declaration_keeps_the_person_who_acted_at_the_portal_when_read_back(
    unit: SqlDimonaUnit,
) -> None:
    unit.declarations.add(declaration("portal-1", acting_person="70020304588"))
    unit.declarations.add(declaration("certificate-1"))
    stored = unit.declarations.get(RETAIL, "portal-1")
    assert stored == declaration("portal-1", acting_person="70020304588")
    assert unit.declarations.get(RETAIL, "certificate-1").acting_person == ""


def test_event_sequence_has_no_gap_when_a_unit_rolls_back(db: Database) -> None:
    write = unit_factory(db)
    snapshot = period(dt.date(2025, 6, 3), period_id=1)

    def event(u: SqlDimonaUnit) -> int:
        n = u.events.next_sequence()
        u.events.add(
            EmploymentEvent(n, EventKind.STARTED, snapshot, "employers/x/declarations/y", NOW)
        )
        return n

    with write() as u:
        first = event(u)
    with pytest.raises(RuntimeError), write() as u:
        event(u)
        raise RuntimeError("refused after taking a number")
    with write() as u:
        second = event(u)
    assert second == first + 1
    with unit_factory(db, write=False)() as u:
        listed = u.events.list(first - 1, 10)
        assert [e.sequence for e in listed] == [first, second]
        assert listed[0].period == snapshot and u.events.last_sequence() == second


def test_worker_lock_is_taken_again_when_the_worker_is_known(db: Database) -> None:
    write = unit_factory(db)
    for _ in range(2):
        with write() as u:
            u.periods.lock_worker(WORKER)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM worker WHERE insz = :w"), {"w": WORKER})
        # PostgreSQL: one row, locked by every declaration about the worker; SQLite serialises
        # write transactions as a whole and needs none.
        assert rows.scalar_one() == (0 if db.is_sqlite else 1)


def test_outbox_and_mirror_keep_what_the_dispatcher_needs_when_used(unit: SqlDimonaUnit) -> None:
    other = make_insz(birth_year=1990, birth_month=1, birth_day=2, serial=33)
    for insz in (WORKER, other, WORKER):
        unit.outbox.add(insz)
    pending = unit.outbox.pending(10)
    assert [w for _, w in pending] == [WORKER, other, WORKER]
    unit.outbox.delete_handled([WORKER], pending[0][0])
    assert [w for _, w in unit.outbox.pending(10)] == [other, WORKER]
    unit.outbox.delete_handled([WORKER, other], pending[2][0])
    assert unit.outbox.pending(10) == []
    spans = [DirectoryInterval(dt.date(2025, 1, 1), dt.date(2025, 1, 31)),
             DirectoryInterval(dt.date(2025, 3, 1), None)]  # fmt: skip
    unit.outbox.set_mirrors({WORKER: spans, other: spans[:1]})
    assert unit.outbox.mirror([WORKER, other]) == {WORKER: spans, other: spans[:1]}
    unit.outbox.set_mirrors({WORKER: []})
    assert unit.outbox.mirror([WORKER, other]) == {other: spans[:1]}
