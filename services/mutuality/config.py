"""A mutuality's settings: which mutuality this instance is, and where its hub answers.

`MUTUALITY_ID` (required, e.g. `mut-100`) names the institution: the process presents
`institution-<id>.pem` and keeps its members in `var/db/<id>.sqlite3` unless `TLS_*` /
`DATABASE_URL` say otherwise. `HUB_ROUTER_ADDR` (localhost:50053) and `HUB_ROUTER_NAME` (`cin`)
are where `python -m mutuality integrate` integrates the members, and the router certificate
that endpoint must present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "mutuality"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class Settings:
    """Everything a mutuality reads from its environment."""

    runtime: RuntimeSettings
    #: This mutuality's institution id (`institution/<id>` in its certificate).
    mutuality_id: str
    #: The hub router (host:port) where the members are integrated in the directory.
    hub_addr: str
    #: The hub router's name: its certificate is `router/<name>`.
    hub_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        mutuality_id = env.str("MUTUALITY_ID")
        if mutuality_id and not _ID.match(mutuality_id):
            env.problems.append(f"MUTUALITY_ID must be an institution id, got {mutuality_id!r}")
        settings = cls(
            runtime=RuntimeSettings.read(
                env,
                service=SERVICE,
                cert_name=f"institution-{mutuality_id}",
                database_name=mutuality_id,
            ),
            mutuality_id=mutuality_id,
            hub_addr=env.str("HUB_ROUTER_ADDR", "localhost:50053"),
            hub_name=env.str("HUB_ROUTER_NAME", "cin"),
        )
        env.finish()
        return settings
