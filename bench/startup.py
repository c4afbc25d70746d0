"""`python -m bench --only startup`: how long `make run` takes until every service is SERVING.

The whole mesh (runtime.supervise with every service of MESH, as `make run`) on free ports and
a fresh var/ folder: cold (empty databases: every migration and seed runs), then stopped and
started again on the same folder: warm. The figure is the supervisor's own ("N services
SERVING after X s"). Target (issue #12): warm <= 60 s.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtime import pki
from runtime.supervise import MESH, free_port_base

TITLE = "make run, until every service is SERVING (the whole mesh, SQLite)"
ROOT = Path(__file__).resolve().parents[1]
_SERVING = re.compile(r"(\d+) services SERVING after ([0-9.]+) s")


def _start(var: Path, base: int) -> tuple[int, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PKI_DIR")}
    env["CARREFOUR_PORT_BASE"] = str(base)
    log = var / "supervisor.out"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtime.supervise", "--var-dir", str(var), *MESH],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 600
            while not (found := _SERVING.search(log.read_text())):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the mesh did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
            return int(found.group(1)), float(found.group(2))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)


def run(_args: object) -> tuple[list[str], bool]:
    with tempfile.TemporaryDirectory(prefix="carrefour-startup-") as tmp:
        var = Path(tmp)
        pki.init(var / "pki")
        base = free_port_base()
        services, cold = _start(var, base)
        _, warm = _start(var, base)
    ok = warm <= 60
    return [
        f"  {services} services; cold (empty var/: migrations and seeds): {cold:.1f} s;"
        f" warm (the same var/ again): {warm:.1f} s",
        f"  [{'met' if ok else 'MISSED'}] warm start <= 60 s (issue #12): {warm:.1f} s",
    ], ok
