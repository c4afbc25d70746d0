"""Students' actual hours to DIMONA's quota counter, durably (an outbox in the DmfA's database).

An accepted version queues, in its own transaction, the actual minutes of its students (and 0
for a student its previous version had and this one has not): `quota_update` rows. This thread
sends them in order of creation through the router (`DimonaQuarterService.
RecordStudentActualHours`, 500 entries a call) and marks them done. DIMONA replaces the figure
for (worker, employer, quarter), so a row sent twice (a crash between the call and the mark)
does no harm, and a correction's row, created later, is sent later and wins.

A transient failure (UNAVAILABLE: the router or DIMONA down) is retried with exponential backoff
(1 s doubling to 5 minutes), and the rows after it wait (order). A refusal (any other error:
the router's authorisation missing, DIMONA refusing the figures) marks the row FAILED with the
reason, logged for the ONSS's operators, and the next row goes on. Logs name the row, never an
INSZ.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from dmfa.service.ports import Network, UnitFactory
from runtime.clock import Clock
from runtime.errors import ServiceError, Unavailable

logger = logging.getLogger(__name__)

MAX_ENTRIES = 500
BASE_DELAY, MAX_DELAY = 1.0, 300.0


class QuotaSync:
    def __init__(
        self,
        units: UnitFactory,
        network: Network,
        clock: Clock,
        *,
        idle_seconds: float = 1.0,
    ) -> None:
        self._units, self._network, self._clock = units, network, clock
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dmfa-quota-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the thread must survive a database hiccup
                logger.exception("quota sync pass failed")
            self._wake.wait(self._idle)

    def run_once(self) -> int:
        """Send what is due, in order; returns how many rows were done (for tests)."""
        done = 0
        while not self._stopping.is_set():
            with self._units() as unit:
                due = unit.quota.due(self._clock.now(), 1)
            if not due:
                return done
            update = due[0]
            try:
                entries = list(update.entries)
                for i in range(0, len(entries), MAX_ENTRIES):
                    self._network.record_student_hours(
                        update.employer,
                        update.quarter,
                        entries[i : i + MAX_ENTRIES],
                        update.source,
                    )
            except Unavailable as exc:
                delay = min(MAX_DELAY, BASE_DELAY * 2**update.attempts)
                at = self._clock.now() + dt.timedelta(seconds=delay)
                with self._units() as unit:
                    unit.quota.retry(update.id, at, exc.reason)
                logger.warning(
                    "quota update %d not sent (%s); retry in %.0fs", update.id, exc.reason, delay
                )
                return done
            except ServiceError as exc:
                with self._units() as unit:
                    unit.quota.fail(update.id, self._clock.now(), f"{exc.code} {exc.reason}")
                logger.error("quota update %d refused: %s %s", update.id, exc.code, exc.reason)
                continue
            with self._units() as unit:
                unit.quota.done(update.id, self._clock.now())
            done += 1
        return done
