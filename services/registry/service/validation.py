"""Input checks shared by the registry's RPCs; every problem of a request is reported at once.

A `Problems` collects `FieldViolation`s (field path as in the proto, e.g. `address.postcode`) and
raises one INVALID_ARGUMENT whose reason is the first problem's. Descriptions never echo the value
(it may be personal data).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from registry.service.countries import is_country_code
from registry.service.model import Address, PartialDate
from registry.service.names import clean_display_name
from registry.service.regions import is_belgian_postcode
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identifiers import IdentifierError, Insz, parse_insz

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
_FOREIGN_POSTCODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,11}", re.ASCII)
MAX_LAST_NAME = 100
MAX_FIRST_NAME = 50
MAX_FIRST_NAMES = 10
MAX_PLACE = 100
MAX_STREET = 100
MAX_HOUSE_NUMBER = 10
MAX_BOX = 10
MAX_MUNICIPALITY = 100
#: The register holds nobody born before this year (BIS birth years are checked from here).
FIRST_BIRTH_YEAR = 1900


class Problems:
    """Collects field violations; `raise_if_any()` reports them all in one error."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str) -> None:
        self.violations.append(FieldViolation(field, description, reason))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument.for_fields(self.violations)

    # -- identifiers and keys ------------------------------------------------------------------

    def insz(self, field: str, value: str) -> Insz | None:
        """The parsed INSZ, or None after recording the identifier's own reason."""
        try:
            return parse_insz(value)
        except IdentifierError as exc:
            self.add(field, exc.description, exc.reason)
            return None

    def request_id(self, value: str, field: str = "request_id") -> None:
        if not REQUEST_ID.fullmatch(value):
            self.add(field, "1 to 64 characters of A-Z a-z 0-9 . _ -", "INVALID_REQUEST_ID")

    # -- names and free text -------------------------------------------------------------------

    def last_name(self, value: str, field: str = "last_name") -> str:
        return self._name(value, field, MAX_LAST_NAME)

    def first_names(self, values: Sequence[str], field: str = "first_names") -> tuple[str, ...]:
        if len(values) > MAX_FIRST_NAMES:
            self.add(field, f"at most {MAX_FIRST_NAMES} first names", "INVALID_NAME")
            return ()
        return tuple(
            self._name(value, f"{field}[{i}]", MAX_FIRST_NAME) for i, value in enumerate(values)
        )

    def _name(self, value: str, field: str, limit: int) -> str:
        cleaned = clean_display_name(value)
        if not cleaned:
            self.add(field, "required", "INVALID_NAME")
        elif len(cleaned) > limit:
            self.add(field, f"at most {limit} characters", "INVALID_NAME")
        elif _has_control(cleaned) or not any(c.isalpha() for c in cleaned):
            self.add(field, "letters, spaces, hyphens and apostrophes", "INVALID_NAME")
        return cleaned

    def place(self, value: str, field: str) -> str:
        cleaned = clean_display_name(value)
        if len(cleaned) > MAX_PLACE or _has_control(cleaned):
            self.add(field, f"at most {MAX_PLACE} printable characters", "INVALID_PLACE")
        return cleaned

    def country(self, value: str, field: str, *, required: bool) -> str:
        if not value and not required:
            return ""
        if not is_country_code(value):
            self.add(field, "an ISO 3166-1 alpha-2 code in capitals, e.g. BE", "INVALID_COUNTRY")
        return value

    def address(self, value: Address | None, field: str = "address") -> Address | None:
        """A cleaned address; street, house number, municipality and country are required."""
        if value is None:
            self.add(field, "required", "ADDRESS_REQUIRED")
            return None
        before = len(self.violations)
        street = self._text(value.street, f"{field}.street", MAX_STREET, required=True)
        number = self._text(
            value.house_number, f"{field}.house_number", MAX_HOUSE_NUMBER, required=True
        )
        box = self._text(value.box, f"{field}.box", MAX_BOX, required=False)
        municipality = self._text(
            value.municipality, f"{field}.municipality", MAX_MUNICIPALITY, required=True
        )
        country = value.country_code
        if not is_country_code(country):
            self.add(
                f"{field}.country_code", "an ISO 3166-1 alpha-2 code, e.g. BE", "INVALID_ADDRESS"
            )
        postcode = value.postcode.strip()
        if country == "BE" and not is_belgian_postcode(postcode):
            self.add(
                f"{field}.postcode", "a Belgian postcode: 4 digits, 1000-9999", "INVALID_ADDRESS"
            )
        elif country != "BE" and postcode and not _FOREIGN_POSTCODE.fullmatch(postcode):
            self.add(
                f"{field}.postcode",
                "at most 12 letters, digits, spaces, hyphens",
                "INVALID_ADDRESS",
            )
        if len(self.violations) > before:
            return None
        return Address(street, number, box, postcode, municipality, country)

    def _text(self, value: str, field: str, limit: int, *, required: bool) -> str:
        cleaned = clean_display_name(value)
        if required and not cleaned:
            self.add(field, "required", "INVALID_ADDRESS")
        elif len(cleaned) > limit or _has_control(cleaned):
            self.add(field, f"at most {limit} printable characters", "INVALID_ADDRESS")
        return cleaned

    # -- dates ---------------------------------------------------------------------------------

    def full_date(
        self, value: PartialDate | None, field: str, *, today: dt.date, required_reason: str
    ) -> dt.date | None:
        """A full, possible date from 1900 on, not after today."""
        if value is None:
            self.add(field, "required", required_reason)
            return None
        day = value.to_date()
        if day is None or day.year < FIRST_BIRTH_YEAR:
            self.add(field, "a full date (year, month and day) from 1900 on", _invalid(field))
            return None
        if day > today:
            self.add(field, "must not be in the future", _in_future(field))
            return None
        return day

    def birth_date(
        self, value: PartialDate | None, field: str, *, today: dt.date
    ) -> PartialDate | None:
        """A possibly partial birth date: year 1900..this year; month/day 0 when unknown."""
        if value is None:
            self.add(field, "required", "INVALID_BIRTH_DATE")
            return None
        if not is_possible_partial(value) or not FIRST_BIRTH_YEAR <= value.year <= today.year:
            self.add(
                field,
                f"year {FIRST_BIRTH_YEAR} to {today.year}; month and day 0 when unknown",
                "INVALID_BIRTH_DATE",
            )
            return None
        if value.earliest() > today:
            self.add(field, "must not be in the future", "INVALID_BIRTH_DATE")
            return None
        return value


def is_possible_partial(value: PartialDate) -> bool:
    """Year 1-9999; month 0-12; day 0-31; a day needs a month; a full date must exist."""
    if not 1 <= value.year <= 9999 or not 0 <= value.month <= 12 or not 0 <= value.day <= 31:
        return False
    if value.month == 0:
        return value.day == 0
    if value.day == 0:
        return True
    return value.to_date() is not None


def _invalid(field: str) -> str:
    return "INVALID_" + field.rsplit(".", 1)[-1].upper()


def _in_future(field: str) -> str:
    return field.rsplit(".", 1)[-1].upper() + "_IN_FUTURE"


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c)[0] == "C" for c in text)
