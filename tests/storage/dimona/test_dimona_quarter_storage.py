"""DimonaQuarterService's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): the migrations
against the models, an employer's quarter in keyset pages (10,000 periods in pages of 1,000, one
statement each, served by ix_period_employer_state_id), students' periods and actual minutes by
IN lists, the upsert that replaces a figure, its checks, and concurrent recordings of the same
workers (real commits).

Repository tests run in an outer transaction that is rolled back (one migrated database per
module); the concurrency test commits in units of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from dimona.seed.data import RETAIL, STATE
from dimona.service.model import Period, PeriodState, StudentActual, WorkerType
from dimona.storage import MIGRATIONS
from dimona.storage.models import PeriodRow, StudentActualRow
from dimona.storage.repository import SqlDimonaUnit, period_values, unit_factory
from runtime.db import Database
from runtime.identifiers import make_insz
from tests.support.databases import migration_drift

pytestmark = pytest.mark.storage

NOW = dt.datetime(2026, 4, 2, 8, 0, tzinfo=dt.UTC)
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))


def worker(n: int) -> str:
    """A distinct valid INSZ per n (0 to 3,000)."""
    return make_insz(birth_year=1980 + n // 336, birth_month=1 + n // 28 % 12,
                     birth_day=1 + n % 28, serial=101)  # fmt: skip


WORKER, OTHER = worker(0), worker(1)


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Database]:
    database = Database(module_database_url)
    database.migrate(MIGRATIONS)
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


def student(start: dt.date, minutes: int, **changes: object) -> Period:
    return period(start, start, worker_type=WorkerType.STU, joint_committee="202",
                  planned_hours=minutes // 60, student_minutes=minutes, **changes)  # fmt: skip


def actual(employer: str, insz: str, quarter: int, minutes: int, source: str = "dmfa/1",
           year: int = 2026) -> StudentActual:  # fmt: skip
    return StudentActual(employer, insz, year, quarter, minutes, source, NOW)


class Statements:
    """Counts the statements a connection sends (executemany counts once)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn, self.sql = conn, []

    def __enter__(self) -> Statements:
        sa.event.listen(self.conn, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.conn, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.sql.append(statement)


def test_the_migrations_match_the_models_when_applied(database_url: str) -> None:
    from dimona.storage.models import Base

    assert migration_drift(database_url, MIGRATIONS, Base.metadata) == []


def test_quarter_keeps_the_employers_active_periods_meeting_its_days_when_listed(
    unit: SqlDimonaUnit,
) -> None:
    add = unit.periods.add
    kept = [
        add(period(dt.date(2025, 6, 1))),  # open, started before
        add(period(dt.date(2025, 11, 1), dt.date(2026, 1, 1))),  # ends on the first day
        add(period(dt.date(2026, 3, 31), dt.date(2026, 4, 30))),  # starts on the last day
        add(student(dt.date(2026, 2, 2), 600, worker=OTHER)),
    ]
    add(period(dt.date(2025, 11, 1), dt.date(2025, 12, 31)))  # before
    add(period(dt.date(2026, 4, 1)))  # after
    add(period(dt.date(2026, 2, 1), state=PeriodState.CANCELLED))
    add(period(dt.date(2026, 2, 1), employer=STATE))
    listed = unit.periods.in_quarter(RETAIL, *Q1, 0, 10)
    assert listed == kept  # by id, the periods as stored
    first = unit.periods.in_quarter(RETAIL, *Q1, 0, 3)
    rest = unit.periods.in_quarter(RETAIL, *Q1, first[-1].period_id, 3)
    assert [*first, *rest] == kept and len(first) == 3


def test_ten_thousand_periods_are_read_in_pages_of_a_thousand_one_statement_each_when_listed(
    unit: SqlDimonaUnit,
) -> None:
    rows = []
    for n in range(10_000):  # the employer's periods, among another employer's and cancelled ones
        start = dt.date(2025, 1, 1) + dt.timedelta(n % 400)
        rows.append(period_values(period(start, worker=worker(n % 3000))))
        if n % 4 == 0:
            rows.append(period_values(period(dt.date(2026, 1, 5), employer=STATE)))
            rows.append(period_values(period(dt.date(2026, 1, 5), state=PeriodState.CANCELLED)))
    conn = unit.periods._c
    conn.execute(sa.insert(PeriodRow.__table__), rows)
    expected = [
        r.id
        for r in conn.execute(
            sa.select(PeriodRow.id)
            .where(PeriodRow.employer == RETAIL, PeriodRow.state == "ACTIVE")
            .where(sa.or_(PeriodRow.end_date.is_(None), PeriodRow.end_date >= Q1[0]))
            .where(PeriodRow.start_date <= Q1[1])
            .order_by(PeriodRow.id)
        )
    ]
    assert len(expected) == 10_000  # every period is open-ended and starts before the end of Q1
    seen, after, pages = [], 0, 0
    while True:
        with Statements(conn) as statements:
            page = unit.periods.in_quarter(RETAIL, *Q1, after, 1000 + 1)
        assert len(statements.sql) == 1
        pages += 1
        seen += [p.period_id for p in page[:1000]]
        if len(page) <= 1000:
            break
        after = page[999].period_id
    assert seen == expected and pages == 10


def test_an_index_serves_an_employers_active_periods_in_id_order_when_asked(
    unit: SqlDimonaUnit,
) -> None:
    conn = unit.periods._c
    if conn.dialect.name == "sqlite":
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM period WHERE employer = ? AND state = ?"
                " AND id > ? AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)"
                " ORDER BY id LIMIT 1001",
                (RETAIL, "ACTIVE", 0, "2026-03-31", "2026-01-01"),
            )
        )
        assert "USING INDEX ix_period_employer_state_id" in plan and "TEMP B-TREE" not in plan
    else:  # PostgreSQL chooses by its statistics; the index is there for it to choose
        columns = conn.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
            {"n": "ix_period_employer_state_id"},
        ).scalar_one()
        assert columns.endswith("(employer, state, id)")


def test_student_periods_of_workers_keep_to_active_student_periods_of_the_year_when_read(
    unit: SqlDimonaUnit,
) -> None:
    add = unit.periods.add
    a = add(student(dt.date(2026, 2, 2), 600))
    b = add(student(dt.date(2026, 12, 31), 60, employer=STATE))
    c = add(student(dt.date(2026, 1, 1), 120, worker=OTHER))
    add(student(dt.date(2025, 12, 31), 60))  # another year
    add(student(dt.date(2026, 3, 2), 60, state=PeriodState.CANCELLED))
    add(period(dt.date(2026, 3, 2)))  # not a student period
    found = unit.periods.student_periods([WORKER, OTHER, worker(9)], 2026)
    assert {k: sorted(p.period_id for p in v) for k, v in found.items()} == {
        WORKER: sorted([a.period_id, b.period_id]),
        OTHER: [c.period_id],
    }


def test_a_recorded_figure_is_replaced_not_added_when_recorded_again(unit: SqlDimonaUnit) -> None:
    with Statements(unit.periods._c) as statements:
        unit.actuals.record([actual(RETAIL, WORKER, 1, 4800), actual(RETAIL, OTHER, 1, 60)])
    assert len(statements.sql) == 1  # one multi-row statement
    later = dataclasses.replace(
        actual(RETAIL, WORKER, 1, 5400, "dmfa/2"), recorded_at=NOW.replace(hour=9)
    )
    unit.actuals.record(
        [later, actual(STATE, WORKER, 2, 0), actual(RETAIL, WORKER, 4, 1, year=2025)]
    )
    found = unit.actuals.of_workers([WORKER, OTHER, worker(9)], 2026)
    assert sorted(found[WORKER], key=lambda a: a.quarter) == [later, actual(STATE, WORKER, 2, 0)]
    assert found[OTHER] == [actual(RETAIL, OTHER, 1, 60)] and worker(9) not in found
    last_year = unit.actuals.of_workers([WORKER], 2025)
    assert last_year == {WORKER: [actual(RETAIL, WORKER, 4, 1, year=2025)]}


@pytest.mark.parametrize(("quarter", "minutes"), [(0, 60), (5, 60), (1, -1), (1, 132_481)])
def test_impossible_figures_are_refused_by_the_database_when_inserted(
    unit: SqlDimonaUnit, quarter: int, minutes: int
) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        unit.actuals.record([actual(RETAIL, WORKER, quarter, minutes)])


def test_concurrent_recordings_of_the_same_workers_leave_one_whole_recording_when_racing(
    db: Database,
) -> None:
    workers = [worker(100 + n) for n in range(300)]
    write = unit_factory(db)

    def one(i: int) -> None:
        rows = [actual(STATE, w, 3, i, f"race-{i}") for w in reversed(workers)]
        with write() as u:
            u.actuals.record(rows)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(12)))  # no deadlock, no duplicate key
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(StudentActualRow.source, StudentActualRow.minutes).where(
                StudentActualRow.employer == STATE, StudentActualRow.quarter == 3
            )
        ).all()
    assert len(rows) == 300
    assert len({r.source for r in rows}) == 1  # one recording's figures, whole: the last one
    assert {f"race-{r.minutes}" for r in rows} == {rows[0].source}
