"""The DmfA's integration tests: real servers on port 0 over mTLS.

`network`: a seeded registry, the router seeded as `make run` seeds it (router.seed: the DIMONA
quarter service, the DmfA's own grants and the worker-quarter grants), DIMONA (clock: Monday
2 June 2025) holding this module's Dimona periods, declared through its gRPC API as the
employers, and the DmfA reaching the register and DIMONA through the router (clock: 10 July
2025, before the 2025Q2 deadline). Each module gets its own databases (SQLite files, or fresh
PostgreSQL databases when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from dimona.config import Settings as DimonaSettings
from dimona.server import create_server as create_dimona
from dmfa.config import Settings as DmfaSettings
from dmfa.seed.command import load as load_dmfa_employers
from dmfa.server import create_server as create_dmfa
from dmfa.storage import MIGRATIONS as DMFA_MIGRATIONS
from registry.config import Settings as RegistrySettings
from registry.seed.command import load as load_persons
from registry.seed.population import FIXED_BIS, FIXED_MAN, FIXED_WOMAN, FIXED_WOMAN_2006
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from router.server import create_server as create_router
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.server import ServiceHost
from tests.integration.dimona.conftest import NOW as DIMONA_NOW
from tests.integration.dimona.conftest import seeded_dimona
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env

RETAIL = "000100006"
STATE = "000935467"
#: Thursday 10 July 2025, 10:00 in Brussels: 2025Q2 is over, its deadline (31 July) not yet.
NOW = dt.datetime(2025, 7, 10, 8, 0, tzinfo=dt.UTC)
Q2_START, Q2_END = dt.date(2025, 4, 1), dt.date(2025, 6, 30)

#: The Dimona periods of RETAIL this module declares: (INSZ, type, start, end, planned hours).
PERIODS = (
    (FIXED_MAN, dimona_pb2.WORKER_TYPE_OTH, dt.date(2025, 6, 3), None, 0),
    (FIXED_WOMAN, dimona_pb2.WORKER_TYPE_STU, dt.date(2025, 6, 3), dt.date(2025, 6, 30), 100),
    (FIXED_WOMAN_2006, dimona_pb2.WORKER_TYPE_OTH, dt.date(2025, 6, 3), dt.date(2025, 6, 20), 0),
    (FIXED_BIS, dimona_pb2.WORKER_TYPE_OTH, dt.date(2025, 6, 3), None, 0),
)


@dataclass
class Network:
    pki_dir: Path
    router: ServiceHost
    dimona: ServiceHost
    dmfa: ServiceHost
    dmfa_db: str

    def dmfa_channel(self, party: str):  # noqa: ANN201
        return channel_as(self.pki_dir, party, self.dmfa.port)

    def dimona_channel(self, party: str):  # noqa: ANN201
        return channel_as(self.pki_dir, party, self.dimona.port)

    def via_router(self, party: str):  # noqa: ANN201
        return channel_as(self.pki_dir, party, self.router.port)

    def submit(
        self, chunks: list[dmfa_pb2.SubmitDeclarationRequest], party: str = f"employer-{RETAIL}"
    ) -> dmfa_pb2.DeclarationVersion:
        with self.dmfa_channel(party) as channel:
            stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
            return stub.SubmitDeclaration(iter(chunks), timeout=30).version


def _declare_periods(network: Network) -> None:
    with network.dimona_channel(f"employer-{RETAIL}") as channel:
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)
        for i, (insz, kind, start, end, hours) in enumerate(PERIODS):
            form = dimona_in(insz, worker_type=kind, jc="202", start=start, end=end, hours=hours)
            reply = stub.SubmitDeclaration(submit_in(RETAIL, f"dmfa-it-{i}", form), timeout=30)
            assert reply.declaration.status != dimona_pb2.DECLARATION_STATUS_REFUSED, reply


@pytest.fixture(scope="module")
def network(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("dmfa-net")
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "dimona") as dimona_db,
        fresh_database_url(folder, "dmfa") as dmfa_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load_persons(db, count=20, seed=1)
        db.dispose()
        seeded_dimona(dimona_db)
        db = Database(dmfa_db)
        db.migrate(DMFA_MIGRATIONS)
        load_dmfa_employers(db)
        db.dispose()
        registry = create_registry(
            RegistrySettings.from_env(service_env(pki_dir, "registry", registry_db))
        )
        with running(registry):
            router_settings = RouterSettings.from_env(
                service_env(
                    pki_dir,
                    "router",
                    router_db,
                    REGISTRY_ADDR=f"localhost:{registry.port}",
                )
            )
            router = create_router(router_settings)
            with running(router):
                dimona = create_dimona(
                    DimonaSettings.from_env(
                        service_env(
                            pki_dir,
                            "onss",
                            dimona_db,
                            ROUTER_ADDR=f"localhost:{router.port}",
                            DIRECTORY_IDLE_SECONDS="0.05",
                        )
                    ),
                    clock=FixedClock(DIMONA_NOW),
                )
                with running(dimona):
                    dmfa = create_dmfa(
                        DmfaSettings.from_env(
                            service_env(
                                pki_dir,
                                "onss",
                                dmfa_db,
                                ROUTER_ADDR=f"localhost:{router.port}",
                                QUOTA_IDLE_SECONDS="0.05",
                            )
                        ),
                        clock=FixedClock(NOW),
                    )
                    with running(dmfa):
                        seed_router(
                            router_settings,
                            f"localhost:{registry.port}",
                            dimona_endpoint=f"localhost:{dimona.port}",
                            dmfa_endpoint=f"localhost:{dmfa.port}",
                        )
                        state = Network(pki_dir, router, dimona, dmfa, dmfa_db)
                        _declare_periods(state)
                        yield state
