"""`python -m dimona seed-periods` against the real network: a seeded registry (its population
exported as `make run` exports it), the router seeded as `make run` seeds it, DIMONA serving;
the command declares a fixed quarter through DIMONA's rules, checking every worker through the
router. The periods are read back with ListPeriods (employers for themselves, the bureau for
its mandating employers) and in DIMONA's database; the dispatcher integrates them in the
router's directory; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from dimona.config import Settings as DimonaSettings
from dimona.seed import periods as seed
from dimona.server import create_server as create_dimona
from dimona.service.model import Status
from dimona.storage.repository import unit_factory
from registry.config import Settings as RegistrySettings
from registry.seed.command import export_population
from registry.seed.command import load as load_persons
from registry.server import create_server as create_registry
from registry.storage import MIGRATIONS as REGISTRY_MIGRATIONS
from router.config import Settings as RouterSettings
from router.seed import seed_router
from router.server import create_server as create_router
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.server import ServiceHost
from tests.integration.dimona.conftest import NOW, seeded_dimona
from tests.support.databases import fresh_database_url
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration

YEAR, QUARTER = 2025, 1
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
BRASSERIE, BOUW = seed.BRASSERIE, seed.BOUW
#: The employers' certificates (the two named ones) or the bureau they mandated.
READ_AS = {
    "000100006": "employer-000100006",
    "000935467": "employer-000935467",
    BRASSERIE: "bureau-0314595348",
    BOUW: "bureau-0314595348",
}
EXPECTED = {
    ("000100006", "OTH"): 9, ("000100006", "STU"): 2,
    ("000935467", "OTH"): 6, ("000935467", "STG"): 1,  # 5 of the roster + the sickness demo
    (BRASSERIE, "OTH"): 4, (BRASSERIE, "STU"): 2, (BRASSERIE, "FLX"): 1, (BRASSERIE, "EXT"): 1,
    (BOUW, "OTH"): 5, (BOUW, "DWD"): 1,
}  # fmt: skip


@dataclass
class Mesh:
    pki_dir: Path
    router: ServiceHost
    dimona: ServiceHost
    dimona_db: str
    settings: DimonaSettings
    population: Path


@pytest.fixture(scope="module")
def mesh(pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    folder = tmp_path_factory.mktemp("dimona-seed")
    with (
        fresh_database_url(folder, "registry") as registry_db,
        fresh_database_url(folder, "router") as router_db,
        fresh_database_url(folder, "dimona") as dimona_db,
    ):
        db = Database(registry_db)
        db.migrate(REGISTRY_MIGRATIONS)
        load_persons(db, count=500, seed=1)
        db.dispose()
        population = folder / "seed" / "population.txt"
        assert export_population(registry_db, ["--out", str(population)]) == 0
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
                settings = DimonaSettings.from_env(
                    service_env(
                        pki_dir,
                        "onss",
                        dimona_db,
                        ROUTER_ADDR=f"localhost:{router.port}",
                        DIRECTORY_IDLE_SECONDS="0.05",
                    )
                )
                dimona = create_dimona(settings, clock=FixedClock(NOW))
                with running(dimona):
                    seed_router(
                        router_settings,
                        f"localhost:{registry.port}",
                        dimona_endpoint=f"localhost:{dimona.port}",
                    )
                    yield Mesh(pki_dir, router, dimona, dimona_db, settings, population)


def run_seed(mesh: Mesh) -> int:
    args = ["--year", str(YEAR), "--quarter", str(QUARTER), "--population", str(mesh.population)]
    return seed.run(mesh.settings, args)


def list_periods(mesh: Mesh) -> list[dimona_pb2.Period]:
    found = []
    for employer, party in READ_AS.items():
        with channel_as(mesh.pki_dir, party, mesh.dimona.port) as channel:
            reply = dimona_pb2_grpc.DimonaServiceStub(channel).ListPeriods(
                dimona_pb2.ListPeriodsRequest(parent=f"employers/{employer}", page_size=500),
                timeout=10,
            )
        assert not reply.next_page_token
        found += reply.periods
    return found


def _date(d) -> dt.date:  # noqa: ANN001
    return dt.date(d.year, d.month, d.day)


def onss_entries(mesh: Mesh, insz: str) -> int:
    with channel_as(mesh.pki_dir, "onss", mesh.router.port) as channel:
        reply = directory_pb2_grpc.DirectoryServiceStub(channel).ListEntries(
            directory_pb2.ListEntriesRequest(insz=insz), timeout=10
        )
    return len(reply.entries)


def test_a_quarter_is_declared_through_the_rules_and_once_when_seeded_twice(
    mesh: Mesh, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert run_seed(mesh) == 0
    assert (
        "dimona seeded 2025Q1: 32 of 32 Dimona periods accepted (32 new, 0 already" in caplog.text
    )

    periods = list_periods(mesh)
    by_kind = Counter(
        (p.employer, dimona_pb2.WorkerType.Name(p.worker_type).removeprefix("WORKER_TYPE_"))
        for p in periods
    )
    assert by_kind == EXPECTED
    assert len({p.worker_insz for p in periods}) == 31
    assert (seed.SICKNESS_DEMO[0], seed.SICKNESS_DEMO[1]) in {
        (p.worker_insz, p.employer) for p in periods if not p.HasField("end_date")
    }
    for p in periods:
        assert p.state == dimona_pb2.PERIOD_STATE_ACTIVE and not p.late and not p.exceeding_minutes
        assert _date(p.start_date) <= LAST
        assert not p.HasField("end_date") or _date(p.end_date) >= FIRST
    # Every declaration is stored accepted, on time, without warnings, under its reference.
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            stored = [
                unit.declarations.get(employer, reference)
                for reference in [f"seed-2025Q1-{n:02d}" for n in range(1, 32)]
                + ["seed-2025Q1-demo"]
                for employer in READ_AS
            ]
            events = unit.events.last_sequence()
    finally:
        db.dispose()
    stored = [d for d in stored if d is not None]
    assert len(stored) == 32
    assert {d.status for d in stored} == {Status.ACCEPTED} and not any(d.late for d in stored)

    # The dispatcher integrates every seeded worker in the router's directory.
    workers = {p.worker_insz for p in periods}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(onss_entries(mesh, w) for w in workers):
        time.sleep(0.1)
    assert all(onss_entries(mesh, w) for w in workers)

    first_log = caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert run_seed(mesh) == 0
    assert "32 of 32 Dimona periods accepted (0 new, 32 already declared)" in caplog.text
    assert sorted(p.period_id for p in list_periods(mesh)) == sorted(p.period_id for p in periods)
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            assert unit.events.last_sequence() == events
    finally:
        db.dispose()
    assert not any(w in first_log or w in caplog.text for w in workers)  # no INSZ logged


def test_extra_workers_are_declared_through_the_router_once_when_seeded_with_workers(
    mesh: Mesh, caplog: pytest.LogCaptureFixture
) -> None:
    """`--workers N` (2025Q2, after the quarter above): the roster and N more workers, every one
    checked through the router, accepted on time; run again, nothing added; too many for the
    population is refused before anything is written (exit 1), a negative number is a usage
    error (exit 2)."""
    assert run_seed(mesh) == 0  # 2025Q1, as above (answered again when it ran)
    args = ["--year", "2025", "--quarter", "2", "--population", str(mesh.population)]
    people = seed.read_population(mesh.population)
    room = len(seed.extra_pool(*seed.pools(people))) // seed.EXTRA_SLOTS
    assert room == 21  # the 490 living persons of the test's register
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            before = unit.events.last_sequence()
    finally:
        db.dispose()
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert seed.run(mesh.settings, [*args, "--workers", str(room + 1)]) == 1
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            assert unit.events.last_sequence() == before  # nothing written
    finally:
        db.dispose()
    with pytest.raises(SystemExit) as usage:
        seed.run(mesh.settings, [*args, "--workers", "-1"])
    assert usage.value.code == 2

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert seed.run(mesh.settings, [*args, "--workers", str(room)]) == 0
    # The roster's 31, the extra workers and the sickness demonstration (kept from 2025Q1).
    total = 31 + room + 1
    assert f"{total} of {total} Dimona periods accepted ({total - 1} new, 1 already" in caplog.text
    extras = [p for p in seed.plan(2025, 2, people, room) if "-w" in p.reference]
    listed = {(p.worker_insz, p.employer): p for p in list_periods(mesh)}
    for p in extras:
        period = listed[(p.worker, p.employer)]
        assert period.state == dimona_pb2.PERIOD_STATE_ACTIVE and not period.late
        assert _date(period.start_date) == p.draft.start_date
        assert _date(period.end_date) == dt.date(2025, 6, 30)
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            events = unit.events.last_sequence()
            declarations = [unit.declarations.get(p.employer, p.reference) for p in extras]
    finally:
        db.dispose()
    assert all(d is not None and d.status is Status.ACCEPTED and not d.late for d in declarations)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert seed.run(mesh.settings, [*args, "--workers", str(room)]) == 0
    assert f"{total} of {total} Dimona periods accepted (0 new, {total} already" in caplog.text
    db = Database(mesh.dimona_db)
    try:
        with unit_factory(db, write=False)() as unit:
            assert unit.events.last_sequence() == events
    finally:
        db.dispose()
    assert not any(p.worker in caplog.text for p in extras)  # no INSZ logged
