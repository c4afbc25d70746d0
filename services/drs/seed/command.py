"""`python -m drs seed`: the employer register and mandates (runtime.employers, as DIMONA and
the DmfA load them), the DestHa flags and the insurer list (drs.seed.data). Idempotent:
employers are loaded once; insurers are brought up to date on every run."""

from __future__ import annotations

import logging

from drs.config import Settings
from drs.seed.data import INSURERS, files_spontaneously
from drs.service.model import Employer
from drs.storage import MIGRATIONS
from drs.storage.repository import SqlEmployers, SqlInsurers
from runtime.db import Database
from runtime.employers import NAMED, mandates
from runtime.employers import employers as register

logger = logging.getLogger(__name__)

assert len(NAMED) == 7  # seed.data counts generated employers from index 7


def load(db: Database) -> tuple[int, int]:
    """(employers added, insurers added or changed)."""
    with db.write() as conn:
        insurers = sum(SqlInsurers(conn).put(i) for i in INSURERS)
        repo = SqlEmployers(conn)
        if repo.count():
            return 0, insurers
        found = register()
        for i, e in enumerate(found):
            repo.add(
                Employer(
                    e.onss_number, e.name, e.provisional, files_spontaneously(e.onss_number, i)
                )
            )
        for employer, bureau, since in mandates(found):
            repo.add_mandate(employer, bureau, since)
        return len(found), insurers


def run(settings: Settings, args: list[str]) -> int:
    if args:
        logger.error("usage: python -m drs seed")
        return 2
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        employers, insurers = load(db)
    finally:
        db.dispose()
    logger.info("drs seeded: %d employers, %d insurers", employers, insurers)
    return 0
