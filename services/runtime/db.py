"""Each service's own database: engine, migrations, unit of work, health probe.

The embedded default is an SQLite file under `var/db/`; PostgreSQL when `DATABASE_URL` says so
(`postgresql+psycopg://…`). Schema changes only through the service's Alembic migrations, run at
start-up (and by `python -m <service> migrate`).

SQLite is configured for a server: WAL (readers never block the writer), `synchronous=FULL` (a
committed row survives a power cut), foreign keys on, a busy timeout, and write transactions that
start with `BEGIN IMMEDIATE` so that two writers queue on the lock instead of one failing with
"database is locked" when it upgrades a read lock. Read-only units of work use a deferred BEGIN
and run concurrently with the writer.

On SQLite, units of work also pass a process-wide gate (one reader and one writer at a time in
this process). Measured on this 2-core machine: the sqlite3 module releases and re-takes the GIL
around every call, so 16 server threads reading at once spent 661 µs of CPU per GetPerson (half
of it in the kernel, handing the GIL around) against 253 µs when they take turns; SQLite gains
nothing from more readers in one process. PostgreSQL, whose work happens in its own processes,
is not gated.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from runtime.errors import ConflictError

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WRITE = "carrefour_write"
#: Rows per multi-row INSERT (Prepared.many), fewer when the row has so many columns that SQLite's
#: limit on a statement's parameters (32,766 since SQLite 3.32, 999 before) would be passed.
MULTI_ROW = 1000
_SQLITE_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999
# PostgreSQL's serialization failure and deadlock: the transaction lost a race.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


@contextmanager
def _conflicts_as_retryable() -> Iterator[None]:
    """A lost race (unique key, serialization failure, deadlock) becomes ConflictError."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise ConflictError() from exc
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
            raise ConflictError() from exc
        raise


def metadata() -> sa.MetaData:
    """A MetaData with the project's naming convention, for a service's declarative base."""
    return sa.MetaData(naming_convention=NAMING_CONVENTION)


class Database:
    """One service's database: the engine (one per process) and its session factories."""

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self._sqlite_path = self.url.database or ""
            if self._sqlite_path and self._sqlite_path != ":memory:":
                Path(self._sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                # Statement parameters (INSZs, names) never appear in an error's text or logs.
                hide_parameters=True,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = sa.create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                # Statement parameters (INSZs, names) never appear in an error's text or logs.
                hide_parameters=True,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5},
            )
        self._gates = (threading.RLock(), threading.RLock()) if self.is_sqlite else (None, None)
        self._reader: tuple[Any, Any] | None = None  # SQLite: raw_read's own connection
        self._writer: Any = None  # SQLite: raw_write's own connection
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction for one operation: committed when the block ends, rolled back on error.

        Repositories receive the session and never commit; only the unit of work does, so an
        operation is written whole or not at all. A lost race raises runtime.errors.ConflictError.
        """
        gate = self._gates[0 if write else 1]
        if gate is not None:
            gate.acquire()
        session = (self._write if write else self._read)()
        try:
            with _conflicts_as_retryable(), session.begin():
                yield session
        finally:
            session.close()
            if gate is not None:
                gate.release()

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction on a Core connection: the fast path for hot reads.

        Same snapshot guarantee as `unit_of_work(write=False)`, without the ORM session's
        bookkeeping (measured: most of a simple lookup's Python time on this machine). For
        repositories written with Core statements (`conn.execute(select(...))`).
        """
        gate = self._gates[1]
        if gate is not None:
            gate.acquire()
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        finally:
            if gate is not None:
                gate.release()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction on a Core connection (BEGIN IMMEDIATE on SQLite), committed when
        the block ends and rolled back on error: the fast path for hot appends."""
        gate = self._gates[0]
        if gate is not None:
            gate.acquire()
        try:
            with (
                _conflicts_as_retryable(),
                self.engine.execution_options(**{_WRITE: True}).begin() as conn,
            ):
                yield conn
        finally:
            if gate is not None:
                gate.release()

    def prepare(self, statement: sa.Executable) -> Prepared:
        """`statement` rendered once for this database's driver (see Prepared)."""
        return Prepared(self.engine.dialect, statement)

    @contextmanager
    def raw_read(self) -> Iterator[Any]:
        """A driver cursor for Prepared statements on the hottest read paths (not reentrant).

        Each statement is its own snapshot. On SQLite, where readers of this process take
        turns at the gate anyway, it is the one cursor of a connection kept for these reads (in
        autocommit), so a read costs no pool checkout; on PostgreSQL a pooled connection, whose
        transaction is rolled back when it returns to the pool.
        """
        gate = self._gates[1]
        if gate is None:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            finally:
                raw.close()
            return
        with gate:
            if self._reader is None:
                connection = self._kept_connection()
                self._reader = (connection, connection.cursor())
            yield self._reader[1]

    def _kept_connection(self) -> Any:
        """A driver connection out of the pool (raw_read's and raw_write's own, on SQLite)."""
        connection = self.engine.raw_connection()
        connection.detach()
        return connection

    @contextmanager
    def raw_write(self, *, one_statement: bool = False) -> Iterator[Any]:
        """A driver cursor in one write transaction (BEGIN IMMEDIATE on SQLite), committed
        when the block ends and rolled back on error: for Prepared appends on the hottest
        write path (the router's message log).

        On SQLite it is a connection kept for these writes (out of the pool, like raw_read's):
        a pool checkout and the rollback a checkin does cost a round of the GIL each, which
        under load means context switches (measured on the router: see its README). A write
        that fails closes it; the next write opens a new one. `one_statement`: the block runs
        a single statement, which SQLite then runs as its own transaction (autocommit: all of
        it or nothing, as durable as a COMMIT) without a BEGIN and a COMMIT of its own — so it
        is committed once it has run, and the block must end with it (an error raised after
        it cannot take it back).
        """
        gate = self._gates[0]
        if gate is None:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    yield cursor
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                finally:
                    cursor.close()
            finally:
                raw.close()
            return
        with gate:
            if self._writer is None:
                self._writer = self._kept_connection()
            raw = self._writer
            cursor = raw.cursor()
            try:
                if not one_statement:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                if not one_statement:
                    cursor.execute("COMMIT")
            except BaseException:
                self._writer = None  # whatever state it is in, the next write opens a new one
                with suppress(Exception):
                    cursor.close()
                    raw.rollback()
                with suppress(Exception):
                    raw.close()
                raise
            cursor.close()

    def ping(self) -> bool:
        """True when the database answers now (used by the health check)."""
        try:
            if self.is_sqlite and self._sqlite_path not in ("", ":memory:"):
                # A fresh connection that may not create the file: a deleted or unmounted
                # database must show, which a pooled connection to the old inode would hide.
                uri = f"file:{Path(self._sqlite_path).resolve()}?mode=rw"
                with sqlite3.connect(uri, uri=True, timeout=1) as conn:
                    conn.execute("SELECT 1 FROM alembic_version").fetchall()
                conn.close()
                return True
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception as exc:  # any failure means "not ready"; the reason is logged
            logger.warning("database ping failed: %s", type(exc).__name__)
            return False

    def migrate(self, script_location: Path) -> None:
        """Bring the schema to the latest revision of the service's migrations."""
        config = Config()
        config.set_main_option("script_location", str(script_location))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            reader[0].close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
        self.engine.dispose()


class Prepared:
    """A Core statement rendered once for one driver, run on a driver cursor.

    Measured on the router (one directory read and one log append per routed message): the
    execution machinery of `Connection.execute` — connection checkout events, BEGIN/COMMIT
    bookkeeping, parameter and result processing — cost several times what SQLite takes to
    answer. A Prepared statement keeps the SQL text and each parameter's type conversion
    (SQLAlchemy's bind processors, so dates and times are stored exactly as Core stores them)
    and hands plain tuples to the driver. Results come back as the driver returns them, so it
    is meant for statements whose result columns need no conversion (strings and integers);
    `expanding` IN lists are not supported (render one statement per list length instead).
    """

    def __init__(self, dialect: sa.Dialect, statement: sa.Executable) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(b.expanding for b in compiled.binds.values()):
            raise ValueError("a Prepared statement cannot have an expanding IN list")
        self.sql = compiled.string
        self._compiled = compiled
        self._order: list[str] | None = (
            list(compiled.positiontup or ()) if dialect.positional else None
        )
        self._convert = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.bind_processor(dialect)) is not None
        }
        # "INSERT ... VALUES (?, ?, ...)" on a positional driver: the group repeated for a
        # multi-row INSERT (see many()).
        self._values_group: str | None = None
        self._multi: dict[int, str] = {}
        self._rows_per_statement = min(
            MULTI_ROW, max(1, _SQLITE_MAX_VARIABLES // max(1, len(self._order or ())))
        )
        head, sep, group = self.sql.rpartition(" VALUES ")
        if (
            dialect.positional
            and isinstance(statement, sa.Insert)
            and sep
            and group.startswith("(")
            and group.endswith(")")
            and ")" not in group[:-1]
            and "RETURNING" not in head.upper()
        ):
            self._values_group = group

    def params(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """The driver's parameters for `values` (the statement's literals included)."""
        merged = self._compiled.construct_params(values)
        for name, convert in self._convert.items():
            merged[name] = convert(merged[name])
        if self._order is None:
            return merged
        return tuple(merged[name] for name in self._order)

    def all(self, cursor: Any, **values: Any) -> list[tuple[Any, ...]]:
        """Run it and return every row."""
        cursor.execute(self.sql, self.params(values))
        return cursor.fetchall()

    def many(self, cursor: Any, rows: list[dict[str, Any]]) -> None:
        """Run it once per row of values (an INSERT of a batch).

        An INSERT on a positional driver (SQLite) runs as multi-row INSERTs of up to MULTI_ROW
        rows (see one_statement): one statement step instead of a step and a reset per row,
        each of which hands the GIL around (measured on the router's message log: see its
        README).
        """
        params = [self.params(row) for row in rows]
        if self._values_group is None or len(params) < 2:
            cursor.executemany(self.sql, params)
            return
        for start in range(0, len(params), self._rows_per_statement):
            chunk = params[start : start + self._rows_per_statement]
            cursor.execute(self._multi_row(len(chunk)), [value for row in chunk for value in row])

    def one_statement(self, rows: int) -> bool:
        """Does many() run `rows` rows as a single statement?"""
        return rows == 1 or (self._values_group is not None and rows <= self._rows_per_statement)

    def _multi_row(self, count: int) -> str:
        sql = self._multi.get(count)
        if sql is None:
            sql = self.sql + (", " + (self._values_group or "")) * (count - 1)
            if count <= 64:  # the usual batch sizes; a rare large one is rendered each time
                self._multi[count] = sql
        return sql


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the driver.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def run_migrations_online(target_metadata: sa.MetaData) -> None:
    """The body of every service's Alembic `env.py`: migrate on the connection given to it."""
    from alembic import context

    env: EnvironmentContext = context  # type: ignore[assignment]
    connection = env.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through Database.migrate(), not the alembic CLI")
    env.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with env.begin_transaction():
        env.run_migrations()
