"""GetPerson on the registry, called as the router calls it (certificate and routing headers)."""

from __future__ import annotations

import argparse
import itertools
import uuid
from pathlib import Path

from google.protobuf import field_mask_pb2

from bench.harness import Result, ServiceProcess, measure
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.seed.population import generate
from runtime import identity

SEEDED = 10_000


def routing_headers(legal_context: str = "bench.consultation") -> list[tuple[str, str]]:
    return [
        (identity.REQUESTER_HEADER, "spiffe://carrefour.local/institution/onem"),
        (identity.LEGAL_CONTEXT_HEADER, legal_context),
        (identity.TICKET_HEADER, str(uuid.uuid4())),
        (identity.CAPACITY_HEADER, "18/1"),
    ]


def seeded_inszs(count: int = 2000) -> list[str]:
    """Current numbers of the deterministic population (the same generator the seed uses)."""
    people = itertools.islice(generate(SEEDED, 1), SEEDED)
    return [p.record.insz for p in people if p.record.replaced_by is None][:count]


def registry_process(var_dir: Path, pki_dir: Path) -> ServiceProcess:
    server = ServiceProcess("registry", var_dir, pki_dir)
    server.run_step("seed", "--count", str(SEEDED))
    return server


async def get_person(var_dir: Path, pki_dir: Path, args: argparse.Namespace) -> Result:
    inszs = seeded_inszs()
    mask = field_mask_pb2.FieldMask(paths=["identity", "birth", "address", "status"])
    metadata = routing_headers()
    with registry_process(var_dir, pki_dir) as registry:

        def call(channel):  # noqa: ANN001, ANN202
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            requests = [registry_pb2.GetPersonRequest(insz=i, read_mask=mask) for i in inszs]
            return lambda i: stub.GetPerson(
                requests[i % len(requests)], metadata=metadata, timeout=5
            )

        return await measure(
            "registry GetPerson (direct)",
            registry,
            pki_dir,
            "router",
            call,
            concurrency=args.concurrency,
            duration=args.seconds,
        )
