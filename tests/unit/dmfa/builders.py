"""Compact DmfA test data: domain submissions as the transport hands them to the rules, and the
same workers as protobuf chunks for the transport's reader. Defaults make a declaration that
every check accepts (2026Q1, an employee full-time for the quarter, €3,000.00 of ordinary pay);
each test changes what it is about."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from google.type import date_pb2

from cbss.dmfa.v1 import dmfa_pb2
from dmfa.service.model import (
    CrossCheck,
    DimonaPeriod,
    Header,
    Occupation,
    Person,
    PersonCheck,
    Quarter,
    RemunerationLine,
    ServiceLine,
    StudentBalance,
    Submission,
    WorkerRecord,
)
from runtime.identifiers import make_insz, make_onss_number

Q = Quarter(2026, 1)  # 1 January .. 31 March 2026: 90 days, 13 weeks started
#: Before the 2026Q1 deadline (30 April 2026).
TODAY = dt.date(2026, 4, 15)

EMPLOYER = make_onss_number(1000)  # 000100006
OTHER_EMPLOYER = make_onss_number(9354)  # 000935467
PROVISIONAL = make_onss_number(1234, provisional=True)

WORKER = make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=123)
MANUAL = make_insz(birth_year=1979, birth_month=2, birth_day=3, serial=45)
STUDENT = make_insz(birth_year=2005, birth_month=9, birth_day=1, serial=77)
FLEXI = make_insz(birth_year=1990, birth_month=12, birth_day=24, serial=12)
OTHER = make_insz(birth_year=1970, birth_month=1, birth_day=30, serial=301)

#: The Dimona worker type that covers each worker code without a type mismatch.
DIMONA_TYPE = {"015": "OTH", "495": "OTH", "840": "STU", "841": "STU", "016": "FLX", "496": "FLX"}
#: Room in the yearly student quota: 650 hours, nothing used yet.
FRESH_STUDENT = StudentBalance(quota_minutes=650 * 60, used_minutes=0, employer_quarter_minutes=0)


def occupation(
    number: int = 1,
    *,
    start: dt.date = Q.first_day,
    end: dt.date | None = None,
    jc: str = "200",
    wds: int = 500,  # 5 days a week
    mean: int = 3800,  # 38 h a week
    reference: int = 3800,
    days: int = 6000,  # 60 days: within 5 x 13 weeks
    hours: int = 45600,  # 60 days x 7.6 h (38 h / 5 days): exactly the schedule
    pay: int = 300_000,
    services: Sequence[ServiceLine] | None = None,
    remunerations: Sequence[RemunerationLine] | None = None,
) -> Occupation:
    return Occupation(
        number,
        start,
        end,
        jc,
        wds,
        mean,
        reference,
        tuple(services) if services is not None else (ServiceLine("001", days, hours),),
        tuple(remunerations) if remunerations is not None else (RemunerationLine("001", pay),),
    )


def record(
    worker_code: str = "495",
    *occupations: Occupation,
    category: int = 1,
    start: dt.date = Q.first_day,
    end: dt.date = Q.last_day,
    pay: int | None = None,
    hours: int | None = None,
) -> WorkerRecord:
    """A record with the given occupations, or one default occupation (with `pay` / `hours`
    when given: hours set the days to the schedule's, 7.6 h a day, rounded up)."""
    if not occupations:
        changes: dict[str, int] = {}
        if pay is not None:
            changes["pay"] = pay
        if hours is not None:
            changes["hours"] = hours
            changes["days"] = -(-hours * 100 // 760)
        occupations = (occupation(**changes),)  # type: ignore[arg-type]
    return WorkerRecord(category, worker_code, start, end, tuple(occupations))


def person(insz: str = WORKER, *records: WorkerRecord) -> Person:
    return Person(insz, tuple(records) or (record(),))


def submission(
    *persons: Person,
    employer: str = EMPLOYER,
    quarter: Quarter = Q,
    reference: str = "ref-1",
    corrects: int | None = None,
    digest: str = "",
) -> Submission:
    """A well-formed submission; its digest defaults to one made of its content (what the
    transport's SHA-256 guarantees: the same content, the same digest)."""
    persons = persons or (person(),)
    header = Header(employer, quarter, reference, corrects)
    return Submission(
        header,
        tuple(persons),
        digest or hashlib.sha256(repr((header, persons)).encode()).hexdigest(),
    )


def period(
    insz: str = WORKER,
    worker_type: str = "OTH",
    start: dt.date = Q.first_day,
    end: dt.date | None = None,
    period_id: int = 1,
) -> DimonaPeriod:
    return DimonaPeriod(period_id, insz, worker_type, start, end)


def covered(
    *persons: Person,
    students: dict[str, StudentBalance] | None = None,
    persons_checks: dict[str, PersonCheck] | None = None,
) -> CrossCheck:
    """What the network says when every worker is active and each record is covered for the
    whole quarter by an open Dimona period of the expected type."""
    periods = []
    for p in persons:
        for r in p.records:
            kind = DIMONA_TYPE.get(r.worker_code, "OTH")
            periods.append(period(p.insz, kind, Q.first_day, None, len(periods) + 1))
    return CrossCheck(persons_checks or {}, tuple(periods), students or {})


# -- protobuf ---------------------------------------------------------------------------------


def pb_date(day: dt.date | None) -> date_pb2.Date | None:
    return None if day is None else date_pb2.Date(year=day.year, month=day.month, day=day.day)


def pb_person(p: Person) -> dmfa_pb2.NaturalPerson:
    return dmfa_pb2.NaturalPerson(
        insz=p.insz,
        records=[
            dmfa_pb2.WorkerRecord(
                employer_category=r.employer_category,
                worker_code=r.worker_code,
                start_date=pb_date(r.start),
                end_date=pb_date(r.end),
                occupations=[
                    dmfa_pb2.Occupation(
                        number=o.number,
                        start_date=pb_date(o.start),
                        end_date=pb_date(o.end),
                        joint_committee=o.joint_committee,
                        working_days_system=o.working_days_system,
                        mean_working_hours=o.mean_working_hours,
                        reference_working_hours=o.reference_working_hours,
                        services=[
                            dmfa_pb2.ServiceLine(service_code=s.code, days=s.days, hours=s.hours)
                            for s in o.services
                        ],
                        remunerations=[
                            dmfa_pb2.RemunerationLine(remuneration_code=m.code, amount=m.amount)
                            for m in o.remunerations
                        ],
                    )
                    for o in r.occupations
                ],
            )
            for r in p.records
        ],
    )


def pb_header(
    employer: str = EMPLOYER,
    year: int = Q.year,
    quarter: int = Q.quarter,
    reference: str = "ref-1",
    corrects: str = "",
) -> dmfa_pb2.DeclarationHeader:
    return dmfa_pb2.DeclarationHeader(
        employer=employer,
        year=year,
        quarter=quarter,
        submission_reference=reference,
        corrects=corrects,
    )


def chunks(
    workers: Sequence[dmfa_pb2.NaturalPerson],
    sizes: Sequence[int] = (),
    header: dmfa_pb2.DeclarationHeader | None = None,
) -> list[dmfa_pb2.SubmitDeclarationRequest]:
    """The stream: the header in the first chunk, the workers cut after `sizes` workers each
    (the rest in a last chunk; every worker in the first chunk when `sizes` is empty)."""
    header = header if header is not None else pb_header()
    cut, start = [], 0
    for size in sizes:
        cut.append(list(workers[start : start + size]))
        start += size
    cut.append(list(workers[start:]))
    out = [dmfa_pb2.SubmitDeclarationRequest(header=header, workers=cut[0])]
    out += [dmfa_pb2.SubmitDeclarationRequest(workers=part) for part in cut[1:]]
    return out
