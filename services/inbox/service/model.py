"""What an inbox keeps: attestations, their state, and the list query."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from dataclasses import dataclass


class State(enum.Enum):
    """Where an attestation stands in its inbox."""

    RECEIVED = "RECEIVED"
    ACKNOWLEDGED = "ACKNOWLEDGED"


@dataclass(frozen=True)
class Attestation:
    """An attestation as delivered (the sender's part) and as stored (the inbox's part)."""

    id: str
    kind: str
    subject_insz: str
    reference_date: dt.date
    sender: str
    created_at: dt.datetime
    payload: bytes
    payload_type: str
    # The inbox's part: set when stored.
    received_at: dt.datetime | None = None
    state: State = State.RECEIVED
    acknowledged_at: dt.datetime | None = None
    router_ticket: str = ""
    #: The storage order (ListAttestations' pagination key); 0 until stored.
    seq: int = 0

    def digest(self) -> str:
        """SHA-256 of the sender's part: a re-delivery must carry exactly the same content."""
        h = hashlib.sha256()
        created = self.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
        for part in (
            self.id,
            self.kind,
            self.subject_insz,
            self.reference_date.isoformat(),
            self.sender,
            created,
            self.payload_type,
        ):
            h.update(part.encode())
            h.update(b"\x00")
        h.update(self.payload)
        return h.hexdigest()

    def name(self, institution: str) -> str:
        return f"inboxes/{institution}/attestations/{self.id}"


@dataclass(frozen=True)
class ListQuery:
    """ListAttestations' filters."""

    kind: str = ""
    state: State | None = None
    reference_from: dt.date | None = None
    reference_to: dt.date | None = None

    def fingerprint(self) -> str:
        """Identifies the filters, so that a page token cannot be reused with others."""
        text = "|".join(
            [
                self.kind,
                self.state.value if self.state else "",
                self.reference_from.isoformat() if self.reference_from else "",
                self.reference_to.isoformat() if self.reference_to else "",
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]
