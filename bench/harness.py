"""The measuring harness: real service processes, one aio client, N calls in flight.

Every service runs as its own process (`python -m <service>`, port 0, a temporary var/ folder),
exactly as `make run` starts it. The client is one grpc.aio mTLS channel with `concurrency`
tasks each issuing calls back to back, for a warm-up and then a measured window. Reported per
target: calls/s, p50/p99 latency, and the server process's CPU time per call (user + system,
from /proc), so that the cost of a service's own work shows beside the echo baseline whatever
the client costs on the same cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from runtime.client import party_tls
from runtime.server import settle_heap
from runtime.tls import channel_credentials

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def thread_switches(pid: int) -> dict[str, int]:
    """Context switches (voluntary and not) of each thread of a process so far, from /proc.

    The router's CPU goes largely to switching threads (see services/router/README.md), so the
    figures print switches per message beside CPU: a steadier measure on a noisy machine.
    """
    counts: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        counts[task.name] = sum(
            int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line
        )
    return counts


def _switches_between(before: dict[str, int], after: dict[str, int]) -> int:
    """Switches in the window: threads started meanwhile count from zero (ended ones are lost)."""
    return sum(count - before.get(tid, 0) for tid, count in after.items())


@dataclass
class Result:
    name: str
    calls: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float
    #: CPU seconds of every process involved, by name (the measured server first).
    process_cpu: dict[str, float] = field(default_factory=dict)
    #: Context switches of every process involved in the window, by name.
    process_switches: dict[str, int] = field(default_factory=dict)
    #: The failed calls (warm-up included) by status code, e.g. {"DEADLINE_EXCEEDED": 3}.
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def cpu_us_per_call(self) -> float:
        return self.server_cpu_seconds / max(self.calls, 1) * 1e6

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class _Child:
    """A measured child process: its CPU time, and its stop at the end of a `with`."""

    proc: subprocess.Popen | None = None

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        return process_cpu_seconds(self.proc.pid)

    def switches(self) -> dict[str, int]:
        assert self.proc is not None
        return thread_switches(self.proc.pid)

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class ServiceProcess(_Child):
    """A service started as a process on a free port, with its own var/ folder."""

    def __init__(
        self, service: str, var_dir: Path, pki_dir: Path, *, label: str = "", **env: str
    ) -> None:
        self.service = service
        self.label = label or service  # how figures name it (two routers: "router", "hub")
        self.var_dir = var_dir
        self.env = {
            **os.environ,
            "GRPC_PORT": "0",
            "VAR_DIR": str(var_dir),
            "PKI_DIR": str(pki_dir),
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def run_step(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", self.service, *args], env=self.env, check=True)

    def __enter__(self) -> ServiceProcess:
        env = {**self.env, "LOG_LEVEL": "INFO"}  # the start-up line carries the port
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.service],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line).get("message", "")
            if "listening on" in message:
                self.port = int(message.split(":")[-1].split()[0])
                break
        else:
            raise RuntimeError(f"{self.service} did not start")
        # Keep draining stdout so the child never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self


async def measure(
    name: str,
    server: ServiceProcess,
    pki_dir: Path,
    party: str,
    make_call: Callable[[grpc.aio.Channel], Callable[[int], object]],
    *,
    concurrency: int = 50,
    warmup: float = 1.0,
    duration: float = 5.0,
    others: tuple[ServiceProcess, ...] = (),
    rate: float | None = None,
) -> Result:
    """Run `concurrency` callers against `server`; measure the window after the warm-up.

    With `rate`, the load is open-loop instead: calls start at that many per second whatever
    the replies (each on its own task), so that latency is measured without coordinated
    omission; `concurrency` is then ignored.

    The client is a Python process too: what earlier phases left (results, channels, the
    bench's modules) is frozen out of its garbage collector first (runtime.server.settle_heap),
    or a full collection in the client, 40-50 ms, would show as the servers' p99.
    """
    settle_heap(process=True)
    if rate is not None:
        return await _measure_open_loop(
            name, server, pki_dir, party, make_call, rate, warmup, duration, others
        )
    creds = channel_credentials(party_tls(pki_dir, party))
    async with grpc.aio.secure_channel(f"localhost:{server.port}", creds) as channel:
        call = make_call(channel)
        latencies: list[float] = []
        failures: Counter[str] = Counter()
        measuring = False
        stop_at = time.monotonic() + warmup + duration

        async def worker(worker_id: int) -> None:
            i = worker_id
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                try:
                    await call(i)
                except grpc.aio.AioRpcError as exc:
                    failures[exc.code().name] += 1
                if measuring:
                    latencies.append((time.perf_counter() - start) * 1000)
                i += concurrency

        tasks = [asyncio.create_task(worker(w)) for w in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        procs = (server, *others)
        sw0 = [p.switches() for p in procs]
        cpu0, t0 = [p.cpu_seconds() for p in procs], time.monotonic()
        n0 = len(latencies)
        await asyncio.sleep(duration)
        measuring = False
        cpu1, t1 = [p.cpu_seconds() for p in procs], time.monotonic()
        sw1 = [p.switches() for p in procs]
        n1 = len(latencies)
        await asyncio.gather(*tasks)
    used = {p.label: b - a for p, a, b in zip(procs, cpu0, cpu1, strict=True)}
    switched = {p.label: _switches_between(a, b) for p, a, b in zip(procs, sw0, sw1, strict=True)}
    return Result(
        name,
        n1 - n0,
        t1 - t0,
        latencies[n0:n1],
        cpu1[0] - cpu0[0],
        used,
        switched,
        dict(failures),
    )


async def _measure_open_loop(
    name: str,
    server: ServiceProcess,
    pki_dir: Path,
    party: str,
    make_call: Callable[[grpc.aio.Channel], Callable[[int], object]],
    rate: float,
    warmup: float,
    duration: float,
    others: tuple[ServiceProcess, ...],
) -> Result:
    creds = channel_credentials(party_tls(pki_dir, party))
    async with grpc.aio.secure_channel(f"localhost:{server.port}", creds) as channel:
        call = make_call(channel)
        latencies: list[float] = []
        failures: Counter[str] = Counter()

        async def one(i: int, record: bool) -> None:
            start = time.perf_counter()
            try:
                await call(i)
            except grpc.aio.AioRpcError as exc:
                failures[exc.code().name] += 1
            if record:
                latencies.append((time.perf_counter() - start) * 1000)

        procs = (server, *others)
        tasks: list[asyncio.Task[None]] = []
        begin = time.monotonic()
        cpu0: list[float] = []
        sw0: list[dict[str, int]] = []
        i = 0
        while (elapsed := time.monotonic() - begin) < warmup + duration:
            measuring = elapsed >= warmup
            if measuring and not cpu0:
                sw0 = [p.switches() for p in procs]
                cpu0, t0 = [p.cpu_seconds() for p in procs], time.monotonic()
            tasks.append(asyncio.create_task(one(i, measuring)))
            i += 1
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
        cpu1, t1 = [p.cpu_seconds() for p in procs], time.monotonic()
        sw1 = [p.switches() for p in procs]
        await asyncio.gather(*tasks)
    used = {p.label: b - a for p, a, b in zip(procs, cpu0, cpu1, strict=True)}
    switched = {p.label: _switches_between(a, b) for p, a, b in zip(procs, sw0, sw1, strict=True)}
    return Result(
        name,
        len(latencies),
        t1 - t0,
        latencies,
        cpu1[0] - cpu0[0],
        used,
        switched,
        dict(failures),
    )


class EdgeProcess(_Child):
    """The edge (`python -m edge`: Envoy, which replaces the Python process) on a free port in
    front of `upstreams` (cluster -> port); ready once a health check through it is SERVING."""

    def __init__(self, var_dir: Path, pki_dir: Path, upstreams: dict[str, int]) -> None:
        self.label = "envoy"
        self.var_dir = var_dir
        self.pki_dir = pki_dir
        self.upstreams = upstreams
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def __enter__(self) -> EdgeProcess:
        import socket

        from grpc_health.v1 import health_pb2, health_pb2_grpc

        from runtime.client import secure_channel

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        addresses = {
            name: "localhost:1" for name in ("router", "dimona", "dmfa", "drs", "mutation")
        }
        addresses.update({name: f"localhost:{port}" for name, port in self.upstreams.items()})
        env = {
            **os.environ,
            "GRPC_PORT": str(self.port),
            "VAR_DIR": str(self.var_dir),
            "PKI_DIR": str(self.pki_dir),
            "EDGE_CONFIG": str(self.var_dir / "edge" / "envoy.json"),
            "EDGE_ACCESS_LOG": str(self.var_dir / "log" / "edge-access.log"),
            "EDGE_LOG_LEVEL": "error",
            # The bench's single client is one institution: no rate limit in the way.
            "EDGE_RATE_PER_INSTITUTION": "1000000",
            "EDGE_BURST_PER_INSTITUTION": "1000000",
            **{f"{name.upper()}_ADDR": address for name, address in addresses.items()},
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge"], env=env, stdout=subprocess.DEVNULL, stderr=None
        )
        deadline = time.monotonic() + 30
        with secure_channel(f"localhost:{self.port}", party_tls(self.pki_dir, "admin-ops")) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while True:
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                        break
                except grpc.RpcError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError("the edge did not start") from None
                    time.sleep(0.1)
        return self


def cpu_breakdown(result: Result) -> str:
    """CPU µs per message in each process, e.g. `router 612 + registry 430`."""
    return " + ".join(
        f"{name} {seconds / max(result.calls, 1) * 1e6:.0f}"
        for name, seconds in result.process_cpu.items()
    )


def switch_breakdown(result: Result) -> str:
    """Context switches per message in each process, e.g. `router 40.1 + registry 12.3`."""
    return " + ".join(
        f"{name} {count / max(result.calls, 1):.1f}"
        for name, count in result.process_switches.items()
    )


def report(results: list[Result], baseline: Result) -> str:
    lines = [
        f"{'target':<28}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/call':>13}"
        f"{'vs echo':>9}{'errors':>8}",
    ]
    for r in results:
        lines.append(
            f"{r.name:<28}{r.rate:>10.0f}{r.percentile(0.5):>9.1f}"
            f"{r.percentile(0.99):>9.1f}{r.cpu_us_per_call:>13.0f}{r.rate / baseline.rate:>9.0%}"
            f"{r.errors:>8}"
        )
    return "\n".join(lines)
