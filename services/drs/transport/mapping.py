"""Protobuf messages <-> the DRS's domain (drs.service.model).

A request is read into domain values with sentinels for what the rules must refuse (a missing
date is `MISSING_DATE`, an impossible one `IMPOSSIBLE_DATE`, an unset or unknown enum None) and
handed to `service.validation`, where every rule about malformed input lives. The idempotency
digest is a SHA-256 of the request's deterministic serialization.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.drs.v1 import drs_pb2
from drs.service import validation
from drs.service.model import (
    AttestationStatus,
    Declaration,
    Employment,
    EndOfContract,
    EndReason,
    Incapacity,
    Prefill,
    QuarterPay,
    Resumption,
    Risk,
    Scenario,
    Severity,
    Status,
    Submission,
    Task,
    TaskState,
    TemporaryUnemployment,
    TemporaryUnemploymentHours,
    WorkAccident,
    declaration_name,
    task_name,
)
from drs.service.validation import IMPOSSIBLE_DATE, MISSING_DATE

SCENARIOS: dict[int, Scenario] = {
    drs_pb2.SCENARIO_UNEMPLOYMENT_END_OF_CONTRACT: Scenario.UNEMPLOYMENT_END_OF_CONTRACT,
    drs_pb2.SCENARIO_TEMPORARY_UNEMPLOYMENT: Scenario.TEMPORARY_UNEMPLOYMENT,
    drs_pb2.SCENARIO_TEMPORARY_UNEMPLOYMENT_HOURS: Scenario.TEMPORARY_UNEMPLOYMENT_HOURS,
    drs_pb2.SCENARIO_SICKNESS_INCAPACITY: Scenario.SICKNESS_INCAPACITY,
    drs_pb2.SCENARIO_SICKNESS_RESUMPTION: Scenario.SICKNESS_RESUMPTION,
    drs_pb2.SCENARIO_WORK_ACCIDENT: Scenario.WORK_ACCIDENT,
}
SCENARIO_NUMBERS = {v: k for k, v in SCENARIOS.items()}
END_REASONS: dict[int, EndReason] = {
    drs_pb2.END_REASON_DISMISSAL: EndReason.DISMISSAL,
    drs_pb2.END_REASON_FIXED_TERM_END: EndReason.FIXED_TERM_END,
    drs_pb2.END_REASON_RESIGNATION: EndReason.RESIGNATION,
    drs_pb2.END_REASON_MUTUAL_AGREEMENT: EndReason.MUTUAL_AGREEMENT,
    drs_pb2.END_REASON_SERIOUS_MISCONDUCT: EndReason.SERIOUS_MISCONDUCT,
}
END_REASON_NUMBERS = {v: k for k, v in END_REASONS.items()}
_STATUS = {
    Status.ACCEPTED: drs_pb2.DECLARATION_STATUS_ACCEPTED,
    Status.ACCEPTED_WITH_WARNINGS: drs_pb2.DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS,
    Status.REFUSED: drs_pb2.DECLARATION_STATUS_REFUSED,
}
_ATTESTATION = {
    AttestationStatus.NONE: drs_pb2.ATTESTATION_STATUS_UNSPECIFIED,
    AttestationStatus.PENDING: drs_pb2.ATTESTATION_STATUS_PENDING,
    AttestationStatus.DELIVERED: drs_pb2.ATTESTATION_STATUS_DELIVERED,
    AttestationStatus.ACKNOWLEDGED: drs_pb2.ATTESTATION_STATUS_ACKNOWLEDGED,
    AttestationStatus.DEAD_LETTERED: drs_pb2.ATTESTATION_STATUS_DEAD_LETTERED,
}
_SEVERITY = {
    Severity.BLOCKING: types_pb2.SEVERITY_BLOCKING,
    Severity.WARNING: types_pb2.SEVERITY_WARNING,
}
_TASK_STATE = {TaskState.OPEN: drs_pb2.TASK_STATE_OPEN, TaskState.DONE: drs_pb2.TASK_STATE_DONE}


# -- messages -> domain -----------------------------------------------------------------------


def date_of(message: Any, field: str) -> dt.date:
    """A required date: the value, MISSING_DATE or IMPOSSIBLE_DATE."""
    if not message.HasField(field):
        return MISSING_DATE
    d = getattr(message, field)
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        return IMPOSSIBLE_DATE


def _optional_date(message: Any, field: str) -> dt.date | None:
    return date_of(message, field) if message.HasField(field) else None


def scenario(number: int) -> Scenario | None:
    return SCENARIOS.get(number)


def risk(request: drs_pb2.SubmitDeclarationRequest) -> Risk | None:
    which = request.WhichOneof("risk")
    if which == "end_of_contract":
        m = request.end_of_contract
        return EndOfContract(
            END_REASONS.get(m.reason),  # type: ignore[arg-type] - None is refused by validation
            date_of(m, "contract_end_date"),
            m.notice_indemnity,
            m.company_supplement,
        )
    if which == "temporary_unemployment":
        t = request.temporary_unemployment
        return TemporaryUnemployment(t.type, _optional_date(t, "planned_end_date"))
    if which == "temporary_unemployment_hours":
        h = request.temporary_unemployment_hours
        return TemporaryUnemploymentHours(h.type, h.hours, h.days)
    if which == "incapacity":
        i = request.incapacity
        return Incapacity(
            date_of(i, "last_day_worked"),
            i.maternity_protection,
            _optional_date(i, "guaranteed_salary_end"),
        )
    if which == "resumption":
        r = request.resumption
        return Resumption(r.part_time, r.weekly_hours)
    if which == "work_accident":
        w = request.work_accident
        return WorkAccident(w.place, w.description, w.insurer_kbo, w.policy_number, w.on_the_way)
    return None


def digest(request: drs_pb2.SubmitDeclarationRequest) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def submission(request: drs_pb2.SubmitDeclarationRequest) -> Submission:
    """A well-formed submission, or INVALID_ARGUMENT with every bad field (nothing stored)."""
    return validation.submission(
        parent=request.parent,
        reference=request.declaration_reference,
        insz_value=request.insz,
        risk_date_value=date_of(request, "risk_date"),
        risk=risk(request),
        quarter_pays=tuple(
            QuarterPay(q.year, q.quarter, q.days, q.hours, q.pay) for q in request.quarters
        ),
        task=request.task,
        digest=digest(request),
    )


# -- domain -> messages -----------------------------------------------------------------------


def pb_date(value: dt.date | None) -> date_pb2.Date | None:
    if value is None:
        return None
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def quarter_pay(q: QuarterPay) -> drs_pb2.QuarterPay:
    return drs_pb2.QuarterPay(year=q.year, quarter=q.quarter, days=q.days, hours=q.hours, pay=q.pay)


def employment(e: Employment) -> drs_pb2.Employment:
    return drs_pb2.Employment(
        period_id=e.period_id,
        worker_type=e.worker_type,
        joint_committee=e.joint_committee,
        start_date=pb_date(e.start),
        end_date=pb_date(e.end),
    )


def prefill(p: Prefill) -> drs_pb2.Prefill:
    w = p.worker
    return drs_pb2.Prefill(
        worker=drs_pb2.Worker(
            insz=w.insz,
            last_name=w.last_name,
            first_names=list(w.first_names),
            birth_date=pb_date(w.birth_date),
            deceased=w.deceased,
        ),
        employment=employment(p.employment),
        quarters=[quarter_pay(q) for q in p.quarters],
        deadline=pb_date(p.deadline),
    )


def declaration(d: Declaration) -> drs_pb2.Declaration:
    return drs_pb2.Declaration(
        name=d.name,
        declaration_reference=d.reference,
        scenario=SCENARIO_NUMBERS[d.scenario],
        insz=d.insz,
        risk_date=pb_date(d.risk_date),
        status=_STATUS[d.status],
        anomalies=[
            drs_pb2.Anomaly(
                code=a.code,
                severity=_SEVERITY[a.severity],
                field=a.field,
                value=a.value,
                label=a.label,
            )
            for a in d.anomalies
        ],
        late=d.late,
        deadline=pb_date(d.deadline),
        attestation_id=d.attestation_id,
        attestation_kind=d.attestation_kind,
        destination=d.destination,
        attestation_status=_ATTESTATION[d.attestation_status],
        task=task_name(d.employer, d.task) if d.task else "",
        submitted_by=d.submitted_by,
        submit_time=timestamp(d.submitted_at),
        acting_person=d.acting_person,
    )


def task(t: Task) -> drs_pb2.Task:
    return drs_pb2.Task(
        name=t.name,
        scenario=SCENARIO_NUMBERS[t.scenario],
        insz=t.insz,
        risk_date=pb_date(t.risk_date),
        requested_by=t.requested_by,
        request_time=timestamp(t.requested_at),
        deadline=pb_date(t.deadline),
        state=_TASK_STATE[t.state],
        declaration=declaration_name(t.employer, t.declaration) if t.declaration else "",
    )
