"""The warehouse's storage and rules on SQLite and on PostgreSQL (TEST_DATABASE_URL): the
migration matches the models; a quarter built from a TTP (a fake serving synthetic coded records)
is stored whole, read back, re-aggregated; the published tables exported as CSV and Parquet
withstand the recovery attack (tests.support.attack, on the files as a research centre gets them);
exports are authorised and logged; a changed key is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest

from runtime.clock import FixedClock
from runtime.db import Database
from runtime.errors import FailedPrecondition, NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind
from tests.support.attack import Row, attack
from tests.support.databases import migration_drift
from warehouse.seed import seed_projects
from warehouse.service.builds import WarehouseBuilds
from warehouse.service.exports import WarehouseExports
from warehouse.service.model import Extraction, Quarter, Source
from warehouse.service.ports import CodedRecord
from warehouse.service.reads import WarehouseReads
from warehouse.storage import MIGRATIONS
from warehouse.storage.repository import SqlWarehouseStore
from warehouse.synthetic import population, quarter_records

pytestmark = pytest.mark.storage

OPS = Caller(PartyKind.ADMIN, "ops")
HIVA = Caller(PartyKind.INSTITUTION, "hiva")
ONEM = Caller(PartyKind.INSTITUTION, "onem")
Q1, Q2 = Quarter(2025, 1), Quarter(2025, 2)
NOW = dt.datetime(2025, 7, 20, 8, 0, tzinfo=dt.UTC)
SMALL, LARGE = population(300, seed=3), population(1500, seed=3)


class FakeTtp:
    """Serves synthetic coded quarters, as the TTP would (one key unless told otherwise)."""

    def __init__(self, people: list = SMALL) -> None:  # noqa: B006 - never mutated
        self.people = people
        self.key_id = "a1b2c3d4e5f60718"
        self.calls: list[tuple[str, Source, Quarter]] = []

    def extract(
        self, project: str, source: Source, quarter: Quarter
    ) -> tuple[list[CodedRecord], Extraction]:
        self.calls.append((project, source, quarter))
        records = quarter_records(quarter, self.people, seed=3)
        found = {
            Source.REGISTRY_DEMOGRAPHICS: records.persons,
            Source.DIMONA_PERIODS: records.periods,
            Source.DMFA_WORKER_QUARTERS: records.workers,
        }[source]
        return list(found), Extraction(source, len(found), f"ticket-{source.value}", self.key_id)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    database.migrate(MIGRATIONS)  # idempotent
    assert seed_projects(database) == 3
    assert seed_projects(database) == 0
    yield database
    database.dispose()


def test_the_migrations_match_the_models_when_applied(database_url: str) -> None:
    from warehouse.storage.models import Base

    assert migration_drift(database_url, MIGRATIONS, Base.metadata) == []


def _export_files(exports: WarehouseExports, caller: Caller, project: str, *quarters: str,
                  file_format: str = "CSV") -> dict[str, bytes]:  # fmt: skip
    export = exports.export(caller, project, list(quarters), file_format)
    return {f.name: f.content for f in export.files}


def _rows(table_rows: list[dict], quarter: str, dimensions: dict[str, list[str]]) -> list[Row]:
    out = []
    for r in table_rows:
        if r["quarter"] != quarter:
            continue
        suppressed = r["suppressed"] in (True, "true")
        out.append(
            Row(
                r["table"],
                {d: r[d] for d in dimensions[r["table"]]},
                None if suppressed else int(r["persons"]),
                None if suppressed else int(r["pay_cents"]),
                suppressed,
            )
        )
    return out


def test_a_built_quarter_is_stored_whole_and_its_published_tables_withstand_the_attack(
    db: Database,
) -> None:
    store = SqlWarehouseStore(db)
    ttp = FakeTtp(LARGE)
    builds = WarehouseBuilds(store, ttp, FixedClock(NOW), threshold=5, dominance_percent=10)
    build = builds.build_quarter(OPS, "hiva-careers", 2025, 2)
    assert [s for _, s, _ in ttp.calls] == list(Source)
    assert build.name == "projects/hiva-careers/quarters/2025Q2"
    assert build.persons == 1500 and 0 < build.in_work < 1500
    assert build.primary_suppressed > 0
    # Every extraction is in the log, with the router's ticket and the key's id.
    logged = store.extractions("hiva-careers")
    assert [(q, e.source, e.router_ticket) for q, e, _ in logged] == [
        (Q2, s, f"ticket-{s.value}") for s in Source
    ]
    records = store.quarter_records("hiva-careers", Q2)
    assert len(records.persons) == 1500
    assert [b.quarter for b in store.builds("hiva-careers")] == [Q2]
    # Rebuilding from the stored records gives the same tables.
    before = {(c.table, c.key, c.status) for c in store.cells("hiva-careers", Q2, "region")}
    builds.aggregate("hiva-careers", Q2)
    assert {(c.table, c.key, c.status) for c in store.cells("hiva-careers", Q2, "region")} == before

    exports = WarehouseExports(store, FixedClock(NOW))
    files = _export_files(exports, HIVA, "hiva-careers", "2025Q2")
    assert set(files) == {"tables.csv", "positions.csv", "dictionary.json", "dictionary.md"}
    dictionary = json.loads(files["dictionary.json"])
    dimensions = {t["id"]: t["dimensions"] for t in dictionary["tables"]}
    assert dictionary["disclosure_control"]["threshold"] == 5
    rows = list(csv.DictReader(io.StringIO(files["tables.csv"].decode())))
    published = _rows(rows, "2025Q2", dimensions)
    assert any(r.suppressed for r in published) and any(not r.suppressed for r in published)
    # What the attacker gets is what the warehouse holds: published values are the true ones.
    truth = {(c.table, c.key): c for t in dimensions for c in store.cells("hiva-careers", Q2, t)}
    for r in published:
        cell = truth[(r.table, tuple(r.categories[d] for d in dimensions[r.table]))]
        assert cell.suppressed == r.suppressed
        if not r.suppressed:
            assert (r.persons, r.pay) == (cell.persons, cell.pay)
    intervals = attack(published, dimensions)
    assert len(intervals) == sum(r.suppressed for r in published)
    for interval in intervals:
        cell = truth[(interval.table, tuple(dict(interval.categories)[d]
                                            for d in dimensions[interval.table]))]  # fmt: skip
        assert interval.persons_width >= 5 - 1e-6, interval
        assert interval.pay_width >= cell.pay * 0.10 - 1e-6, interval
        assert interval.persons[0] - 1e-6 <= cell.persons <= interval.persons[1] + 1e-6

    # The same in Parquet, typed, and the positions of every coded person.
    parquet = _export_files(exports, HIVA, "hiva-careers", file_format="PARQUET")
    table = pq.read_table(io.BytesIO(parquet["tables.parquet"])).to_pylist()
    assert len(table) == len(rows)
    assert {r["suppressed"] for r in table} == {True, False}
    assert all(r["persons"] is None for r in table if r["suppressed"])
    positions = pq.read_table(io.BytesIO(parquet["positions.parquet"])).to_pylist()
    assert len(positions) == 1500 and positions[0]["quarter"] == "2025Q2"
    logged_exports = store.exports("hiva-careers")
    assert [e["format"] for e in logged_exports] == ["CSV", "PARQUET"]
    assert logged_exports[0]["requester"] == "spiffe://carrefour.local/institution/hiva"
    assert [f[0] for f in logged_exports[0]["files"]] == ["tables.csv", "positions.csv"]


def test_exports_are_refused_without_a_grant_and_carry_no_micro_data_without_one(
    db: Database,
) -> None:
    store = SqlWarehouseStore(db)
    WarehouseBuilds(store, FakeTtp(), FixedClock(NOW)).build_quarter(OPS, "dwh-standard", 2025, 2)
    exports = WarehouseExports(store, FixedClock(NOW))
    for caller, project in ((ONEM, "dwh-standard"), (OPS, "dwh-standard"), (ONEM, "nobody")):
        with pytest.raises(PermissionDenied) as err:
            exports.export(caller, project, [], "CSV")
        assert err.value.reason == "NO_PROJECT_GRANT"
    # HIVA's grant for the standard tables is without micro-data: tables only.
    files = _export_files(exports, HIVA, "dwh-standard", "2025Q2")
    assert set(files) == {"tables.csv", "dictionary.json", "dictionary.md"}
    with pytest.raises(NotFound) as missing:
        exports.export(HIVA, "dwh-standard", ["2024Q4"], "CSV")
    assert missing.value.reason == "QUARTER_NOT_BUILT"
    assert [e["requester"] for e in store.exports("dwh-standard")] == [HIVA.uri]


def test_the_standard_tables_are_read_by_anyone_and_a_research_projects_only_by_its_grantees(
    db: Database,
) -> None:
    store = SqlWarehouseStore(db)
    builds = WarehouseBuilds(store, FakeTtp(), FixedClock(NOW))
    builds.build_quarter(OPS, "dwh-standard", 2025, 1)
    builds.build_quarter(OPS, "dwh-standard", 2025, 2)
    builds.build_quarter(OPS, "hiva-careers", 2025, 2)
    reads = WarehouseReads(store, FixedClock(NOW))
    views, token = reads.list_tables(ONEM, "projects/dwh-standard", 4, "")
    assert len(views) == 4 and token
    rest, last = reads.list_tables(ONEM, "projects/dwh-standard", 100, token)
    assert len(rest) == 8 and last == ""
    region = reads.get_table(ONEM, "projects/dwh-standard/quarters/2025Q2/tables/region")
    assert {c.key[0] for c in region.cells} <= {"BRUSSELS", "FLANDERS", "WALLONIA", "ABROAD"}
    with pytest.raises(PermissionDenied) as err:
        reads.get_table(ONEM, "projects/hiva-careers/quarters/2025Q2/tables/region")
    assert err.value.reason == "NO_PROJECT_GRANT"
    assert reads.get_table(HIVA, "projects/hiva-careers/quarters/2025Q2/tables/total").cells
    with pytest.raises(NotFound):
        reads.get_table(ONEM, "projects/dwh-standard/quarters/2024Q1/tables/region")


def test_a_quarter_coded_with_another_key_is_refused_and_nothing_is_replaced(
    db: Database,
) -> None:
    store = SqlWarehouseStore(db)
    ttp = FakeTtp()
    builds = WarehouseBuilds(store, ttp, FixedClock(NOW))
    builds.build_quarter(OPS, "hiva-careers", 2025, 1)
    ttp.key_id = "ffffffffffffffff"
    with pytest.raises(FailedPrecondition) as err:
        builds.build_quarter(OPS, "hiva-careers", 2025, 2)
    assert err.value.reason == "KEY_CHANGED"
    assert [b.quarter for b in store.builds("hiva-careers")] == [Q1]
    # The extractions received are logged all the same.
    assert len(store.extractions("hiva-careers")) == 6
    # An unlinkable project coded with the common key: the TTP and the warehouse disagree.
    ttp.key_id = "a1b2c3d4e5f60718"
    with pytest.raises(FailedPrecondition) as policy:
        builds.build_quarter(OPS, "hiva-wage-gap", 2025, 1)
    assert policy.value.reason == "KEY_POLICY_MISMATCH"


def test_only_operators_build_and_only_known_projects(db: Database) -> None:
    builds = WarehouseBuilds(SqlWarehouseStore(db), FakeTtp(), FixedClock(NOW))
    with pytest.raises(PermissionDenied):
        builds.build_quarter(HIVA, "hiva-careers", 2025, 2)
    with pytest.raises(NotFound) as err:
        builds.build_quarter(OPS, "nobody", 2025, 2)
    assert err.value.reason == "UNKNOWN_PROJECT"
