"""A small network for the router's tests: a real registry (the person checks), a counting holder,
and a real router configured through its administrative API."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import (
    directory_pb2,
    directory_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from registry.config import Settings as RegistrySettings
from registry.seed.command import load
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.server import create_server as create_router
from runtime import identity
from runtime.db import Database
from runtime.identity import current_caller, current_consultation
from runtime.server import Registration, ServiceHost
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env

REGISTRY = "cbss.registry.v1.RegistryService"
#: What the counting holder's SearchPersons reveals (two persons).
FOUND_BY_SEARCH = ("85071412330", "03020100274")


@dataclass
class Seen:
    """What the counting holder received."""

    calls: int = 0
    requesters: list[str] = field(default_factory=list)
    legal_contexts: list[str] = field(default_factory=list)
    capacities: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self) -> None:
        consultation = current_consultation()
        with self.lock:
            self.calls += 1
            self.requesters.append(current_caller().uri)
            self.legal_contexts.append(consultation.legal_context if consultation else "")
            self.capacities.append(consultation.capacity if consultation else "")


class CountingHolder(registry_pb2_grpc.RegistryServiceServicer):
    """A holder of the registry's contract that counts what reaches it."""

    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    def GetPerson(self, request, context):  # noqa: N802, ANN001, ANN201
        self.seen.record()
        return registry_pb2.GetPersonResponse(
            person=registry_pb2.Person(name=f"persons/{request.insz}", insz=request.insz)
        )

    def SearchPersons(self, request, context):  # noqa: N802, ANN001, ANN201
        self.seen.record()
        return registry_pb2.SearchPersonsResponse(
            persons=[registry_pb2.PersonSummary(insz=i) for i in FOUND_BY_SEARCH]
        )

    def GetPersonStatuses(self, request, context):  # noqa: N802, ANN001, ANN201
        self.seen.record()
        return registry_pb2.GetPersonStatusesResponse(
            statuses=[registry_pb2.PersonStatusEntry(insz=i, exists=True) for i in request.inszs]
        )


@dataclass
class Network:
    router: ServiceHost
    holder: ServiceHost
    seen: Seen
    pki_dir: Path
    router_db: str
    registry: ServiceHost

    def channel(self, party: str):  # noqa: ANN201
        return channel_as(self.pki_dir, party, self.router.port)


def date(d: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


def configure(network: Network) -> None:
    """The network's configuration, through the router's administrative API."""
    with network.channel("admin-ops") as channel:
        admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        for iid, sectors in (("onem", [18]), ("famiwal", [7]), ("nr", []), ("onss", [1])):
            admin.RegisterInstitution(
                router_admin_pb2.RegisterInstitutionRequest(
                    institution=router_admin_pb2.Institution(
                        id=iid, display_name=iid.upper(), sectors=sectors
                    )
                ),
                timeout=10,
            )
        admin.RegisterService(  # descriptors learned from the holder's reflection
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service=REGISTRY, provider="nr", endpoint=f"localhost:{network.holder.port}"
                )
            ),
            timeout=10,
        )
        for method, cap in (
            ("GetPerson", ["identity", "address", "status"]),
            ("GetPersonStatuses", []),
        ):
            admin.GrantAuthorisation(
                router_admin_pb2.GrantAuthorisationRequest(
                    authorisation=router_admin_pb2.Authorisation(
                        deliberation="ISC/18/001",
                        requester="onem",
                        service=REGISTRY,
                        method=method,
                        legal_contexts=["unemployment.control"],
                        capacities=[directory_pb2.Capacity(sector=18, code=1)],
                        read_mask_cap=cap,
                        valid_from=date(dt.date(2020, 1, 1)),
                    )
                ),
                timeout=10,
            )
        admin.GrantAuthorisation(
            router_admin_pb2.GrantAuthorisationRequest(
                authorisation=router_admin_pb2.Authorisation(
                    deliberation="ISC/05/003",
                    requester="onss",
                    service=REGISTRY,
                    method="",
                    legal_contexts=["employment.identification"],
                    directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE,
                    valid_from=date(dt.date(2020, 1, 1)),
                )
            ),
            timeout=10,
        )


def integrate(network: Network, party: str, inszs: list[str], sector: int, code: int) -> None:
    with network.channel(party) as channel:
        directory_pb2_grpc.DirectoryServiceStub(channel).RegisterEntries(
            directory_pb2.RegisterEntriesRequest(
                entries=[
                    directory_pb2.DirectoryEntry(
                        insz=i,
                        capacity=directory_pb2.Capacity(sector=sector, code=code),
                        period=types_pb2.Period(start_date=date(dt.date(2024, 1, 1))),
                    )
                    for i in inszs
                ]
            ),
            timeout=10,
        )


@pytest.fixture(scope="module")
def network(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("net")
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "holder") as holder_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load(db, count=20, seed=1)
        db.dispose()
        registry = create_registry(
            RegistrySettings.from_env(service_env(pki_dir, "registry", registry_db))
        )
        seen = Seen()
        holder_settings = RegistrySettings.from_env(service_env(pki_dir, "registry", holder_db))
        holder = ServiceHost(
            settings=holder_settings.runtime,
            registrations=[
                Registration(
                    registry_pb2_grpc.add_RegistryServiceServicer_to_server,
                    CountingHolder(seen),
                    REGISTRY,
                )
            ],
        )
        with running(registry), running(holder):
            router = create_router(
                RouterSettings.from_env(
                    service_env(
                        pki_dir,
                        "router",
                        router_db,
                        REGISTRY_ADDR=f"localhost:{registry.port}",
                        LOG_CHECKPOINT_ROWS="5",
                    )
                )
            )
            with running(router):
                net = Network(router, holder, seen, pki_dir, router_db, registry)
                configure(net)
                yield net


def routed(legal: str | None = "unemployment.control", **extra: str) -> list[tuple[str, str]]:
    headers = [] if legal is None else [(identity.LEGAL_CONTEXT_HEADER, legal)]
    return headers + list(extra.items())


__all__ = ["Network", "configure", "grpc", "integrate", "routed", "REGISTRY"]
