"""`python -m mutuality seed --population FILE` and `python -m mutuality integrate`.

`seed` makes this mutuality's share of a population its members (service/membership.py). The
population is a file of INSZs, one per line — the living persons with a current number that the
registry's seed created, written by `python -m registry export-population` (no service reads
another's database or imports another's code: the register's operator hands the list over).
Idempotent: does nothing once the mutuality has members.

`integrate` integrates the members not integrated yet in the reference directory at the hub
(`HUB_ROUTER_ADDR`), as this mutuality; the hub integrates them at the primary router under its
own identity. Run it when the hub is up; running it again sends only what is new.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mutuality.config import Settings
from mutuality.service import membership
from mutuality.service.integration import integrate
from mutuality.storage import MIGRATIONS
from mutuality.storage.repository import unit_factory
from runtime.clock import SystemClock
from runtime.db import Database
from runtime.errors import ServiceError

logger = logging.getLogger(__name__)


def read_population(path: Path) -> list[str]:
    """The INSZs of a population file (blank lines and `#` comments skipped)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def seed(settings: Settings, args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutuality seed")
    parser.add_argument(
        "--population",
        type=Path,
        required=True,
        help="INSZs, one per line (python -m registry export-population --out FILE)",
    )
    parsed = parser.parse_args(args)
    if not parsed.population.is_file():
        parser.error(f"{parsed.population}: no such file (python -m registry export-population?)")
    mutuality = settings.mutuality_id
    try:
        chosen = membership.members(mutuality, read_population(parsed.population))
    except ValueError as exc:
        parser.error(str(exc))
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        with unit_factory(db, mutuality)() as unit:
            if unit.affiliations.count():
                logger.info("%s already has members: nothing to do", mutuality)
                return 0
            unit.affiliations.add_all(chosen)
    finally:
        db.dispose()
    logger.info("%s seeded: %d members", mutuality, len(chosen))
    return 0


def integrate_command(settings: Settings, args: list[str]) -> int:
    from mutuality.transport.hub import GrpcHubDirectory
    from runtime.client import secure_channel, server_name
    from runtime.identity import TRUST_DOMAIN

    parser = argparse.ArgumentParser(prog="python -m mutuality integrate")
    parser.add_argument("--hub", default=settings.hub_addr, help="the hub router's host:port")
    parsed = parser.parse_args(args)
    db = Database(settings.runtime.database_url)
    channel = secure_channel(
        parsed.hub,
        settings.runtime.tls,
        **server_name(f"spiffe://{TRUST_DOMAIN}/router/{settings.hub_name}"),
    )
    try:
        db.migrate(MIGRATIONS)
        report = integrate(
            unit_factory(db, settings.mutuality_id), GrpcHubDirectory(channel), SystemClock()
        )
    except ServiceError as exc:
        sys.stderr.write(f"{settings.mutuality_id} integrate: {exc.reason}: {exc.message}\n")
        return 1
    finally:
        channel.close()
        db.dispose()
    logger.info(
        "%s integrated %d members at the hub (%d new there, %d already known)",
        settings.mutuality_id,
        report.sent,
        report.added,
        report.unchanged,
    )
    return 0
