"""The DmfA's settings: the runtime's, plus the router it reaches the register and DIMONA
through.

The process presents the ONSS's certificate (`onss.pem`, `spiffe://carrefour.local/institution/
onss`); the database defaults to `var/db/dmfa.sqlite3`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "dmfa"


@dataclass(frozen=True)
class Settings:
    """Everything the DmfA service reads from its environment."""

    runtime: RuntimeSettings
    #: The router (host:port): the register, DIMONA's periods and quota counter.
    router_addr: str
    #: Its name: the router's certificate must be `router/<name>`.
    router_name: str
    #: The quota outbox's pause when it is empty (seconds).
    quota_idle_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="onss"),
            router_addr=env.str("ROUTER_ADDR", "localhost:50052"),
            router_name=env.str("ROUTER_NAME", "cbss"),
            quota_idle_seconds=env.float("QUOTA_IDLE_SECONDS", 1.0, minimum=0.01, maximum=60.0),
        )
        env.finish()
        return settings
