"""`python -m bench --only warehouse`: one quarter's aggregates for 100,000 coded persons.

Two child processes on a fresh SQLite database of the warehouse (the mesh is not involved):
the first synthesises the quarter's coded records (warehouse.synthetic: the population, Dimona
periods, DmfA records — no INSZ is made) and writes them; the second — the one measured —
reads them back, derives every person's position on the last day, builds the six published
tables, protects them (threshold, p % rule, complementary suppression audited by linear
programming) and writes positions and cells in one transaction: `WarehouseBuilds.aggregate`,
as a rebuild does. Its wall time and peak RSS (the kernel's, from wait4) against the targets:
<= 60 s and <= 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Research data warehouse: one quarter's aggregates (SQLite)"
PROJECT = "dwh-standard"
TARGET_SECONDS, TARGET_RSS = 60.0, 1024**3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse-persons", type=int, default=100_000, help="coded persons (warehouse bench)"
    )


def _prepare(url: str, persons: int) -> dict:
    from runtime.clock import SystemClock
    from runtime.db import Database
    from warehouse.seed import seed_projects
    from warehouse.service.model import Extraction, Quarter, QuarterBuild, Source
    from warehouse.storage import MIGRATIONS
    from warehouse.storage.repository import SqlWarehouseStore
    from warehouse.synthetic import population, quarter_records

    quarter = Quarter(2025, 2)
    db = Database(url)
    db.migrate(MIGRATIONS)
    seed_projects(db)
    start = time.perf_counter()
    records = quarter_records(quarter, population(persons))
    stub = QuarterBuild(
        PROJECT, quarter, "0" * 16, 0, 0, 0, 0, 0, 5, 10, SystemClock().now(),
        tuple(Extraction(s, 0, "bench", "0" * 16) for s in Source),
    )  # fmt: skip
    SqlWarehouseStore(db).replace_quarter(stub, records, [], [])
    db.dispose()
    return {
        "persons": len(records.persons),
        "periods": len(records.periods),
        "records": len(records.workers),
        "seconds": time.perf_counter() - start,
    }


def _aggregate(url: str) -> dict:
    from runtime.clock import SystemClock
    from runtime.db import Database
    from warehouse.service.builds import WarehouseBuilds
    from warehouse.service.model import Quarter
    from warehouse.storage.repository import SqlWarehouseStore

    db = Database(url)
    store = SqlWarehouseStore(db)
    start = time.perf_counter()
    build = WarehouseBuilds(store, None, SystemClock()).aggregate(PROJECT, Quarter(2025, 2))  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    db.dispose()
    return {
        "seconds": seconds,
        "persons": build.persons,
        "in_work": build.in_work,
        "cells": build.cells,
        "primary": build.primary_suppressed,
        "secondary": build.secondary_suppressed,
    }


def _child(step: str, url: str, persons: int) -> tuple[dict, int]:
    """Run a step in a child process: its JSON answer and its peak RSS in bytes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.warehouse", step, url, str(persons)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.warehouse {step} exited with {proc.returncode}")
    return json.loads(out), usage.ru_maxrss * 1024  # Linux: kilobytes


def run(args: argparse.Namespace) -> tuple[list[str], bool]:
    persons = args.warehouse_persons
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-dwh-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'warehouse.sqlite3'}"
        prepared, _ = _child("prepare", url, persons)
        done, rss = _child("aggregate", url, persons)
    ok = done["seconds"] <= TARGET_SECONDS and rss <= TARGET_RSS
    return (
        [
            f"  synthesised and written: {prepared['persons']:,} coded persons, "
            f"{prepared['periods']:,} Dimona periods, {prepared['records']:,} DmfA records "
            f"({prepared['seconds']:.1f} s, not measured)",
            f"  aggregates: {done['persons']:,} positions ({done['in_work']:,} in work), "
            f"{done['cells']:,} published cells, {done['primary']:,} suppressed primary + "
            f"{done['secondary']:,} complementary",
            f"  [{'met' if done['seconds'] <= TARGET_SECONDS else 'MISSED'}] time "
            f"{done['seconds']:.1f} s (target <= {TARGET_SECONDS:.0f} s: read, positions, tables,"
            " suppression and its audit, write)",
            f"  [{'met' if rss <= TARGET_RSS else 'MISSED'}] peak RSS {rss / 1024**2:.0f} MiB "
            "(target <= 1024 MiB)",
        ],
        ok,
    )


if __name__ == "__main__":
    step, url, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    answer = _prepare(url, count) if step == "prepare" else _aggregate(url)
    sys.stdout.write(json.dumps(answer, default=str) + "\n")
