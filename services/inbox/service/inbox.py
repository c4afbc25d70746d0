"""The inbox's rules: idempotent delivery, the sender's status question, listing, acknowledgement.

Delivery is at least once on the network (the sender's outbox retries), so `deliver` makes it
exactly once in effect: the attestation id is the key; a re-delivery with the same content
(same digest) changes nothing and answers with the first delivery's receipt; other content under
the same id is refused (IDEMPOTENCY_KEY_REUSED). Two deliveries of one id racing each other: the
loser's insert fails on the unique key (ConflictError) and it answers as the winner did.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Protocol

from inbox.service.model import Attestation, ListQuery, State
from runtime import faults, identifiers
from runtime.clock import Clock
from runtime.errors import (
    Aborted,
    ConflictError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    idempotency_key_reused,
)

KIND = re.compile(r"^[a-z0-9][a-z0-9.-]{0,62}[a-z0-9]$")
MAX_PAYLOAD_BYTES = 1024 * 1024
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


class AttestationRepository(Protocol):
    def get(self, attestation_id: str) -> Attestation | None: ...
    def add(self, attestation: Attestation) -> None: ...
    def page(self, query: ListQuery, after: int, limit: int) -> list[Attestation]: ...
    def acknowledge(self, attestation: Attestation) -> None: ...


class InboxUnit(Protocol):
    attestations: AttestationRepository


UnitFactory = Callable[[], AbstractContextManager[InboxUnit]]


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def validate(att: Attestation) -> None:
    """Every problem of a delivered attestation at once (INVALID_ATTESTATION)."""
    bad: list[FieldViolation] = []
    if not _is_uuid(att.id):
        bad.append(FieldViolation("attestation.id", "a UUID in canonical lower-case form"))
    if not KIND.match(att.kind):
        bad.append(FieldViolation("attestation.kind", "lower-case letters, digits, '.', '-'"))
    try:
        identifiers.parse_insz(att.subject_insz)
    except identifiers.IdentifierError as exc:
        bad.append(FieldViolation("attestation.subject_insz", exc.description, exc.reason))
    if not att.sender:
        bad.append(FieldViolation("attestation.sender", "required"))
    if len(att.payload) > MAX_PAYLOAD_BYTES:
        bad.append(FieldViolation("attestation.payload", "at most 1 MiB"))
    if att.payload and not att.payload_type:
        bad.append(FieldViolation("attestation.payload_type", "required with a payload"))
    if len(att.payload_type) > 128:
        bad.append(FieldViolation("attestation.payload_type", "at most 128 characters"))
    if bad:
        raise InvalidArgument.for_fields(bad, "INVALID_ATTESTATION")


def not_found(attestation_id: str) -> NotFound:
    return NotFound(
        "ATTESTATION_NOT_FOUND",
        "no such attestation in this inbox",
        metadata={"id": attestation_id},
    )


class Inbox:
    """One institution's inbox."""

    def __init__(self, institution: str, unit: UnitFactory, read_unit: UnitFactory, clock: Clock):
        self.institution = institution
        self._unit, self._read_unit, self._clock = unit, read_unit, clock

    # -- through a router --------------------------------------------------------------------
    def deliver(self, att: Attestation, requester: str, ticket: str) -> Attestation:
        """Store `att` once; answers with the stored attestation (the first delivery's)."""
        validate(att)
        if att.sender != requester:
            raise PermissionDenied(
                "SENDER_MISMATCH",
                "the attestation's sender is not the requesting institution",
                metadata={"sender": att.sender},
            )
        digest = att.digest()
        for _ in range(3):
            try:
                with self._unit() as unit:
                    existing = unit.attestations.get(att.id)
                    if existing is not None:
                        if existing.digest() != digest:
                            raise idempotency_key_reused("attestation.id")
                        return existing
                    stored = replace(
                        att,
                        received_at=self._clock.now(),
                        state=State.RECEIVED,
                        acknowledged_at=None,
                        router_ticket=ticket,
                    )
                    unit.attestations.add(stored)
                    faults.check("inbox.before_commit")
                faults.check("inbox.after_commit")
                return stored
            except ConflictError:
                continue  # another delivery of the same id won: answer as it did
        raise Aborted("DELIVERY_CONFLICT", "concurrent deliveries of this attestation; retry")

    def status(self, attestation_id: str, subject: str, requester: str) -> Attestation:
        """The sender's question: only the sender learns anything (others: NOT_FOUND)."""
        with self._read_unit() as unit:
            att = unit.attestations.get(attestation_id)
        if att is None or att.sender != requester or att.subject_insz != subject:
            raise not_found(attestation_id)
        return att

    # -- the owner's own systems ---------------------------------------------------------------
    def check_owner(self, caller_institution: str | None) -> None:
        if caller_institution != self.institution:
            raise PermissionDenied(
                "NOT_INBOX_OWNER", "only the institution that owns this inbox may read it"
            )

    def list(
        self, parent: str, query: ListQuery, page_size: int, page_token: str
    ) -> tuple[list[Attestation], str]:
        if parent != f"inboxes/{self.institution}":
            raise InvalidArgument.for_fields(
                [FieldViolation("parent", f"must be inboxes/{self.institution}")], "INVALID_PARENT"
            )
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            raise InvalidArgument.for_fields(
                [FieldViolation("page_size", f"0 to {MAX_PAGE_SIZE}")], "INVALID_PAGE_SIZE"
            )
        if (
            query.reference_from
            and query.reference_to
            and query.reference_from > query.reference_to
        ):
            raise InvalidArgument.for_fields(
                [FieldViolation("reference_date_to", "on or after reference_date_from")],
                "INVALID_FILTER",
            )
        after = _read_token(page_token, query) if page_token else 0
        limit = page_size or DEFAULT_PAGE_SIZE
        with self._read_unit() as unit:
            rows = unit.attestations.page(query, after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        return page, (_make_token(page[-1].seq, query) if more else "")

    def acknowledge(self, name: str) -> Attestation:
        prefix = f"inboxes/{self.institution}/attestations/"
        attestation_id = name.removeprefix(prefix)
        if not name.startswith(prefix) or not _is_uuid(attestation_id):
            raise InvalidArgument.for_fields(
                [FieldViolation("name", f"{prefix}{{uuid}}")], "INVALID_NAME"
            )
        with self._unit() as unit:
            att = unit.attestations.get(attestation_id)
            if att is None:
                raise not_found(attestation_id)
            if att.state is State.ACKNOWLEDGED:
                return att
            acked = replace(att, state=State.ACKNOWLEDGED, acknowledged_at=self._clock.now())
            unit.attestations.acknowledge(acked)
            return acked


def _make_token(after: int, query: ListQuery) -> str:
    raw = json.dumps({"a": after, "q": query.fingerprint()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(token: str, query: ListQuery) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, fingerprint = int(data["a"]), str(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        after, fingerprint = -1, ""
    if after < 0 or fingerprint != query.fingerprint():
        raise InvalidArgument.for_fields(
            [FieldViolation("page_token", "not a token of this query")], "INVALID_PAGE_TOKEN"
        )
    return after
