"""The DRS's integration tests: real servers on port 0 over mTLS.

`mesh`: a seeded registry; the primary router and the mutualities' hub (the router program
twice), seeded by `router.seed` as `make run` seeds them (the DRS's pre-fill grants and request
service, the inboxes' authorisations); DIMONA (clock: Monday 2 June 2025) holding RETAIL's Dimona
periods from 3 June, declared through its gRPC API; the DmfA (clock: 10 July 2025) holding
RETAIL's accepted 2025Q2 declaration; the inboxes of ONEM, Fedris and Ethias at the primary and
of mut-100 and mut-200 behind the hub (FIXED_MAN is mut-100's member, FIXED_WOMAN mut-200's);
and the DRS (clock: Tuesday 16 September 2025, 10:00 in Brussels) reaching all of them through
the primary router, its dispatcher delivering attestations. Each module gets its own databases
(SQLite files, or fresh PostgreSQL databases when TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2_grpc
from cbss.drs.v1 import drs_pb2_grpc
from dimona.config import Settings as DimonaSettings
from dimona.server import create_server as create_dimona
from dmfa.config import Settings as DmfaSettings
from dmfa.seed.command import load as load_dmfa_employers
from dmfa.server import create_server as create_dmfa
from dmfa.storage import MIGRATIONS as DMFA_MIGRATIONS
from drs.config import Settings as DrsSettings
from drs.seed.command import load as load_drs
from drs.server import create_server as create_drs
from drs.storage import MIGRATIONS as DRS_MIGRATIONS
from inbox.config import Settings as InboxSettings
from inbox.server import create_server as create_inbox
from registry.config import Settings as RegistrySettings
from registry.seed.command import load as load_persons
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from router.server import create_server as create_router
from router.service.model import Capacity, DirectoryEntry
from router.storage import MIGRATIONS as ROUTER_MIGRATIONS
from router.storage.repository import SqlDirectory
from runtime.client import party_tls, secure_channel, server_name
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.server import ServiceHost
from tests.integration.dimona.conftest import NOW as DIMONA_NOW
from tests.integration.dimona.conftest import seeded_dimona
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.integration.dmfa.protos import chunks, occupation, worker
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, service_env

RETAIL = "000100006"
STATE = "000935467"
#: Thursday 10 July 2025: 2025Q2 is declared on time.
DMFA_NOW = dt.datetime(2025, 7, 10, 8, 0, tzinfo=dt.UTC)
#: Tuesday 16 September 2025, 10:00 in Brussels.
DRS_NOW = dt.datetime(2025, 9, 16, 8, 0, tzinfo=dt.UTC)
JUNE_3, JUNE_30 = dt.date(2025, 6, 3), dt.date(2025, 6, 30)
INBOXES = ("onem", "fedris", "ethias", "mut-100", "mut-200")
MEMBERS = {FIXED_MAN: "mut-100", FIXED_WOMAN: "mut-200"}
#: RETAIL's Dimona periods: (INSZ, type, start, end).
PERIODS = (
    (FIXED_MAN, dimona_pb2.WORKER_TYPE_OTH, JUNE_3, None),
    (FIXED_WOMAN, dimona_pb2.WORKER_TYPE_OTH, JUNE_3, None),
)
#: What RETAIL declared in its DmfA for 2025Q2, per worker: (days, hours, pay).
DMFA_Q2 = {FIXED_MAN: (2000, 15200, 300000), FIXED_WOMAN: (1800, 13680, 270000)}


@dataclass
class Mesh:
    pki_dir: Path
    hosts: dict[str, ServiceHost]
    urls: dict[str, str]

    def port(self, name: str) -> int:
        return self.hosts[name].port

    def drs_channel(self, party: str):  # noqa: ANN201
        channel = secure_channel(f"localhost:{self.port('drs')}", party_tls(self.pki_dir, party))
        self._channels.append(channel)
        return channel

    def drs(self, party: str = f"employer-{RETAIL}") -> drs_pb2_grpc.DrsServiceStub:
        return drs_pb2_grpc.DrsServiceStub(self.drs_channel(party))

    def via_router(self, party: str):  # noqa: ANN201
        channel = secure_channel(
            f"localhost:{self.port('router')}",
            party_tls(self.pki_dir, party),
            **server_name("spiffe://carrefour.local/router/cbss"),
        )
        self._channels.append(channel)
        return channel

    def via_hub(self, party: str):  # noqa: ANN201
        channel = secure_channel(
            f"localhost:{self.port('hub')}",
            party_tls(self.pki_dir, party),
            **server_name("spiffe://carrefour.local/router/cin"),
        )
        self._channels.append(channel)
        return channel

    def inbox(self, institution: str) -> list[sa.Row]:
        """The attestations an institution's inbox stored, oldest first."""
        db = Database(self.urls[institution])
        try:
            with db.engine.connect() as conn:
                return list(conn.execute(sa.text("SELECT * FROM attestation ORDER BY seq")))
        finally:
            db.dispose()

    def wait_for(self, institution: str, attestation_id: str, timeout: float = 30.0) -> sa.Row:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.inbox(institution):
                if row.id == attestation_id:
                    return row
            self.hosts["drs"].dispatcher.wake()  # type: ignore[attr-defined]
            time.sleep(0.1)
        raise AssertionError(f"attestation {attestation_id} not in {institution}'s inbox")

    def close_channels(self) -> None:
        for channel in self._channels:
            channel.close()

    def __post_init__(self) -> None:
        self._channels: list = []


def _declare_periods(mesh: Mesh) -> None:
    with channel_as(mesh.pki_dir, f"employer-{RETAIL}", mesh.port("dimona")) as channel:
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)
        for i, (insz, kind, start, end) in enumerate(PERIODS):
            form = dimona_in(insz, worker_type=kind, jc="202", start=start, end=end)
            reply = stub.SubmitDeclaration(submit_in(RETAIL, f"drs-it-{i}", form), timeout=30)
            assert reply.declaration.status != dimona_pb2.DECLARATION_STATUS_REFUSED, reply


def _declare_quarter(mesh: Mesh) -> None:
    workers = [
        worker(insz, "495", JUNE_3, JUNE_30, occupation(JUNE_3, days=d, hours=h, pay=p))
        for insz, (d, h, p) in DMFA_Q2.items()
    ]
    with channel_as(mesh.pki_dir, f"employer-{RETAIL}", mesh.port("dmfa")) as channel:
        stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
        version = stub.SubmitDeclaration(
            iter(chunks(RETAIL, 2025, 2, "drs-it-q2", workers)), timeout=60
        ).version
    assert version.current, version


def _wait_integrated(mesh: Mesh) -> None:
    """DIMONA integrates its workers at the primary through its directory outbox."""
    deadline = time.monotonic() + 30
    db = Database(mesh.urls["router"])
    try:
        while time.monotonic() < deadline:
            holdings = SqlDirectory(db).holdings("onss", sorted(DMFA_Q2), dt.date(2025, 9, 15))
            if all(Capacity(1, 1) in holdings.get(insz, set()) for insz in DMFA_Q2):
                return
            time.sleep(0.1)
    finally:
        db.dispose()
    raise AssertionError("DIMONA did not integrate its workers in time")


@pytest.fixture(scope="module")
def mesh(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    folder = tmp_path_factory.mktemp("drs-net")
    hosts: dict[str, ServiceHost] = {}
    names = ("registry", "router", "hub", "dimona", "dmfa", "drs", *INBOXES)
    with contextlib.ExitStack() as stack:
        urls = {n: stack.enter_context(fresh_database_url(folder, n)) for n in names}
        # Stopped first (LIFO), before the databases are dropped.
        stack.callback(lambda: [h.stop(grace=0) for h in reversed(list(hosts.values()))])
        db = Database(urls["registry"])
        db.migrate(REGISTRY_MIGRATIONS)
        load_persons(db, count=20, seed=1)
        db.dispose()
        seeded_dimona(urls["dimona"])
        for url, migrations, load in (
            (urls["dmfa"], DMFA_MIGRATIONS, load_dmfa_employers),
            (urls["drs"], DRS_MIGRATIONS, load_drs),
        ):
            db = Database(url)
            db.migrate(migrations)
            load(db)
            db.dispose()

        def start(name: str, host: ServiceHost) -> str:
            hosts[name] = host
            host.start()
            return f"localhost:{host.port}"

        registry = start(
            "registry",
            create_registry(
                RegistrySettings.from_env(service_env(pki_dir, "registry", urls["registry"]))
            ),
        )
        for institution in INBOXES:
            start(
                institution,
                create_inbox(
                    InboxSettings.from_env(
                        service_env(
                            pki_dir,
                            f"institution-{institution}",
                            urls[institution],
                            INBOX_INSTITUTION=institution,
                        )
                    )
                ),
            )
        router_env = service_env(pki_dir, "router", urls["router"], REGISTRY_ADDR=registry)
        primary = start("router", create_router(RouterSettings.from_env(router_env)))
        hub_env = service_env(
            pki_dir,
            "hub-cin",
            urls["hub"],
            ROUTER_NAME="cin",
            REGISTRY_ADDR=registry,
            UPSTREAM_ROUTER_ADDR=primary,
        )
        hub = start("hub", create_router(RouterSettings.from_env(hub_env)))
        dimona = start(
            "dimona",
            create_dimona(
                DimonaSettings.from_env(
                    service_env(
                        pki_dir,
                        "onss",
                        urls["dimona"],
                        ROUTER_ADDR=primary,
                        DIRECTORY_IDLE_SECONDS="0.05",
                    )
                ),
                clock=FixedClock(DIMONA_NOW),
            ),
        )
        dmfa = start(
            "dmfa",
            create_dmfa(
                DmfaSettings.from_env(
                    service_env(
                        pki_dir,
                        "onss",
                        urls["dmfa"],
                        ROUTER_ADDR=primary,
                        QUOTA_IDLE_SECONDS="0.05",
                    )
                ),
                clock=FixedClock(DMFA_NOW),
            ),
        )
        drs = start(
            "drs",
            create_drs(
                DrsSettings.from_env(
                    service_env(
                        pki_dir,
                        "onss",
                        urls["drs"],
                        ROUTER_ADDR=primary,
                        OUTBOX_POLL_SECONDS="0.05",
                        ACK_POLL_SECONDS="0",
                    )
                ),
                clock=FixedClock(DRS_NOW),
            ),
        )
        endpoint = {n: f"localhost:{hosts[n].port}" for n in hosts}
        seed_router(
            RouterSettings.from_env(router_env),
            registry,
            role="primary",
            hub_endpoint=hub,
            dimona_endpoint=dimona,
            dmfa_endpoint=dmfa,
            drs_endpoint=drs,
            inboxes={n: endpoint[n] for n in ("onem", "fedris", "ethias")},
        )
        seed_router(
            RouterSettings.from_env(hub_env),
            registry,
            role="hub",
            inboxes={n: endpoint[n] for n in ("mut-100", "mut-200")},
        )
        # The members' integration at the hub (what `python -m mutuality integrate` sends; the
        # primary's seed has `cin` holding both persons already).
        hub_db = Database(urls["hub"])
        hub_db.migrate(ROUTER_MIGRATIONS)
        SqlDirectory(hub_db).register(
            [
                DirectoryEntry(insz, member, Capacity(11, 1), dt.date(2020, 1, 1))
                for insz, member in MEMBERS.items()
            ]
        )
        hub_db.dispose()
        mesh = Mesh(pki_dir, hosts, urls)
        stack.callback(mesh.close_channels)
        _declare_periods(mesh)
        _declare_quarter(mesh)
        _wait_integrated(mesh)
        yield mesh


__all__ = ["DMFA_Q2", "DRS_NOW", "Mesh", "RETAIL", "STATE"]
