"""The socio-economic position of each coded person on the quarter's last day.

From the quarter's coded records: the register's population (age, sex, postcode on the last
day), DIMONA's periods and the DmfA's worker quarters.

- **Position.** No Dimona period covering the last day: `NOT_IN_EMPLOYMENT` (in the register but
  not in salaried work that day: unemployed, retired, self-employed, pupils... — the sources here
  do not tell which). Only student periods (STU, STX): `STUDENT`. Periods with two or more
  employers: `SEVERAL_EMPLOYERS`. Otherwise `EMPLOYED`.
- **Main job** (whose joint committee and worker class the person is counted under): among the
  periods covering the last day, the employer that paid the most in the quarter (the DmfA), then
  the earliest start, then the lowest employer number.
- **Worker class** of the main job: from the DmfA's worker code with that employer (015 blue
  collar, 495 white collar, 840/841 student, 016/496 flexi; the record with the most pay), else
  from DIMONA's worker type (STU/STX student, FLX flexi, BCW blue collar), else `UNKNOWN` (the
  quarter not declared yet, or a type the DmfA never carries: DWD, STG).
- **Pay**: the quarter's pay over every employer and remuneration code (euro cents), whatever the
  position — a person who left during the quarter has pay and no job on the last day.
- Age band, sex and region (from the postcode, categories.py) from the register's extraction;
  `UNKNOWN` for a person the register did not list on the last day (deceased during the quarter,
  a number replaced): every person a source names gets a position.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from warehouse.service import categories
from warehouse.service.model import CodedPeriod, CodedPerson, CodedWorkerRecord


class Position(enum.Enum):
    EMPLOYED = "EMPLOYED"
    SEVERAL_EMPLOYERS = "SEVERAL_EMPLOYERS"
    STUDENT = "STUDENT"
    NOT_IN_EMPLOYMENT = "NOT_IN_EMPLOYMENT"


IN_WORK = frozenset({Position.EMPLOYED, Position.SEVERAL_EMPLOYERS, Position.STUDENT})
#: The worker class and joint committee of a person not in work.
NONE = "NONE"


@dataclass(frozen=True, slots=True)
class PersonPosition:
    person: str
    position: Position
    worker_class: str
    joint_committee: str
    #: Distinct employers on the last day.
    employers: int
    age_band: str
    sex: str
    region: str
    #: The quarter's pay, every employer (euro cents).
    pay: int

    @property
    def in_work(self) -> bool:
        return self.position in IN_WORK


def derive_positions(
    last_day: dt.date,
    persons: Iterable[CodedPerson],
    periods: Iterable[CodedPeriod],
    workers: Iterable[CodedWorkerRecord],
) -> list[PersonPosition]:
    """Every person any source names, by code."""
    demographics = {p.person: p for p in persons}
    covering: dict[str, list[CodedPeriod]] = defaultdict(list)
    named: set[str] = set(demographics)
    for period in periods:
        named.add(period.person)
        if period.covers(last_day):
            covering[period.person].append(period)
    pay: dict[str, int] = defaultdict(int)
    employer_pay: dict[tuple[str, str], int] = defaultdict(int)
    best_record: dict[tuple[str, str], CodedWorkerRecord] = {}
    for record in workers:
        named.add(record.person)
        pay[record.person] += record.pay
        key = (record.person, record.employer)
        employer_pay[key] += record.pay
        known = best_record.get(key)
        if known is None or (record.pay, record.worker_code) > (known.pay, known.worker_code):
            best_record[key] = record
    out = []
    for person in sorted(named):
        found = demographics.get(person)
        if found is None:
            age, sex, region = categories.UNKNOWN, categories.UNKNOWN, categories.UNKNOWN
        else:
            age = categories.age_band(found.age)
            sex = found.sex if found.sex in categories.SEXES else categories.UNKNOWN
            region = categories.region(found.postcode, found.country_code)
        jobs = covering.get(person)
        if not jobs:
            out.append(
                PersonPosition(
                    person, Position.NOT_IN_EMPLOYMENT, NONE, NONE, 0, age, sex, region,
                    pay[person],
                )
            )  # fmt: skip
            continue
        main = min(
            jobs, key=lambda p: (-employer_pay.get((person, p.employer), 0), p.start, p.employer)
        )
        employers = len({p.employer for p in jobs})
        if all(p.worker_type in categories.STUDENT_TYPES for p in jobs):
            position = Position.STUDENT
        elif employers > 1:
            position = Position.SEVERAL_EMPLOYERS
        else:
            position = Position.EMPLOYED
        record = best_record.get((person, main.employer))
        worker_class = (
            categories.WORKER_CODE_CLASSES.get(record.worker_code) if record is not None else None
        ) or categories.WORKER_TYPE_CLASSES.get(main.worker_type, categories.UNKNOWN)
        out.append(
            PersonPosition(
                person,
                position,
                worker_class,
                main.joint_committee or categories.NO_JOINT_COMMITTEE,
                employers,
                age,
                sex,
                region,
                pay[person],
            )
        )
    return out
