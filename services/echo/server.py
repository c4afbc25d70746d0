"""Composition root of the echo service: settings, database, servicer, server."""

from __future__ import annotations

import logging

from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from echo.config import SERVICE, Settings
from echo.service.notes import NoteService
from echo.storage import MIGRATIONS
from echo.storage.repository import unit_factory
from echo.transport.servicer import EchoServicer
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost, service_main

logger = logging.getLogger(__name__)


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the service (database migrated, servicer wired); `start()` binds the port."""
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    notes = NoteService(unit_factory(db), unit_factory(db, write=False), clock or SystemClock())
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                echo_pb2_grpc.add_EchoServiceServicer_to_server,
                EchoServicer(notes),
                echo_pb2.DESCRIPTOR.services_by_name["EchoService"].full_name,
            )
        ],
        readiness=db.ping,
        on_stop=[db.dispose],
    )


def main(argv: list[str] | None = None) -> int:
    return service_main(SERVICE, Settings.from_env, create_server, MIGRATIONS, argv=argv)
