"""The research data warehouse on the real mesh (conftest.py): quarters built through the TTP and
the router from seeded DIMONA, DmfA and register data; no INSZ in the warehouse's database, its
exports or the logs of the build; the recovery attack on the published tables as exported; a
coded person's trajectory across two quarters; codes per unlinkable project; every refusal."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from cbss.dimona.v1 import research_pb2 as dimona_research
from cbss.dimona.v1 import research_pb2_grpc as dimona_research_grpc
from cbss.registry.v1 import research_pb2 as registry_research
from cbss.registry.v1 import research_pb2_grpc as registry_research_grpc
from cbss.ttp.v1 import ttp_pb2, ttp_pb2_grpc
from cbss.warehouse.v1 import warehouse_pb2, warehouse_pb2_grpc
from runtime import identity
from runtime.client import failure
from runtime.db import Database
from tests.integration.warehouse.conftest import HIRED, Mesh
from tests.support.attack import Row, attack
from tests.support.insz_scan import inszs_in
from warehouse.service.model import Quarter
from warehouse.storage.models import Base as WarehouseBase
from warehouse.storage.repository import SqlWarehouseStore

pytestmark = pytest.mark.integration

PROJECTS = ("hiva-careers", "hiva-wage-gap", "dwh-standard")
RESEARCH = {"cbss-legal-context": "research.labour-market"}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")


def _build(mesh: Mesh, project: str, year: int, quarter: int) -> warehouse_pb2.QuarterBuild:
    with mesh.channel("admin-ops", mesh.warehouse) as channel:
        stub = warehouse_pb2_grpc.WarehouseAdminServiceStub(channel)
        request = warehouse_pb2.BuildQuarterRequest(project=project, year=year, quarter=quarter)
        return stub.BuildQuarter(request, timeout=120).build


def _export(
    mesh: Mesh, party: str, project: str, quarters: list[str], fmt: int
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with mesh.channel(party, mesh.warehouse) as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        request = warehouse_pb2.ExportProjectRequest(project=project, quarters=quarters, format=fmt)
        for chunk in stub.ExportProject(request, timeout=60):
            files[chunk.file] = files.get(chunk.file, b"") + chunk.data
            if chunk.last:
                assert hashlib.sha256(files[chunk.file]).hexdigest() == chunk.sha256
            assert chunk.export.startswith(f"projects/{project}/exports/")
    return files


def _code(mesh: Mesh, key_name: str, insz: str) -> str:
    key = (mesh.key_dir / f"{key_name}.key").read_bytes()
    return base64.b32encode(hmac.new(key, insz.encode(), hashlib.sha256).digest()[:20]).decode()


@dataclass
class Built:
    builds: dict[tuple[str, str], warehouse_pb2.QuarterBuild]
    log: list[str]

    def __getitem__(self, key: tuple[str, str]) -> warehouse_pb2.QuarterBuild:
        return self.builds[key]


@pytest.fixture(scope="module")
def built(mesh: Mesh) -> Iterator[Built]:
    """Every project's two quarters, built with every log line of the mesh captured."""
    capture = _Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        builds = {
            (project, f"{year}Q{quarter}"): _build(mesh, project, year, quarter)
            for project in PROJECTS
            for year, quarter in ((2025, 1), (2025, 2))
        }
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    yield Built(builds, capture.lines)


def _positions(files: dict[str, bytes]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files["positions.csv"].decode())))


def test_a_quarter_is_built_from_three_coded_extractions_each_logged_once_by_the_router(
    mesh: Mesh, built: Built
) -> None:
    build = built[("hiva-careers", "2025Q2")]
    assert build.name == "projects/hiva-careers/quarters/2025Q2"
    assert [e.source for e in build.extractions] == [
        ttp_pb2.SOURCE_REGISTRY_DEMOGRAPHICS,
        ttp_pb2.SOURCE_DIMONA_PERIODS,
        ttp_pb2.SOURCE_DMFA_WORKER_QUARTERS,
    ]
    assert all(e.records > 0 and e.router_ticket for e in build.extractions)
    assert len({e.key_id for e in build.extractions}) == 1
    # The register's whole living population is coded; the seeded and hired workers in work.
    assert build.persons >= len(mesh.population) and HIRED < build.in_work < HIRED + 60
    assert build.primary_suppressed > 0
    db = Database(mesh.router_db)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT ticket, requester, legal_context, subject, outcome FROM message_log"
                    " WHERE service LIKE '%Research%'"
                )
            ).all()
    finally:
        db.dispose()
    by_ticket: dict[str, list] = {}
    for row in rows:
        by_ticket.setdefault(row.ticket, []).append(row)
    tickets = [e.router_ticket for b in built.builds.values() for e in b.extractions]
    assert len(tickets) == 3 * 6
    for ticket in tickets:
        (row,) = by_ticket[ticket]  # one row per extraction, never one per person
        assert row.requester == "spiffe://carrefour.local/institution/cbss-ttp"
        assert (row.legal_context, row.subject, row.outcome) == (
            "research.labour-market",
            "",
            "FORWARDED",
        )


def test_no_insz_is_in_the_warehouse_database_its_exports_or_the_build_logs(
    mesh: Mesh, built: Built
) -> None:
    # The scanner finds national numbers where there are some.
    assert inszs_in(" ".join(mesh.population[:20])) == mesh.population[:20]
    texts: list[str] = []
    db = Database(mesh.warehouse_db)
    try:
        with db.engine.connect() as conn:
            for table in WarehouseBase.metadata.sorted_tables:
                rows = conn.execute(sa.select(table)).all()
                assert rows or table.name in ("export_log",), table.name
                texts += [json.dumps(list(r), default=str) for r in rows]
    finally:
        db.dispose()
    assert len(texts) > 1000
    for project in ("hiva-careers", "hiva-wage-gap"):
        for fmt in (warehouse_pb2.EXPORT_FORMAT_CSV, warehouse_pb2.EXPORT_FORMAT_PARQUET):
            files = _export(mesh, "institution-hiva", project, [], fmt)
            for name, body in files.items():
                if name.endswith(".parquet"):
                    texts.append(json.dumps(pq.read_table(io.BytesIO(body)).to_pylist()))
                else:
                    texts.append(body.decode("utf-8"))
    everything = "\n".join(texts)
    assert inszs_in(everything) == []
    assert not set(mesh.population) & set(everything.split())
    log = "\n".join(built.log)
    assert "coded extraction" in log and "built" in log  # the capture saw the build
    assert inszs_in(log) == []
    # The TTP's keys: files of its own, never in the warehouse's database or exports.
    keys = sorted(p.name for p in mesh.key_dir.iterdir())
    assert keys == ["common.key", "project-hiva-wage-gap.key"]
    for path in mesh.key_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        key = path.read_bytes()
        for form in (key.hex(), base64.b64encode(key).decode(), base64.b32encode(key).decode()):
            assert form not in everything


def test_no_suppressed_cell_can_be_recomputed_from_the_published_tables_when_exported(
    mesh: Mesh, built: Built
) -> None:
    files = _export(
        mesh, "institution-hiva", "dwh-standard", ["2025Q2"], warehouse_pb2.EXPORT_FORMAT_CSV
    )
    assert "positions.csv" not in files  # the standard tables' grant is without micro-data
    dictionary = json.loads(files["dictionary.json"])
    dimensions = {t["id"]: t["dimensions"] for t in dictionary["tables"]}
    threshold = dictionary["disclosure_control"]["threshold"]
    percent = dictionary["disclosure_control"]["dominance_percent"]
    rows = []
    for r in csv.DictReader(io.StringIO(files["tables.csv"].decode())):
        suppressed = r["suppressed"] == "true"
        rows.append(
            Row(
                r["table"],
                {d: r[d] for d in dimensions[r["table"]]},
                None if suppressed else int(r["persons"]),
                None if suppressed else int(r["pay_cents"]),
                suppressed,
            )
        )
    assert threshold == 5  # the default
    assert sum(r.suppressed for r in rows) > 0 and sum(not r.suppressed for r in rows) > 0
    (total,) = [r for r in rows if r.table == "total"]
    assert total.persons == built[("dwh-standard", "2025Q2")].in_work
    intervals = attack(rows, dimensions)
    assert len(intervals) == sum(r.suppressed for r in rows)
    for interval in intervals:
        assert interval.persons_width >= threshold - 1e-6, interval
    # The pay: nobody's pay in a suppressed cell is pinned within p % either (the attack's
    # interval is at least p % of the cell's true pay, held by the warehouse).
    truth = {}
    with mesh.channel("institution-onem", mesh.warehouse) as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        for table in dimensions:
            name = f"projects/dwh-standard/quarters/2025Q2/tables/{table}"
            got = stub.GetTable(warehouse_pb2.GetTableRequest(name=name), timeout=10).table
            assert got.suppressed_count == sum(c.suppressed for c in got.cells)
            for cell in got.cells:
                # Served like the export: a suppressed cell carries no value.
                assert cell.HasField("persons") != cell.suppressed
                truth[(table, tuple(cell.categories))] = cell
    db = Database(mesh.warehouse_db)
    try:
        store = SqlWarehouseStore(db)
        pays = {
            (c.table, c.key): c.pay
            for table in dimensions
            for c in store.cells("dwh-standard", Quarter(2025, 2), table)
        }
    finally:
        db.dispose()
    for interval in intervals:
        key = (interval.table, tuple(dict(interval.categories)[d]
                                     for d in dimensions[interval.table]))  # fmt: skip
        assert key in truth
        assert interval.pay_width >= pays[key] * percent / 100 - 1e-6, interval


def _dimona_periods(mesh: Mesh) -> list:
    db = Database(mesh.dimona_db)
    try:
        with db.engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT worker, employer, worker_type, start_date, end_date FROM period"
                    " WHERE state = 'ACTIVE'"
                )
            ).all()
    finally:
        db.dispose()


def _day(value: object) -> dt.date | None:
    return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(value)


def test_a_coded_person_keeps_one_code_and_a_trajectory_across_quarters(
    mesh: Mesh, built: Built
) -> None:
    periods = _dimona_periods(mesh)
    q1_last, q2_last = dt.date(2025, 3, 31), dt.date(2025, 6, 30)
    # A worker in an open-ended ordinary job since the first quarter, alone at one employer
    # (the last by number: the DmfA's seed leaves the retailer's first worker out on purpose).
    workers = {}
    for p in periods:
        workers.setdefault(p.worker, []).append(p)
    steady = next(
        w
        for w, ps in sorted(workers.items(), reverse=True)
        if len(ps) == 1
        and ps[0].worker_type == "OTH"
        and _day(ps[0].end_date) is None
        and _day(ps[0].start_date) <= q1_last
    )
    # A student of the first quarter only.
    student = next(
        w
        for w, ps in sorted(workers.items())
        if all(p.worker_type == "STU" and _day(p.end_date) < q2_last - dt.timedelta(days=91)
               for p in ps)
    )  # fmt: skip
    files = _export(
        mesh, "institution-hiva", "hiva-careers", ["2025Q1", "2025Q2"],
        warehouse_pb2.EXPORT_FORMAT_CSV,
    )  # fmt: skip
    positions = _positions(files)
    code = _code(mesh, "common", steady)
    trajectory = {r["quarter"]: r for r in positions if r["person"] == code}
    assert set(trajectory) == {"2025Q1", "2025Q2"}
    assert {r["position"] for r in trajectory.values()} == {"EMPLOYED"}
    assert trajectory["2025Q1"]["joint_committee"] == trajectory["2025Q2"]["joint_committee"]
    assert int(trajectory["2025Q2"]["pay_cents"]) > 0  # declared in the DmfA
    studied = {r["quarter"]: r for r in positions if r["person"] == _code(mesh, "common", student)}
    assert studied["2025Q1"]["position"] in ("STUDENT", "NOT_IN_EMPLOYMENT")
    assert studied["2025Q2"]["position"] == "NOT_IN_EMPLOYMENT"
    assert int(studied["2025Q2"]["pay_cents"]) == 0


def test_codes_differ_per_unlinkable_project_and_match_across_quarters_within_one(
    mesh: Mesh, built: Built
) -> None:
    csv_format = warehouse_pb2.EXPORT_FORMAT_CSV
    careers = _positions(_export(mesh, "institution-hiva", "hiva-careers", [], csv_format))
    gap = _positions(_export(mesh, "institution-hiva", "hiva-wage-gap", [], csv_format))
    careers_codes = {r["person"] for r in careers}
    gap_codes = {r["person"] for r in gap}
    assert len(gap_codes) == len(careers_codes) >= len(mesh.population)
    assert not careers_codes & gap_codes  # unlinkable: no code in common
    for insz in mesh.population[:50]:
        mine = _code(mesh, "project-hiva-wage-gap", insz)
        assert mine in gap_codes and mine != _code(mesh, "common", insz)
        assert {r["quarter"] for r in gap if r["person"] == mine} == {"2025Q1", "2025Q2"}
    # The linkable projects share the TTP's common key: the same codes.
    standard_keys = {e.key_id for e in built[("dwh-standard", "2025Q1")].extractions}
    careers_keys = {e.key_id for e in built[("hiva-careers", "2025Q2")].extractions}
    gap_keys = {e.key_id for e in built[("hiva-wage-gap", "2025Q2")].extractions}
    assert standard_keys == careers_keys != gap_keys


def _refusal(call) -> tuple[grpc.StatusCode, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as err:
        result = call()
        if hasattr(result, "__iter__") and not hasattr(result, "SerializeToString"):
            list(result)
    info = failure(err.value)
    return info.code, info.reason


def test_extractions_are_refused_without_the_research_authorisation(mesh: Mesh) -> None:
    request = dimona_research.ExtractQuarterPeriodsRequest(year=2025, quarter=2)
    # An institution without the grant, through the router.
    with mesh.channel("institution-onem", mesh.router) as channel:
        stub = dimona_research_grpc.DimonaResearchServiceStub(channel)
        got = _refusal(
            lambda: stub.ExtractQuarterPeriods(request, metadata=list(RESEARCH.items()), timeout=10)
        )
    assert got == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")
    # The TTP itself under another legal context.
    with mesh.channel("ttp", mesh.router) as channel:
        stub = dimona_research_grpc.DimonaResearchServiceStub(channel)
        code, reason = _refusal(
            lambda: stub.ExtractQuarterPeriods(
                request, metadata=[("cbss-legal-context", "unemployment.control")], timeout=10
            )
        )
    assert code is grpc.StatusCode.PERMISSION_DENIED and reason
    # Directly to the holder, even as the TTP.
    with mesh.channel("ttp", mesh.dimona) as channel:
        stub = dimona_research_grpc.DimonaResearchServiceStub(channel)
        got = _refusal(lambda: stub.ExtractQuarterPeriods(request, timeout=10))
    assert got == (grpc.StatusCode.PERMISSION_DENIED, "DIRECT_ACCESS_FORBIDDEN")
    # A router forwarding another requester: the holder checks it itself.
    headers = [
        (identity.REQUESTER_HEADER, "spiffe://carrefour.local/institution/onem"),
        (identity.LEGAL_CONTEXT_HEADER, "research.labour-market"),
        (identity.TICKET_HEADER, str(uuid.uuid4())),
        (identity.CAPACITY_HEADER, "none"),
    ]
    with mesh.channel("router", mesh.registry) as channel:
        stub = registry_research_grpc.RegistryResearchServiceStub(channel)
        day = registry_research.ExtractDemographicsRequest()
        day.day.year, day.day.month, day.day.day = 2025, 6, 30
        got = _refusal(lambda: stub.ExtractDemographics(day, metadata=headers, timeout=10))
    assert got == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")
    # The TTP answers the warehouse only.
    with mesh.channel("institution-onem", mesh.ttp) as channel:
        stub = ttp_pb2_grpc.TtpServiceStub(channel)
        ask = ttp_pb2.CodeExtractionRequest(
            project="hiva-careers", source=ttp_pb2.SOURCE_DIMONA_PERIODS, year=2025, quarter=2
        )
        got = _refusal(lambda: stub.CodeExtraction(ask, timeout=10))
    assert got == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")


def test_the_warehouse_refuses_exports_builds_and_reads_to_whoever_lacks_the_right(
    mesh: Mesh, built: Built
) -> None:
    with mesh.channel("institution-onem", mesh.warehouse) as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        export = warehouse_pb2.ExportProjectRequest(
            project="hiva-careers", format=warehouse_pb2.EXPORT_FORMAT_CSV
        )
        assert _refusal(lambda: stub.ExportProject(export, timeout=10)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NO_PROJECT_GRANT",
        )
        name = "projects/hiva-careers/quarters/2025Q2/tables/region"
        assert _refusal(
            lambda: stub.GetTable(warehouse_pb2.GetTableRequest(name=name), timeout=10)
        ) == (grpc.StatusCode.PERMISSION_DENIED, "NO_PROJECT_GRANT")
        bad = warehouse_pb2.ExportProjectRequest(project="hiva-careers")
        with mesh.channel("institution-hiva", mesh.warehouse) as hiva:
            stub_hiva = warehouse_pb2_grpc.WarehouseServiceStub(hiva)
            assert _refusal(lambda: stub_hiva.ExportProject(bad, timeout=10)) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "INVALID_FORMAT",
            )
        tables = stub.ListTables(
            warehouse_pb2.ListTablesRequest(parent="projects/dwh-standard"), timeout=10
        )
        assert len(tables.tables) == 12 and not tables.next_page_token
    with mesh.channel("institution-hiva", mesh.warehouse) as channel:
        admin = warehouse_pb2_grpc.WarehouseAdminServiceStub(channel)
        request = warehouse_pb2.BuildQuarterRequest(project="hiva-careers", year=2025, quarter=2)
        assert _refusal(lambda: admin.BuildQuarter(request, timeout=10)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_AUTHORISED",
        )
    with mesh.channel("admin-ops", mesh.warehouse) as channel:
        admin = warehouse_pb2_grpc.WarehouseAdminServiceStub(channel)
        for project, year, quarter, code, reason in (
            ("nobody", 2025, 2, grpc.StatusCode.NOT_FOUND, "UNKNOWN_PROJECT"),
            ("hiva-careers", 2025, 7, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_QUARTER"),
            ("Bad!", 2025, 2, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PROJECT"),
        ):
            request = warehouse_pb2.BuildQuarterRequest(project=project, year=year, quarter=quarter)
            assert _refusal(lambda r=request: admin.BuildQuarter(r, timeout=10)) == (code, reason)
