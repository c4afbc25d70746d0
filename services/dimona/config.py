"""DIMONA's settings: the runtime's, plus the router it reaches the network through.

The process presents the ONSS's certificate (`onss.pem`, `spiffe://carrefour.local/institution/
onss`); the database defaults to `var/db/dimona.sqlite3`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "dimona"


@dataclass(frozen=True)
class Settings:
    """Everything the DIMONA service reads from its environment."""

    runtime: RuntimeSettings
    #: The router (host:port): worker identity checks, BIS registration, the directory.
    router_addr: str
    #: Its name: the router's certificate must be `router/<name>`.
    router_name: str
    #: The directory dispatcher's pause when the outbox is empty (seconds).
    directory_idle_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="onss"),
            router_addr=env.str("ROUTER_ADDR", "localhost:50052"),
            router_name=env.str("ROUTER_NAME", "cbss"),
            directory_idle_seconds=env.float(
                "DIRECTORY_IDLE_SECONDS", 1.0, minimum=0.01, maximum=60.0
            ),
        )
        env.finish()
        return settings
