"""The research data warehouse's integration tests: real servers on port 0 over mTLS.

`mesh`: a seeded registry (500 persons, its population exported as `make run` exports it), the
router seeded as `make run` seeds it (router.seed, with the research extractions granted to the
TTP), DIMONA with two seeded quarters of periods (2025Q1, 2025Q2: `python -m dimona
seed-periods`, through the rules and the router), the DmfA with both quarters declared from
them (`python -m dmfa seed-quarter`, through the router), the trusted third party (its keys in
this module's folder) and the warehouse (its projects seeded); and the retailer hires HIRED more
workers (_hire_more). Each module gets its own databases (SQLite files, or fresh PostgreSQL
databases when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from dimona.config import Settings as DimonaSettings
from dimona.seed import periods as dimona_seed
from dimona.server import create_server as create_dimona
from dmfa.config import Settings as DmfaSettings
from dmfa.seed.command import load as load_dmfa_employers
from dmfa.seed.command import run_quarter as dmfa_seed_quarter
from dmfa.server import create_server as create_dmfa
from dmfa.storage import MIGRATIONS as DMFA_MIGRATIONS
from registry.config import Settings as RegistrySettings
from registry.seed.command import export_population
from registry.seed.command import load as load_persons
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from router.server import create_server as create_router
from runtime import identifiers
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.employers import RETAIL
from runtime.server import ServiceHost
from tests.integration.dimona.conftest import NOW as DIMONA_NOW
from tests.integration.dimona.conftest import seeded_dimona
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env
from ttp.config import Settings as TtpSettings
from ttp.server import create_server as create_ttp
from warehouse.config import Settings as WarehouseSettings
from warehouse.seed import seed_projects
from warehouse.server import create_server as create_warehouse
from warehouse.storage import MIGRATIONS as WAREHOUSE_MIGRATIONS

QUARTERS = ((2025, 1), (2025, 2))
#: Workers the retailer hires on 1 January 2025 besides the seeded quarters (see _hire_more).
HIRED = 160


def _hire_more(pki_dir: Path, dimona: ServiceHost, dimona_db: str, population: list[str]) -> None:
    """The retailer declares HIRED more workers (aged 20 to 60, none already seeded), open-ended
    from 1 January 2025, under its three joint committees, through DIMONA's gRPC API (late:
    accepted with a warning). The seed's 30-odd workers a quarter alone spread over the finest
    table leave every margin so close to its number of cells that the disclosure control must
    suppress them all; with these, the margins are published and the attack has work to do."""
    db = Database(dimona_db)
    try:
        with db.engine.connect() as conn:
            seeded = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT worker FROM period"))}
    finally:
        db.dispose()
    chosen = [
        insz
        for insz in population
        if insz not in seeded
        and insz not in dimona_seed.DEMONSTRATION
        and 1965 <= identifiers.parse_insz(insz).birth_year <= 2004
    ][:HIRED]
    assert len(chosen) == HIRED
    with channel_as(pki_dir, f"employer-{RETAIL}", dimona.port) as channel:
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)
        for i, insz in enumerate(chosen):
            form = dimona_in(insz, jc=("202", "201", "118")[i % 3], start=dt.date(2025, 1, 1))
            reply = stub.SubmitDeclaration(submit_in(RETAIL, f"dwh-hire-{i}", form), timeout=30)
            assert reply.declaration.status != dimona_pb2.DECLARATION_STATUS_REFUSED, reply


@dataclass
class Mesh:
    pki_dir: Path
    registry: ServiceHost
    router: ServiceHost
    dimona: ServiceHost
    dmfa: ServiceHost
    ttp: ServiceHost
    warehouse: ServiceHost
    router_db: str
    dimona_db: str
    warehouse_db: str
    key_dir: Path
    population: list[str]

    def channel(self, party: str, host: ServiceHost):  # noqa: ANN201
        return channel_as(self.pki_dir, party, host.port)


@pytest.fixture(scope="module")
def mesh(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    folder = tmp_path_factory.mktemp("warehouse-mesh")
    key_dir = folder / "ttp-keys"
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "dimona") as dimona_db,
        fresh_database_url(folder, "dmfa") as dmfa_db,
        fresh_database_url(folder, "warehouse") as warehouse_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load_persons(db, count=500, seed=1)
        db.dispose()
        population_file = folder / "seed" / "population.txt"
        assert export_population(registry_db, ["--out", str(population_file)]) == 0
        seeded_dimona(dimona_db)
        db = Database(dmfa_db)
        db.migrate(DMFA_MIGRATIONS)
        load_dmfa_employers(db)
        db.dispose()
        db = Database(warehouse_db)
        db.migrate(WAREHOUSE_MIGRATIONS)
        seed_projects(db)
        db.dispose()
        registry = create_registry(
            RegistrySettings.from_env(service_env(pki_dir, "registry", registry_db))
        )
        with running(registry):
            router_settings = RouterSettings.from_env(
                service_env(
                    pki_dir, "router", router_db, REGISTRY_ADDR=f"localhost:{registry.port}"
                )
            )
            router = create_router(router_settings)
            with running(router):
                routed = {"ROUTER_ADDR": f"localhost:{router.port}"}
                dimona_settings = DimonaSettings.from_env(
                    service_env(pki_dir, "onss", dimona_db, DIRECTORY_IDLE_SECONDS="0.05", **routed)
                )
                dimona = create_dimona(dimona_settings, clock=FixedClock(DIMONA_NOW))
                dmfa_settings = DmfaSettings.from_env(
                    service_env(pki_dir, "onss", dmfa_db, QUOTA_IDLE_SECONDS="0.05", **routed)
                )
                dmfa = create_dmfa(dmfa_settings)
                ttp = create_ttp(
                    TtpSettings.from_env(
                        service_env(
                            pki_dir, "ttp", "sqlite:///unused", TTP_KEY_DIR=str(key_dir), **routed
                        )
                    )
                )
                with running(dimona), running(dmfa), running(ttp):
                    seed_router(
                        router_settings,
                        f"localhost:{registry.port}",
                        dimona_endpoint=f"localhost:{dimona.port}",
                        dmfa_endpoint=f"localhost:{dmfa.port}",
                    )
                    quarters = [["--year", str(y), "--quarter", str(q)] for y, q in QUARTERS]
                    population = population_file.read_text().split()
                    for args in quarters:
                        seed_args = [*args, "--population", str(population_file)]
                        assert dimona_seed.run(dimona_settings, seed_args) == 0
                    _hire_more(pki_dir, dimona, dimona_db, population)
                    for args in quarters:
                        assert dmfa_seed_quarter(dmfa_settings, args) == 0
                    warehouse = create_warehouse(
                        WarehouseSettings.from_env(
                            service_env(
                                pki_dir,
                                "warehouse",
                                warehouse_db,
                                TTP_ADDR=f"localhost:{ttp.port}",
                            )
                        )
                    )
                    with running(warehouse):
                        yield Mesh(
                            pki_dir, registry, router, dimona, dmfa, ttp, warehouse, router_db,
                            dimona_db, warehouse_db, key_dir,
                            population,
                        )  # fmt: skip
