"""Synthetic coded records of a quarter, for the bench and the tests: a population shaped like
Belgium's labour market, already coded (no INSZ is ever made), written straight into the
warehouse's database — the mesh is not involved.

Deterministic for a seed. About two thirds of the population are in work on the last day, under
25 joint committees of very different sizes (a few large, a long tail: the small cells the
disclosure control must handle); blue and white collars, students (STU) and flexi-jobs, some
with two employers, some who left during the quarter; pay per worker code from a log-normal law
(median about 10,000 euros a quarter), a few very high pays (the dominance rule's cases).
"""

from __future__ import annotations

import base64
import datetime as dt
import random

from warehouse.service.model import (
    CodedPeriod,
    CodedPerson,
    CodedWorkerRecord,
    Quarter,
)
from warehouse.service.ports import QuarterRecords

JOINT_COMMITTEES = (
    "200", "124", "302", "330", "140.03", "111", "202", "311", "322", "XXX", "218", "209",
    "116", "220", "226", "207", "118", "119", "121", "149.04", "152", "225", "319", "329", "337",
)  # fmt: skip
#: Postcodes per region and their weights (Flanders, Wallonia, Brussels, abroad).
POSTCODES = (("9000", 0.3), ("2000", 0.28), ("4000", 0.17), ("6000", 0.15), ("1000", 0.09))


def code(rng: random.Random) -> str:
    return base64.b32encode(rng.randbytes(20)).decode("ascii")


def population(size: int, seed: int = 14) -> list[tuple[str, int, str, str, str]]:
    """(code, birth year, sex, postcode, country) for `size` persons."""
    rng = random.Random(seed)
    people = []
    for _ in range(size):
        if rng.random() < 0.01:
            postcode, country = "75001", "FR"
        else:
            postcode = rng.choices([p for p, _ in POSTCODES], [w for _, w in POSTCODES])[0]
            country = "BE"
        people.append((code(rng), rng.randint(1955, 2008), rng.choice(("MALE", "FEMALE")),
                       postcode, country))  # fmt: skip
    return people


def quarter_records(
    quarter: Quarter, people: list[tuple[str, int, str, str, str]], seed: int = 14
) -> QuarterRecords:
    rng = random.Random(seed * 100_003 + quarter.year * 10 + quarter.quarter)
    first, last = quarter.first_day, quarter.last_day
    jc_weights = [1 / (rank + 1) ** 1.1 for rank in range(len(JOINT_COMMITTEES))]
    employers = [f"{rng.randrange(10**8, 10**9)}" for _ in range(4000)]
    persons, periods, workers = [], [], []
    for person, birth_year, sex, postcode, country in people:
        age = last.year - birth_year
        persons.append(CodedPerson(person, age, sex, postcode, country))
        if rng.random() > 0.68 or age < 16 or age > 66:
            continue
        student = age < 25 and rng.random() < 0.35
        jobs = 2 if rng.random() < 0.06 else 1
        for _ in range(jobs):
            employer = rng.choice(employers)
            jc = rng.choices(JOINT_COMMITTEES, jc_weights)[0]
            if student:
                kind, worker_code, end = "STU", rng.choice(("840", "841")), last
                start = last - dt.timedelta(days=rng.randint(1, 40))
            elif rng.random() < 0.03:
                kind, worker_code, start, end = "FLX", rng.choice(("016", "496")), first, last
            else:
                kind = "OTH"
                worker_code = "015" if rng.random() < 0.38 else "495"
                start = first - dt.timedelta(days=rng.randint(0, 3000))
                # One in twenty left during the quarter.
                end = first + dt.timedelta(days=rng.randint(0, 80)) if rng.random() < 0.05 else None
            periods.append(CodedPeriod(person, employer, kind, jc, start, end))
            pay = int(rng.lognormvariate(13.8, 0.5)) // (4 if student else 1)
            if rng.random() < 0.002:
                pay *= 40  # a few very high pays: the p % rule's cases
            workers.append(CodedWorkerRecord(person, employer, worker_code, 6500, 49400, pay))
    return QuarterRecords(persons, periods, workers)
