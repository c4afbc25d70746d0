"""The mutation service on the inbox delivery network (tests.integration.inbox.conftest: the
registry, the primary router and the mutualities' hub seeded as `make run` seeds them, and the
institution inboxes), reading the register's changes and delivering through the router.

The directory of the primary holds FIXED_MAN for ONEM (18/1), the college `cin` (11/1, the hub
routes to mut-100) and INAMI (11/2, no grant); FIXED_WOMAN for ONEM (18/4), `cin` (mut-200) and
Famiwal (7/104, no grant).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cbss.common.v1 import types_pb2
from cbss.mutation.v1 import mutation_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from mutation.config import Settings as MutationSettings
from mutation.seed.command import load as seed_grants
from mutation.server import create_server as create_mutation
from mutation.storage import MIGRATIONS as MUTATION_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from runtime.client import party_tls, secure_channel, server_name
from runtime.db import Database
from runtime.server import ServiceHost
from tests.integration.inbox.conftest import Mesh, mesh  # noqa: F401 - the fixture
from tests.support.databases import fresh_database_url
from tests.support.servers import service_env


def mutation_env(mesh: Mesh, url: str, port: int = 0, **extra: str) -> dict[str, str]:  # noqa: F811
    return service_env(
        mesh.pki_dir,
        "institution-cbss",
        url,
        GRPC_PORT=str(port),
        ROUTER_ADDR=f"localhost:{mesh.port('router')}",
        REGISTRY_ADDR=f"localhost:{mesh.port('registry')}",
        DIMONA_ADDR="",
        DMFA_ADDR="",
        MUTATION_POLL_SECONDS="0.05",
        ACK_POLL_SECONDS="0",
        OUTBOX_RETRY_MAX_SECONDS="1",
        DELIVERY_TIMEOUT_SECONDS="3",
        OUTBOX_LEASE_SECONDS="4",
        **extra,
    )


@pytest.fixture(scope="module")
def mutation_url(mesh: Mesh, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    with fresh_database_url(tmp_path_factory.mktemp("mutation"), "mutation") as url:
        db = Database(url)
        db.migrate(MUTATION_MIGRATIONS)
        seed_grants(db)
        db.dispose()
        yield url


@pytest.fixture(scope="module")
def fanout(mesh: Mesh, mutation_url: str) -> Iterator[ServiceHost]:  # noqa: F811
    host = create_mutation(MutationSettings.from_env(mutation_env(mesh, mutation_url)))
    host.start()
    try:
        seed_stream_provider(mesh, host.port)
        yield host
    finally:
        host.stop(grace=0)


def seed_stream_provider(mesh: Mesh, port: int) -> None:  # noqa: F811
    """The primary's seed again (as `make run` runs it), now naming where the mutation service's
    notification stream serves (the seed registers a provider again when its endpoint moved)."""
    registry = f"localhost:{mesh.port('registry')}"
    settings = RouterSettings.from_env(
        service_env(mesh.pki_dir, "router", mesh.urls["router"], REGISTRY_ADDR=registry)
    )
    seed_router(
        settings,
        registry,
        role="primary",
        hub_endpoint=f"localhost:{mesh.port('hub')}",
        mutation_endpoint=f"localhost:{port}",
        inboxes={n: f"localhost:{mesh.port(n)}" for n in ("onem", "fedris", "ethias")},
    )


class Register:
    """The National Register's own changes (as `institution/nr`, straight to the registry)."""

    def __init__(self, mesh: Mesh) -> None:  # noqa: F811
        self._mesh = mesh

    def _stub(self) -> tuple[object, registry_pb2_grpc.RegistryServiceStub]:
        channel = secure_channel(
            f"localhost:{self._mesh.port('registry')}",
            party_tls(self._mesh.pki_dir, "institution-nr"),
            **server_name("spiffe://carrefour.local/institution/nr"),
        )
        return channel, registry_pb2_grpc.RegistryServiceStub(channel)

    def move(self, insz: str, day: dt.date, street: str = "Rue Neuve", request_id: str = "") -> int:
        """Record a move on `day`; returns the event's sequence number. The same `request_id`
        again is answered with the same event (the registry's idempotency)."""
        channel, stub = self._stub()
        try:
            reply = stub.ChangeAddress(
                registry_pb2.ChangeAddressRequest(
                    insz=insz,
                    request_id=request_id or uuid.uuid4().hex,
                    address=types_pb2.Address(
                        street=street,
                        house_number="1",
                        postcode="1000",
                        municipality="Bruxelles",
                        country_code="BE",
                    ),
                    effective_date={"year": day.year, "month": day.month, "day": day.day},
                ),
                timeout=10,
            )
        finally:
            channel.close()  # type: ignore[attr-defined]
        return reply.event.sequence

    def replace(self, old: str, new: str, day: dt.date) -> int:
        """Replace a number; returns the event's sequence number."""
        channel, stub = self._stub()
        try:
            reply = stub.ReplaceInsz(
                registry_pb2.ReplaceInszRequest(
                    old_insz=old,
                    new_insz=new,
                    request_id=uuid.uuid4().hex,
                    effective_date={"year": day.year, "month": day.month, "day": day.day},
                ),
                timeout=10,
            )
        finally:
            channel.close()  # type: ignore[attr-defined]
        return reply.event.sequence


def inbox_changes(mesh: Mesh, institution: str) -> list[tuple[str, mutation_pb2.PersonChange]]:  # noqa: F811
    """(attestation id, decoded change) of every mutation attestation in an inbox."""
    db = mesh.inbox_db(institution)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, payload FROM attestation WHERE kind LIKE 'mutation.%' ORDER BY seq"
                )
            ).all()
    finally:
        db.dispose()
    return [(i, mutation_pb2.PersonChange.FromString(bytes(p))) for i, p in rows]


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


__all__ = ["Register", "inbox_changes", "mutation_env", "wait_for", "Path"]
