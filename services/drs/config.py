"""The DRS's settings: the runtime's, plus the router it reaches the register, DIMONA, the DmfA
and the institutions' inboxes through.

The process presents the ONSS's certificate (`onss.pem`, `spiffe://carrefour.local/institution/
onss`): it consults as the ONSS and sends attestations as the ONSS. The database defaults to
`var/db/drs.sqlite3`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "drs"


@dataclass(frozen=True)
class Settings:
    """Everything the DRS service reads from its environment."""

    runtime: RuntimeSettings
    #: The router (host:port): the pre-fill's sources and the attestations' delivery.
    router_addr: str
    #: Its name: the router's certificate must be `router/<name>`.
    router_name: str
    #: The outbox dispatcher's pause when nothing is due (seconds).
    outbox_poll_seconds: float
    #: How often delivered attestations are asked whether they were acknowledged (0 = never;
    #: GetDeclaration asks for the one it shows anyway).
    ack_poll_seconds: float
    #: After this long undeliverable, an attestation is dead-lettered (seconds).
    outbox_horizon_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="onss"),
            router_addr=env.str("ROUTER_ADDR", "localhost:50052"),
            router_name=env.str("ROUTER_NAME", "cbss"),
            outbox_poll_seconds=env.float("OUTBOX_POLL_SECONDS", 0.5, minimum=0.01, maximum=60.0),
            ack_poll_seconds=env.float("ACK_POLL_SECONDS", 60.0, minimum=0.0, maximum=86_400.0),
            outbox_horizon_seconds=env.float(
                "OUTBOX_HORIZON_SECONDS", 24 * 3600.0, minimum=1.0, maximum=30 * 86_400.0
            ),
        )
        env.finish()
        return settings
