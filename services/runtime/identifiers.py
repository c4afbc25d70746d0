"""Validators for Belgian identifiers: INSZ/NISS, KBO/BCE enterprise numbers, ONSS numbers.

This is the one place in the project where these rules live; every service, seeder and CLI calls
it instead of re-implementing a check. Standard library only, so that it can be imported anywhere
(no grpc, no database).

Strict parsers (`parse_*`) take the string a caller sent and either return a value object or raise
`IdentifierError` with an UPPER_SNAKE `reason`. Only ASCII digits count as digits: `str.isdigit`
also accepts e.g. Arabic-Indic or fullwidth digits, which `int()` would silently convert, so a
number could be stored in a form no other system recognises. Error messages never contain the
number itself (it is personal data for an INSZ), and nothing here logs.

The `make_*` builders produce valid numbers for seeders, tests and BIS allocation.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

__all__ = [
    "EnterpriseNumber",
    "IdentifierError",
    "Insz",
    "InszKind",
    "OnssNumber",
    "Sex",
    "insz_check_digits",
    "make_enterprise_number",
    "make_insz",
    "make_onss_number",
    "normalize_insz",
    "parse_enterprise_number",
    "parse_insz",
    "parse_onss_number",
]


class IdentifierError(ValueError):
    """An invalid identifier.

    `reason` is an UPPER_SNAKE machine-readable code; `description` a short English explanation
    that is safe to show to the caller because it never echoes the number.
    """

    reason: str
    description: str

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(f"{reason}: {description}")
        self.reason = reason
        self.description = description


# re.ASCII keeps `\d`-like classes honest; the explicit [0-9] is what actually matters.
def _digits(count: int) -> re.Pattern[str]:
    return re.compile(f"[0-9]{{{count}}}", re.ASCII)


def _require_str(value: object, reason: str, description: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(reason, description)
    return value


# --------------------------------------------------------------------------------------------------
# INSZ / NISS
# --------------------------------------------------------------------------------------------------

_INSZ = _digits(11)
_BASE9 = _digits(9)

# For births from 1 January 2000 the check is computed on "2" followed by the 9 digits. Because
# 2_000_000_000 mod 97 == 68 (not 0), the two rules never give the same check digits, so at most
# one rule matches and the match tells the century.
_AFTER_1999_PREFIX = 2_000_000_000

# BIS numbers shift the month: +20 when the sex is unknown, +40 when it is known.
_BIS_UNKNOWN_SEX_OFFSET = 20
_BIS_KNOWN_SEX_OFFSET = 40


class InszKind(enum.Enum):
    """Which register issued the number, as encoded in the month digits."""

    NATIONAL_REGISTER = "NATIONAL_REGISTER"
    BIS_SEX_KNOWN = "BIS_SEX_KNOWN"
    BIS_SEX_UNKNOWN = "BIS_SEX_UNKNOWN"


class Sex(enum.Enum):
    """Sex as encoded by the parity of the serial (odd = male); unknown for some BIS numbers."""

    MALE = "MALE"
    FEMALE = "FEMALE"
    UNKNOWN = "UNKNOWN"


_MONTH_OFFSET = {
    InszKind.NATIONAL_REGISTER: 0,
    InszKind.BIS_SEX_UNKNOWN: _BIS_UNKNOWN_SEX_OFFSET,
    InszKind.BIS_SEX_KNOWN: _BIS_KNOWN_SEX_OFFSET,
}


@dataclass(frozen=True)
class Insz:
    """A valid INSZ/NISS (National Register or BIS number) and what its digits say."""

    value: str  # 11 bare ASCII digits, the canonical form
    kind: InszKind
    sex: Sex
    birth_year: int  # full year, e.g. 1985 or 2003
    birth_month: int  # 1-12, 0 = unknown
    birth_day: int  # 1-31, 0 = unknown
    serial: int
    born_after_1999: bool  # the check digits matched the rule for births from 1 January 2000

    @property
    def is_bis(self) -> bool:
        return self.kind is not InszKind.NATIONAL_REGISTER

    @property
    def birth_date(self) -> dt.date | None:
        """The birth date, or None when the month or the day is unknown."""
        if self.birth_month == 0 or self.birth_day == 0:
            return None
        return dt.date(self.birth_year, self.birth_month, self.birth_day)

    def formatted(self) -> str:
        """The printed form `YY.MM.DD-SSS.CC`."""
        v = self.value
        return f"{v[0:2]}.{v[2:4]}.{v[4:6]}-{v[6:9]}.{v[9:11]}"


def _insz_check(base: int, born_after_1999: bool) -> int:
    if born_after_1999:
        base += _AFTER_1999_PREFIX
    return 97 - base % 97  # 1..97: never 0, so "00" is never a valid check


def insz_check_digits(base9: str, *, born_after_1999: bool) -> str:
    """The two check digits of the 9 leading digits `YYMMDDSSS`, for the given century rule."""
    base9 = _require_str(base9, "INSZ_MALFORMED", "The INSZ base must be 9 digits.")
    if not _BASE9.fullmatch(base9):
        raise IdentifierError("INSZ_MALFORMED", "The INSZ base must be 9 digits.")
    return f"{_insz_check(int(base9), born_after_1999):02d}"


def _decode_month(raw: int) -> tuple[InszKind, int] | None:
    """Split the encoded month into (kind, month 0-12 where 0 = unknown); None if impossible."""
    # Month 00 / 20 / 40 is "month unknown" for the respective kind.
    for kind, offset in _MONTH_OFFSET.items():
        if offset <= raw <= offset + 12:
            return kind, raw - offset
    return None


def _date_is_possible(year: int, month: int, day: int) -> bool:
    """Month/day as encoded (0 = unknown) are possible in `year`."""
    if not 0 <= month <= 12 or not 0 <= day <= 31:
        return False
    if month == 0:
        # Only the year is known: a day without a month means nothing.
        return day == 0
    if day == 0:
        return True
    try:
        dt.date(year, month, day)  # knows that 1900 is not a leap year and 2000 is
    except ValueError:
        return False
    return True


def _sex(kind: InszKind, serial: int) -> Sex:
    if kind is InszKind.BIS_SEX_UNKNOWN:
        # The parity of the serial carries no meaning for these numbers.
        return Sex.UNKNOWN
    return Sex.MALE if serial % 2 else Sex.FEMALE


def _serial_is_possible(serial: int) -> bool:
    # The National Register uses 001-997 (men) and 002-998 (women). The brief gives no other
    # range for BIS numbers, so the same bounds apply to every kind.
    return 1 <= serial <= 998


def parse_insz(value: str) -> Insz:
    """Validate an INSZ given as exactly 11 ASCII digits (no separators, no whitespace)."""
    value = _require_str(value, "INSZ_MALFORMED", "An INSZ must be exactly 11 digits.")
    if not _INSZ.fullmatch(value):
        raise IdentifierError("INSZ_MALFORMED", "An INSZ must be exactly 11 digits.")

    base, check = int(value[:9]), int(value[9:])
    # Which rule matches decides the century; 2*10^9 mod 97 != 0 makes them mutually exclusive.
    if check == _insz_check(base, born_after_1999=False):
        born_after_1999 = False
    elif check == _insz_check(base, born_after_1999=True):
        born_after_1999 = True
    else:
        raise IdentifierError("INSZ_CHECK_DIGITS", "The INSZ check digits do not match.")

    year = (2000 if born_after_1999 else 1900) + int(value[0:2])
    decoded = _decode_month(int(value[2:4]))
    day = int(value[4:6])
    if decoded is None or not _date_is_possible(year, decoded[1], day):
        raise IdentifierError("INSZ_INVALID_DATE", "The INSZ birth date is not a possible date.")
    kind, month = decoded

    serial = int(value[6:9])
    if not _serial_is_possible(serial):
        raise IdentifierError("INSZ_INVALID_SERIAL", "The INSZ serial must be 001 to 998.")

    return Insz(
        value=value,
        kind=kind,
        sex=_sex(kind, serial),
        birth_year=year,
        birth_month=month,
        birth_day=day,
        serial=serial,
        born_after_1999=born_after_1999,
    )


def normalize_insz(text: str) -> str:
    """Accept a human-typed INSZ (e.g. `85.07.14-123.30`) and return its 11 canonical digits.

    Removes surrounding whitespace and any spaces, dots and hyphens, then validates strictly.
    """
    text = _require_str(text, "INSZ_MALFORMED", "An INSZ must be exactly 11 digits.")
    compact = text.strip().translate(str.maketrans("", "", " .-"))
    return parse_insz(compact).value


def make_insz(
    *,
    birth_year: int,
    birth_month: int,
    birth_day: int,
    serial: int,
    kind: InszKind = InszKind.NATIONAL_REGISTER,
) -> str:
    """Build a valid INSZ; month and/or day 0 mean unknown (a day needs a month).

    The sex follows from the serial's parity (odd = male) except for BIS_SEX_UNKNOWN numbers.
    Raises `IdentifierError` (INSZ_INVALID_COMPONENTS) for inputs no valid number can encode.
    """
    ints = (birth_year, birth_month, birth_day, serial)
    if (
        not all(isinstance(n, int) and not isinstance(n, bool) for n in ints)
        or not isinstance(kind, InszKind)
        or not 1900 <= birth_year <= 2099
        or not _date_is_possible(birth_year, birth_month, birth_day)
        or not _serial_is_possible(serial)
    ):
        raise IdentifierError(
            "INSZ_INVALID_COMPONENTS", "No valid INSZ has this birth date, serial and kind."
        )
    month = birth_month + _MONTH_OFFSET[kind]
    base9 = f"{birth_year % 100:02d}{month:02d}{birth_day:02d}{serial:03d}"
    return base9 + insz_check_digits(base9, born_after_1999=birth_year >= 2000)


# --------------------------------------------------------------------------------------------------
# KBO/BCE enterprise number
# --------------------------------------------------------------------------------------------------

# Accepted spellings: 10 bare digits, the dotted "0314.595.348", or the old 9-digit form that
# predates the leading 0/1 digit.
_ENTERPRISE = re.compile(r"[0-9]{10}|[0-9]{4}\.[0-9]{3}\.[0-9]{3}|[0-9]{9}", re.ASCII)
_ENTERPRISE_SEQUENCE_LIMIT = 20_000_000  # 8 leading digits starting 0 or 1


@dataclass(frozen=True)
class EnterpriseNumber:
    """A valid KBO/BCE enterprise number."""

    value: str  # 10 bare digits, the canonical form

    def formatted(self) -> str:
        """The printed form `0314.595.348`."""
        v = self.value
        return f"{v[0:4]}.{v[4:7]}.{v[7:10]}"


def _mod97_check(leading: int) -> int:
    return 97 - leading % 97  # 1..97


def parse_enterprise_number(value: str) -> EnterpriseNumber:
    """Validate an enterprise number: 10 digits, `dddd.ddd.ddd`, or the old 9-digit form."""
    value = _require_str(
        value, "ENTERPRISE_NUMBER_MALFORMED", "An enterprise number must be 10 digits."
    )
    if not _ENTERPRISE.fullmatch(value):
        raise IdentifierError(
            "ENTERPRISE_NUMBER_MALFORMED", "An enterprise number must be 10 digits."
        )
    digits = value.replace(".", "")
    if len(digits) == 9:
        digits = "0" + digits
    if int(digits[8:]) != _mod97_check(int(digits[:8])):
        raise IdentifierError(
            "ENTERPRISE_NUMBER_CHECK_DIGITS", "The enterprise number check digits do not match."
        )
    # Checked after the check digits so that this reason is only given for a number that really
    # is a (well-formed) establishment unit number, which shares the same mod-97 rule.
    if digits[0] in "2345678":
        raise IdentifierError(
            "ENTERPRISE_NUMBER_IS_ESTABLISHMENT_UNIT",
            "This is an establishment unit number, not an enterprise number.",
        )
    if digits[0] not in "01":
        raise IdentifierError(
            "ENTERPRISE_NUMBER_MALFORMED", "An enterprise number must start with 0 or 1."
        )
    return EnterpriseNumber(digits)


def make_enterprise_number(sequence8: int) -> str:
    """Build a valid enterprise number from its 8 leading digits (0 to 19_999_999)."""
    if (
        not isinstance(sequence8, int)
        or isinstance(sequence8, bool)
        or not 0 <= sequence8 < _ENTERPRISE_SEQUENCE_LIMIT
    ):
        raise IdentifierError(
            "ENTERPRISE_NUMBER_MALFORMED",
            "The 8 leading digits of an enterprise number must start with 0 or 1.",
        )
    return f"{sequence8:08d}{_mod97_check(sequence8):02d}"


# --------------------------------------------------------------------------------------------------
# ONSS/RSZ registration number
# --------------------------------------------------------------------------------------------------

# Definitive: 7-digit sequence + 2 check digits, written as 9 digits, printed "0009354-67", and
# in DIMONA schemas as 10 digits with a leading 0. Provisional: 10 digits starting "51".
_ONSS_DEFINITIVE = re.compile(r"0?[0-9]{9}|[0-9]{7}-[0-9]{2}", re.ASCII)
_ONSS_PROVISIONAL = re.compile(r"51[0-9]{8}", re.ASCII)
_ONSS_FIRST_SEQUENCE = 1_000
_ONSS_LAST_SEQUENCE = 1_999_999
_ONSS_PROVISIONAL_PREFIX = 51_000_000  # "51" followed by a 6-digit sequence
_ONSS_PROVISIONAL_SEQUENCE_LIMIT = 1_000_000


@dataclass(frozen=True)
class OnssNumber:
    """A valid ONSS registration number, definitive or provisional (Dimona only)."""

    value: str  # canonical: 9 digits if definitive, the 10 digits "51........" if provisional
    provisional: bool

    def formatted(self) -> str:
        """`0009354-67` for a definitive number; provisional numbers are printed as they are."""
        if self.provisional:
            return self.value
        return f"{self.value[:7]}-{self.value[7:]}"


def _onss_check(leading: int) -> int:
    # UNCONFIRMED rule, chosen on evidence: cc = 96 - (leading * 100 mod 97) reproduces all three
    # published definitive numbers (0009354-67, 0001000-06, 1999999-34). Equivalently the whole
    # number N = leading * 100 + cc satisfies N mod 97 == 96 with cc in 0..96, so every change
    # of one digit (d * 10^k, 0 < |d| < 10) and every swap of two adjacent different digits
    # (9 * d * 10^k) alters N mod 97 and is detected.
    # The brief gives no rule for provisional numbers; we apply the same rule to their 8 leading
    # digits ("51" + 6-digit sequence) so that they enjoy the same detection guarantee.
    return 96 - (leading * 100) % 97  # 0..96


def _onss_check_error() -> IdentifierError:
    return IdentifierError("ONSS_NUMBER_CHECK_DIGITS", "The ONSS number check digits do not match.")


def parse_onss_number(value: str) -> OnssNumber:
    """Validate an ONSS number.

    Definitive: 9 digits, 10 digits starting with 0, or `ddddddd-dd`. Provisional: `51` + 8
    digits.
    """
    malformed = "An ONSS number must be 9 digits, or 10 digits starting with 0 or 51."
    value = _require_str(value, "ONSS_NUMBER_MALFORMED", malformed)
    if _ONSS_PROVISIONAL.fullmatch(value):
        if int(value[8:]) != _onss_check(int(value[:8])):
            raise _onss_check_error()
        return OnssNumber(value, provisional=True)
    if not _ONSS_DEFINITIVE.fullmatch(value):
        raise IdentifierError("ONSS_NUMBER_MALFORMED", malformed)
    digits = value.replace("-", "")[-9:]
    sequence = int(digits[:7])
    if int(digits[7:]) != _onss_check(sequence):
        raise _onss_check_error()
    if not _ONSS_FIRST_SEQUENCE <= sequence <= _ONSS_LAST_SEQUENCE:
        raise IdentifierError(
            "ONSS_NUMBER_OUT_OF_RANGE", "The ONSS number sequence is outside 0001000-1999999."
        )
    return OnssNumber(digits, provisional=False)


def make_onss_number(sequence: int, *, provisional: bool = False) -> str:
    """Build a valid ONSS number in canonical form.

    Definitive: `sequence` 1_000..1_999_999, 9 digits. Provisional: `sequence` 0..999_999 (the 6
    digits after `51`), 10 digits.
    """
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise IdentifierError("ONSS_NUMBER_OUT_OF_RANGE", "The ONSS sequence must be an integer.")
    if provisional:
        if not 0 <= sequence < _ONSS_PROVISIONAL_SEQUENCE_LIMIT:
            raise IdentifierError(
                "ONSS_NUMBER_OUT_OF_RANGE", "A provisional ONSS sequence has 6 digits."
            )
        leading = _ONSS_PROVISIONAL_PREFIX + sequence
        return f"{leading:08d}{_onss_check(leading):02d}"
    if not _ONSS_FIRST_SEQUENCE <= sequence <= _ONSS_LAST_SEQUENCE:
        raise IdentifierError(
            "ONSS_NUMBER_OUT_OF_RANGE", "The ONSS number sequence is outside 0001000-1999999."
        )
    return f"{sequence:07d}{_onss_check(sequence):02d}"
