"""Composition root of the DIMONA service: settings, database, router clients, rules,
servicers (DimonaService, DimonaConsultationService, DimonaQuarterService,
EmploymentEventService), the directory dispatcher, the server.

`python -m dimona` serves, `python -m dimona migrate` only migrates, `python -m dimona seed`
loads the synthetic employer register and mandates (dimona.seed), and `python -m dimona
seed-periods` declares a quarter of Dimona periods through the rules (dimona.seed.periods).
"""

from __future__ import annotations

import logging

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from dimona.config import SERVICE, Settings
from dimona.research import research_registration
from dimona.seed import command as seed
from dimona.seed import periods as seed_periods
from dimona.service.declarations import Declarations
from dimona.service.directory_sync import DirectorySync
from dimona.service.group_commit import GroupCommitter
from dimona.service.ports import DirectoryPort, WorkerIdentity
from dimona.service.quarter import DimonaQuarters
from dimona.service.queries import DimonaQueries
from dimona.storage import MIGRATIONS
from dimona.storage.repository import unit_factory
from dimona.transport.router_client import RouterDirectory, RouterIdentity
from dimona.transport.servicer import (
    DimonaConsultationServicer,
    DimonaQuarterServicer,
    DimonaServicer,
    EmploymentEventServicer,
)
from runtime.client import secure_channel, server_name
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.identity import TRUST_DOMAIN
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)

_SERVICES = dimona_pb2.DESCRIPTOR.services_by_name


def create_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    identity: WorkerIdentity | None = None,
    directory: DirectoryPort | None = None,
) -> ServiceHost:
    """Build the service (database migrated, dispatcher started with the server).

    `identity` and `directory` default to the router's (tests may pass their own)."""
    clock = clock or SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    on_stop = []
    if identity is None or directory is None:
        channel = secure_channel(
            settings.router_addr,
            settings.runtime.tls,
            **server_name(f"spiffe://{TRUST_DOMAIN}/router/{settings.router_name}"),
        )
        on_stop.append(channel.close)
        if identity is None:
            router_identity = RouterIdentity(channel)
            on_stop.insert(0, router_identity.close)
            identity = router_identity
        directory = directory or RouterDirectory(channel)
    sync = DirectorySync(
        unit_factory(db),
        unit_factory(db, write=False),
        directory,
        idle_seconds=settings.directory_idle_seconds,
    )
    queries = DimonaQueries(unit_factory(db, write=False), clock)
    # SQLite: several declarations per transaction (one writer, one WAL sync per group).
    committer = GroupCommitter(unit_factory(db)) if db.is_sqlite else None
    if committer is not None:
        on_stop.insert(0, committer.close)
    declarations = Declarations(
        unit_factory(db),
        unit_factory(db, write=False),
        identity,
        clock,
        on_accepted=sync.wake,
        committer=committer,
    )
    quarters = DimonaQuarters(
        unit_factory(db), unit_factory(db, write=False), clock, committer=committer
    )
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                dimona_pb2_grpc.add_DimonaServiceServicer_to_server,
                DimonaServicer(declarations, queries),
                _SERVICES["DimonaService"].full_name,
            ),
            Registration(
                dimona_pb2_grpc.add_DimonaConsultationServiceServicer_to_server,
                DimonaConsultationServicer(queries),
                _SERVICES["DimonaConsultationService"].full_name,
            ),
            Registration(
                dimona_pb2_grpc.add_DimonaQuarterServiceServicer_to_server,
                DimonaQuarterServicer(quarters),
                _SERVICES["DimonaQuarterService"].full_name,
            ),
            Registration(
                dimona_pb2_grpc.add_EmploymentEventServiceServicer_to_server,
                EmploymentEventServicer(queries),
                _SERVICES["EmploymentEventService"].full_name,
            ),
            research_registration(db),
        ],
        readiness=db.ping,
        on_stop=[sync.stop, *on_stop, db.dispose],
    )
    sync.start()
    host.directory_sync = sync  # type: ignore[attr-defined] - for tests and the bench
    return host


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {
            "seed": lambda settings, args: seed.run(settings.runtime.database_url, args),
            "seed-periods": seed_periods.run,
        },
        argv,
    )
