"""Protobuf messages <-> the DmfA's domain (dmfa.service.model).

The submission stream is read here: chunks are walked as they come, each worker mapped and its
structure checked (`service.validation`, every bad field reported at once), and the digest
(idempotency) computed over the header and every worker's deterministic serialization — so
that the same declaration cut into other chunks is the same submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.dmfa.v1 import dmfa_pb2
from dmfa.service import validation
from dmfa.service.declarations import version_name
from dmfa.service.model import (
    Anomaly,
    DeclarationEvent,
    DeclarationSummary,
    DeclaredWorker,
    EmployerQuarter,
    EventKind,
    Occupation,
    Party,
    Person,
    Quarter,
    RemunerationLine,
    ServiceLine,
    Severity,
    Status,
    Submission,
    Version,
    WorkerCodeQuarter,
    WorkerRecord,
)
from dmfa.service.validation import IMPOSSIBLE_DATE, MISSING_DATE, Violations, invalid

_STATUS = {
    Status.ACCEPTED: dmfa_pb2.VERSION_STATUS_ACCEPTED,
    Status.ACCEPTED_WITH_ANOMALIES: dmfa_pb2.VERSION_STATUS_ACCEPTED_WITH_ANOMALIES,
    Status.REFUSED: dmfa_pb2.VERSION_STATUS_REFUSED,
}
_SEVERITY = {
    Severity.BLOCKING: types_pb2.SEVERITY_BLOCKING,
    Severity.WARNING: types_pb2.SEVERITY_WARNING,
}
_PARTY = {
    Party.WORKER: dmfa_pb2.CONTRIBUTION_PARTY_WORKER,
    Party.EMPLOYER: dmfa_pb2.CONTRIBUTION_PARTY_EMPLOYER,
}
_EVENT = {
    EventKind.ACCEPTED: dmfa_pb2.DECLARATION_EVENT_KIND_ACCEPTED,
    EventKind.CORRECTED: dmfa_pb2.DECLARATION_EVENT_KIND_CORRECTED,
}


def _date(message: object, field: str) -> dt.date:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return MISSING_DATE
    d = getattr(message, field)
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:
        return IMPOSSIBLE_DATE


def _optional_date(message: object, field: str) -> dt.date | None:
    return _date(message, field) if message.HasField(field) else None  # type: ignore[attr-defined]


def person(message: dmfa_pb2.NaturalPerson) -> Person:
    return Person(
        message.insz,
        tuple(
            WorkerRecord(
                r.employer_category,
                r.worker_code,
                _date(r, "start_date"),
                _date(r, "end_date"),
                tuple(
                    Occupation(
                        o.number,
                        _date(o, "start_date"),
                        _optional_date(o, "end_date"),
                        o.joint_committee,
                        o.working_days_system,
                        o.mean_working_hours,
                        o.reference_working_hours,
                        tuple(ServiceLine(s.service_code, s.days, s.hours) for s in o.services),
                        tuple(
                            RemunerationLine(m.remuneration_code, m.amount) for m in o.remunerations
                        ),
                    )
                    for o in r.occupations
                ),
            )
            for r in message.records
        ),
    )


def submission(chunks: Iterable[dmfa_pb2.SubmitDeclarationRequest]) -> Submission:
    """Read the whole stream; INVALID_ARGUMENT (nothing stored) when it is malformed."""
    stream: Iterator[dmfa_pb2.SubmitDeclarationRequest] = iter(chunks)
    first = next(stream, None)
    if first is None or not first.HasField("header"):
        raise invalid("header", "the first chunk carries the header", "HEADER_REQUIRED")
    h = first.header
    header = validation.make_header(
        h.employer, h.year, h.quarter, h.submission_reference, h.corrects
    )
    digest = hashlib.sha256()
    digest.update(
        f"{header.employer}|{header.quarter}|{header.submission_reference}|{h.corrects}".encode()
    )
    found = Violations()
    persons: list[Person] = []
    index = 0
    for number, chunk in _numbered(first, stream):
        if number > 0 and chunk.HasField("header"):
            raise invalid(f"chunks[{number}].header", "only in the first chunk", "HEADER_REPEATED")
        if len(chunk.workers) > validation.MAX_CHUNK:
            raise invalid(
                f"chunks[{number}].workers",
                f"at most {validation.MAX_CHUNK} workers a chunk",
                "CHUNK_TOO_LARGE",
            )
        if index + len(chunk.workers) > validation.MAX_WORKERS:
            raise invalid(
                "workers", f"at most {validation.MAX_WORKERS} workers", "TOO_MANY_WORKERS"
            )
        for message in chunk.workers:
            digest.update(message.SerializeToString(deterministic=True))
            digest.update(b"\x00")
            mapped = person(message)
            validation.check_person(found, index, mapped)
            persons.append(mapped)
            index += 1
    if not persons:
        raise invalid("workers", "at least one worker", "NO_WORKERS")
    found.raise_if_any()
    return Submission(header, tuple(persons), digest.hexdigest())


def _numbered(
    first: dmfa_pb2.SubmitDeclarationRequest,
    rest: Iterator[dmfa_pb2.SubmitDeclarationRequest],
) -> Iterator[tuple[int, dmfa_pb2.SubmitDeclarationRequest]]:
    yield 0, first
    yield from enumerate(rest, start=1)


# -- domain -> messages -------------------------------------------------------------------


def _pb_date(value: dt.date | None) -> date_pb2.Date | None:
    if value is None:
        return None
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def _timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def anomaly(a: Anomaly) -> dmfa_pb2.Anomaly:
    return dmfa_pb2.Anomaly(
        code=a.code,
        severity=_SEVERITY[a.severity],
        block=dmfa_pb2.BlockKey(
            insz=a.block.insz,
            worker_code=a.block.worker_code,
            occupation_number=a.block.occupation,
            service_code=a.block.service_code,
            remuneration_code=a.block.remuneration_code,
        ),
        value=a.value,
        label=a.label,
        path=a.block.path,
    )


def version(v: Version) -> dmfa_pb2.DeclarationVersion:
    declaration = f"employers/{v.employer}/declarations/{v.quarter}"
    return dmfa_pb2.DeclarationVersion(
        name=version_name(v.employer, v.quarter, v.number),
        declaration=declaration,
        version=v.number,
        submission_reference=v.submission_reference,
        status=_STATUS[v.status],
        corrects=version_name(v.employer, v.quarter, v.corrects) if v.corrects else "",
        current=v.current,
        superseded_by=(
            version_name(v.employer, v.quarter, v.superseded_by) if v.superseded_by else ""
        ),
        anomalies=[anomaly(a) for a in v.anomalies],
        totals=dmfa_pb2.Totals(
            workers=v.totals.workers,
            remuneration=v.totals.remuneration,
            worker_contributions=v.totals.worker_contributions,
            employer_contributions=v.totals.employer_contributions,
            total_contributions=v.totals.total_contributions,
        ),
        late=v.late,
        deadline=_pb_date(v.quarter.deadline),
        submitted_by=v.submitted_by,
        submit_time=_timestamp(v.submitted_at),
        acting_person=v.acting_person,
    )


def summary(s: DeclarationSummary) -> dmfa_pb2.DeclarationSummary:
    return dmfa_pb2.DeclarationSummary(
        name=f"employers/{s.employer}/declarations/{s.quarter}",
        year=s.quarter.year,
        quarter=s.quarter.quarter,
        version_count=s.version_count,
        current=version(s.current) if s.current is not None else None,
    )


def _record(r: WorkerRecord) -> dmfa_pb2.WorkerRecord:
    return dmfa_pb2.WorkerRecord(
        employer_category=r.employer_category,
        worker_code=r.worker_code,
        start_date=_pb_date(r.start),
        end_date=_pb_date(r.end),
        occupations=[
            dmfa_pb2.Occupation(
                number=o.number,
                start_date=_pb_date(o.start),
                end_date=_pb_date(o.end),
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


def person_message(p: Person) -> dmfa_pb2.NaturalPerson:
    return dmfa_pb2.NaturalPerson(insz=p.insz, records=[_record(r) for r in p.records])


def worker(w: DeclaredWorker) -> dmfa_pb2.DeclaredWorker:
    return dmfa_pb2.DeclaredWorker(
        insz=w.insz,
        records=[
            dmfa_pb2.ComputedRecord(
                record=_record(c.record),
                contributions=[
                    dmfa_pb2.ContributionLine(
                        party=_PARTY[x.party],
                        kind=x.kind,
                        basis=x.basis,
                        rate_percent=x.rate_percent,
                        amount=x.amount,
                    )
                    for x in c.contributions
                ],
            )
            for c in w.records
        ],
    )


def optional_date(message: object, field: str) -> dt.date | None:
    """A present, possible date; None when absent or impossible (the rules refuse it)."""
    value = _optional_date(message, field)
    # The sentinels by identity: a real 9999-12-31 is a date.
    return None if value is None or value is MISSING_DATE or value is IMPOSSIBLE_DATE else value


def _code_quarters(records: tuple[WorkerCodeQuarter, ...]) -> list[dmfa_pb2.WorkerCodeQuarter]:
    return [
        dmfa_pb2.WorkerCodeQuarter(
            worker_code=r.worker_code,
            days=r.days,
            hours=r.hours,
            remunerations=[
                dmfa_pb2.RemunerationTotal(remuneration_code=m.code, amount=m.amount)
                for m in r.remunerations
            ],
        )
        for r in records
    ]


def employer_worker_quarter(q: Quarter, e: EmployerQuarter) -> dmfa_pb2.EmployerWorkerQuarter:
    return dmfa_pb2.EmployerWorkerQuarter(
        year=q.year,
        quarter=q.quarter,
        version=version_name(e.employer, q, e.version),
        records=_code_quarters(e.records),
    )


def worker_quarter(
    insz: str, year: int, quarter: int, employers: list[EmployerQuarter]
) -> dmfa_pb2.WorkerQuarter:
    return dmfa_pb2.WorkerQuarter(
        insz=insz,
        year=year,
        quarter=quarter,
        employers=[
            dmfa_pb2.EmployerQuarter(
                employer=e.employer,
                version=f"employers/{e.employer}/declarations/{year}Q{quarter}/versions/{e.version}",
                records=_code_quarters(e.records),
            )
            for e in employers
        ],
    )


def event(e: DeclarationEvent) -> dmfa_pb2.DeclarationEvent:
    return dmfa_pb2.DeclarationEvent(
        sequence=e.sequence,
        kind=_EVENT[e.kind],
        version=version_name(e.employer, e.quarter, e.version),
        superseded=version_name(e.employer, e.quarter, e.superseded) if e.superseded else "",
        employer=e.employer,
        year=e.quarter.year,
        quarter=e.quarter.quarter,
        worker_inszs=list(e.worker_inszs),
        record_time=_timestamp(e.recorded_at),
    )
