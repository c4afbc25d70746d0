"""Composition root of the router: settings, database, message log, checks, forwarder, servers."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence

from cbss.router.v1 import (
    citizen_pb2,
    citizen_pb2_grpc,
    directory_pb2,
    directory_pb2_grpc,
    message_log_pb2,
    message_log_pb2_grpc,
    meta_pb2,
    meta_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from router.config import SERVICE, Settings
from router.service.admin import AdminAct, AdminService, admin_act_entry
from router.service.checks import RouteChecker
from router.service.citizen import CitizenQueries, own_read_entry
from router.service.descriptors import ServiceCatalog
from router.service.directory import DirectoryService
from router.service.log_queries import LogQueries, LogQuery
from router.service.monitoring import Monitoring
from router.service.ports import PersonRegistry
from router.storage import MIGRATIONS
from router.storage.admin_store import SqlAdminStore
from router.storage.message_log import LogWriter, SqlLogReader
from router.storage.repository import SqlConfigSource, SqlDirectory
from router.transport.catalogs import CatalogCache
from router.transport.citizen_servicer import CitizenServicer
from router.transport.forwarder import ChannelPool, Forwarder, InFlight
from router.transport.log_servicer import MessageLogServicer
from router.transport.meta_servicer import MetaServicer
from router.transport.person_index import PersonIndex
from router.transport.reflection import fetch_service_files
from router.transport.registry_client import GrpcPersonRegistry
from router.transport.servicers import AdminServicer, DirectoryServicer
from router.transport.upstream import GrpcHubDirectories, GrpcUpstreamDirectory
from runtime import faults
from runtime.client import secure_channel, server_name
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.identity import TRUST_DOMAIN, Caller
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)


class ReflectionSource:
    """Fetches a provider's descriptors over server reflection, as the router."""

    def __init__(self, channels: ChannelPool) -> None:
        self._channels = channels

    def fetch(
        self, endpoint: str, service: str, provider: str, via_router: str = ""
    ) -> list[bytes]:
        from router.service.refusals import refusal
        from router.transport.reflection import ReflectionError

        try:
            return fetch_service_files(self._channels.get(endpoint, provider, via_router), service)
        except ReflectionError as exc:
            raise refusal(
                "HOLDER_UNAVAILABLE", {"holder": endpoint, "detail": str(exc)[:200]}
            ) from None


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the router (database migrated, log writer started); `start()` binds the port."""
    if settings.faults is not None:
        faults.install(settings.faults)
    clock = clock or SystemClock()
    runtime = settings.runtime
    router_uri = f"spiffe://{TRUST_DOMAIN}/router/{settings.name}"
    db = Database(runtime.database_url)
    db.migrate(MIGRATIONS)
    # Routed messages in the forwarder, counted only for the log's commit delay (when set).
    in_flight = InFlight() if settings.log_commit_delay > 0 else None
    log = LogWriter(
        db,
        name=f"router-{settings.name}",
        cert_path=runtime.tls.cert,
        key_path=runtime.tls.key,
        clock=clock,
        checkpoint_every=settings.checkpoint_rows,
        checkpoint_interval=settings.checkpoint_seconds,
        commit_delay=settings.log_commit_delay,
        commit_siblings=settings.log_commit_siblings,
        in_flight=in_flight.count if in_flight is not None else None,
    )
    log.start()
    config = SqlConfigSource(db)
    # The call kind (unary / server-streaming) is picked before the body arrives, from the last
    # snapshot read; the checks then read the current one.
    catalogs = CatalogCache(config.cached)
    channels = ChannelPool(runtime.tls)
    registry_channel = secure_channel(
        settings.registry_addr,
        runtime.tls,
        traced=False,
        **server_name(f"spiffe://{TRUST_DOMAIN}/institution/{settings.registry_institution}"),
    )
    persons: PersonRegistry = GrpcPersonRegistry(registry_channel, router_uri)
    stops = []
    index = None
    if settings.person_index != "off":
        bound = settings.person_index_staleness
        index = PersonIndex(
            persons,
            registry_channel,
            mode=settings.person_index,
            max_staleness=bound,
            poll_seconds=1.0 if settings.person_index == "strict" else min(0.2, bound / 4),
        )
        index.start()
        stops.append(index.stop)
        persons = index
    checker = RouteChecker(config, catalogs, SqlDirectory(db), persons, clock)

    def record(act: AdminAct) -> None:
        log.submit([admin_act_entry(act, clock.now())]).result()

    admin = AdminService(
        SqlAdminStore(db, clock),
        ReflectionSource(channels),
        ServiceCatalog.from_files,
        record,
        clock.today,
    )
    upstream = None
    if settings.upstream_addr:  # this router is a hub
        upstream = GrpcUpstreamDirectory(
            secure_channel(
                settings.upstream_addr,
                runtime.tls,
                **server_name(f"spiffe://{TRUST_DOMAIN}/router/{settings.upstream_name}"),
            )
        )
    hubs = GrpcHubDirectories(channels, config.snapshot) if upstream is None else None
    directory = DirectoryService(
        SqlDirectory(db),
        config.snapshot,
        upstream,
        upstream_name=settings.upstream_name if upstream is not None else "",
        hubs=hubs,
    )

    def record_query(caller: Caller, query: LogQuery) -> None:
        service = message_log_pb2.DESCRIPTOR.services_by_name["MessageLogService"].full_name
        entry = admin_act_entry(AdminAct(caller.uri, "ListMessages", ""), clock.now())
        log.submit(
            [
                dataclasses.replace(
                    entry,
                    service=service,
                    legal_context="cbss.router.log-query",
                    subject=query.subject,
                    destination=f"institution/{query.requester}" if query.requester else "",
                    outcome="QUERY",
                )
            ]
        ).result()

    log_reader = SqlLogReader(db)
    log_queries = LogQueries(log_reader, record_query, settings.confidential_legal_contexts)

    def record_own_read(caller: Caller, method: str) -> None:
        log.submit([own_read_entry(caller, method, clock.now())]).result()

    citizen = CitizenQueries(
        log_reader,
        SqlDirectory(db),
        config.snapshot,
        record_own_read,
        clock,
        settings.confidential_legal_contexts,
        hubs,
    )
    monitoring = Monitoring(log_reader, clock.now)
    forwarder = Forwarder(
        checker,
        log.submit,
        channels,
        catalogs.server_streaming,
        clock.now,
        upstream=settings.upstream_name if settings.upstream_addr else "",
        in_flight=in_flight,
    )
    return ServiceHost(
        settings=runtime,
        registrations=[
            Registration(
                router_admin_pb2_grpc.add_RouterAdminServiceServicer_to_server,
                AdminServicer(admin, catalogs.catalog, index),
                router_admin_pb2.DESCRIPTOR.services_by_name["RouterAdminService"].full_name,
            ),
            Registration(
                directory_pb2_grpc.add_DirectoryServiceServicer_to_server,
                DirectoryServicer(directory),
                directory_pb2.DESCRIPTOR.services_by_name["DirectoryService"].full_name,
            ),
            Registration(
                meta_pb2_grpc.add_MetaServiceServicer_to_server,
                MetaServicer(config.snapshot, catalogs.catalog, clock),
                meta_pb2.DESCRIPTOR.services_by_name["MetaService"].full_name,
            ),
            Registration(
                message_log_pb2_grpc.add_MessageLogServiceServicer_to_server,
                MessageLogServicer(log_queries, monitoring),
                message_log_pb2.DESCRIPTOR.services_by_name["MessageLogService"].full_name,
            ),
            Registration(
                citizen_pb2_grpc.add_CitizenServiceServicer_to_server,
                CitizenServicer(citizen),
                citizen_pb2.DESCRIPTOR.services_by_name["CitizenService"].full_name,
            ),
            Registration(
                lambda _s, server: server.add_generic_rpc_handlers([forwarder]),
                None,
                "",
                access="DIRECT",
            ),
        ],
        readiness=db.ping,
        on_stop=[*stops, log.close, channels.close, registry_channel.close, db.dispose],
    )


def _seed(settings: Settings, args: list[str]) -> int:
    from router.seed import seed_router

    parser = argparse.ArgumentParser(
        prog="python -m router seed", description="Seed the demonstration network (router.seed)."
    )
    parser.add_argument(
        "--role",
        choices=("primary", "hub"),
        default="hub" if settings.upstream_addr else "primary",
        help="primary: the CBSS's router; hub: a secondary network's (default: hub when "
        "UPSTREAM_ROUTER_ADDR is set)",
    )
    parser.add_argument("--registry-endpoint", default="localhost:50051", help="primary only")
    parser.add_argument(
        "--dimona-endpoint", default="localhost:50056", help="primary only: where DIMONA serves"
    )
    parser.add_argument(
        "--dmfa-endpoint", default="localhost:50057", help="primary only: where the DmfA serves"
    )
    parser.add_argument(
        "--drs-endpoint", default="localhost:50058", help="primary only: where the DRS serves"
    )
    parser.add_argument(
        "--hub-endpoint", default="", help="primary only: where the mutualities' hub serves"
    )
    parser.add_argument(
        "--mutation-endpoint",
        default="localhost:50059",
        help="primary only: where the mutation service streams notifications",
    )
    parser.add_argument(
        "--member",
        action="append",
        default=[],
        metavar="ID=HOST:PORT",
        help="hub only: a member mutuality and its endpoint (repeatable)",
    )
    parser.add_argument(
        "--inbox",
        action="append",
        default=[],
        metavar="ID=HOST:PORT",
        help="an institution inbox and its endpoint (repeatable): onem, fedris, ethias at the "
        "primary (with --hub-endpoint, provider cin too); the member mutualities at a hub",
    )
    parsed = parser.parse_args(args)
    inboxes = {}
    for item in parsed.inbox:
        provider, sep, endpoint = item.partition("=")
        if not sep or not provider or not endpoint:
            parser.error(f"--inbox {item}: expected ID=HOST:PORT")
        inboxes[provider] = endpoint
    members = {}
    for item in parsed.member:
        member, sep, endpoint = item.partition("=")
        if not sep or not member or not endpoint:
            parser.error(f"--member {item}: expected ID=HOST:PORT")
        members[member] = endpoint
    if parsed.role == "primary" and members:
        parser.error("--member: only a hub has member providers")
    if parsed.role == "hub" and parsed.hub_endpoint:
        parser.error("--hub-endpoint: only the primary forwards to a hub")
    try:
        return seed_router(
            settings,
            parsed.registry_endpoint,
            role=parsed.role,
            hub_endpoint=parsed.hub_endpoint,
            members=members,
            dimona_endpoint=parsed.dimona_endpoint,
            dmfa_endpoint=parsed.dmfa_endpoint,
            drs_endpoint=parsed.drs_endpoint,
            mutation_endpoint=parsed.mutation_endpoint,
            inboxes=inboxes or None,
        )
    except ValueError as exc:
        parser.error(str(exc))


def _verify_log(settings: Settings, args: list[str]) -> int:
    """The message log's own verifier, on this router's database and CA (exit 0/1/2)."""
    from router.storage import message_log

    runtime = settings.runtime
    return message_log.main(
        ["verify", "--database-url", runtime.database_url, "--ca", str(runtime.tls.ca), *args]
    )


def _archive_log(settings: Settings, args: list[str]) -> int:
    """Move rows older than the retention period (or --before) to an archive file."""
    import datetime as dt
    from pathlib import Path

    from router.storage.message_log import archive_log

    parser = argparse.ArgumentParser(prog="python -m router archive-log")
    parser.add_argument("--out", type=Path, required=True, help="the archive file (new)")
    parser.add_argument("--before", help="YYYY-MM-DD; default: today minus LOG_RETENTION_DAYS")
    parsed = parser.parse_args(args)
    if parsed.before:
        try:
            day = dt.date.fromisoformat(parsed.before)
        except ValueError:
            parser.error("--before: expected YYYY-MM-DD")
    else:
        day = SystemClock().today() - dt.timedelta(days=settings.log_retention_days)
    before = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    db = Database(settings.runtime.database_url)
    try:
        db.migrate(MIGRATIONS)
        done = archive_log(db, before=before, out=parsed.out)
    except FileExistsError:
        parser.error(f"{parsed.out} exists: an archive is never overwritten")
    finally:
        db.dispose()
    for chain in done:
        sys.stdout.write(
            f"{chain.chain_id}: rows {chain.from_seq}..{chain.through_seq} archived"
            f" ({chain.rows} deleted)\n"
        )
    if done:
        sys.stdout.write(f"{len(done)} chain prefix(es) archived to {parsed.out}\n")
    else:
        sys.stdout.write("nothing to archive (no signed rows older than the cut-off)\n")
    return 0


def _verify_archive(settings: Settings, args: list[str]) -> int:
    from pathlib import Path

    from router.storage.message_log import verify_archive

    parser = argparse.ArgumentParser(prog="python -m router verify-archive")
    parser.add_argument("file", type=Path)
    parsed = parser.parse_args(args)
    report = verify_archive(parsed.file, settings.runtime.tls.ca.read_bytes())
    sys.stdout.write(report.render() + "\n")
    return 0 if report.intact else 1


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        SERVICE,
        Settings.from_env,
        create_server,
        MIGRATIONS,
        {
            "seed": _seed,
            "verify-log": _verify_log,
            "archive-log": _archive_log,
            "verify-archive": _verify_archive,
        },
        argv,
    )
