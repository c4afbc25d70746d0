"""The registry service's settings: the runtime's shared variables, and the routers' lease.

The process presents the National Register's certificate (`registry.pem`,
`spiffe://carrefour.local/institution/nr`); the database defaults to `var/db/registry.sqlite3`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings
from runtime.faults import FaultPlan

SERVICE = "registry"


@dataclass(frozen=True)
class Settings:
    """Everything the registry service reads from its environment."""

    runtime: RuntimeSettings
    #: Seeded fault points (runtime.faults; tests only): `registry.after_commit`.
    faults: FaultPlan | None = None
    #: How long a router's lease on the event log runs (registry.service.leases):
    #: `MUTATION_LEASE_SECONDS`. The longest a death or replacement may wait for a router that
    #: stopped answering, and for a register that just started; a router renews every quarter.
    lease_seconds: float = 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="registry"),
            faults=env.faults(),
            lease_seconds=env.float("MUTATION_LEASE_SECONDS", 2.0, minimum=0.1, maximum=60.0),
        )
        env.finish()
        return settings
