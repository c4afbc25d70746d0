"""`make run`: start the mesh on the embedded default, watch it, stop it gracefully.

Starts each named service as its own process (`python -m <service>`) on its fixed port with its
own SQLite database under var/db/ and its log in var/log/<service>.log, after its preparation
steps (migrations, seed). Waits until every health check is SERVING, prints the endpoints and
commands to try, then watches: a service that exits is reported and restarted (at most 3 times in
a row). Ctrl-C (or SIGTERM) stops every service with SIGTERM and waits for them to drain.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.client import party_tls, secure_channel


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service of the mesh on this machine."""

    name: str
    port: int
    prepare: tuple[tuple[str, ...], ...] = (("migrate",),)
    try_commands: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


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
            prepare=(("migrate",), ("seed",)),
            try_commands=(".venv/bin/python -m registry.cli validate 85.07.14-123.30",),
        ),
        ServiceSpec(
            "router",
            50052,
            prepare=(
                ("migrate",),
                (
                    "seed",
                    "--registry-endpoint",
                    "localhost:50051",
                    "--dimona-endpoint",
                    "localhost:50053",
                ),
            ),
            env=(("REGISTRY_ADDR", "localhost:50051"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                ".venv/bin/python -m registry.cli --as institution-onem"
                " --legal-context unemployment.control get 85071412330 --mask identity,address",
                ".venv/bin/python -m registry.cli --as institution-famiwal"
                " --legal-context family-allowances.entitlement get 85071412330 --mask identity"
                "   # refused: not integrated",
                ".venv/bin/python -m router verify-log",
            ),
        ),
        ServiceSpec(
            "dimona",
            50053,
            prepare=(("migrate",), ("seed",)),
            env=(("ROUTER_ADDR", "localhost:50052"), ("ROUTER_NAME", "cbss")),
            try_commands=(
                ".venv/bin/python -m dimona.cli --as employer-000100006 in 85071412330"
                " --type OTH --jc 202 --start $(date -d tomorrow +%F)",
                ".venv/bin/python -m dimona.cli --as employer-000100006 in 03020100274"
                " --type STU --jc 202 --start $(date -d tomorrow +%F) --end"
                " $(date -d 'tomorrow +6 days' +%F) --hours 700   # over quota: warning",
                ".venv/bin/python -m dimona.cli --as institution-onem"
                " --legal-context unemployment.control worker-periods 85071412330",
            ),
        ),
    )
}

_MAX_RESTARTS = 3


class Supervisor:
    """Runs the services as child processes."""

    def __init__(self, specs: list[ServiceSpec], var_dir: Path) -> None:
        self.specs = specs
        self.var_dir = var_dir
        self.log_dir = var_dir / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, int] = {s.name: 0 for s in specs}
        self.stopping = False

    def _env(self, spec: ServiceSpec) -> dict[str, str]:
        return {
            **os.environ,
            "GRPC_PORT": str(spec.port),
            "VAR_DIR": str(self.var_dir),
            **dict(spec.env),
        }

    def prepare(self, spec: ServiceSpec) -> None:
        for step in spec.prepare:
            with open(self.log_dir / f"{spec.name}.log", "ab") as log:
                done = subprocess.run(
                    [sys.executable, "-m", spec.name, *step],
                    env=self._env(spec),
                    stdout=log,
                    stderr=None if step == ("seed",) else subprocess.STDOUT,
                )
            if done.returncode != 0:
                raise SystemExit(
                    f"{spec.name} {' '.join(step)} failed; see {self.log_dir / spec.name}.log"
                )

    def start(self, spec: ServiceSpec) -> None:
        log = open(self.log_dir / f"{spec.name}.log", "ab")  # noqa: SIM115 - kept open by child
        self.procs[spec.name] = subprocess.Popen(
            [sys.executable, "-m", spec.name],
            env=self._env(spec),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_serving(self, spec: ServiceSpec, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        files = party_tls(self.var_dir / "pki", "admin-ops")
        with secure_channel(f"localhost:{spec.port}", files) as channel:
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
    args = parser.parse_args(argv)
    specs = [MESH[name] for name in args.services]
    supervisor = Supervisor(specs, args.var_dir)

    def _on_signal(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        for spec in specs:
            supervisor.prepare(spec)
            supervisor.start(spec)
            supervisor.wait_serving(spec)
        out = sys.stdout
        out.write("\nCarrefour is running (embedded default: SQLite files in var/db/)\n\n")
        for spec in specs:
            out.write(
                f"  {spec.name:<10} localhost:{spec.port}  mTLS  log var/log/{spec.name}.log\n"
            )
        commands = [c for s in specs for c in s.try_commands]
        if commands:
            out.write("\nTry:\n" + "".join(f"  {c}\n" for c in commands))
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
