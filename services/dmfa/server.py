"""Composition root of the DmfA service: settings, database, tables, the router client, the
rules, servicers, the quota outbox, the server.

`python -m dmfa` serves, `python -m dmfa migrate` only migrates, `python -m dmfa seed` loads the
employer register and mandates, `python -m dmfa seed-quarter` submits a quarter of declarations
consistent with DIMONA's periods (dmfa.seed).
"""

from __future__ import annotations

import logging

from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from dmfa.config import SERVICE, Settings
from dmfa.research import research_registration
from dmfa.seed import command as seed
from dmfa.service.declarations import Declarations
from dmfa.service.ports import Network
from dmfa.service.queries import DmfaQueries
from dmfa.service.quota_sync import QuotaSync
from dmfa.service.tables import Tables
from dmfa.storage import MIGRATIONS
from dmfa.storage.repository import unit_factory
from dmfa.transport.router_client import router_network
from dmfa.transport.servicer import (
    DeclarationEventServicer,
    DmfaConsultationServicer,
    DmfaServicer,
)
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)

_SERVICES = dmfa_pb2.DESCRIPTOR.services_by_name


def create_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    network: Network | None = None,
    tables: Tables | None = None,
) -> ServiceHost:
    """Build the service (database migrated, quota outbox started with the server).

    `network` defaults to the router's; `tables` to services/dmfa/service/tables.toml."""
    clock = clock or SystemClock()
    tables = tables or Tables.load()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    on_stop = []
    if network is None:
        network, channel = router_network(
            settings.router_addr, settings.router_name, settings.runtime.tls
        )
        on_stop.append(channel.close)  # type: ignore[attr-defined]
    sync = QuotaSync(unit_factory(db), network, clock, idle_seconds=settings.quota_idle_seconds)
    declarations = Declarations(
        unit_factory(db),
        unit_factory(db, write=False),
        network,
        tables,
        clock,
        on_accepted=sync.wake,
    )
    queries = DmfaQueries(unit_factory(db, write=False), clock)
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                dmfa_pb2_grpc.add_DmfaServiceServicer_to_server,
                DmfaServicer(declarations, queries),
                _SERVICES["DmfaService"].full_name,
            ),
            Registration(
                dmfa_pb2_grpc.add_DmfaConsultationServiceServicer_to_server,
                DmfaConsultationServicer(queries),
                _SERVICES["DmfaConsultationService"].full_name,
            ),
            Registration(
                dmfa_pb2_grpc.add_DeclarationEventServiceServicer_to_server,
                DeclarationEventServicer(queries),
                _SERVICES["DeclarationEventService"].full_name,
            ),
            research_registration(db),
        ],
        readiness=db.ping,
        on_stop=[sync.stop, declarations.close, *on_stop, db.dispose],
    )
    sync.start()
    host.quota_sync = sync  # type: ignore[attr-defined] - for tests
    return host


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {
            "seed": lambda settings, args: seed.run(settings, args),
            "seed-quarter": lambda settings, args: seed.run_quarter(settings, args),
        },
        argv,
    )
