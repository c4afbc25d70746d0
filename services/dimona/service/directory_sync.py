"""ONSS's part of the router's reference directory, kept in step with the accepted periods.

Design (a transactional outbox): an accepted declaration writes, in its own transaction, an
outbox row naming the worker. The dispatcher (one thread per process) takes pending rows in
batches, recomputes each worker's entries *from the periods as they are now*, compares them with
what it last registered (the mirror), and sends the differences to the router's
DirectoryService in batches of up to 1,000 entries: withdraw, end, register. Only when the router
has taken them does it update the mirror and delete the outbox rows it handled. Why:
- durable: nothing is lost when the router is down or the process stops — the rows stay and are
  retried (with a growing pause, up to `max_backoff`), and a declaration never waits for, or
  fails because of, the router;
- batched: at 300 declarations/s, one call per batch instead of one per declaration;
- convergent and idempotent: the entries are derived from the current periods, so replaying a
  batch (after a crash between the router's answer and the mirror's update) sends what is
  needed again, and the router's calls are idempotent. For a worker whose earlier attempt may
  have been half done (it failed, or its rows predate this process), a start date the mirror
  does not know is withdrawn before it is registered, so no duplicate entry is left;
- one entry per continuous employment: the directory says "ONSS holds an employment file on
  this person over these days" (capacity 1/1), so a worker's active periods, with every employer,
  are merged where they overlap or touch. IN adds or widens an interval, OUT ends it, CANCEL
  removes it (UnregisterEntries with the end the day before the start: the entry never applied).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence

from dimona.service.calendar import ONE_DAY
from dimona.service.model import Period
from dimona.service.ports import DirectoryInterval, DirectoryPort, UnitFactory
from runtime.errors import ServiceError

logger = logging.getLogger(__name__)

Entry = tuple[str, DirectoryInterval]
BATCH = 1000


def intervals(periods: Iterable[Period]) -> list[DirectoryInterval]:
    """The active periods' days, merged where they overlap or touch, by start date."""
    spans = sorted(
        ((p.start_date, p.end_date) for p in periods if p.active),
        key=lambda span: (span[0], span[1] or dt.date.max),
    )
    merged: list[DirectoryInterval] = []
    for start, end in spans:
        if merged:
            last = merged[-1]
            if last.end is None or start <= last.end + ONE_DAY:
                if last.end is not None and (end is None or end > last.end):
                    merged[-1] = DirectoryInterval(last.start, end)
                continue
        merged.append(DirectoryInterval(start, end))
    return merged


def changes(
    insz: str,
    desired: Sequence[DirectoryInterval],
    known: Sequence[DirectoryInterval],
    *,
    careful: bool = True,
) -> tuple[list[Entry], list[Entry], list[Entry]]:
    """(withdraw, end, register) to go from `known` (the mirror) to `desired`.

    `careful`: the mirror may be behind the router (an earlier attempt for this worker failed
    or the process stopped during one), so a start it does not know is withdrawn before it is
    registered; otherwise it is registered straight away."""
    want = {i.start: i.end for i in desired}
    have = {i.start: i.end for i in known}
    withdraw: list[Entry] = []
    end: list[Entry] = []
    register: list[Entry] = []
    for start in sorted(have.keys() - want.keys()):
        withdraw.append((insz, DirectoryInterval(start, have[start])))
    for start in sorted(want):
        target = want[start]
        if start not in have:
            if careful:  # an earlier attempt may have got it there with another end
                withdraw.append((insz, DirectoryInterval(start, target)))
            register.append((insz, DirectoryInterval(start, target)))
        elif have[start] != target:
            if target is None:  # reopened: an open entry is registered, not "ended"
                withdraw.append((insz, DirectoryInterval(start, target)))
                register.append((insz, DirectoryInterval(start, target)))
            else:
                end.append((insz, DirectoryInterval(start, target)))
    return withdraw, end, register


class DirectorySync:
    """The outbox dispatcher."""

    def __init__(
        self,
        unit: UnitFactory,
        read_unit: UnitFactory,
        directory: DirectoryPort,
        *,
        batch_workers: int = 500,
        idle_seconds: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        self._unit, self._read, self._directory = unit, read_unit, directory
        self._batch, self._idle, self._max_backoff = batch_workers, idle_seconds, max_backoff
        #: Outbox rows up to this id were written before this process started (read on the
        #: first run): their workers' mirrors may be behind the router (a crash mid-batch).
        self._boundary: int | None = None
        #: Workers whose last batch failed part-way: their mirrors may be behind too.
        self._suspect: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Something was written to the outbox (called after a declaration commits)."""
        self._wake.set()

    def run_once(self) -> int:
        """Handle one batch of pending workers; returns how many workers were brought up to
        date (0: nothing pending). Raises ServiceError when the router refuses or is down
        (the rows stay)."""
        with self._read() as unit:
            if self._boundary is None:
                self._boundary = unit.outbox.last_id()
            pending = unit.outbox.pending(self._batch * 4)
            last_id: dict[str, int] = {}
            for row_id, insz in pending:
                if insz in last_id or len(last_id) < self._batch:
                    last_id[insz] = max(row_id, last_id.get(insz, 0))
            if not last_id:
                return 0
            workers = sorted(last_id)
            periods = unit.periods.for_workers(workers)
            mirror = unit.outbox.mirror(workers)
        desired = {w: intervals(periods.get(w, [])) for w in workers}
        withdraw: list[Entry] = []
        end: list[Entry] = []
        register: list[Entry] = []
        boundary = self._boundary or 0
        careful = self._suspect | {w for row_id, w in pending if row_id <= boundary}
        for w in workers:
            a, b, c = changes(w, desired[w], mirror.get(w, []), careful=w in careful)
            withdraw += a
            end += b
            register += c
        self._suspect |= set(workers)  # until the router has taken the whole batch
        for send, entries in (
            (self._directory.withdraw, withdraw),
            (self._directory.end, end),
            (self._directory.register, register),
        ):
            for i in range(0, len(entries), BATCH):
                send(entries[i : i + BATCH])
        with self._unit() as unit:
            unit.outbox.set_mirrors(desired)
            # Every pending row of these workers up to the last one read was read: done.
            unit.outbox.delete_handled(workers, max(last_id.values()))
        self._suspect -= set(workers)
        return len(workers)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dimona-directory", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # before reading: a wake during the batch is not lost
            try:
                done = self.run_once()
                backoff = 0.0
            except ServiceError as exc:
                backoff = min(self._max_backoff, max(0.2, backoff * 2))
                logger.warning(
                    "directory integration postponed %.1fs: %s %s", backoff, exc.code, exc.reason
                )
                self._stop.wait(backoff)
                continue
            except Exception:
                backoff = min(self._max_backoff, max(0.2, backoff * 2))
                logger.exception("directory integration failed; retrying in %.1fs", backoff)
                self._stop.wait(backoff)
                continue
            if done:
                continue  # more may be pending: no pause under load
            self._wake.wait(self._idle)
