"""CitizenService's rules: what the crossroads tells a person about themself, at the portal.

Only a person signed in at the portal (`Caller(PERSON, insz)`, from the edge's verified token)
may ask, and always about their own INSZ: there is no subject to pass, so there is nothing to
check against it. Anyone else is refused PERMISSION_DENIED `NOT_AUTHORISED`.

- **Who consulted me** (`consultations`): from the message log, the crossings about the person
  that reached the holder and were answered — rows FORWARDED without a holder error, and rows
  REVEALED (the person appeared in another request's answer, e.g. an institution's name search:
  their data went out all the same) — in [start, end), newest first, one per router ticket (a
  ticket logs a row per holder, per repeated subject, per streamed message revealing them).
  Never shown: the person's own self-service reads (requester `person/...`), crossings under a
  confidential legal context (`ConfidentialContexts`, the router's setting
  CONFIDENTIAL_LEGAL_CONTEXTS), refusals, failures, queries and administrative acts. The
  period is at most six calendar months back: it may not start before midnight
  (Europe/Brussels) of the day six months before today — a day's grace, so that a portal
  computing "six months ago" a moment earlier is not refused — and absent, it starts there.
- **Who holds a file about me** (`file_holders`): every reference-directory entry of the
  person, current (not ended today) first, then by start date, newest first. An entry held by
  a hub (a secondary network, e.g. the mutualities' college `cin`) is replaced by the entries
  of its members the hub's own directory has (asked over `HubMembers`, as the mutation
  service's fan-out reaches the hubs' directories); when the hub does not answer, the hub's
  entry is shown with its name — the person still learns that the network holds a file.

Both reads are themselves written to the message log before they are answered (outcome QUERY,
requester the person, legal context SELF_SERVICE): the person's own reads of their data, which
`consultations` never lists. Nothing here logs an INSZ.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from router.service.checks import SELF_CAPACITY, SELF_SERVICE_LEGAL_CONTEXT
from router.service.log_queries import ConfidentialContexts
from router.service.message_log import LogEntry
from router.service.model import CAPACITY_CODES, ConfigSnapshot, DirectoryEntry
from runtime import page_tokens
from runtime.clock import BRUSSELS, Clock
from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import TRUST_DOMAIN, Caller, IdentityError, PartyKind, parse_spiffe_uri

__all__ = [
    "MONTHS_BACK",
    "PERSON_URI_PREFIX",
    "CitizenQueries",
    "Consultation",
    "ConsultationRow",
    "FileHolder",
    "earliest_start",
    "own_read_entry",
]

#: How far back a person may look at who consulted their data.
MONTHS_BACK = 6
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
SERVICE = "cbss.router.v1.CitizenService"
#: Requesters that are persons (their own self-service reads): never shown as consultations.
PERSON_URI_PREFIX = f"spiffe://{TRUST_DOMAIN}/person/"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class ConsultationRow:
    """One consultation as the log reader gives it (a router ticket's rows, grouped)."""

    ticket: str
    occurred_at: dt.datetime
    requester: str
    service: str
    method: str
    legal_context: str
    capacity: str


@dataclass(frozen=True)
class Consultation:
    """One consultation of the person's data, as the person sees it."""

    time: dt.datetime
    institution: str
    institution_name: str
    legal_context: str
    method: str  # "cbss.registry.v1.RegistryService/GetPerson"
    capacity: str
    ticket: str


@dataclass(frozen=True)
class FileHolder:
    """One reference-directory entry of the person, with what it means."""

    institution: str
    institution_name: str
    sector: int
    code: int
    description: str
    start: dt.date
    end: dt.date | None


class ConsultationReader(Protocol):
    def consultations(
        self,
        *,
        subject: str,
        start: dt.datetime,
        end: dt.datetime,
        hide: ConfidentialContexts,
        after: tuple[dt.datetime, str] | None,
        limit: int,
    ) -> list[ConsultationRow]:
        """The person's consultations in [start, end), newest first, one per ticket, after the
        keyset position (time, ticket) when given."""
        ...


class PersonEntries(Protocol):
    def entries_of(self, insz: str) -> list[DirectoryEntry]:
        """Every directory entry of one person (current and past)."""
        ...


class HubMembers(Protocol):
    def hubs(self) -> set[str]:
        """The institutions here that are hubs of a secondary network (their entries stand for
        their members')."""
        ...

    def member_entries(self, hub: str, insz: str) -> list[DirectoryEntry] | None:
        """The person's entries in the hub's own directory (its members'), or None when the
        hub does not answer."""
        ...


def earliest_start(today: dt.date) -> dt.datetime:
    """Midnight (Europe/Brussels) of the day MONTHS_BACK calendar months before `today`."""
    month = today.month - MONTHS_BACK
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    day = today.day
    while True:  # the 31st of a shorter month is its last day
        try:
            back = dt.date(year, month, day)
            break
        except ValueError:
            day -= 1
    return dt.datetime.combine(back, dt.time(), tzinfo=BRUSSELS).astimezone(dt.UTC)


def own_read_entry(caller: Caller, method: str, at: dt.datetime) -> LogEntry:
    """The message-log row of a person's read of their own log or directory entries: outcome
    QUERY, so that `consultations` (FORWARDED and REVEALED rows only) never lists it."""
    return LogEntry(
        ticket=str(uuid.uuid4()),
        occurred_at=at,
        requester=caller.uri,
        service=SERVICE,
        method=method,
        legal_context=SELF_SERVICE_LEGAL_CONTEXT,
        subject=caller.id,
        capacity=SELF_CAPACITY,
        destination="",
        outcome="QUERY",
        reason="",
        latency_us=0,
        trace_id="",
        request_digest="",
        response_digest="",
    )


def _micros(at: dt.datetime) -> int:
    return (at - _EPOCH) // dt.timedelta(microseconds=1)


class CitizenQueries:
    """Answers a signed-in person's questions about themself."""

    def __init__(
        self,
        log: ConsultationReader,
        directory: PersonEntries,
        config: Callable[[], ConfigSnapshot],
        record: Callable[[Caller, str], None],
        clock: Clock,
        confidential: ConfidentialContexts,
        hubs: HubMembers | None = None,
    ) -> None:
        """`record(caller, method)` writes the person's own read to the message log (before
        the answer); `hubs`: on the primary, the hubs' directories (None on a hub)."""
        self._log, self._directory, self._config = log, directory, config
        self._record, self._clock, self._confidential = record, clock, confidential
        self._hubs = hubs

    # -- who consulted my data ----------------------------------------------------------------
    def consultations(
        self,
        caller: Caller,
        start: dt.datetime | None,
        end: dt.datetime | None,
        page_size: int,
        page_token: str,
    ) -> tuple[list[Consultation], str]:
        person = _person(caller)
        limit = page_tokens.page_size(page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        now = self._clock.now()
        earliest = earliest_start(self._clock.today())
        lower, upper = start or earliest, end or now
        problems = []
        if start is not None and start < earliest:
            problems.append(
                FieldViolation("start_time", f"at most {MONTHS_BACK} months back", "INVALID_PERIOD")
            )
        if lower >= upper:
            problems.append(FieldViolation("end_time", "after start_time", "INVALID_PERIOD"))
        if problems:
            raise InvalidArgument.for_fields(problems, "INVALID_PERIOD")
        # The filters as the person gave them (an absent bound moves with the clock between
        # pages, harmlessly: the keyset position is what pages on). No INSZ in the token.
        filters = [
            "consultations",
            "" if start is None else start.isoformat(),
            "" if end is None else end.isoformat(),
        ]
        after = None
        if page_token:
            micros, ticket = page_tokens.decode(page_token, filters, (int, str))
            try:
                after = (_EPOCH + dt.timedelta(microseconds=int(micros)), str(ticket))
            except OverflowError:
                raise page_tokens.invalid_page_token() from None
        self._record(caller, "ListMyConsultations")
        rows = self._log.consultations(
            subject=person,
            start=lower,
            end=upper,
            hide=self._confidential,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        institutions = self._config().institutions
        found = []
        for r in rows:
            institution = _party_id(r.requester)
            known = institutions.get(institution)
            found.append(
                Consultation(
                    time=r.occurred_at,
                    institution=institution,
                    institution_name=known.display_name if known else "",
                    legal_context=r.legal_context,
                    method=f"{r.service}/{r.method}",
                    capacity=r.capacity,
                    ticket=r.ticket,
                )
            )
        token = ""
        if more and rows:
            token = page_tokens.encode(filters, [_micros(rows[-1].occurred_at), rows[-1].ticket])
        return found, token

    # -- who holds a file about me ------------------------------------------------------------
    def file_holders(
        self, caller: Caller, page_size: int, page_token: str
    ) -> tuple[list[FileHolder], str]:
        _person(caller)
        limit = page_tokens.page_size(page_size, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
        filters = ["holders"]
        after = (
            tuple(page_tokens.decode(page_token, filters, (int, int, str, int, int, int)))
            if page_token
            else None
        )
        self._record(caller, "ListMyFileHolders")
        today = self._clock.today()
        # A person's entries are a handful (tens at most): read them all, order and page here,
        # which also lets a hub's members stand in for the hub's entries.
        entries = sorted(
            {(_key(e, today), e) for e in self._resolve_hubs(caller.id)}, key=lambda k: k[0]
        )
        page = [(key, e) for key, e in entries if after is None or key > after]
        more = len(page) > limit
        page = page[:limit]
        institutions = self._config().institutions
        holders = []
        for _, e in page:
            known = institutions.get(e.institution)
            holders.append(
                FileHolder(
                    institution=e.institution,
                    institution_name=known.display_name if known else "",
                    sector=e.capacity.sector,
                    code=e.capacity.code,
                    description=CAPACITY_CODES.get(e.capacity, ""),
                    start=e.start,
                    end=e.end,
                )
            )
        token = page_tokens.encode(filters, list(page[-1][0])) if more and page else ""
        return holders, token

    def _resolve_hubs(self, insz: str) -> list[DirectoryEntry]:
        entries = self._directory.entries_of(insz)
        if self._hubs is None:
            return entries
        hubs = self._hubs.hubs() & {e.institution for e in entries}
        resolved = [e for e in entries if e.institution not in hubs]
        for hub in sorted(hubs):
            held = [e for e in entries if e.institution == hub]
            members = self._hubs.member_entries(hub, insz)
            if not members:  # unreachable, or it knows none: the hub's own entries, named
                resolved += held
                continue
            resolved += members
            # The hub's entries its members account for (each member's integration reaches
            # here under the hub's id, period and capacity kept) are replaced; any other, the
            # hub's own, stays.
            covered = {(m.capacity, m.start, m.end) for m in members}
            resolved += [e for e in held if (e.capacity, e.start, e.end) not in covered]
        return resolved


def _person(caller: Caller) -> str:
    if caller.kind is not PartyKind.PERSON:
        raise PermissionDenied(
            "NOT_AUTHORISED", "only a person signed in at the portal asks about themself"
        )
    return caller.id


def _party_id(uri: str) -> str:
    try:
        return parse_spiffe_uri(uri).id
    except IdentityError:
        return ""


def _key(e: DirectoryEntry, today: dt.date) -> tuple[int, int, str, int, int, int]:
    """Current (not ended today) first, then newest start first; then a total order."""
    current = e.end is None or e.end >= today
    return (
        0 if current else 1,
        -e.start.toordinal(),
        e.institution,
        e.capacity.sector,
        e.capacity.code,
        e.end.toordinal() if e.end is not None else 0,
    )
