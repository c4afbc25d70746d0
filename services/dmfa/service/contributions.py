"""Contributions, table-driven (tables.toml): no rate is written here.

Per worker record:

- the **pay** is the sum of its remuneration lines whose code is subject to contributions;
- the **basis** is the pay times the worker code's basis percent (108 % for manual workers),
  rounded half-up to the cent;
- each rate line of the record's scheme, employer category and quarter gives one contribution
  line: basis times rate, rounded half-up to the cent (Decimal, never float);
- students (scheme STUDENT): the hours of the record are split between what the yearly quota
  still allows for this employer's quarter (`StudentBalance.available_minutes`, from DIMONA's
  counter through the router) and what goes beyond it; the pay is split in proportion (the part
  within the quota rounded half-up, the rest beyond). Within the quota: the STUDENT lines
  (solidarity contribution, on 100 % of that pay); beyond: the ORDINARY lines on the worker
  code's basis. Several student records of one worker draw on the same allowance in the order
  declared.

Totals are sums of the rounded lines. A record whose scheme has no rate line for its employer
category and quarter gets the blocking anomaly NO_RATE and no lines.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from dmfa.service.model import (
    Anomaly,
    BlockKey,
    ComputedRecord,
    ContributionLine,
    DeclaredWorker,
    Party,
    Person,
    Quarter,
    Severity,
    StudentBalance,
    Totals,
    WorkerRecord,
)
from dmfa.service.tables import RateLine, Tables

_HUNDRED = Decimal(100)
_CENT = Decimal(1)


def round_half_up(value: Decimal) -> int:
    """To the cent (values are in cents already): 0.5 goes up."""
    return int(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: Decimal) -> int:
    return round_half_up(Decimal(amount) * percent / _HUNDRED)


def hours_to_minutes(hundredths: int) -> int:
    """Hundredths of hours to whole minutes, half-up (1.50 h -> 90 min)."""
    return round_half_up(Decimal(hundredths) * 60 / _HUNDRED)


def subject_pay(record: WorkerRecord, tables: Tables) -> int:
    return sum(
        line.amount
        for occupation in record.occupations
        for line in occupation.remunerations
        if tables.remuneration_codes.get(line.code, False)
    )


def _lines(rates: tuple[RateLine, ...], basis: int) -> list[ContributionLine]:
    return [
        ContributionLine(
            rate.party, rate.kind, basis, _percent_text(rate.rate), percent_of(basis, rate.rate)
        )
        for rate in rates
        if basis
    ]


def _percent_text(rate: Decimal) -> str:
    return f"{rate:.2f}"


class ContributionCalculator:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    def worker(
        self,
        person: Person,
        quarter: Quarter,
        student: StudentBalance | None,
        anomalies: list[Anomaly],
    ) -> DeclaredWorker:
        """The worker's records with their contribution lines; NO_RATE findings appended."""
        allowance = student.available_minutes if student is not None else 0
        computed = []
        for record in person.records:
            lines, allowance = self._record(person.insz, record, quarter, allowance, anomalies)
            computed.append(ComputedRecord(record, tuple(lines)))
        return DeclaredWorker(person.insz, tuple(computed))

    def _record(
        self,
        insz: str,
        record: WorkerRecord,
        quarter: Quarter,
        allowance: int,
        anomalies: list[Anomaly],
    ) -> tuple[list[ContributionLine], int]:
        code = self._tables.worker_codes.get(record.worker_code)
        if code is None:  # UNKNOWN_WORKER_CODE is reported by the checks
            return [], allowance
        pay = subject_pay(record, self._tables)
        ordinary_scheme = "ORDINARY" if code.scheme == "STUDENT" else code.scheme
        ordinary = self._tables.rate_lines(ordinary_scheme, record.employer_category, quarter)
        if code.scheme != "STUDENT":
            if ordinary is None:
                anomalies.append(_no_rate(insz, record, code.scheme, quarter))
                return [], allowance
            return _lines(ordinary, percent_of(pay, code.basis_percent)), allowance
        solidarity = self._tables.rate_lines("STUDENT", record.employer_category, quarter)
        declared = hours_to_minutes(record.hours)
        within = min(declared, allowance)
        if declared == 0:  # STUDENT_HOURS_REQUIRED is reported by the checks
            within_pay = pay
        else:
            within_pay = round_half_up(Decimal(pay) * within / declared)
        beyond_pay = pay - within_pay
        lines: list[ContributionLine] = []
        if within_pay:
            if solidarity is None:
                anomalies.append(_no_rate(insz, record, "STUDENT", quarter))
                return [], allowance - within
            lines += _lines(solidarity, within_pay)
        if beyond_pay:
            if ordinary is None:
                anomalies.append(_no_rate(insz, record, "ORDINARY", quarter))
                return [], allowance - within
            lines += _lines(ordinary, percent_of(beyond_pay, code.basis_percent))
        return lines, allowance - within


def _no_rate(insz: str, record: WorkerRecord, scheme: str, quarter: Quarter) -> Anomaly:
    return Anomaly(
        "NO_RATE",
        Severity.BLOCKING,
        BlockKey(insz, record.worker_code),
        f"{scheme}/{record.employer_category}/{quarter}",
        "no contribution rate for this worker code, employer category and quarter",
    )


def totals(workers: list[DeclaredWorker] | tuple[DeclaredWorker, ...]) -> Totals:
    pay = worker = employer = 0
    for w in workers:
        for computed in w.records:
            pay += computed.record.pay
            for line in computed.contributions:
                if line.party is Party.WORKER:
                    worker += line.amount
                else:
                    employer += line.amount
    return Totals(len(workers), pay, worker, employer)
