"""The DmfA's development seeds.

- `python -m dmfa seed`: the employer register and mandates. The ONSS keeps one employer
  register; in this development mesh DIMONA and the DmfA each hold a copy in their own database,
  loaded from the same synthetic list (runtime.employers). Idempotent.
- `python -m dmfa seed-quarter [--year Y --quarter Q]`: one original declaration per named
  employer with a definitive number, for the quarter before today's (Europe/Brussels), built
  from the employer's Dimona periods **read from DIMONA through the router** (as the DmfA does
  for every submission) and submitted through the DmfA's own rules in-process (cross-checks
  through the router included). One worker of the retail employer is left out on purpose, so
  that the declaration shows a MISSING_WORKER anomaly. Deterministic; idempotent (the same
  submission references: a second run answers the stored versions). Needs the router and DIMONA
  serving (in `make run` it runs after them). Submitted as if on time: the rules run with a clock
  fixed on the 10th of the month after the quarter (the deadline is the month's last day), so
  the seeded declarations are not LATE whenever `make run` starts.

The declarations are pre-filled from the periods as the employer's own `python -m dmfa.cli
draft` pre-fills them (dmfa.service.prefill).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging

from dmfa.config import Settings
from dmfa.service.declarations import Declarations
from dmfa.service.model import Employer, Header, Person, Quarter, Submission
from dmfa.service.prefill import prefill, previous_quarter
from dmfa.service.tables import Tables
from dmfa.storage import MIGRATIONS
from dmfa.storage.repository import SqlEmployers, unit_factory
from dmfa.transport.router_client import router_network
from runtime.clock import BRUSSELS, FixedClock, SystemClock
from runtime.db import Database
from runtime.employers import NAMED, mandates
from runtime.employers import employers as register
from runtime.errors import ServiceError
from runtime.identity import Caller, PartyKind

logger = logging.getLogger(__name__)

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
    if added:
        logger.info("dmfa seeded: %d employers", added)
    else:
        logger.info("dmfa already seeded")
    return 0


def on_time(quarter: Quarter) -> dt.datetime:
    """The 10th of the month after the quarter, 08:00 in Brussels: well before the deadline."""
    day = quarter.last_day + dt.timedelta(days=10)
    return dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=BRUSSELS)


def run_quarter(settings: Settings, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m dmfa seed-quarter")
    parser.add_argument("--year", type=int)
    parser.add_argument("--quarter", type=int, choices=(1, 2, 3, 4))
    options = parser.parse_args(args)
    quarter = (
        Quarter(options.year, options.quarter)
        if options.year and options.quarter
        else previous_quarter(SystemClock().today())
    )
    clock = FixedClock(on_time(quarter))
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
            persons = prefill(
                named.joint_committees[0],
                quarter,
                periods,
                leave_out=0 if named.onss_number == SHOWCASE else -1,
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
    return hashlib.sha256(repr((header, persons)).encode()).hexdigest()
