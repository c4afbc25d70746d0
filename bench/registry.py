"""GetPerson on the registry, called as the router calls it (certificate and routing headers)."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path

from bench.harness import ServiceProcess
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


def seeded_inszs(count: int = 10_000) -> list[str]:
    """Current numbers of the deterministic population (the same generator the seed uses)."""
    people = itertools.islice(generate(SEEDED, 1), SEEDED)
    # Living persons under their current number: every consultation of them is answered.
    return [
        p.record.insz
        for p in people
        if p.record.replaced_by is None and p.record.death_date is None
    ][:count]


def registry_process(var_dir: Path, pki_dir: Path) -> ServiceProcess:
    server = ServiceProcess("registry", var_dir, pki_dir)
    server.run_step("seed", "--count", str(SEEDED))
    return server
