"""`python -m warehouse seed`: the warehouse's research projects and the research centres granted
them (convergent: adds the projects that are missing, leaves the others as they are).

- `dwh-standard`: the standard tables, public (any party of the mesh reads them; the portal's
  charts); linkable (the TTP's common key). HIVA may export its tables, not its micro-data.
- `hiva-careers`: careers of young workers, linkable, granted to HIVA with micro-data.
- `hiva-wage-gap`: the gender pay gap, unlinkable (the TTP keeps a key for it alone), granted to
  HIVA with micro-data.
The TTP's own list (services/ttp/projects.toml) names the same projects and their unlinkability.
"""

from __future__ import annotations

import datetime as dt
import logging

from runtime.db import Database
from warehouse.config import Settings
from warehouse.service.model import Grant, Project
from warehouse.storage import MIGRATIONS
from warehouse.storage.repository import SqlWarehouseStore

logger = logging.getLogger(__name__)

RESEARCH_CENTRE = "hiva"
SINCE = dt.date(2025, 1, 1)
PROJECTS = (
    (
        Project("dwh-standard", "Standard tables of the labour market", False, True),
        (Grant("dwh-standard", RESEARCH_CENTRE, False, SINCE, None),),
    ),
    (
        Project("hiva-careers", "Careers of young workers (HIVA, KU Leuven)", False, False),
        (Grant("hiva-careers", RESEARCH_CENTRE, True, SINCE, None),),
    ),
    (
        Project(
            "hiva-wage-gap", "The gender pay gap by joint committee (HIVA, KU Leuven)", True, False
        ),
        (Grant("hiva-wage-gap", RESEARCH_CENTRE, True, SINCE, None),),
    ),
)


def seed_projects(db: Database) -> int:
    """Add the missing projects; the number added."""
    store = SqlWarehouseStore(db)
    return sum(store.add_project(project, grants) for project, grants in PROJECTS)


def run(settings: Settings, args: list[str]) -> int:
    if args:
        logger.error("usage: python -m warehouse seed")
        return 2
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        added = seed_projects(db)
    finally:
        db.dispose()
    logger.info("warehouse seeded: %d research projects added", added)
    return 0
