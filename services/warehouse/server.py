"""Composition root of the research data warehouse: settings, database, the TTP's channel, rules,
servicers, server. `python -m warehouse` serves, `migrate` only migrates, `seed` adds the research
projects and their grants (warehouse.seed)."""

from __future__ import annotations

import logging

from cbss.warehouse.v1 import warehouse_pb2, warehouse_pb2_grpc
from runtime.client import secure_channel, server_name
from runtime.clock import Clock, SystemClock
from runtime.db import Database
from runtime.identity import TRUST_DOMAIN
from runtime.server import Registration, ServiceHost, service_main
from warehouse import seed
from warehouse.config import SERVICE, Settings
from warehouse.service.builds import WarehouseBuilds
from warehouse.service.exports import WarehouseExports
from warehouse.service.ports import TrustedThirdParty
from warehouse.service.reads import WarehouseReads
from warehouse.storage import MIGRATIONS
from warehouse.storage.repository import SqlWarehouseStore
from warehouse.transport.servicer import WarehouseAdminServicer, WarehouseServicer
from warehouse.transport.ttp_client import TtpClient

logger = logging.getLogger(__name__)
_SERVICES = warehouse_pb2.DESCRIPTOR.services_by_name
#: The trusted third party's identity: the warehouse talks to it alone.
TTP_PARTY = f"spiffe://{TRUST_DOMAIN}/institution/cbss-ttp"


def create_server(
    settings: Settings, *, clock: Clock | None = None, ttp: TrustedThirdParty | None = None
) -> ServiceHost:
    """Build the service (database migrated); `ttp` defaults to the TTP at TTP_ADDR."""
    clock = clock or SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    store = SqlWarehouseStore(db)
    on_stop = []
    if ttp is None:
        channel = secure_channel(settings.ttp_addr, settings.runtime.tls, **server_name(TTP_PARTY))
        on_stop.append(channel.close)
        ttp = TtpClient(channel, settings.ttp_timeout_seconds)
    builds = WarehouseBuilds(store, ttp, clock, settings.threshold, settings.dominance_percent)
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                warehouse_pb2_grpc.add_WarehouseAdminServiceServicer_to_server,
                WarehouseAdminServicer(builds),
                _SERVICES["WarehouseAdminService"].full_name,
            ),
            Registration(
                warehouse_pb2_grpc.add_WarehouseServiceServicer_to_server,
                WarehouseServicer(WarehouseReads(store, clock), WarehouseExports(store, clock)),
                _SERVICES["WarehouseService"].full_name,
            ),
        ],
        readiness=db.ping,
        on_stop=[*on_stop, db.dispose],
    )
    host.store = store  # type: ignore[attr-defined] - for tests
    return host


def main(argv: list[str] | None = None) -> int:
    return service_main(
        SERVICE, Settings.from_env, create_server, MIGRATIONS, {"seed": seed.run}, argv
    )
