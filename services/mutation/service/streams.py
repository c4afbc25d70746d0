"""Notifications read as a stream by STREAM subscribers, and their acknowledgements.

A STREAM subscriber's notifications are kept in `stream_notification` (queued by the fan-out in
the transaction that takes the source's events), numbered by one increasing sequence. The
institution reads them after a sequence it remembers — those there, then new ones as the fan-out
queues them, for at most `max_wait` seconds — and acknowledges up to a sequence. Reading again
from an earlier sequence gives the same notifications (same ids): at least once, harmless twice.
The calls come through the router (ACCESS_ROUTED), which logs the persons each notification
names; the caller is the requester the router names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from mutation.service.manage import require_institution
from mutation.service.model import Delivery
from mutation.service.ports import UnitFactory
from runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument
from runtime.identity import Caller

DEFAULT_WAIT = 30
MAX_WAIT = 300
PAGE = 200


class Streams:
    def __init__(self, units: UnitFactory, *, poll_seconds: float = 0.5) -> None:
        self._units, self._poll = units, poll_seconds
        self._queued = threading.Condition()

    def notify(self) -> None:
        """The fan-out queued notifications: waiting streams look at once."""
        with self._queued:
            self._queued.notify_all()

    def _subscriber(self, caller: Caller) -> str:
        institution = require_institution(caller)
        with self._units(write=False) as unit:
            delivery = unit.deliveries().get(institution, Delivery.INBOX)
        if delivery is not Delivery.STREAM:
            raise FailedPrecondition(
                "NOT_A_STREAM_SUBSCRIBER", "the institution receives its notifications in its inbox"
            )
        return institution

    def open(self, caller: Caller, after: int, max_wait: int) -> tuple[str, int, float]:
        """Check a stream request: (institution, first sequence excluded, seconds to wait)."""
        problems = []
        if after < 0:
            problems.append(
                FieldViolation("after_sequence", "not negative", "INVALID_AFTER_SEQUENCE")
            )
        if not 0 <= max_wait <= MAX_WAIT:
            problems.append(
                FieldViolation("max_wait_seconds", f"0 to {MAX_WAIT}", "INVALID_MAX_WAIT")
            )
        if problems:
            raise InvalidArgument.for_fields(problems)
        institution = self._subscriber(caller)
        if after == 0:
            with self._units(write=False) as unit:
                after = unit.acknowledged(institution)
        return institution, after, float(max_wait or DEFAULT_WAIT)

    def follow(
        self, institution: str, after: int, wait: float, active: Callable[[], bool]
    ) -> Iterator[tuple[int, bytes]]:
        """(sequence, payload) after `after`, then new ones, until `wait` seconds pass without
        the caller leaving (`active()` false ends it at once)."""
        deadline = time.monotonic() + wait
        while active():
            with self._units(write=False) as unit:
                found = unit.stream_after(institution, after, PAGE)
            if found:
                yield from found
                after = found[-1][0]
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with self._queued:
                self._queued.wait(min(left, self._poll))

    def acknowledge(self, caller: Caller, up_to: int) -> tuple[int, int]:
        """(acknowledged sequence, notifications after it)."""
        institution = self._subscriber(caller)
        with self._units() as unit:
            last = unit.last_stream_sequence(institution)
            if not 0 <= up_to <= last:
                raise InvalidArgument.for_fields(
                    [
                        FieldViolation(
                            "up_to_sequence",
                            "0 to the caller's last notification's sequence",
                            "INVALID_SEQUENCE",
                        )
                    ]
                )
            if up_to > unit.acknowledged(institution):
                unit.acknowledge(institution, up_to)
            acknowledged = unit.acknowledged(institution)
            return acknowledged, unit.unacknowledged(institution, acknowledged)
