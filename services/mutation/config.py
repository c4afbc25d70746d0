"""The mutation service's settings.

The process presents the CBSS's certificate (`institution-cbss.pem`, `spiffe://carrefour.local/
institution/cbss`): it reads the sources' event logs as the CBSS, asks the router's directory as
the CBSS's mutation service, and sends notifications through the router as the CBSS. The
database defaults to `var/db/mutation.sqlite3`. A source whose address is empty is not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings
from runtime.faults import FaultPlan

SERVICE = "mutation"


@dataclass(frozen=True)
class Settings:
    runtime: RuntimeSettings
    #: The router: its directory, and the notifications' delivery.
    router_addr: str
    router_name: str
    #: The sources (host:port; "" = not read) and their certificates' institution ids.
    registry_addr: str
    dimona_addr: str
    dmfa_addr: str
    #: Pause of the fan-out when every source is up to date, and of the outbox when idle.
    poll_seconds: float
    #: Events read per page of a source.
    page_size: int
    #: Notifications in flight at once (the outbox dispatcher's pipeline).
    delivery_batch: int
    #: How often delivered notifications are asked whether they were acknowledged (0 = never).
    ack_poll_seconds: float
    #: After this long undeliverable, a notification is dead-lettered (seconds).
    outbox_horizon_seconds: float
    #: The longest pause between two delivery attempts (seconds).
    retry_max_seconds: float
    #: The deadline of one delivery (seconds).
    delivery_timeout_seconds: float
    #: How long a claimed notification stays with a dispatcher that may have died (seconds):
    #: after that another one re-sends it. Must exceed the delivery deadline.
    lease_seconds: float
    faults: FaultPlan | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        plan = env.faults()
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="institution-cbss"),
            router_addr=env.str("ROUTER_ADDR", "localhost:50052"),
            router_name=env.str("ROUTER_NAME", "cbss"),
            registry_addr=env.str("REGISTRY_ADDR", "localhost:50051"),
            dimona_addr=env.str("DIMONA_ADDR", "localhost:50056"),
            dmfa_addr=env.str("DMFA_ADDR", "localhost:50057"),
            poll_seconds=env.float("MUTATION_POLL_SECONDS", 0.2, minimum=0.01, maximum=60.0),
            page_size=env.int("MUTATION_PAGE_SIZE", 500, minimum=1, maximum=1000),
            delivery_batch=env.int("MUTATION_DELIVERY_BATCH", 64, minimum=1, maximum=1000),
            ack_poll_seconds=env.float("ACK_POLL_SECONDS", 10.0, minimum=0.0, maximum=86_400.0),
            outbox_horizon_seconds=env.float(
                "OUTBOX_HORIZON_SECONDS", 7 * 24 * 3600.0, minimum=1.0, maximum=30 * 86_400.0
            ),
            retry_max_seconds=env.float(
                "OUTBOX_RETRY_MAX_SECONDS", 60.0, minimum=0.1, maximum=3600.0
            ),
            delivery_timeout_seconds=env.float(
                "DELIVERY_TIMEOUT_SECONDS", 10.0, minimum=0.5, maximum=300.0
            ),
            lease_seconds=env.float("OUTBOX_LEASE_SECONDS", 30.0, minimum=1.0, maximum=3600.0),
            faults=plan,
        )
        if settings.lease_seconds <= settings.delivery_timeout_seconds:
            env.problems.append("OUTBOX_LEASE_SECONDS must exceed DELIVERY_TIMEOUT_SECONDS")
        env.finish()
        return settings
