"""The holders' research extractions: who may extract, which quarter, and the register's
demographic variables (age on the day, who is living)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.service.research import RegisteredPerson, RegistryResearch, age_on, living_on
from runtime.errors import InvalidArgument, PermissionDenied
from runtime.identity import Caller, Consultation, PartyKind
from runtime.research_access import quarter_days, require_research_extraction

ROUTER = Caller(PartyKind.ROUTER, "cbss")


def _consultation(requester: Caller, legal_context: str = "research.labour-market") -> Consultation:
    return Consultation(ROUTER, requester, legal_context, "ticket", "none")


def test_only_the_ttp_under_a_research_context_may_extract() -> None:
    require_research_extraction(_consultation(Caller(PartyKind.INSTITUTION, "cbss-ttp")))
    for consultation in (
        None,
        _consultation(Caller(PartyKind.INSTITUTION, "onem")),
        _consultation(Caller(PartyKind.INSTITUTION, "cbss-dwh")),
        _consultation(Caller(PartyKind.INSTITUTION, "cbss-ttp"), "unemployment.control"),
        _consultation(Caller(PartyKind.ADMIN, "cbss-ttp")),
    ):
        with pytest.raises(PermissionDenied) as err:
            require_research_extraction(consultation)
        assert err.value.reason == "NOT_AUTHORISED"


@given(st.integers(2000, 2100), st.integers(1, 4))
def test_a_quarter_has_its_three_months(year: int, quarter: int) -> None:
    first, last = quarter_days(year, quarter)
    assert first.day == 1 and first.month == 3 * quarter - 2
    assert (last + dt.timedelta(days=1)).day == 1 and last.month == 3 * quarter


@given(st.integers(-10, 3000), st.integers(-5, 10))
def test_a_quarter_outside_the_range_is_refused(year: int, quarter: int) -> None:
    if 2000 <= year <= 2100 and 1 <= quarter <= 4:
        return
    with pytest.raises(InvalidArgument) as err:
        quarter_days(year, quarter)
    assert err.value.reason == "INVALID_QUARTER"


def _person(year: int, month: int = 0, day: int = 0, died: dt.date | None = None):  # noqa: ANN202
    return RegisteredPerson("85071412330", "MALE", year, month, day, died, "1000", "BE")


def test_age_counts_whole_years_and_unknown_parts_as_mid_year() -> None:
    day = dt.date(2025, 6, 30)
    assert age_on(_person(1985, 7, 14), day) == 39
    assert age_on(_person(1985, 6, 30), day) == 40
    assert age_on(_person(1985), day) == 39  # counted from 1 July
    assert age_on(_person(0), day) is None


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.dates(dt.date(2000, 1, 1)))
def test_age_is_never_negative_for_a_person_living_on_the_day(born: dt.date, day: dt.date) -> None:
    person = _person(born.year, born.month, born.day)
    if living_on(person, day):
        assert age_on(person, day) >= 0
    else:
        assert born > day


def test_the_deceased_are_not_living_from_their_death() -> None:
    person = _person(1950, 1, 1, died=dt.date(2025, 5, 1))
    assert living_on(person, dt.date(2025, 4, 30))
    assert not living_on(person, dt.date(2025, 5, 1))


class _Population:
    def __init__(self, people: list[RegisteredPerson]) -> None:
        self.people = people

    def page(self, day: dt.date, after: str, limit: int) -> list[RegisteredPerson]:
        return [p for p in self.people if p.insz > after][:limit]


def test_the_extraction_pages_through_the_register_and_leaves_out_those_not_living() -> None:
    people = [
        RegisteredPerson(f"{i:011d}", "FEMALE", 1990, 1, 1, None, "9000", "BE") for i in range(5)
    ]
    people[2] = RegisteredPerson(people[2].insz, "MALE", 1990, 1, 1, dt.date(2020, 1, 1), "", "")
    research = RegistryResearch(_Population(people), batch=2)
    consultation = _consultation(Caller(PartyKind.INSTITUTION, "cbss-ttp"))
    pages = list(research.extract_demographics(consultation, dt.date(2025, 6, 30)))
    assert [[p.insz for p in page] for page in pages] == [
        [people[0].insz, people[1].insz],
        [people[3].insz],
        [people[4].insz],
    ]
    assert pages[0][0].age == 35 and pages[0][0].postcode == "9000"
    with pytest.raises(InvalidArgument):
        research.extract_demographics(consultation, None)
    with pytest.raises(PermissionDenied):
        research.extract_demographics(None, dt.date(2025, 6, 30))
