"""A deterministic synthetic population of the National Register and the BIS register.

`generate(count, seed)` yields the fixed persons of `FIXED_PERSONS` (used by the docs and the
tests), then `count` invented persons drawn from `random.Random(seed)`: the same (seed, count)
gives the same persons, numbers and addresses on every machine and database. It reads no clock:
the population is as of `REFERENCE_DATE`.

Shape (approximate shares of the generated persons):
- births 1925-2024 (both INSZ century rules), regions Flanders 58 %, Wallonia 32 %, Brussels
  10 %, names by origin (Flemish, Walloon, and the main foreign-origin communities; accents kept:
  Lefèvre, Noël, Çelik, Wiśniewski);
- 2 % BIS persons (60 % sex known: month + 40; 40 % sex unknown: month + 20; 20 % of them with an
  unknown day or month), mostly foreign nationals, 40 % without an address, 30 % abroad;
- 0.1 % National Register numbers with an unknown day (day 00);
- 3 % deceased; 0.5 % with a replaced earlier number (half a former BIS number, half a
  National Register number with a corrected birth day), whose row keeps `replaced_by`;
- 30 % with one or two earlier addresses (an address history).
Numbers come from `runtime.identifiers.make_insz` with the lowest free serial of the right parity
per birth date, so they are valid and unique, and never collide with the fixed persons.

No mutation events are generated: the population is the register's initial state, not changes
to it (the event log starts empty, its first sequence number is 1).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from registry.seed import data
from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    PartialDate,
    PersonRecord,
    Sex,
)
from registry.service.regions import Region
from runtime.identifiers import IdentifierError, InszKind, make_insz

#: Bump when the generator changes what a (seed, count) produces.
GENERATOR_VERSION = 1
#: The day the synthetic population describes (no dates after it).
REFERENCE_DATE = dt.date(2025, 1, 1)
FIRST_YEAR, LAST_YEAR, MODE_YEAR = 1925, 2024, 1975

BIS_SHARE = 0.02
DECEASED_SHARE = 0.03
REPLACED_SHARE = 0.005
NR_UNKNOWN_DAY_SHARE = 0.001
HISTORY_SHARE = 0.30


@dataclass(frozen=True)
class SeedPerson:
    """A row of `person` and its address periods."""

    record: PersonRecord
    addresses: tuple[AddressPeriod, ...] = ()


# -- the fixed persons ----------------------------------------------------------------------------

FIXED_MAN = "85071412330"  # man, 14-07-1985, serial 123
FIXED_WOMAN = "03020100274"  # woman, 01-02-2003, serial 002
FIXED_BIS = "85493000163"  # BIS, sex known (male), 30-09-1985, serial 001
FIXED_WOMAN_2006 = "06070500252"  # woman, 05-07-2006, serial 002
FIXED_BIS_UNKNOWN = "72230000222"  # BIS, sex unknown, 03-1972 (day unknown), serial 002
FIXED_DECEASED = make_insz(birth_year=1931, birth_month=3, birth_day=12, serial=4)
FIXED_REPLACED = make_insz(birth_year=1990, birth_month=5, birth_day=20, serial=45)
FIXED_REPLACEMENT = make_insz(birth_year=1990, birth_month=5, birth_day=21, serial=45)


def _be(street: str, number: str, postcode: str, town: str, box: str = "") -> Address:
    return Address(street, number, box, postcode, town, "BE")


def _fixed() -> tuple[SeedPerson, ...]:
    nr, bis_known, bis_unknown = (
        InszKind.NATIONAL_REGISTER,
        InszKind.BIS_SEX_KNOWN,
        InszKind.BIS_SEX_UNKNOWN,
    )
    moved = dt.date(2015, 3, 1)
    thomas = PersonRecord(
        FIXED_REPLACEMENT,
        nr,
        "Vandenbroucke",
        ("Thomas",),
        Sex.MALE,
        PartialDate(1990, 5, 21),
        "Brugge",
        "BE",
        "BE",
        CivilState.MARRIED,
    )
    return (
        SeedPerson(
            PersonRecord(
                FIXED_MAN,
                nr,
                "Peeters",
                ("Jan", "Frans"),
                Sex.MALE,
                PartialDate(1985, 7, 14),
                "Antwerpen",
                "BE",
                "BE",
                CivilState.MARRIED,
            ),
            (
                AddressPeriod(
                    _be("Kerkstraat", "5", "2018", "Antwerpen"),
                    dt.date(2009, 6, 1),
                    moved - dt.timedelta(days=1),
                ),
                AddressPeriod(_be("Meir", "12", "2000", "Antwerpen", "3"), moved),
            ),
        ),
        SeedPerson(
            PersonRecord(
                FIXED_WOMAN,
                nr,
                "Dubois",
                ("Marie", "Noëlle"),
                Sex.FEMALE,
                PartialDate(2003, 2, 1),
                "Liège",
                "BE",
                "BE",
                CivilState.SINGLE,
            ),
            (AddressPeriod(_be("Rue de la Station", "14", "4000", "Liège"), dt.date(2021, 9, 1)),),
        ),
        SeedPerson(
            PersonRecord(
                FIXED_BIS,
                bis_known,
                "Çelik",
                ("Ahmet",),
                Sex.MALE,
                PartialDate(1985, 9, 30),
                "İstanbul",
                "TR",
                "TR",
                CivilState.UNKNOWN,
            ),
            (AddressPeriod(_be("Rue Neuve", "3", "1000", "Bruxelles", "2"), dt.date(2019, 5, 1)),),
        ),
        SeedPerson(
            PersonRecord(
                FIXED_WOMAN_2006,
                nr,
                "Janssens",
                ("Lotte",),
                Sex.FEMALE,
                PartialDate(2006, 7, 5),
                "Gent",
                "BE",
                "BE",
                CivilState.SINGLE,
            ),
            (AddressPeriod(_be("Kouter", "7", "9000", "Gent"), dt.date(2006, 7, 5)),),
        ),
        SeedPerson(
            PersonRecord(
                FIXED_BIS_UNKNOWN,
                bis_unknown,
                "Mukendi",
                ("Divine",),
                Sex.UNKNOWN,
                PartialDate(1972, 3, 0),
                "Kinshasa",
                "CD",
                "CD",
                CivilState.UNKNOWN,
            ),
        ),
        SeedPerson(
            PersonRecord(
                FIXED_DECEASED,
                nr,
                "Lambert",
                ("Lucienne",),
                Sex.FEMALE,
                PartialDate(1931, 3, 12),
                "Namur",
                "BE",
                "BE",
                CivilState.WIDOWED,
                death_date=dt.date(2019, 11, 2),
                death_place="Namur",
            ),
            (AddressPeriod(_be("Rue de Namur", "40", "5000", "Namur"), dt.date(1968, 4, 1)),),
        ),
        SeedPerson(
            replace(
                thomas,
                insz=FIXED_REPLACED,
                birth_date=PartialDate(1990, 5, 20),
                replaced_by=FIXED_REPLACEMENT,
            )
        ),
        SeedPerson(
            thomas, (AddressPeriod(_be("Markt", "1", "8000", "Brugge"), dt.date(2016, 2, 1)),)
        ),
    )


FIXED_PERSONS: tuple[SeedPerson, ...] = _fixed()


# -- numbers --------------------------------------------------------------------------------------


class SerialAllocator:
    """The lowest free serial per birth date, kind and parity; never one of `reserved`."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._reserved = set(reserved)
        self._next: dict[tuple[int, int, int, InszKind, Sex], int] = {}

    def allocate(self, birth: PartialDate, kind: InszKind, sex: Sex) -> str | None:
        parity = Sex.UNKNOWN if kind is InszKind.BIS_SEX_UNKNOWN else sex
        key = (birth.year, birth.month, birth.day, kind, parity)
        step = 1 if parity is Sex.UNKNOWN else 2
        serial = self._next.get(key, 2 if parity is Sex.FEMALE else 1)
        while serial <= 998:
            number = make_insz(
                birth_year=birth.year,
                birth_month=birth.month,
                birth_day=birth.day,
                serial=serial,
                kind=kind,
            )
            serial += step
            if number not in self._reserved:
                self._next[key] = serial
                return number
        self._next[key] = serial
        return None


# -- the generator --------------------------------------------------------------------------------


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        reserved = [p.record.insz for p in FIXED_PERSONS]
        self.serials = SerialAllocator(reserved)
        self.resident_nat = _weighted(data.RESIDENT_NATIONALITIES)
        self.bis_nat = _weighted(data.BIS_NATIONALITIES)

    def persons(self) -> Iterator[SeedPerson]:
        rng = self.rng
        bis = rng.random() < BIS_SHARE
        region = rng.choices(_REGIONS, _REGION_WEIGHTS)[0]
        if bis:
            nationality = rng.choices(*self.bis_nat)[0]
        elif rng.random() < 0.9:
            nationality = "BE"
        else:
            nationality = rng.choices(*self.resident_nat)[0]
        origin = self._origin(region, nationality)
        male = rng.random() < 0.5
        if bis:
            kind = InszKind.BIS_SEX_KNOWN if rng.random() < 0.6 else InszKind.BIS_SEX_UNKNOWN
            sex = (
                (Sex.MALE if male else Sex.FEMALE)
                if kind is InszKind.BIS_SEX_KNOWN
                else Sex.UNKNOWN
            )
        else:
            kind, sex = InszKind.NATIONAL_REGISTER, Sex.MALE if male else Sex.FEMALE
        birth, insz = self._number(kind, sex, bis)
        males, females = data.FIRST_NAMES[origin]
        pool = males if male else females
        firsts = tuple(dict.fromkeys(rng.choice(pool) for _ in range(_first_name_count(rng))))
        last = rng.choice(data.LAST_NAMES[origin])
        born_abroad = nationality != "BE" and rng.random() < 0.7
        if born_abroad and nationality in data.FOREIGN:
            birth_place, birth_country = rng.choice(data.FOREIGN[nationality][0])[1], nationality
        else:
            birth_place, birth_country = rng.choice(data.MUNICIPALITIES[region])[1], "BE"
        death = self._death(birth) if rng.random() < DECEASED_SHARE else None
        record = PersonRecord(
            insz=insz,
            kind=kind,
            last_name=last,
            first_names=firsts,
            sex=sex,
            birth_date=birth,
            birth_place=birth_place,
            birth_country=birth_country,
            nationality=nationality,
            civil_state=self._civil_state(birth, bis),
            death_date=death,
            death_place=rng.choice(data.MUNICIPALITIES[region])[1] if death else "",
        )
        addresses = self._addresses(record, region, bis)
        if rng.random() < REPLACED_SHARE:
            old = self._former_number(record)
            if old is not None:
                yield SeedPerson(replace(record, insz=old[0], kind=old[1], replaced_by=insz))
        yield SeedPerson(record, addresses)

    def _origin(self, region: Region, nationality: str) -> str:
        if nationality != "BE":
            return data.ORIGIN_OF_NATIONALITY.get(nationality, "fr")
        rng = self.rng
        if rng.random() < 0.12:
            return rng.choice(data.HERITAGE_ORIGINS)
        if region is Region.FLANDERS:
            return "nl" if rng.random() < 0.95 else "fr"
        if region is Region.WALLONIA:
            return "fr" if rng.random() < 0.95 else "nl"
        return "fr" if rng.random() < 0.75 else "nl"

    def _number(self, kind: InszKind, sex: Sex, bis: bool) -> tuple[PartialDate, str]:
        rng = self.rng
        for _ in range(100):
            year = min(int(rng.triangular(FIRST_YEAR, LAST_YEAR + 1, MODE_YEAR)), LAST_YEAR)
            month = rng.randint(1, 12)
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            unknown = rng.random()
            if bis and unknown < 0.08:
                month = day = 0
            elif (bis and unknown < 0.2) or (not bis and unknown < NR_UNKNOWN_DAY_SHARE):
                day = 0
            birth = PartialDate(year, month, day)
            insz = self.serials.allocate(birth, kind, sex)
            if insz is not None:
                return birth, insz
        raise RuntimeError("no free serial found for a synthetic person")

    def _former_number(self, person: PersonRecord) -> tuple[str, InszKind] | None:
        """An earlier number of the person: a BIS number, or an NR number with another day."""
        birth = person.birth_date
        if person.kind is InszKind.NATIONAL_REGISTER and self.rng.random() < 0.5:
            kind, sex = InszKind.BIS_SEX_KNOWN, person.sex
        elif person.kind is InszKind.NATIONAL_REGISTER and birth.day:
            kind, sex = person.kind, person.sex
            last_day = calendar.monthrange(birth.year, birth.month)[1]
            birth = replace(birth, day=birth.day % last_day + 1)
        else:
            return None
        try:
            number = self.serials.allocate(birth, kind, sex)
        except IdentifierError:
            return None
        return (number, kind) if number else None

    def _death(self, birth: PartialDate) -> dt.date | None:
        start = max(birth.earliest(), dt.date(1995, 1, 1))
        span = (REFERENCE_DATE - start).days
        if span <= 1:
            return None
        return start + dt.timedelta(days=self.rng.randrange(1, span))

    def _civil_state(self, birth: PartialDate, bis: bool) -> CivilState:
        rng = self.rng
        if bis and rng.random() < 0.7:
            return CivilState.UNKNOWN
        age = REFERENCE_DATE.year - birth.year
        if age < 18:
            return CivilState.SINGLE
        widowed = 0.02 if age < 60 else 0.25
        return rng.choices(_CIVIL, (0.34, 0.41, widowed, 0.12, 0.03))[0]

    def _addresses(
        self, person: PersonRecord, region: Region, bis: bool
    ) -> tuple[AddressPeriod, ...]:
        rng = self.rng
        abroad = False
        if bis:
            where = rng.random()
            if where < 0.4:
                return ()
            abroad = where < 0.7 and person.nationality in data.FOREIGN
        born = person.birth_date.earliest()
        last_day = (person.death_date or REFERENCE_DATE) - dt.timedelta(days=1)
        first_day = max(born, dt.date(1975, 1, 1))
        if last_day <= first_day:
            return ()
        since = first_day + dt.timedelta(days=rng.randrange((last_day - first_day).days + 1))
        current = self._foreign(person.nationality) if abroad else self._belgian(region)
        periods = [AddressPeriod(current, since)]
        if rng.random() < HISTORY_SHARE:
            end = since
            for _ in range(rng.randint(1, 2)):
                start = end - dt.timedelta(days=rng.randint(365, 365 * 8))
                if start < born:
                    break
                periods.append(
                    AddressPeriod(self._belgian(region), start, end - dt.timedelta(days=1))
                )
                end = start
        return tuple(reversed(periods))

    def _belgian(self, region: Region) -> Address:
        rng = self.rng
        if region is Region.BRUSSELS:
            postcode, french, dutch = rng.choice(data.BRUSSELS)
            fr_street, nl_street = rng.choice(data.STREETS_BRUSSELS)
            in_dutch = rng.random() < 0.2
            street, town = (nl_street, dutch) if in_dutch else (fr_street, french)
        else:
            postcode, town = rng.choice(data.MUNICIPALITIES[region])
            streets = data.STREETS_NL if region is Region.FLANDERS else data.STREETS_FR
            street = rng.choice(streets)
        return Address(street, self._house_number(), self._box(), postcode, town, "BE")

    def _foreign(self, country: str) -> Address:
        towns, streets = data.FOREIGN[country]
        postcode, town = self.rng.choice(towns)
        street = self.rng.choice(streets)
        return Address(street, self._house_number(), "", postcode, town, country)

    def _house_number(self) -> str:
        number = str(self.rng.randint(1, 250))
        return number + "AB"[self.rng.randrange(2)] if self.rng.random() < 0.08 else number

    def _box(self) -> str:
        if self.rng.random() >= 0.15:
            return ""
        return str(self.rng.randint(1, 30))


_REGIONS = (Region.FLANDERS, Region.WALLONIA, Region.BRUSSELS)
_REGION_WEIGHTS = (58, 32, 10)
_CIVIL = (
    CivilState.SINGLE,
    CivilState.MARRIED,
    CivilState.WIDOWED,
    CivilState.DIVORCED,
    CivilState.SEPARATED,
)


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _first_name_count(rng: random.Random) -> int:
    draw = rng.random()
    return 1 if draw < 0.45 else 2 if draw < 0.85 else 3


def generate(count: int, seed: int) -> Iterator[SeedPerson]:
    """The fixed persons, then `count` generated persons (a replaced number adds a row)."""
    yield from FIXED_PERSONS
    generator = _Generator(seed)
    for _ in range(count):
        yield from generator.persons()
