"""Reading the registry: INSZ validation, persons by number, search, the event log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.service import permissions
from registry.service.cache import PersonCache
from registry.service.masks import parse_read_mask
from registry.service.model import (
    InfoType,
    MutationEvent,
    NumberStatus,
    PartialDate,
    PersonRecord,
    PersonSummary,
    PersonView,
)
from registry.service.names import normalise_name
from registry.service.ports import UnitFactory
from registry.service.tokens import SearchFilters, decode_page_token, encode_page_token
from registry.service.validation import Problems, is_possible_partial
from runtime import page_tokens
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound
from runtime.identifiers import IdentifierError, Insz, InszKind, parse_insz
from runtime.identity import Caller

MAX_VALIDATE_INPUT = 32
SEARCH_DEFAULT_PAGE = 50
SEARCH_MAX_PAGE = 500
SEARCH_MIN_LAST_NAME = 2
SEARCH_MAX_NAME = 100
SEARCH_FIRST_YEAR = 1800
EVENTS_DEFAULT_PAGE = 100
EVENTS_MAX_PAGE = 1000
STATUSES_MAX_PAGE = 1000

_KIND_TEXT = {
    InszKind.NATIONAL_REGISTER: "A valid National Register number.",
    InszKind.BIS_SEX_KNOWN: "A valid BIS number (sex known).",
    InszKind.BIS_SEX_UNKNOWN: "A valid BIS number (sex unknown).",
}


@dataclass(frozen=True)
class InszVerdict:
    """The answer of ValidateInsz."""

    valid: bool
    reason: str
    description: str
    details: Insz | None


@dataclass(frozen=True)
class SearchRequest:
    """A search as the caller sent it (validated by `RegistryQueries.search_persons`)."""

    last_name: str
    first_name: str = ""
    birth_date: PartialDate | None = None
    birth_year_from: int = 0
    birth_year_to: int = 0
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class SearchPage:
    persons: list[PersonSummary]
    next_page_token: str


@dataclass(frozen=True)
class EventPage:
    events: list[MutationEvent]
    last_sequence: int


@dataclass(frozen=True)
class StatusPage:
    statuses: list[NumberStatus]
    next_page_token: str
    #: The event log's position, read in the page's transaction before its statuses.
    last_sequence: int


def person_not_found() -> NotFound:
    return NotFound("PERSON_NOT_FOUND", "no person has this number")


def page_size(value: int, *, default: int, maximum: int) -> int:
    """0 means the default; above the maximum is reduced to it; negative is refused."""
    if value < 0:
        raise InvalidArgument.for_fields(
            [FieldViolation("page_size", "must not be negative", "INVALID_PAGE_SIZE")]
        )
    return min(value or default, maximum)


MAX_STATUSES = 1000


class RegistryQueries:
    """The read side of the registry (read-only units of work)."""

    def __init__(
        self,
        read_unit: UnitFactory,
        clock: Clock,
        version: Callable[[], int] | None = None,
        cache: PersonCache | None = None,
    ) -> None:
        """`version` reads the mutation counter; with it and a `cache`, GetPerson serves
        persons from memory while the counter has not moved (see registry.service.cache)."""
        self._read_unit, self._clock = read_unit, clock
        self._version, self._cache = version, cache

    def person_statuses(self, inszs: Sequence[str]) -> list[tuple[str, PersonRecord | None]]:
        """Each INSZ with its person record (None when unknown), in the order asked."""
        if not 1 <= len(inszs) <= MAX_STATUSES:
            raise InvalidArgument.for_fields(
                [FieldViolation("inszs", f"1 to {MAX_STATUSES} numbers", "TOO_MANY_INSZS")]
            )
        problems = Problems()
        for i, insz in enumerate(inszs):
            problems.insz(f"inszs[{i}]", insz)
        problems.raise_if_any()
        with self._read_unit() as unit:
            found = unit.persons.get_many(sorted(set(inszs)))
        return [(insz, found.get(insz)) for insz in inszs]

    def validate_insz(self, text: str) -> InszVerdict:
        """The verdict on any 1-32 character string; no person data is read."""
        if not text:
            raise InvalidArgument.for_fields([FieldViolation("insz", "required", "INSZ_REQUIRED")])
        if len(text) > MAX_VALIDATE_INPUT:
            raise InvalidArgument.for_fields(
                [FieldViolation("insz", "at most 32 characters", "INSZ_TOO_LONG")]
            )
        try:
            parsed = parse_insz(text)
        except IdentifierError as exc:
            return InszVerdict(False, exc.reason, exc.description, None)
        return InszVerdict(True, "", _KIND_TEXT[parsed.kind], parsed)

    def get_person(
        self,
        insz: str,
        requested: frozenset[InfoType],
        reference_date: PartialDate | None = None,
    ) -> PersonView:
        """The person with exactly the `requested` information types.

        `requested` is already reduced to what the caller may see (a later issue passes the
        authorisation's cap here); it must not be empty. For a replaced number only the status is
        shown: the data lives under the new number.
        """
        if not requested:
            parse_read_mask([])  # raises READ_MASK_REQUIRED
        problems = Problems()
        problems.insz("insz", insz)
        day = None
        if reference_date is not None:
            day = reference_date.to_date()
            if day is None:
                problems.add("reference_date", "a full date", "INVALID_REFERENCE_DATE")
        problems.raise_if_any()
        day = day or self._clock.today()
        key = (insz, tuple(sorted(t.value for t in requested)), day)  # plain values: PersonCache
        version = self._version() if self._version and self._cache else None
        if version is not None:
            hit = self._cache.get(key, version)  # type: ignore[union-attr]
            if hit is not None:
                return hit
        with self._read_unit() as unit:
            # One statement reads the person and the numbers it replaced.
            record, replaced = unit.persons.get_with_replaced(insz)
            if record is None:
                raise person_not_found()
            if record.replaced_by is not None:
                view = PersonView(record, frozenset({InfoType.STATUS}))
            else:
                view = PersonView(
                    record,
                    requested,
                    address=(
                        unit.persons.address_on(insz, day)
                        if InfoType.ADDRESS in requested
                        else None
                    ),
                    address_history=(
                        tuple(unit.persons.address_history(insz))
                        if InfoType.ADDRESS_HISTORY in requested
                        else ()
                    ),
                    replaces=tuple(replaced) if InfoType.STATUS in requested else (),
                )
        if version is not None:
            self._cache.put(key, version, view)  # type: ignore[union-attr]
        return view

    def search_persons(self, request: SearchRequest) -> SearchPage:
        """One page of persons matching the filters, in (last name, first names, INSZ) order."""
        filters = _search_filters(request)
        size = page_size(request.page_size, default=SEARCH_DEFAULT_PAGE, maximum=SEARCH_MAX_PAGE)
        after = decode_page_token(request.page_token, filters) if request.page_token else None
        with self._read_unit() as unit:
            hits = unit.persons.search(filters, after, size + 1)
        more = len(hits) > size
        hits = hits[:size]
        token = encode_page_token(filters, hits[-1].position) if more else ""
        return SearchPage([hit.person for hit in hits], token)

    def list_events(self, caller: Caller, after_sequence: int, size: int) -> EventPage:
        """Events after a sequence number, in order, and the highest number so far."""
        permissions.require_event_reader(caller)
        if after_sequence < 0:
            raise InvalidArgument.for_fields(
                [FieldViolation("after_sequence", "must not be negative", "INVALID_AFTER_SEQUENCE")]
            )
        size = page_size(size, default=EVENTS_DEFAULT_PAGE, maximum=EVENTS_MAX_PAGE)
        if self._version is not None:
            # A consumer that is caught up (a router's person index asks once per batch of
            # routed messages) costs one read of the counter, not a unit of work.
            last = self._version()
            if after_sequence >= last:
                return EventPage([], last)
        with self._read_unit() as unit:
            # The counter first, then events up to it: a consistent page even on databases
            # where each statement sees the latest commits.
            last = unit.events.last_sequence()
            events = unit.events.list(after_sequence, last, size)
        return EventPage(events, last)

    def list_statuses(self, caller: Caller, size: int, token: str) -> StatusPage:
        """A page of every number's status in INSZ order, with the event log's position.

        The counter is read first, then the page, in one transaction: on a database where each
        statement sees the latest commits the page may reflect later events too, never fewer,
        and replaying events onto a status is idempotent (see ListPersonStatusesResponse).
        """
        permissions.require_router(caller)
        size = page_size(size, default=STATUSES_MAX_PAGE, maximum=STATUSES_MAX_PAGE)
        after = ""
        if token:
            after = str(page_tokens.decode(token, _STATUS_LIST, (str,))[0])
        with self._read_unit() as unit:
            last = unit.events.last_sequence()
            statuses = unit.persons.list_statuses(after, size + 1)
        more = len(statuses) > size
        statuses = statuses[:size]
        next_token = page_tokens.encode(_STATUS_LIST, [statuses[-1].insz]) if more else ""
        return StatusPage(statuses, next_token, last)


#: The "filters" a ListPersonStatuses token is bound to (there are none; the name keeps a token
#: of another list from being taken for one of this list).
_STATUS_LIST = ["person-statuses"]


def _search_filters(request: SearchRequest) -> SearchFilters:
    problems = Problems()
    last = normalise_name(request.last_name)
    if len(request.last_name.strip()) > SEARCH_MAX_NAME:
        problems.add("last_name", f"at most {SEARCH_MAX_NAME} characters", "INVALID_NAME")
    elif len(last) < SEARCH_MIN_LAST_NAME:
        problems.add(
            "last_name",
            f"required: at least {SEARCH_MIN_LAST_NAME} characters",
            "LAST_NAME_TOO_SHORT",
        )
    first = normalise_name(request.first_name)
    if len(request.first_name.strip()) > SEARCH_MAX_NAME:
        problems.add("first_name", f"at most {SEARCH_MAX_NAME} characters", "INVALID_NAME")
    birth = request.birth_date
    if birth is not None and (not is_possible_partial(birth) or birth.year < SEARCH_FIRST_YEAR):
        problems.add(
            "birth_date",
            "a date from 1800 on; day 0 or month and day 0 for a partial date",
            "INVALID_BIRTH_DATE",
        )
    year_from, year_to = request.birth_year_from, request.birth_year_to
    for field, year in (("birth_year_from", year_from), ("birth_year_to", year_to)):
        if year != 0 and not SEARCH_FIRST_YEAR <= year <= 9999:
            problems.add(field, "0 (none) or a year from 1800 to 9999", "INVALID_BIRTH_YEAR_RANGE")
    if year_from and year_to and year_from > year_to:
        problems.add(
            "birth_year_to", "must not be before birth_year_from", "INVALID_BIRTH_YEAR_RANGE"
        )
    if birth is not None and (year_from or year_to):
        problems.add(
            "birth_date",
            "give either a birth date or a birth-year range",
            "CONFLICTING_BIRTH_FILTERS",
        )
    problems.raise_if_any()
    return SearchFilters(last, first, birth, year_from, year_to)
