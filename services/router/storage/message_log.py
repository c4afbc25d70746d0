"""The message log in the router's database: tables, the group-commit writer, verification.

`LogWriter` owns one hash chain (see router.service.message_log for the chain, the canonical
encoding and what verification proves). Callers `submit()` the rows of one message and wait on the
returned future before replying: a background thread takes everything queued (up to `max_batch`
rows, never splitting a submission), chains it, inserts it in ONE transaction (on SQLite one
multi-row INSERT, its own transaction; `Prepared.many`), commits, and only then resolves the
futures. A failed commit fails every future of the batch and leaves the in-memory chain head at
the last committed row, so nothing is partially logged. The thread never waits for more work
when the queue is empty (group commit without a timer): one message in flight pays one commit,
many in flight share one.

Between batches the same thread signs checkpoints into `log_checkpoint`: at start (seq 0), every
`checkpoint_every` rows, after `checkpoint_interval` seconds when rows were written since the last
one, and a final one at `close()`.

`python -m router.storage.message_log verify --database-url URL --ca var/pki/ca.pem` verifies every
chain and exits 1 when it finds tampering, 0 when the log is intact.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, SimpleQueue

import sqlalchemy as sa
from sqlalchemy import BigInteger, Boolean, DateTime, LargeBinary, String, Text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapped, mapped_column

from router.service.citizen import PERSON_URI_PREFIX, ConsultationRow
from router.service.log_queries import ConfidentialContexts, LoggedCrossing
from router.service.message_log import (
    MAX_CAPACITY,
    MAX_CHAIN_ID,
    MAX_LEGAL_CONTEXT,
    MAX_NAME,
    MAX_OUTCOME,
    MAX_REASON,
    MAX_URI,
    ChainHead,
    CheckpointSigner,
    CheckpointTrust,
    LogEntry,
    RowLike,
    VerifyReport,
    iter_chain_rows,
    new_chain_id,
    verify,
)
from router.service.monitoring import ROUTED_OUTCOMES, LogRow
from router.storage.models import Base
from runtime.clock import Clock, SystemClock
from runtime.db import Database

logger = logging.getLogger(__name__)


class MessageLogRow(Base):
    """One row of the message log: one subject of one routed (or refused) message."""

    __tablename__ = "message_log"

    chain_id: Mapped[str] = mapped_column(String(MAX_CHAIN_ID), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ticket: Mapped[str] = mapped_column(String(36), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requester: Mapped[str] = mapped_column(String(MAX_URI))
    service: Mapped[str] = mapped_column(String(MAX_NAME))
    method: Mapped[str] = mapped_column(String(MAX_NAME))
    legal_context: Mapped[str] = mapped_column(String(MAX_LEGAL_CONTEXT))
    # Indexed for the audit question "who consulted this person's data".
    subject: Mapped[str] = mapped_column(String(11), index=True)
    capacity: Mapped[str] = mapped_column(String(MAX_CAPACITY))
    destination: Mapped[str] = mapped_column(String(MAX_URI))
    outcome: Mapped[str] = mapped_column(String(MAX_OUTCOME))
    reason: Mapped[str] = mapped_column(String(MAX_REASON))
    latency_us: Mapped[int] = mapped_column(BigInteger)
    trace_id: Mapped[str] = mapped_column(String(32))
    request_digest: Mapped[str] = mapped_column(String(64))
    response_digest: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class LogCheckpointRow(Base):
    """A signed chain head. Kept outside the log table; (chain, seq, final) is unique because a
    writer checkpoints a sequence at most once, except the final one which may repeat it."""

    __tablename__ = "log_checkpoint"

    chain_id: Mapped[str] = mapped_column(String(MAX_CHAIN_ID), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    final: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signer_cert_pem: Mapped[str] = mapped_column(Text)


class LogArchiveRow(Base):
    """A prefix of a chain moved to an archive file: rows 1..through_seq (or from the previous
    archive of the chain), cut at a signed checkpoint whose head is `head_hash`."""

    __tablename__ = "log_archive"

    chain_id: Mapped[str] = mapped_column(String(MAX_CHAIN_ID), primary_key=True)
    through_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


_LOG = MessageLogRow.__table__
_CHECKPOINT = LogCheckpointRow.__table__
_ARCHIVE = LogArchiveRow.__table__


_INSERT = sa.insert(_LOG)  # prepared once per writer: this runs for every batch


class MessageLogError(RuntimeError):
    """The message log could not record the entries (the caller must not reply as if logged).

    Raised without the database exception attached: its text carries the statement parameters,
    which include INSZs, and the router logs unexpected errors in full.
    """


@dataclass(slots=True)
class _Pending:
    entries: tuple[LogEntry, ...]
    future: Future[None]


_STOP = object()


class LogWriter:
    """The group-commit writer of one hash chain (one per process start).

    `name` prefixes the chain id ("router-cbss" -> "router-cbss/<32 hex>"); `cert_path` and
    `key_path` are the PEM certificate and EC P-256 key that sign the checkpoints. Call `start()`
    once (it signs the opening checkpoint, so a misconfigured key or database fails at start-up),
    then `submit()` from any thread, and `close()` at shutdown.
    """

    def __init__(
        self,
        db: Database,
        *,
        name: str,
        cert_path: Path,
        key_path: Path,
        clock: Clock | None = None,
        checkpoint_every: int = 1000,
        checkpoint_interval: float = 10.0,
        max_batch: int = 500,
        commit_delay: float = 0.0,
        commit_siblings: int = 5,
        in_flight: Callable[[], int] | None = None,
    ) -> None:
        """`commit_delay` / `commit_siblings` / `in_flight`: PostgreSQL's commit_delay for the
        log — when a batch starts while at least `commit_siblings` messages are in flight
        (`in_flight()`, the forwarder's count), wait `commit_delay` seconds so that the
        messages about to arrive share its commit; alone, a message never waits."""
        if checkpoint_every < 1 or checkpoint_interval <= 0 or max_batch < 1:
            raise ValueError("checkpoint_every, checkpoint_interval and max_batch must be > 0")
        self._db = db
        self._insert = db.prepare(_INSERT)
        self._signer = CheckpointSigner(Path(cert_path).read_bytes(), Path(key_path).read_bytes())
        self._clock: Clock = clock or SystemClock()
        self._every = checkpoint_every
        self._interval = checkpoint_interval
        self._max_batch = max_batch
        self._commit_delay = commit_delay
        self._commit_siblings = commit_siblings
        self._in_flight = in_flight
        self.chain_id = new_chain_id(name)
        self._head = ChainHead.start(self.chain_id)  # the last COMMITTED row; writer thread only
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._resync = False
        self._queue: SimpleQueue[object] = SimpleQueue()
        self._lock = threading.Lock()  # orders submit() against close(): nothing after _STOP
        self._state = "new"
        self._thread = threading.Thread(target=self._run, name="message-log-writer", daemon=True)
        self._close_error: BaseException | None = None

    # --- caller side ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._state != "new":
                raise RuntimeError("the message log writer was already started")
            self._checkpoint(final=False)
            self._state = "running"
        self._thread.start()
        logger.info("message log writer started: chain %s", self.chain_id)

    def submit(self, entries: Sequence[LogEntry]) -> Future[None]:
        """Queue the rows of one message; the future resolves once they are committed.

        It fails with MessageLogError when the batch could not be committed (none of its rows
        is then in the log). Raises MessageLogError at once when the writer is not running.
        """
        batch = tuple(entries)
        for entry in batch:
            if not isinstance(entry, LogEntry):
                raise TypeError("submit() takes LogEntry objects")
        future: Future[None] = Future()
        if not batch:
            future.set_result(None)
            return future
        with self._lock:
            if self._state != "running":
                raise MessageLogError("the message log writer is not running")
            self._queue.put(_Pending(batch, future))
        return future

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, sign a final checkpoint and stop the thread.

        Raises MessageLogError when the final checkpoint could not be written (the rows are
        committed, but the chain's tail is then protected only by the chain).
        """
        with self._lock:
            state, self._state = self._state, "closed"
            if state == "running":
                self._queue.put(_STOP)
        if state == "new":
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the message log writer did not finish in time")
        if self._close_error is not None:
            error, self._close_error = self._close_error, None
            raise MessageLogError(f"closing the message log failed: {error}")

    def __enter__(self) -> LogWriter:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                try:
                    first = self._queue.get(timeout=self._checkpoint_due_in())
                except Empty:
                    self._maybe_checkpoint()
                    continue
                batch, stopping = self._gather(first)
                if batch:
                    self._write(batch)
                self._maybe_checkpoint()
            try:
                self._checkpoint(final=True)
            except Exception as exc:
                logger.error("message log final checkpoint failed: %s", type(exc).__name__)
                self._close_error = MessageLogError(type(exc).__name__)
            logger.info("message log writer stopped: chain %s at seq %s", *self._position())
        except BaseException as exc:  # a bug: fail everyone waiting rather than hang them
            logger.critical("message log writer crashed: %s", type(exc).__name__)
            self._abort()
            self._close_error = exc
            raise

    def _position(self) -> tuple[str, int]:
        return self.chain_id, self._head.seq

    def _checkpoint_due_in(self) -> float | None:
        if self._since_checkpoint == 0:
            return None  # nothing to sign: sleep until work arrives
        return max(0.0, self._last_checkpoint + self._interval - time.monotonic())

    def _gather(self, first: object) -> tuple[list[_Pending], bool]:
        """Everything queued now, up to max_batch rows (a submission is never split)."""
        batch: list[_Pending] = []
        rows = 0
        item = first
        if (
            self._commit_delay > 0
            and self._in_flight is not None
            and self._in_flight() >= self._commit_siblings
        ):
            time.sleep(self._commit_delay)  # let the messages in flight join this commit
        while True:
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Pending)
            # A future the caller cancelled before we took it is not logged.
            if item.future.set_running_or_notify_cancel():
                batch.append(item)
                rows += len(item.entries)
            if rows >= self._max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except Empty:
                return batch, False

    def _write(self, batch: list[_Pending]) -> None:
        try:
            if self._resync:
                self._resync_head()
            rows, head = self._head.extend(e for p in batch for e in p.entries)
            # Nearly every batch is one multi-row INSERT, its own transaction on SQLite.
            with self._db.raw_write(one_statement=self._insert.one_statement(len(rows))) as cursor:
                self._insert.many(cursor, [row.as_dict() for row in rows])
        except Exception as exc:
            # The commit may have happened even so (a connection lost during COMMIT): look at
            # the database before the next batch instead of trusting the in-memory head.
            self._resync = True
            logger.error(
                "message log batch of %s row(s) failed, not logged: %s",
                sum(len(p.entries) for p in batch),
                type(exc).__name__,
            )
            error = MessageLogError(f"the message log could not commit: {type(exc).__name__}")
            for pending in batch:
                pending.future.set_exception(error)
            return
        self._head = head
        self._since_checkpoint += len(rows)
        for pending in batch:
            pending.future.set_result(None)

    def _resync_head(self) -> None:
        with self._db.unit_of_work(write=False) as session:
            last = session.execute(
                sa.select(_LOG.c.seq, _LOG.c.row_hash)
                .where(_LOG.c.chain_id == self.chain_id)
                .order_by(_LOG.c.seq.desc())
                .limit(1)
            ).first()
        # Only move forward: a database behind memory lost committed rows, which the verifier
        # must see as a gap rather than have us paper over it.
        if last is not None and last.seq > self._head.seq:
            logger.warning(
                "message log batch committed despite an error: chain %s resumes at seq %s",
                self.chain_id,
                last.seq,
            )
            self._since_checkpoint += last.seq - self._head.seq
            self._head = ChainHead(self.chain_id, last.seq, bytes.fromhex(last.row_hash))
        self._resync = False

    def _maybe_checkpoint(self) -> None:
        due = self._since_checkpoint >= self._every or (
            self._since_checkpoint > 0
            and time.monotonic() - self._last_checkpoint >= self._interval
        )
        if not due:
            return
        try:
            self._checkpoint(final=False)
        except Exception as exc:
            # Not fatal: the rows are committed; retry after the interval, not in a hot loop.
            self._last_checkpoint = time.monotonic()
            logger.error("message log checkpoint failed, will retry: %s", type(exc).__name__)

    def _checkpoint(self, *, final: bool) -> None:
        cp = self._signer.sign(self._head, self._clock.now(), final=final)
        with self._db.unit_of_work(write=True) as session:
            session.execute(
                sa.insert(_CHECKPOINT),
                {
                    "chain_id": cp.chain_id,
                    "seq": cp.seq,
                    "final": cp.final,
                    "head_hash": cp.head_hash,
                    "signed_at": cp.signed_at,
                    "signature": cp.signature,
                    "signer_cert_pem": cp.signer_cert_pem,
                },
            )
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        # The head in the process log is an anchor outside the database.
        logger.info(
            "message log checkpoint: chain %s seq %s head %s%s",
            cp.chain_id,
            cp.seq,
            cp.head_hash,
            " (final)" if final else "",
        )

    def _abort(self) -> None:
        with self._lock:
            self._state = "closed"
        error = MessageLogError("the message log writer stopped")
        while True:
            try:
                item = self._queue.get_nowait()
            except Empty:
                return
            if isinstance(item, _Pending) and item.future.set_running_or_notify_cancel():
                item.future.set_exception(error)


# --- verification ------------------------------------------------------------------------------


def verify_database(
    db: Database,
    ca_pem: bytes,
    *,
    allowed_signers: Collection[str] | None = None,
    page_size: int = 2000,
) -> VerifyReport:
    """Verify every chain in the database against its signed checkpoints.

    Rows are streamed chain by chain in sequence order, `page_size` at a time (keyset pagination
    on the primary key, one short read transaction per page), so memory stays flat. Checkpoints
    are read first: a writer still running then only adds rows after them (reported as an
    unprotected tail), never a checkpoint beyond the rows read.
    """
    trust = CheckpointTrust(ca_pem, allowed_signers=allowed_signers)
    with db.unit_of_work(write=False) as session:
        checkpoints = session.execute(
            sa.select(_CHECKPOINT).order_by(_CHECKPOINT.c.chain_id, _CHECKPOINT.c.seq)
        ).all()
        archived: dict[str, int] = {}
        for chain_id, through in session.execute(
            sa.select(_ARCHIVE.c.chain_id, sa.func.max(_ARCHIVE.c.through_seq)).group_by(
                _ARCHIVE.c.chain_id
            )
        ):
            archived[chain_id] = int(through)
    ordered = sa.select(_LOG).order_by(_LOG.c.chain_id, _LOG.c.seq).limit(page_size)

    def page(after: tuple[str, int] | None) -> Sequence[RowLike]:
        stmt = ordered
        if after is not None:
            stmt = stmt.where(sa.tuple_(_LOG.c.chain_id, _LOG.c.seq) > sa.tuple_(*after))
        with db.unit_of_work(write=False) as session:
            return session.execute(stmt).all()  # type: ignore[return-value]

    return verify(iter_chain_rows(page), checkpoints, trust, archived)  # type: ignore[arg-type]


# --- retention: the archive step ---------------------------------------------------------------


_ROW_COLUMNS = tuple(c.name for c in _LOG.columns)
_CP_COLUMNS = tuple(c.name for c in _CHECKPOINT.columns)


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return _as_utc_iso(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _as_utc_iso(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class ArchivedChain:
    chain_id: str
    from_seq: int
    through_seq: int
    rows: int


def _instant(sqlite: bool, value: datetime) -> sa.ColumnElement[datetime] | datetime:
    """An instant to compare with `occurred_at`. The writer inserts through the driver, which
    stores SQLite's text as `str(datetime)` (`2026-11-01 12:01:00+00:00`, the fraction only
    when not zero: such strings sort as their instants do); SQLAlchemy would bind
    `2026-11-01 12:01:00.000000` (and drop any offset), which does not compare with them
    exactly. So on SQLite the bound value is written the writer's way, in UTC."""
    if not sqlite:
        return value
    return sa.literal(str(value.astimezone(UTC)), sa.String)


def archive_log(db: Database, *, before: datetime, out: Path) -> list[ArchivedChain]:
    """Move every chain's rows older than `before` to the JSON-lines file `out`, up to the last
    signed checkpoint among them, so that what stays verifies from that checkpoint's head.

    The file (rows and the checkpoints they need, one JSON object per line) is written and
    flushed to disk before anything is deleted; then, in one transaction per chain, the archive
    is recorded in `log_archive` and the rows are deleted. Verify a file with `verify_archive`.
    """
    import hashlib
    import json
    import os

    plans: list[tuple[str, int, int, str]] = []
    with db.unit_of_work(write=False) as session:
        done = dict(
            session.execute(
                sa.select(_ARCHIVE.c.chain_id, sa.func.max(_ARCHIVE.c.through_seq)).group_by(
                    _ARCHIVE.c.chain_id
                )
            ).all()
        )
        for chain_id, last_old in session.execute(
            sa.select(_LOG.c.chain_id, sa.func.max(_LOG.c.seq))
            .where(_LOG.c.occurred_at < _instant(db.is_sqlite, before))
            .group_by(_LOG.c.chain_id)
        ):
            anchor = session.execute(
                sa.select(_CHECKPOINT.c.seq, _CHECKPOINT.c.head_hash)
                .where(_CHECKPOINT.c.chain_id == chain_id, _CHECKPOINT.c.seq <= last_old)
                .order_by(_CHECKPOINT.c.seq.desc())
                .limit(1)
            ).first()
            start = int(done.get(chain_id, 0)) + 1
            if anchor is not None and anchor.seq >= start:
                plans.append((chain_id, start, int(anchor.seq), anchor.head_hash))
    if not plans:
        return []
    digest = hashlib.sha256()
    with open(out, "x", encoding="ascii") as file:  # never overwrite an archive
        for chain_id, start, through, head in plans:
            with db.unit_of_work(write=False) as session:
                lines = [
                    {"chain": {"chain_id": chain_id, "from_seq": start, "through_seq": through,
                               "head_hash": head, "previous_head": None}},
                ]  # fmt: skip
                if start > 1:
                    prev = session.execute(
                        sa.select(_ARCHIVE.c.head_hash).where(
                            _ARCHIVE.c.chain_id == chain_id, _ARCHIVE.c.through_seq == start - 1
                        )
                    ).scalar_one()
                    lines[0]["chain"]["previous_head"] = prev
                for cp in session.execute(
                    sa.select(_CHECKPOINT).where(
                        _CHECKPOINT.c.chain_id == chain_id,
                        _CHECKPOINT.c.seq >= start - 1,
                        _CHECKPOINT.c.seq <= through,
                    )
                ):
                    lines.append(
                        {"checkpoint": {k: _jsonable(getattr(cp, k)) for k in _CP_COLUMNS}}
                    )
                for row in session.execute(
                    sa.select(_LOG)
                    .where(_LOG.c.chain_id == chain_id, _LOG.c.seq >= start, _LOG.c.seq <= through)
                    .order_by(_LOG.c.seq)
                ):
                    lines.append({"row": {k: _jsonable(getattr(row, k)) for k in _ROW_COLUMNS}})
            for line in lines:
                text = json.dumps(line, sort_keys=True, ensure_ascii=True) + "\n"
                digest.update(text.encode("ascii"))
                file.write(text)
        file.flush()
        os.fsync(file.fileno())
    result = []
    for chain_id, start, through, head in plans:
        with db.unit_of_work(write=True) as session:
            session.execute(
                sa.insert(_ARCHIVE).values(
                    chain_id=chain_id,
                    through_seq=through,
                    from_seq=start,
                    head_hash=head,
                    file_name=out.name,
                    file_sha256=digest.hexdigest(),
                    archived_at=datetime.now(UTC),
                )
            )
            deleted = session.execute(
                sa.delete(_LOG).where(
                    _LOG.c.chain_id == chain_id, _LOG.c.seq >= start, _LOG.c.seq <= through
                )
            ).rowcount
        result.append(ArchivedChain(chain_id, start, through, int(deleted or 0)))
    logger.info("archived %d chain prefix(es) to %s", len(result), out.name)
    return result


def verify_archive(path: Path, ca_pem: bytes) -> VerifyReport:
    """Verify an archive file: each chain prefix it holds, from genesis or from the head of the
    chain's previous archive, against the signed checkpoints it carries."""
    import json
    from types import SimpleNamespace

    rows: list[SimpleNamespace] = []
    checkpoints: list[SimpleNamespace] = []
    archived: dict[str, int] = {}
    for line in path.read_text(encoding="ascii").splitlines():
        item = json.loads(line)
        if "chain" in item:
            chain = item["chain"]
            if chain["from_seq"] > 1:  # resumes from the signed head the file also carries
                archived[chain["chain_id"]] = chain["from_seq"] - 1
        elif "checkpoint" in item:
            cp = dict(item["checkpoint"])
            cp["signed_at"] = datetime.fromisoformat(cp["signed_at"])
            cp["signature"] = bytes.fromhex(cp["signature"])
            checkpoints.append(SimpleNamespace(**cp))
        else:
            row = dict(item["row"])
            row["occurred_at"] = datetime.fromisoformat(row["occurred_at"])
            rows.append(SimpleNamespace(**row))
    rows.sort(key=lambda r: (r.chain_id, r.seq))
    return verify(rows, checkpoints, CheckpointTrust(ca_pem), archived)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """`verify`: print a report; exit 0 when intact, 1 on tampering, 2 when it cannot run."""
    parser = argparse.ArgumentParser(
        prog="python -m router.storage.message_log",
        description="Tools for the router's tamper-evident message log.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_verify = sub.add_parser("verify", help="verify every hash chain against its checkpoints")
    p_verify.add_argument("--database-url", required=True, help="the router's database URL")
    p_verify.add_argument("--ca", type=Path, required=True, help="PEM of the CA of the signers")
    p_verify.add_argument(
        "--signer",
        action="append",
        metavar="URI",
        help="accept checkpoints only from certificates naming this URI (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        ca_pem = args.ca.read_bytes()
        CheckpointTrust(ca_pem)
    except (OSError, ValueError) as exc:
        parser.error(f"--ca: cannot read a PEM certificate ({exc})")
    url = make_url(args.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # Database() would create an empty file and report an empty log as intact.
        parser.error(f"--database-url: no SQLite database at {url.database}")
    db = Database(args.database_url, pool_size=1)
    try:
        report = verify_database(db, ca_pem, allowed_signers=args.signer)
    except sa.exc.SQLAlchemyError as exc:
        sys.stderr.write(f"cannot read the message log: {type(exc).__name__}: {exc.args[0]}\n")
        return 2
    finally:
        db.dispose()
    sys.stdout.write(report.render())
    return 0 if report.intact else 1


if __name__ == "__main__":
    raise SystemExit(main())


class SqlLogReader:
    """The log's rows for the audit questions, newest first, keyset-paginated; and the routed
    rows of a window for the operators' monitoring."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._sqlite = db.is_sqlite

    def _at(self, value: datetime) -> sa.ColumnElement[datetime] | datetime:
        return _instant(self._sqlite, value)

    def routed_rows(self, start: datetime, end: datetime) -> list[LogRow]:
        t = _LOG.c
        query = sa.select(t.ticket, t.requester, t.outcome, t.reason, t.latency_us).where(
            t.occurred_at >= self._at(start),
            t.occurred_at < self._at(end),
            t.outcome.in_(ROUTED_OUTCOMES),
        )
        with self._db.read() as conn:
            return [LogRow(*r) for r in conn.execute(query)]

    def crossings(
        self,
        *,
        subject: str,
        requester_uri: str,
        start: datetime | None,
        end: datetime | None,
        hide: ConfidentialContexts,
        after: tuple[datetime, str, int] | None,
        limit: int,
    ) -> list[LoggedCrossing]:
        t = _LOG.c
        query = sa.select(_LOG)
        if subject:
            query = query.where(t.subject == subject)
        if requester_uri:
            query = query.where(t.requester == requester_uri)
        if start is not None:
            query = query.where(t.occurred_at >= self._at(start))
        if end is not None:
            query = query.where(t.occurred_at < self._at(end))
        query = query.where(*_not_confidential(hide))
        order = (t.occurred_at, t.chain_id, t.seq)
        if after is not None:
            query = query.where(
                sa.tuple_(*order) < sa.tuple_(self._at(after[0]), after[1], after[2])
            )
        query = query.order_by(*(c.desc() for c in order)).limit(limit)
        with self._db.read() as conn:
            return [
                LoggedCrossing(
                    ticket=r.ticket,
                    occurred_at=r.occurred_at
                    if r.occurred_at.tzinfo
                    else r.occurred_at.replace(tzinfo=UTC),
                    requester=r.requester,
                    service=r.service,
                    method=r.method,
                    legal_context=r.legal_context,
                    subject=r.subject,
                    capacity=r.capacity,
                    destination=r.destination,
                    outcome=r.outcome,
                    reason=r.reason,
                    chain_id=r.chain_id,
                    seq=r.seq,
                )
                for r in conn.execute(query)
            ]

    def consultations(
        self,
        *,
        subject: str,
        start: datetime,
        end: datetime,
        hide: ConfidentialContexts,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[ConsultationRow]:
        """A person's consultations (router.service.citizen): one per ticket, newest first."""
        t = _LOG.c
        at = sa.func.min(t.occurred_at).label("at")
        query = (
            sa.select(
                t.ticket,
                at,
                sa.func.min(t.requester),
                sa.func.min(t.service),
                sa.func.min(t.method),
                sa.func.min(t.legal_context),
                # A ticket's rows share their capacity, or name none (REVEALED): keep one.
                sa.func.max(t.capacity),
            )
            .where(
                t.subject == subject,
                t.occurred_at >= self._at(start),
                t.occurred_at < self._at(end),
                sa.or_(
                    sa.and_(t.outcome == "FORWARDED", t.reason == ""),
                    t.outcome == "REVEALED",
                ),
                sa.not_(t.requester.startswith(PERSON_URI_PREFIX, autoescape=True)),
                *_not_confidential(hide),
            )
            .group_by(t.ticket)
        )
        if after is not None:
            query = query.having(sa.tuple_(at, t.ticket) < sa.tuple_(self._at(after[0]), after[1]))
        query = query.order_by(at.desc(), t.ticket.desc()).limit(limit)
        with self._db.read() as conn:
            return [
                ConsultationRow(
                    ticket=ticket,
                    occurred_at=occurred_at
                    if occurred_at.tzinfo
                    else occurred_at.replace(tzinfo=UTC),
                    requester=requester,
                    service=service,
                    method=method,
                    legal_context=legal_context,
                    capacity=capacity,
                )
                for ticket, occurred_at, requester, service, method, legal_context, capacity in (
                    conn.execute(query)
                )
            ]


def _not_confidential(hide: ConfidentialContexts) -> list[sa.ColumnElement[bool]]:
    t = _LOG.c
    clauses: list[sa.ColumnElement[bool]] = [
        sa.not_(t.legal_context.startswith(prefix, autoescape=True)) for prefix in hide.prefixes
    ]
    if hide.names:
        clauses.append(t.legal_context.not_in(sorted(hide.names)))
    return clauses
