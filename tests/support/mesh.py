"""Starting the mesh exactly as `make run` does (runtime.supervise), on free ports, in a var
folder of its own, for tests that need several services wired together (the make-run, demo and
portal tests). Always on the embedded default (SQLite), as `make run` is."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from runtime import pki
from runtime.supervise import free_port_base, ports

ROOT = Path(__file__).resolve().parents[2]
READY = "Ctrl-C stops everything"


@dataclass
class Mesh:
    proc: subprocess.Popen[str]
    var: Path
    #: Every service's (and named listener's) port.
    ports: dict[str, int]
    #: The supervisor's banner, up to the line saying it is ready.
    banner: str
    #: The environment a CLI run against this mesh needs (its ports and PKI).
    env: dict[str, str]
    #: The supervisor's later stdout lines (None when it exits).
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)


@contextmanager
def running_mesh(var: Path, names: Sequence[str], timeout: float = 300) -> Iterator[Mesh]:
    """`python -m runtime.supervise NAMES` with its own PKI in `var`; yields once the banner
    says every service is serving; stops it with SIGINT (as Ctrl-C) afterwards."""
    pki.init(var / "pki")
    base = free_port_base()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PKI_DIR")}
    env["CARREFOUR_PORT_BASE"] = str(base)
    stderr = open(var / "supervisor.err", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.supervise", "--var-dir", str(var), *names],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    banner: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the mesh did not start in {timeout:.0f} s") from None
            if line is None:
                raise AssertionError(
                    f"supervisor exited: {(var / 'supervisor.err').read_text()[-3000:]}"
                )
            banner.append(line)
            if READY in line:
                break
        yield Mesh(
            proc=proc,
            var=var,
            ports=ports(base),
            banner="".join(banner),
            env={**env, "PKI_DIR": str(var / "pki")},
            lines=lines,
        )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        stderr.close()
