"""Every worker type's field rules, joint committees, the flexi table and the quota table."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dimona.service.model import FlexiContract, WorkerType
from dimona.service.rules import (
    TYPE_RULES,
    Need,
    PeriodDraft,
    field_anomalies,
    flexi_allowed,
    student_quota_hours,
)

MON = dt.date(2025, 6, 2)

#: One valid period per worker type (and per flexi contract kind).
VALID: dict[str, PeriodDraft] = {
    "OTH": PeriodDraft(WorkerType.OTH, "200", MON, None, None, None, None, None),
    "STU": PeriodDraft(WorkerType.STU, "202", MON, None, dt.date(2025, 6, 30), None, 80, None),
    "FLX-written": PeriodDraft(
        WorkerType.FLX, "302", MON, None, dt.date(2025, 6, 30), None, None, FlexiContract.WRITTEN
    ),
    "FLX-oral": PeriodDraft(WorkerType.FLX, "302", MON, 18 * 60, MON, 23 * 60, None,
                            FlexiContract.ORAL),
    "EXT": PeriodDraft(WorkerType.EXT, "302", MON, 10 * 60, MON, 16 * 60, None, None),
    "STX": PeriodDraft(WorkerType.STX, "145", MON, 8 * 60, None, 12 * 60 + 30, None, None),
    "DWD": PeriodDraft(WorkerType.DWD, "", MON, None, None, None, None, None),
    "IVT": PeriodDraft(WorkerType.IVT, "200", MON, None, dt.date(2025, 12, 31), None, None, None),
    "A17": PeriodDraft(WorkerType.A17, "", MON, None, dt.date(2025, 6, 8), None, None, None),
    "BCW": PeriodDraft(WorkerType.BCW, "124", MON, None, None, None, None, None),
    "TRI": PeriodDraft(WorkerType.TRI, "200", MON, None, dt.date(2025, 11, 30), None, None, None),
    "STG": PeriodDraft(WorkerType.STG, "", MON, None, dt.date(2025, 8, 31), None, None, None),
    "TEA": PeriodDraft(WorkerType.TEA, "", MON, None, None, None, None, None),
}  # fmt: skip


def codes(draft: PeriodDraft) -> list[str]:
    return [a.code for a in field_anomalies(draft, "dimona_in")]


def test_every_worker_type_has_a_rule_and_a_valid_example_when_tabled() -> None:
    assert set(TYPE_RULES) == set(WorkerType)
    assert {v.worker_type for v in VALID.values()} == set(WorkerType)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_period_has_no_anomaly_when_fields_follow_its_type(name: str) -> None:
    assert codes(VALID[name]) == []


@pytest.mark.parametrize(
    "worker_type", [t for t, r in TYPE_RULES.items() if r.joint_committee is Need.REQUIRED]
)
def test_missing_joint_committee_is_refused_when_type_requires_one(
    worker_type: WorkerType,
) -> None:
    draft = next(v for v in VALID.values() if v.worker_type is worker_type)
    assert "JOINT_COMMITTEE_REQUIRED" in codes(dataclasses.replace(draft, joint_committee=""))


@pytest.mark.parametrize(
    "worker_type", [t for t, r in TYPE_RULES.items() if r.joint_committee is Need.FORBIDDEN]
)
def test_joint_committee_is_refused_when_type_forbids_it(worker_type: WorkerType) -> None:
    draft = next(v for v in VALID.values() if v.worker_type is worker_type)
    assert codes(dataclasses.replace(draft, joint_committee="200")) == ["JOINT_COMMITTEE_FORBIDDEN"]


@pytest.mark.parametrize(
    "worker_type",
    [
        t
        for t, r in TYPE_RULES.items()
        if r.end_date is Need.REQUIRED and not r.one_day and t is not WorkerType.FLX
    ],
)
def test_missing_end_date_is_refused_when_type_requires_one(worker_type: WorkerType) -> None:
    draft = next(v for v in VALID.values() if v.worker_type is worker_type)
    assert codes(dataclasses.replace(draft, end_date=None)) == ["END_DATE_REQUIRED"]


def test_written_flexi_needs_an_end_date_when_declared() -> None:
    assert codes(dataclasses.replace(VALID["FLX-written"], end_date=None)) == ["END_DATE_REQUIRED"]


@pytest.mark.parametrize("name", sorted(set(VALID) - {"STU"}))
def test_planned_hours_are_refused_when_type_is_not_student(name: str) -> None:
    assert codes(dataclasses.replace(VALID[name], planned_hours=10)) == ["PLANNED_HOURS_FORBIDDEN"]


def test_student_needs_planned_hours_when_declared() -> None:
    assert codes(dataclasses.replace(VALID["STU"], planned_hours=None)) == [
        "PLANNED_HOURS_REQUIRED"
    ]


@pytest.mark.parametrize("name", ["EXT", "STX", "FLX-oral"])
def test_one_day_types_need_times_and_one_day_when_declared(name: str) -> None:
    draft = VALID[name]
    assert codes(dataclasses.replace(draft, start_time=None)) == ["START_TIME_REQUIRED"]
    assert codes(dataclasses.replace(draft, end_time=None)) == ["END_TIME_REQUIRED"]
    assert codes(dataclasses.replace(draft, end_date=MON + dt.timedelta(days=1))) == [
        "ONE_DAY_ONLY"
    ]
    assert codes(dataclasses.replace(draft, end_time=draft.start_time)) == [
        "END_TIME_NOT_AFTER_START"
    ]


@pytest.mark.parametrize(("name", "jc"), [("EXT", "200"), ("STX", "124"), ("BCW", "200")])
def test_joint_committee_outside_the_types_list_is_refused_when_type_restricts_it(
    name: str, jc: str
) -> None:
    assert codes(dataclasses.replace(VALID[name], joint_committee=jc)) == [
        "JOINT_COMMITTEE_NOT_ALLOWED"
    ]


def test_subcommittee_counts_as_its_committee_when_list_restricts_it() -> None:
    assert codes(dataclasses.replace(VALID["EXT"], joint_committee="145.04")) == []


@pytest.mark.parametrize("name", ["STU", "FLX-written"])
def test_period_crossing_a_quarter_is_refused_when_type_stays_in_one(name: str) -> None:
    draft = dataclasses.replace(VALID[name], end_date=dt.date(2025, 7, 1))
    assert codes(draft) == ["CROSSES_QUARTER"]


def test_ordinary_period_may_cross_quarters_when_declared() -> None:
    assert codes(dataclasses.replace(VALID["OTH"], end_date=dt.date(2026, 1, 31))) == []


def test_flexi_contract_is_required_for_flx_and_forbidden_elsewhere_when_declared() -> None:
    assert "FLEXI_CONTRACT_REQUIRED" in codes(
        dataclasses.replace(VALID["FLX-written"], flexi_contract=None)
    )
    assert codes(dataclasses.replace(VALID["OTH"], flexi_contract=FlexiContract.WRITTEN)) == [
        "FLEXI_CONTRACT_FORBIDDEN"
    ]


def test_flexi_committee_is_checked_on_the_start_date_when_table_has_a_since_date() -> None:
    assert flexi_allowed("302", dt.date(2015, 12, 1))
    assert not flexi_allowed("302", dt.date(2015, 11, 30))
    assert not flexi_allowed("202", dt.date(2017, 12, 31))
    assert flexi_allowed("202.01", dt.date(2018, 1, 1))
    draft = dataclasses.replace(VALID["FLX-written"], joint_committee="124")
    assert codes(draft) == ["FLEXI_JOINT_COMMITTEE_NOT_ALLOWED"]


def test_end_before_start_is_refused_when_declared() -> None:
    draft = dataclasses.replace(VALID["OTH"], end_date=MON - dt.timedelta(days=1))
    assert codes(draft) == ["END_BEFORE_START"]


def test_end_time_without_end_date_is_refused_when_period_is_not_one_day() -> None:
    assert codes(dataclasses.replace(VALID["OTH"], end_time=17 * 60)) == [
        "END_TIME_WITHOUT_END_DATE"
    ]


@pytest.mark.parametrize(
    ("year", "hours"),
    [(2016, 0), (2017, 475), (2022, 475), (2023, 600), (2024, 600), (2025, 650), (2031, 650)],
)
def test_student_quota_follows_the_table_when_year_changes(year: int, hours: int) -> None:
    assert student_quota_hours(year) == hours


def test_student_minutes_are_planned_hours_or_day_hours_when_student() -> None:
    assert VALID["STU"].student_minutes() == 80 * 60
    assert VALID["STX"].student_minutes() == 4 * 60 + 30
    assert VALID["OTH"].student_minutes() == 0
    assert VALID["EXT"].student_minutes() == 0
