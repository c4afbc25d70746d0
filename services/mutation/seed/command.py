"""`python -m mutation seed`: the demonstration's grants and subscriptions (idempotent)."""

from __future__ import annotations

import logging
import uuid

from mutation.config import Settings
from mutation.seed.data import GRANTS, SUBSCRIPTIONS, VALID_FROM
from mutation.service.model import Delivery, Grant
from mutation.storage import MIGRATIONS
from mutation.storage.repository import mutation_outbox, unit_factory
from runtime.db import Database

logger = logging.getLogger(__name__)


def run(settings: Settings, args: list[str]) -> int:
    if args:
        logger.error("usage: python -m mutation seed")
        return 2
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        added = load(db)
    finally:
        db.dispose()
    logger.info("mutation seeded: %d grants added, %d subscriptions", added, len(SUBSCRIPTIONS))
    return 0


def load(db: Database) -> int:
    units = unit_factory(db, mutation_outbox())
    added = 0
    with units() as unit:
        known = {(g.institution, g.event_type, g.deliberation) for g in unit.grants()}
        for institution, deliberation, event_types, capacities in GRANTS:
            for event_type in event_types:
                if (institution, event_type, deliberation) in known:
                    continue
                unit.add_grant(
                    Grant(uuid.uuid4().hex, institution, event_type, frozenset(capacities),
                          deliberation, VALID_FROM)
                )  # fmt: skip
                added += 1
        for institution, (event_types, delivery) in SUBSCRIPTIONS.items():
            unit.set_subscription(institution, sorted(event_types))
            unit.set_delivery(institution, Delivery(delivery))
    return added
