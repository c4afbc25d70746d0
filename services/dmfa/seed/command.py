"""The DmfA's development seeds.

- `python -m dmfa seed`: the employer register and mandates. The ONSS keeps one employer
  register; in this development mesh DIMONA and the DmfA each hold a copy in their own database,
  loaded from the same synthetic list (dimona.seed.data). Idempotent.
- `python -m dmfa seed-quarter [--year Y --quarter Q]`: one original declaration per named
  employer with a definitive number, for the quarter before today's (Europe/Brussels), built
  from the employer's Dimona periods **read from DIMONA through the router** (as the DmfA does
  for every submission) and submitted through the DmfA's own rules in-process (cross-checks
  through the router included). One worker of the retail employer is left out on purpose, so
  that the declaration shows a MISSING_WORKER anomaly. Deterministic; idempotent (the same
  submission references: a second run answers the stored versions). Needs the router and DIMONA
  serving (in `make run` it runs after them).

Pay (UNCONFIRMED, synthetic): hourly wages by worker code, hours = the schedule's hours for the
working days (Monday to Friday) of each period's part in the quarter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging

from dimona.seed.data import NAMED, mandates
from dimona.seed.data import employers as register
from dmfa.config import Settings
from dmfa.service.declarations import Declarations
from dmfa.service.model import (
    DimonaPeriod,
    Employer,
    Header,
    Occupation,
    Person,
    Quarter,
    RemunerationLine,
    ServiceLine,
    Submission,
    WorkerRecord,
)
from dmfa.service.tables import Tables
from dmfa.storage import MIGRATIONS
from dmfa.storage.repository import SqlEmployers, unit_factory
from dmfa.transport.router_client import router_network
from runtime.clock import SystemClock
from runtime.db import Database
from runtime.errors import ServiceError
from runtime.identity import Caller, PartyKind

logger = logging.getLogger(__name__)

#: Hourly wage in cents by worker code (synthetic).
WAGES = {"015": 1800, "495": 2250, "840": 1300, "841": 1300, "016": 1250, "496": 1250}
_MANUAL_COMMITTEES = {"124", "302", "144", "145"}
_DAY_HUNDREDTHS = 760  # 7.6 hours a day: 38 hours, 5 days
#: The employer whose declaration leaves one worker out (a MISSING_WORKER anomaly to show).
SHOWCASE = NAMED[1].onss_number


def load(db: Database) -> int:
    with db.write() as conn:
        repo = SqlEmployers(conn)
        if repo.count():
            return 0
        found = register()
        for e in found:
            repo.add(Employer(e.onss_number, e.name, e.provisional))
        for employer, bureau, since in mandates(found):
            repo.add_mandate(employer, bureau, since)
        return len(found)


def run(settings: Settings, args: list[str]) -> int:
    if args:
        logger.error("usage: python -m dmfa seed")
        return 2
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        added = load(db)
    finally:
        db.dispose()
    logger.info("dmfa seeded: %d employers" if added else "dmfa already seeded", added)
    return 0


def previous_quarter(today: dt.date) -> Quarter:
    q = (today.month - 1) // 3 + 1
    return Quarter(today.year, q - 1) if q > 1 else Quarter(today.year - 1, 4)


def worker_code(period: DimonaPeriod, committee: str) -> str | None:
    manual = committee in _MANUAL_COMMITTEES
    return {
        "OTH": "015" if manual else "495",
        "BCW": "015",
        "EXT": "015",
        "IVT": "495",
        "TRI": "495",
        "TEA": "495",
        "STU": "840" if manual else "841",
        "STX": "840",
        "FLX": "016" if manual else "496",
    }.get(period.worker_type)


def _working_days(start: dt.date, end: dt.date) -> int:
    days, day = 0, start
    while day <= end:
        days += day.weekday() < 5
        day += dt.timedelta(days=1)
    return days


def declaration(
    employer: str, committee: str, quarter: Quarter, periods: list[DimonaPeriod], leave_out: int
) -> tuple[Person, ...]:
    """Workers built from the periods (the `leave_out`-th worker omitted when >= 0)."""
    by_worker: dict[str, list[DimonaPeriod]] = {}
    for p in sorted(periods, key=lambda p: (p.insz, p.start, p.period_id)):
        if worker_code(p, committee) is not None:
            by_worker.setdefault(p.insz, []).append(p)
    persons = []
    for index, (insz, own) in enumerate(sorted(by_worker.items())):
        if index == leave_out:
            continue
        records: dict[str, list[Occupation]] = {}
        spans: dict[str, tuple[dt.date, dt.date]] = {}
        for p in own:
            code = worker_code(p, committee) or ""
            start = max(p.start, quarter.first_day)
            end = min(p.end or quarter.last_day, quarter.last_day)
            days = max(1, _working_days(start, end))
            hours = days * _DAY_HUNDREDTHS
            occupations = records.setdefault(code, [])
            occupations.append(
                Occupation(
                    number=len(occupations) + 1,
                    start=p.start,
                    end=p.end,
                    joint_committee=committee,
                    working_days_system=500,
                    mean_working_hours=3800,
                    reference_working_hours=3800,
                    services=(ServiceLine("001", days * 100, hours),),
                    remunerations=(RemunerationLine("001", hours * WAGES[code] // 100),),
                )
            )
            first, last = spans.get(code, (start, end))
            spans[code] = (min(first, start), max(last, end))
        persons.append(
            Person(
                insz,
                tuple(
                    WorkerRecord(1, code, spans[code][0], spans[code][1], tuple(occupations))
                    for code, occupations in sorted(records.items())
                ),
            )
        )
    return tuple(persons)


def run_quarter(settings: Settings, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmfa seed-quarter")
    parser.add_argument("--year", type=int)
    parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))
    options = parser.parse_args(args)
    clock = SystemClock()
    quarter = (
        Quarter(options.year, options.quarter)
        if options.year and options.quarter
        else previous_quarter(clock.today())
    )
    db = Database(settings.runtime.database_url)
    network, channel = router_network(
        settings.router_addr, settings.router_name, settings.runtime.tls
    )
    declarations = Declarations(
        unit_factory(db), unit_factory(db, write=False), network, Tables.load(), clock
    )
    failed = 0
    try:
        db.migrate(MIGRATIONS)
        load(db)
        for named in NAMED:
            if named.provisional:
                continue
            periods = network.periods(named.onss_number, quarter)
            persons = declaration(
                named.onss_number,
                named.joint_committees[0],
                quarter,
                periods,
                0 if named.onss_number == SHOWCASE else -1,
            )
            if not persons:
                continue
            header = Header(named.onss_number, quarter, f"seed-{quarter}", None)
            try:
                version = declarations.submit(
                    Caller(PartyKind.EMPLOYER, named.onss_number),
                    Submission(header, persons, _digest(header, persons)),
                )
            except ServiceError as exc:
                logger.error("seed-quarter: %s refused: %s", named.onss_number, exc.reason)
                failed += 1
                continue
            logger.info(
                "seed-quarter: employer %s %s version %d %s, %d workers, %d anomalies",
                named.onss_number,
                quarter,
                version.number,
                version.status.value,
                version.totals.workers,
                len(version.anomalies),
            )
    finally:
        declarations.close()
        channel.close()  # type: ignore[attr-defined]
        db.dispose()
    return 1 if failed else 0


def _digest(header: Header, persons: tuple[Person, ...]) -> str:
    import hashlib

    return hashlib.sha256(repr((header, persons)).encode()).hexdigest()
