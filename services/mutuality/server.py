"""Composition root of a mutuality: settings, database, queries, servicer, server.

`python -m mutuality` serves (MUTUALITY_ID says which mutuality), `python -m mutuality migrate`
only migrates, `seed --population FILE` makes its members, `integrate [--hub ADDR]` integrates
them in the reference directory at the hub (mutuality.seed).
"""

from __future__ import annotations

import logging

from cbss.mutuality.v1 import mutuality_pb2, mutuality_pb2_grpc
from mutuality.config import SERVICE, Settings
from mutuality.seed import integrate_command, seed
from mutuality.service.affiliations import AffiliationQueries
from mutuality.storage import MIGRATIONS
from mutuality.storage.repository import unit_factory
from mutuality.transport.servicer import MutualityServicer
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the service (database migrated, servicer wired); `start()` binds the port."""
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    queries = AffiliationQueries(
        settings.mutuality_id,
        unit_factory(db, settings.mutuality_id, write=False),
        clock or SystemClock(),
    )
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                mutuality_pb2_grpc.add_MutualityServiceServicer_to_server,
                MutualityServicer(queries),
                mutuality_pb2.DESCRIPTOR.services_by_name["MutualityService"].full_name,
            )
        ],
        readiness=db.ping,
        on_stop=[db.dispose],
    )


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {"seed": seed, "integrate": integrate_command},
        argv,
    )
