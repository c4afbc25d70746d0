"""Building DmfA requests in tests."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cbss.dmfa.v1 import dmfa_pb2


def date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def occupation(
    start: dt.date,
    end: dt.date | None = None,
    *,
    number: int = 1,
    jc: str = "202",
    days: int = 2000,
    hours: int = 15200,
    pay: int = 300000,
    service_code: str = "001",
    remuneration_code: str = "001",
) -> dmfa_pb2.Occupation:
    """Defaults: 20 days (hundredths), 152 hours (hundredths), EUR 3,000.00, 5 days of 7.6 h."""
    message = dmfa_pb2.Occupation(
        number=number,
        start_date=date(start),
        joint_committee=jc,
        working_days_system=500,
        mean_working_hours=3800,
        reference_working_hours=3800,
        services=[dmfa_pb2.ServiceLine(service_code=service_code, days=days, hours=hours)],
        remunerations=[dmfa_pb2.RemunerationLine(remuneration_code=remuneration_code, amount=pay)],
    )
    if end is not None:
        message.end_date.CopyFrom(date(end))
    return message


def worker(
    insz: str,
    code: str,
    start: dt.date,
    end: dt.date,
    *occupations: dmfa_pb2.Occupation,
    category: int = 1,
) -> dmfa_pb2.NaturalPerson:
    return dmfa_pb2.NaturalPerson(
        insz=insz,
        records=[
            dmfa_pb2.WorkerRecord(
                employer_category=category,
                worker_code=code,
                start_date=date(start),
                end_date=date(end),
                occupations=list(occupations),
            )
        ],
    )


def chunks(
    employer: str,
    year: int,
    quarter: int,
    reference: str,
    workers: list[dmfa_pb2.NaturalPerson],
    *,
    corrects: str = "",
    per_chunk: int = 1000,
) -> list[dmfa_pb2.SubmitDeclarationRequest]:
    header = dmfa_pb2.DeclarationHeader(
        employer=employer,
        year=year,
        quarter=quarter,
        submission_reference=reference,
        corrects=corrects,
    )
    out = [dmfa_pb2.SubmitDeclarationRequest(header=header)]
    for i in range(0, len(workers), per_chunk):
        out.append(dmfa_pb2.SubmitDeclarationRequest(workers=workers[i : i + per_chunk]))
    return out
