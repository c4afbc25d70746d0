"""`python -m mutation purge [--days N]`: the mutation service's retention.

Deletes what no one needs any more, older than N days (default 90): notifications delivered to
an inbox (the inbox keeps them; their ids stay stable, so a late re-delivery would still be
harmless) and stream notifications the institution acknowledged. Pending and dead-lettered
notifications, and unacknowledged stream ones, are never purged. Run it from cron or a
Kubernetes CronJob.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging

from mutation.config import Settings
from mutation.storage import MIGRATIONS
from mutation.storage.repository import mutation_outbox, unit_factory
from runtime.db import Database

logger = logging.getLogger(__name__)


def purge(db: Database, before: dt.datetime) -> tuple[int, int]:
    """(inbox notifications purged, stream notifications purged)."""
    outbox = mutation_outbox()
    delivered = outbox.purge(db, before)
    with unit_factory(db, outbox)() as unit:
        streamed = unit.purge_stream(before)
    return delivered, streamed


def run(settings: Settings, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutation purge")
    parser.add_argument("--days", type=int, default=90, help="keep this many days (>= 1)")
    parsed = parser.parse_args(args)
    if parsed.days < 1:
        parser.error("--days must be at least 1")
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        before = dt.datetime.now(dt.UTC) - dt.timedelta(days=parsed.days)
        delivered, streamed = purge(db, before)
    finally:
        db.dispose()
    logger.info(
        "purged %d delivered inbox notifications and %d acknowledged stream notifications",
        delivered,
        streamed,
    )
    return 0
