"""The DmfA's business checks: every finding an anomaly with a code, a severity and its block.

Pure functions of the submission, what the network said (`CrossCheck`: the register's answer
for every worker, the employer's Dimona periods in the quarter, students' quota counters) and
the tables. Nothing here calls out, stores or logs.

Blocking (the version is refused):
- INVALID_INSZ: the INSZ's check digits or date are wrong; DUPLICATE_WORKER: an INSZ twice;
- WORKER_UNKNOWN: the register knows no such person; WORKER_REPLACED: it has a new number
  (the value);
- UNKNOWN_WORKER_CODE, UNKNOWN_SERVICE_CODE, UNKNOWN_REMUNERATION_CODE: not in tables.toml;
  DUPLICATE_SERVICE_CODE, DUPLICATE_REMUNERATION_CODE: a code twice in one occupation;
- RECORD_OUTSIDE_QUARTER: a record's dates not within the quarter, or reversed;
  DUPLICATE_OCCUPATION: an occupation number twice in a record; INVALID_OCCUPATION_DATES: the
  occupation ends before it starts; OCCUPATION_OUTSIDE_QUARTER: no day in the quarter;
- INVALID_JOINT_COMMITTEE: not `ddd`, `ddd.dd` or `XXX`; MEAN_HOURS_ABOVE_REFERENCE: mean
  weekly hours above the full-time reference;
- DAYS_EXCEED_SYSTEM: more days than the working days system allows in the occupation's weeks;
  HOURS_EXCEED_DAYS: more than 24 hours a declared day; STUDENT_HOURS_REQUIRED: a student
  record without hours (the quota counts hours);
- OCCUPATION_NOT_COVERED: a day of the occupation in the quarter lies in no Dimona period of
  this employer and worker (the value: the first such day);
- NO_RATE: no rate for the record's scheme, employer category and quarter (contributions).

Warnings (accepted with anomalies):
- WORKER_DECEASED: the register says deceased (final pay may still be declared);
- HOURS_INCOHERENT: hours above 150 % of the schedule's hours for the days declared;
- DIMONA_TYPE_MISMATCH: covered only by periods of types the worker code does not expect;
- MISSING_WORKER: a Dimona period in the quarter whose worker is not declared (the value: the
  period id); not for the types that never appear in a DmfA (DWD, A17, STG: tables.toml);
- LATE: received after the deadline (the value: the deadline).

The "days" rule (UNCONFIRMED, the ONSS instructions were not checked): an occupation's days
cannot exceed its working days system (days a week) times the number of weeks, rounded up, of
its part inside the quarter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

from dmfa.service.contributions import ContributionCalculator, totals
from dmfa.service.model import (
    Anomaly,
    BlockKey,
    CrossCheck,
    DeclaredWorker,
    DimonaPeriod,
    Occupation,
    PersonOutcome,
    Quarter,
    Severity,
    Status,
    Submission,
    Totals,
    WorkerRecord,
)
from dmfa.service.tables import Tables
from runtime.identifiers import IdentifierError, parse_insz

_JOINT_COMMITTEE = re.compile(r"\d{3}(\.\d{2})?|XXX")
_ONE_DAY = dt.timedelta(days=1)
B, W = Severity.BLOCKING, Severity.WARNING


class Judgement:
    """The outcome of the checks: anomalies, workers with contributions, totals, status."""

    def __init__(self, anomalies: list[Anomaly], workers: list[DeclaredWorker], late: bool) -> None:
        self.anomalies = anomalies
        self.workers = workers
        self.late = late
        self.totals: Totals = totals(workers)
        if any(a.severity is Severity.BLOCKING for a in anomalies):
            self.status = Status.REFUSED
        elif anomalies:
            self.status = Status.ACCEPTED_WITH_ANOMALIES
        else:
            self.status = Status.ACCEPTED


def judge(submission: Submission, network: CrossCheck, tables: Tables, today: dt.date) -> Judgement:
    quarter = submission.header.quarter
    anomalies: list[Anomaly] = []
    periods_of: dict[str, list[DimonaPeriod]] = defaultdict(list)
    for period in network.periods:
        periods_of[period.insz].append(period)
    calculator = ContributionCalculator(tables)
    seen: set[str] = set()
    workers = []
    for person in submission.persons:
        block = BlockKey(person.insz)
        if person.insz in seen:
            anomalies.append(Anomaly("DUPLICATE_WORKER", B, block, "", "declared twice"))
            continue
        seen.add(person.insz)
        anomalies += _identity(person.insz, network)
        for record in person.records:
            anomalies += _record(person.insz, record, quarter, tables)
            anomalies += _coverage(person.insz, record, quarter, periods_of[person.insz], tables)
        workers.append(
            calculator.worker(person, quarter, network.students.get(person.insz), anomalies)
        )
    anomalies += _missing_workers(network.periods, seen, tables)
    late = today > quarter.deadline
    if late:
        anomalies.append(
            Anomaly("LATE", W, BlockKey(), quarter.deadline.isoformat(), "after the deadline")
        )
    return Judgement(anomalies, workers, late)


def _identity(insz: str, network: CrossCheck) -> list[Anomaly]:
    block = BlockKey(insz)
    try:
        parse_insz(insz)
    except IdentifierError as exc:
        return [Anomaly("INVALID_INSZ", B, block, exc.reason, "not a valid INSZ")]
    check = network.persons.get(insz)
    if check is None or check.outcome is PersonOutcome.ACTIVE:
        return []
    if check.outcome is PersonOutcome.NOT_FOUND:
        return [Anomaly("WORKER_UNKNOWN", B, block, "", "no such person in the register")]
    if check.outcome is PersonOutcome.REPLACED:
        return [
            Anomaly("WORKER_REPLACED", B, block, check.replaced_by, "the person has a new number")
        ]
    return [Anomaly("WORKER_DECEASED", W, block, "", "the register says deceased")]


def _record(insz: str, record: WorkerRecord, quarter: Quarter, tables: Tables) -> list[Anomaly]:
    found: list[Anomaly] = []
    block = BlockKey(insz, record.worker_code)
    code = tables.worker_codes.get(record.worker_code)
    if code is None:
        found.append(Anomaly("UNKNOWN_WORKER_CODE", B, block, record.worker_code, "unknown"))
    if not (quarter.first_day <= record.start <= record.end <= quarter.last_day):
        found.append(
            Anomaly(
                "RECORD_OUTSIDE_QUARTER",
                B,
                block,
                f"{record.start.isoformat()}..{record.end.isoformat()}",
                "a record's dates lie within the quarter, in order",
            )
        )
    numbers: set[int] = set()
    for occupation in record.occupations:
        if occupation.number in numbers:
            found.append(
                Anomaly(
                    "DUPLICATE_OCCUPATION",
                    B,
                    BlockKey(insz, record.worker_code, occupation.number),
                    "",
                    "occupation numbers are unique within a record",
                )
            )
        numbers.add(occupation.number)
        found += _occupation(insz, record.worker_code, occupation, quarter, tables)
    if code is not None and code.scheme == "STUDENT" and record.hours == 0:
        found.append(
            Anomaly("STUDENT_HOURS_REQUIRED", B, block, "", "a student's hours are declared")
        )
    return found


def quarter_span(occupation: Occupation, quarter: Quarter) -> tuple[dt.date, dt.date] | None:
    """The occupation's days inside the quarter; None when it has none."""
    start = max(occupation.start, quarter.first_day)
    end = min(occupation.end or quarter.last_day, quarter.last_day)
    return (start, end) if start <= end else None


def _occupation(
    insz: str, worker_code: str, occupation: Occupation, quarter: Quarter, tables: Tables
) -> list[Anomaly]:
    block = BlockKey(insz, worker_code, occupation.number)
    found: list[Anomaly] = []
    if not _JOINT_COMMITTEE.fullmatch(occupation.joint_committee):
        found.append(Anomaly("INVALID_JOINT_COMMITTEE", B, block, occupation.joint_committee))
    if occupation.mean_working_hours > occupation.reference_working_hours:
        found.append(
            Anomaly(
                "MEAN_HOURS_ABOVE_REFERENCE",
                B,
                block,
                str(occupation.mean_working_hours),
                "mean weekly hours above the full-time reference",
            )
        )
    span = None
    if occupation.end is not None and occupation.end < occupation.start:
        found.append(Anomaly("INVALID_OCCUPATION_DATES", B, block, "", "ends before it starts"))
    else:
        span = quarter_span(occupation, quarter)
        if span is None:
            found.append(
                Anomaly("OCCUPATION_OUTSIDE_QUARTER", B, block, "", "no day in the quarter")
            )
    found += _codes(insz, worker_code, occupation, tables)
    days = sum(s.days for s in occupation.services)
    hours = sum(s.hours for s in occupation.services)
    if span is not None:
        weeks = -(-((span[1] - span[0]).days + 1) // 7)
        if days > occupation.working_days_system * weeks:
            found.append(
                Anomaly(
                    "DAYS_EXCEED_SYSTEM",
                    B,
                    block,
                    str(days),
                    f"more days than {occupation.working_days_system / 100:g} a week allow",
                )
            )
    if hours > days * 24:
        found.append(Anomaly("HOURS_EXCEED_DAYS", B, block, str(hours), "over 24 hours a day"))
    elif days and occupation.working_days_system:
        # Hours a day of the schedule = weekly hours / days a week; 50 % margin for overtime.
        expected = days * occupation.mean_working_hours / occupation.working_days_system
        if hours > expected * 1.5:
            found.append(
                Anomaly("HOURS_INCOHERENT", W, block, str(hours), "hours above the schedule's")
            )
    return found


def _codes(insz: str, worker_code: str, occupation: Occupation, tables: Tables) -> list[Anomaly]:
    found = []
    seen: set[str] = set()
    for line in occupation.services:
        block = BlockKey(insz, worker_code, occupation.number, service_code=line.code)
        if line.code not in tables.service_codes:
            found.append(Anomaly("UNKNOWN_SERVICE_CODE", B, block, line.code, "unknown"))
        if line.code in seen:
            found.append(Anomaly("DUPLICATE_SERVICE_CODE", B, block, line.code, "twice"))
        seen.add(line.code)
    seen = set()
    for pay in occupation.remunerations:
        block = BlockKey(insz, worker_code, occupation.number, remuneration_code=pay.code)
        if pay.code not in tables.remuneration_codes:
            found.append(Anomaly("UNKNOWN_REMUNERATION_CODE", B, block, pay.code, "unknown"))
        if pay.code in seen:
            found.append(Anomaly("DUPLICATE_REMUNERATION_CODE", B, block, pay.code, "twice"))
        seen.add(pay.code)
    return found


def _coverage(
    insz: str,
    record: WorkerRecord,
    quarter: Quarter,
    periods: list[DimonaPeriod],
    tables: Tables,
) -> list[Anomaly]:
    """Every day of every occupation inside the quarter lies in a Dimona period of this
    employer and worker (the union of the periods: several may follow one another)."""
    found = []
    code = tables.worker_codes.get(record.worker_code)
    for occupation in record.occupations:
        if occupation.end is not None and occupation.end < occupation.start:
            continue
        span = quarter_span(occupation, quarter)
        if span is None:
            continue
        block = BlockKey(insz, record.worker_code, occupation.number)
        covering = [
            p for p in periods if p.start <= span[1] and (p.end is None or p.end >= span[0])
        ]
        gap = first_uncovered(span, covering)
        if gap is not None:
            found.append(
                Anomaly(
                    "OCCUPATION_NOT_COVERED",
                    B,
                    block,
                    gap.isoformat(),
                    "no Dimona period of this employer covers this day",
                )
            )
        elif code is not None and not any(p.worker_type in code.dimona_types for p in covering):
            found.append(
                Anomaly(
                    "DIMONA_TYPE_MISMATCH",
                    W,
                    block,
                    ",".join(sorted({p.worker_type for p in covering})),
                    "the Dimona worker type does not match the worker code",
                )
            )
    return found


def first_uncovered(
    span: tuple[dt.date, dt.date], periods: Iterable[DimonaPeriod]
) -> dt.date | None:
    """The first day of `span` in no period, or None when all are covered."""
    day = span[0]
    for period in sorted(periods, key=lambda p: p.start):
        if period.start > day:
            return day
        if period.end is None or period.end >= span[1]:
            return None
        day = max(day, period.end + _ONE_DAY)
    return day if day <= span[1] else None


def _missing_workers(
    periods: tuple[DimonaPeriod, ...], declared: set[str], tables: Tables
) -> list[Anomaly]:
    return [
        Anomaly(
            "MISSING_WORKER",
            W,
            BlockKey(period.insz),
            str(period.period_id),
            "a Dimona period in the quarter has no worker in the declaration",
        )
        for period in sorted(periods, key=lambda p: p.period_id)
        if period.insz not in declared and period.worker_type not in tables.exempt_dimona_types
    ]
