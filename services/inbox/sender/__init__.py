"""The demonstration sender: a tiny sender with its own database and the shared outbox.

It stands in for DRS (issue 9) until DRS exists, for the tests, the demo (`python -m inbox.cli
send`) and the bench. Its "business write" is a `demo_declaration` row; the attestation goes into
the outbox in the **same transaction** (`DemoSender.declare`), and the runtime's dispatcher
delivers it through the router as institution `onss` (the owner of DRS), under the legal context
of the attestation's kind (`KINDS`, mirrored by the router's seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from runtime.clock import Clock
from runtime.db import Database, metadata
from runtime.outbox import Outbox, OutgoingAttestation, outbox_table

MIGRATIONS = Path(__file__).parent / "migrations"
SENDER = "onss"

#: Attestation kinds the demonstration sender sends: (legal context, default destination; "" =
#: chosen by the reference directory). The router's seed grants `onss` one authorisation per
#: legal context, limited to these destinations.
KINDS: dict[str, tuple[str, str]] = {
    "unemployment.c4": ("drs.unemployment", "onem"),
    "unemployment.temporary": ("drs.unemployment", "onem"),
    "sickness.zima-001": ("drs.sickness", ""),
    "sickness.zima-006": ("drs.sickness", ""),
    "work-accident.declaration": ("drs.work-accident", "fedris"),
}

METADATA = metadata()
OUTBOX = outbox_table(METADATA)
DECLARATION = sa.Table(
    "demo_declaration",
    METADATA,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


class DemoSender:
    """Declares (business write + outbox row, one transaction) and reports statuses."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.outbox = Outbox(OUTBOX, SENDER, {k: v[0] for k, v in KINDS.items()}, clock)

    def declare(
        self,
        kind: str,
        subject_insz: str,
        reference_date: dt.date,
        payload: bytes = b"",
        *,
        destination: str | None = None,
        attestation_id: str | None = None,
    ) -> str:
        """Record a declaration and its attestation in one transaction; returns the id."""
        default = KINDS.get(kind, ("", ""))[1]
        att = OutgoingAttestation(
            kind=kind,
            subject_insz=subject_insz,
            reference_date=reference_date,
            payload=payload,
            payload_type="application/json" if payload else "",
            destination=default if destination is None else destination,
            **({"id": attestation_id} if attestation_id else {}),
        )
        with self.db.unit_of_work() as session:
            session.execute(
                sa.insert(DECLARATION).values(
                    id=att.id, kind=kind, created_at=self.outbox.clock.now()
                )
            )
            self.outbox.enqueue(session, att)
        return att.id
