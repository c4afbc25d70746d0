"""`make run`: start the mesh on the embedded default, watch it, stop it gracefully.

Starts each named service as its own process (`python -m <module>`) on its fixed port with its
own SQLite database under var/db/<name>.sqlite3 and its log in var/log/<name>.log, after its
preparation steps (migrations, seed). One program may run as several named instances: the
mutualities' hub is the router program (`hub-cin`, ROUTER_NAME=cin, its own certificate and
database), and each demonstration mutuality is the `mutuality` program (`mut-100`, `mut-200`).
Waits until every health check is SERVING, prints the endpoints and commands to try, then
watches: a service that exits is reported and restarted (at most 3 times in a row). Ctrl-C (or
SIGTERM) stops every service with SIGTERM and waits for them to drain.

Ports are fixed so that CLIs find the services: 50050 (echo) to 50058 (drs), 50059 (the
mutation service), and the
institution inboxes on 50060 (ONEM) to 50064 (Ethias, a work-accident insurer).
`CARREFOUR_PORT_BASE` moves them all (e.g. 51050 for 51050..51055), to run a second mesh beside
another one; the try commands printed then name the moved ports. In the specs' prepare steps,
environment and try commands, `{<name>}` is the port of the named service and `{var}` the var
folder. `--migrate-only` runs each named service's `migrate` step and exits (`make migrate`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.client import party_tls, secure_channel


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service of the mesh on this machine."""

    name: str
    #: The port with the default base (50050); CARREFOUR_PORT_BASE shifts it.
    port: int
    prepare: tuple[tuple[str, ...], ...] = (("migrate",),)
    try_commands: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    #: The program run (`python -m <module>`); the name when empty. A spec whose name differs
    #: (an instance) gets var/db/<name>.sqlite3 as DATABASE_URL.
    module: str = ""
    #: The certificate it presents (PKI file stem); the program's default when empty.
    cert: str = ""
    #: Other ports it listens on, named (with the default base), e.g. the edge's portal.
    listeners: tuple[tuple[str, int], ...] = ()
    #: How it says it is ready: gRPC health over mTLS, or `https` (GET /healthz over mTLS).
    health: str = "grpc"
    #: Commands run once it is serving (`python -m <first> <rest...>`), e.g. a build that
    #: calls it; a failure stops the start like a failed prepare step.
    then: tuple[tuple[str, ...], ...] = ()

    @property
    def program(self) -> str:
        return self.module or self.name


DEFAULT_PORT_BASE = 50050
#: Each service's metrics port is its gRPC port + this.
METRICS_OFFSET = 1000


_PY = ".venv/bin/python"
_DIMONA_CLI = f"{_PY} -m dimona.cli --target localhost:{{dimona}} --router localhost:{{router}}"
_DMFA_CLI = (
    f"{_PY} -m dmfa.cli --target localhost:{{dmfa}} --dimona localhost:{{dimona}}"
    f" --router localhost:{{router}}"
)
_DRS_CLI = f"{_PY} -m drs.cli --target localhost:{{drs}} --router localhost:{{router}}"
_MUTUALITY_CLI = f"{_PY} -m mutuality.cli --router localhost:{{router}} --as institution-onem"

#: Institution inboxes in `make run`: (institution, port).
INBOXES = (
    ("onem", 50060),
    ("mut-100", 50061),
    ("mut-200", 50062),
    ("fedris", 50063),
    ("ethias", 50064),  # a work-accident insurer
)
_INBOX_CLI = f"{_PY} -m inbox.cli"
_INBOX_TRY = (
    f"{_INBOX_CLI} send --router localhost:{{router}} --kind unemployment.c4 85071412330"
    "   # -> ONEM's inbox",
    f"{_INBOX_CLI} send --router localhost:{{router}} --kind sickness.zima-001 03020100274"
    "   # -> directory: cin -> mut-200",
    f"{_INBOX_CLI} list --as institution-onem --target localhost:{{inbox-onem}}",
    f"{_INBOX_CLI} list --as institution-mut-200 --target localhost:{{inbox-mut-200}}",
)

#: The mesh on one machine, in start order. Ports are fixed so that CLIs find the services.
MESH: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "echo",
            50050,
            try_commands=(),
        ),
        ServiceSpec(
            "registry",
            50051,
            prepare=(
                ("migrate",),
                ("seed",),
                # The persons the demonstration mutualities choose their members from.
                ("export-population", "--out", "{var}/seed/population.txt"),
            ),
            try_commands=(
                f"{_PY} -m registry.cli --target localhost:{{registry}} validate 85.07.14-123.30",
            ),
        ),
        ServiceSpec(
            "router",
            50052,
            prepare=(
                ("migrate",),
                (
                    "seed",
                    "--role",
                    "primary",
                    "--registry-endpoint",
                    "localhost:{registry}",
                    "--hub-endpoint",
                    "localhost:{hub-cin}",
                    "--dimona-endpoint",
                    "localhost:{dimona}",
                    "--dmfa-endpoint",
                    "localhost:{dmfa}",
                    "--drs-endpoint",
                    "localhost:{drs}",
                    "--mutation-endpoint",
                    "localhost:{mutation}",
                    *("--inbox", "onem=localhost:{inbox-onem}"),
                    *("--inbox", "fedris=localhost:{inbox-fedris}"),
                    *("--inbox", "ethias=localhost:{inbox-ethias}"),
                ),
            ),
            env=(("REGISTRY_ADDR", "localhost:{registry}"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                f"{_PY} -m registry.cli --router localhost:{{router}} --as institution-onem"
                " --legal-context unemployment.control get 85071412330 --mask identity,address",
                f"{_PY} -m registry.cli --router localhost:{{router}} --as institution-famiwal"
                " --legal-context family-allowances.entitlement get 85071412330 --mask identity"
                "   # refused: not integrated",
                f"{_PY} -m router verify-log",
            ),
        ),
        # The mutualities' network: the college's hub (the router program as `router/cin`)
        # and two member mutualities behind it.
        ServiceSpec(
            "hub-cin",
            50053,
            module="router",
            cert="hub-cin",
            prepare=(
                ("migrate",),
                (
                    "seed",
                    "--role",
                    "hub",
                    "--member",
                    "mut-100=localhost:{mut-100}",
                    "--member",
                    "mut-200=localhost:{mut-200}",
                    *("--inbox", "mut-100=localhost:{inbox-mut-100}"),
                    *("--inbox", "mut-200=localhost:{inbox-mut-200}"),
                ),
            ),
            env=(
                ("ROUTER_NAME", "cin"),
                ("REGISTRY_ADDR", "localhost:{registry}"),
                ("UPSTREAM_ROUTER_ADDR", "localhost:{router}"),
                ("UPSTREAM_ROUTER_NAME", "cbss"),
            ),
            try_commands=(
                f"{_PY} -m router.cli --target localhost:{{hub-cin}} service list",
                f"DATABASE_URL=sqlite:///{{var}}/db/hub-cin.sqlite3 {_PY} -m router verify-log",
            ),
        ),
        ServiceSpec(
            "mut-100",
            50054,
            module="mutuality",
            prepare=(
                ("migrate",),
                ("seed", "--population", "{var}/seed/population.txt"),
                ("integrate", "--hub", "localhost:{hub-cin}"),
            ),
            env=(("MUTUALITY_ID", "mut-100"), ("HUB_ROUTER_ADDR", "localhost:{hub-cin}")),
        ),
        ServiceSpec(
            "mut-200",
            50055,
            module="mutuality",
            prepare=(
                ("migrate",),
                ("seed", "--population", "{var}/seed/population.txt"),
                ("integrate", "--hub", "localhost:{hub-cin}"),
            ),
            env=(("MUTUALITY_ID", "mut-200"), ("HUB_ROUTER_ADDR", "localhost:{hub-cin}")),
            try_commands=(
                f"{_MUTUALITY_CLI} get 85071412330   # primary -> hub cin -> mut-100",
                f"{_MUTUALITY_CLI} get 03020100274   # primary -> hub cin -> mut-200",
                f"{_MUTUALITY_CLI} get 06070500252   # refused: NO_HOLDER (nobody's member)",
            ),
        ),
        # DIMONA (the ONSS): employers declare; workers checked and integrated via the router.
        ServiceSpec(
            "dimona",
            50056,
            prepare=(
                ("migrate",),
                ("seed",),
                # The previous quarter's periods, declared through the rules (the router serves):
                # what the DmfA's prepare step reads and declares.
                # --workers: enough ordinary workers a quarter for the warehouse's standard tables
                # to publish cells above the small-cell threshold (issue 14).
                (
                    "seed-periods",
                    "--population",
                    "{var}/seed/population.txt",
                    "--workers",
                    "350",
                ),
            ),
            env=(("ROUTER_ADDR", "localhost:{router}"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                f"{_DIMONA_CLI} --as employer-000100006 in 85071412330"
                " --type OTH --jc 202 --start $(date -d tomorrow +%F)",
                f"{_DIMONA_CLI} --as employer-000100006 in 03020100274"
                " --type STU --jc 202 --start $(date -d tomorrow +%F) --end"
                " $(date -d 'tomorrow +6 days' +%F) --hours 700   # over quota: warning",
                f"{_DIMONA_CLI} --as institution-onem"
                " --legal-context unemployment.control worker-periods 85071412330",
            ),
        ),
        # The DmfA (the ONSS): a quarter of declarations submitted from DIMONA's periods, read
        # through the router (seed-quarter needs the router and DIMONA serving).
        ServiceSpec(
            "dmfa",
            50057,
            prepare=(("migrate",), ("seed",), ("seed-quarter",)),
            env=(("ROUTER_ADDR", "localhost:{router}"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                f"{_DMFA_CLI} --as employer-000100006 versions previous   # seeded: 1 warning",
                f"{_DMFA_CLI} --as employer-000100006 workers previous 1   # contributions",
                f"{_DMFA_CLI} --as employer-000100006 draft current > var/q.json"
                f" && {_DMFA_CLI} --as employer-000100006 submit var/q.json",
                f"{_DMFA_CLI} --as institution-onem --legal-context unemployment.control"
                " worker-quarter 85071412330 current   # after the DIMONA IN above",
            ),
        ),
        # The institution inboxes (services/inbox): one program, an instance per institution.
        *(
            ServiceSpec(
                f"inbox-{institution}",
                port,
                module="inbox",
                cert=f"institution-{institution}",
                env=(("INBOX_INSTITUTION", institution),),
                try_commands=_INBOX_TRY if institution == "ethias" else (),
            )
            for institution, port in INBOXES
        ),
        # The DRS (the ONSS): social-risk declarations pre-filled through the router, delivered as
        # attestations to the inboxes above (started last: its outbox finds them serving).
        ServiceSpec(
            "drs",
            50058,
            prepare=(("migrate",), ("seed",)),
            env=(("ROUTER_ADDR", "localhost:{router}"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                f"{_PY} -m drs.cli --as institution-mut-200 --router localhost:{{hub-cin}}"
                " --router-name cin --employer 000935467 request 03020100274"
                " --risk-date $(date -d '2 days ago' +%F)   # mut-200 -> hub -> primary -> DRS",
                f"{_DRS_CLI} --as employer-000935467 tasks",
                f"{_DRS_CLI} --as employer-000935467 prefill 03020100274 --scenario incapacity"
                " --risk-date $(date -d '2 days ago' +%F)",
                f"{_DRS_CLI} --as employer-000935467 submit incapacity 03020100274"
                " --risk-date $(date -d '2 days ago' +%F)"
                " --last-day-worked $(date -d '3 days ago' +%F) --task <the task's name>",
            ),
        ),
        # The mutation service (the CBSS): the register's, DIMONA's and the DmfA's changes pushed
        # to the inboxes of the institutions holding the person (started after the inboxes).
        ServiceSpec(
            "mutation",
            50059,
            prepare=(("migrate",), ("seed",)),
            env=(
                ("ROUTER_ADDR", "localhost:{router}"),
                ("ROUTER_NAME", "cbss"),
                ("REGISTRY_ADDR", "localhost:{registry}"),
                ("DIMONA_ADDR", "localhost:{dimona}"),
                ("DMFA_ADDR", "localhost:{dmfa}"),
            ),
            try_commands=(
                f"{_PY} -m registry.cli --target localhost:{{registry}} --as institution-nr"
                " change-address 85071412330 --street 'Rue Neuve' --number 1 --postcode 1000"
                " --municipality Bruxelles",
                f"{_PY} -m inbox.cli list --target localhost:{{inbox-onem}} --as institution-onem"
                " --kind mutation.person.address-changed",
                f"{_PY} -m inbox.cli list --target localhost:{{inbox-mut-100}}"
                " --as institution-mut-100 --kind mutation.person.address-changed",
                f"{_PY} -m mutation.cli --target localhost:{{mutation}} lags",
            ),
        ),
        # The research data warehouse (#14): the trusted third party that codes every INSZ
        # (its keys in var/ttp/keys), then the warehouse, which builds the standard tables of
        # the seeded quarter (the one DIMONA's and the DmfA's seeds declared) once it serves.
        ServiceSpec(
            "ttp",
            50066,
            prepare=(),
            env=(("ROUTER_ADDR", "localhost:{router}"), ("ROUTER_NAME", "cbss")),
        ),
        ServiceSpec(
            "warehouse",
            50065,
            prepare=(("migrate",), ("seed",)),
            env=(("TTP_ADDR", "localhost:{ttp}"),),
            then=(
                (
                    "warehouse.cli",
                    "--pki",
                    "{var}/pki",
                    "--as",
                    "admin-ops",
                    "--target",
                    "localhost:{warehouse}",
                    "build",
                    "--project",
                    "dwh-standard",
                    "--quarter",
                    "{seeded-quarter}",
                ),
            ),  # fmt: skip
            try_commands=(
                f"{_PY} -m warehouse.cli --target localhost:{{warehouse}} chart"
                " --project dwh-standard --table region   # the seeded quarter's employment",
                f"{_PY} -m warehouse.cli --target localhost:{{warehouse}} tables"
                " --project dwh-standard",
            ),
        ),
        # The portal's pages and the development identity provider (services/portal), an HTTPS
        # process behind the edge's browser listener.
        ServiceSpec(
            "portal", 50047, prepare=(), health="https", env=(("PORTAL_PORT", "{portal}"),)
        ),
        # The edge (Envoy, services/edge): where institutions, employers and operators reach
        # Carrefour — consultations to the router, declarations to their owners, admin APIs for
        # admin identities only — and, on its browser listener, people at the portal. Started
        # last: its upstreams are serving.
        ServiceSpec(
            "edge",
            50049,
            prepare=(),
            listeners=(("edge-portal", 50048),),
            env=(
                ("ROUTER_ADDR", "localhost:{router}"),
                ("DIMONA_ADDR", "localhost:{dimona}"),
                ("DMFA_ADDR", "localhost:{dmfa}"),
                ("DRS_ADDR", "localhost:{drs}"),
                ("MUTATION_ADDR", "localhost:{mutation}"),
                ("PORTAL_ADDR", "localhost:{portal}"),
                ("WAREHOUSE_ADDR", "localhost:{warehouse}"),
                ("EDGE_PORTAL_PORT", "{edge-portal}"),
            ),
            try_commands=(
                "make demo   # a worker's story, through the edge, narrated",
                f"{_PY} -m mutuality.cli --router localhost:{{edge}} --as institution-onem"
                " get 85071412330   # through the edge: Envoy -> router -> hub -> mut-100",
                f"{_PY} -m router.cli --target localhost:{{edge}} traffic --last 1h"
                "   # operators: the router's traffic per institution",
            ),
        ),
    )
}


def seeded_quarter(today: dt.date | None = None) -> str:
    """The quarter `make run`'s seeds declare (DIMONA's seed-periods, the DmfA's seed-quarter):
    the calendar quarter before today's in Brussels, as `2025Q3`."""
    day = today or dt.datetime.now(ZoneInfo("Europe/Brussels")).date()
    year, quarter = day.year, (day.month - 1) // 3 + 1
    year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return f"{year}Q{quarter}"


def port_base(environ: Mapping[str, str] | None = None) -> int:
    """CARREFOUR_PORT_BASE, or 50050."""
    raw = (os.environ if environ is None else environ).get("CARREFOUR_PORT_BASE", "")
    if not raw:
        return DEFAULT_PORT_BASE
    if not raw.isdigit() or not 1024 <= int(raw) <= 65000:
        raise SystemExit(f"CARREFOUR_PORT_BASE must be a port from 1024 to 65000, got {raw!r}")
    return int(raw)


def free_port_base() -> int:
    """A CARREFOUR_PORT_BASE whose every port (services and metrics) is free now: for a second
    mesh beside another one (tests, benches)."""
    every = ports(DEFAULT_PORT_BASE).values()
    low = min(every) - DEFAULT_PORT_BASE  # the edge and the portal: below the base
    span = max(every) - min(every)
    for _ in range(50):
        base = random.randrange(20000, 40000, 10)
        try:
            for port in [
                *range(base + low, base + low + span + 1),
                *range(base + low + METRICS_OFFSET, base + low + span + METRICS_OFFSET + 1),
            ]:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free port range")


def ports(base: int = DEFAULT_PORT_BASE) -> dict[str, int]:
    """Every service of MESH and its port with this base, and every other named listener."""
    named = {name: spec.port for name, spec in MESH.items()}
    named.update(listener for spec in MESH.values() for listener in spec.listeners)
    return {name: port - DEFAULT_PORT_BASE + base for name, port in named.items()}


_MAX_RESTARTS = 3


class Supervisor:
    """Runs the services as child processes."""

    def __init__(
        self, specs: list[ServiceSpec], var_dir: Path, base: int = DEFAULT_PORT_BASE
    ) -> None:
        self.specs = specs
        self.var_dir = var_dir
        self.ports = ports(base)
        self._values = {
            **{k: str(v) for k, v in self.ports.items()},
            "var": str(var_dir),
            "seeded-quarter": seeded_quarter(),
        }
        self.log_dir = var_dir / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {s.name: 0 for s in specs}
        self.stopping = False

    def fill(self, text: str) -> str:
        """`{<name>}` -> that service's port, `{var}` -> the var folder."""
        return text.format_map(self._values)

    def port(self, spec: ServiceSpec) -> int:
        return self.ports[spec.name]

    def _env(self, spec: ServiceSpec) -> dict[str, str]:
        env = {
            **os.environ,
            "GRPC_PORT": str(self.port(spec)),
            "VAR_DIR": str(self.var_dir),
            # Prometheus scrapes http://127.0.0.1:<port + 1000>/metrics (the edge: Envoy's
            # /stats/prometheus on that port).
            "METRICS_PORT": str(self.port(spec) + METRICS_OFFSET),
        }
        if spec.program != spec.name:  # an instance: a database of its own
            env["DATABASE_URL"] = f"sqlite:///{self.var_dir / 'db' / spec.name}.sqlite3"
        if spec.cert:
            pki = Path(env.get("PKI_DIR") or self.var_dir / "pki")
            env["TLS_CERT_FILE"] = str(pki / f"{spec.cert}.pem")
            env["TLS_KEY_FILE"] = str(pki / f"{spec.cert}.key")
        env.update((key, self.fill(value)) for key, value in spec.env)
        return env

    def prepare(self, spec: ServiceSpec, *, only_migrate: bool = False) -> None:
        for raw in spec.prepare:
            if only_migrate and raw != ("migrate",):
                continue
            step = tuple(self.fill(arg) for arg in raw)
            with open(self.log_dir / f"{spec.name}.log", "ab") as log:
                done = subprocess.run(
                    [sys.executable, "-m", spec.program, *step],
                    env=self._env(spec),
                    stdout=log,
                    stderr=None if step == ("seed",) else subprocess.STDOUT,
                )
            if done.returncode != 0:
                raise SystemExit(
                    f"{spec.name} {' '.join(step)} failed; see {self.log_dir / spec.name}.log"
                )

    def then(self, spec: ServiceSpec) -> None:
        """Its commands once it serves (its log gets their output)."""
        for raw in spec.then:
            module, *args = (self.fill(arg) for arg in raw)
            with open(self.log_dir / f"{spec.name}.log", "ab") as log:
                done = subprocess.run(
                    [sys.executable, "-m", module, *args],
                    env=self._env(spec),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if done.returncode != 0:
                raise SystemExit(
                    f"{spec.name}: {module} {' '.join(args)} failed;"
                    f" see {self.log_dir / spec.name}.log"
                )

    def start(self, spec: ServiceSpec) -> None:
        log = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - kept open by child
        self.procs[spec.name] = subprocess.Popen(
            [sys.executable, "-m", spec.program],
            env=self._env(spec),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_serving(self, spec: ServiceSpec, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        if spec.health == "https":
            self._wait_https(spec, deadline, timeout)
            return
        files = party_tls(self.var_dir / "pki", "admin-ops")
        with secure_channel(f"localhost:{self.port(spec)}", files) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.procs[spec.name].poll() is not None:
                    raise SystemExit(
                        f"{spec.name} exited during start-up; see {self.log_dir / spec.name}.log"
                    )
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        raise SystemExit(f"{spec.name} not SERVING after {timeout:.0f}s")

    def _wait_https(self, spec: ServiceSpec, deadline: float, timeout: float) -> None:
        """GET /healthz over mTLS with the gateway's certificate (what the edge presents)."""
        pki = self.var_dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        context.load_cert_chain(str(pki / "gateway.pem"), str(pki / "gateway.key"))
        url = f"https://localhost:{self.port(spec)}/healthz"
        while time.monotonic() < deadline:
            if self.procs[spec.name].poll() is not None:
                raise SystemExit(
                    f"{spec.name} exited during start-up; see {self.log_dir / spec.name}.log"
                )
            try:
                with urllib.request.urlopen(url, context=context, timeout=1) as reply:  # noqa: S310 - https, ours
                    if reply.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{spec.name} not ready after {timeout:.0f}s")

    def stop_all(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                sys.stderr.write(f"{name} did not stop in 30s; killing it\n")
                proc.kill()

    def watch(self) -> None:
        while not self.stopping:
            time.sleep(0.5)
            for spec in self.specs:
                proc = self.procs[spec.name]
                if proc.poll() is None or self.stopping:
                    continue
                self.restarts[spec.name] += 1
                sys.stderr.write(
                    f"!! {spec.name} exited with code {proc.returncode}; "
                    f"log: {self.log_dir / spec.name}.log\n"
                )
                if self.restarts[spec.name] > _MAX_RESTARTS:
                    sys.stderr.write(f"!! {spec.name} crashed {_MAX_RESTARTS} times; stopping\n")
                    self.stop_all()
                    raise SystemExit(1)
                self.start(spec)
                self.wait_serving(spec)
                sys.stderr.write(f"   {spec.name} restarted and SERVING\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.supervise")
    parser.add_argument("services", nargs="+", choices=sorted(MESH))
    parser.add_argument("--var-dir", type=Path, default=Path("var"))
    parser.add_argument(
        "--migrate-only", action="store_true", help="only migrate each service's database"
    )
    args = parser.parse_args(argv)
    specs = [MESH[name] for name in args.services]
    supervisor = Supervisor(specs, args.var_dir, port_base())
    if args.migrate_only:
        for spec in specs:
            supervisor.prepare(spec, only_migrate=True)
        return 0

    def _on_signal(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    # Also when started where SIGINT is ignored (a background job of a script): Ctrl-C or
    # `kill -INT` always stops the mesh gracefully.
    signal.signal(signal.SIGINT, _on_signal)
    try:
        started = time.monotonic()
        for spec in specs:
            supervisor.prepare(spec)
            supervisor.start(spec)
            supervisor.wait_serving(spec)
            supervisor.then(spec)
        elapsed = time.monotonic() - started
        out = sys.stdout
        out.write(
            "\nCarrefour is running (embedded default: SQLite files in var/db/): "
            f"{len(specs)} services SERVING after {elapsed:.1f} s\n\n"
        )
        for spec in specs:
            out.write(
                f"  {spec.name:<14} localhost:{supervisor.port(spec)}  mTLS"
                f"  log {args.var_dir / 'log' / spec.name}.log"
                f"  metrics :{supervisor.port(spec) + METRICS_OFFSET}\n"
            )
        if "edge" in supervisor.ports and any(s.name == "edge" for s in specs):
            out.write(
                "\nInstitutions, employers and operators: the edge, "
                f"localhost:{supervisor.ports['edge']} (Envoy, mTLS);"
                " the CLIs call it by default.\n"
            )
            if any(s.name == "portal" for s in specs):
                out.write(
                    "People (employers' staff, citizens): the portal, "
                    f"https://localhost:{supervisor.ports['edge-portal']}/ (sign in with the"
                    " development identity provider; the browser must trust"
                    f" {args.var_dir / 'pki' / 'ca.pem'})\n"
                )
        commands = [supervisor.fill(c) for s in specs for c in s.try_commands]
        if commands:
            # Three to start with (the edge's, when it runs); every one in var/try-commands.txt.
            edge = [supervisor.fill(c) for s in specs if s.name == "edge" for c in s.try_commands]
            listed = args.var_dir / "try-commands.txt"
            listed.write_text("".join(f"{c}\n" for c in commands))
            out.write("\nTry:\n" + "".join(f"  {c}\n" for c in (edge or commands)[:3]))
            out.write(f"  (every service's commands to try, {len(commands)}: {listed})\n")
        out.write("\nCtrl-C stops everything.\n")
        out.flush()
        supervisor.watch()
    except KeyboardInterrupt:
        sys.stdout.write("\nstopping...\n")
    finally:
        supervisor.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
