"""Composition root of the trusted third party: settings, projects, keys, the router channel,
servicer, server. `python -m ttp` serves; `migrate` does nothing (no database)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from cbss.ttp.v1 import ttp_pb2, ttp_pb2_grpc
from runtime.client import secure_channel, server_name
from runtime.identity import TRUST_DOMAIN
from runtime.server import Registration, ServiceHost, service_main
from ttp.config import SERVICE, Settings
from ttp.service.extractions import TtpExtractions
from ttp.service.projects import load_projects
from ttp.storage import keys
from ttp.transport.router_sources import RouterSources
from ttp.transport.servicer import TtpServicer

logger = logging.getLogger(__name__)
_NO_MIGRATIONS = Path(__file__).parent / "storage"


def create_server(settings: Settings) -> ServiceHost:
    """Build the service (projects read, router channel made); `start()` binds the port."""
    projects = load_projects(settings.projects_file)
    store = keys.FileKeyStore(settings.key_dir)
    channel = secure_channel(
        settings.router_addr,
        settings.runtime.tls,
        **server_name(f"spiffe://{TRUST_DOMAIN}/router/{settings.router_name}"),
    )
    sources = RouterSources(channel, settings.legal_context, settings.extraction_timeout_seconds)
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                ttp_pb2_grpc.add_TtpServiceServicer_to_server,
                TtpServicer(TtpExtractions(projects, store, sources)),
                ttp_pb2.DESCRIPTOR.services_by_name["TtpService"].full_name,
            )
        ],
        readiness=store.ready,
        on_stop=[channel.close],
    )


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["migrate"]:
        return 0  # no database: the keys are files, created on first use
    # The migrations folder is never used: `migrate` is answered above.
    return service_main(SERVICE, Settings.from_env, create_server, _NO_MIGRATIONS, {}, args)
