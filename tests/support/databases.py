"""Fresh databases for tests: an SQLite file, or a new PostgreSQL database.

`TEST_DATABASE_URL` names a PostgreSQL server to use (CI sets it); each call then creates a new
database on it (`CREATE DATABASE carrefour_t_<random>`), yields its URL and drops it afterwards.
Unset, the database is an SQLite file in the test's temporary folder. When TEST_DATABASE_URL is
set and PostgreSQL does not answer, the test errors: CI must never skip the PostgreSQL run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@contextmanager
def fresh_database_url(folder: Path, label: str) -> Iterator[str]:
    server = postgres_url()
    if server is None:
        yield f"sqlite:///{folder / (label + '.sqlite3')}"
        return
    name = f"carrefour_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def migration_drift(url: str, migrations: Path, metadata: sa.MetaData) -> list[object]:
    """What Alembic's autogenerate would still change after `migrations` ran on the database
    at `url` to match `metadata` (empty when the migrations build exactly the models)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from runtime.db import Database

    database = Database(url)
    try:
        database.migrate(migrations)
        with database.engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        database.dispose()
