"""The router's figures: direct GetPerson, the same through a bare byte-forwarding hop, and
through the router with every check and the durable message log; then one call in flight, and
an open-loop 500 msg/s."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from google.protobuf import field_mask_pb2

from bench.harness import Result, ServiceProcess, measure
from bench.registry import registry_process, routing_headers, seeded_inszs
from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from runtime import identity
from runtime.client import party_tls, secure_channel

LEGAL_CONTEXT = "unemployment.control"  # the seed's ONEM authorisation
MASK = field_mask_pb2.FieldMask(paths=["identity", "address", "status"])


def _integrate(router: ServiceProcess, pki_dir: Path, inszs: list[str]) -> None:
    """ONEM integrates the bench's persons (sector 18, capacity 1) in the directory."""
    start = types_pb2.Period(start_date={"year": 2020, "month": 1, "day": 1})
    with secure_channel(
        f"localhost:{router.port}", party_tls(pki_dir, "institution-onem")
    ) as channel:
        stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        for i in range(0, len(inszs), 1000):
            stub.RegisterEntries(
                directory_pb2.RegisterEntriesRequest(
                    entries=[
                        directory_pb2.DirectoryEntry(
                            insz=insz,
                            capacity=directory_pb2.Capacity(sector=18, code=1),
                            period=start,
                        )
                        for insz in inszs[i : i + 1000]
                    ]
                ),
                timeout=30,
            )


def _get_person(inszs: list[str], metadata: list[tuple[str, str]]):  # noqa: ANN202
    def make(channel):  # noqa: ANN001, ANN202
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        requests = [registry_pb2.GetPersonRequest(insz=i, read_mask=MASK) for i in inszs]
        return lambda i: stub.GetPerson(requests[i % len(requests)], metadata=metadata, timeout=5)

    return make


@contextlib.contextmanager
def network(var_dir: Path, pki_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Registry (seeded), a bare hop in front of it, and a router seeded with the bench's
    directory entries: every process the figures need, started once."""
    with contextlib.ExitStack() as stack:
        registry = stack.enter_context(registry_process(var_dir, pki_dir))
        target = f"localhost:{registry.port}"
        hop = stack.enter_context(ServiceProcess("bench.hop", var_dir, pki_dir, TARGET=target))
        router = ServiceProcess("router", var_dir, pki_dir, REGISTRY_ADDR=target)
        router.run_step("seed", "--registry-endpoint", target)
        stack.enter_context(router)
        _integrate(router, pki_dir, seeded_inszs())
        yield {"registry": registry, "hop": hop, "router": router}


def figures(
    procs: dict[str, ServiceProcess], pki_dir: Path, args: argparse.Namespace
) -> list[tuple[str, Callable[[], Awaitable[Result]]]]:
    """The measurements of one round, as (name, thunk)."""
    inszs = seeded_inszs()
    n, secs = args.concurrency, args.seconds
    registry, hop, router = procs["registry"], procs["hop"], procs["router"]
    direct = _get_person(inszs, routing_headers())
    routed = _get_person(inszs, [(identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT)])
    onem = "institution-onem"
    return [
        ("registry GetPerson (direct)", lambda: measure(
            "registry GetPerson (direct)", registry, pki_dir, "router", direct,
            concurrency=n, duration=secs)),
        ("via bare hop (no checks)", lambda: measure(
            "via bare hop (no checks)", hop, pki_dir, onem, direct,
            concurrency=n, duration=secs, others=(registry,))),
        ("via router (checked, logged)", lambda: measure(
            "via router (checked, logged)", router, pki_dir, onem, routed,
            concurrency=n, duration=secs, others=(registry,))),
        ("via router, 1 in flight", lambda: measure(
            "via router, 1 in flight", router, pki_dir, onem, routed,
            concurrency=1, duration=secs, others=(registry,))),
        ("via router, open loop 500/s", lambda: measure(
            "via router, open loop 500/s", router, pki_dir, onem, routed,
            rate=500, duration=secs, others=(registry,))),
    ]  # fmt: skip


def targets(results: list[Result]) -> list[str]:
    """The issue's targets beside what was measured."""
    by = {r.name: r for r in results}
    hop, routed = by["via bare hop (no checks)"], by["via router (checked, logged)"]
    one, open_loop = by["via router, 1 in flight"], by["via router, open loop 500/s"]
    checks = [
        (
            "checked route >= 55% of the bare hop",
            routed.rate / hop.rate >= 0.55,
            f"{routed.rate / hop.rate:.0%}",
        ),
        ("p50 <= 5 ms with 1 in flight", one.percentile(0.5) <= 5, f"{one.percentile(0.5):.1f} ms"),
        (
            "p99 <= 30 ms at open-loop 500 msg/s",
            open_loop.percentile(0.99) <= 30,
            f"{open_loop.percentile(0.99):.1f} ms",
        ),
    ]
    return [f"  [{'met' if ok else 'MISSED'}] {what}: {value}" for what, ok, value in checks]
