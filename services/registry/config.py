"""The registry service's settings: only the runtime's shared variables.

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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="registry"),
            faults=env.faults(),
        )
        env.finish()
        return settings
