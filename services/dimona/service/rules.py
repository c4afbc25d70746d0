"""The rules a Dimona period must satisfy on its own, as tables: worker types' required and
forbidden fields, joint committees, flexi-job committees, the student quota.

The brief (domain §2) names the worker types and some rules (STU: start and end together,
planned hours against the quota; FLX: written contract per quarter, oral per day with hours;
EXT/STX: per day with hours in JC 144/145/302/320/322, at most 2 consecutive days). The rest of
the table is our reading, **UNCONFIRMED** against the ONSS instructions, and kept here as data so
that a correction is one line:

| type | joint committee  | end date | planned hours | one day + times | other |
|------|------------------|----------|---------------|-----------------|-------|
| OTH  | required         | optional | forbidden     | no              | |
| STU  | required         | required | required      | no              | one quarter; quota |
| FLX  | flexi table      | required | forbidden     | oral contract   | written: one quarter; T-3 |
| EXT  | 144/145/302/320/322 | start | forbidden     | yes             | ≤ 2 days in a row |
| STX  | 144/145/302/320/322 | start | forbidden     | yes             | ≤ 2 days in a row; quota |
| DWD  | optional         | optional | forbidden     | no              | |
| IVT  | required         | required | forbidden     | no              | |
| A17  | forbidden        | required | forbidden     | no              | |
| BCW  | 124              | optional | forbidden     | no              | |
| TRI  | required         | required | forbidden     | no              | |
| STG  | forbidden        | required | forbidden     | no              | |
| TEA  | forbidden        | optional | forbidden     | no              | |

Every type: the end date is not before the start date; an end time needs an end date; a one-day
declaration has its start and end times, the end after the start (a shift past midnight is two
declarations); the flexi contract kind is given for FLX only.

A rule broken here is a blocking anomaly: the declaration is well-formed, so it is answered OK
with status REFUSED and stored (malformed input is refused earlier, in `validation`).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from dimona.service.calendar import quarter_of
from dimona.service.model import Anomaly, FlexiContract, Severity, WorkerType


class Need(enum.Enum):
    REQUIRED = "REQUIRED"
    OPTIONAL = "OPTIONAL"
    FORBIDDEN = "FORBIDDEN"


#: Occasional work (EXT, STX): horticulture, agriculture, horeca, sports, temporary agencies.
OCCASIONAL_COMMITTEES = frozenset({"144", "145", "302", "320", "322"})
CONSTRUCTION_COMMITTEES = frozenset({"124"})


@dataclass(frozen=True)
class TypeRule:
    """What a worker type requires of a period."""

    joint_committee: Need
    end_date: Need
    planned_hours: Need
    #: Joint committees allowed (the 3-digit committee, sub-committees included); None: any.
    committees: frozenset[str] | None = None
    #: One day with its start and end times (EXT, STX, oral FLX).
    one_day: bool = False
    #: The period stays within one calendar quarter.
    within_quarter: bool = False
    #: Hours count against the student quota.
    student: bool = False
    #: FLX: the flexi committee table and the T-3 employment condition apply.
    flexi: bool = False
    #: At most this many consecutive days with one employer (EXT, STX).
    max_consecutive_days: int | None = None


_R, _O, _F = Need.REQUIRED, Need.OPTIONAL, Need.FORBIDDEN

TYPE_RULES: dict[WorkerType, TypeRule] = {
    WorkerType.OTH: TypeRule(_R, _O, _F),
    WorkerType.STU: TypeRule(_R, _R, _R, within_quarter=True, student=True),
    WorkerType.FLX: TypeRule(_R, _R, _F, within_quarter=True, flexi=True),
    WorkerType.EXT: TypeRule(
        _R, _O, _F, OCCASIONAL_COMMITTEES, one_day=True, max_consecutive_days=2
    ),
    WorkerType.STX: TypeRule(
        _R, _O, _F, OCCASIONAL_COMMITTEES, one_day=True, student=True, max_consecutive_days=2
    ),
    WorkerType.DWD: TypeRule(_O, _O, _F),
    WorkerType.IVT: TypeRule(_R, _R, _F),
    WorkerType.A17: TypeRule(_F, _R, _F),
    WorkerType.BCW: TypeRule(_R, _O, _F, CONSTRUCTION_COMMITTEES),
    WorkerType.TRI: TypeRule(_R, _R, _F),
    WorkerType.STG: TypeRule(_F, _R, _F),
    WorkerType.TEA: TypeRule(_F, _O, _F),
}

#: FLX with an oral contract: one declaration per day, with its hours.
_FLX_ORAL = TypeRule(_R, _O, _F, one_day=True, flexi=True)


def rule_for(worker_type: WorkerType, flexi: FlexiContract | None) -> TypeRule:
    if worker_type is WorkerType.FLX and flexi is FlexiContract.ORAL:
        return _FLX_ORAL
    return TYPE_RULES[worker_type]


#: Joint committees where flexi-jobs are allowed, and since when. UNCONFIRMED list: horeca (302)
#: since 1 December 2015; food retail and trade (118, 119, 201, 202, 311, 312), hairdressing and
#: beauty (314) since 1 January 2018. The 2024 extension to further sectors is not tabled here.
FLEXI_COMMITTEES: dict[str, dt.date] = {
    "302": dt.date(2015, 12, 1),
    "118": dt.date(2018, 1, 1),
    "119": dt.date(2018, 1, 1),
    "201": dt.date(2018, 1, 1),
    "202": dt.date(2018, 1, 1),
    "311": dt.date(2018, 1, 1),
    "312": dt.date(2018, 1, 1),
    "314": dt.date(2018, 1, 1),
}

#: Student quota in hours per calendar year: (first year, last year or None, hours).
#: 2017-2022 475 h; 2023-2024 600 h; from 2025 650 h (law of 10 April 2025, retroactive).
#: Before 2017 the quota was counted in days: not modelled (no hour quota, no warning).
STUDENT_QUOTA_HOURS: tuple[tuple[int, int | None, int], ...] = (
    (2017, 2022, 475),
    (2023, 2024, 600),
    (2025, None, 650),
)

#: FLX: the worker must have been employed at least this fraction of quarter T-3 elsewhere.
FLEXI_MIN_FRACTION = 0.8
#: Worker types whose periods count as employment for the flexi condition (the ordinary
#: employment relationships; students, flexi, occasional, trainees and art. 17 work do not).
FLEXI_QUALIFYING_TYPES = frozenset(
    {WorkerType.OTH, WorkerType.BCW, WorkerType.TRI, WorkerType.TEA, WorkerType.DWD}
)


def student_quota_hours(year: int) -> int:
    """The student quota of a calendar year in hours; 0 when no hour quota applies."""
    for first, last, hours in STUDENT_QUOTA_HOURS:
        if year >= first and (last is None or year <= last):
            return hours
    return 0


def committee_code(joint_committee: str) -> str:
    """The 3-digit committee of `302` or `140.03`."""
    return joint_committee.split(".", 1)[0]


def flexi_allowed(joint_committee: str, on: dt.date) -> bool:
    since = FLEXI_COMMITTEES.get(committee_code(joint_committee))
    return since is not None and since <= on


@dataclass(frozen=True)
class PeriodDraft:
    """A period's fields as a declaration would leave them, to be checked."""

    worker_type: WorkerType
    joint_committee: str
    start_date: dt.date
    start_time: int | None
    end_date: dt.date | None
    end_time: int | None
    planned_hours: int | None
    flexi_contract: FlexiContract | None
    sub_entity: str = ""
    using_employer: str = ""

    @property
    def rule(self) -> TypeRule:
        return rule_for(self.worker_type, self.flexi_contract)

    def student_minutes(self) -> int:
        """Minutes counted against the student quota (0 for other types)."""
        rule = self.rule
        if not rule.student:
            return 0
        if rule.one_day:
            if self.start_time is None or self.end_time is None:
                return 0
            return max(0, self.end_time - self.start_time)
        return (self.planned_hours or 0) * 60


def _blocking(code: str, field: str, value: object, label: str) -> Anomaly:
    return Anomaly(code, Severity.BLOCKING, field, "" if value is None else str(value), label)


def field_anomalies(draft: PeriodDraft, prefix: str) -> list[Anomaly]:
    """Blocking anomalies of a period on its own (no other period, no person consulted).

    `prefix` names the request block, e.g. `dimona_in`, for the anomalies' `field`.
    """
    out: list[Anomaly] = []
    rule = draft.rule
    kind = draft.worker_type.value

    def at(name: str) -> str:
        return f"{prefix}.{name}"

    if draft.worker_type is WorkerType.FLX and draft.flexi_contract is None:
        out.append(
            _blocking(
                "FLEXI_CONTRACT_REQUIRED",
                at("flexi_contract"),
                None,
                "a flexi-job declares its contract: written or oral",
            )
        )
    if draft.worker_type is not WorkerType.FLX and draft.flexi_contract is not None:
        out.append(
            _blocking(
                "FLEXI_CONTRACT_FORBIDDEN",
                at("flexi_contract"),
                draft.flexi_contract.value,
                f"only a flexi-job (FLX) declares a contract kind, not {kind}",
            )
        )

    jc = draft.joint_committee
    if rule.joint_committee is Need.REQUIRED and not jc:
        out.append(
            _blocking(
                "JOINT_COMMITTEE_REQUIRED",
                at("joint_committee"),
                None,
                f"worker type {kind} requires a joint committee",
            )
        )
    elif rule.joint_committee is Need.FORBIDDEN and jc:
        out.append(
            _blocking(
                "JOINT_COMMITTEE_FORBIDDEN",
                at("joint_committee"),
                jc,
                f"worker type {kind} has no joint committee",
            )
        )
    elif jc and rule.committees is not None and committee_code(jc) not in rule.committees:
        out.append(
            _blocking(
                "JOINT_COMMITTEE_NOT_ALLOWED",
                at("joint_committee"),
                jc,
                f"worker type {kind} is declared only in joint committees "
                + ", ".join(sorted(rule.committees)),
            )
        )
    if rule.flexi and jc and not flexi_allowed(jc, draft.start_date):
        out.append(
            _blocking(
                "FLEXI_JOINT_COMMITTEE_NOT_ALLOWED",
                at("joint_committee"),
                jc,
                "flexi-jobs are not allowed in this joint committee on the start date",
            )
        )

    if rule.end_date is Need.REQUIRED and draft.end_date is None:
        out.append(
            _blocking(
                "END_DATE_REQUIRED", at("end_date"), None, f"worker type {kind} needs an end date"
            )
        )
    if draft.end_date is not None and draft.end_date < draft.start_date:
        out.append(
            _blocking(
                "END_BEFORE_START",
                at("end_date"),
                draft.end_date.isoformat(),
                "the end date is before the start date",
            )
        )
    if draft.end_time is not None and draft.end_date is None and not rule.one_day:
        out.append(
            _blocking(
                "END_TIME_WITHOUT_END_DATE",
                at("end_time"),
                None,
                "an end time goes with an end date",
            )
        )

    if rule.planned_hours is Need.REQUIRED and not draft.planned_hours:
        out.append(
            _blocking(
                "PLANNED_HOURS_REQUIRED",
                at("planned_hours"),
                None,
                f"worker type {kind} declares its planned hours",
            )
        )
    elif rule.planned_hours is Need.FORBIDDEN and draft.planned_hours:
        out.append(
            _blocking(
                "PLANNED_HOURS_FORBIDDEN",
                at("planned_hours"),
                draft.planned_hours,
                f"worker type {kind} declares no planned hours",
            )
        )

    if rule.one_day:
        if draft.end_date is not None and draft.end_date != draft.start_date:
            out.append(
                _blocking(
                    "ONE_DAY_ONLY",
                    at("end_date"),
                    draft.end_date.isoformat(),
                    f"worker type {kind} is declared day by day: the end date is the start date",
                )
            )
        if draft.start_time is None:
            out.append(
                _blocking(
                    "START_TIME_REQUIRED",
                    at("start_time"),
                    None,
                    f"a {kind} day declares its start time",
                )
            )
        if draft.end_time is None:
            out.append(
                _blocking(
                    "END_TIME_REQUIRED", at("end_time"), None, f"a {kind} day declares its end time"
                )
            )
        if (
            draft.start_time is not None
            and draft.end_time is not None
            and draft.end_time <= draft.start_time
        ):
            out.append(
                _blocking(
                    "END_TIME_NOT_AFTER_START",
                    at("end_time"),
                    _hhmm(draft.end_time),
                    "the end time is not after the start time",
                )
            )

    if (
        rule.within_quarter
        and draft.end_date is not None
        and draft.end_date >= draft.start_date
        and quarter_of(draft.end_date) != quarter_of(draft.start_date)
    ):
        out.append(
            _blocking(
                "CROSSES_QUARTER",
                at("end_date"),
                draft.end_date.isoformat(),
                f"a {kind} period stays within one calendar quarter",
            )
        )
    return out


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
