"""Protobuf <-> DIMONA's domain. Copies fields only: what is a valid value is decided by the
service layer (`dimona.service.validation`)."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from google.type import date_pb2, timeofday_pb2

from cbss.common.v1 import types_pb2
from cbss.dimona.v1 import dimona_pb2
from dimona.service.commands import (
    CancelForm,
    InForm,
    OutForm,
    RawActualHours,
    RawAddress,
    RawDate,
    RawIdentification,
    RawTime,
    Submission,
    UpdateForm,
)
from dimona.service.model import (
    Action,
    Anomaly,
    Declaration,
    EmploymentEvent,
    EventKind,
    FlexiContract,
    Period,
    PeriodState,
    Severity,
    Sex,
    Status,
    StudentBalance,
    StudentQuarterBalance,
    WorkerType,
)

_WORKER_TYPES = {getattr(dimona_pb2, f"WORKER_TYPE_{t.value}"): t for t in WorkerType}
_WORKER_TYPES_OUT = {t: v for v, t in _WORKER_TYPES.items()}
_FLEXI = {
    dimona_pb2.FLEXI_CONTRACT_WRITTEN: FlexiContract.WRITTEN,
    dimona_pb2.FLEXI_CONTRACT_ORAL: FlexiContract.ORAL,
}
_FLEXI_OUT = {v: k for k, v in _FLEXI.items()}
_SEX = {
    types_pb2.SEX_MALE: Sex.MALE,
    types_pb2.SEX_FEMALE: Sex.FEMALE,
    types_pb2.SEX_UNKNOWN: Sex.UNKNOWN,
}
_ACTION = {
    Action.IN: dimona_pb2.DECLARATION_ACTION_IN,
    Action.OUT: dimona_pb2.DECLARATION_ACTION_OUT,
    Action.UPDATE: dimona_pb2.DECLARATION_ACTION_UPDATE,
    Action.CANCEL: dimona_pb2.DECLARATION_ACTION_CANCEL,
}
_STATUS = {
    Status.ACCEPTED: dimona_pb2.DECLARATION_STATUS_ACCEPTED,
    Status.ACCEPTED_WITH_WARNINGS: dimona_pb2.DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS,
    Status.REFUSED: dimona_pb2.DECLARATION_STATUS_REFUSED,
}
_SEVERITY = {
    Severity.BLOCKING: types_pb2.SEVERITY_BLOCKING,
    Severity.WARNING: types_pb2.SEVERITY_WARNING,
}
_STATE = {
    PeriodState.ACTIVE: dimona_pb2.PERIOD_STATE_ACTIVE,
    PeriodState.CANCELLED: dimona_pb2.PERIOD_STATE_CANCELLED,
}
_EVENT = {
    EventKind.STARTED: dimona_pb2.EMPLOYMENT_EVENT_KIND_STARTED,
    EventKind.ENDED: dimona_pb2.EMPLOYMENT_EVENT_KIND_ENDED,
    EventKind.CHANGED: dimona_pb2.EMPLOYMENT_EVENT_KIND_CHANGED,
    EventKind.CANCELLED: dimona_pb2.EMPLOYMENT_EVENT_KIND_CANCELLED,
}


# -- in ------------------------------------------------------------------------------------


def raw_date(message: object, field: str) -> RawDate:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    d = getattr(message, field)
    return (d.year, d.month, d.day)


def raw_time(message: object, field: str) -> RawTime:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    t = getattr(message, field)
    return (t.hours, t.minutes, t.seconds, t.nanos)


def worker_type(value: int) -> WorkerType | None:
    return _WORKER_TYPES.get(value)


def submission(request: dimona_pb2.SubmitDeclarationRequest) -> Submission:
    which = request.WhichOneof("form")
    form: InForm | OutForm | UpdateForm | CancelForm | None = None
    if which == "dimona_in":
        form = _in(request.dimona_in)
    elif which == "dimona_out":
        o = request.dimona_out
        form = OutForm(o.period_id, raw_date(o, "end_date"), raw_time(o, "end_time"), o.insz)
    elif which == "dimona_update":
        u = request.dimona_update
        form = UpdateForm(
            period_id=u.period_id,
            start_date=raw_date(u, "start_date"),
            start_time=raw_time(u, "start_time"),
            end_date=raw_date(u, "end_date"),
            end_time=raw_time(u, "end_time"),
            planned_hours=u.planned_hours if u.HasField("planned_hours") else None,
            joint_committee=u.joint_committee if u.HasField("joint_committee") else None,
            worker_type=worker_type(u.worker_type),
            sub_entity=u.sub_entity if u.HasField("sub_entity") else None,
            using_employer=u.using_employer if u.HasField("using_employer") else None,
        )
    elif which == "dimona_cancel":
        form = CancelForm(request.dimona_cancel.period_id)
    return Submission(request.parent, request.declaration_reference, form)


def actual_hours(request: dimona_pb2.RecordStudentActualHoursRequest) -> list[RawActualHours]:
    return [RawActualHours(e.insz, e.minutes) for e in request.entries]


def _in(m: dimona_pb2.DimonaIn) -> InForm:
    insz: str | None = None
    identification: RawIdentification | None = None
    which = m.worker.WhichOneof("identity") if m.HasField("worker") else None
    if which == "insz":
        insz = m.worker.insz
    elif which == "identification":
        i = m.worker.identification
        a = i.address
        identification = RawIdentification(
            last_name=i.last_name,
            first_names=tuple(i.first_names),
            sex=_SEX.get(i.sex),
            birth_date=raw_date(i, "birth_date"),
            birth_place=i.birth_place,
            nationality=i.nationality,
            address=(
                RawAddress(
                    a.street, a.house_number, a.box, a.postcode, a.municipality, a.country_code
                )
                if i.HasField("address")
                else None
            ),
        )
    return InForm(
        insz=insz,
        identification=identification,
        worker_type=worker_type(m.worker_type),
        joint_committee=m.joint_committee,
        start_date=raw_date(m, "start_date"),
        start_time=raw_time(m, "start_time"),
        end_date=raw_date(m, "end_date"),
        end_time=raw_time(m, "end_time"),
        planned_hours=m.planned_hours,
        flexi_contract=_FLEXI.get(m.flexi_contract),
        sub_entity=m.sub_entity,
        using_employer=m.using_employer,
    )


# -- out -----------------------------------------------------------------------------------


def _date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _time(minutes: int) -> timeofday_pb2.TimeOfDay:
    return timeofday_pb2.TimeOfDay(hours=minutes // 60, minutes=minutes % 60)


def _timestamp(instant: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def period(p: Period) -> dimona_pb2.Period:
    out = dimona_pb2.Period(
        name=p.name,
        period_id=p.period_id,
        employer=p.employer,
        worker_insz=p.worker,
        worker_type=_WORKER_TYPES_OUT[p.worker_type],
        joint_committee=p.joint_committee,
        sub_entity=p.sub_entity,
        using_employer=p.using_employer,
        start_date=_date(p.start_date),
        planned_hours=p.planned_hours,
        flexi_contract=_FLEXI_OUT.get(p.flexi_contract, 0) if p.flexi_contract else 0,
        state=_STATE[p.state],
        student_minutes=p.student_minutes,
        exceeding_minutes=p.exceeding_minutes,
        late=p.late,
        create_time=_timestamp(p.created_at),
        update_time=_timestamp(p.updated_at),
    )
    if p.start_time is not None:
        out.start_time.CopyFrom(_time(p.start_time))
    if p.end_date is not None:
        out.end_date.CopyFrom(_date(p.end_date))
    if p.end_time is not None:
        out.end_time.CopyFrom(_time(p.end_time))
    return out


def anomaly(a: Anomaly) -> dimona_pb2.Anomaly:
    return dimona_pb2.Anomaly(
        code=a.code, severity=_SEVERITY[a.severity], field=a.field, value=a.value, label=a.label
    )


def declaration(d: Declaration) -> dimona_pb2.Declaration:
    out = dimona_pb2.Declaration(
        name=d.name,
        declaration_reference=d.reference,
        action=_ACTION[d.action],
        status=_STATUS[d.status],
        anomalies=[anomaly(a) for a in d.anomalies],
        period_id=d.period_id,
        worker_insz=d.worker,
        late=d.late,
        submitted_by=d.submitted_by,
        submitted_at=_timestamp(d.submitted_at),
        acting_person=d.acting_person,
    )
    if d.period is not None:
        out.period.CopyFrom(period(d.period))
    if d.deadline is not None:
        out.deadline.CopyFrom(_timestamp(d.deadline))
    return out


def student_balance(b: StudentBalance) -> dimona_pb2.StudentBalance:
    return dimona_pb2.StudentBalance(
        insz=b.insz,
        year=b.year,
        quota_hours=b.quota_hours,
        used_minutes=b.used_minutes,
        remaining_minutes=b.remaining_minutes,
        exceeding_minutes=b.exceeding_minutes,
        quarter_minutes=list(b.quarter_minutes),
    )


def student_quarter_balance(b: StudentQuarterBalance) -> dimona_pb2.StudentQuarterBalance:
    return dimona_pb2.StudentQuarterBalance(
        insz=b.insz,
        quota_hours=b.quota_hours,
        used_minutes=b.used_minutes,
        employer_quarter_minutes=b.employer_quarter_minutes,
    )


def event(e: EmploymentEvent) -> dimona_pb2.EmploymentEvent:
    return dimona_pb2.EmploymentEvent(
        sequence=e.sequence,
        kind=_EVENT[e.kind],
        period=period(e.period),
        declaration=e.declaration,
        record_time=_timestamp(e.recorded_at),
    )
