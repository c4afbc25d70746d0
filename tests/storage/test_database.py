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
from runtime.db import Database

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
