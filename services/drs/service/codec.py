"""The risk data, the employment and quarters as JSON documents: how storage keeps them (read
whole, never queried inside) and how an attestation's payload carries them. Dates are ISO
8601 text, enums their names, amounts integer cents, days and hours hundredths."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

from drs.service.model import (
    Employment,
    EndOfContract,
    EndReason,
    Incapacity,
    QuarterPay,
    Resumption,
    Risk,
    Scenario,
    TemporaryUnemployment,
    TemporaryUnemploymentHours,
    WorkAccident,
)

_RISK_TYPES: dict[Scenario, type] = {
    Scenario.UNEMPLOYMENT_END_OF_CONTRACT: EndOfContract,
    Scenario.TEMPORARY_UNEMPLOYMENT: TemporaryUnemployment,
    Scenario.TEMPORARY_UNEMPLOYMENT_HOURS: TemporaryUnemploymentHours,
    Scenario.SICKNESS_INCAPACITY: Incapacity,
    Scenario.SICKNESS_RESUMPTION: Resumption,
    Scenario.WORK_ACCIDENT: WorkAccident,
}
_DATE_FIELDS = frozenset(
    {"contract_end", "planned_end", "last_day_worked", "guaranteed_salary_end"}
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def risk_to_json(risk: Risk) -> dict[str, Any]:
    return {f.name: _plain(getattr(risk, f.name)) for f in dataclasses.fields(risk)}


def risk_from_json(scenario: Scenario, body: dict[str, Any]) -> Risk:
    values = dict(body)
    for name in _DATE_FIELDS & values.keys():
        if values[name] is not None:
            values[name] = dt.date.fromisoformat(values[name])
    if scenario is Scenario.UNEMPLOYMENT_END_OF_CONTRACT:
        values["reason"] = EndReason(values["reason"])
    return _RISK_TYPES[scenario](**values)  # type: ignore[no-any-return]


def employment_to_json(e: Employment | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "period_id": e.period_id,
        "worker_type": e.worker_type,
        "joint_committee": e.joint_committee,
        "start_date": e.start.isoformat(),
        "end_date": e.end.isoformat() if e.end else None,
    }


def employment_from_json(body: dict[str, Any] | None) -> Employment | None:
    if body is None:
        return None
    return Employment(
        body["period_id"],
        body["worker_type"],
        body["joint_committee"],
        dt.date.fromisoformat(body["start_date"]),
        dt.date.fromisoformat(body["end_date"]) if body["end_date"] else None,
    )


def quarters_to_json(items: tuple[QuarterPay, ...]) -> list[list[int]]:
    return [[q.year, q.quarter, q.days, q.hours, q.pay] for q in items]


def quarters_from_json(rows: list[list[int]]) -> tuple[QuarterPay, ...]:
    return tuple(QuarterPay(*row) for row in rows)
