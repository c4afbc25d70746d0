"""Composition root of the registry service: settings, database, rules, servicer, server.

`python -m registry` serves, `python -m registry migrate` only migrates, and
`python -m registry seed [--count N] [--seed S]` loads the synthetic population (registry.seed),
`python -m registry export-population --out FILE` writes its living persons' numbers.
"""

from __future__ import annotations

import logging

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.config import SERVICE, Settings
from registry.research import research_registration
from registry.seed import command as seed
from registry.service.cache import PersonCache
from registry.service.changes import RegistryChanges
from registry.service.leases import Leases
from registry.service.queries import RegistryQueries
from registry.storage import MIGRATIONS
from registry.storage.repository import mutation_version, unit_factory
from registry.transport.servicer import RegistryServicer
from runtime import faults
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the service (database migrated, servicer wired); `start()` binds the port."""
    if settings.faults is not None:
        faults.install(settings.faults)
    clock = clock or SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    version = mutation_version(db)
    # The routers' leases on the event log (registry.service.leases), from the last event.
    leases = Leases(settings.lease_seconds, version())
    servicer = RegistryServicer(
        RegistryQueries(unit_factory(db, write=False), clock, version, PersonCache()),
        RegistryChanges(unit_factory(db), clock, leases),
        leases,
    )
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                registry_pb2_grpc.add_RegistryServiceServicer_to_server,
                servicer,
                registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
            ),
            research_registration(db),
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
        {
            "seed": lambda settings, args: seed.run(settings.runtime.database_url, args),
            "export-population": lambda settings, args: seed.export_population(
                settings.runtime.database_url, args
            ),
        },
        argv,
    )
