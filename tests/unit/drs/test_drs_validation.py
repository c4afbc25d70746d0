"""Malformed requests: INVALID_ARGUMENT with every bad field (path and reason), nothing looked
up. Each scenario's required fields and ranges; names; the reference quarters' window; and
properties: reading a request never raises anything but InvalidArgument, references and
quarters are accepted exactly when the contract says."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbss.drs.v1 import drs_pb2
from drs.service import validation
from drs.service.model import (
    EndOfContract,
    EndReason,
    Incapacity,
    Quarter,
    Resumption,
    Scenario,
    Submission,
    TemporaryUnemployment,
    TemporaryUnemploymentHours,
    WorkAccident,
)
from drs.transport import mapping
from runtime.errors import InvalidArgument
from tests.unit.drs import protos as p
from tests.unit.drs.fakes import ETHIAS_KBO, RETAIL, WORKER

DAY = dt.date(2026, 10, 14)


def read(request: drs_pb2.SubmitDeclarationRequest) -> Submission:
    return mapping.submission(request)


def refused(request: drs_pb2.SubmitDeclarationRequest) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        read(request)
    return caught.value


def fields(err: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.reason) for v in err.violations]


def request(**risk: object) -> drs_pb2.SubmitDeclarationRequest:
    return p.submit(RETAIL, "ref-1", WORKER, DAY, **risk)  # type: ignore[arg-type]


# -- well-formed: every scenario becomes its domain risk ------------------------------------


def test_each_scenario_becomes_its_domain_risk_when_well_formed() -> None:
    cases = [
        (p.end_of_contract(DAY, indemnity=120_000), Scenario.UNEMPLOYMENT_END_OF_CONTRACT),
        (p.temporary("011", DAY + dt.timedelta(days=30)), Scenario.TEMPORARY_UNEMPLOYMENT),
        (p.incapacity(DAY - dt.timedelta(days=1), True, DAY), Scenario.SICKNESS_INCAPACITY),
        (p.resumption(True, 1_900), Scenario.SICKNESS_RESUMPTION),
        (p.work_accident(ETHIAS_KBO, "AT/2026-001"), Scenario.WORK_ACCIDENT),
    ]
    for risk, scenario in cases:
        s = read(request(**risk))
        assert s.scenario is scenario
        assert (s.employer, s.reference, s.insz, s.risk_date) == (RETAIL, "ref-1", WORKER, DAY)
    s = read(p.submit(RETAIL, "h", WORKER, dt.date(2026, 9, 1), **p.hours("002", 3_800, 5)))
    assert s.risk == TemporaryUnemploymentHours("002", 3_800, 5)
    assert read(request(**p.end_of_contract(DAY, indemnity=5))).risk == EndOfContract(
        EndReason.DISMISSAL, DAY, 5, False
    )
    assert read(request(**p.temporary())).risk == TemporaryUnemployment("001", None)
    assert read(request(**p.incapacity(DAY - dt.timedelta(days=3)))).risk == Incapacity(
        DAY - dt.timedelta(days=3), False, None
    )
    assert read(request(**p.resumption())).risk == Resumption(False, 0)


def test_insurer_kbo_is_canonical_when_given_dotted() -> None:
    s = read(request(**p.work_accident("0404.484.654", "P-1")))
    assert isinstance(s.risk, WorkAccident) and s.risk.insurer_kbo == ETHIAS_KBO


def test_digest_is_the_same_when_the_request_is_the_same_and_differs_otherwise() -> None:
    a = read(request(**p.temporary()))
    assert read(request(**p.temporary())).digest == a.digest
    assert read(request(**p.temporary("002"))).digest != a.digest


def test_task_name_becomes_its_id_when_it_is_the_employers() -> None:
    task_id = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
    s = read(
        p.submit(
            RETAIL,
            "r",
            WORKER,
            DAY,
            task=f"employers/{RETAIL}/tasks/{task_id}",
            **p.incapacity(DAY - dt.timedelta(days=1)),
        )
    )
    assert s.task == task_id


# -- malformed: the common fields -------------------------------------------------------------


def test_every_bad_common_field_is_reported_when_several_are_bad() -> None:
    bad = drs_pb2.SubmitDeclarationRequest(
        parent="employer/1", declaration_reference="a b", insz="123"
    )
    assert fields(refused(bad)) == [
        ("parent", "INVALID_PARENT"),
        ("declaration_reference", "INVALID_DECLARATION_REFERENCE"),
        ("insz", "INSZ_MALFORMED"),
        ("risk", "SCENARIO_REQUIRED"),
        ("risk_date", "INVALID_RISK_DATE"),
    ]
    assert refused(bad).reason == "INVALID_PARENT"


@pytest.mark.parametrize(
    "parent", ["", "employers/", "employers/000100007", "employers/000100006/x", "emp/000100006"]
)
def test_parent_is_invalid_when_not_an_employer_name(parent: str) -> None:
    r = request(**p.temporary())
    r.parent = parent
    assert fields(refused(r)) == [("parent", "INVALID_PARENT")]


def test_insz_reason_is_the_identifiers_when_check_digits_are_wrong() -> None:
    r = request(**p.temporary())
    r.insz = "85071412331"
    assert fields(refused(r)) == [("insz", "INSZ_CHECK_DIGITS")]


@pytest.mark.parametrize(
    "risk_date",
    [None, dt.date(2002, 12, 31), dt.date(2101, 1, 1)],
)
def test_risk_date_is_invalid_when_missing_or_out_of_range(risk_date: dt.date | None) -> None:
    r = p.submit(RETAIL, "r", WORKER, risk_date, **p.temporary())
    assert fields(refused(r)) == [("risk_date", "INVALID_RISK_DATE")]


def test_risk_date_is_invalid_when_impossible() -> None:
    r = request(**p.temporary())
    r.risk_date.day = 31
    r.risk_date.month = 9
    assert fields(refused(r)) == [("risk_date", "INVALID_RISK_DATE")]


def test_task_is_invalid_when_another_employers_or_not_a_task_name() -> None:
    for task in (
        "employers/000935467/tasks/6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab",
        f"employers/{RETAIL}/tasks/not-a-uuid",
        "tasks/6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab",
    ):
        r = request(**p.incapacity(DAY - dt.timedelta(days=1)))
        r.task = task
        assert fields(refused(r)) == [("task", "INVALID_TASK")], task


# -- malformed: each scenario's fields --------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "expected"),
    [
        (
            {"end_of_contract": drs_pb2.EndOfContract()},
            [
                ("end_of_contract.reason", "INVALID_REASON"),
                ("end_of_contract.contract_end_date", "FIELD_REQUIRED"),
            ],
        ),
        (
            p.end_of_contract(DAY - dt.timedelta(days=1), reason=99, indemnity=-1),
            [
                ("end_of_contract.reason", "INVALID_REASON"),
                ("end_of_contract.contract_end_date", "INVALID_DATE_ORDER"),
                ("end_of_contract.notice_indemnity", "INVALID_AMOUNT"),
            ],
        ),
        (p.temporary(""), [("temporary_unemployment.type", "FIELD_REQUIRED")]),
        (p.temporary("012"), [("temporary_unemployment.type", "INVALID_TYPE")]),
        (p.temporary("1"), [("temporary_unemployment.type", "INVALID_TYPE")]),
        (
            p.temporary("003", DAY - dt.timedelta(days=1)),
            [("temporary_unemployment.planned_end_date", "INVALID_DATE_ORDER")],
        ),
        (
            {"incapacity": drs_pb2.Incapacity()},
            [("incapacity.last_day_worked", "FIELD_REQUIRED")],
        ),
        (p.incapacity(DAY), [("incapacity.last_day_worked", "INVALID_DATE_ORDER")]),
        (
            p.incapacity(DAY - dt.timedelta(days=2), salary_end=DAY - dt.timedelta(days=1)),
            [("incapacity.guaranteed_salary_end", "INVALID_DATE_ORDER")],
        ),
        (p.resumption(True, 0), [("resumption.weekly_hours", "FIELD_REQUIRED")]),
        (p.resumption(True, 5_001), [("resumption.weekly_hours", "INVALID_QUANTITY")]),
        (p.resumption(False, 1_900), [("resumption.weekly_hours", "INVALID_QUANTITY")]),
        (
            p.work_accident(place="", description=" "),
            [
                ("work_accident.place", "FIELD_REQUIRED"),
                ("work_accident.description", "FIELD_REQUIRED"),
            ],
        ),
        (
            p.work_accident(place="x" * 201, description="a\x00b"),
            [
                ("work_accident.place", "INVALID_TEXT"),
                ("work_accident.description", "INVALID_TEXT"),
            ],
        ),
        (p.work_accident(place="line\nbreak"), [("work_accident.place", "INVALID_TEXT")]),
        (
            p.work_accident("0404484655", "P-1"),
            [("work_accident.insurer_kbo", "ENTERPRISE_NUMBER_CHECK_DIGITS")],
        ),
        (p.work_accident(ETHIAS_KBO, ""), [("work_accident.policy_number", "FIELD_REQUIRED")]),
        (
            p.work_accident(ETHIAS_KBO, "P 1"),
            [("work_accident.policy_number", "INVALID_POLICY_NUMBER")],
        ),
        (
            p.work_accident("", "P-1"),
            [("work_accident.policy_number", "INVALID_POLICY_NUMBER")],
        ),
    ],
)
def test_scenario_fields_are_reported_when_malformed(
    risk: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    assert fields(refused(request(**risk))) == expected


def test_work_accident_description_keeps_newlines_when_multi_line() -> None:
    s = read(request(**p.work_accident(description="First line.\nSecond line.")))
    assert isinstance(s.risk, WorkAccident) and "\n" in s.risk.description


@pytest.mark.parametrize(
    ("kind", "hours", "days", "expected"),
    [
        ("", 100, 1, [("temporary_unemployment_hours.type", "FIELD_REQUIRED")]),
        ("002", 0, 1, [("temporary_unemployment_hours.hours", "INVALID_QUANTITY")]),
        ("002", 74_401, 30, [("temporary_unemployment_hours.hours", "INVALID_QUANTITY")]),
        ("002", 100, 0, [("temporary_unemployment_hours.days", "INVALID_QUANTITY")]),
        # September has 30 days.
        ("002", 100, 31, [("temporary_unemployment_hours.days", "INVALID_QUANTITY")]),
        # More than 24 hours a day.
        ("002", 4_801, 2, [("temporary_unemployment_hours.hours", "INVALID_QUANTITY")]),
    ],
)
def test_monthly_hours_are_reported_when_out_of_range(
    kind: str, hours: int, days: int, expected: list[tuple[str, str]]
) -> None:
    r = p.submit(RETAIL, "h", WORKER, dt.date(2026, 9, 1), **p.hours(kind, hours, days))
    assert fields(refused(r)) == expected


def test_monthly_hours_risk_date_is_invalid_when_not_the_months_first_day() -> None:
    r = p.submit(RETAIL, "h", WORKER, dt.date(2026, 9, 2), **p.hours())
    assert fields(refused(r)) == [("risk_date", "INVALID_RISK_DATE")]


# -- the reference quarters -------------------------------------------------------------------


def test_quarters_are_reported_when_outside_the_window_repeated_or_out_of_range() -> None:
    r = request(**p.temporary())
    r.quarters.extend(
        [
            p.quarter(2026, 4, 100, 100, 100),  # the risk date's quarter: fine
            p.quarter(2025, 3, 100, 100, 100),  # 5 quarters before: outside
            p.quarter(2026, 4, 100, 100, 100),  # twice
            p.quarter(2026, 5, 100, 100, 100),  # no such quarter
            p.quarter(2026, 2, -1, 220_801, -5),
        ]
    )
    assert fields(refused(r)) == [
        ("quarters[1].quarter", "INVALID_QUARTER"),
        ("quarters[2].quarter", "DUPLICATE_QUARTER"),
        ("quarters[3].quarter", "INVALID_QUARTER"),
        ("quarters[4].days", "INVALID_QUANTITY"),
        ("quarters[4].hours", "INVALID_QUANTITY"),
        ("quarters[4].pay", "INVALID_AMOUNT"),
    ]


def test_quarters_are_too_many_when_more_than_five() -> None:
    r = request(**p.temporary())
    r.quarters.extend(p.quarter(2026, 1, 0, 0, 0) for _ in range(6))
    assert fields(refused(r)) == [("quarters", "TOO_MANY_ITEMS")]


@given(year=st.integers(2000, 2030), number=st.integers(0, 5))
def test_a_quarter_is_accepted_exactly_when_within_the_risk_dates_and_the_4_before(
    year: int, number: int
) -> None:
    r = request(**p.temporary())
    r.quarters.append(p.quarter(year, number, 0, 0, 0))
    latest = Quarter.of(DAY)
    inside = 1 <= number <= 4 and latest.shift(-4) <= Quarter(year, number) <= latest
    if inside:
        assert read(r).quarters[0].key == Quarter(year, number)
    else:
        assert fields(refused(r)) == [("quarters[0].quarter", "INVALID_QUARTER")]


# -- properties -------------------------------------------------------------------------------

_REFERENCE_ALPHABET = st.sampled_from(
    "abcXYZ019._:-" + " /é\x00\n"  # allowed characters, and some that are not
)


@given(st.text(_REFERENCE_ALPHABET, max_size=70))
def test_reference_is_accepted_exactly_when_1_to_64_safe_characters(reference: str) -> None:
    r = request(**p.temporary())
    r.declaration_reference = reference
    safe = 1 <= len(reference) <= 64 and all(c in "abcXYZ019._:-" for c in reference)
    if safe:
        assert read(r).reference == reference
    else:
        assert fields(refused(r)) == [("declaration_reference", "INVALID_DECLARATION_REFERENCE")]


@given(st.text(max_size=40), st.text(max_size=40))
def test_policy_number_is_accepted_exactly_when_1_to_30_allowed_characters(
    policy: str, _other: str
) -> None:
    r = request(**p.work_accident(ETHIAS_KBO, policy))
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/.-")
    ok = 1 <= len(policy) <= 30 and set(policy) <= allowed
    if ok:
        assert read(r).risk.policy_number == policy  # type: ignore[union-attr]
    else:
        reason = "FIELD_REQUIRED" if not policy else "INVALID_POLICY_NUMBER"
        assert fields(refused(r)) == [("work_accident.policy_number", reason)]


_DATES = st.one_of(
    st.none(),
    st.builds(
        lambda y, m, d: (y, m, d),
        st.integers(-1, 2200),
        st.integers(-1, 13),
        st.integers(-1, 32),
    ),
)


def _date(value: tuple[int, int, int] | None):  # noqa: ANN202
    if value is None:
        return None
    from google.type import date_pb2

    y, m, d = value
    return date_pb2.Date(year=max(y, 0), month=max(m, 0), day=max(d, 0))


_SCENARIO_OF_FIELD = {
    "end_of_contract": Scenario.UNEMPLOYMENT_END_OF_CONTRACT,
    "temporary_unemployment": Scenario.TEMPORARY_UNEMPLOYMENT,
    "temporary_unemployment_hours": Scenario.TEMPORARY_UNEMPLOYMENT_HOURS,
    "incapacity": Scenario.SICKNESS_INCAPACITY,
    "resumption": Scenario.SICKNESS_RESUMPTION,
    "work_accident": Scenario.WORK_ACCIDENT,
}


@settings(max_examples=300, deadline=None)
@given(
    parent=st.sampled_from([f"employers/{RETAIL}", "employers/x", ""]),
    reference=st.text(max_size=5),
    insz=st.sampled_from([WORKER, "", "85071412331", "x" * 11]),
    risk_date=_DATES,
    which=st.sampled_from(
        [
            "",
            "end_of_contract",
            "temporary_unemployment",
            "temporary_unemployment_hours",
            "incapacity",
            "resumption",
            "work_accident",
        ]
    ),
    number=st.integers(-(2**31), 2**31 - 1),
    text=st.text(max_size=30),
    other_date=_DATES,
    flag=st.booleans(),
    quarter_numbers=st.lists(st.integers(-5, 3000), max_size=7),
)
def test_reading_any_request_raises_only_invalid_argument_when_fuzzed(
    parent: str,
    reference: str,
    insz: str,
    risk_date: tuple[int, int, int] | None,
    which: str,
    number: int,
    text: str,
    other_date: tuple[int, int, int] | None,
    flag: bool,
    quarter_numbers: list[int],
) -> None:
    r = drs_pb2.SubmitDeclarationRequest(
        parent=parent, declaration_reference=reference or "r", insz=insz
    )
    if (d := _date(risk_date)) is not None:
        r.risk_date.CopyFrom(d)
    od = _date(other_date)
    if which == "end_of_contract":
        r.end_of_contract.reason = number % 8
        r.end_of_contract.notice_indemnity = number
        r.end_of_contract.company_supplement = flag
        if od is not None:
            r.end_of_contract.contract_end_date.CopyFrom(od)
    elif which == "temporary_unemployment":
        r.temporary_unemployment.type = text
        if od is not None:
            r.temporary_unemployment.planned_end_date.CopyFrom(od)
    elif which == "temporary_unemployment_hours":
        r.temporary_unemployment_hours.type = text
        r.temporary_unemployment_hours.hours = number
        r.temporary_unemployment_hours.days = number % 40
    elif which == "incapacity":
        if od is not None:
            r.incapacity.last_day_worked.CopyFrom(od)
            r.incapacity.guaranteed_salary_end.CopyFrom(od)
        r.incapacity.maternity_protection = flag
    elif which == "resumption":
        r.resumption.part_time = flag
        r.resumption.weekly_hours = number
    elif which == "work_accident":
        r.work_accident.insurer_kbo = text[:12]
        r.work_accident.policy_number = text
        r.work_accident.place = text
        r.work_accident.description = text
    for n in quarter_numbers:
        r.quarters.append(p.quarter(n, n % 6, n, n, n))
    try:
        s = read(r)
    except InvalidArgument as exc:
        assert exc.violations and all(v.field and v.reason for v in exc.violations)
        return
    assert s.scenario is _SCENARIO_OF_FIELD[which]
    assert validation.FIRST_DAY <= s.risk_date <= validation.LAST_DAY


# -- the other requests ------------------------------------------------------------------------


def test_prefill_request_reports_every_bad_field_when_all_are_bad() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validation.prefill_request("x", "1", None, validation.MISSING_DATE)
    assert fields(caught.value) == [
        ("parent", "INVALID_PARENT"),
        ("insz", "INSZ_MALFORMED"),
        ("scenario", "SCENARIO_REQUIRED"),
        ("risk_date", "INVALID_RISK_DATE"),
    ]


def test_declaration_request_refuses_other_scenarios_when_not_requestable() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validation.declaration_request(
            "not-a-uuid", "123", WORKER, Scenario.WORK_ACCIDENT, validation.IMPOSSIBLE_DATE
        )
    assert fields(caught.value) == [
        ("request_id", "INVALID_REQUEST_ID"),
        ("employer", "INVALID_EMPLOYER"),
        ("scenario", "SCENARIO_NOT_REQUESTABLE"),
        ("risk_date", "INVALID_RISK_DATE"),
    ]


def test_declaration_name_is_split_when_well_formed_and_refused_otherwise() -> None:
    assert validation.declaration_name(f"employers/{RETAIL}/declarations/c4-1") == (RETAIL, "c4-1")
    for bad in ("employers/x/declarations/a", f"employers/{RETAIL}/declarations/a b", ""):
        with pytest.raises(InvalidArgument) as caught:
            validation.declaration_name(bad)
        assert caught.value.reason == "INVALID_NAME"
