"""The registry's domain: persons, addresses, information types and mutation events.

Plain frozen dataclasses and enums, shared by the service rules, the storage mapping, the seeder
and the transport. Sex and number kind are the runtime's (`runtime.identifiers`), so that what a
number's digits say and what the register records are the same types.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime.identifiers import InszKind, Sex

__all__ = [
    "ALL_INFO_TYPES",
    "Address",
    "AddressPeriod",
    "CivilState",
    "DeathValues",
    "InfoType",
    "InszKind",
    "InszValues",
    "MutationEvent",
    "MutationKind",
    "MutationValues",
    "NameValues",
    "Outcome",
    "PartialDate",
    "PersonRecord",
    "PersonSummary",
    "PersonView",
    "Sex",
    "values_from_json",
    "values_to_json",
]


class InfoType(enum.Enum):
    """An information type of a person: what a read mask names and an authorisation may allow.

    The values are the top-level field names of `cbss.registry.v1.Person`.
    """

    IDENTITY = "identity"
    BIRTH = "birth"
    ADDRESS = "address"
    ADDRESS_HISTORY = "address_history"
    NATIONALITY = "nationality"
    CIVIL_STATUS = "civil_status"
    DEATH = "death"
    STATUS = "status"


ALL_INFO_TYPES: frozenset[InfoType] = frozenset(InfoType)


class CivilState(enum.Enum):
    """Civil state as the register records it."""

    SINGLE = "SINGLE"
    MARRIED = "MARRIED"
    WIDOWED = "WIDOWED"
    DIVORCED = "DIVORCED"
    SEPARATED = "SEPARATED"
    UNKNOWN = "UNKNOWN"


class MutationKind(enum.Enum):
    """What a mutation event records."""

    ADDRESS_CHANGED = "ADDRESS_CHANGED"
    DEATH_RECORDED = "DEATH_RECORDED"
    NAME_CHANGED = "NAME_CHANGED"
    INSZ_REPLACED = "INSZ_REPLACED"
    BIS_REGISTERED = "BIS_REGISTERED"


class Outcome(enum.Enum):
    """What a BIS registration did."""

    CREATED = "CREATED"
    EXISTING_PERSON = "EXISTING_PERSON"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date whose month and/or day may be unknown (0), as in INSZ numbers and google.type.Date.

    Holds whatever a caller sent; `runtime`-style validation happens in the service rules.
    """

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def of(cls, day: dt.date) -> PartialDate:
        return cls(day.year, day.month, day.day)

    @property
    def is_full(self) -> bool:
        return self.month != 0 and self.day != 0

    def to_date(self) -> dt.date | None:
        """The date when full and possible, else None."""
        if not self.is_full:
            return None
        try:
            return dt.date(self.year, self.month, self.day)
        except ValueError:
            return None

    def earliest(self) -> dt.date:
        """The first day this (valid) partial date can stand for."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def as_list(self) -> list[int]:
        return [self.year, self.month, self.day]


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address (Belgian or foreign)."""

    street: str
    house_number: str
    box: str
    postcode: str
    municipality: str
    country_code: str


@dataclass(frozen=True, slots=True)
class AddressPeriod:
    """An address and the days it was the person's: `start` to `end` included (None: current)."""

    address: Address
    start: dt.date
    end: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person as the register keeps it under one number (addresses are kept apart)."""

    insz: str
    kind: InszKind
    last_name: str
    first_names: tuple[str, ...]
    sex: Sex
    birth_date: PartialDate
    birth_place: str = ""
    birth_country: str = ""
    nationality: str = ""
    civil_state: CivilState = CivilState.UNKNOWN
    #: First day of the current name; None when it is the name at birth (or first registration).
    name_since: dt.date | None = None
    death_date: dt.date | None = None
    death_place: str = ""
    #: The person's current number when this one was replaced.
    replaced_by: str | None = None

    @property
    def deceased(self) -> bool:
        return self.death_date is not None

    @property
    def name(self) -> str:
        """Resource name `persons/{insz}` (personal data: never log it)."""
        return f"persons/{self.insz}"


@dataclass(frozen=True, slots=True)
class NumberStatus:
    """What ListPersonStatuses says of one number: enough for a router's person checks."""

    insz: str
    kind: InszKind
    deceased: bool
    #: The person's current number when this one was replaced.
    replaced_by: str | None


@dataclass(frozen=True)
class PersonView:
    """What GetPerson answers: the record and exactly the information types to show.

    `address`, `address_history` and `replaces` are loaded only when their type is shown.
    """

    record: PersonRecord
    types: frozenset[InfoType]
    address: AddressPeriod | None = None
    address_history: tuple[AddressPeriod, ...] = ()
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonSummary:
    """A search result: the identification data of a person."""

    insz: str
    last_name: str
    first_names: tuple[str, ...]
    birth_date: PartialDate
    sex: Sex
    deceased: bool


@dataclass(frozen=True)
class NameValues:
    """Names before or after a NAME_CHANGED event."""

    last_name: str
    first_names: tuple[str, ...]


@dataclass(frozen=True)
class DeathValues:
    """The death recorded by a DEATH_RECORDED event."""

    date: dt.date
    place: str


@dataclass(frozen=True)
class InszValues:
    """A number in an INSZ_REPLACED or BIS_REGISTERED event."""

    insz: str


MutationValues = Address | NameValues | DeathValues | InszValues | None


@dataclass(frozen=True)
class MutationEvent:
    """One entry of the register's gap-free event log."""

    sequence: int
    insz: str
    kind: MutationKind
    effective_date: dt.date
    recorded_at: dt.datetime
    before: MutationValues
    after: MutationValues
    #: SPIFFE URI of the party that made the change (kept for audit; not in the contract).
    recorded_by: str = ""


def values_to_json(values: MutationValues) -> dict[str, Any] | None:
    """A JSON-ready form of event values (stored in the event log)."""
    if values is None:
        return None
    if isinstance(values, Address):
        return {
            "address": {
                "street": values.street,
                "house_number": values.house_number,
                "box": values.box,
                "postcode": values.postcode,
                "municipality": values.municipality,
                "country_code": values.country_code,
            }
        }
    if isinstance(values, NameValues):
        return {"name": {"last_name": values.last_name, "first_names": list(values.first_names)}}
    if isinstance(values, DeathValues):
        return {"death": {"date": values.date.isoformat(), "place": values.place}}
    return {"insz": {"insz": values.insz}}


def values_from_json(data: Mapping[str, Any] | None) -> MutationValues:
    """The inverse of `values_to_json`."""
    if not data:
        return None
    if "address" in data:
        return Address(**data["address"])
    if "name" in data:
        name = data["name"]
        return NameValues(name["last_name"], tuple(name["first_names"]))
    if "death" in data:
        death = data["death"]
        return DeathValues(dt.date.fromisoformat(death["date"]), death["place"])
    return InszValues(data["insz"]["insz"])
