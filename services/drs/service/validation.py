"""Malformed input: what makes a request INVALID_ARGUMENT (nothing looked up, nothing stored).

A request is malformed when it cannot be read as a declaration whatever the state of the
system. Every bad field is reported at once (BadRequest field violations; the error's reason is
the first field's):

- names: `parent` not `employers/{onss}` (`INVALID_PARENT`), `name` not
  `employers/{onss}/declarations/{reference}` (`INVALID_NAME`), `task` not a task name of the
  same employer (`INVALID_TASK`);
- `declaration_reference` not 1 to 64 of `[A-Za-z0-9._:-]` (`INVALID_DECLARATION_REFERENCE`);
- `insz` not a valid INSZ (runtime.identifiers' reason: `INSZ_MALFORMED`, `INSZ_CHECK_DIGITS`,
  ...);
- `risk_date` missing, impossible or outside 2003-01-01..2100-12-31 (`INVALID_RISK_DATE`); for
  monthly hours (ONEM scenario 5) not a month's first day (`INVALID_RISK_DATE`);
- no risk (`SCENARIO_REQUIRED`), and each scenario's fields as its proto comment says:
  a required value missing (`FIELD_REQUIRED`), an impossible date (`INVALID_DATE`), a date on
  the wrong side of the risk date (`INVALID_DATE_ORDER`), an unknown enum value
  (`INVALID_REASON`), a temporary-unemployment type outside 001..011 (`INVALID_TYPE`), numbers
  out of range (`INVALID_QUANTITY`, `INVALID_AMOUNT`), text empty, too long or with control
  characters (`INVALID_TEXT`), an insurer's KBO number (runtime.identifiers' reason, e.g.
  `ENTERPRISE_NUMBER_CHECK_DIGITS`), a policy number not 1 to 30 of `[A-Za-z0-9/.-]` or given
  without an insurer (`INVALID_POLICY_NUMBER`);
- `quarters`: more than 5 (`TOO_MANY_ITEMS`), a year/quarter outside the risk date's quarter
  and the 4 before it (`INVALID_QUARTER`), the same quarter twice (`DUPLICATE_QUARTER`), days,
  hours or pay out of range (`INVALID_QUANTITY`, `INVALID_AMOUNT`).

Whether a well-formed declaration breaks a business rule (late, unknown insurer, no request,
pay contradicting the DmfA, a risk date in the future) is decided by `rules` and answered with
a status, not here. The transport maps a missing date to `MISSING_DATE` and an impossible one to
`IMPOSSIBLE_DATE` (sentinels, told by identity: a real 0001-01-01 is a date, out of range), an
unset or unknown enum to None, so that every rule lives here.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from drs.service.deadlines import days_in_month
from drs.service.model import (
    TEMPORARY_UNEMPLOYMENT_TYPES,
    EndOfContract,
    Incapacity,
    Quarter,
    QuarterPay,
    Resumption,
    Risk,
    Scenario,
    Submission,
    TemporaryUnemployment,
    TemporaryUnemploymentHours,
    WorkAccident,
    scenario_of,
)
from runtime import identifiers
from runtime.errors import FieldViolation, InvalidArgument

MISSING_DATE = dt.date.min
IMPOSSIBLE_DATE = dt.date.max
FIRST_DAY, LAST_DAY = dt.date(2003, 1, 1), dt.date(2100, 12, 31)
MAX_AMOUNT = 100_000_000_000  # cents
MAX_MONTH_HOURS = 74_400  # hundredths: 31 days of 24 hours
MAX_WEEK_HOURS = 5_000  # hundredths
MAX_QUARTER_DAYS = 9_200  # hundredths: 92 days
MAX_QUARTER_HOURS = 220_800  # hundredths: 92 days of 24 hours
MAX_QUARTERS = 5  # the risk date's quarter and the 4 before it
MAX_PLACE, MAX_DESCRIPTION = 200, 2_000
MAX_VIOLATIONS = 100
_REFERENCE = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
_POLICY = re.compile(r"[A-Za-z0-9/.-]{1,30}", re.ASCII)
_ONSS = r"([0-9]{9,10})"
_EMPLOYER_NAME = re.compile(f"employers/{_ONSS}", re.ASCII)
_DECLARATION_NAME = re.compile(
    f"employers/{_ONSS}/declarations/([A-Za-z0-9._:-]{{1,64}})", re.ASCII
)
_TASK_NAME = re.compile(f"employers/{_ONSS}/tasks/([0-9a-f-]{{36}})", re.ASCII)
# Newlines and tabs are allowed in a description; other control characters never.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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


# -- names and identifiers --------------------------------------------------------------------


def _onss(found: Violations, value: str, field: str, reason: str) -> str:
    try:
        return identifiers.parse_onss_number(value).value
    except identifiers.IdentifierError:
        found.add(field, "an ONSS number", reason)
        return ""


def employer_parent(parent: str, found: Violations | None = None) -> str:
    """`employers/{onss}` -> the canonical ONSS number."""
    own = found if found is not None else Violations()
    match = _EMPLOYER_NAME.fullmatch(parent)
    employer = ""
    if match is None:
        own.add("parent", "employers/{employer}", "INVALID_PARENT")
    else:
        employer = _onss(own, match[1], "parent", "INVALID_PARENT")
    if found is None:
        own.raise_if_any()
    return employer


def declaration_name(name: str) -> tuple[str, str]:
    """`employers/{onss}/declarations/{reference}` -> (employer, reference)."""
    match = _DECLARATION_NAME.fullmatch(name)
    if match is None:
        raise invalid("name", "employers/{employer}/declarations/{reference}", "INVALID_NAME")
    found = Violations()
    employer = _onss(found, match[1], "name", "INVALID_NAME")
    found.raise_if_any()
    return employer, match[2]


def task_id(name: str, employer: str, found: Violations) -> str:
    """A task name of `employer` -> its id ("" and a violation otherwise)."""
    match = _TASK_NAME.fullmatch(name)
    if match is None or not _is_uuid(match[2]):
        found.add("task", "employers/{employer}/tasks/{id}", "INVALID_TASK")
        return ""
    try:
        same = identifiers.parse_onss_number(match[1]).value == employer
    except identifiers.IdentifierError:
        same = False
    if not same:
        found.add("task", "a task of the declaring employer", "INVALID_TASK")
        return ""
    return match[2]


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def insz(value: str, found: Violations, field: str = "insz") -> str:
    try:
        return identifiers.parse_insz(value).value
    except identifiers.IdentifierError as exc:
        found.add(field, exc.description, exc.reason)
        return ""


def risk_date(value: dt.date, found: Violations, scenario: Scenario | None = None) -> dt.date:
    if value is MISSING_DATE or value is IMPOSSIBLE_DATE or not FIRST_DAY <= value <= LAST_DAY:
        found.add("risk_date", f"a date from {FIRST_DAY} to {LAST_DAY}", "INVALID_RISK_DATE")
    elif scenario is Scenario.TEMPORARY_UNEMPLOYMENT_HOURS and value.day != 1:
        found.add("risk_date", "the month's first day (monthly hours)", "INVALID_RISK_DATE")
    return value


def _scenario(found: Violations, scenario: Scenario | None) -> None:
    if scenario is None:
        found.add("scenario", "one of the scenarios", "SCENARIO_REQUIRED")


def _date(found: Violations, field: str, value: dt.date, *, required: bool = True) -> bool:
    """True when the date is there and possible."""
    if value is MISSING_DATE:
        if required:
            found.add(field, "required", "FIELD_REQUIRED")
        return False
    if value is IMPOSSIBLE_DATE or not FIRST_DAY <= value <= LAST_DAY:
        found.add(field, "a possible calendar date", "INVALID_DATE")
        return False
    return True


def _range(found: Violations, field: str, value: int, low: int, high: int, reason: str) -> None:
    if not low <= value <= high:
        found.add(field, f"{low} to {high}", reason)


def _text(found: Violations, field: str, value: str, limit: int, *, newlines: bool) -> None:
    if not value.strip():
        found.add(field, "required", "FIELD_REQUIRED")
    elif len(value) > limit or _CONTROL.search(value) or (not newlines and "\n" in value):
        found.add(field, f"1 to {limit} characters, no control characters", "INVALID_TEXT")


def _type(found: Violations, field: str, value: str) -> None:
    if not value:
        found.add(field, "required", "FIELD_REQUIRED")
    elif value not in TEMPORARY_UNEMPLOYMENT_TYPES:
        found.add(field, "001 to 011", "INVALID_TYPE")


# -- each scenario's fields ------------------------------------------------------------------


def _end_of_contract(found: Violations, r: EndOfContract, risk: dt.date) -> Risk:
    if r.reason is None:
        found.add("end_of_contract.reason", "one of the end reasons", "INVALID_REASON")
    path = "end_of_contract.contract_end_date"
    if _date(found, path, r.contract_end) and r.contract_end < risk:
        found.add(path, "on or after the risk date (the last day worked)", "INVALID_DATE_ORDER")
    _range(
        found,
        "end_of_contract.notice_indemnity",
        r.notice_indemnity,
        0,
        MAX_AMOUNT,
        "INVALID_AMOUNT",
    )
    return r


def _temporary(found: Violations, r: TemporaryUnemployment, risk: dt.date) -> Risk:
    _type(found, "temporary_unemployment.type", r.type)
    path = "temporary_unemployment.planned_end_date"
    if r.planned_end is not None and _date(found, path, r.planned_end) and r.planned_end < risk:
        found.add(path, "on or after the risk date (the first day)", "INVALID_DATE_ORDER")
    return r


def _hours(found: Violations, r: TemporaryUnemploymentHours, risk: dt.date) -> Risk:
    _type(found, "temporary_unemployment_hours.type", r.type)
    _range(
        found, "temporary_unemployment_hours.hours", r.hours, 1, MAX_MONTH_HOURS, "INVALID_QUANTITY"
    )
    month_days = days_in_month(risk) if FIRST_DAY <= risk <= LAST_DAY else 31
    _range(found, "temporary_unemployment_hours.days", r.days, 1, month_days, "INVALID_QUANTITY")
    if 1 <= r.days <= month_days and r.days * 2_400 < r.hours <= MAX_MONTH_HOURS:
        found.add(
            "temporary_unemployment_hours.hours", "at most 24 hours a day", "INVALID_QUANTITY"
        )
    return r


def _incapacity(found: Violations, r: Incapacity, risk: dt.date) -> Risk:
    path = "incapacity.last_day_worked"
    if _date(found, path, r.last_day_worked) and r.last_day_worked >= risk:
        found.add(path, "before the risk date (the first day of incapacity)", "INVALID_DATE_ORDER")
    path = "incapacity.guaranteed_salary_end"
    end = r.guaranteed_salary_end
    if end is not None and _date(found, path, end) and end < risk:
        found.add(path, "on or after the risk date", "INVALID_DATE_ORDER")
    return r


def _resumption(found: Violations, r: Resumption, _risk: dt.date) -> Risk:
    path = "resumption.weekly_hours"
    if r.part_time:
        if r.weekly_hours == 0:
            found.add(path, "required for a part-time resumption", "FIELD_REQUIRED")
        else:
            _range(found, path, r.weekly_hours, 1, MAX_WEEK_HOURS, "INVALID_QUANTITY")
    elif r.weekly_hours != 0:
        found.add(path, "only for a part-time resumption", "INVALID_QUANTITY")
    return r


def _work_accident(found: Violations, r: WorkAccident, _risk: dt.date) -> Risk:
    kbo = ""
    if r.insurer_kbo:
        try:
            kbo = identifiers.parse_enterprise_number(r.insurer_kbo).value
        except identifiers.IdentifierError as exc:
            found.add("work_accident.insurer_kbo", exc.description, exc.reason)
        if not _POLICY.fullmatch(r.policy_number):
            reason = "FIELD_REQUIRED" if not r.policy_number else "INVALID_POLICY_NUMBER"
            found.add("work_accident.policy_number", "1 to 30 of A-Z a-z 0-9 / . -", reason)
    elif r.policy_number:
        found.add(
            "work_accident.policy_number",
            "only with an insurer's KBO number",
            "INVALID_POLICY_NUMBER",
        )
    _text(found, "work_accident.place", r.place, MAX_PLACE, newlines=False)
    _text(found, "work_accident.description", r.description, MAX_DESCRIPTION, newlines=True)
    return WorkAccident(r.place, r.description, kbo, r.policy_number, r.on_the_way)


_RISKS = {
    EndOfContract: _end_of_contract,
    TemporaryUnemployment: _temporary,
    TemporaryUnemploymentHours: _hours,
    Incapacity: _incapacity,
    Resumption: _resumption,
    WorkAccident: _work_accident,
}


def quarters(found: Violations, items: tuple[QuarterPay, ...], risk: dt.date) -> None:
    if len(items) > MAX_QUARTERS:
        found.add("quarters", f"at most {MAX_QUARTERS}", "TOO_MANY_ITEMS")
        return
    if not FIRST_DAY <= risk <= LAST_DAY:
        return  # reported on risk_date; the window cannot be computed
    latest = Quarter.of(risk)
    earliest = latest.shift(-(MAX_QUARTERS - 1))
    seen: set[tuple[int, int]] = set()
    for i, q in enumerate(items):
        path = f"quarters[{i}]"
        if not 1 <= q.quarter <= 4 or not earliest <= Quarter(q.year, q.quarter) <= latest:
            found.add(
                f"{path}.quarter",
                f"a quarter from {earliest} to {latest} (the risk date's)",
                "INVALID_QUARTER",
            )
        elif (q.year, q.quarter) in seen:
            found.add(f"{path}.quarter", "each quarter once", "DUPLICATE_QUARTER")
        seen.add((q.year, q.quarter))
        _range(found, f"{path}.days", q.days, 0, MAX_QUARTER_DAYS, "INVALID_QUANTITY")
        _range(found, f"{path}.hours", q.hours, 0, MAX_QUARTER_HOURS, "INVALID_QUANTITY")
        _range(found, f"{path}.pay", q.pay, 0, MAX_AMOUNT, "INVALID_AMOUNT")


def submission(
    *,
    parent: str,
    reference: str,
    insz_value: str,
    risk_date_value: dt.date,
    risk: Risk | None,
    quarter_pays: tuple[QuarterPay, ...],
    task: str,
    digest: str,
) -> Submission:
    """A well-formed Submission, or INVALID_ARGUMENT with every bad field."""
    found = Violations()
    employer = employer_parent(parent, found)
    if not _REFERENCE.fullmatch(reference):
        found.add(
            "declaration_reference",
            "1 to 64 letters, digits or ._:-",
            "INVALID_DECLARATION_REFERENCE",
        )
    worker = insz(insz_value, found)
    if risk is None:
        found.add("risk", "exactly one risk (it names the scenario)", "SCENARIO_REQUIRED")
        scenario = None
    else:
        scenario = scenario_of(risk)
    day = risk_date(risk_date_value, found, scenario)
    checked: Risk | None = None
    if risk is not None:
        checked = _RISKS[type(risk)](found, risk, day)
    quarters(found, quarter_pays, day)
    task_key = task_id(task, employer, found) if task and employer else ""
    if task and not employer and not any(v.field == "task" for v in found.items):
        found.add("task", "a task of the declaring employer", "INVALID_TASK")
    found.raise_if_any()
    assert checked is not None  # found would have a SCENARIO_REQUIRED violation
    return Submission(employer, reference, worker, day, checked, quarter_pays, task_key, digest)


def prefill_request(
    parent: str, insz_value: str, scenario: Scenario | None, day: dt.date
) -> tuple[str, str, Scenario, dt.date]:
    found = Violations()
    employer = employer_parent(parent, found)
    worker = insz(insz_value, found)
    _scenario(found, scenario)
    risk_date(day, found, scenario)
    found.raise_if_any()
    assert scenario is not None
    return employer, worker, scenario, day


#: What an institution may ask an employer for (today: a mutuality's ZIMA 001).
REQUESTABLE = frozenset({Scenario.SICKNESS_INCAPACITY})


def declaration_request(
    request_id: str, employer: str, insz_value: str, scenario: Scenario | None, day: dt.date
) -> tuple[str, str, str, Scenario, dt.date]:
    """RequestDeclaration's fields: (request id, employer, INSZ, scenario, risk date)."""
    found = Violations()
    if not _is_uuid(request_id):
        found.add("request_id", "a UUID (lower-case, with dashes)", "INVALID_REQUEST_ID")
    number = _onss(found, employer, "employer", "INVALID_EMPLOYER")
    worker = insz(insz_value, found)
    if scenario not in REQUESTABLE:
        found.add("scenario", "SCENARIO_SICKNESS_INCAPACITY", "SCENARIO_NOT_REQUESTABLE")
    risk_date(day, found)
    found.raise_if_any()
    assert scenario is not None
    return request_id, number, worker, scenario, day
