"""Questions to the message log: who consulted a person's data, what an institution asked.

Administrators may ask both; an institution may ask only about its own requests (a query by
person would tell it who else holds a file on that person). Every query is itself written in
the log (outcome QUERY), before it is answered. The citizen's view hides crossings under
confidential legal contexts (`ConfidentialContexts`: the router's CONFIDENTIAL_LEGAL_CONTEXTS,
also applied by the portal's CitizenService, router.service.citizen).
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

#: Legal contexts whose crossings the citizen's view (and the portal's CitizenService) hides,
#: the default of the router's setting CONFIDENTIAL_LEGAL_CONTEXTS. UNCONFIRMED convention: the
#: brief names police and judicial flows as confidential, and an inspection's investigation
#: must not warn the person it investigates (social inspection, anti-fraud), but gives no
#: naming scheme; none of these contexts is granted in the seed yet. `name.*` is every context
#: whose name starts with `name.`; any other entry is one exact context.
DEFAULT_CONFIDENTIAL_CONTEXTS = "police.*,judicial.*,social-inspection.*,anti-fraud.*"


@dataclass(frozen=True)
class ConfidentialContexts:
    """Legal contexts whose crossings a person is not shown: exact names, and prefixes."""

    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> ConfidentialContexts:
        """From `a.*,b.c,...` (comma-separated; `-` alone: none); ValueError when malformed."""
        names: set[str] = set()
        prefixes: list[str] = []
        if text.strip() == "-":
            return cls()
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            prefix = entry.endswith(".*")
            name = entry[:-2] if prefix else entry
            if "*" in name or not 0 < len(name) <= 64 or not name.isprintable():
                raise ValueError(f"{entry!r}: a legal context, or one followed by '.*'")
            if prefix:
                prefixes.append(name + ".")
            else:
                names.add(name)
        return cls(frozenset(names), tuple(sorted(set(prefixes))))

    def __contains__(self, legal_context: object) -> bool:
        return isinstance(legal_context, str) and (
            legal_context in self.names or legal_context.startswith(self.prefixes)
        )


CONFIDENTIAL = ConfidentialContexts.parse(DEFAULT_CONFIDENTIAL_CONTEXTS)
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
        hide: ConfidentialContexts,
        after: tuple[dt.datetime, str, int] | None,
        limit: int,
    ) -> list[LoggedCrossing]: ...


class LogQueries:
    """Authorises, records and answers questions to the message log."""

    def __init__(
        self,
        reader: LogReader,
        record: Callable[[Caller, LogQuery], None],
        confidential: ConfidentialContexts = CONFIDENTIAL,
    ) -> None:
        self._reader, self._record, self._confidential = reader, record, confidential

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
            hide=self._confidential if q.citizen_view else ConfidentialContexts(),
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
