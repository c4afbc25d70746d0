"""The router's operational monitoring: per requesting institution, what crossed and how fast.

Read from the message log (the only record of every crossing): for a window, each requester's
routed messages (one per ticket), how many were forwarded, refused (by reason) or failed at
the holder, and the router's latency percentiles. No person and no payload: the rows read
carry neither. Operators only.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import Caller, PartyKind

MAX_WINDOW = dt.timedelta(days=7)
#: The outcomes of a routed message, worst first: a message is what its worst row says.
ROUTED_OUTCOMES = ("REFUSED", "FAILED", "FORWARDED")


@dataclass(frozen=True)
class LogRow:
    """One message-log row, as monitoring reads it."""

    ticket: str
    requester: str
    outcome: str
    reason: str
    latency_us: int


@dataclass
class Traffic:
    requester: str
    forwarded: int = 0
    refused: int = 0
    failed: int = 0
    refusals_by_reason: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.forwarded + self.refused + self.failed

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies (0 when there are none)."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class TrafficReader(Protocol):
    def routed_rows(self, start: dt.datetime, end: dt.datetime) -> Iterable[LogRow]: ...


def summarise(rows: Iterable[LogRow]) -> list[Traffic]:
    """Per requester, sorted by requester: each ticket counted once, by its worst outcome."""
    messages: dict[str, tuple[str, str, str, int]] = {}  # ticket -> requester, outcome, reason
    for row in rows:
        if row.outcome not in ROUTED_OUTCOMES:
            continue
        seen = messages.get(row.ticket)
        if seen is None or ROUTED_OUTCOMES.index(row.outcome) < ROUTED_OUTCOMES.index(seen[1]):
            messages[row.ticket] = (row.requester, row.outcome, row.reason, row.latency_us)
    by_requester: dict[str, Traffic] = {}
    for requester, outcome, reason, latency_us in messages.values():
        traffic = by_requester.setdefault(requester, Traffic(requester))
        if outcome == "REFUSED":
            traffic.refused += 1
            traffic.refusals_by_reason[reason] = traffic.refusals_by_reason.get(reason, 0) + 1
        elif outcome == "FAILED":
            traffic.failed += 1
        else:
            traffic.forwarded += 1
        traffic.latencies_ms.append(latency_us / 1000)
    return [by_requester[k] for k in sorted(by_requester)]


class Monitoring:
    def __init__(self, reader: TrafficReader, now: Callable[[], dt.datetime]) -> None:
        self._reader, self._now = reader, now

    def traffic(
        self, caller: Caller, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[Traffic]:
        if caller.kind is not PartyKind.ADMIN:
            raise PermissionDenied("NOT_AUTHORISED", "the router's monitoring is for operators")
        end = end or self._now()
        if start is None or start >= end:
            raise InvalidArgument.for_fields(
                [FieldViolation("start_time", "required, before end_time", "INVALID_PERIOD")]
            )
        if end - start > MAX_WINDOW:
            raise InvalidArgument.for_fields(
                [FieldViolation("start_time", "a window of at most 7 days", "WINDOW_TOO_LONG")]
            )
        return summarise(self._reader.routed_rows(start, end))
