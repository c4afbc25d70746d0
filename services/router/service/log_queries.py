"""Questions to the message log: who consulted a person's data, what an institution asked.

Administrators may ask both; an institution may ask only about its own requests (a query by
person would tell it who else holds a file on that person). Every query is itself written in
the log (outcome QUERY), before it is answered. The citizen's view hides crossings under
confidential legal contexts.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from runtime import identifiers
from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import TRUST_DOMAIN, Caller, PartyKind

#: Legal contexts whose crossings the citizen's view hides. UNCONFIRMED convention (the brief
#: names police and judicial flows as confidential but no naming scheme): a legal context is
#: confidential when its name starts with one of these prefixes.
CONFIDENTIAL_PREFIXES = ("police.", "judicial.")
_INSTITUTION_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.ASCII)


@dataclass(frozen=True)
class LogQuery:
    subject: str
    requester: str  # institution id
    start: dt.datetime | None
    end: dt.datetime | None
    citizen_view: bool
    page_size: int
    page_token: str


@dataclass(frozen=True)
class LoggedCrossing:
    ticket: str
    occurred_at: dt.datetime
    requester: str
    service: str
    method: str
    legal_context: str
    subject: str
    capacity: str
    destination: str
    outcome: str
    reason: str
    chain_id: str
    seq: int


class LogReader(Protocol):
    def crossings(
        self,
        *,
        subject: str,
        requester_uri: str,
        start: dt.datetime | None,
        end: dt.datetime | None,
        hide_prefixes: tuple[str, ...],
        after: tuple[dt.datetime, str, int] | None,
        limit: int,
    ) -> list[LoggedCrossing]: ...


class LogQueries:
    """Authorises, records and answers questions to the message log."""

    def __init__(self, reader: LogReader, record: Callable[[Caller, LogQuery], None]) -> None:
        self._reader, self._record = reader, record

    def list(self, caller: Caller, q: LogQuery) -> tuple[list[LoggedCrossing], str]:
        problems: list[FieldViolation] = []
        if bool(q.subject) == bool(q.requester):
            raise InvalidArgument.for_fields(
                [FieldViolation("subject", "give a subject or a requester, not both")],
                "QUERY_REQUIRED",
            )
        if q.subject:
            try:
                identifiers.parse_insz(q.subject)
            except identifiers.IdentifierError as exc:
                problems.append(FieldViolation("subject", exc.description, exc.reason))
        if q.requester and not _INSTITUTION_ID.match(q.requester):
            problems.append(FieldViolation("requester", "an institution id"))
        if q.start and q.end and q.start >= q.end:
            problems.append(FieldViolation("end_time", "after start_time", "INVALID_PERIOD"))
        if q.page_size < 0:
            problems.append(FieldViolation("page_size", "not negative"))
        if problems:
            raise InvalidArgument.for_fields(problems)
        if caller.kind is not PartyKind.ADMIN and not (
            caller.kind is PartyKind.INSTITUTION and q.requester == caller.id
        ):
            raise PermissionDenied(
                "NOT_AUTHORISED",
                "administrators may query the log; an institution only its own requests",
            )
        after = _decode(q)
        self._record(caller, q)  # the query is in the log before it is answered
        limit = min(q.page_size or 100, 500)
        rows = self._reader.crossings(
            subject=q.subject,
            requester_uri=f"spiffe://{TRUST_DOMAIN}/institution/{q.requester}"
            if q.requester
            else "",
            start=q.start,
            end=q.end,
            hide_prefixes=CONFIDENTIAL_PREFIXES if q.citizen_view else (),
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, _encode(q, rows[-1]) if more and rows else ""


def _fingerprint(q: LogQuery) -> str:
    key = json.dumps(
        [q.subject, q.requester, str(q.start), str(q.end), q.citizen_view], separators=(",", ":")
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _encode(q: LogQuery, last: LoggedCrossing) -> str:
    raw = json.dumps([last.occurred_at.isoformat(), last.chain_id, last.seq, _fingerprint(q)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(q: LogQuery) -> tuple[dt.datetime, str, int] | None:
    if not q.page_token:
        return None
    try:
        at, chain_id, seq, fingerprint = json.loads(base64.urlsafe_b64decode(q.page_token))
        if fingerprint != _fingerprint(q):
            raise ValueError("a token of another query")
        return dt.datetime.fromisoformat(at), str(chain_id), int(seq)
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidArgument.for_fields(
            [FieldViolation("page_token", "not a token of this query")], "INVALID_PAGE_TOKEN"
        ) from None
