"""DIMONA's integration tests: real servers on port 0 over mTLS.

- `network`: a seeded registry, the router seeded as `make run` seeds it (router.seed: the
  ONSS's identification grants, the DIMONA contract and its consultation grants), and DIMONA
  reaching the network through that router as the ONSS, with a fixed clock (Monday 2 June 2025,
  10:00 in Brussels). Each module gets its own databases (SQLite files, or fresh PostgreSQL
  databases when TEST_DATABASE_URL is set).
- `alone`: DIMONA with a scripted identity and a recording directory (no router), for the
  tests about the service itself (permissions, idempotency, concurrency, malformed input).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from cbss.dimona.v1 import dimona_pb2_grpc
from dimona.config import Settings as DimonaSettings
from dimona.seed.command import load as load_employers
from dimona.server import create_server as create_dimona
from dimona.storage import MIGRATIONS as DIMONA_MIGRATIONS
from registry.config import Settings as RegistrySettings
from registry.seed.command import load as load_persons
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from router.server import create_server as create_router
from runtime.client import party_tls, secure_channel
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.server import ServiceHost
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env
from tests.unit.dimona.fakes import RecordingDirectory, ScriptedIdentity

#: Monday 2 June 2025, 10:00 in Brussels.
NOW = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)


def seeded_dimona(url: str) -> str:
    db = Database(url)
    try:
        db.migrate(DIMONA_MIGRATIONS)
        load_employers(db)
    finally:
        db.dispose()
    return url


@dataclass
class Network:
    pki_dir: Path
    registry: ServiceHost
    router: ServiceHost
    dimona: ServiceHost
    dimona_db: str
    router_db: str

    def dimona_stub(self, party: str) -> Iterator[dimona_pb2_grpc.DimonaServiceStub]:
        return channel_as(self.pki_dir, party, self.dimona.port)

    def via_router(self, party: str):  # noqa: ANN201
        return channel_as(self.pki_dir, party, self.router.port)


@pytest.fixture(scope="module")
def network(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("dimona-net")
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "dimona") as dimona_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load_persons(db, count=20, seed=1)
        db.dispose()
        seeded_dimona(dimona_db)
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
                    clock=FixedClock(NOW),
                )
                with running(dimona):
                    # The router's configuration as `make run` seeds it, with this run's ports;
                    # the router reloads it on its next call.
                    seed_router(
                        router_settings,
                        f"localhost:{registry.port}",
                        dimona_endpoint=f"localhost:{dimona.port}",
                    )
                    yield Network(pki_dir, registry, router, dimona, dimona_db, router_db)


@dataclass
class Alone:
    pki_dir: Path
    host: ServiceHost
    identity: ScriptedIdentity
    directory: RecordingDirectory
    url: str
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def channel(self, party: str) -> grpc.Channel:
        """A channel presenting `party`'s certificate, kept for the module."""
        if party not in self.channels:
            self.channels[party] = secure_channel(
                f"localhost:{self.host.port}", party_tls(self.pki_dir, party)
            )
        return self.channels[party]


@pytest.fixture(scope="module")
def alone(pki_dir: Path, module_database_url: str) -> Iterator[Alone]:
    url = seeded_dimona(module_database_url)
    identity, directory = ScriptedIdentity(), RecordingDirectory()
    host = create_dimona(
        DimonaSettings.from_env(service_env(pki_dir, "onss", url, GRPC_MAX_WORKERS="32")),
        clock=FixedClock(NOW),
        identity=identity,
        directory=directory,
    )
    with running(host):
        state = Alone(pki_dir, host, identity, directory, url)
        yield state
        for channel in state.channels.values():
            channel.close()
