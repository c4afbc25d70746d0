"""RegistryResearchService: the population's demographic variables on a day, in bulk, for the
research data warehouse's trusted third party, through the router only (runtime.research_access).

Only what research needs: age in whole years on the day (an unknown birth month counts as July,
an unknown day as the 1st; no age when the birth year is unknown), registered sex, and the
postcode and country of the address on the day. Never a name, an address line, a birth date or a
nationality. The population: every number that was not replaced, of a person born on or before
the day and not deceased on or before it.

Read page by page (keyset on the INSZ), each page its own short read transaction, so that a slow
consumer never holds the register's database while the stream waits on the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import Consultation
from runtime.research_access import BATCH, FIRST_YEAR, LAST_YEAR, require_research_extraction


@dataclass(frozen=True, slots=True)
class RegisteredPerson:
    """A number of the register as the extraction reads it (before the day's filter)."""

    insz: str
    sex: str
    birth_year: int
    birth_month: int
    birth_day: int
    death_date: dt.date | None
    #: The address on the day: postcode and country ("" without one).
    postcode: str
    country_code: str


@dataclass(frozen=True, slots=True)
class ResearchPerson:
    insz: str
    age: int | None
    sex: str
    postcode: str
    country_code: str


class PopulationSource(Protocol):
    def page(self, day: dt.date, after: str, limit: int) -> list[RegisteredPerson]:
        """Numbers not replaced, after `after` by INSZ, with their address on `day`."""
        ...


def age_on(person: RegisteredPerson, day: dt.date) -> int | None:
    """Whole years on `day`; None when the birth year is unknown."""
    if not person.birth_year:
        return None
    month, dom = person.birth_month or 7, person.birth_day or 1
    return day.year - person.birth_year - ((day.month, day.day) < (month, dom))


def living_on(person: RegisteredPerson, day: dt.date) -> bool:
    if person.death_date is not None and person.death_date <= day:
        return False
    if not person.birth_year:
        return True
    born = (person.birth_year, person.birth_month or 1, person.birth_day or 1)
    return born <= (day.year, day.month, day.day)


class RegistryResearch:
    """The rules of RegistryResearchService."""

    def __init__(self, source: PopulationSource, batch: int = BATCH) -> None:
        self._source, self._batch = source, batch

    def extract_demographics(
        self, consultation: Consultation | None, day: dt.date | None
    ) -> Iterator[list[ResearchPerson]]:
        """Checked at once (the TTP, a research context, a day), then the pages."""
        require_research_extraction(consultation)
        if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise InvalidArgument.for_fields(
                [FieldViolation("day", "a full date, 2000 to 2100", "INVALID_REFERENCE_DATE")]
            )
        return self._pages(day)

    def _pages(self, day: dt.date) -> Iterator[list[ResearchPerson]]:
        after = ""
        while True:
            page = self._source.page(day, after, self._batch)
            found = [
                ResearchPerson(p.insz, age_on(p, day), p.sex, p.postcode, p.country_code)
                for p in page
                if living_on(p, day)
            ]
            if found:
                yield found
            if len(page) < self._batch:
                return
            after = page[-1].insz
