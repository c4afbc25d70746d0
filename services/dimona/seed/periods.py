"""`python -m dimona seed-periods [--year Y --quarter Q] [--population FILE] [--workers N]`: a
quarter of Dimona periods, declared through DIMONA's own rules, for `make run` (the DmfA's prepare
step reads them through the router and declares the quarter consistently).

The quarter defaults to the calendar quarter before today's (Europe/Brussels). About thirty
workers of the population file (the registry's living persons, `python -m registry
export-population`) at four employers of the register (seed.data): the retailer 000100006 (JC 202),
the federal public service 000935467 (JC XXX), the Brasserie du Sablon (JC 302) and Bouw
Vandamme (JC 124) — mostly OTH periods covering the whole quarter (a few starting before it, a
few ending inside it), students (STU, planned hours, within the quarter), a flexi-job (FLX,
written contract, the worker employed elsewhere since T-3 so that the flexi condition holds), an
occasional horeca day (EXT, with its times), and two types the DmfA never carries: DWD (Dimona
without DmfA) and STG (a non-subject trainee). The `ROSTER` table says which.

**`--workers N`** (default 0: the roster alone) adds N ordinary workers at the same four
employers (`EXTRA_EMPLOYERS`: white collars at the retailer and the federal public service, blue
collars at the brasserie and the builder), so that the research warehouse's tables of the quarter
have persons enough to publish (`make run`): OTH periods over the whole quarter (one in
`LATE_HIRE_EVERY` hired later in the quarter), ending on its last day, and students (STU, planned
hours, to the quarter's last day) for the workers under 30 at the retailer and the brasserie.
They come from the part of the population no quarter's roster slot ever takes (the pools beyond
their last roster slot, `extra_pool`), cut in `EXTRA_SLOTS` slots: a quarter takes the first N
of its slot, so that they never share a worker with any roster nor with the extra workers of
the other quarters of a year, and a larger N keeps a smaller one's workers; their periods end
with their quarter, so that a worker met again a year later never overlaps his earlier period.
A population without room for N more in a slot is an error (exit 1): `make run`'s 10,000
persons leave about 1,400 beyond the roster's slots, room for 355 a quarter.

**Through the real rules, as if declared on time.** Each IN is submitted to
`dimona.service.declarations.Declarations` in this process, with DIMONA's storage and the
worker's identity checked through the router (`RouterIdentity`, as the server does: the router
and the registry serve when DIMONA's prepare runs). The clock is fixed, for each declaration, at
08:00 in Brussels on the day before the quarter starts — or the day before the period starts when
it starts earlier — so that every IN is timely (a backdated seed would otherwise be late): the
declarations, periods and employment events carry that instant. Accepted periods wrote their
directory outbox rows; DIMONA's dispatcher integrates them in the reference directory when it
starts. Every IN must be accepted: a refusal is reported with its anomaly codes (never an INSZ)
and exits with status 1.

**Deterministic and idempotent.** The workers are drawn with a fixed seed from two pools of the
population (students aged 16-24, adults 25-62 on `AGES_ON`), shuffled once; each quarter takes
its own slot of each pool, so that the seeds of different quarters never share a worker (an
open-ended period of one quarter never overlaps the next quarter's). The persons the READMEs and
`make run`'s try commands declare by hand are left out. References are `seed-{year}Q{q}-{n}`:
DIMONA is idempotent on (employer, reference), so a second run answers every declaration from
the first and adds nothing; the extra workers' are `seed-{year}Q{q}-w{n}` (a run with a larger N
answers the first ones and declares the rest). Nothing else is written: who works where is in
DIMONA only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import logging
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dimona.config import Settings
from dimona.seed.data import NAMED, RETAIL, STATE
from dimona.service.calendar import ONE_DAY, brussels, quarter_bounds, quarter_of, shift_quarter
from dimona.service.commands import InForm, RawDate, RawTime, Submission
from dimona.service.declarations import Declarations
from dimona.service.model import FlexiContract, WorkerType
from dimona.service.ports import UnitFactory, WorkerIdentity
from dimona.service.rules import PeriodDraft, field_anomalies
from dimona.storage import MIGRATIONS
from dimona.storage.repository import unit_factory
from runtime.clock import FixedClock, SystemClock
from runtime.db import Database
from runtime.errors import ServiceError
from runtime.identifiers import IdentifierError, parse_insz
from runtime.identity import Caller, PartyKind

logger = logging.getLogger(__name__)

#: The fixed seed of every random choice.
SEED = 2025_06
#: The ages that put a person in a pool are taken on this day, so that the pools (and each
#: quarter's slot in them) stay the same from one run, and one year, to the next.
AGES_ON = dt.date(2025, 1, 1)
STUDENT_AGES = range(16, 25)
ADULT_AGES = range(25, 63)
#: Persons the READMEs and `make run`'s try commands declare by hand (their INs must be answered
#: as documented, not refused as overlapping a seeded period): never seeded.
DEMONSTRATION = frozenset({"85071412330", "03020100274", "06070500252"})
#: Declared at 08:00 in Brussels on the day before.
DECLARED_AT_MINUTES = 8 * 60
#: The occasional day's times (EXT): an evening in the brasserie.
DAY_START, DAY_END = 18 * 60, 23 * 60 + 30

#: The README's sickness walk-through (the DRS): 03020100274, a member of mut-200, employed by
#: the federal public service from the first seeded quarter on, open-ended, so that the
#: employer can declare her incapacity on any recent date. Her IN at RETAIL in the DIMONA
#: walk-through (a student job, another employer) does not overlap it.
SICKNESS_DEMO = ("03020100274", STATE)

BRASSERIE = next(e.onss_number for e in NAMED if e.name == "Brasserie du Sablon")
BOUW = next(e.onss_number for e in NAMED if e.name == "Bouw Vandamme")


class Shape(enum.Enum):
    """When a seeded period runs, relative to the quarter."""

    QUARTER = "QUARTER"  # from the quarter's first day, open-ended
    ENDS = "ENDS"  # from the first day, ending inside the quarter
    EARLIER = "EARLIER"  # from a day of the previous quarter, open-ended
    SINCE_T3 = "SINCE_T3"  # from the first day of quarter T-3, open-ended (the flexi's main job)
    STUDENT = "STUDENT"  # a few weeks inside the quarter, planned hours (STU)
    INTERNSHIP = "INTERNSHIP"  # four to eight weeks inside the quarter (STG)
    DAY = "DAY"  # one Saturday evening, with its times (EXT)
    FLEXI = "FLEXI"  # the whole quarter, written contract; the SINCE_T3 worker (FLX)


@dataclass(frozen=True)
class Role:
    employer: str
    worker_type: WorkerType
    joint_committee: str
    count: int
    shape: Shape


_W = WorkerType
#: Who is declared where each quarter: 30 workers (the flexi worker holds two periods), 31 INs.
ROSTER: tuple[Role, ...] = (
    Role(RETAIL, _W.OTH, "202", 6, Shape.QUARTER),
    Role(RETAIL, _W.OTH, "202", 2, Shape.ENDS),
    Role(RETAIL, _W.OTH, "202", 1, Shape.SINCE_T3),
    Role(RETAIL, _W.STU, "202", 2, Shape.STUDENT),
    Role(STATE, _W.OTH, "XXX", 3, Shape.QUARTER),
    Role(STATE, _W.OTH, "XXX", 1, Shape.EARLIER),
    Role(STATE, _W.OTH, "XXX", 1, Shape.ENDS),
    Role(STATE, _W.STG, "", 1, Shape.INTERNSHIP),  # STG has no joint committee
    Role(BRASSERIE, _W.OTH, "302", 3, Shape.QUARTER),
    Role(BRASSERIE, _W.OTH, "302", 1, Shape.ENDS),
    Role(BRASSERIE, _W.STU, "302", 2, Shape.STUDENT),
    Role(BRASSERIE, _W.FLX, "302", 1, Shape.FLEXI),
    Role(BRASSERIE, _W.EXT, "302", 1, Shape.DAY),
    Role(BOUW, _W.OTH, "124", 4, Shape.QUARTER),
    Role(BOUW, _W.OTH, "124", 1, Shape.ENDS),
    Role(BOUW, _W.DWD, "", 1, Shape.QUARTER),  # DWD: joint committee optional, none here
)  # fmt: skip
_STUDENT_SHAPES = frozenset({Shape.STUDENT})
#: Workers drawn per quarter from each pool (the FLEXI role reuses the SINCE_T3 worker).
STUDENTS_PER_QUARTER = sum(r.count for r in ROSTER if r.shape in _STUDENT_SHAPES)
ADULTS_PER_QUARTER = sum(
    r.count for r in ROSTER if r.shape not in _STUDENT_SHAPES and r.shape is not Shape.FLEXI
)


#: `--workers`: the employers of the extra workers, each with its joint committee and its share
#: (out of the sum of shares), drawn in this repeated order.
EXTRA_EMPLOYERS: tuple[tuple[str, str, int], ...] = (
    (RETAIL, "202", 7),
    (STATE, "XXX", 5),
    (BOUW, "124", 4),
    (BRASSERIE, "302", 4),
)
#: Extra workers under this age on `AGES_ON` drawn at one of these employers are students (STU).
EXTRA_STUDENT_UNDER = 30
EXTRA_STUDENT_EMPLOYERS = frozenset({RETAIL, BRASSERIE})
#: One ordinary extra worker in this many is hired later in the quarter, not on its first day.
LATE_HIRE_EVERY = 8
#: The extra pool's slots: the extra workers of the four quarters of any year are different
#: persons (a quarter takes the first N of its slot, so a larger N adds to a smaller one's).
EXTRA_SLOTS = 4
#: The upper bound of `--workers`.
MAX_WORKERS = 5_000
#: Never extra workers: the demonstration persons and the portal's people (its development
#: identity provider's citizens, services/portal/idp.py), whose pages the READMEs show.
EXTRA_EXCLUDED = DEMONSTRATION | {"90052104586", "85493000163"}


class SeedError(Exception):
    """The population cannot give a quarter its workers, or the arguments are wrong."""


@dataclass(frozen=True)
class Planned:
    """One IN of the seed."""

    reference: str
    employer: str
    worker: str  # INSZ
    draft: PeriodDraft
    #: The instant the IN is declared at (the clock is fixed there for it).
    declared_at: dt.datetime
    #: The README's sickness walk-through's employment (`SICKNESS_DEMO`): declared once, in the
    #: first quarter seeded, and kept (open-ended) in later ones.
    demonstration: bool = False

    def submission(self) -> Submission:
        d = self.draft
        return Submission(
            parent=f"employers/{self.employer}",
            reference=self.reference,
            form=InForm(
                insz=self.worker,
                identification=None,
                worker_type=d.worker_type,
                joint_committee=d.joint_committee,
                start_date=_raw_date(d.start_date),
                start_time=_raw_time(d.start_time),
                end_date=_raw_date(d.end_date),
                end_time=_raw_time(d.end_time),
                planned_hours=d.planned_hours or 0,
                flexi_contract=d.flexi_contract,
                sub_entity="",
                using_employer="",
            ),
        )


def _raw_date(day: dt.date | None) -> RawDate:
    return None if day is None else (day.year, day.month, day.day)


def _raw_time(minutes: int | None) -> RawTime:
    return None if minutes is None else (minutes // 60, minutes % 60, 0, 0)


def read_population(path: Path) -> list[str]:
    """The INSZs of a population file (blank lines and `#` comments skipped)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pools(population: Iterable[str]) -> tuple[list[str], list[str]]:
    """(adults, students) of the population, each shuffled with the fixed seed."""
    adults: list[str] = []
    students: list[str] = []
    for insz in sorted(set(population) - DEMONSTRATION):
        try:
            age = AGES_ON.year - parse_insz(insz).birth_year
        except IdentifierError:
            raise SeedError("the population file holds a line that is no valid INSZ") from None
        if age in STUDENT_AGES:
            students.append(insz)
        elif age in ADULT_AGES:
            adults.append(insz)
    rng = random.Random(SEED)
    rng.shuffle(adults)
    rng.shuffle(students)
    return adults, students


def _slot(pool: list[str], size: int, index: int) -> list[str]:
    return pool[index * size : (index + 1) * size]


def _roster_slots(adults: list[str], students: list[str]) -> int:
    return min(len(adults) // ADULTS_PER_QUARTER, len(students) // STUDENTS_PER_QUARTER)


def extra_pool(adults: list[str], students: list[str]) -> list[str]:
    """The persons no quarter's roster slot takes (each pool beyond its last slot), but for
    `EXTRA_EXCLUDED`, shuffled together with the fixed seed."""
    slots = _roster_slots(adults, students)
    rest = [*students[slots * STUDENTS_PER_QUARTER :], *adults[slots * ADULTS_PER_QUARTER :]]
    rest = [insz for insz in rest if insz not in EXTRA_EXCLUDED]
    random.Random(SEED + 1).shuffle(rest)
    return rest


def plan(year: int, quarter: int, population: Iterable[str], workers: int = 0) -> list[Planned]:
    """The quarter's INs, in reference order (the same for the same population): the roster's,
    then `workers` extra workers' (`--workers`)."""
    if not 0 <= workers <= MAX_WORKERS:
        raise SeedError(f"--workers: 0 to {MAX_WORKERS}")
    adults, students = pools(population)
    slots = _roster_slots(adults, students)
    if slots == 0:
        raise SeedError(
            f"the population holds {len(adults)} adults and {len(students)} students; a quarter "
            f"needs {ADULTS_PER_QUARTER} and {STUDENTS_PER_QUARTER}"
        )
    # Each quarter its own slot of each pool: different quarters, different workers (until the
    # slots wrap around, after `slots` quarters).
    slot = (year * 4 + quarter - 1) % slots
    adult = iter(_slot(adults, ADULTS_PER_QUARTER, slot))
    student = iter(_slot(students, STUDENTS_PER_QUARTER, slot))
    first, last = quarter_bounds(year, quarter)
    rng = random.Random(SEED * 100_000 + year * 10 + quarter)
    out: list[Planned] = []
    since_t3 = ""
    for role in ROSTER:
        for _ in range(role.count):
            if role.shape is Shape.FLEXI:
                if not since_t3:
                    raise AssertionError("the FLEXI role comes after its SINCE_T3 worker")
                worker = since_t3
            else:
                worker = next(student if role.shape in _STUDENT_SHAPES else adult)
            if role.shape is Shape.SINCE_T3:
                since_t3 = worker
            draft = _draft(role, first, last, rng)
            reference = f"seed-{year}Q{quarter}-{len(out) + 1:02d}"
            blocking = [a.code for a in field_anomalies(draft, "dimona_in") if a.blocking]
            if blocking:  # the roster breaks a worker type's rule (service/rules.py)
                raise AssertionError(f"{reference}: {', '.join(blocking)}")
            declared_on = min(first, draft.start_date) - ONE_DAY
            out.append(
                Planned(
                    reference,
                    role.employer,
                    worker,
                    draft,
                    brussels(declared_on, DECLARED_AT_MINUTES),
                )
            )
    if workers:
        out += _extras(year, quarter, extra_pool(adults, students), workers)
    return out


def _extras(year: int, quarter: int, pool: list[str], workers: int) -> list[Planned]:
    """`workers` extra workers' INs: the first of the quarter's slot of the extra pool."""
    room = len(pool) // EXTRA_SLOTS
    if workers > room:
        raise SeedError(
            f"the population holds {len(pool)} persons besides the roster's slots: room for "
            f"{room} extra workers a quarter, not {workers}"
        )
    chosen = _slot(pool, room, (year * 4 + quarter - 1) % EXTRA_SLOTS)[:workers]
    first, last = quarter_bounds(year, quarter)
    days = (last - first).days + 1
    employers = [e for e in EXTRA_EMPLOYERS for _ in range(e[2])]
    rng = random.Random(f"{SEED}-extra-{year}Q{quarter}")
    out: list[Planned] = []
    ordinary = 0
    for n, worker in enumerate(chosen, start=1):
        employer, committee, _share = employers[(n - 1) % len(employers)]
        start, end, planned_hours = first, last, None
        if (
            employer in EXTRA_STUDENT_EMPLOYERS
            and AGES_ON.year - parse_insz(worker).birth_year < EXTRA_STUDENT_UNDER
        ):
            worker_type = WorkerType.STU
            start = first + rng.randint(0, days - 31) * ONE_DAY
            planned_hours = rng.randrange(40, 201, 4)
        else:
            worker_type = WorkerType.OTH
            ordinary += 1
            if ordinary % LATE_HIRE_EVERY == 0:
                start = first + rng.randint(5, days - 30) * ONE_DAY
        draft = PeriodDraft(
            worker_type=worker_type,
            joint_committee=committee,
            start_date=start,
            start_time=None,
            end_date=end,
            end_time=None,
            planned_hours=planned_hours,
            flexi_contract=None,
        )
        reference = f"seed-{year}Q{quarter}-w{n:04d}"
        blocking = [a.code for a in field_anomalies(draft, "dimona_in") if a.blocking]
        if blocking:  # a worker type's rule broken (service/rules.py)
            raise AssertionError(f"{reference}: {', '.join(blocking)}")
        out.append(
            Planned(
                reference, employer, worker, draft, brussels(first - ONE_DAY, DECLARED_AT_MINUTES)
            )
        )
    return out


def demonstration(year: int, quarter: int) -> Planned:
    """The README's sickness walk-through's employment (`SICKNESS_DEMO`): OTH at the federal
    public service from the quarter's first day, open-ended."""
    first, _last = quarter_bounds(year, quarter)
    worker, employer = SICKNESS_DEMO
    return Planned(
        f"seed-{year}Q{quarter}-demo",
        employer,
        worker,
        PeriodDraft(
            worker_type=WorkerType.OTH,
            joint_committee="XXX",
            start_date=first,
            start_time=None,
            end_date=None,
            end_time=None,
            planned_hours=None,
            flexi_contract=None,
        ),
        brussels(first - ONE_DAY, DECLARED_AT_MINUTES),
        demonstration=True,
    )


def _draft(role: Role, first: dt.date, last: dt.date, rng: random.Random) -> PeriodDraft:
    days = (last - first).days + 1
    start, end = first, None
    start_time = end_time = planned_hours = None
    flexi = None
    if role.shape is Shape.ENDS:
        end = first + rng.randint(20, days - 10) * ONE_DAY
    elif role.shape is Shape.EARLIER:
        start = quarter_bounds(*shift_quarter(*quarter_of(first), -1))[0]
        start += rng.randint(0, 40) * ONE_DAY
    elif role.shape is Shape.SINCE_T3:
        start = quarter_bounds(*shift_quarter(*quarter_of(first), -3))[0]
    elif role.shape is Shape.STUDENT:
        start = first + rng.randint(0, days - 31) * ONE_DAY
        end = start + rng.randint(6, 27) * ONE_DAY
        planned_hours = rng.randrange(20, 121, 4)
    elif role.shape is Shape.INTERNSHIP:
        start = first + rng.randint(0, 20) * ONE_DAY
        end = min(last, start + rng.randint(28, 56) * ONE_DAY)
    elif role.shape is Shape.DAY:
        saturdays = [
            first + i * ONE_DAY for i in range(days) if (first + i * ONE_DAY).weekday() == 5
        ]
        start = end = rng.choice(saturdays)
        start_time, end_time = DAY_START, DAY_END
    elif role.shape is Shape.FLEXI:
        end = last
        flexi = FlexiContract.WRITTEN
    return PeriodDraft(
        worker_type=role.worker_type,
        joint_committee=role.joint_committee,
        start_date=start,
        start_time=start_time,
        end_date=end,
        end_time=end_time,
        planned_hours=planned_hours,
        flexi_contract=flexi,
    )


@dataclass
class Outcome:
    """What a run did."""

    planned: int = 0
    #: Accepted now.
    declared: int = 0
    #: Already declared by an earlier run (answered again, nothing added).
    already: int = 0
    late: int = 0
    #: (reference, anomaly codes or the error's reason) of every IN not accepted.
    refused: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: (reference, warning codes) of accepted INs with warnings.
    warnings: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    #: Accepted periods per (employer, worker type).
    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.refused


def declare(
    declarations: Declarations,
    read_unit: UnitFactory,
    clock: FixedClock,
    planned: Sequence[Planned],
) -> Outcome:
    """Submit each IN, the clock at its `declared_at`; stops at the first error status (a
    refused IN is stored and reported, the next ones are still declared)."""
    outcome = Outcome(planned=len(planned))
    for item in planned:
        with read_unit() as unit:
            existed = unit.declarations.get(item.employer, item.reference) is not None
            if item.demonstration and not existed:
                # Seeded in an earlier quarter and still open: kept, not declared again.
                existed = any(
                    p.employer == item.employer and p.end_date is None
                    for p in unit.periods.of_worker(item.worker)
                )
                if existed:
                    outcome.already += 1
                    outcome.accepted[(item.employer, item.draft.worker_type.value)] += 1
                    continue
        clock.set(item.declared_at)
        try:
            answer = declarations.submit(
                Caller(PartyKind.EMPLOYER, item.employer), item.submission()
            )
        except ServiceError as exc:  # e.g. IDENTITY_UNAVAILABLE, IDEMPOTENCY_KEY_REUSED
            outcome.refused.append((item.reference, (exc.reason,)))
            break
        codes = tuple(a.code for a in answer.anomalies)
        if not answer.accepted:
            outcome.refused.append((item.reference, codes))
            continue
        if codes:
            outcome.warnings.append((item.reference, codes))
        outcome.late += answer.late
        outcome.accepted[(item.employer, item.draft.worker_type.value)] += 1
        if existed:
            outcome.already += 1
        else:
            outcome.declared += 1
    return outcome


def seed_quarter(
    database_url: str,
    year: int,
    quarter: int,
    population: Iterable[str],
    identity: WorkerIdentity,
    workers: int = 0,
) -> Outcome:
    """Plan the quarter (with `workers` extra workers) and declare it into DIMONA's database
    (migrated first), checking the workers with `identity`."""
    planned = [*plan(year, quarter, population, workers), demonstration(year, quarter)]
    db = Database(database_url)
    try:
        db.migrate(MIGRATIONS)
        clock = FixedClock(planned[0].declared_at)
        read = unit_factory(db, write=False)
        declarations = Declarations(unit_factory(db), read, identity, clock)
        return declare(declarations, read, clock, planned)
    finally:
        db.dispose()


def previous_quarter(today: dt.date) -> tuple[int, int]:
    return shift_quarter(*quarter_of(today), -1)


def run(settings: Settings, args: list[str]) -> int:
    """Entry point of `python -m dimona seed-periods`; returns the exit status."""
    from dimona.transport.router_client import RouterIdentity
    from runtime.client import secure_channel, server_name
    from runtime.identity import TRUST_DOMAIN

    parser = argparse.ArgumentParser(prog="python -m dimona seed-periods")
    parser.add_argument("--year", type=int, help="with --quarter; default: the previous quarter")
    parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))
    parser.add_argument(
        "--population",
        type=Path,
        default=Path("var/seed/population.txt"),
        help="INSZs, one per line (python -m registry export-population --out FILE)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help=f"ordinary workers to add to the roster (0 to {MAX_WORKERS}; default 0)",
    )
    parsed = parser.parse_args(args)
    if (parsed.year is None) != (parsed.quarter is None):
        parser.error("--year and --quarter go together")
    if parsed.year is not None and not 2017 <= parsed.year <= 2100:
        parser.error("--year: 2017 to 2100")
    if not 0 <= parsed.workers <= MAX_WORKERS:
        parser.error(f"--workers: 0 to {MAX_WORKERS}")
    year, quarter = (
        (parsed.year, parsed.quarter)
        if parsed.year is not None
        else previous_quarter(SystemClock().today())
    )
    if not parsed.population.is_file():
        parser.error(f"{parsed.population}: no such file (python -m registry export-population?)")
    channel = secure_channel(
        settings.router_addr,
        settings.runtime.tls,
        **server_name(f"spiffe://{TRUST_DOMAIN}/router/{settings.router_name}"),
    )
    identity = RouterIdentity(channel)
    try:
        outcome = seed_quarter(
            settings.runtime.database_url,
            year,
            quarter,
            read_population(parsed.population),
            identity,
            parsed.workers,
        )
    except SeedError as exc:
        sys.stderr.write(f"dimona seed-periods: {exc}\n")
        return 1
    finally:
        identity.close()
        channel.close()
    return report(year, quarter, outcome)


def report(year: int, quarter: int, outcome: Outcome) -> int:
    """Log what a run did (references and codes, never an INSZ); the exit status."""
    for reference, codes in outcome.warnings:
        logger.warning("seed-periods %s accepted with warnings: %s", reference, ", ".join(codes))
    for reference, codes in outcome.refused:
        logger.error("seed-periods %s not accepted: %s", reference, ", ".join(codes))
    per_employer: dict[str, list[str]] = {}
    for (employer, worker_type), n in sorted(outcome.accepted.items()):
        per_employer.setdefault(employer, []).append(f"{worker_type} {n}")
    for employer, parts in per_employer.items():
        logger.info(
            "seed-periods %dQ%d employers/%s: %s", year, quarter, employer, ", ".join(parts)
        )
    logger.info(
        "dimona seeded %dQ%d: %d of %d Dimona periods accepted (%d new, %d already declared), "
        "%d late, %d refused",
        year,
        quarter,
        outcome.declared + outcome.already,
        outcome.planned,
        outcome.declared,
        outcome.already,
        outcome.late,
        len(outcome.refused),
    )
    return 0 if outcome.ok else 1
