"""In-memory fakes of the registry's ports and test data builders, for service-layer tests.

No database, no network.

A `FakeRegistry` holds the state; each unit of work runs alone (a lock, like SQLite's writer)
on the live state and restores a snapshot when the block raises, so a refused change leaves
nothing behind — the property the tests check on the real database too.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    InszKind,
    MutationEvent,
    NumberStatus,
    PartialDate,
    PersonRecord,
    PersonSummary,
    Sex,
)
from registry.service.names import normalise_first_names, normalise_name
from registry.service.ports import IdempotencyRecord, SearchHit
from registry.service.tokens import Position, SearchFilters
from runtime.identifiers import make_insz
from runtime.identity import Caller, PartyKind

#: "Now" in these tests: 15 June 2025, noon in Brussels.
NOW = dt.datetime(2025, 6, 15, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 6, 15)

NR = Caller(PartyKind.INSTITUTION, "nr")
CBSS = Caller(PartyKind.INSTITUTION, "cbss")
ADMIN = Caller(PartyKind.ADMIN, "ops")
ONEM = Caller(PartyKind.INSTITUTION, "onem")
ROUTER = Caller(PartyKind.ROUTER, "cbss")

HOME = Address("Meir", "12", "3", "2000", "Antwerpen", "BE")
ELSEWHERE = Address("Rue Neuve", "3", "", "1000", "Bruxelles", "BE")


def nr_person(
    serial: int = 123, *, year: int = 1985, month: int = 7, day: int = 14, **changes: object
) -> PersonRecord:
    """A National Register person born on the given day (odd serial: a man)."""
    fields: dict[str, object] = {
        "insz": make_insz(birth_year=year, birth_month=month, birth_day=day, serial=serial),
        "kind": InszKind.NATIONAL_REGISTER,
        "last_name": "Peeters",
        "first_names": ("Jan",),
        "sex": Sex.MALE if serial % 2 else Sex.FEMALE,
        "birth_date": PartialDate(year, month, day),
        "birth_place": "Antwerpen",
        "birth_country": "BE",
        "nationality": "BE",
        "civil_state": CivilState.MARRIED,
    }
    fields.update(changes)
    return PersonRecord(**fields)  # type: ignore[arg-type]


def bis_person(serial: int = 1, **changes: object) -> PersonRecord:
    """A BIS person (sex known, male) born 30-09-1985."""
    fields: dict[str, object] = {
        "insz": make_insz(
            birth_year=1985, birth_month=9, birth_day=30, serial=serial, kind=InszKind.BIS_SEX_KNOWN
        ),
        "kind": InszKind.BIS_SEX_KNOWN,
        "birth_date": PartialDate(1985, 9, 30),
        "last_name": "Çelik",
        "first_names": ("Ahmet",),
        "nationality": "TR",
        "civil_state": CivilState.UNKNOWN,
    }
    fields.update(changes)
    return nr_person(**fields)  # type: ignore[arg-type]


def home_since(start: dt.date, address: Address = HOME) -> AddressPeriod:
    return AddressPeriod(address, start)


@dataclass
class State:
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    addresses: dict[str, list[AddressPeriod]] = field(default_factory=dict)
    events: list[MutationEvent] = field(default_factory=list)
    counter: int = 0
    keys: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)


class FakePersons:
    def __init__(self, state: State) -> None:
        self.s = state

    def get(self, insz: str) -> PersonRecord | None:
        return self.s.persons.get(insz)

    lock = get

    def get_with_replaced(self, insz: str) -> tuple[PersonRecord | None, list[str]]:
        return self.get(insz), self.replaces(insz)

    def get_many(self, inszs: Sequence[str]) -> dict[str, PersonRecord]:
        return {i: self.s.persons[i] for i in inszs if i in self.s.persons}

    def exists(self, insz: str) -> bool:
        return insz in self.s.persons

    def list_statuses(self, after: str, limit: int) -> list[NumberStatus]:
        numbers = sorted(i for i in self.s.persons if i > after)[:limit]
        return [
            NumberStatus(i, p.kind, p.deceased, p.replaced_by)
            for i in numbers
            for p in [self.s.persons[i]]
        ]

    def add(self, person: PersonRecord, addresses: Sequence[AddressPeriod] = ()) -> None:
        assert person.insz not in self.s.persons, "primary key"
        self.s.persons[person.insz] = person
        self.s.addresses.setdefault(person.insz, []).extend(addresses)

    def current_address(self, insz: str) -> AddressPeriod | None:
        return next((p for p in self.s.addresses.get(insz, []) if p.end is None), None)

    def address_on(self, insz: str, day: dt.date) -> AddressPeriod | None:
        return next((p for p in self.s.addresses.get(insz, []) if p.covers(day)), None)

    def address_history(self, insz: str) -> list[AddressPeriod]:
        return sorted(self.s.addresses.get(insz, []), key=lambda p: p.start)

    def replaces(self, insz: str) -> list[str]:
        return sorted(i for i, p in self.s.persons.items() if p.replaced_by == insz)

    def end_current_address(self, insz: str, end: dt.date) -> None:
        self.s.addresses[insz] = [
            replace(p, end=end) if p.end is None else p for p in self.s.addresses.get(insz, [])
        ]

    def add_address(self, insz: str, period: AddressPeriod) -> None:
        self.s.addresses.setdefault(insz, []).append(period)

    def set_name(
        self, insz: str, last_name: str, first_names: tuple[str, ...], since: dt.date
    ) -> None:
        self.s.persons[insz] = replace(
            self.s.persons[insz], last_name=last_name, first_names=first_names, name_since=since
        )

    def set_death(self, insz: str, date: dt.date, place: str) -> None:
        self.s.persons[insz] = replace(self.s.persons[insz], death_date=date, death_place=place)

    def replace(self, old: str, new: str, new_kind: InszKind) -> None:
        assert new not in self.s.persons, "primary key"
        person = self.s.persons[old]
        self.s.persons[new] = replace(person, insz=new, kind=new_kind, replaced_by=None)
        self.s.addresses[new] = self.s.addresses.pop(old, [])
        for insz, p in list(self.s.persons.items()):
            if p.replaced_by == old:
                self.s.persons[insz] = replace(p, replaced_by=new)
        self.s.persons[old] = replace(person, replaced_by=new)

    def numbers_with_prefix(self, prefix: str) -> list[str]:
        return [i for i in self.s.persons if i.startswith(prefix)]

    def find_likely(
        self, last_name_norm: str, first_names_norm: str, birth_date: PartialDate
    ) -> str | None:
        found = sorted(
            p.insz
            for p in self.s.persons.values()
            if p.replaced_by is None
            and normalise_name(p.last_name) == last_name_norm
            and normalise_first_names(p.first_names) == first_names_norm
            and p.birth_date == birth_date
        )
        return found[0] if found else None

    def search(self, filters: SearchFilters, after: Position | None, limit: int) -> list[SearchHit]:
        hits = []
        for p in self.s.persons.values():
            key = (normalise_name(p.last_name), normalise_first_names(p.first_names), p.insz)
            if p.replaced_by is not None or not key[0].startswith(filters.last_name):
                continue
            if filters.first_name and f" {filters.first_name}" not in f" {key[1]}":
                continue
            b, want = p.birth_date, filters.birth_date
            if want and (
                b.year != want.year
                or (want.month and b.month != want.month)
                or (want.day and b.day != want.day)
            ):
                continue
            if filters.birth_year_from and b.year < filters.birth_year_from:
                continue
            if filters.birth_year_to and b.year > filters.birth_year_to:
                continue
            if after is not None and key <= after:
                continue
            summary = PersonSummary(p.insz, p.last_name, p.first_names, b, p.sex, p.deceased)
            hits.append(SearchHit(key, summary))
        return sorted(hits, key=lambda h: h.position)[:limit]


class FakeEvents:
    def __init__(self, state: State) -> None:
        self.s = state

    def lock(self) -> None:
        pass

    def next_sequence(self) -> int:
        self.s.counter += 1
        return self.s.counter

    def last_sequence(self) -> int:
        return self.s.counter

    def add(self, event: MutationEvent) -> None:
        self.s.events.append(event)

    def get(self, sequence: int) -> MutationEvent | None:
        return next((e for e in self.s.events if e.sequence == sequence), None)

    def list(self, after: int, upto: int, limit: int) -> list[MutationEvent]:
        return [e for e in self.s.events if after < e.sequence <= upto][:limit]


class FakeKeys:
    def __init__(self, state: State) -> None:
        self.s = state

    def get(self, caller: str, request_id: str) -> IdempotencyRecord | None:
        return self.s.keys.get((caller, request_id))

    def add(self, record: IdempotencyRecord) -> None:
        assert (record.caller, record.request_id) not in self.s.keys, "primary key"
        self.s.keys[(record.caller, record.request_id)] = record


class FakeUnit:
    def __init__(self, state: State) -> None:
        self.persons = FakePersons(state)
        self.events = FakeEvents(state)
        self.idempotency = FakeKeys(state)


class FakeRegistry:
    """The state and the unit-of-work factory the service classes take."""

    def __init__(self) -> None:
        self.state = State()
        self._lock = threading.RLock()

    @contextmanager
    def unit(self) -> Iterator[FakeUnit]:
        with self._lock:
            snapshot = copy.deepcopy(self.state)
            try:
                yield FakeUnit(self.state)
            except BaseException:
                self.state.__dict__.update(snapshot.__dict__)
                raise

    def add(self, person: PersonRecord, *addresses: AddressPeriod) -> PersonRecord:
        with self.unit() as unit:
            unit.persons.add(person, addresses)
        return person

    def counts(self) -> tuple[int, int, int, int]:
        """persons, address periods, events, idempotency keys."""
        s = self.state
        return (
            len(s.persons),
            sum(len(v) for v in s.addresses.values()),
            len(s.events),
            len(s.keys),
        )
