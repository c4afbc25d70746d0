"""Malformed input: what makes a declaration INVALID_ARGUMENT (nothing stored).

A request is malformed when it cannot be read as a declaration whatever the state of the
system: a parent that is no ONSS number, a missing or unusable reference, no form, an INSZ or an
enterprise number that fails its check digits, an impossible date or time, a worker type not
set, negative hours, a joint committee that is no committee code. Every bad field is reported
at once (BadRequest field violations). Whether a well-formed declaration breaks a rule (a field
its worker type forbids, an overlap, a late filing...) is decided later and answered with status
REFUSED or warnings, not here.

The same for DimonaQuarterService's requests (the DmfA's): the employer as a bare ONSS number
(`INVALID_EMPLOYER`), the quarter (`INVALID_QUARTER`), batches of 1 to 500 INSZs or entries
(`TOO_MANY_INSZS`, `TOO_MANY_ENTRIES`: too many, or none), each INSZ (its own reason,
`DUPLICATE_INSZ` when an entry repeats one), the actual minutes (`INVALID_MINUTES`) and their
source (`INVALID_SOURCE`).
"""

from __future__ import annotations

import datetime as dt
import re

from dimona.service.commands import (
    CancelForm,
    EmployerQuarter,
    InForm,
    OutForm,
    RawActualHours,
    RawDate,
    RawIdentification,
    RawTime,
    Submission,
    UpdateForm,
    ValidActualHours,
    ValidCancel,
    ValidIn,
    ValidOut,
    ValidSubmission,
    ValidUpdate,
)
from dimona.service.model import Identification
from dimona.service.rules import PeriodDraft
from runtime import identifiers
from runtime.errors import FieldViolation, InvalidArgument

_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
_COMMITTEE = re.compile(r"[0-9]{3}(\.[0-9]{2})?|XXX", re.ASCII)
_SUB_ENTITY = re.compile(r"[0-9]{1,10}", re.ASCII)
_COUNTRY = re.compile(r"[A-Z]{2}", re.ASCII)
_POSTCODE = re.compile(r"[A-Za-z0-9 -]{1,12}", re.ASCII)
MAX_PERIOD_ID = 999_999_999_999
MAX_PLANNED_HOURS = 2000
_MAX_TEXT = 100
#: DimonaQuarterService: INSZs per BatchGetStudentQuarterBalances, entries per recording.
MAX_BATCH = 500
#: Actual minutes of one student with one employer in a quarter: 92 days of 24 hours.
MAX_ACTUAL_MINUTES = 92 * 24 * 60
MAX_SOURCE = 200
_SOURCE = re.compile(rf"[\x20-\x7e]{{1,{MAX_SOURCE}}}", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2000, 2100


class Problems:
    """Collects field violations; `raise_if_any` raises them together."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str) -> None:
        self.violations.append(FieldViolation(field, description, reason))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument.for_fields(self.violations)

    # -- identifiers -------------------------------------------------------------------------

    def insz(self, field: str, value: str) -> str | None:
        try:
            return identifiers.parse_insz(value).value
        except identifiers.IdentifierError as exc:
            self.add(field, exc.description, exc.reason)
            return None

    def onss(self, field: str, value: str) -> str | None:
        try:
            return identifiers.parse_onss_number(value).value
        except identifiers.IdentifierError as exc:
            self.add(field, exc.description, exc.reason)
            return None

    def employer(self, field: str, value: str) -> str | None:
        """A bare ONSS number (not `employers/{onss}`): INVALID_EMPLOYER otherwise."""
        try:
            return identifiers.parse_onss_number(value).value
        except identifiers.IdentifierError as exc:
            self.add(field, exc.description, "INVALID_EMPLOYER")
            return None

    def quarter(self, year: int, quarter: int) -> tuple[int, int] | None:
        """A calendar quarter: year 2000 to 2100, quarter 1 to 4 (INVALID_QUARTER)."""
        ok = True
        if not FIRST_YEAR <= year <= LAST_YEAR:
            self.add("year", f"{FIRST_YEAR} to {LAST_YEAR}", "INVALID_QUARTER")
            ok = False
        if not 1 <= quarter <= 4:
            self.add("quarter", "1 to 4", "INVALID_QUARTER")
            ok = False
        return (year, quarter) if ok else None

    def enterprise(self, field: str, value: str) -> str:
        try:
            return identifiers.parse_enterprise_number(value).value
        except identifiers.IdentifierError as exc:
            self.add(field, exc.description, exc.reason)
            return ""

    # -- dates and times ---------------------------------------------------------------------

    def date(self, field: str, raw: RawDate, *, required: bool) -> dt.date | None:
        if raw is None:
            if required:
                self.add(field, "required", "DATE_REQUIRED")
            return None
        year, month, day = raw
        try:
            if not 1900 <= year <= 2199:
                raise ValueError("year")
            return dt.date(year, month, day)
        except ValueError:
            self.add(field, "not a full, possible date (years 1900 to 2199)", "INVALID_DATE")
            return None

    def time(self, field: str, raw: RawTime) -> int | None:
        if raw is None:
            return None
        hours, minutes, seconds, nanos = raw
        if not (0 <= hours <= 23 and 0 <= minutes <= 59 and seconds == 0 and nanos == 0):
            self.add(field, "hours 0-23 and minutes 0-59, no seconds", "INVALID_TIME")
            return None
        return hours * 60 + minutes

    def period_id(self, field: str, value: int) -> int:
        if not 1 <= value <= MAX_PERIOD_ID:
            self.add(field, f"1 to {MAX_PERIOD_ID}", "INVALID_PERIOD_ID")
        return value

    # -- text --------------------------------------------------------------------------------

    def committee(self, field: str, value: str) -> str:
        if value and not _COMMITTEE.fullmatch(value):
            self.add(field, "3 digits, optionally .NN, or XXX", "INVALID_JOINT_COMMITTEE")
        return value

    def sub_entity(self, field: str, value: str) -> str:
        if value and not _SUB_ENTITY.fullmatch(value):
            self.add(field, "1 to 10 digits", "INVALID_SUB_ENTITY")
        return value

    def text(self, field: str, value: str, *, required: bool) -> str:
        value = value.strip()
        if required and not value:
            self.add(field, "required", "INVALID_IDENTIFICATION")
        elif len(value) > _MAX_TEXT or any(ord(c) < 32 for c in value):
            self.add(field, f"at most {_MAX_TEXT} printable characters", "INVALID_IDENTIFICATION")
        return value


def parse_parent(value: str, field: str = "parent") -> str:
    """`employers/{onss}` -> the canonical ONSS number (INVALID_ARGUMENT otherwise)."""
    problems = Problems()
    employer = _parent(problems, value, field)
    problems.raise_if_any()
    assert employer is not None
    return employer


def _parent(problems: Problems, value: str, field: str) -> str | None:
    prefix = "employers/"
    if not value.startswith(prefix):
        problems.add(field, "employers/{onss number}", "INVALID_PARENT")
        return None
    try:
        return identifiers.parse_onss_number(value[len(prefix) :]).value
    except identifiers.IdentifierError as exc:
        problems.add(field, exc.description, "INVALID_PARENT")
        return None


def validate_submission(sub: Submission) -> ValidSubmission:
    """The validated declaration, or INVALID_ARGUMENT listing every bad field."""
    problems = Problems()
    employer = _parent(problems, sub.parent, "parent")
    if not _REFERENCE.fullmatch(sub.reference or ""):
        problems.add(
            "declaration_reference",
            "1 to 64 characters: letters, digits and ._:-",
            "INVALID_DECLARATION_REFERENCE",
        )
    form = sub.form
    if form is None:
        problems.add(
            "form", "one of dimona_in, dimona_out, dimona_update, dimona_cancel", "FORM_REQUIRED"
        )
        problems.raise_if_any()
        raise AssertionError("unreachable")
    if isinstance(form, InForm):
        valid: object = _in(problems, form)
    elif isinstance(form, OutForm):
        valid = _out(problems, form)
    elif isinstance(form, UpdateForm):
        valid = _update(problems, form)
    else:
        assert isinstance(form, CancelForm)
        valid = ValidCancel(problems.period_id("dimona_cancel.period_id", form.period_id))
    problems.raise_if_any()
    assert employer is not None
    return ValidSubmission(employer, sub.reference, valid)  # type: ignore[arg-type]


def _in(problems: Problems, form: InForm) -> ValidIn | None:
    p = "dimona_in"
    insz = identification = None
    if form.insz is not None:
        insz = problems.insz(f"{p}.worker.insz", form.insz)
    elif form.identification is not None:
        identification = _identification(problems, form.identification, f"{p}.worker")
    else:
        problems.add(f"{p}.worker", "an INSZ or identification data", "WORKER_REQUIRED")
    if form.worker_type is None:
        problems.add(f"{p}.worker_type", "required", "INVALID_WORKER_TYPE")
    committee = problems.committee(f"{p}.joint_committee", form.joint_committee)
    start = problems.date(f"{p}.start_date", form.start_date, required=True)
    start_time = problems.time(f"{p}.start_time", form.start_time)
    end = problems.date(f"{p}.end_date", form.end_date, required=False)
    end_time = problems.time(f"{p}.end_time", form.end_time)
    if not 0 <= form.planned_hours <= MAX_PLANNED_HOURS:
        problems.add(f"{p}.planned_hours", f"0 to {MAX_PLANNED_HOURS}", "INVALID_HOURS")
    sub_entity = problems.sub_entity(f"{p}.sub_entity", form.sub_entity)
    using = (
        problems.enterprise(f"{p}.using_employer", form.using_employer)
        if form.using_employer
        else ""
    )
    if problems.violations or form.worker_type is None or start is None:
        return None
    return ValidIn(
        insz,
        identification,
        PeriodDraft(
            worker_type=form.worker_type,
            joint_committee=committee,
            start_date=start,
            start_time=start_time,
            end_date=end,
            end_time=end_time,
            planned_hours=form.planned_hours or None,
            flexi_contract=form.flexi_contract,
            sub_entity=sub_entity,
            using_employer=using,
        ),
    )


def _identification(
    problems: Problems, raw: RawIdentification, where: str
) -> Identification | None:
    f = f"{where}.identification"
    last = problems.text(f"{f}.last_name", raw.last_name, required=True)
    firsts = tuple(
        problems.text(f"{f}.first_names[{i}]", name, required=True)
        for i, name in enumerate(raw.first_names)
    )
    if not firsts:
        problems.add(f"{f}.first_names", "at least one first name", "INVALID_IDENTIFICATION")
    if raw.sex is None:
        problems.add(f"{f}.sex", "SEX_MALE, SEX_FEMALE or SEX_UNKNOWN", "INVALID_IDENTIFICATION")
    birth = problems.date(f"{f}.birth_date", raw.birth_date, required=True)
    place = problems.text(f"{f}.birth_place", raw.birth_place, required=False)
    if not _COUNTRY.fullmatch(raw.nationality):
        problems.add(f"{f}.nationality", "ISO 3166-1 alpha-2, e.g. PL", "INVALID_IDENTIFICATION")
    a = raw.address
    if a is None:
        problems.add(f"{f}.address", "required", "INVALID_IDENTIFICATION")
        return None
    street = problems.text(f"{f}.address.street", a.street, required=True)
    number = problems.text(f"{f}.address.house_number", a.house_number, required=True)
    box = problems.text(f"{f}.address.box", a.box, required=False)
    municipality = problems.text(f"{f}.address.municipality", a.municipality, required=True)
    if not _POSTCODE.fullmatch(a.postcode):
        problems.add(f"{f}.address.postcode", "1 to 12 letters or digits", "INVALID_IDENTIFICATION")
    if not _COUNTRY.fullmatch(a.country_code):
        problems.add(f"{f}.address.country_code", "ISO 3166-1 alpha-2", "INVALID_IDENTIFICATION")
    if problems.violations or birth is None or raw.sex is None:
        return None
    return Identification(
        last_name=last,
        first_names=firsts,
        sex=raw.sex,
        birth_date=birth,
        birth_place=place,
        nationality=raw.nationality,
        street=street,
        house_number=number,
        box=box,
        postcode=a.postcode,
        municipality=municipality,
        country_code=a.country_code,
    )


def _out(problems: Problems, form: OutForm) -> ValidOut | None:
    p = "dimona_out"
    period_id = problems.period_id(f"{p}.period_id", form.period_id)
    end = problems.date(f"{p}.end_date", form.end_date, required=True)
    end_time = problems.time(f"{p}.end_time", form.end_time)
    insz = problems.insz(f"{p}.insz", form.insz) if form.insz else ""
    if end is None or insz is None:
        return None
    return ValidOut(period_id, end, end_time, insz)


def _update(problems: Problems, form: UpdateForm) -> ValidUpdate | None:
    p = "dimona_update"
    period_id = problems.period_id(f"{p}.period_id", form.period_id)
    start = problems.date(f"{p}.start_date", form.start_date, required=False)
    start_time = problems.time(f"{p}.start_time", form.start_time)
    end = problems.date(f"{p}.end_date", form.end_date, required=False)
    end_time = problems.time(f"{p}.end_time", form.end_time)
    if form.planned_hours is not None and not 0 <= form.planned_hours <= MAX_PLANNED_HOURS:
        problems.add(f"{p}.planned_hours", f"0 to {MAX_PLANNED_HOURS}", "INVALID_HOURS")
    committee = (
        problems.committee(f"{p}.joint_committee", form.joint_committee)
        if form.joint_committee is not None
        else None
    )
    sub_entity = (
        problems.sub_entity(f"{p}.sub_entity", form.sub_entity)
        if form.sub_entity is not None
        else None
    )
    using = (
        problems.enterprise(f"{p}.using_employer", form.using_employer)
        if form.using_employer
        else form.using_employer
    )
    changes = (
        form.start_date,
        form.start_time,
        form.end_date,
        form.end_time,
        form.planned_hours,
        form.joint_committee,
        form.worker_type,
        form.sub_entity,
        form.using_employer,
    )
    if all(c is None for c in changes):
        problems.add(p, "at least one field to change", "NOTHING_TO_UPDATE")
    if problems.violations:
        return None
    return ValidUpdate(
        period_id=period_id,
        start_date=start,
        start_time=start_time,
        end_date=end,
        end_time=end_time,
        planned_hours=form.planned_hours,
        joint_committee=committee,
        worker_type=form.worker_type,
        sub_entity=sub_entity,
        using_employer=using,
    )


# -- DimonaQuarterService ----------------------------------------------------------------------


def _employer_quarter(
    problems: Problems, employer: str, year: int, quarter: int
) -> EmployerQuarter | None:
    onss = problems.employer("employer", employer)
    found = problems.quarter(year, quarter)
    if onss is None or found is None:
        return None
    return EmployerQuarter(onss, *found)


def validate_employer_quarter(employer: str, year: int, quarter: int) -> EmployerQuarter:
    """The employer's quarter, or INVALID_ARGUMENT listing every bad field."""
    problems = Problems()
    target = _employer_quarter(problems, employer, year, quarter)
    problems.raise_if_any()
    assert target is not None
    return target


def validate_quarter_batch(
    employer: str, year: int, quarter: int, inszs: list[str]
) -> tuple[EmployerQuarter, list[str]]:
    """BatchGetStudentQuarterBalances: the quarter and the canonical INSZs, in the order asked
    (duplicates kept: each is answered)."""
    problems = Problems()
    target = _employer_quarter(problems, employer, year, quarter)
    checked: list[str] = []
    if not 1 <= len(inszs) <= MAX_BATCH:
        problems.add("inszs", f"1 to {MAX_BATCH} INSZs", "TOO_MANY_INSZS")
    else:
        for i, value in enumerate(inszs):
            insz = problems.insz(f"inszs[{i}]", value)
            if insz is not None:
                checked.append(insz)
    problems.raise_if_any()
    assert target is not None
    return target, checked


def validate_actual_hours(
    employer: str, year: int, quarter: int, entries: list[RawActualHours], source: str
) -> ValidActualHours:
    """RecordStudentActualHours: everything checked before anything is written."""
    problems = Problems()
    target = _employer_quarter(problems, employer, year, quarter)
    valid: list[tuple[str, int]] = []
    if not 1 <= len(entries) <= MAX_BATCH:
        problems.add("entries", f"1 to {MAX_BATCH} entries", "TOO_MANY_ENTRIES")
    else:
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            f = f"entries[{i}]"
            insz = problems.insz(f"{f}.insz", entry.insz)
            if insz is not None and insz in seen:
                problems.add(f"{f}.insz", "each INSZ at most once", "DUPLICATE_INSZ")
            if not 0 <= entry.minutes <= MAX_ACTUAL_MINUTES:
                problems.add(f"{f}.minutes", f"0 to {MAX_ACTUAL_MINUTES}", "INVALID_MINUTES")
            if insz is not None:
                seen.add(insz)
                valid.append((insz, entry.minutes))
    if not _SOURCE.fullmatch(source):
        problems.add("source", f"1 to {MAX_SOURCE} printable ASCII characters", "INVALID_SOURCE")
    problems.raise_if_any()
    assert target is not None
    return ValidActualHours(target, tuple(valid), source)
