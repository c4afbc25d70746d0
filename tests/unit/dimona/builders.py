"""Declarations as a transport would hand them to the rules, with defaults that make a valid
one; each test changes what it is about."""

from __future__ import annotations

import datetime as dt

from dimona.service.commands import (
    CancelForm,
    InForm,
    OutForm,
    RawAddress,
    RawIdentification,
    Submission,
    UpdateForm,
)
from dimona.service.model import FlexiContract, Sex, WorkerType
from tests.unit.dimona.fakes import WORKER


def d(day: dt.date | None) -> tuple[int, int, int] | None:
    return None if day is None else (day.year, day.month, day.day)


def t(hhmm: str | None) -> tuple[int, int, int, int] | None:
    if hhmm is None:
        return None
    hours, minutes = hhmm.split(":")
    return (int(hours), int(minutes), 0, 0)


def din(
    *,
    insz: str | None = WORKER,
    worker_type: WorkerType | None = WorkerType.OTH,
    jc: str = "200",
    start: dt.date | None = dt.date(2025, 6, 3),
    start_time: str | None = None,
    end: dt.date | None = None,
    end_time: str | None = None,
    hours: int = 0,
    flexi: FlexiContract | None = None,
    sub_entity: str = "",
    using: str = "",
    identification: RawIdentification | None = None,
) -> InForm:
    return InForm(
        insz=insz if identification is None else None,
        identification=identification,
        worker_type=worker_type,
        joint_committee=jc,
        start_date=d(start),
        start_time=t(start_time),
        end_date=d(end),
        end_time=t(end_time),
        planned_hours=hours,
        flexi_contract=flexi,
        sub_entity=sub_entity,
        using_employer=using,
    )


def identification(**changes: object) -> RawIdentification:
    base = {
        "last_name": "Kowalski",
        "first_names": ("Jan",),
        "sex": Sex.MALE,
        "birth_date": (1988, 4, 4),
        "birth_place": "Kraków",
        "nationality": "PL",
        "address": RawAddress("ul. Długa", "5", "", "31-147", "Kraków", "PL"),
    }
    base.update(changes)
    return RawIdentification(**base)  # type: ignore[arg-type]


def dout(period_id: int, end: dt.date, *, insz: str = "", end_time: str | None = None) -> OutForm:
    return OutForm(period_id, d(end), t(end_time), insz)


def dupdate(period_id: int, **changes: object) -> UpdateForm:
    base: dict[str, object] = {
        "period_id": period_id,
        "start_date": None,
        "start_time": None,
        "end_date": None,
        "end_time": None,
        "planned_hours": None,
        "joint_committee": None,
        "worker_type": None,
        "sub_entity": None,
        "using_employer": None,
    }
    for key, value in changes.items():
        if key in ("start_date", "end_date") and value is not None:
            value = d(value)  # type: ignore[arg-type]
        if key in ("start_time", "end_time") and value is not None:
            value = t(value)  # type: ignore[arg-type]
        base[key] = value
    return UpdateForm(**base)  # type: ignore[arg-type]


def dcancel(period_id: int) -> CancelForm:
    return CancelForm(period_id)


def submission(form: object, reference: str = "ref-1", employer: str = "000100006") -> Submission:
    return Submission(f"employers/{employer}", reference, form)  # type: ignore[arg-type]
