"""Fixtures of the registry's integration tests: a real registry on port 0 over mTLS.

Each test module gets its own database (`module_database_url`, tests/conftest.py: an SQLite file,
or a fresh PostgreSQL database `CREATE DATABASE carrefour_t_<random>` when TEST_DATABASE_URL is
set, dropped afterwards), loaded with a small synthetic population, and its own server with a
fixed clock (15 June 2025). Tests call it through `runtime.client.secure_channel` with a party's
certificate from the session's throw-away PKI. Consultations (GetPerson, SearchPersons) are made
as the router, with the routing metadata a router adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from registry_rpc import NOW, SEED, SEED_COUNT, Rows, Stub

from registry.config import Settings
from registry.seed.command import load
from registry.server import create_server
from registry.storage import MIGRATIONS
from runtime.client import party_tls, secure_channel
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.server import ServiceHost
from tests.support.servers import running, service_env


@pytest.fixture(scope="module")
def registry_db(module_database_url: str) -> str:
    """The module's database, migrated and seeded (fixed persons + SEED_COUNT others)."""
    db = Database(module_database_url)
    try:
        db.migrate(MIGRATIONS)
        load(db, count=SEED_COUNT, seed=SEED)
    finally:
        db.dispose()
    return module_database_url


@pytest.fixture(scope="module")
def registry(pki_dir: Path, registry_db: str) -> Iterator[ServiceHost]:
    env = service_env(pki_dir, "registry", registry_db, GRPC_MAX_WORKERS="16")
    host = create_server(Settings.from_env(env), clock=FixedClock(NOW))
    with running(host):
        yield host


@pytest.fixture(scope="module")
def stub(registry: ServiceHost, pki_dir: Path) -> Iterator[Callable[[str], Stub]]:
    """`stub(party)`: a RegistryService stub presenting that party's certificate."""
    channels: dict[str, grpc.Channel] = {}

    def get(party: str) -> Stub:
        if party not in channels:
            channels[party] = secure_channel(
                f"localhost:{registry.port}", party_tls(pki_dir, party)
            )
        return Stub(channels[party])

    yield get
    for channel in channels.values():
        channel.close()


@pytest.fixture(scope="module")
def rows(registry_db: str) -> Iterator[Rows]:
    counter = Rows(registry_db)
    yield counter
    counter.engine.dispose()
