"""A delivery network on real ports over mTLS: the registry (person checks), the primary router
and the mutualities' hub (the router program twice), and four institution inboxes (ONEM, Fedris,
mut-100 and mut-200 behind the hub), configured by the router's own seed (`router.seed`, the
same one `make run` uses). Servers can be restarted on their port (a "killed" router or inbox).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inbox.config import Settings as InboxSettings
from inbox.sender import MIGRATIONS as SENDER_MIGRATIONS
from inbox.sender import DemoSender
from inbox.server import create_server as create_inbox
from registry.config import Settings as RegistrySettings
from registry.seed.command import load
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
from runtime.db import Database
from runtime.outbox import Dispatcher, RetryPolicy, RouterTransport
from runtime.server import ServiceHost
from tests.support.databases import fresh_database_url
from tests.support.servers import running, service_env

INBOXES = ("onem", "fedris", "ethias", "mut-100", "mut-200")
#: Who is whose member at the hub (the primary's seed has `cin` holding both).
MEMBERS = {FIXED_MAN: "mut-100", FIXED_WOMAN: "mut-200"}
DAY = dt.date(2026, 11, 2)


@dataclass
class Mesh:
    pki_dir: Path
    hosts: dict[str, ServiceHost]
    urls: dict[str, str]
    makers: dict[str, Callable[[int], ServiceHost]] = field(default_factory=dict)

    def port(self, name: str) -> int:
        return self.hosts[name].port

    def restart(self, name: str) -> None:
        """Stop a server at once (in-flight calls fail) and start a new one on its port."""
        port = self.hosts[name].port
        self.hosts[name].stop(grace=0)
        self.hosts[name] = self.makers[name](port)
        self.hosts[name].start()

    def router_channel(self, party: str = "onss"):  # noqa: ANN201
        return secure_channel(
            f"localhost:{self.port('router')}",
            party_tls(self.pki_dir, party),
            **server_name("spiffe://carrefour.local/router/cbss"),
        )

    def inbox_channel(self, institution: str, party: str | None = None):  # noqa: ANN201
        return secure_channel(
            f"localhost:{self.port(institution)}",
            party_tls(self.pki_dir, party or f"institution-{institution}"),
            **server_name(f"spiffe://carrefour.local/institution/{institution}"),
        )

    def inbox_db(self, institution: str) -> Database:
        return Database(self.urls[institution])


@pytest.fixture(scope="module")
def mesh(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    folder = tmp_path_factory.mktemp("inbox-net")
    hosts: dict[str, ServiceHost] = {}
    with contextlib.ExitStack() as stack:
        urls = {
            n: stack.enter_context(fresh_database_url(folder, n))
            for n in ("registry", "router", "hub", *INBOXES)
        }
        # Stopped first (LIFO), before the databases are dropped.
        stack.callback(lambda: [h.stop(grace=0) for h in reversed(list(hosts.values()))])
        db = Database(urls["registry"])
        db.migrate(REGISTRY_MIGRATIONS)
        load(db, count=20, seed=1)
        db.dispose()
        hosts["registry"] = create_registry(
            RegistrySettings.from_env(service_env(pki_dir, "registry", urls["registry"]))
        )
        hosts["registry"].start()
        registry = f"localhost:{hosts['registry'].port}"

        def inbox_maker(institution: str) -> Callable[[int], ServiceHost]:
            def make(port: int) -> ServiceHost:
                env = service_env(
                    pki_dir,
                    f"institution-{institution}",
                    urls[institution],
                    INBOX_INSTITUTION=institution,
                    GRPC_PORT=str(port),
                )
                return create_inbox(InboxSettings.from_env(env))

            return make

        def router_maker(port: int) -> ServiceHost:
            env = service_env(
                pki_dir, "router", urls["router"], REGISTRY_ADDR=registry, GRPC_PORT=str(port)
            )
            return create_router(RouterSettings.from_env(env))

        mesh = Mesh(pki_dir, hosts, urls)
        mesh.makers["router"] = router_maker
        for institution in INBOXES:
            mesh.makers[institution] = inbox_maker(institution)
            hosts[institution] = inbox_maker(institution)(0)
            hosts[institution].start()
        hosts["router"] = router_maker(0)
        hosts["router"].start()
        primary = f"localhost:{hosts['router'].port}"

        def hub_maker(port: int) -> ServiceHost:
            env = service_env(
                pki_dir,
                "hub-cin",
                urls["hub"],
                ROUTER_NAME="cin",
                REGISTRY_ADDR=registry,
                UPSTREAM_ROUTER_ADDR=primary,
                GRPC_PORT=str(port),
            )
            return create_router(RouterSettings.from_env(env))

        mesh.makers["hub"] = hub_maker
        hosts["hub"] = hub_maker(0)
        hosts["hub"].start()
        endpoint = {n: f"localhost:{hosts[n].port}" for n in hosts}
        # The routers' own seed, as `make run` runs it (configuration applies on the next call).
        primary_settings = RouterSettings.from_env(
            service_env(pki_dir, "router", urls["router"], REGISTRY_ADDR=registry)
        )
        seed_router(
            primary_settings,
            registry,
            role="primary",
            hub_endpoint=endpoint["hub"],
            inboxes={n: endpoint[n] for n in ("onem", "fedris", "ethias")},
        )
        hub_settings = RouterSettings.from_env(
            service_env(pki_dir, "hub-cin", urls["hub"], ROUTER_NAME="cin", REGISTRY_ADDR=registry)
        )
        seed_router(
            hub_settings,
            registry,
            role="hub",
            inboxes={"mut-100": endpoint["mut-100"], "mut-200": endpoint["mut-200"]},
        )
        # The members' integration at the hub (what `python -m mutuality integrate` sends).
        hub_db = Database(urls["hub"])
        hub_db.migrate(ROUTER_MIGRATIONS)
        SqlDirectory(hub_db).register(
            [
                DirectoryEntry(insz, member, Capacity(11, 1), dt.date(2020, 1, 1))
                for insz, member in MEMBERS.items()
            ]
        )
        hub_db.dispose()
        yield mesh


@dataclass
class Sender:
    db: Database
    demo: DemoSender
    transport: RouterTransport
    channel: object

    def dispatcher(self, policy: RetryPolicy | None = None, **kw: object) -> Dispatcher:
        return Dispatcher(
            self.db,
            self.demo.outbox,
            self.transport,
            policy=policy or RetryPolicy(base_seconds=0.05, max_delay_seconds=0.5),
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture
def sender(mesh: Mesh, tmp_path: Path) -> Iterator[Sender]:
    """The demonstration sender (`onss`) with a fresh outbox database of its own."""
    with fresh_database_url(tmp_path, "sender") as url:
        db = Database(url)
        db.migrate(SENDER_MIGRATIONS)
        channel = mesh.router_channel("onss")
        try:
            yield Sender(db, DemoSender(db), RouterTransport(channel, timeout=5.0), channel)
        finally:
            channel.close()
            db.dispose()


__all__ = ["DAY", "INBOXES", "MEMBERS", "Mesh", "Sender", "running"]
