"""`python -m dimona seed`: load the synthetic employer register and mandates (seed.data).

One transaction; idempotent: a register that already holds employers is left as it is.
"""

from __future__ import annotations

import logging

from dimona.seed.data import employers, mandates
from dimona.storage import MIGRATIONS
from dimona.storage.repository import SqlEmployers
from runtime.db import Database

logger = logging.getLogger(__name__)


def load(db: Database) -> int:
    """Seed the register unless it holds employers; returns how many employers were added."""
    with db.write() as conn:
        repo = SqlEmployers(conn)
        if repo.count():
            return 0
        register = employers()
        for employer in register:
            repo.add(employer)
        for employer, bureau, since in mandates(register):
            repo.add_mandate(employer, bureau, since)
        return len(register)


def run(database_url: str, args: list[str]) -> int:
    if args:
        logger.error("usage: python -m dimona seed")
        return 2
    db = Database(database_url)
    try:
        db.migrate(MIGRATIONS)
        added = load(db)
    finally:
        db.dispose()
    if added:
        logger.info("dimona seeded: %d employers and their mandates", added)
    else:
        logger.info("dimona already seeded")
    return 0
