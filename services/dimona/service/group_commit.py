"""Group commit: several declarations' units of work in one database transaction.

On SQLite every write transaction is serialised (BEGIN IMMEDIATE, one writer per process) and
each commit syncs the WAL (`synchronous=FULL`): one declaration per transaction spends most of
its time queueing for the writer and syncing. The committer thread takes every declaration
waiting (up to `max_group`), runs each one's work in its own savepoint of one transaction — a
declaration that raises (a refusal by exception, a lost race) is rolled back to its savepoint
alone and gets its exception — and commits once; only then are the callers answered, so an
answer is never given for something that is not durable. If the commit itself fails, every
declaration of the group gets the failure (and is retried by the caller when it is a lost race).

Not used on PostgreSQL: there the workers' row locks let transactions run side by side, and a
group holding several workers' locks would only add deadlocks between replicas.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from dimona.service.ports import DimonaUnit, UnitFactory

logger = logging.getLogger(__name__)

T = TypeVar("T")


class GroupCommitter:
    """Runs units of work for callers on one thread, several per transaction."""

    def __init__(self, unit: UnitFactory, *, max_group: int = 64) -> None:
        self._unit, self._max = unit, max_group
        self._queue: list[tuple[Callable[[DimonaUnit], Any], Future[Any]]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="dimona-commit", daemon=True)
        self._thread.start()

    def run(self, work: Callable[[DimonaUnit], T]) -> T:
        """Run `work` in a savepoint of the next group's transaction; its result once durable."""
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the committer is closed")
            self._queue.append((work, future))
            self._ready.notify()
        return future.result()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._thread.join(5)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if not self._queue:
                    return
                group = self._queue[: self._max]
                del self._queue[: self._max]
            self._commit(group)

    def _commit(self, group: list[tuple[Callable[[DimonaUnit], Any], Future[Any]]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._unit() as unit:
                for work, _future in group:
                    try:
                        with unit.savepoint():
                            outcomes.append((True, work(unit)))
                    except Exception as exc:  # this declaration only; the group goes on
                        outcomes.append((False, exc))
        except Exception as exc:  # the transaction itself failed: nobody's work is durable
            for _work, future in group:
                future.set_exception(exc)
            return
        for (ok, value), (_work, future) in zip(outcomes, group, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
