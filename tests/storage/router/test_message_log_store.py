"""The message log on a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set).

Writer: group commit, durability before the future resolves, nothing partially logged on failure,
checkpoints every N rows / T seconds / at close. Verifier: every tampering case, done with SQL on
the stored rows, and the command-line entry point. `-s` prints the measured write rate.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from router.service.message_log import (
    ChainHead,
    CheckpointSigner,
    LogEntry,
    VerifyReport,
    chain_hash,
    genesis,
    payload_digest,
)
from router.storage import MIGRATIONS
from router.storage.message_log import (
    LogCheckpointRow,
    LogWriter,
    MessageLogError,
    MessageLogRow,
    main,
    verify_database,
)
from runtime import pki
from runtime.clock import FixedClock
from runtime.db import Database

pytestmark = pytest.mark.storage

LOG = MessageLogRow.__table__
CHECKPOINT = LogCheckpointRow.__table__
TABLES = {"message_log", "log_checkpoint"}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


@pytest.fixture
def ca_pem(pki_dir: Path) -> bytes:
    return (pki_dir / "ca.pem").read_bytes()


@pytest.fixture
def new_writer(db: Database, pki_dir: Path) -> Iterator[Callable[..., LogWriter]]:
    """Started writers, closed at the end of the test if the test did not close them."""
    writers: list[LogWriter] = []

    def make(**options: object) -> LogWriter:
        writer = LogWriter(
            db,
            name="router-cbss",
            cert_path=pki_dir / "router.pem",
            key_path=pki_dir / "router.key",
            **options,  # type: ignore[arg-type]
        )
        writer.start()
        writers.append(writer)
        return writer

    yield make
    for writer in writers:
        writer.close()


def _entry(i: int = 0, **changes: object) -> LogEntry:
    values: dict[str, object] = {
        "ticket": str(uuid.UUID(int=i, version=4)),
        "occurred_at": dt.datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)
        + dt.timedelta(microseconds=i),
        "requester": "spiffe://carrefour.local/institution/onem",
        "service": "cbss.dimona.v1.DimonaService",
        "method": "GetDeclaration",
        "legal_context": "ONEM-2026-07",
        "subject": "85073100109",
        "capacity": "11/1",
        "destination": "onss",
        "outcome": "FORWARDED",
        "reason": "",
        "latency_us": 800 + i,
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "request_digest": payload_digest(b"request %d" % i),
        "response_digest": payload_digest(b"response %d" % i),
    }
    values.update(changes)
    return LogEntry(**values)  # type: ignore[arg-type]


def _log(writer: LogWriter, n: int, start: int = 0) -> None:
    """n single-row messages, one after the other."""
    for i in range(start, start + n):
        writer.submit([_entry(i)]).result(timeout=30)


def _rows(db: Database, chain_id: str | None = None) -> list[sa.Row]:
    stmt = sa.select(LOG).order_by(LOG.c.chain_id, LOG.c.seq)
    if chain_id is not None:
        stmt = stmt.where(LOG.c.chain_id == chain_id)
    with db.unit_of_work(write=False) as session:
        return list(session.execute(stmt).all())


def _checkpoints(db: Database, chain_id: str) -> list[tuple[int, bool]]:
    with db.unit_of_work(write=False) as session:
        return [
            (r.seq, r.final)
            for r in session.execute(
                sa.select(CHECKPOINT.c.seq, CHECKPOINT.c.final)
                .where(CHECKPOINT.c.chain_id == chain_id)
                .order_by(CHECKPOINT.c.seq, CHECKPOINT.c.final)
            )
        ]


def _sql(db: Database, *statements: sa.Executable) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def _at(chain_id: str, seq: int) -> sa.ColumnElement[bool]:
    return sa.and_(LOG.c.chain_id == chain_id, LOG.c.seq == seq)


def _first(report: VerifyReport) -> tuple[int, str]:
    problem = report.first_problem
    assert problem is not None, report.render()
    return problem.seq, problem.kind


def _closed_chain(new_writer: Callable[..., LogWriter], n: int = 12, every: int = 5) -> str:
    writer = new_writer(checkpoint_every=every)
    _log(writer, n)
    writer.close()
    return writer.chain_id


class _HookedCursor:
    """A driver cursor that shows every statement to a hook before running it."""

    def __init__(self, cursor: Any, hook: Callable[[str], None]) -> None:
        self._cursor, self._hook = cursor, hook

    def execute(self, statement: str, *args: Any) -> Any:
        self._hook(statement)
        return self._cursor.execute(statement, *args)

    def executemany(self, statement: str, *args: Any) -> Any:
        self._hook(statement)
        return self._cursor.executemany(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def _on_insert(db: Database, hook: Callable[[str], None]) -> Iterator[None]:
    """Fault injection: `hook(statement)` runs before every statement sent to the database,
    through the engine or on the driver cursors of `Database.raw_write` (the log's appends)."""

    def listener(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        hook(statement)

    inner = db.raw_write

    @contextmanager
    def raw_write(**options: Any) -> Iterator[Any]:
        with inner(**options) as cursor:
            yield _HookedCursor(cursor, hook)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    db.raw_write = raw_write  # type: ignore[method-assign]
    try:
        yield
    finally:
        del db.raw_write
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def _is_log_insert(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO MESSAGE_LOG")


# --- schema -------------------------------------------------------------------------------------


def test_migration_creates_the_log_tables_when_run_twice(db: Database) -> None:
    db.migrate(MIGRATIONS)
    with db.engine.connect() as conn:
        # 0001 is the message log; later router revisions build on it.
        assert conn.scalar(sa.text("SELECT count(*) FROM alembic_version")) == 1
        assert TABLES <= set(sa.inspect(conn).get_table_names())
    revision = ScriptDirectory(str(MIGRATIONS)).get_revision("0001")
    assert revision is not None and revision.down_revision is None


def test_migration_matches_the_models_when_compared(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, MessageLogRow.metadata)

    assert [change for change in diff if _names(change) & TABLES] == []


def _names(change: object) -> set[str]:
    """The table names an autogenerate diff entry mentions (other router tables are not ours)."""
    if isinstance(change, tuple | list):
        return set().union(*(_names(part) for part in change))
    if isinstance(change, str):
        return {change}
    table = getattr(change, "table", None)
    return {n for n in (getattr(change, "name", None), getattr(table, "name", None)) if n}


# --- writing ------------------------------------------------------------------------------------


def test_rows_are_committed_and_chained_when_the_future_resolves(
    db: Database, new_writer: Callable[..., LogWriter]
) -> None:
    writer = new_writer()
    message = [_entry(1, subject="85073100109"), _entry(1, subject="")]
    writer.submit(message).result(timeout=30)
    # Read through another connection: committed, not just queued.
    rows = _rows(db, writer.chain_id)
    assert [(r.seq, r.ticket, r.subject) for r in rows] == [
        (1, message[0].ticket, "85073100109"),
        (2, message[0].ticket, ""),
    ]
    prev = genesis(writer.chain_id)
    for row in rows:
        digest = chain_hash(prev, row.chain_id, row.seq, row)
        assert digest.hex() == row.row_hash  # recomputed from what the database gives back
        prev = digest


@pytest.mark.parametrize(
    "instant",
    [
        dt.datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, 0, 500_000, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
    ],
)
def test_timestamps_keep_their_microseconds_when_read_back(
    db: Database, new_writer: Callable[..., LogWriter], instant: dt.datetime
) -> None:
    writer = new_writer()
    writer.submit([_entry(occurred_at=instant)]).result(timeout=30)
    (row,) = _rows(db, writer.chain_id)
    stored = row.occurred_at
    stored = stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored  # SQLite
    assert stored == instant
    assert stored.microsecond == instant.astimezone(dt.UTC).microsecond
    assert chain_hash(genesis(writer.chain_id), writer.chain_id, 1, row).hex() == row.row_hash


def test_log_verifies_when_read_in_another_session_time_zone(
    database_url: str, db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    writer = new_writer()
    _log(writer, 3)
    writer.close()
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        # timestamptz comes back in the session's zone; the hash must not depend on it.
        url = url.update_query_dict({"options": "-c timezone=Europe/Brussels"})
    other = Database(url.render_as_string(hide_password=False))
    try:
        with other.engine.connect() as conn:
            value = conn.scalar(sa.select(LOG.c.occurred_at).limit(1))
        if other.url.get_backend_name() == "postgresql":
            assert value.utcoffset() == dt.timedelta(hours=1)
        assert verify_database(other, ca_pem).intact
    finally:
        other.dispose()


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@pytest.fixture(scope="module")
def shared_db(module_database_url: str) -> Iterator[Database]:
    database = Database(module_database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(st.tuples(_TEXT, _TEXT, _TEXT), min_size=1, max_size=5),
    latency=st.integers(0, 2**63 - 1),
)
def test_any_valid_text_round_trips_when_stored(
    shared_db: Database, pki_dir: Path, texts: list[tuple[str, str, str]], latency: int
) -> None:
    writer = LogWriter(
        shared_db,
        name="router-prop",
        cert_path=pki_dir / "router.pem",
        key_path=pki_dir / "router.key",
    )
    with writer:
        entries = [
            _entry(i, legal_context=a[:64], capacity=b, destination=c, latency_us=latency)
            for i, (a, b, c) in enumerate(texts)
        ]
        writer.submit(entries).result(timeout=30)
    report = verify_database(shared_db, (pki_dir / "ca.pem").read_bytes())
    assert report.intact, report.render()
    rows = _rows(shared_db, writer.chain_id)
    assert [(r.legal_context, r.capacity, r.destination) for r in rows] == [
        (e.legal_context, e.capacity, e.destination) for e in entries
    ]


def test_checkpoints_are_signed_when_every_n_rows_and_at_close(
    db: Database, new_writer: Callable[..., LogWriter], pki_dir: Path
) -> None:
    clock = FixedClock(dt.datetime.now(dt.UTC))
    writer = new_writer(checkpoint_every=10, clock=clock)
    _log(writer, 35)
    writer.close()
    assert _checkpoints(db, writer.chain_id) == [
        (0, False),
        (10, False),
        (20, False),
        (30, False),
        (35, True),
    ]
    with db.unit_of_work(write=False) as session:
        last = session.execute(sa.select(CHECKPOINT).where(CHECKPOINT.c.final.is_(True))).one()
    assert last.signer_cert_pem == (pki_dir / "router.pem").read_text()
    signed_at = last.signed_at if last.signed_at.tzinfo else last.signed_at.replace(tzinfo=dt.UTC)
    assert signed_at == clock.now()
    assert last.head_hash == _rows(db, writer.chain_id)[-1].row_hash


def test_checkpoint_is_signed_when_the_interval_passes_with_new_rows(
    db: Database, new_writer: Callable[..., LogWriter]
) -> None:
    writer = new_writer(checkpoint_interval=0.05)
    # One submission, so one batch: two single-row messages could straddle an interval on a
    # loaded machine and get a checkpoint each (seen in CI).
    writer.submit([_entry(0), _entry(1)]).result(timeout=30)
    deadline = time.monotonic() + 10
    while (2, False) not in _checkpoints(db, writer.chain_id):
        assert time.monotonic() < deadline, _checkpoints(db, writer.chain_id)
        time.sleep(0.01)
    # Idle and nothing new: no further checkpoints pile up.
    time.sleep(0.2)
    assert _checkpoints(db, writer.chain_id) == [(0, False), (2, False)]


def test_nothing_is_logged_and_the_chain_continues_when_a_batch_fails(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    writer = new_writer()
    _log(writer, 2)

    def fail(statement: str) -> None:
        if _is_log_insert(statement):
            raise RuntimeError("injected fault")

    with _on_insert(db, fail):
        failed = writer.submit([_entry(10), _entry(10, subject="")])
        with pytest.raises(MessageLogError) as caught:
            failed.result(timeout=30)
    assert caught.value.__cause__ is None  # database errors carry parameters: INSZs
    _log(writer, 1, start=20)
    writer.close()
    assert [(r.seq, r.latency_us) for r in _rows(db, writer.chain_id)] == [
        (1, 800),
        (2, 801),
        (3, 820),
    ]
    assert verify_database(db, ca_pem).intact


def test_every_future_of_the_batch_fails_when_its_commit_fails(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    writer = new_writer()
    entered, release = threading.Event(), threading.Event()
    failing = False

    def hold_then_fail(statement: str) -> None:
        if not _is_log_insert(statement):
            return
        if not entered.is_set():
            entered.set()
            release.wait(30)  # the writer is busy: later submissions queue into one batch
        elif failing:
            raise RuntimeError("injected fault")

    with _on_insert(db, hold_then_fail):
        held = writer.submit([_entry(0)])
        assert entered.wait(30)
        queued = [writer.submit([_entry(i)]) for i in range(1, 6)]
        cancelled = writer.submit([_entry(99)])
        assert cancelled.cancel()
        failing = True
        release.set()
        held.result(timeout=30)
        for future in queued:
            with pytest.raises(MessageLogError):
                future.result(timeout=30)
        failing = False
        writer.submit([_entry(7)]).result(timeout=30)
    writer.close()
    assert [(r.seq, r.latency_us) for r in _rows(db, writer.chain_id)] == [(1, 800), (2, 807)]
    assert verify_database(db, ca_pem).intact


def test_chain_resumes_from_the_database_when_a_commit_succeeded_but_reported_failure(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    writer = new_writer()
    _log(writer, 1)
    armed = True

    inner = db.raw_write

    @contextmanager
    def commit_then_fail(**options: Any) -> Iterator[Any]:
        nonlocal armed
        with inner(**options) as cursor:
            yield cursor
        if armed:  # committed: the connection is lost before the driver says so
            armed = False
            raise RuntimeError("connection lost after COMMIT")

    db.raw_write = commit_then_fail  # type: ignore[method-assign]
    try:
        with pytest.raises(MessageLogError):
            writer.submit([_entry(1)]).result(timeout=30)
    finally:
        del db.raw_write
    _log(writer, 1, start=2)
    writer.close()
    assert [r.seq for r in _rows(db, writer.chain_id)] == [1, 2, 3]
    assert verify_database(db, ca_pem).intact


def test_submit_is_refused_when_the_writer_is_not_running(
    db: Database, pki_dir: Path, new_writer: Callable[..., LogWriter]
) -> None:
    idle = LogWriter(
        db, name="router-cbss", cert_path=pki_dir / "router.pem", key_path=pki_dir / "router.key"
    )
    with pytest.raises(MessageLogError):
        idle.submit([_entry()])
    writer = new_writer()
    writer.close()
    with pytest.raises(MessageLogError):
        writer.submit([_entry()])
    writer.close()  # idempotent


def test_writer_fails_at_start_when_its_key_does_not_match_its_certificate(
    db: Database, pki_dir: Path
) -> None:
    with pytest.raises(ValueError, match="does not match"):
        LogWriter(
            db, name="router-cbss", cert_path=pki_dir / "router.pem", key_path=pki_dir / "onss.key"
        )


def test_all_futures_resolve_and_the_chain_is_intact_when_50_submitters_race(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    writer = new_writer()
    per_thread, threads = 120, 50
    entries = [_entry(i) for i in range(per_thread * threads)]
    _log(writer, 1)  # warm the pool and the statement cache

    def submitter(offset: int) -> int:
        for entry in entries[offset::threads]:
            writer.submit([entry]).result(timeout=60)
        return per_thread

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        done = sum(pool.map(submitter, range(threads)))
    elapsed = time.perf_counter() - start
    writer.close()
    sys.stdout.write(
        f"\nmessage log ({db.url.get_backend_name()}): {done} single-row submissions from "
        f"{threads} threads in {elapsed:.2f} s = {done / elapsed:,.0f} rows/s\n"
    )
    assert done == len(entries)
    rows = _rows(db, writer.chain_id)
    assert [r.seq for r in rows] == list(range(1, len(entries) + 2))
    assert {r.ticket for r in rows[1:]} == {e.ticket for e in entries}
    report = verify_database(db, ca_pem)
    assert report.intact and report.chains[0].closed, report.render()


def test_two_writers_keep_separate_chains_when_sharing_a_database(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    first, second = new_writer(checkpoint_every=7), new_writer(checkpoint_every=7)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda w: _log(w, 25), [first, second]))
    first.close()
    second.close()
    report = verify_database(db, ca_pem, page_size=6)  # pages straddle the chain boundary
    assert report.intact, report.render()
    assert sorted(c.rows for c in report.chains) == [25, 25]
    assert first.chain_id != second.chain_id


# --- verification -------------------------------------------------------------------------------


def test_log_is_intact_when_nobody_touched_it(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    report = verify_database(db, ca_pem, allowed_signers={"spiffe://carrefour.local/router/cbss"})
    assert report.intact and not report.warnings, report.render()
    assert [(c.chain_id, c.rows, c.closed) for c in report.chains] == [(chain, 12, True)]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("outcome", "REFUSED"),
        ("subject", "85073100208"),
        ("latency_us", 1),
        ("occurred_at", dt.datetime(2027, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)),
    ],
)
def test_edited_row_is_the_first_bad_row_when_its_hash_is_not_recomputed(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes, column: str, value: object
) -> None:
    chain = _closed_chain(new_writer)
    _sql(db, sa.update(LOG).where(_at(chain, 7)).values({column: value}))
    assert _first(verify_database(db, ca_pem)) == (7, "ROW_HASH_MISMATCH")


def test_inserted_row_is_reported_when_later_rows_are_renumbered(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    (before,) = [r for r in _rows(db, chain) if r.seq == 6]
    forged = _entry(500, outcome="REFUSED", reason="FORGED")
    # The forged row chains correctly onto row 6 and becomes row 7; the old 7.. become 8..
    rows, _ = ChainHead(chain, 6, bytes.fromhex(before.row_hash)).extend([forged])
    later = sa.and_(LOG.c.chain_id == chain, LOG.c.seq > 6)
    _sql(
        db,
        # Two steps: PostgreSQL checks the primary key row by row during one UPDATE.
        sa.update(LOG).where(later).values(seq=-(LOG.c.seq + 1)),
        sa.update(LOG).where(LOG.c.chain_id == chain, LOG.c.seq < 0).values(seq=-LOG.c.seq),
        sa.insert(LOG).values(rows[0].as_dict()),
    )
    assert _first(verify_database(db, ca_pem)) == (8, "ROW_HASH_MISMATCH")


def test_appended_row_is_reported_when_the_chain_was_closed(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    last = _rows(db, chain)[-1]
    rows, _ = ChainHead(chain, last.seq, bytes.fromhex(last.row_hash)).extend([_entry(13)])
    _sql(db, sa.insert(LOG).values(rows[0].as_dict()))
    assert _first(verify_database(db, ca_pem)) == (13, "ROW_AFTER_FINAL_CHECKPOINT")


def test_forged_chain_is_reported_when_it_has_no_checkpoint(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    _closed_chain(new_writer)
    fake = "router-cbss/" + "f" * 32
    rows, _ = ChainHead.start(fake).extend([_entry(1), _entry(2)])
    _sql(db, sa.insert(LOG).values([r.as_dict() for r in rows]))
    report = verify_database(db, ca_pem)
    assert [(p.chain_id, p.seq, p.kind) for p in report.problems] == [(fake, 1, "CHAIN_UNSIGNED")]


@pytest.mark.parametrize("seq", [2, 3])
def test_deleted_row_is_reported_as_a_gap_when_removed(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes, seq: int
) -> None:
    chain = _closed_chain(new_writer)
    _sql(db, sa.delete(LOG).where(_at(chain, seq)))
    assert _first(verify_database(db, ca_pem)) == (seq, "SEQUENCE_GAP")


def test_deleted_first_row_is_reported_when_the_chain_starts_late(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    _sql(db, sa.delete(LOG).where(_at(chain, 1)))
    assert _first(verify_database(db, ca_pem)) == (1, "SEQUENCE_GAP")


@pytest.mark.parametrize(("k", "caught_at"), [(1, 5), (6, 10), (11, 12), (12, 12)])
def test_rewritten_suffix_is_caught_by_a_checkpoint_when_hashes_are_recomputed(
    db: Database,
    new_writer: Callable[..., LogWriter],
    ca_pem: bytes,
    k: int,
    caught_at: int,
) -> None:
    chain = _closed_chain(new_writer)  # checkpoints at 0, 5, 10 and final 12
    _sql(db, sa.update(LOG).where(_at(chain, k)).values(outcome="REFUSED", reason="EDITED"))
    rows = _rows(db, chain)
    prev = genesis(chain) if k == 1 else bytes.fromhex(rows[k - 2].row_hash)
    updates = []
    for row in rows[k - 1 :]:
        prev = chain_hash(prev, chain, row.seq, row)
        updates.append(sa.update(LOG).where(_at(chain, row.seq)).values(row_hash=prev.hex()))
    _sql(db, *updates)
    assert [r for r in _rows(db, chain) if r.seq == k][0].row_hash != rows[k - 1].row_hash
    report = verify_database(db, ca_pem)
    assert _first(report) == (caught_at, "CHECKPOINT_MISMATCH")


@pytest.mark.parametrize("keep", [0, 9, 11])
def test_truncated_tail_is_reported_when_the_last_rows_are_deleted(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes, keep: int
) -> None:
    chain = _closed_chain(new_writer)
    _sql(db, sa.delete(LOG).where(LOG.c.chain_id == chain, LOG.c.seq > keep))
    assert _first(verify_database(db, ca_pem)) == (keep + 1, "CHECKPOINT_BEYOND_END")


def test_forged_checkpoint_is_reported_when_signed_with_another_cas_key(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    rows = _rows(db, chain)
    # A checkpoint the attacker signed with a key of its own CA (a lookalike router certificate).
    pem, key = pki.issue(pki.create_ca("Mallory CA"), "spiffe://carrefour.local/router/cbss")
    forger = CheckpointSigner(pem, key)
    cp = forger.sign(ChainHead(chain, 3, bytes.fromhex(rows[2].row_hash)), dt.datetime.now(dt.UTC))
    _sql(
        db,
        sa.insert(CHECKPOINT).values(
            chain_id=cp.chain_id,
            seq=cp.seq,
            final=cp.final,
            head_hash=cp.head_hash,
            signed_at=cp.signed_at,
            signature=cp.signature,
            signer_cert_pem=cp.signer_cert_pem,
        ),
    )
    report = verify_database(db, ca_pem)
    assert _first(report) == (3, "CHECKPOINT_SIGNER_UNTRUSTED")


def test_edited_checkpoint_is_reported_when_its_head_is_changed(
    db: Database, new_writer: Callable[..., LogWriter], ca_pem: bytes
) -> None:
    chain = _closed_chain(new_writer)
    _sql(
        db,
        sa.update(CHECKPOINT)
        .where(CHECKPOINT.c.chain_id == chain, CHECKPOINT.c.seq == 5)
        .values(head_hash="0" * 64),
    )
    assert _first(verify_database(db, ca_pem)) == (5, "CHECKPOINT_SIGNATURE_INVALID")


def test_unclosed_tail_is_a_warning_when_the_writer_did_not_close(
    db: Database, pki_dir: Path, ca_pem: bytes
) -> None:
    crashed = LogWriter(
        db,
        name="router-cbss",
        cert_path=pki_dir / "router.pem",
        key_path=pki_dir / "router.key",
        checkpoint_every=5,
    )
    crashed.start()
    _log(crashed, 7)  # never closed: as if the process was killed
    report = verify_database(db, ca_pem)
    assert report.intact
    assert [(w.seq, w.kind) for w in report.warnings] == [(6, "UNCHECKPOINTED_TAIL")]


# --- command line -------------------------------------------------------------------------------


def test_command_exits_0_and_prints_the_report_when_the_log_is_intact(
    database_url: str,
    new_writer: Callable[..., LogWriter],
    pki_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain = _closed_chain(new_writer)
    code = main(["verify", "--database-url", database_url, "--ca", str(pki_dir / "ca.pem")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "INTACT" in out and chain in out
    assert "85073100109" not in out  # never an INSZ


def test_command_exits_1_and_names_the_bad_row_when_the_log_was_tampered(
    database_url: str,
    db: Database,
    new_writer: Callable[..., LogWriter],
    pki_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chain = _closed_chain(new_writer)
    _sql(db, sa.update(LOG).where(_at(chain, 4)).values(destination="elsewhere"))
    code = main(["verify", "--database-url", database_url, "--ca", str(pki_dir / "ca.pem")])
    out = capsys.readouterr().out
    assert code == 1
    assert f"PROBLEM {chain} seq 4: ROW_HASH_MISMATCH" in out


def test_command_refuses_to_run_when_the_sqlite_file_is_missing(
    tmp_path: Path, pki_dir: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "verify",
                "--database-url",
                f"sqlite:///{tmp_path / 'absent.sqlite3'}",
                "--ca",
                str(pki_dir / "ca.pem"),
            ]
        )
    assert exited.value.code == 2
    assert not (tmp_path / "absent.sqlite3").exists()


# --- the archive step ---------------------------------------------------------------------------


#: After every row the tests write (they are dated 31 December 2026).
LATER = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)


def _wait_checkpoint(db: Database, chain_id: str, seq: int) -> None:
    """The writer signs checkpoints between batches: wait (bounded) until `seq` is signed."""
    deadline = time.monotonic() + 10
    while (seq, False) not in _checkpoints(db, chain_id):
        assert time.monotonic() < deadline, _checkpoints(db, chain_id)
        time.sleep(0.01)


def _archive_setup(new_writer, db: Database):  # noqa: ANN001, ANN202
    """A chain of 12 rows with checkpoints every 5 rows (at 0, 5, 10), still running."""
    writer = new_writer(checkpoint_every=5)
    _log(writer, 12)
    _wait_checkpoint(db, writer.chain_id, 10)
    return writer


def test_what_stays_verifies_when_a_prefix_is_archived(
    db: Database, new_writer, ca_pem: bytes, tmp_path
) -> None:
    from router.storage.message_log import archive_log, verify_archive

    writer = _archive_setup(new_writer, db)
    future = LATER
    done = archive_log(db, before=future, out=tmp_path / "a1.jsonl")
    # Cut at the last signed checkpoint among the old rows (seq 10), not at seq 12.
    assert [(c.from_seq, c.through_seq, c.rows) for c in done] == [(1, 10, 10)]
    assert [r.seq for r in _rows(db, writer.chain_id)] == [11, 12]
    report = verify_database(db, ca_pem)
    assert report.intact, report.render()
    archived = verify_archive(tmp_path / "a1.jsonl", ca_pem)
    assert archived.intact, archived.render()
    # A second archive continues from the first one's head.
    _log(writer, 4, start=12)  # seq 13..16, checkpoint at 15
    _wait_checkpoint(db, writer.chain_id, 15)
    done = archive_log(db, before=future, out=tmp_path / "a2.jsonl")
    assert [(c.from_seq, c.through_seq) for c in done] == [(11, 15)]
    assert verify_database(db, ca_pem).intact
    assert verify_archive(tmp_path / "a2.jsonl", ca_pem).intact
    writer.close()


def test_deleting_after_an_archive_is_still_detected_when_rows_go_missing(
    db: Database, new_writer, ca_pem: bytes, tmp_path
) -> None:
    from router.storage.message_log import archive_log

    writer = _archive_setup(new_writer, db)  # running: archived through the checkpoint at 10
    archive_log(db, before=LATER, out=tmp_path / "a.jsonl")
    with db.engine.begin() as conn:
        conn.execute(sa.delete(LOG).where(LOG.c.chain_id == writer.chain_id, LOG.c.seq == 11))
    report = verify_database(db, ca_pem)
    assert not report.intact
    assert report.first_problem.kind == "SEQUENCE_GAP"


def test_a_forged_archive_record_is_detected_when_no_checkpoint_anchors_it(
    db: Database, new_writer, ca_pem: bytes
) -> None:
    writer = _archive_setup(new_writer, db)
    writer.close()
    # An attacker deletes rows 1..3 and claims they were archived (no checkpoint at seq 3).
    with db.engine.begin() as conn:
        conn.execute(sa.delete(LOG).where(LOG.c.chain_id == writer.chain_id, LOG.c.seq <= 3))
        conn.execute(
            sa.text(
                "INSERT INTO log_archive (chain_id, through_seq, from_seq, head_hash, file_name,"
                " file_sha256, archived_at) VALUES (:c, 3, 1, :h, 'x', :h, :t)"
            ),
            {"c": writer.chain_id, "h": "0" * 64, "t": dt.datetime.now(dt.UTC)},
        )
    report = verify_database(db, ca_pem)
    assert not report.intact
    assert report.first_problem.kind == "ARCHIVE_UNANCHORED"


def test_an_edited_archive_file_is_detected_when_verified(
    db: Database, new_writer, ca_pem: bytes, tmp_path
) -> None:
    from router.storage.message_log import archive_log, verify_archive

    writer = _archive_setup(new_writer, db)
    writer.close()
    out = tmp_path / "a.jsonl"
    archive_log(db, before=LATER, out=out)
    out.write_text(out.read_text().replace('"legal_context": "', '"legal_context": "x', 1))
    report = verify_archive(out, ca_pem)
    assert not report.intact
    assert report.first_problem.kind == "ROW_HASH_MISMATCH"


# --- group commit: the commit delay --------------------------------------------------------


def test_a_commit_waits_for_its_siblings_when_messages_are_in_flight(
    new_writer: Callable[..., LogWriter], db: Database
) -> None:
    """With messages in flight (PostgreSQL's commit_siblings), the writer waits commit_delay
    before committing, and the messages arriving meanwhile share that one commit."""
    writer = new_writer(commit_delay=0.3, commit_siblings=2, in_flight=lambda: 5)
    inserts: list[str] = []
    with _on_insert(db, lambda s: inserts.append(s) if _is_log_insert(s) else None):
        first = writer.submit([_entry(1)])
        time.sleep(0.05)
        rest = [writer.submit([_entry(i)]) for i in range(2, 6)]
        for future in [first, *rest]:
            future.result(timeout=30)
    assert len(inserts) == 1
    assert [r.seq for r in _rows(db, writer.chain_id)] == [1, 2, 3, 4, 5]


def test_a_lone_message_never_waits_for_the_commit_delay(
    new_writer: Callable[..., LogWriter],
) -> None:
    writer = new_writer(commit_delay=5.0, commit_siblings=2, in_flight=lambda: 1)
    start = time.monotonic()
    writer.submit([_entry(1)]).result(timeout=30)
    assert time.monotonic() - start < 4.0


def test_a_row_at_the_cut_instant_stays_when_archived_before_it(
    db: Database, new_writer, tmp_path
) -> None:
    """`archive-log --before DAY` cuts at midnight UTC: a row written at exactly that instant
    is not older than it and stays (on SQLite too, where the writer stores the instant as text
    without a fraction when it has none)."""
    from router.storage.message_log import archive_log

    writer = new_writer(checkpoint_every=2)
    _log(writer, 4)  # seq 1 at 23:59:59.999999, seq 2 at midnight, seq 3 and 4 just after
    _wait_checkpoint(db, writer.chain_id, 4)
    midnight = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert _rows(db, writer.chain_id)[1].occurred_at.replace(tzinfo=dt.UTC) == midnight
    # Only seq 1 is older: no signed checkpoint among the old rows, nothing to archive.
    assert archive_log(db, before=midnight, out=tmp_path / "a1.jsonl") == []
    assert [r.seq for r in _rows(db, writer.chain_id)] == [1, 2, 3, 4]
    # A microsecond later, seq 2 is older too, and its checkpoint anchors the cut.
    later = midnight + dt.timedelta(microseconds=1)
    done = archive_log(db, before=later, out=tmp_path / "a2.jsonl")
    assert [(c.from_seq, c.through_seq) for c in done] == [(1, 2)]
    writer.close()
