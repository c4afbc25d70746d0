"""What the mutation service reasons about: event types, changes, holders, grants.

Event types name what changed, by source; an institution receives a type only when an ISC grant
gives it that type for the capacity it holds the person in, and it chose the type. Each type is
delivered as an inbox attestation of kind `mutation.<type>` under its family's legal context
(`mutation.person`, `mutation.employment`, `mutation.wages`), which the router checks against
the CBSS's authorisations like any routed message.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

#: The notification's payload type (the inbox attestation's `payload_type`).
PAYLOAD_TYPE = "cbss.mutation.v1.PersonChange"

#: The sources, in the order the fan-out reads them.
SOURCES = ("registry", "dimona", "dmfa")


class Delivery(enum.Enum):
    """How an institution receives its notifications: each to its inbox through the router, or
    kept for it to read as a stream (through the router too) and acknowledge."""

    INBOX = "INBOX"
    STREAM = "STREAM"


@dataclass(frozen=True)
class EventType:
    name: str
    source: str
    legal_context: str

    @property
    def kind(self) -> str:
        """The inbox attestation's kind."""
        return f"mutation.{self.name}"


EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("person.address-changed", "registry", "mutation.person"),
        EventType("person.death-recorded", "registry", "mutation.person"),
        EventType("person.name-changed", "registry", "mutation.person"),
        EventType("person.insz-replaced", "registry", "mutation.person"),
        EventType("employment.started", "dimona", "mutation.employment"),
        EventType("employment.ended", "dimona", "mutation.employment"),
        EventType("employment.changed", "dimona", "mutation.employment"),
        EventType("employment.cancelled", "dimona", "mutation.employment"),
        EventType("wages.declared", "dmfa", "mutation.wages"),
        EventType("wages.corrected", "dmfa", "mutation.wages"),
    )
}

#: attestation kind -> legal context (the outbox's map).
LEGAL_CONTEXTS = {t.kind: t.legal_context for t in EVENT_TYPES.values()}

_NAMESPACE = uuid.UUID("7b0c3f7e-6a38-5d2b-9d3e-2c1f4e8a9b10")
_CAPACITY = re.compile(r"^[1-9][0-9]{0,2}/[1-9][0-9]{0,3}$")
_INSTITUTION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def valid_capacity(text: str) -> bool:
    return bool(_CAPACITY.match(text))


def valid_institution(text: str) -> bool:
    return bool(_INSTITUTION.match(text))


@dataclass(frozen=True)
class Change:
    """One change about one person, taken from a source's event (a DmfA declaration gives one
    change per worker, all with the event's sequence number).

    `start`..`end` is the period whose holders are notified (a single day for the register's
    changes and DIMONA's, the quarter for a DmfA declaration). `render(id)` gives the
    notification's payload bytes with its id. For a number replacement, `new_insz` is the new
    number: the directory entries move to it, and holders of either number are notified."""

    source: str
    sequence: int
    event_type: str
    insz: str
    start: dt.date
    end: dt.date
    render: Callable[[str], bytes]
    new_insz: str = ""

    def notification_id(self, institution: str) -> str:
        """Stable: the same change to the same institution always has the same id, so that a
        change fanned out again (after a crash) or delivered again is harmless."""
        key = f"{self.source}:{self.sequence}:{self.insz}:{institution}"
        return str(uuid.uuid5(_NAMESPACE, key))

    @property
    def subject(self) -> str:
        """Whom the delivery is about: the person's current number. After a replacement that is
        the new one (the router refuses a consultation naming a replaced number, and the
        holders' entries have moved to the new one)."""
        return self.new_insz or self.insz

    def holder_queries(self) -> list[tuple[str, dt.date, dt.date]]:
        queries = [(self.insz, self.start, self.end)]
        if self.new_insz:
            queries.append((self.new_insz, self.start, self.end))
        return queries


@dataclass(frozen=True)
class Page:
    """What one read of a source gave: its changes, the last event sequence it covers (the new
    position, even when no event became a change), and the source's own last sequence."""

    changes: list[Change]
    next_after: int
    source_last: int


@dataclass(frozen=True)
class Holder:
    """A directory entry: an institution holds the person in a capacity over a period."""

    institution: str
    capacity: str  #: "11/1"
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class Grant:
    """An ISC deliberation: the institution may receive the event type about persons it holds
    in one of the capacities, for changes within the validity."""

    id: str
    institution: str
    event_type: str
    capacities: frozenset[str]
    deliberation: str
    valid_from: dt.date
    valid_to: dt.date | None = None

    def covers(self, start: dt.date, end: dt.date) -> bool:
        return self.valid_from <= end and (self.valid_to is None or self.valid_to >= start)


@dataclass(frozen=True)
class Recipient:
    institution: str
    #: A day of the change's period on which the institution holds the person (the hub chooses
    #: the member mutuality by its own directory on this day).
    reference_date: dt.date


def recipients(
    change: Change,
    holders: list[Holder],
    grants: list[Grant],
    subscribed: dict[str, frozenset[str]],
) -> list[Recipient]:
    """Who receives the change: holders whose capacity a grant for the type covers, who chose
    the type. One recipient per institution, by id."""
    chosen: dict[str, dt.date] = {}
    for h in holders:
        if change.event_type not in subscribed.get(h.institution, frozenset()):
            continue
        if not any(
            g.institution == h.institution
            and g.event_type == change.event_type
            and h.capacity in g.capacities
            and g.covers(change.start, change.end)
            for g in grants
        ):
            continue
        day = max(change.start, h.start)
        if h.institution not in chosen or day < chosen[h.institution]:
            chosen[h.institution] = day
    return [Recipient(i, d) for i, d in sorted(chosen.items())]


@dataclass(frozen=True)
class Position:
    source: str
    sequence: int
    source_last: int
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class StreamEntry:
    """A notification kept for a STREAM subscriber."""

    institution: str
    id: str
    event_type: str
    insz: str
    payload: bytes


@dataclass(frozen=True)
class Lag:
    institution: str
    pending: int
    delivered: int
    acknowledged: int
    dead_lettered: int
    oldest_unacknowledged: dt.datetime | None
    delivery: Delivery = Delivery.INBOX
