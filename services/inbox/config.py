"""An inbox's settings: whose inbox this instance is, and the faults a test injects.

`INBOX_INSTITUTION` (required, e.g. `onem`) names the owning institution: the process presents
`institution-<id>.pem` and keeps its attestations in `var/db/inbox-<id>.sqlite3` unless `TLS_*` /
`DATABASE_URL` say otherwise. `CARREFOUR_FAULTS` / `CARREFOUR_FAULT_SEED` install seeded fault
points (runtime.faults), for tests only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings
from runtime.faults import FaultPlan

SERVICE = "inbox"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class Settings:
    """Everything an inbox reads from its environment."""

    runtime: RuntimeSettings
    #: The owning institution's id (`institution/<id>` in its certificate).
    institution: str
    #: Injected faults (None: none).
    faults: FaultPlan | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        institution = env.str("INBOX_INSTITUTION")
        if institution and not _ID.match(institution):
            env.problems.append(f"INBOX_INSTITUTION must be an institution id, got {institution!r}")
        plan = env.faults()
        settings = cls(
            runtime=RuntimeSettings.read(
                env,
                service=SERVICE,
                cert_name=f"institution-{institution}",
                database_name=f"inbox-{institution}",
            ),
            institution=institution,
            faults=plan,
        )
        env.finish()
        return settings
