"""Reads: INSZ verdicts, exactly the requested information types, search filters and pages."""

from __future__ import annotations

import datetime as dt

import pytest
from registry_fakes import (
    ADMIN,
    CBSS,
    ELSEWHERE,
    HOME,
    NR,
    ONEM,
    ROUTER,
    FakeRegistry,
    bis_person,
    home_since,
    nr_person,
)

from registry.service.changes import AddressChange, RegistryChanges
from registry.service.model import ALL_INFO_TYPES, AddressPeriod, InfoType, PartialDate
from registry.service.queries import EventPage, RegistryQueries, SearchRequest
from runtime.errors import InvalidArgument, NotFound, PermissionDenied
from runtime.identifiers import InszKind, Sex, make_insz


@pytest.fixture
def jan(fake: FakeRegistry):
    return fake.add(
        nr_person(),
        AddressPeriod(ELSEWHERE, dt.date(2009, 6, 1), dt.date(2015, 2, 28)),
        home_since(dt.date(2015, 3, 1)),
    )


# -- ValidateInsz ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "valid", "reason"),
    [
        ("85071412330", True, ""),
        ("03020100274", True, ""),
        ("85493000163", True, ""),
        ("72230000222", True, ""),
        ("85071412331", False, "INSZ_CHECK_DIGITS"),
        ("85.07.14-123.30", False, "INSZ_MALFORMED"),
        ("abc", False, "INSZ_MALFORMED"),
        ("85133112345", False, "INSZ_CHECK_DIGITS"),
    ],
)
def test_verdict_is_given_when_string_is_any_short_text(
    queries: RegistryQueries, text: str, valid: bool, reason: str
) -> None:
    verdict = queries.validate_insz(text)
    assert (verdict.valid, verdict.reason) == (valid, reason)
    assert verdict.description and text not in verdict.description
    assert (verdict.details is not None) == valid


def test_details_decode_the_number_when_valid(queries: RegistryQueries) -> None:
    details = queries.validate_insz("72230000222").details
    assert details is not None
    assert (details.kind, details.sex) == (InszKind.BIS_SEX_UNKNOWN, Sex.UNKNOWN)
    assert (details.birth_year, details.birth_month, details.birth_day) == (1972, 3, 0)


@pytest.mark.parametrize(("text", "reason"), [("", "INSZ_REQUIRED"), ("1" * 33, "INSZ_TOO_LONG")])
def test_validation_is_refused_when_input_is_empty_or_too_long(
    queries: RegistryQueries, text: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.validate_insz(text)
    assert err.value.reason == reason


# -- GetPerson -------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", list(InfoType))
def test_only_the_requested_type_is_shown_when_one_is_asked(
    queries: RegistryQueries, jan, info: InfoType
) -> None:
    view = queries.get_person(jan.insz, frozenset({info}))
    assert view.types == {info}
    assert (view.address is not None) == (info is InfoType.ADDRESS)
    assert bool(view.address_history) == (info is InfoType.ADDRESS_HISTORY)


def test_address_is_the_one_on_reference_date_when_given(queries: RegistryQueries, jan) -> None:
    types = frozenset({InfoType.ADDRESS})
    assert queries.get_person(jan.insz, types).address.address == HOME
    assert queries.get_person(jan.insz, types, PartialDate(2010, 1, 1)).address.address == ELSEWHERE
    assert queries.get_person(jan.insz, types, PartialDate(2000, 1, 1)).address is None


def test_reference_date_is_refused_when_partial(queries: RegistryQueries, jan) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.get_person(jan.insz, ALL_INFO_TYPES, PartialDate(2010, 1, 0))
    assert err.value.reason == "INVALID_REFERENCE_DATE"


def test_only_status_is_shown_when_number_was_replaced(
    queries: RegistryQueries, fake: FakeRegistry, jan
) -> None:
    old = fake.add(nr_person(serial=9, replaced_by=jan.insz))
    view = queries.get_person(old.insz, frozenset({InfoType.IDENTITY}))
    assert view.types == {InfoType.STATUS} and view.record.replaced_by == jan.insz
    assert queries.get_person(jan.insz, ALL_INFO_TYPES).replaces == (old.insz,)


def test_person_is_not_found_when_number_is_unknown(queries: RegistryQueries) -> None:
    with pytest.raises(NotFound) as err:
        queries.get_person(
            make_insz(birth_year=1990, birth_month=1, birth_day=1, serial=1), ALL_INFO_TYPES
        )
    assert err.value.reason == "PERSON_NOT_FOUND"


@pytest.mark.parametrize(
    ("insz", "reason"),
    [
        ("", "INSZ_MALFORMED"),
        ("85071412331", "INSZ_CHECK_DIGITS"),
        ("85133100102", "INSZ_INVALID_DATE"),
    ],
)
def test_get_is_refused_with_identifier_reason_when_number_is_invalid(
    queries: RegistryQueries, insz: str, reason: str
) -> None:
    if reason == "INSZ_INVALID_DATE":  # a number with valid check digits but month 13
        base = insz[:9]
        insz = base + f"{97 - int(base) % 97:02d}"
    with pytest.raises(InvalidArgument) as err:
        queries.get_person(insz, ALL_INFO_TYPES)
    assert err.value.reason == reason and err.value.violations[0].field == "insz"


def test_empty_type_set_is_refused_when_asked(queries: RegistryQueries, jan) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.get_person(jan.insz, frozenset())
    assert err.value.reason == "READ_MASK_REQUIRED"


# -- SearchPersons ---------------------------------------------------------------------------------


@pytest.fixture
def crowd(fake: FakeRegistry) -> list[str]:
    names = [
        ("Lefèvre", ("Marie", "Noëlle")),
        ("LEFEVRE", ("Jean-Pierre",)),
        ("Lefébure", ("Anne",)),
    ]
    made = []
    with fake.unit() as unit:
        for i in range(30):
            last, firsts = names[i % 3]
            person = nr_person(2 * i + 1, year=1950 + i, last_name=last, first_names=firsts)
            unit.persons.add(person)
            made.append(person.insz)
    return made


def _all_pages(queries: RegistryQueries, **filters: object) -> list[list[str]]:
    pages, token = [], ""
    while True:
        page = queries.search_persons(SearchRequest(page_token=token, **filters))  # type: ignore[arg-type]
        pages.append([p.insz for p in page.persons])
        token = page.next_page_token
        if not token:
            return pages


def test_pages_cover_every_match_once_when_followed(queries: RegistryQueries, crowd) -> None:
    pages = _all_pages(queries, last_name="lefe", page_size=7)
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    found = [i for page in pages for i in page]
    assert sorted(found) == sorted(crowd) and len(set(found)) == len(found)


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        ({"last_name": "LEFEVRE"}, 20),
        ({"last_name": "lefèvre", "first_name": "noelle"}, 10),
        ({"last_name": "lefevre", "first_name": "pierre"}, 0),
        ({"last_name": "lefevre", "first_name": "JEAN"}, 10),
        ({"last_name": "lef", "birth_year_from": 1970, "birth_year_to": 1975}, 6),
        ({"last_name": "lef", "birth_date": PartialDate(1951, 0, 0)}, 1),
        ({"last_name": "lef", "birth_date": PartialDate(1951, 7, 14)}, 1),
        ({"last_name": "lef", "birth_date": PartialDate(1951, 7, 15)}, 0),
        ({"last_name": "peeters"}, 0),
    ],
)
def test_matches_ignore_case_and_accents_when_searching(
    queries: RegistryQueries, crowd, filters: dict, count: int
) -> None:
    assert len(queries.search_persons(SearchRequest(page_size=100, **filters)).persons) == count


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        ({"last_name": "l"}, "LAST_NAME_TOO_SHORT"),
        ({"last_name": " é "}, "LAST_NAME_TOO_SHORT"),
        ({"last_name": "x" * 101}, "INVALID_NAME"),
        ({"last_name": "le", "page_size": -1}, "INVALID_PAGE_SIZE"),
        (
            {"last_name": "le", "birth_year_from": 1990, "birth_year_to": 1980},
            "INVALID_BIRTH_YEAR_RANGE",
        ),
        ({"last_name": "le", "birth_year_from": 10}, "INVALID_BIRTH_YEAR_RANGE"),
        ({"last_name": "le", "birth_date": PartialDate(1990, 2, 30)}, "INVALID_BIRTH_DATE"),
        ({"last_name": "le", "birth_date": PartialDate(0, 0, 0)}, "INVALID_BIRTH_DATE"),
        (
            {"last_name": "le", "birth_date": PartialDate(1990, 1, 1), "birth_year_to": 1991},
            "CONFLICTING_BIRTH_FILTERS",
        ),
        ({"last_name": "le", "page_token": "nonsense"}, "INVALID_PAGE_TOKEN"),
    ],
)
def test_search_is_refused_when_filters_are_invalid(
    queries: RegistryQueries, filters: dict, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.search_persons(SearchRequest(**filters))
    assert err.value.reason == reason


def test_page_size_is_clamped_when_too_large(queries: RegistryQueries, crowd) -> None:
    assert len(queries.search_persons(SearchRequest("lef", page_size=10_000)).persons) == 30


def test_token_is_refused_when_filters_change(queries: RegistryQueries, crowd) -> None:
    token = queries.search_persons(SearchRequest("lef", page_size=5)).next_page_token
    with pytest.raises(InvalidArgument) as err:
        queries.search_persons(SearchRequest("lefe", page_size=5, page_token=token))
    assert err.value.reason == "INVALID_PAGE_TOKEN"


def test_replaced_numbers_are_not_found_when_searching(
    queries: RegistryQueries, fake: FakeRegistry, crowd
) -> None:
    fake.add(nr_person(501, last_name="Lefèvre", replaced_by=crowd[0]))
    assert len(queries.search_persons(SearchRequest("lef", page_size=100)).persons) == 30


# -- ListMutationEvents ----------------------------------------------------------------------------


def test_events_are_listed_in_order_when_read_after_a_sequence(
    queries: RegistryQueries, changes: RegistryChanges, jan
) -> None:
    for i in range(5):
        changes.change_address(
            NR,
            AddressChange(
                jan.insz, f"m{i}", HOME if i % 2 else ELSEWHERE, PartialDate(2020 + i, 1, 1)
            ),
        )
    page = queries.list_events(ROUTER, 2, 2)
    assert [e.sequence for e in page.events] == [3, 4] and page.last_sequence == 5
    assert queries.list_events(ADMIN, 5, 0).events == []
    assert len(queries.list_events(CBSS, 0, 0).events) == 5


def test_caught_up_reader_costs_one_counter_read_when_nothing_is_new(
    fake: FakeRegistry, changes: RegistryChanges, clock, jan
) -> None:
    units = []

    def unit():  # noqa: ANN202 - the fake's units, counted
        units.append(1)
        return fake.unit()

    queries = RegistryQueries(unit, clock, lambda: fake.state.counter)
    changes.change_address(NR, AddressChange(jan.insz, "m1", ELSEWHERE, PartialDate(2020, 1, 1)))
    assert queries.list_events(ROUTER, 1, 0) == EventPage([], 1) and units == []
    assert [e.sequence for e in queries.list_events(ROUTER, 0, 0).events] == [1]
    assert units == [1]


@pytest.mark.parametrize(
    ("after", "size", "reason"), [(-1, 0, "INVALID_AFTER_SEQUENCE"), (0, -5, "INVALID_PAGE_SIZE")]
)
def test_listing_is_refused_when_bounds_are_negative(
    queries: RegistryQueries, after: int, size: int, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.list_events(NR, after, size)
    assert err.value.reason == reason


def test_listing_is_refused_when_caller_is_an_ordinary_institution(
    queries: RegistryQueries,
) -> None:
    with pytest.raises(PermissionDenied) as err:
        queries.list_events(ONEM, 0, 0)
    assert err.value.reason == "NOT_AUTHORISED"


# -- ListPersonStatuses ----------------------------------------------------------------------------


def test_statuses_of_every_number_are_listed_in_pages_when_a_router_follows_the_tokens(
    queries: RegistryQueries, changes: RegistryChanges, fake: FakeRegistry
) -> None:
    alive = fake.add(nr_person(123))
    dead = fake.add(nr_person(125, death_date=dt.date(2020, 1, 1)))
    old = fake.add(nr_person(127, replaced_by=alive.insz))
    bis = fake.add(bis_person())
    listed, token = [], ""
    while True:
        page = queries.list_statuses(ROUTER, 3, token)
        assert page.last_sequence == 0
        listed += page.statuses
        token = page.next_page_token
        if not token:
            break
    assert [s.insz for s in listed] == sorted(p.insz for p in (alive, dead, old, bis))
    by = {s.insz: s for s in listed}
    assert (by[alive.insz].deceased, by[alive.insz].replaced_by) == (False, None)
    assert by[dead.insz].deceased
    assert by[old.insz].replaced_by == alive.insz
    assert by[bis.insz].kind is InszKind.BIS_SEX_KNOWN


def test_status_page_carries_the_event_position_when_events_were_recorded(
    queries: RegistryQueries, changes: RegistryChanges, jan
) -> None:
    changes.change_address(NR, AddressChange(jan.insz, "m1", ELSEWHERE, PartialDate(2020, 1, 1)))
    assert queries.list_statuses(ROUTER, 0, "").last_sequence == 1


@pytest.mark.parametrize("caller", [NR, CBSS, ADMIN, ONEM])
def test_status_listing_is_refused_when_caller_is_not_a_router(
    queries: RegistryQueries, caller
) -> None:
    with pytest.raises(PermissionDenied) as err:
        queries.list_statuses(caller, 0, "")
    assert err.value.reason == "NOT_AUTHORISED"


@pytest.mark.parametrize(
    ("size", "token", "reason"),
    [(-1, "", "INVALID_PAGE_SIZE"), (0, "not-a-token", "INVALID_PAGE_TOKEN")],
)
def test_status_listing_is_refused_when_page_is_malformed(
    queries: RegistryQueries, size: int, token: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        queries.list_statuses(ROUTER, size, token)
    assert err.value.reason == reason
