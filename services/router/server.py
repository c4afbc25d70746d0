"""Composition root of the router: settings, database, message log, checks, forwarder, servers."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Sequence

from cbss.router.v1 import (
    directory_pb2,
    directory_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from router.config import SERVICE, Settings
from router.service.admin import AdminAct, AdminService
from router.service.checks import RouteChecker
from router.service.descriptors import ServiceCatalog
from router.service.directory import DirectoryService
from router.service.message_log import LogEntry
from router.storage import MIGRATIONS
from router.storage.admin_store import SqlAdminStore
from router.storage.message_log import LogWriter, verify_database
from router.storage.repository import SqlConfigSource, SqlDirectory
from router.transport.catalogs import CatalogCache
from router.transport.forwarder import ChannelPool, Forwarder
from router.transport.reflection import fetch_service_files
from router.transport.registry_client import GrpcPersonRegistry
from router.transport.servicers import AdminServicer, DirectoryServicer
from runtime import telemetry
from runtime.client import secure_channel
from runtime.clock import Clock, SystemClock
from runtime.config import ConfigError
from runtime.db import Database
from runtime.identity import TRUST_DOMAIN
from runtime.server import Registration, ServiceHost

logger = logging.getLogger(__name__)


class ReflectionSource:
    """Fetches a provider's descriptors over server reflection, as the router."""

    def __init__(self, channels: ChannelPool) -> None:
        self._channels = channels

    def fetch(self, endpoint: str, service: str) -> list[bytes]:
        from router.service.refusals import refusal
        from router.transport.reflection import ReflectionError

        try:
            return fetch_service_files(self._channels.get(endpoint), service)
        except ReflectionError as exc:
            raise refusal(
                "HOLDER_UNAVAILABLE", {"holder": endpoint, "detail": str(exc)[:200]}
            ) from None


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the router (database migrated, log writer started); `start()` binds the port."""
    clock = clock or SystemClock()
    runtime = settings.runtime
    router_uri = f"spiffe://{TRUST_DOMAIN}/router/{settings.name}"
    db = Database(runtime.database_url)
    db.migrate(MIGRATIONS)
    log = LogWriter(
        db,
        name=f"router-{settings.name}",
        cert_path=runtime.tls.cert,
        key_path=runtime.tls.key,
        clock=clock,
        checkpoint_every=settings.checkpoint_rows,
        checkpoint_interval=settings.checkpoint_seconds,
    )
    log.start()
    config = SqlConfigSource(db)
    # The call kind (unary / server-streaming) is picked before the body arrives, from the last
    # snapshot read; the checks then read the current one.
    catalogs = CatalogCache(config.cached)
    channels = ChannelPool(runtime.tls)
    persons = GrpcPersonRegistry(
        secure_channel(settings.registry_addr, runtime.tls, traced=False), router_uri
    )
    checker = RouteChecker(config, catalogs, SqlDirectory(db), persons, clock)

    def record(act: AdminAct) -> None:
        service = router_admin_pb2.DESCRIPTOR.services_by_name["RouterAdminService"].full_name
        log.submit(
            [
                LogEntry(
                    ticket=str(uuid.uuid4()),
                    occurred_at=clock.now(),
                    requester=act.admin,
                    service=service,
                    method=act.method,
                    legal_context="cbss.router.administration",
                    subject="",
                    capacity="",
                    destination=act.target[:200],
                    outcome="ADMIN_ACT",
                    reason="",
                    latency_us=0,
                    trace_id="",
                    request_digest="",
                    response_digest="",
                )
            ]
        ).result()

    admin = AdminService(
        SqlAdminStore(db, clock),
        ReflectionSource(channels),
        ServiceCatalog.from_files,
        record,
        clock.today,
    )
    directory = DirectoryService(SqlDirectory(db), config.snapshot)
    forwarder = Forwarder(checker, log.submit, channels, catalogs.server_streaming, clock.now)
    return ServiceHost(
        settings=runtime,
        registrations=[
            Registration(
                router_admin_pb2_grpc.add_RouterAdminServiceServicer_to_server,
                AdminServicer(admin, catalogs.catalog),
                router_admin_pb2.DESCRIPTOR.services_by_name["RouterAdminService"].full_name,
            ),
            Registration(
                directory_pb2_grpc.add_DirectoryServiceServicer_to_server,
                DirectoryServicer(directory),
                directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
            ),
            Registration(
                lambda _s, server: server.add_generic_rpc_handlers([forwarder]),
                None,
                "",
                access="DIRECT",
            ),
        ],
        readiness=db.ping,
        on_stop=[log.close, channels.close, db.dispose],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m router")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("migrate", help="bring the router's database to the latest migration")
    seed = sub.add_parser("seed", help="seed institutions, services, authorisations, directory")
    seed.add_argument("--registry-endpoint", default="localhost:50051")
    sub.add_parser("verify-log", help="check the message log's hash chains and checkpoints")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.stderr.write(f"{SERVICE}: {exc}\n")
        return 2
    telemetry.setup_logging(SERVICE, settings.runtime.log_level)
    if args.command == "migrate":
        Database(settings.runtime.database_url).migrate(MIGRATIONS)
        logger.info("%s database migrated", SERVICE)
        return 0
    if args.command == "verify-log":
        db = Database(settings.runtime.database_url)
        report = verify_database(db, settings.runtime.tls.ca.read_bytes())
        sys.stdout.write(report.render() + "\n")
        return 0 if report.intact else 1
    if args.command == "seed":
        from router.seed import seed_router

        return seed_router(settings, args.registry_endpoint)
    telemetry.setup_tracing(SERVICE, settings.runtime.traces_exporter)
    create_server(settings).serve()
    return 0
