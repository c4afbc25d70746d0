"""The edge's settings, from its environment (like every service's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edge.envoy import EdgeConfig
from portal import idp
from runtime.config import EnvReader
from runtime.pki import IDP_JWKS

#: The descriptor set `make proto` builds, in this work tree.
DESCRIPTORS = Path(__file__).resolve().parents[2] / "gen" / "carrefour.binpb"

#: The upstream clusters and the variables naming their addresses (the services' own ports
#: with the default base).
UPSTREAM_VARIABLES = {
    "router": ("ROUTER_ADDR", "localhost:50052"),
    "dimona": ("DIMONA_ADDR", "localhost:50056"),
    "dmfa": ("DMFA_ADDR", "localhost:50057"),
    "drs": ("DRS_ADDR", "localhost:50058"),
    "mutation": ("MUTATION_ADDR", "localhost:50059"),
    "warehouse": ("WAREHOUSE_ADDR", "localhost:50065"),
}


@dataclass(frozen=True)
class Settings:
    edge: EdgeConfig
    config_path: Path
    #: Envoy's worker threads: 1 on a 2-core machine (Envoy's own advice for small hosts).
    concurrency: int
    log_level: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        var_dir = Path(env.str("VAR_DIR", "var")).resolve()
        pki_dir = Path(env.str("PKI_DIR", str(var_dir / "pki"))).resolve()
        port = env.int("GRPC_PORT", 50049, minimum=0, maximum=65535)
        portal_port = env.int("EDGE_PORTAL_PORT", 0, minimum=0, maximum=65535)
        edge = EdgeConfig(
            listen_address=env.str("GRPC_HOST", "127.0.0.1"),
            listen_port=port,
            # Envoy's admin interface (127.0.0.1 only): /stats/prometheus is the edge's metrics.
            admin_port=env.int(
                "EDGE_ADMIN_PORT",
                env.int("METRICS_PORT", 0, minimum=0, maximum=65535),
                minimum=0,
                maximum=65535,
            ),
            cert=env.file("TLS_CERT_FILE", pki_dir / "gateway.pem").resolve(),
            key=env.file("TLS_KEY_FILE", pki_dir / "gateway.key").resolve(),
            ca=env.file("TLS_CA_FILE", pki_dir / "ca.pem").resolve(),
            upstreams={
                cluster: env.str(variable, default)
                for cluster, (variable, default) in UPSTREAM_VARIABLES.items()
            },
            access_log=Path(env.str("EDGE_ACCESS_LOG", str(var_dir / "log" / "edge-access.log"))),
            rate_per_institution=env.int(
                "EDGE_RATE_PER_INSTITUTION", 500, minimum=1, maximum=1_000_000
            ),
            burst_per_institution=env.int(
                "EDGE_BURST_PER_INSTITUTION", 1000, minimum=1, maximum=1_000_000
            ),
            # The collector the services export to (OTEL_TRACES_EXPORTER=otlp) gets the edge's
            # spans too; unset, the edge does not trace.
            otlp_endpoint=env.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            # REST/JSON at the edge reads the contracts' descriptor set (`make proto`).
            descriptors=env.file("EDGE_DESCRIPTORS", DESCRIPTORS).resolve(),
            # The portal's browser listener (0: none) in front of the portal process; tokens
            # verified with the identity provider's public keys (the dev PKI's, `make pki`).
            portal_port=portal_port,
            portal_upstream=env.str("PORTAL_ADDR", "localhost:50047") if portal_port else "",
            jwks=env.file("EDGE_JWKS", pki_dir / IDP_JWKS).resolve() if portal_port else None,
            idp_issuer=env.str("EDGE_TOKEN_ISSUER", idp.ISSUER),
            idp_audience=env.str("EDGE_TOKEN_AUDIENCE", idp.AUDIENCE),
            rate_per_person=env.int("EDGE_RATE_PER_PERSON", 20, minimum=1, maximum=1_000_000),
            burst_per_person=env.int("EDGE_BURST_PER_PERSON", 60, minimum=1, maximum=1_000_000),
        )
        settings = cls(
            edge=edge,
            config_path=Path(env.str("EDGE_CONFIG", str(var_dir / "edge" / "envoy.json"))),
            concurrency=env.int("EDGE_CONCURRENCY", 1, minimum=1, maximum=64),
            log_level=env.choice(
                "EDGE_LOG_LEVEL", "warning", ("trace", "debug", "info", "warning", "error")
            ),
        )
        env.finish()
        return settings
