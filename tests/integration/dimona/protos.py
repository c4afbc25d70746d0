"""Building DIMONA requests in tests."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2, timeofday_pb2

from cbss.common.v1 import types_pb2
from cbss.dimona.v1 import dimona_pb2


def date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def time(hhmm: str) -> timeofday_pb2.TimeOfDay:
    hours, minutes = hhmm.split(":")
    return timeofday_pb2.TimeOfDay(hours=int(hours), minutes=int(minutes))


def dimona_in(
    insz: str = "",
    *,
    worker_type: int = dimona_pb2.WORKER_TYPE_OTH,
    jc: str = "200",
    start: dt.date = dt.date(2025, 6, 3),
    end: dt.date | None = None,
    hours: int = 0,
    identification: dimona_pb2.WorkerIdentification | None = None,
) -> dimona_pb2.DimonaIn:
    worker = (
        dimona_pb2.Worker(identification=identification)
        if identification is not None
        else dimona_pb2.Worker(insz=insz)
    )
    form = dimona_pb2.DimonaIn(
        worker=worker,
        worker_type=worker_type,
        joint_committee=jc,
        start_date=date(start),
        planned_hours=hours,
    )
    if end is not None:
        form.end_date.CopyFrom(date(end))
    return form


def submit_in(employer: str, reference: str, form: dimona_pb2.DimonaIn):  # noqa: ANN201
    return dimona_pb2.SubmitDeclarationRequest(
        parent=f"employers/{employer}", declaration_reference=reference, dimona_in=form
    )


def submit_out(employer: str, reference: str, period_id: int, end: dt.date):  # noqa: ANN201
    return dimona_pb2.SubmitDeclarationRequest(
        parent=f"employers/{employer}",
        declaration_reference=reference,
        dimona_out=dimona_pb2.DimonaOut(period_id=period_id, end_date=date(end)),
    )


def submit_cancel(employer: str, reference: str, period_id: int):  # noqa: ANN201
    return dimona_pb2.SubmitDeclarationRequest(
        parent=f"employers/{employer}",
        declaration_reference=reference,
        dimona_cancel=dimona_pb2.DimonaCancel(period_id=period_id),
    )


def identification(last_name: str = "Kowalczyk") -> dimona_pb2.WorkerIdentification:
    return dimona_pb2.WorkerIdentification(
        last_name=last_name,
        first_names=["Tomasz"],
        sex=types_pb2.SEX_MALE,
        birth_date=date_pb2.Date(year=1991, month=8, day=17),
        birth_place="Gdańsk",
        nationality="PL",
        address=types_pb2.Address(
            street="ul. Morska", house_number="12", postcode="80-001", municipality="Gdańsk",
            country_code="PL",
        ),
    )  # fmt: skip
