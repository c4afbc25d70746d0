"""Composition root of the mutation service: settings, database, the sources' and the router's
channels, the fan-out runner, the outbox's dispatcher, servicers, the server.

`python -m mutation` serves, `python -m mutation migrate` only migrates, `python -m mutation
seed` records the demonstration grants and subscriptions (mutation.seed), `python -m mutation
purge` applies the retention (mutation.retention).
"""

from __future__ import annotations

from typing import Any

import grpc

from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from mutation import retention
from mutation.config import SERVICE, Settings
from mutation.seed import command as seed
from mutation.service.fanout import FanOut, Runner
from mutation.service.manage import Management
from mutation.service.ports import EventSource
from mutation.service.streams import Streams
from mutation.storage import MIGRATIONS
from mutation.storage.repository import mutation_outbox, unit_factory
from mutation.transport.directory_client import RouterDirectory
from mutation.transport.servicer import (
    MutationAdminServicer,
    NotificationStreamServicer,
    SubscriptionServicer,
)
from mutation.transport.sources import DimonaSource, DmfaSource, RegistrySource
from runtime import faults
from runtime.client import secure_channel, server_name
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.identity import TRUST_DOMAIN
from runtime.outbox import Dispatcher, RetryPolicy, RouterTransport
from runtime.server import Registration, ServiceHost, service_main

_SERVICES = mutation_pb2.DESCRIPTOR.services_by_name
#: Who each source's server is (its certificate).
_SOURCE_PARTIES = {
    "registry": "institution/nr",
    "dimona": "institution/onss",
    "dmfa": "institution/onss",
}


def _channel(addr: str, party: str, tls: Any) -> grpc.Channel:
    return secure_channel(addr, tls, **server_name(f"spiffe://{TRUST_DOMAIN}/{party}"))


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the service (database migrated; the fan-out and the dispatcher start with it)."""
    if settings.faults is not None:
        faults.install(settings.faults)
    clock = clock or SystemClock()
    tls = settings.runtime.tls
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    outbox = mutation_outbox()
    router = _channel(settings.router_addr, f"router/{settings.router_name}", tls)
    channels = [router]
    sources: list[EventSource] = []
    for name, addr, kind in (
        ("registry", settings.registry_addr, RegistrySource),
        ("dimona", settings.dimona_addr, DimonaSource),
        ("dmfa", settings.dmfa_addr, DmfaSource),
    ):
        if addr:
            channel = _channel(addr, _SOURCE_PARTIES[name], tls)
            channels.append(channel)
            sources.append(kind(channel))
    dispatcher = Dispatcher(
        db,
        outbox,
        RouterTransport(router, timeout=settings.delivery_timeout_seconds),
        policy=RetryPolicy(
            horizon_seconds=settings.outbox_horizon_seconds,
            max_delay_seconds=settings.retry_max_seconds,
        ),
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.poll_seconds,
        ack_poll_seconds=settings.ack_poll_seconds,
        batch=settings.delivery_batch,
        workers=min(settings.delivery_batch, 32),
        per_subject_order=True,
    )
    units = unit_factory(db, outbox)
    streams = Streams(units)

    def queued() -> None:
        dispatcher.wake()
        streams.notify()

    fanout = FanOut(units, RouterDirectory(router), page_size=settings.page_size, on_queued=queued)
    runner = Runner(fanout, sources, poll_seconds=settings.poll_seconds)
    management = Management(units, clock)
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                mutation_pb2_grpc.add_SubscriptionServiceServicer_to_server,
                SubscriptionServicer(management),
                _SERVICES["SubscriptionService"].full_name,
            ),
            Registration(
                mutation_pb2_grpc.add_NotificationStreamServiceServicer_to_server,
                NotificationStreamServicer(streams),
                _SERVICES["NotificationStreamService"].full_name,
            ),
            Registration(
                mutation_pb2_grpc.add_MutationAdminServiceServicer_to_server,
                MutationAdminServicer(management),
                _SERVICES["MutationAdminService"].full_name,
            ),
        ],
        readiness=db.ping,
        on_stop=[runner.stop, dispatcher.stop, *(c.close for c in channels), db.dispose],
    )
    runner.start()
    dispatcher.start()
    host.runner = runner  # type: ignore[attr-defined] - for tests
    host.dispatcher = dispatcher  # type: ignore[attr-defined]
    host.outbox = outbox  # type: ignore[attr-defined]
    host.db = db  # type: ignore[attr-defined]
    return host


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {
            "seed": lambda settings, args: seed.run(settings, args),
            "purge": lambda settings, args: retention.run(settings, args),
        },
        argv,
    )
