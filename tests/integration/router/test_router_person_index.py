"""The router's person-status index end to end: a real registry whose RPCs are counted where it
answers them, a real router (PERSON_INDEX=strict, the default), a counting holder.

The consistency rule under test (router.transport.person_index): a change recorded at the
register before a routed call arrives is seen by that call — no sleep, no retry — while routed
calls under load do not ask the register's GetPersonStatuses. Twice: with a register that
grants no lease (every check proved by a feed read) and with one that does (registry.service.
leases: checks answered from the index with no feed read at all).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import router_admin_pb2, router_admin_pb2_grpc
from registry.config import Settings as RegistrySettings
from registry.seed.command import load
from registry.service.cache import PersonCache
from registry.service.changes import RegistryChanges
from registry.service.leases import Leases
from registry.service.queries import RegistryQueries
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from registry.storage.repository import mutation_version, unit_factory
from registry.transport.servicer import RegistryServicer
from router.config import Settings as RouterSettings
from router.server import create_server as create_router
from runtime.client import failure
from runtime.clock import SystemClock
from runtime.db import Database
from runtime.server import Registration, ServiceHost
from tests.integration.router.conftest import (
    REGISTRY,
    CountingHolder,
    Network,
    Seen,
    configure,
    integrate,
    routed,
)
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration

MASK = field_mask_pb2.FieldMask(paths=["identity"])
LEASE_SECONDS = 1.0
DAY = date_pb2.Date(year=2026, month=1, day=15)


class CountingRegistry(RegistryServicer):
    """The registry's own servicer, counting the calls the router makes to it; its mutation
    feed can be made unreachable."""

    def __init__(self, db: Database, leases: Leases | None) -> None:
        clock = SystemClock()
        super().__init__(
            RegistryQueries(
                unit_factory(db, write=False), clock, mutation_version(db), PersonCache()
            ),
            RegistryChanges(unit_factory(db), clock, leases),
            leases,
        )
        self.leases = leases
        self.calls: Counter[str] = Counter()
        self.feed_down = False
        self._lock = threading.Lock()

    def _count(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1

    def GetPersonStatuses(self, request, context):  # noqa: N802, ANN001, ANN201
        self._count("GetPersonStatuses")
        return super().GetPersonStatuses(request, context)

    def ListMutationEvents(self, request, context):  # noqa: N802, ANN001, ANN201
        self._count("ListMutationEvents")
        if self.feed_down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "feed down (test)")
        return super().ListMutationEvents(request, context)

    def ListPersonStatuses(self, request, context):  # noqa: N802, ANN001, ANN201
        self._count("ListPersonStatuses")
        return super().ListPersonStatuses(request, context)


class IndexNetwork(Network):
    counting: CountingRegistry


@pytest.fixture(scope="module", params=["feed", "lease"])
def network(
    request: pytest.FixtureRequest, pki_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IndexNetwork]:
    folder = tmp_path_factory.mktemp("index")
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "holder") as holder_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load(db, count=60, seed=3)
        leases = Leases(LEASE_SECONDS, mutation_version(db)()) if request.param == "lease" else None
        counting = CountingRegistry(db, leases)
        registry_settings = RegistrySettings.from_env(service_env(pki_dir, "registry", registry_db))
        registry = ServiceHost(
            settings=registry_settings.runtime,
            registrations=[
                Registration(
                    registry_pb2_grpc.add_RegistryServiceServicer_to_server, counting, REGISTRY
                )
            ],
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
        try:
            with running(registry), running(holder):
                router = create_router(
                    RouterSettings.from_env(
                        service_env(
                            pki_dir, "router", router_db, REGISTRY_ADDR=f"localhost:{registry.port}"
                        )
                    )
                )
                with running(router):
                    net = IndexNetwork(router, holder, seen, pki_dir, router_db, registry)
                    net.counting = counting
                    configure(net)
                    yield net
        finally:
            db.dispose()


@pytest.fixture(scope="module")
def living(network: IndexNetwork) -> list[str]:
    """The register's living, current numbers (from its snapshot), integrated by ONEM."""
    with channel_as(network.pki_dir, "router", network.registry.port) as channel:
        page = registry_pb2_grpc.RegistryServiceStub(channel).ListPersonStatuses(
            registry_pb2.ListPersonStatusesRequest(), timeout=10
        )
    numbers = [s.insz for s in page.statuses if not s.deceased and not s.replaced_by]
    integrate(network, "institution-onem", numbers, 18, 1)
    return numbers


def _get(network: Network, insz: str) -> registry_pb2.GetPersonResponse:
    with network.channel("institution-onem") as channel:
        return registry_pb2_grpc.RegistryServiceStub(channel).GetPerson(
            registry_pb2.GetPersonRequest(insz=insz, read_mask=MASK),
            metadata=routed(),
            timeout=10,
        )


def _refusal(network: Network, insz: str) -> tuple[str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as err:
        _get(network, insz)
    found = failure(err.value)
    return found.reason, found.metadata


def _rebuild(
    network: Network, party: str = "admin-ops"
) -> router_admin_pb2.RebuildPersonIndexResponse:
    with network.channel(party) as channel:
        return router_admin_pb2_grpc.RouterAdminServiceStub(channel).RebuildPersonIndex(
            router_admin_pb2.RebuildPersonIndexRequest(), timeout=30
        )


def _settled(network: IndexNetwork, insz: str) -> None:
    """With leases: wait until routed calls are answered under one (a rebuild drops it): a
    routed call that reads no feed. Without: nothing to wait for."""
    if network.counting.leases is None:
        return
    for _ in range(100):
        reads = network.counting.calls["ListMutationEvents"]
        _get(network, insz)
        if network.counting.calls["ListMutationEvents"] == reads:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the router never held a lease")


def test_rebuild_loads_every_number_of_the_register_when_an_administrator_asks(
    network: IndexNetwork,
) -> None:
    reply = _rebuild(network)
    with channel_as(network.pki_dir, "router", network.registry.port) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        page = stub.ListPersonStatuses(registry_pb2.ListPersonStatusesRequest(), timeout=10)
    assert reply.numbers == len(page.statuses) and reply.sequence == page.last_sequence
    with pytest.raises(grpc.RpcError) as err:
        _rebuild(network, "institution-onem")
    assert failure(err.value).reason == "ADMIN_ONLY"


def test_changes_are_seen_by_the_very_next_routed_call_when_recorded_at_the_register(
    network: IndexNetwork, living: list[str]
) -> None:
    """Deaths and replacements recorded directly at the register, each followed at once (no
    sleep) by a routed call about that person: every one is seen, and the register's
    GetPersonStatuses is never asked."""
    _rebuild(network)
    _settled(network, living[-1])
    taken = set(living)
    asked = network.counting.calls["GetPersonStatuses"]
    reads = network.counting.calls["ListMutationEvents"]
    with channel_as(network.pki_dir, "admin-ops", network.registry.port) as channel:
        register = registry_pb2_grpc.RegistryServiceStub(channel)
        for i, insz in enumerate(living[:16]):
            assert _get(network, insz).person.insz == insz  # alive and current, from the index
            if i % 2 == 0:
                register.RecordDeath(
                    registry_pb2.RecordDeathRequest(
                        insz=insz, request_id=f"death-{i}", date_of_death=DAY
                    ),
                    timeout=10,
                )
                assert _refusal(network, insz)[0] == "PERSON_DECEASED"
            else:
                new = _fresh_number(insz, taken)
                register.ReplaceInsz(
                    registry_pb2.ReplaceInszRequest(
                        old_insz=insz, new_insz=new, request_id=f"replace-{i}", effective_date=DAY
                    ),
                    timeout=10,
                )
                reason, meta = _refusal(network, insz)
                assert (reason, meta.get("replaced_by")) == ("PERSON_REPLACED", new)
    assert network.counting.calls["GetPersonStatuses"] == asked
    if network.counting.leases is not None:  # every change pushed, none read by a check
        assert network.counting.calls["ListMutationEvents"] == reads


def _fresh_number(old: str, taken: set[str]) -> str:
    """An unused National Register number of someone born the same day (serials 901+)."""
    from runtime.identifiers import make_insz, parse_insz

    parsed = parse_insz(old)
    for serial in range(901, 998, 2):
        candidate = make_insz(
            birth_year=parsed.birth_year,
            birth_month=parsed.birth_month,
            birth_day=parsed.birth_day,
            serial=serial,
        )
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise AssertionError("no free serial")


def test_routed_calls_under_load_share_feed_reads_and_never_ask_statuses_when_loaded(
    network: IndexNetwork, living: list[str]
) -> None:
    _rebuild(network)
    current = [
        i for i in living[16:] if _get(network, i).person.insz == i
    ]  # untouched by the other tests
    _settled(network, current[0])
    before = dict(network.counting.calls)
    errors: list[BaseException] = []
    calls_per_thread, threads_n = 15, 8

    def client(k: int) -> None:
        try:
            with network.channel("institution-onem") as channel:
                stub = registry_pb2_grpc.RegistryServiceStub(channel)
                for j in range(calls_per_thread):
                    insz = current[(k * calls_per_thread + j) % len(current)]
                    stub.GetPerson(
                        registry_pb2.GetPersonRequest(insz=insz, read_mask=MASK),
                        metadata=routed(),
                        timeout=10,
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    after = network.counting.calls
    assert after["GetPersonStatuses"] == before.get("GetPersonStatuses", 0)
    reads = after["ListMutationEvents"] - before.get("ListMutationEvents", 0)
    if network.counting.leases is None:
        # One feed read per routed call at most (fewer when calls overlap), plus the poller's.
        assert reads <= calls_per_thread * threads_n + 10
    else:  # under the lease: none (a few if a renewal came late on this busy machine)
        assert reads <= 5


@pytest.mark.parametrize("network", ["feed"], indirect=True)
def test_checks_ask_the_register_when_the_mutation_feed_is_unreachable(
    network: IndexNetwork, living: list[str]
) -> None:
    _rebuild(network)
    insz = living[-1]
    assert _get(network, insz).person.insz == insz
    network.counting.feed_down = True
    try:
        asked = network.counting.calls["GetPersonStatuses"]
        with channel_as(network.pki_dir, "admin-ops", network.registry.port) as channel:
            registry_pb2_grpc.RegistryServiceStub(channel).RecordDeath(
                registry_pb2.RecordDeathRequest(
                    insz=insz, request_id="death-down", date_of_death=DAY
                ),
                timeout=10,
            )
        assert _refusal(network, insz)[0] == "PERSON_DECEASED"  # from the register itself
        assert network.counting.calls["GetPersonStatuses"] == asked + 1
    finally:
        network.counting.feed_down = False


@pytest.mark.parametrize("network", ["lease"], indirect=True)
def test_death_is_pushed_and_seen_when_the_feed_is_down_under_a_lease(
    network: IndexNetwork, living: list[str]
) -> None:
    """Under a lease the feed is not read at all: the death comes on the watch, and the register
    answers RecordDeath only once the router has applied it."""
    _rebuild(network)
    insz = living[-2]
    _settled(network, insz)
    network.counting.feed_down = True
    try:
        asked = network.counting.calls["GetPersonStatuses"]
        with channel_as(network.pki_dir, "admin-ops", network.registry.port) as channel:
            registry_pb2_grpc.RegistryServiceStub(channel).RecordDeath(
                registry_pb2.RecordDeathRequest(
                    insz=insz, request_id="death-leased", date_of_death=DAY
                ),
                timeout=10,
            )
        assert _refusal(network, insz)[0] == "PERSON_DECEASED"  # from the index
        assert network.counting.calls["GetPersonStatuses"] == asked
    finally:
        network.counting.feed_down = False
