"""The router's figures: direct GetPerson, the same through a bare byte-forwarding hop, and
through the router with every check and the durable message log; then one call in flight, and
an open-loop 500 msg/s."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from google.protobuf import field_mask_pb2

from bench.harness import EdgeProcess, Result, ServiceProcess, measure
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
        hub = ServiceProcess(
            "router",
            var_dir,
            pki_dir,
            label="hub",
            ROUTER_NAME="cin",
            DATABASE_URL=f"sqlite:///{var_dir / 'hub-cin.sqlite3'}",
            TLS_CERT_FILE=str(pki_dir / "hub-cin.pem"),
            TLS_KEY_FILE=str(pki_dir / "hub-cin.key"),
            REGISTRY_ADDR=target,
            UPSTREAM_ROUTER_ADDR=f"localhost:{router.port}",
        )
        stack.enter_context(hub)
        _hub_network(router, hub, registry, pki_dir)
        edge = stack.enter_context(EdgeProcess(var_dir, pki_dir, {"router": router.port}))
        yield {"registry": registry, "hop": hop, "router": router, "hub": hub, "edge": edge}


def _hub_network(
    router: ServiceProcess, hub: ServiceProcess, registry: ServiceProcess, pki_dir: Path
) -> None:
    """The register's contract also reached through a hub (`cbss-destination: cin`): the primary
    knows the hub as provider `cin`, the hub knows the register as its member `nr`."""
    from google.protobuf import descriptor_pb2

    from cbss.registry.v1 import registry_pb2
    from cbss.router.v1 import router_admin_pb2, router_admin_pb2_grpc
    from router.seed import contract_files

    files = descriptor_pb2.FileDescriptorSet(
        file=[
            descriptor_pb2.FileDescriptorProto.FromString(f)
            for f in contract_files(registry_pb2.DESCRIPTOR)
        ]
    ).SerializeToString()
    admin_tls = party_tls(pki_dir, "admin-ops")
    service = "cbss.registry.v1.RegistryService"
    with secure_channel(f"localhost:{router.port}", admin_tls) as channel:
        admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        admin.RegisterInstitution(
            router_admin_pb2.RegisterInstitutionRequest(
                institution=router_admin_pb2.Institution(id="cin", display_name="CIN")
            ),
            timeout=10,
        )
        admin.RegisterService(
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service=service, provider="cin", endpoint=f"localhost:{hub.port}",
                    via_router="cin",
                ),
                file_descriptor_set=files,
            ),
            timeout=10,
        )  # fmt: skip
    with secure_channel(f"localhost:{hub.port}", admin_tls) as channel:
        admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        for iid in ("onem", "nr"):
            admin.RegisterInstitution(
                router_admin_pb2.RegisterInstitutionRequest(
                    institution=router_admin_pb2.Institution(id=iid, display_name=iid)
                ),
                timeout=10,
            )
        admin.RegisterService(
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service=service, provider="nr", endpoint=f"localhost:{registry.port}"
                ),
                file_descriptor_set=files,
            ),
            timeout=10,
        )
        admin.GrantAuthorisation(  # the primary has checked ONEM's directory already
            router_admin_pb2.GrantAuthorisationRequest(
                authorisation=router_admin_pb2.Authorisation(
                    deliberation="ISC/bench", requester="onem", service=service,
                    method="GetPerson", legal_contexts=[LEGAL_CONTEXT],
                    directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE,
                    valid_from={"year": 2020, "month": 1, "day": 1},
                )
            ),
            timeout=10,
        )  # fmt: skip


def figures(
    procs: dict[str, ServiceProcess], pki_dir: Path, args: argparse.Namespace
) -> list[tuple[str, Callable[[], Awaitable[Result]]]]:
    """The measurements of one round, as (name, thunk)."""
    inszs = seeded_inszs()
    n, secs = args.concurrency, args.seconds
    registry, hop, router = procs["registry"], procs["hop"], procs["router"]
    direct = _get_person(inszs, routing_headers())
    routed = _get_person(
        inszs,
        [(identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT), (identity.DESTINATION_HEADER, "nr")],
    )
    via_hub = _get_person(
        inszs,
        [(identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT), (identity.DESTINATION_HEADER, "cin")],
    )
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
        ("via edge + router", lambda: measure(
            "via edge + router", procs["edge"], pki_dir, onem, routed,
            concurrency=n, duration=secs, others=(router, registry))),
        ("via router, 1 in flight", lambda: measure(
            "via router, 1 in flight", router, pki_dir, onem, routed,
            concurrency=1, duration=secs, others=(registry,))),
        ("via router + hub", lambda: measure(
            "via router + hub", router, pki_dir, onem, via_hub,
            concurrency=n, duration=secs, others=(procs["hub"], registry))),
        ("via router, open loop 500/s", lambda: measure(
            "via router, open loop 500/s", router, pki_dir, onem, routed,
            rate=500, duration=secs, others=(registry,))),
    ]  # fmt: skip


def targets(results: list[Result]) -> list[str]:
    """The issue's targets beside what was measured."""
    by = {r.name: r for r in results}
    hop, routed = by["via bare hop (no checks)"], by["via router (checked, logged)"]
    one, open_loop = by["via router, 1 in flight"], by["via router, open loop 500/s"]
    edge = by["via edge + router"]
    envoy_us = edge.process_cpu["envoy"] / max(edge.calls, 1) * 1e6
    checks = [
        (
            "through the edge >= 85% of the direct router (issue #11)",
            edge.rate / routed.rate >= 0.85,
            f"{edge.rate / routed.rate:.0%}",
        ),
        (
            "Envoy <= 0.15 ms CPU per call at --concurrency 1 (issue #11)",
            envoy_us <= 150,
            f"{envoy_us / 1000:.3f} ms",
        ),
        (
            "checked route >= 55% of the bare hop",
            routed.rate / hop.rate >= 0.55,
            f"{routed.rate / hop.rate:.0%}",
        ),
        (
            "checked route >= 80% of the bare hop (person-status index, issue #10)",
            routed.rate / hop.rate >= 0.80,
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
