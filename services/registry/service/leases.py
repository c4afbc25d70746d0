"""Leases on the event log: how a router's person-status index answers checks without asking.

A router's person index (router.transport.person_index) must never answer a check from a state
older than a death or replacement the register had acknowledged before the check began. Without
help from the register it proves this per check, with a feed read started after the check
(ReadIndex); that read was the router's largest cost after grpc itself (`make bench`). With a
lease the proof moves to the write side, where changes are rare:

- A router follows the log on a WatchMutationEvents stream and acknowledges the sequence it has
  applied. It asks for a renewal with each acknowledgement and every quarter of a lease.
- The register grants a renewal only when the router has applied every death and replacement
  recorded so far (`applied >= head`). The lease runs `lease_seconds` from when the register
  received the request; the router counts it from when it sent it, a little shorter (its lease
  ends first).
- **The rule**: RecordDeath and ReplaceInsz answer only once every router whose lease may still
  run has applied the event, or once that lease has run out. No lease is granted to a router
  that is behind the head, so a change waits at most one lease (a router that stopped answering),
  usually one round trip on the stream.
- A stream that ends (router stopped, connection cut) does not end its lease: the register keeps
  the router until its lease has run out, because the router may not yet know its stream is gone.
- A register that starts does not know the leases its previous process granted: for one lease
  after its start it acknowledges no death and no replacement (the grace period).

So a check answered under a lease sees every death and replacement acknowledged before it began,
with no call to the register. What the rule does not cover, said plainly: a change written to the
register's database by another process (not through its RPCs) is seen on the next event read
(each stream reads the log every quarter of a lease), not before the next check; and the leases
live in this process's memory, which holds while the register runs as one process (its k8s
Deployment has one replica). Address and name changes and BIS registrations do not wait: the
index does not look at them (a new BIS number is not in the index, so it is asked to the
register).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from registry.service import permissions
from registry.service.model import MutationKind
from runtime.errors import FieldViolation, InvalidArgument, ServiceError
from runtime.identity import Caller

#: The kinds a person-status check looks at: their writes wait for the routers' leases.
STATUS_KINDS = frozenset({MutationKind.DEATH_RECORDED, MutationKind.INSZ_REPLACED})


@dataclass
class Watcher:
    """One router's stream (guarded by the Leases' condition)."""

    id: int
    applied: int
    #: Until when (the register's monotonic clock) the router may hold a lease; -inf: never granted.
    expiry: float = -math.inf
    departed: bool = False
    #: Renewals answered but not yet sent on the stream: (renewal number, lease in ms or 0).
    answers: list[tuple[int, int]] = field(default_factory=list)
    #: The router's side of the stream ended (cancelled, or a bad message: `error`).
    ended: bool = False
    error: ServiceError | None = None


class Leases:
    """The register's side of the routers' leases (one per process)."""

    def __init__(
        self,
        lease_seconds: float,
        head: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("a lease must last some time")
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._cond = threading.Condition()
        # -- guarded by _cond ------------------------------------------------------------------
        self._head = head  # the highest sequence a lease must cover (deaths, replacements)
        self._recorded = head  # the highest sequence recorded by this process (wakes streams)
        self._grace_until = clock() + lease_seconds
        self._watchers: dict[int, Watcher] = {}
        self._ids = itertools.count(1)
        # ---------------------------------------------------------------------------------------

    # -- the streams' side -------------------------------------------------------------------
    def open(self, caller: Caller, after: int, applied: int) -> Watcher:
        """A router's stream starts: its position and what it has applied (its first message)."""
        permissions.require_router(caller)
        if after < 0:
            raise _invalid("after_sequence", "must not be negative", "INVALID_AFTER_SEQUENCE")
        _check_applied(applied, 0)
        return self.join(applied)

    def receive(self, watcher: Watcher, applied: int, renewal: int) -> None:
        """A later message of the router's (acknowledgement, renewal)."""
        with self._cond:
            previous = watcher.applied
        _check_applied(applied, previous)
        self.acknowledge(watcher, applied, renewal)

    def end(self, watcher: Watcher, error: ServiceError | None = None) -> None:
        """The router's side of the stream ended (the stream then stops, with `error` if any)."""
        with self._cond:
            watcher.ended = True
            watcher.error = watcher.error or error
            self._cond.notify_all()

    def join(self, applied: int) -> Watcher:
        with self._cond:
            watcher = Watcher(next(self._ids), applied)
            self._watchers[watcher.id] = watcher
            return watcher

    def leave(self, watcher: Watcher) -> None:
        """The stream ended; the router's lease may still run (kept until it has run out)."""
        with self._cond:
            watcher.departed = True
            self._prune_locked(self._clock())
            self._cond.notify_all()

    def acknowledge(self, watcher: Watcher, applied: int, renewal: int) -> None:
        """The router has applied every event up to `applied` (never lower than before: the
        caller checks); a renewal (> 0) is answered on the stream, granted only if the router
        has applied every death and replacement recorded so far."""
        with self._cond:
            watcher.applied = max(watcher.applied, applied)
            if renewal:
                granted = not watcher.departed and watcher.applied >= self._head
                if granted:
                    watcher.expiry = max(watcher.expiry, self._clock() + self.lease_seconds)
                lease_ms = int(self.lease_seconds * 1000) if granted else 0
                watcher.answers.append((renewal, lease_ms))
            self._cond.notify_all()  # changes waiting for it, and the stream (an answer to send)

    def wait_for_news(
        self, watcher: Watcher, sent: int, timeout: float
    ) -> tuple[bool, list[tuple[int, int]]]:
        """Wait until an event after `sent` is recorded here, a renewal was answered, or
        `timeout`; return whether events may be waiting and the answers to send."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._recorded > sent or watcher.answers or watcher.ended, timeout
            )
            answers, watcher.answers = watcher.answers, []
            return self._recorded > sent, answers

    # -- the writers' side -------------------------------------------------------------------
    def recorded(self, sequence: int, kind: MutationKind) -> None:
        """An event was committed (the streams are woken; a death or replacement raises the head
        no lease may be granted below)."""
        with self._cond:
            self._recorded = max(self._recorded, sequence)
            if kind in STATUS_KINDS:
                self._head = max(self._head, sequence)
            self._cond.notify_all()

    def await_applied(self, sequence: int) -> None:
        """Return once no router may hold a lease without having applied `sequence` (and the
        grace period after this process's start is over). Waits at most one lease."""
        with self._cond:
            while True:
                now = self._clock()
                self._prune_locked(now)
                pending = [
                    w.expiry
                    for w in self._watchers.values()
                    if w.applied < sequence and w.expiry > now
                ]
                if now < self._grace_until:
                    pending.append(self._grace_until)
                if not pending:
                    return
                self._cond.wait(min(pending) - now)

    # -- internals ---------------------------------------------------------------------------
    def _prune_locked(self, now: float) -> None:
        for key in [k for k, w in self._watchers.items() if w.departed and w.expiry <= now]:
            del self._watchers[key]

    def watchers(self) -> int:
        """Routers followed now or whose lease may still run (for tests and operators)."""
        with self._cond:
            self._prune_locked(self._clock())
            return len(self._watchers)


def _invalid(field_name: str, description: str, reason: str) -> InvalidArgument:
    return InvalidArgument.for_fields([FieldViolation(field_name, description, reason)])


def _check_applied(applied: int, previous: int) -> None:
    if applied < 0:
        raise _invalid("applied_sequence", "must not be negative", "INVALID_APPLIED_SEQUENCE")
    if applied < previous:
        raise _invalid(
            "applied_sequence",
            "must not be lower than in an earlier message",
            "INVALID_APPLIED_SEQUENCE",
        )
