"""DIMONA's figure: IN declarations per second end to end, 50 in flight.

Each call is a new IN of an ordinary worker (OTH, one day) by an employer for a living person
of the registry's seeded population: DIMONA checks the worker's identity through the router
(which asks the registry and logs every person), stores the declaration, the period, the event
and the outbox row in one transaction, and the directory dispatcher integrates the workers at
the router (batched, asynchronously) — every process's CPU is counted over the same window, so
the dispatcher's work is in the figure. References are never reused (a retry would be answered
from storage without any of that work).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from google.type import date_pb2

from bench.harness import Result, ServiceProcess, measure
from bench.registry import seeded_inszs
from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc

NAME = "dimona IN (end to end)"
EMPLOYER = "000100006"
TARGET_PER_SECOND = 300
#: Far enough in the future that no declaration is late; one day per pass over the persons.
FIRST_DAY = dt.date(2030, 1, 7)


@contextlib.contextmanager
def dimona_process(var_dir: Path, router: ServiceProcess) -> Iterator[ServiceProcess]:
    server = ServiceProcess(
        "dimona", var_dir, var_dir / "pki", ROUTER_ADDR=f"localhost:{router.port}"
    )
    server.run_step("seed")
    with server:
        yield server


def _declare(inszs: list[str], counter: itertools.count):  # noqa: ANN202
    def make(channel):  # noqa: ANN001, ANN202
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)

        def call(_i: int):  # noqa: ANN202
            n = next(counter)
            day = FIRST_DAY + dt.timedelta(days=n // len(inszs))
            date = date_pb2.Date(year=day.year, month=day.month, day=day.day)
            request = dimona_pb2.SubmitDeclarationRequest(
                parent=f"employers/{EMPLOYER}",
                declaration_reference=f"bench-{n}",
                dimona_in=dimona_pb2.DimonaIn(
                    worker=dimona_pb2.Worker(insz=inszs[n % len(inszs)]),
                    worker_type=dimona_pb2.WORKER_TYPE_OTH,
                    joint_committee="202",
                    start_date=date,
                    end_date=date,
                ),
            )
            return stub.SubmitDeclaration(request, timeout=10)

        return call

    return make


def figures(
    procs: dict[str, ServiceProcess], pki_dir: Path, args: argparse.Namespace
) -> list[tuple[str, Callable[[], Awaitable[Result]]]]:
    counter = itertools.count()
    declare = _declare(seeded_inszs(), counter)
    dimona, router, registry = procs["dimona"], procs["router"], procs["registry"]
    return [
        (NAME, lambda: measure(
            NAME, dimona, pki_dir, f"employer-{EMPLOYER}", declare,
            concurrency=args.concurrency, duration=args.seconds, others=(router, registry))),
    ]  # fmt: skip


def targets(results: list[Result]) -> list[str]:
    r = next(r for r in results if r.name == NAME)
    ok = r.rate >= TARGET_PER_SECOND
    return [
        f"  [{'met' if ok else 'MISSED'}] Dimona IN >= {TARGET_PER_SECOND}/s end to end "
        f"(50 in flight): {r.rate:.0f}/s"
    ]
