"""JSON forms of periods and anomalies, as stored in a declaration's answer and in the event log
(both immutable snapshots: a retried declaration answers exactly what it answered first, and an
event says what the period was after its change)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from dimona.service.model import (
    Anomaly,
    FlexiContract,
    Period,
    PeriodState,
    Severity,
    WorkerType,
)


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def period_to_json(p: Period) -> dict[str, Any]:
    return {
        "period_id": p.period_id,
        "employer": p.employer,
        "worker": p.worker,
        "worker_type": p.worker_type.value,
        "joint_committee": p.joint_committee,
        "sub_entity": p.sub_entity,
        "using_employer": p.using_employer,
        "start_date": p.start_date.isoformat(),
        "start_time": p.start_time,
        "end_date": _date(p.end_date),
        "end_time": p.end_time,
        "planned_hours": p.planned_hours,
        "flexi_contract": p.flexi_contract.value if p.flexi_contract else None,
        "state": p.state.value,
        "student_minutes": p.student_minutes,
        "exceeding_minutes": p.exceeding_minutes,
        "late": p.late,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


def period_from_json(d: Mapping[str, Any]) -> Period:
    return Period(
        period_id=int(d["period_id"]),
        employer=d["employer"],
        worker=d["worker"],
        worker_type=WorkerType(d["worker_type"]),
        joint_committee=d["joint_committee"],
        sub_entity=d["sub_entity"],
        using_employer=d["using_employer"],
        start_date=dt.date.fromisoformat(d["start_date"]),
        start_time=d["start_time"],
        end_date=dt.date.fromisoformat(d["end_date"]) if d["end_date"] else None,
        end_time=d["end_time"],
        planned_hours=int(d["planned_hours"]),
        flexi_contract=FlexiContract(d["flexi_contract"]) if d["flexi_contract"] else None,
        state=PeriodState(d["state"]),
        student_minutes=int(d["student_minutes"]),
        exceeding_minutes=int(d["exceeding_minutes"]),
        late=bool(d["late"]),
        created_at=_utc(dt.datetime.fromisoformat(d["created_at"])),
        updated_at=_utc(dt.datetime.fromisoformat(d["updated_at"])),
    )


def anomalies_to_json(anomalies: Iterable[Anomaly]) -> list[dict[str, str]]:
    return [
        {
            "code": a.code,
            "severity": a.severity.value,
            "field": a.field,
            "value": a.value,
            "label": a.label,
        }
        for a in anomalies
    ]


def anomalies_from_json(items: Iterable[Mapping[str, str]]) -> tuple[Anomaly, ...]:
    return tuple(
        Anomaly(i["code"], Severity(i["severity"]), i["field"], i["value"], i["label"])
        for i in items
    )
