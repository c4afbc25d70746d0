"""The fan-out: a source's events become notifications, each institution's exactly once.

One pass over a source (`FanOut.step`):

1. read the position durably taken (its last sequence), and the next page of events after it
   from the source, through gRPC;
2. ask the router's directory who holds each person over the change's period (one call per
   1,000 persons), and move a replaced number's entries to the new number (idempotent);
3. in ONE transaction: move the position from the sequence read in (1) to the page's last one
   (compare-and-set: a concurrent pass loses with a conflict and nothing is written) and queue
   one notification per recipient, its id derived from (source, sequence, person, institution):
   in the outbox for an INBOX subscriber, in `stream_notification` for a STREAM one.

A crash anywhere before the commit leaves the position where it was: the next pass reads the
same events and computes the same notifications (same ids). A crash after the commit loses
nothing: the outbox delivers what was queued. So every change is queued once, and delivered at
least once with a stable id (the inbox ignores a second delivery of an id): exactly once in
effect. A number replacement queries the holders of both numbers, so a pass that moved the
entries and then crashed still finds them under the new number.

Fault points (runtime.faults): `mutation.before_commit`, `mutation.after_commit`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from mutation.service.model import (
    EVENT_TYPES,
    PAYLOAD_TYPE,
    Change,
    Delivery,
    Holder,
    StreamEntry,
    recipients,
)
from mutation.service.ports import EventSource, HolderDirectory, SourceUnavailable, UnitFactory
from runtime import faults
from runtime.errors import ConflictError
from runtime.outbox import OutgoingAttestation

logger = logging.getLogger(__name__)

#: The directory answers at most this many persons per call.
HOLDER_BATCH = 1000


class FanOut:
    """Takes sources' events into the outbox."""

    def __init__(
        self,
        units: UnitFactory,
        directory: HolderDirectory,
        *,
        page_size: int = 500,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._units, self._directory = units, directory
        self._page_size = page_size
        self._on_queued = on_queued

    def step(self, source: EventSource) -> int:
        """One page of one source; returns how many events it took (0: up to date)."""
        with self._units(write=False) as unit:
            position = unit.position(source.name)
        after = position.sequence
        page = source.read(after, self._page_size)
        if page.next_after <= after:
            if page.source_last != position.source_last:  # only the source's figure moved
                with self._units() as unit:
                    unit.advance(source.name, after, after, page.source_last)
            return 0
        holders = self._holders(page.changes)
        for change in page.changes:
            if change.new_insz:
                self._directory.move(change.insz, change.new_insz)
        faults.check("mutation.before_commit")
        with self._units() as unit:
            unit.advance(source.name, after, page.next_after, page.source_last)
            grants = unit.grants()
            subscribed = unit.subscriptions()
            deliveries = unit.deliveries()
            queue: list[OutgoingAttestation] = []
            kept: list[StreamEntry] = []
            for change, held in zip(page.changes, holders, strict=True):
                event_type = EVENT_TYPES[change.event_type]
                for r in recipients(change, held, grants, subscribed):
                    ident = change.notification_id(r.institution)
                    if deliveries.get(r.institution) is Delivery.STREAM:
                        kept.append(
                            StreamEntry(r.institution, ident, change.event_type, change.subject,
                                        change.render(ident))
                        )  # fmt: skip
                        continue
                    queue.append(
                        OutgoingAttestation(
                            kind=event_type.kind,
                            subject_insz=change.subject,
                            reference_date=r.reference_date,
                            payload=change.render(ident),
                            payload_type=PAYLOAD_TYPE,
                            destination=r.institution,
                            id=ident,
                        )
                    )
            unit.enqueue(queue)  # in the order of the changes: a person's stay in order
            unit.append_stream(kept)
        queued = len(queue) + len(kept)
        faults.check("mutation.after_commit")
        if queued:
            self._on_queued()
        logger.info(
            "source %s: events %d..%d taken, %d changes, %d notifications queued",
            source.name, after + 1, page.next_after, len(page.changes), queued,
        )  # fmt: skip
        return page.next_after - after

    def _holders(self, changes: Sequence[Change]) -> list[list[Holder]]:
        queries: list[tuple[str, object, object]] = []
        owner: list[int] = []
        for i, change in enumerate(changes):
            for q in change.holder_queries():
                queries.append(q)
                owner.append(i)
        found: list[list[Holder]] = [[] for _ in changes]
        for at in range(0, len(queries), HOLDER_BATCH):
            chunk = queries[at : at + HOLDER_BATCH]
            for index, holder in self._directory.holders(chunk):  # type: ignore[arg-type]
                found[owner[at + index]].append(holder)
        return found


class Runner:
    """Keeps every source up to date in a thread: a pass per source, then a pause when all are
    up to date. A source or the router unreachable, or a lost race, is retried after a pause;
    nothing is skipped."""

    def __init__(
        self, fanout: FanOut, sources: Sequence[EventSource], *, poll_seconds: float = 0.2
    ) -> None:
        self._fanout, self._sources, self._poll = fanout, list(sources), poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mutation-fanout", daemon=True)

    def start(self) -> Runner:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Every source up to date (or failing); returns the events taken."""
        taken = 0
        for source in self._sources:
            while not self._stop.is_set():
                try:
                    n = self._fanout.step(source)
                except SourceUnavailable as exc:
                    logger.warning(
                        "source %s: %s unavailable (%s)", source.name, exc.what, exc.code
                    )
                    break
                except ConflictError:
                    logger.info(
                        "source %s: another pass moved the position; reading again", source.name
                    )
                    continue
                taken += n
                if n == 0:
                    break
        return taken

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bug must not stop the fan-out silently: logged, retried
                logger.exception("fan-out pass failed")
            self._wake.wait(self._poll)
            self._wake.clear()
