"""Malformed input: what makes a submission INVALID_ARGUMENT (nothing stored).

A submission is malformed when it cannot be read as a declaration whatever the state of the
system:

- the stream: no chunk, no header in the first chunk (`HEADER_REQUIRED`), a header in a later
  chunk (`HEADER_REPEATED`), more than 1,000 workers in a chunk (`CHUNK_TOO_LARGE`) or 50,000 in
  all (`TOO_MANY_WORKERS`), none at all (`NO_WORKERS`);
- the header: the employer not an ONSS number (`INVALID_EMPLOYER`), a year outside 2003 (the
  first DmfA quarter) to 2100 or a quarter outside 1..4 (`INVALID_QUARTER`), a reference outside
  1 to 64 of `[A-Za-z0-9._:-]` (`INVALID_SUBMISSION_REFERENCE`), `corrects` not a version name of
  this employer and quarter (`INVALID_CORRECTS`);
- the structure: an INSZ that is not 11 digits, a worker code / service code / remuneration code
  that is not 3 digits, a missing required date (`FIELD_REQUIRED`), an impossible date
  (`INVALID_DATE`), counts out of range (`TOO_MANY_ITEMS`: 1..10 records, 1..20 occupations,
  0..30 service and remuneration lines), numbers out of range (`INVALID_QUANTITY`: employer
  category 1..999, occupation number 1..99, working days system 1..700, hours a week 1..5,000,
  days 0..9,200, hours 0..220,800), amounts outside 0..100,000,000,000 cents
  (`INVALID_AMOUNT`).

Every bad field is reported at once (BadRequest field violations, paths like
`workers[12].records[0].occupations[1].start_date`; at most 100 reported). Whether a
well-formed declaration breaks a business rule — an INSZ's check digits, an unknown code, a date
outside the quarter, days beyond the working days system, an occupation without Dimona — is
decided by `checks` and answered with status REFUSED, not here.

The transport maps a missing date to `MISSING_DATE` and an impossible one to `IMPOSSIBLE_DATE`
(sentinels), so that every rule lives here.
"""

from __future__ import annotations

import datetime as dt
import re

from dmfa.service.model import Header, Person, Quarter
from runtime import identifiers
from runtime.errors import FieldViolation, InvalidArgument

MAX_CHUNK = 1_000
MAX_WORKERS = 50_000
MAX_RECORDS = 10
MAX_OCCUPATIONS = 20
MAX_LINES = 30
MAX_AMOUNT = 100_000_000_000
MAX_DAYS = 9_200
MAX_HOURS = 220_800
MAX_WEEK_HOURS = 5_000
MAX_WORKING_DAYS_SYSTEM = 700
FIRST_YEAR, LAST_YEAR = 2003, 2100
MAX_VIOLATIONS = 100


class _Sentinel(dt.date):
    """A date standing for a missing or an impossible one, recognised by identity only: a real
    0001-01-01 or 9999-12-31 (a common "no end" convention) is a possible date, not this."""


MISSING_DATE: dt.date = _Sentinel(1, 1, 1)
IMPOSSIBLE_DATE: dt.date = _Sentinel(9999, 12, 31)
_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
_INSZ = re.compile(r"[0-9]{11}", re.ASCII)
_CODE = re.compile(r"[0-9]{3}", re.ASCII)
_VERSION_NAME = re.compile(
    r"employers/([0-9]{9,10})/declarations/([0-9]{4}Q[1-4])/versions/([1-9][0-9]{0,5})", re.ASCII
)
_DECLARATION_NAME = re.compile(r"employers/([0-9]{9,10})/declarations/([0-9]{4}Q[1-4])", re.ASCII)
_EMPLOYER_NAME = re.compile(r"employers/([0-9]{9,10})", re.ASCII)


class Violations:
    """Collects field violations; `raise_if_any()` at the end."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str) -> None:
        if len(self.items) < MAX_VIOLATIONS:
            self.items.append(FieldViolation(field, description, reason))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument.for_fields(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def invalid(field: str, description: str, reason: str) -> InvalidArgument:
    return InvalidArgument.for_fields([FieldViolation(field, description, reason)])


def employer_number(value: str, field: str = "header.employer") -> str:
    """A canonical ONSS number (definitive or provisional: the caller decides)."""
    try:
        return identifiers.parse_onss_number(value).value
    except identifiers.IdentifierError:
        raise invalid(field, "an ONSS number", "INVALID_EMPLOYER") from None


def _onss_or_none(value: str) -> str | None:
    try:
        return identifiers.parse_onss_number(value).value
    except identifiers.IdentifierError:
        return None


def quarter(year: int, number: int, field: str = "header") -> Quarter:
    if not FIRST_YEAR <= year <= LAST_YEAR or not 1 <= number <= 4:
        raise invalid(
            field, f"year {FIRST_YEAR} to {LAST_YEAR} and quarter 1 to 4", "INVALID_QUARTER"
        )
    return Quarter(year, number)


def header(
    employer: str, year: int, number: int, reference: str, corrects: str
) -> tuple[str, Quarter, str, int | None]:
    """(employer, quarter, reference, corrected version number or None)."""
    found = Violations()
    parsed_employer = ""
    try:
        parsed_employer = employer_number(employer)
    except InvalidArgument as exc:
        found.items += exc.violations
    try:
        parsed_quarter = quarter(year, number, "header.year")
    except InvalidArgument as exc:
        found.items += exc.violations
        parsed_quarter = Quarter(FIRST_YEAR, 1)
    if not _REFERENCE.fullmatch(reference):
        found.add(
            "header.submission_reference",
            "1 to 64 letters, digits or ._:-",
            "INVALID_SUBMISSION_REFERENCE",
        )
    corrected = None
    if corrects:
        match = _VERSION_NAME.fullmatch(corrects)
        # The employer as the header's, canonical: `0000100006` names the employer `000100006`.
        named = _onss_or_none(match[1]) if match else None
        if named is None or (named, match[2]) != (parsed_employer, str(parsed_quarter)):
            found.add(
                "header.corrects",
                "a version name of this employer and quarter",
                "INVALID_CORRECTS",
            )
        else:
            corrected = int(match[3])
    found.raise_if_any()
    return parsed_employer, parsed_quarter, reference, corrected


def make_header(employer: str, year: int, number: int, reference: str, corrects: str) -> Header:
    e, q, r, c = header(employer, year, number, reference, corrects)
    return Header(e, q, r, c)


def _date(found: Violations, path: str, value: dt.date) -> None:
    if value is MISSING_DATE:
        found.add(path, "required", "FIELD_REQUIRED")
    elif value is IMPOSSIBLE_DATE:
        found.add(path, "a possible calendar date", "INVALID_DATE")


def _count(found: Violations, path: str, count: int, low: int, high: int) -> None:
    if not low <= count <= high:
        found.add(path, f"{low} to {high} items", "TOO_MANY_ITEMS")


def _range(found: Violations, path: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        found.add(path, f"{low} to {high}", "INVALID_QUANTITY")


def check_person(found: Violations, index: int, person: Person) -> None:
    """Report every malformed field of one worker (index in the whole submission)."""
    base = f"workers[{index}]"
    if not _INSZ.fullmatch(person.insz):
        found.add(
            f"{base}.insz", "11 digits", "FIELD_REQUIRED" if not person.insz else "INVALID_INSZ"
        )
    _count(found, f"{base}.records", len(person.records), 1, MAX_RECORDS)
    for r, record in enumerate(person.records):
        path = f"{base}.records[{r}]"
        _range(found, f"{path}.employer_category", record.employer_category, 1, 999)
        if not _CODE.fullmatch(record.worker_code):
            found.add(f"{path}.worker_code", "3 digits", "INVALID_CODE")
        _date(found, f"{path}.start_date", record.start)
        _date(found, f"{path}.end_date", record.end)
        _count(found, f"{path}.occupations", len(record.occupations), 1, MAX_OCCUPATIONS)
        for o, occupation in enumerate(record.occupations):
            opath = f"{path}.occupations[{o}]"
            _range(found, f"{opath}.number", occupation.number, 1, 99)
            _date(found, f"{opath}.start_date", occupation.start)
            if occupation.end is not None:
                _date(found, f"{opath}.end_date", occupation.end)
            if not occupation.joint_committee:
                found.add(f"{opath}.joint_committee", "required", "FIELD_REQUIRED")
            _range(
                found,
                f"{opath}.working_days_system",
                occupation.working_days_system,
                1,
                MAX_WORKING_DAYS_SYSTEM,
            )
            _range(
                found,
                f"{opath}.mean_working_hours",
                occupation.mean_working_hours,
                1,
                MAX_WEEK_HOURS,
            )
            _range(
                found,
                f"{opath}.reference_working_hours",
                occupation.reference_working_hours,
                1,
                MAX_WEEK_HOURS,
            )
            _count(found, f"{opath}.services", len(occupation.services), 0, MAX_LINES)
            for s, line in enumerate(occupation.services):
                spath = f"{opath}.services[{s}]"
                if not _CODE.fullmatch(line.code):
                    found.add(f"{spath}.service_code", "3 digits", "INVALID_CODE")
                _range(found, f"{spath}.days", line.days, 0, MAX_DAYS)
                _range(found, f"{spath}.hours", line.hours, 0, MAX_HOURS)
            _count(found, f"{opath}.remunerations", len(occupation.remunerations), 0, MAX_LINES)
            for m, pay in enumerate(occupation.remunerations):
                mpath = f"{opath}.remunerations[{m}]"
                if not _CODE.fullmatch(pay.code):
                    found.add(f"{mpath}.remuneration_code", "3 digits", "INVALID_CODE")
                if not 0 <= pay.amount <= MAX_AMOUNT:
                    found.add(f"{mpath}.amount", f"0 to {MAX_AMOUNT} cents", "INVALID_AMOUNT")


# -- names ----------------------------------------------------------------------------------


def version_name(name: str) -> tuple[str, Quarter, int]:
    match = _VERSION_NAME.fullmatch(name)
    quarter_ = Quarter.parse(match[2]) if match else None
    if match is None or quarter_ is None or not FIRST_YEAR <= quarter_.year <= LAST_YEAR:
        raise invalid(
            "name", "employers/{employer}/declarations/{year}Q{q}/versions/{n}", "INVALID_NAME"
        )
    return employer_number(match[1], "name"), quarter_, int(match[3])


def declaration_name(name: str) -> tuple[str, Quarter]:
    match = _DECLARATION_NAME.fullmatch(name)
    quarter_ = Quarter.parse(match[2]) if match else None
    if match is None or quarter_ is None or not FIRST_YEAR <= quarter_.year <= LAST_YEAR:
        raise invalid("parent", "employers/{employer}/declarations/{year}Q{q}", "INVALID_PARENT")
    return employer_number(match[1], "parent"), quarter_


def employer_name(name: str) -> str:
    match = _EMPLOYER_NAME.fullmatch(name)
    if match is None:
        raise invalid("parent", "employers/{employer}", "INVALID_PARENT")
    return employer_number(match[1], "parent")


def insz(value: str, field: str = "insz") -> str:
    try:
        return identifiers.parse_insz(value).value
    except identifiers.IdentifierError as exc:
        raise invalid(field, exc.description, exc.reason) from None
