"""runtime.db on the embedded default (SQLite) and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from echo.service.notes import ConflictError, Note
from echo.storage import MIGRATIONS
from echo.storage.models import NoteRow
from echo.storage.repository import unit_factory
from runtime.db import MULTI_ROW, Database

pytestmark = pytest.mark.storage


@pytest.fixture
def db(database_url: str):
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


def _note(i: int, request_id: str | None = None) -> Note:
    return Note(
        f"{i:032x}",
        f"text {i}",
        "spiffe://carrefour.local/admin/ops",
        request_id or f"r{i}",
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def _count(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(sa.select(sa.func.count()).select_from(NoteRow))


def test_migrations_are_idempotent_when_run_twice(db: Database) -> None:
    db.migrate(MIGRATIONS)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0001"


def test_unit_of_work_commits_when_block_succeeds(db: Database) -> None:
    with unit_factory(db)() as unit:
        unit.notes.add(_note(1))
    with unit_factory(db, write=False)() as unit:
        stored = unit.notes.get(_note(1).id)
    assert stored == _note(1)
    assert stored.created_at.tzinfo is not None


def test_unit_of_work_writes_nothing_when_block_fails(db: Database) -> None:
    with pytest.raises(RuntimeError):
        with unit_factory(db)() as unit:
            unit.notes.add(_note(1))
            unit.notes.add(_note(2))
            raise RuntimeError("fails after two writes")
    assert _count(db) == 0


def test_unique_key_violation_is_a_conflict_when_committed_twice(db: Database) -> None:
    with unit_factory(db)() as unit:
        unit.notes.add(_note(1, "same"))
    with pytest.raises(ConflictError):
        with unit_factory(db)() as unit:
            unit.notes.add(_note(2, "same"))
    assert _count(db) == 1


def test_database_errors_never_quote_their_parameters_when_turned_to_text(db: Database) -> None:
    """An unexpected error logged with its traceback must not carry personal data."""
    secret = "Janssens 85071412330"
    with pytest.raises(sa.exc.StatementError) as caught:
        with db.write() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert "no_such_table" in str(caught.value)  # the statement is still there to debug
    assert secret not in str(caught.value)
    assert "85071412330" not in repr(caught.value)


def test_prepared_statements_store_and_read_like_core_when_run_on_driver_cursors(
    db: Database,
) -> None:
    """runtime.db.Prepared: the same values, conversions included, as Core's own execution."""
    notes = NoteRow.__table__
    insert = db.prepare(sa.insert(notes))
    rows = [_row(1), _row(2)]
    with db.raw_write() as cursor:
        insert.many(cursor, rows)
    with unit_factory(db, write=False)() as unit:
        assert unit.notes.get(_note(2).id) == _note(2)  # datetimes stored as Core stores them
    by_id = db.prepare(sa.select(notes.c.text).where(notes.c.id == sa.bindparam("id")))
    with db.raw_read() as cursor:
        assert by_id.all(cursor, id=_note(1).id) == [("text 1",)]
        assert by_id.all(cursor, id="missing") == []
    with pytest.raises(ValueError):
        db.prepare(sa.select(notes.c.id).where(notes.c.id.in_(sa.bindparam("ids", expanding=True))))


def test_raw_write_keeps_nothing_when_its_block_fails(db: Database) -> None:
    insert = db.prepare(sa.insert(NoteRow.__table__))
    with pytest.raises(RuntimeError):
        with db.raw_write() as cursor:
            insert.many(cursor, [_row(1)])
            raise RuntimeError("fails after the insert")
    assert _count(db) == 0


def test_a_batch_is_stored_whole_when_written_as_multi_row_inserts(db: Database) -> None:
    """Prepared.many: one statement per MULTI_ROW rows on SQLite (executemany elsewhere); a
    batch larger than one statement is still one transaction."""
    insert = db.prepare(sa.insert(NoteRow.__table__))
    count = MULTI_ROW * 2 + 7
    assert not insert.one_statement(count)
    with db.raw_write() as cursor:
        insert.many(cursor, [_row(i) for i in range(count)])
    assert _count(db) == count
    with unit_factory(db, write=False)() as unit:
        assert unit.notes.get(_note(count - 1).id) == _note(count - 1)
    with pytest.raises(RuntimeError):
        with db.raw_write() as cursor:
            insert.many(cursor, [_row(i) for i in range(count, 2 * count)])
            raise RuntimeError("fails after every chunk was inserted")
    assert _count(db) == count


def test_one_statement_write_keeps_nothing_when_a_row_of_it_fails(db: Database) -> None:
    """raw_write(one_statement=True): on SQLite the statement is its own transaction; a
    duplicate in the middle of a multi-row INSERT leaves none of its rows (on PostgreSQL the
    rows go by executemany in the one transaction)."""
    insert = db.prepare(sa.insert(NoteRow.__table__))
    with db.raw_write(one_statement=True) as cursor:
        insert.many(cursor, [_row(1)])
    batch = [_row(2), _row(3), _row(1), _row(4)]  # _row(1) is there already
    one = insert.one_statement(len(batch))
    assert one is db.is_sqlite
    with pytest.raises(db.engine.dialect.dbapi.IntegrityError):  # the driver's own error
        with db.raw_write(one_statement=one) as cursor:
            insert.many(cursor, batch)
    assert _count(db) == 1
    with db.raw_write(one_statement=one) as cursor:  # the writer recovers after a failure
        insert.many(cursor, [_row(2), _row(3)])
    assert _count(db) == 3


def _row(i: int) -> dict[str, object]:
    """A note as the column values of an INSERT."""
    note = _note(i)
    return {
        "id": note.id,
        "text": note.text,
        "creator": note.creator,
        "request_id": note.request_id,
        "created_at": note.created_at,
    }


def test_concurrent_writers_all_commit_when_they_contend(db: Database) -> None:
    errors: list[BaseException] = []

    def writer(base: int) -> None:
        try:
            for i in range(base, base + 20):
                with unit_factory(db)() as unit:
                    if unit.notes.get(_note(i).id) is None:
                        unit.notes.add(_note(i))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t * 20,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(db) == 160


def test_ping_answers_when_database_is_there(db: Database) -> None:
    assert db.ping() is True


def test_sqlite_is_configured_for_durability_when_embedded(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path}/durable.sqlite3")  # the embedded default, in every run
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
