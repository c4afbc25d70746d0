"""Composition root of an inbox: settings, database, rules, servicer, server.

`python -m inbox` serves (INBOX_INSTITUTION says whose inbox), `python -m inbox migrate` only
migrates.
"""

from __future__ import annotations

from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from inbox.config import SERVICE, Settings
from inbox.service.inbox import Inbox
from inbox.storage import MIGRATIONS
from inbox.storage.repository import unit_factory
from inbox.transport.servicer import InboxServicer
from runtime import faults
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost, service_main


def create_server(settings: Settings, *, clock: Clock | None = None) -> ServiceHost:
    """Build the service (database migrated, servicer wired); `start()` binds the port."""
    if settings.faults is not None:
        faults.install(settings.faults)
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    inbox = Inbox(
        settings.institution,
        unit_factory(db),
        unit_factory(db, write=False),
        clock or SystemClock(),
    )
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                inbox_pb2_grpc.add_InboxServiceServicer_to_server,
                InboxServicer(inbox),
                inbox_pb2.DESCRIPTOR.services_by_name["InboxService"].full_name,
            )
        ],
        readiness=db.ping,
        on_stop=[db.dispose],
    )


def main(argv: list[str] | None = None) -> int:
    return service_main(SERVICE, Settings.from_env, create_server, MIGRATIONS, {}, argv)
