"""The router's settings: the runtime's, plus its name, the register, the log's checkpoints and
the legal contexts a person is never shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from router.service.log_queries import (
    CONFIDENTIAL,
    DEFAULT_CONFIDENTIAL_CONTEXTS,
    ConfidentialContexts,
)
from runtime.config import EnvReader, RuntimeSettings
from runtime.faults import FaultPlan

SERVICE = "router"


@dataclass(frozen=True)
class Settings:
    """Everything the router reads from its environment."""

    runtime: RuntimeSettings
    #: This router's name: `router/<name>` in its certificate, and its log chains' prefix.
    name: str
    #: Where the National Register's service answers the router's person checks.
    registry_addr: str
    #: The institution whose certificate that endpoint must present.
    registry_institution: str
    #: A signed log checkpoint every this many rows...
    checkpoint_rows: int
    #: ...or every this many seconds when rows were written since the last one.
    checkpoint_seconds: float
    #: Group commit of the message log: with at least `log_commit_siblings` messages in
    #: flight, a commit waits this long (seconds) for the others to join it.
    log_commit_delay: float
    log_commit_siblings: int
    #: The person-status index (router.transport.person_index): `strict` (a check sees every
    #: change recorded before it began), `bounded` (within `person_index_staleness` seconds) or
    #: `off` (the register is asked on every message).
    person_index: str
    #: Bounded mode only: how stale the index may be (seconds).
    person_index_staleness: float
    #: How long the message log keeps rows before `archive-log` moves them out (days; the
    #: CBSS keeps its log at least ten years).
    log_retention_days: int
    #: On a hub: the primary router (host:port), where members' integrations are propagated.
    upstream_addr: str
    #: The primary router's name (its certificate is router/<name>).
    upstream_name: str
    #: Seeded fault points (runtime.faults; tests only): `router.after_forward`.
    faults: FaultPlan | None = None
    #: CONFIDENTIAL_LEGAL_CONTEXTS: legal contexts whose crossings a person is never shown
    #: (the portal's ListMyConsultations, the log's citizen view): comma-separated, `name.*`
    #: for every context starting `name.`, `-` for none. Default (router.service.log_queries):
    #: police.*, judicial.*, social-inspection.*, anti-fraud.* — an investigation must not
    #: warn the person it is about.
    confidential_legal_contexts: ConfidentialContexts = CONFIDENTIAL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="router"),
            name=env.str("ROUTER_NAME", "cbss"),
            registry_addr=env.str("REGISTRY_ADDR", "localhost:50051"),
            registry_institution=env.str("REGISTRY_INSTITUTION", "nr"),
            checkpoint_rows=env.int("LOG_CHECKPOINT_ROWS", 1000, minimum=1, maximum=1_000_000),
            checkpoint_seconds=env.float(
                "LOG_CHECKPOINT_SECONDS", 10.0, minimum=0.1, maximum=3600.0
            ),
            log_commit_delay=env.float("LOG_COMMIT_DELAY_MS", 0.0, minimum=0.0, maximum=100.0)
            / 1000,
            log_commit_siblings=env.int("LOG_COMMIT_SIBLINGS", 5, minimum=1, maximum=10_000),
            person_index=env.choice("PERSON_INDEX", "strict", ("strict", "bounded", "off")),
            person_index_staleness=env.float(
                "PERSON_INDEX_STALENESS_SECONDS", 1.0, minimum=0.05, maximum=60.0
            ),
            log_retention_days=env.int("LOG_RETENTION_DAYS", 3650, minimum=1, maximum=36500),
            upstream_addr=env.str("UPSTREAM_ROUTER_ADDR", ""),
            upstream_name=env.str("UPSTREAM_ROUTER_NAME", "cbss"),
            faults=env.faults(),
            confidential_legal_contexts=_confidential(env),
        )
        env.finish()
        return settings


def _confidential(env: EnvReader) -> ConfidentialContexts:
    text = env.str("CONFIDENTIAL_LEGAL_CONTEXTS", DEFAULT_CONFIDENTIAL_CONTEXTS)
    try:
        return ConfidentialContexts.parse(text)
    except ValueError as exc:
        env.problems.append(f"CONFIDENTIAL_LEGAL_CONTEXTS: {exc}")
        return CONFIDENTIAL
