"""`make run`'s supervisor specs without starting anything: ports from a base, placeholders, and
each instance of one program with its own database, certificate and peers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runtime.supervise import MESH, Supervisor, port_base, ports, seeded_quarter


def test_ports_move_together_when_a_base_is_given() -> None:
    assert ports().items() >= {
        "echo": 50050, "registry": 50051, "router": 50052,
        "hub-cin": 50053, "mut-100": 50054, "mut-200": 50055, "dimona": 50056,
    }.items()  # fmt: skip
    assert ports(51050)["mut-200"] == 51055
    assert ports(51050)["inbox-onem"] == 51060 and ports()["inbox-ethias"] == 50064
    assert port_base({}) == 50050 and port_base({"CARREFOUR_PORT_BASE": "51050"}) == 51050
    with pytest.raises(SystemExit):
        port_base({"CARREFOUR_PORT_BASE": "80"})


def test_an_instance_runs_its_program_with_its_own_database_and_certificate_when_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PKI_DIR", raising=False)
    supervisor = Supervisor(list(MESH.values()), tmp_path, 51050)
    hub = supervisor._env(MESH["hub-cin"])
    assert MESH["hub-cin"].program == "router"
    assert hub["DATABASE_URL"] == f"sqlite:///{tmp_path}/db/hub-cin.sqlite3"
    assert hub["TLS_CERT_FILE"] == str(tmp_path / "pki" / "hub-cin.pem")
    assert (hub["GRPC_PORT"], hub["ROUTER_NAME"], hub["UPSTREAM_ROUTER_ADDR"]) == (
        "51053", "cin", "localhost:51052",
    )  # fmt: skip
    mut = supervisor._env(MESH["mut-100"])
    assert (mut["MUTUALITY_ID"], mut["DATABASE_URL"]) == (
        "mut-100",
        f"sqlite:///{tmp_path}/db/mut-100.sqlite3",
    )
    inbox = supervisor._env(MESH["inbox-mut-100"])
    assert (inbox["INBOX_INSTITUTION"], inbox["GRPC_PORT"], inbox["DATABASE_URL"]) == (
        "mut-100", "51061", f"sqlite:///{tmp_path}/db/inbox-mut-100.sqlite3",
    )  # fmt: skip
    assert inbox["TLS_CERT_FILE"] == str(tmp_path / "pki" / "institution-mut-100.pem")
    primary = supervisor._env(MESH["router"])
    assert "DATABASE_URL" not in primary or primary["DATABASE_URL"] != hub["DATABASE_URL"]
    assert supervisor.fill("localhost:{hub-cin} {var}/seed") == f"localhost:51053 {tmp_path}/seed"


def test_dimona_declares_a_quarter_after_its_register_when_prepared(tmp_path: Path) -> None:
    prepare = MESH["dimona"].prepare
    assert [step[0] for step in prepare] == ["migrate", "seed", "seed-periods"]
    supervisor = Supervisor(list(MESH.values()), tmp_path, 51050)
    # The registry's prepare exports the population; the router serves before DIMONA prepares.
    exported = next(s for s in MESH["registry"].prepare if s[0] == "export-population")
    seed_periods = prepare[-1]
    population = seed_periods[seed_periods.index("--population") + 1]
    assert supervisor.fill(population) == supervisor.fill(exported[-1])
    # Enough ordinary workers for the warehouse's tables to publish cells above the threshold.
    assert int(seed_periods[seed_periods.index("--workers") + 1]) >= 300
    order = list(MESH)
    assert order.index("registry") < order.index("router") < order.index("dimona")


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2026, 11, 28), "2026Q3"),
        (dt.date(2026, 1, 1), "2025Q4"),
        (dt.date(2026, 4, 1), "2026Q1"),
        (dt.date(2026, 3, 31), "2025Q4"),
    ],
)
def test_seeded_quarter_is_the_one_before_today(today: dt.date, quarter: str) -> None:
    assert seeded_quarter(today) == quarter


def test_warehouse_builds_the_seeded_quarter_once_its_sources_serve(tmp_path: Path) -> None:
    spec = MESH["warehouse"]
    (build,) = spec.then
    filled = [Supervisor([spec], tmp_path).fill(arg) for arg in build]
    assert filled[0] == "warehouse.cli" and "build" in filled
    assert filled[filled.index("--quarter") + 1] == seeded_quarter()
    order = list(MESH)
    for source in ("registry", "router", "dimona", "dmfa", "ttp"):
        assert order.index(source) < order.index("warehouse"), source
