"""BIS number allocation rules (Royal Decree of 8 February 1991, as the domain brief gives them).

A BIS number has the INSZ layout with the birth month shifted: +40 when the sex is known, +20
when it is unknown (a month of 0, unknown, becomes 40 or 20); the day may be 00 when unknown.
The serial is the lowest one never used for that birth date (with offset) in the same century:
odd for men (001-997), even for women (002-998), any (001-998) when the sex is unknown, so that a
number's parity keeps its meaning. Numbers are never reused: the register never deletes a
person, so the lowest unused serial is also a never-issued one, and the database's primary key
refuses a number twice (a concurrent allocation retries). When no serial is left the
registration fails with FAILED_PRECONDITION `BIS_SERIALS_EXHAUSTED`: the decree's overflow rules
(placeholder dates) are not implemented.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from registry.service.model import PartialDate
from runtime.identifiers import InszKind, Sex, make_insz, parse_insz

_MALE = range(1, 998, 2)
_FEMALE = range(2, 999, 2)
_ANY = range(1, 999)


def bis_kind(sex: Sex) -> InszKind:
    """+40 numbers when the sex is known, +20 when it is not."""
    return InszKind.BIS_SEX_UNKNOWN if sex is Sex.UNKNOWN else InszKind.BIS_SEX_KNOWN


def serials_for(sex: Sex) -> range:
    """The serials a BIS number for this sex may use, in allocation order."""
    if sex is Sex.MALE:
        return _MALE
    if sex is Sex.FEMALE:
        return _FEMALE
    return _ANY


def number_prefix(birth_date: PartialDate, sex: Sex) -> str:
    """The 6 leading digits `YYMMDD` of the BIS numbers for this birth date and sex."""
    offset = 20 if bis_kind(sex) is InszKind.BIS_SEX_UNKNOWN else 40
    return f"{birth_date.year % 100:02d}{birth_date.month + offset:02d}{birth_date.day:02d}"


def used_serials(numbers: Iterable[str], birth_year: int) -> set[int]:
    """Serials taken among numbers sharing a prefix: only those of the same century count
    (1905 and 2005 share `05…` but their check digits differ, so their numbers are distinct)."""
    used = set()
    for number in numbers:
        parsed = parse_insz(number)
        if parsed.birth_year == birth_year:
            used.add(parsed.serial)
    return used


def next_free_serial(used: Collection[int], sex: Sex) -> int | None:
    """The lowest allowed serial not in `used`; None when all are taken."""
    for serial in serials_for(sex):
        if serial not in used:
            return serial
    return None


def bis_number(birth_date: PartialDate, sex: Sex, serial: int) -> str:
    """The BIS number for a birth date, sex and serial (runtime.identifiers does the check)."""
    return make_insz(
        birth_year=birth_date.year,
        birth_month=birth_date.month,
        birth_day=birth_date.day,
        serial=serial,
        kind=bis_kind(sex),
    )
