"""Composition root of the DRS service: settings, database, the router channel (the pre-fill's
consultations and the attestations' delivery), the outbox's dispatcher, the rules, servicers,
the server.

`python -m drs` serves, `python -m drs migrate` only migrates, `python -m drs seed` loads the
employer register, mandates, DestHa flags and the insurer list (drs.seed).

Business rules run on the injected clock (deadlines are judged on it); the outbox and its
dispatcher always run on the system clock, so that a test's fixed clock never stops deliveries
and retries.
"""

from __future__ import annotations

import logging
from typing import Any

from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from drs.config import SERVICE, Settings
from drs.seed import command as seed
from drs.service.declarations import Declarations
from drs.service.ports import Network
from drs.service.queries import DrsQueries
from drs.service.requests import Requests
from drs.storage import MIGRATIONS
from drs.storage.repository import drs_outbox, unit_factory
from drs.transport.router_client import RouterNetwork, router_channel
from drs.transport.servicer import DrsConsultationServicer, DrsRequestServicer, DrsServicer
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.outbox import Dispatcher, RetryPolicy, RouterTransport, Transport
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)

_SERVICES = drs_pb2.DESCRIPTOR.services_by_name


def create_server(
    settings: Settings,
    *,
    clock: Clock | None = None,
    network: Network | None = None,
    transport: Transport | None = None,
) -> ServiceHost:
    """Build the service (database migrated, dispatcher started with the server).

    `network` and `transport` default to the router's (one channel for both)."""
    clock = clock or SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    on_stop: list[Any] = []
    if network is None or transport is None:
        channel = router_channel(settings.router_addr, settings.router_name, settings.runtime.tls)
        network = network or RouterNetwork(channel)
        transport = transport or RouterTransport(channel)
        on_stop.append(channel.close)
    outbox = drs_outbox(SystemClock())
    dispatcher = Dispatcher(
        db,
        outbox,
        transport,
        policy=RetryPolicy(horizon_seconds=settings.outbox_horizon_seconds),
        poll_seconds=settings.outbox_poll_seconds,
        ack_poll_seconds=settings.ack_poll_seconds,
    )
    declarations = Declarations(
        unit_factory(db, outbox),
        unit_factory(db, outbox, write=False),
        network,
        clock,
        on_queued=dispatcher.wake,
        prefill_threads=settings.runtime.max_workers,  # one per handler thread
    )
    queries = DrsQueries(unit_factory(db, outbox, write=False), clock, refresh=dispatcher.refresh)
    requests = Requests(unit_factory(db, outbox), clock)
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                drs_pb2_grpc.add_DrsServiceServicer_to_server,
                DrsServicer(declarations, queries),
                _SERVICES["DrsService"].full_name,
            ),
            Registration(
                drs_pb2_grpc.add_DrsRequestServiceServicer_to_server,
                DrsRequestServicer(requests),
                _SERVICES["DrsRequestService"].full_name,
            ),
            Registration(
                drs_pb2_grpc.add_DrsConsultationServiceServicer_to_server,
                DrsConsultationServicer(queries),
                _SERVICES["DrsConsultationService"].full_name,
            ),
        ],
        readiness=db.ping,
        on_stop=[dispatcher.stop, declarations.close, *on_stop, db.dispose],
    )
    dispatcher.start()
    host.dispatcher = dispatcher  # type: ignore[attr-defined] - for tests
    host.outbox = outbox  # type: ignore[attr-defined]
    host.db = db  # type: ignore[attr-defined]
    return host


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {"seed": lambda settings, args: seed.run(settings, args)},
        argv,
    )
