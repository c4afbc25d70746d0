"""Request builders for the DRS's messages (unit and integration tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.type import date_pb2

from cbss.drs.v1 import drs_pb2


def pb(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def quarter(year: int, q: int, days: int, hours: int, pay: int) -> drs_pb2.QuarterPay:
    return drs_pb2.QuarterPay(year=year, quarter=q, days=days, hours=hours, pay=pay)


def submit(
    employer: str,
    reference: str,
    insz: str,
    risk_date: dt.date | None,
    *,
    quarters: list[drs_pb2.QuarterPay] | None = None,
    task: str = "",
    **risk: Any,
) -> drs_pb2.SubmitDeclarationRequest:
    """`risk` is one keyword naming the oneof field, e.g. end_of_contract=EndOfContract(...)."""
    request = drs_pb2.SubmitDeclarationRequest(
        parent=f"employers/{employer}",
        declaration_reference=reference,
        insz=insz,
        quarters=quarters or [],
        task=task,
        **risk,
    )
    if risk_date is not None:
        request.risk_date.CopyFrom(pb(risk_date))
    return request


def end_of_contract(
    contract_end: dt.date,
    reason: int = drs_pb2.END_REASON_DISMISSAL,
    indemnity: int = 0,
) -> dict[str, Any]:
    return {
        "end_of_contract": drs_pb2.EndOfContract(
            reason=reason, contract_end_date=pb(contract_end), notice_indemnity=indemnity
        )
    }


def temporary(kind: str = "001", planned_end: dt.date | None = None) -> dict[str, Any]:
    m = drs_pb2.TemporaryUnemployment(type=kind)
    if planned_end is not None:
        m.planned_end_date.CopyFrom(pb(planned_end))
    return {"temporary_unemployment": m}


def hours(kind: str = "002", hours_: int = 3_800, days: int = 5) -> dict[str, Any]:
    return {
        "temporary_unemployment_hours": drs_pb2.TemporaryUnemploymentHours(
            type=kind, hours=hours_, days=days
        )
    }


def incapacity(
    last_day_worked: dt.date, maternity: bool = False, salary_end: dt.date | None = None
) -> dict[str, Any]:
    m = drs_pb2.Incapacity(last_day_worked=pb(last_day_worked), maternity_protection=maternity)
    if salary_end is not None:
        m.guaranteed_salary_end.CopyFrom(pb(salary_end))
    return {"incapacity": m}


def resumption(part_time: bool = False, weekly_hours: int = 0) -> dict[str, Any]:
    return {"resumption": drs_pb2.Resumption(part_time=part_time, weekly_hours=weekly_hours)}


def work_accident(
    insurer_kbo: str = "",
    policy: str = "",
    place: str = "Warehouse 3",
    description: str = "Fell from a ladder.",
    on_the_way: bool = False,
) -> dict[str, Any]:
    return {
        "work_accident": drs_pb2.WorkAccident(
            insurer_kbo=insurer_kbo,
            policy_number=policy,
            place=place,
            description=description,
            on_the_way=on_the_way,
        )
    }
