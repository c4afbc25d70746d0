"""The edge's Envoy configuration, rendered from one source for `make run` and Kubernetes.

`render(EdgeConfig)` returns Envoy's bootstrap as a dict (written as JSON, which Envoy reads):

- **Downstream mTLS** with the mesh's CA: a client without a certificate of the mesh never gets
  a stream. Envoy presents the gateway's certificate (`spiffe://carrefour.local/gateway`).
- **Identity forwarded, never taken from the client**: `forward_client_cert_details:
  SANITIZE_SET` replaces any `x-forwarded-client-cert` a client sends with the verified
  certificate's (URI SAN and subject). The services' runtime (runtime.identity) honours that
  header only when its TLS peer is the gateway itself.
- **Routes by gRPC method** (edge.routes: read from the contracts' access options):
  consultations to the router, declarations and directory/management APIs to their owners,
  nothing else. Admin APIs: an RBAC filter refuses any principal that is not an admin identity
  (PERMISSION_DENIED); the services check again.
- **Upstreams over mTLS** with the gateway's certificate, each upstream's certificate checked
  for the party that owns it (URI SAN), HTTP/2, gRPC health checks, outlier detection (a
  holder failing 5 times in a row is ejected for 10 s), retries only for methods declared
  idempotent (on UNAVAILABLE, reset or refused connection; 2 at most).
- **A per-institution local rate limit**: a token bucket per client certificate (the XFCC value
  Envoy itself set), answering RESOURCE_EXHAUSTED.
- **REST/JSON** for the methods annotated `google.api.http` (the gRPC-JSON transcoder, from the
  descriptor set `make proto` builds), on the same mTLS listener and through the same checks.
- **Access log** of every call without payloads: time, method, gRPC status, duration, the
  client's certificate URI, the upstream, the trace context.
- **The portal's browser listener** (when `portal_port` is set): server TLS only (a browser has
  no client certificate), a token required on every API path — Envoy's `jwt_authn` verifies it
  (RS256 against the identity provider's JWKS, issuer, audience, expiry) before anything reaches
  a service, and forwards its payload in `x-carrefour-claims`, which the services' runtime
  honours only from the gateway (runtime.identity). Only the REST/JSON methods meant for people
  are routed (edge.routes.portal_routes); an API path that maps to none is 404; every other path
  (the pages, `/idp/`, `/openapi.json`) goes to the portal process. `x-carrefour-claims` and
  `x-forwarded-client-cert` are removed from what a browser sends; the certificate listener
  removes `x-carrefour-claims`, so neither listener lets a client claim an identity.
- **Tracing** (when `otlp_endpoint` is set, like the services' OTEL_EXPORTER_OTLP_ENDPOINT):
  Envoy starts or continues each call's W3C trace, exports its span over OTLP/gRPC and passes
  `traceparent` upstream, so the edge, the router, the holder and its database are one trace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge.routes import (
    Route,
    edge_routes,
    portal_api_prefixes,
    portal_routes,
    portal_transcoded_services,
    transcoded_services,
)
from portal import idp
from runtime.identity import CLAIMS_HEADER, TRUST_DOMAIN, XFCC_HEADER

_T = "type.googleapis.com/envoy."
ADMIN_PRINCIPAL_PREFIX = f"spiffe://{TRUST_DOMAIN}/admin/"
OTLP_CLUSTER = "otlp-collector"
#: The party whose certificate each upstream cluster must present.
UPSTREAM_PARTIES: dict[str, str] = {
    "router": f"spiffe://{TRUST_DOMAIN}/router/cbss",
    "dimona": f"spiffe://{TRUST_DOMAIN}/institution/onss",
    "dmfa": f"spiffe://{TRUST_DOMAIN}/institution/onss",
    "drs": f"spiffe://{TRUST_DOMAIN}/institution/onss",
    "mutation": f"spiffe://{TRUST_DOMAIN}/institution/cbss",
    "portal": f"spiffe://{TRUST_DOMAIN}/institution/cbss",
    "warehouse": f"spiffe://{TRUST_DOMAIN}/institution/cbss-dwh",
}
PORTAL = "portal"
JWT_PROVIDER = "portal-idp"
#: The access logs name the ROUTE a request took, never its path: a REST path holds an INSZ
#: (`/registry/v1/persons/{insz}`), and a request refused before it became a gRPC call (no
#: token, an unknown path) still has it. Each method's route is named by its gRPC method, the
#: rest `no-such-method`, `pages` (the portal's files) or `health`.
#: The browser listener's: no client certificate; never the Authorization header.
PORTAL_ACCESS_LOG_FORMAT = (
    "%START_TIME% portal %REQ(:METHOD)% %ROUTE_NAME% status=%RESPONSE_CODE% "
    "grpc-status=%GRPC_STATUS_NUMBER% %DURATION%ms upstream=%UPSTREAM_CLUSTER% "
    "flags=%RESPONSE_FLAGS% trace=%REQ(TRACEPARENT)%\n"
)
ACCESS_LOG_FORMAT = (
    "%START_TIME% %ROUTE_NAME% grpc-status=%GRPC_STATUS_NUMBER% %DURATION%ms "
    "client=%DOWNSTREAM_PEER_URI_SAN% upstream=%UPSTREAM_CLUSTER% flags=%RESPONSE_FLAGS% "
    "upstream-failure=%UPSTREAM_TRANSPORT_FAILURE_REASON% trace=%REQ(TRACEPARENT)%\n"
)


@dataclass(frozen=True)
class EdgeConfig:
    """Where the edge listens, what it presents, and where each upstream cluster is."""

    listen_port: int
    admin_port: int
    cert: Path
    key: Path
    ca: Path
    #: cluster -> "host:port"
    upstreams: dict[str, str]
    access_log: Path
    listen_address: str = "127.0.0.1"
    #: Calls per second per client certificate, and the burst.
    rate_per_institution: int = 500
    burst_per_institution: int = 1000
    parties: dict[str, str] = field(default_factory=lambda: dict(UPSTREAM_PARTIES))
    #: host:port of an OTLP/gRPC collector (plain HTTP/2); empty: no tracing at the edge.
    otlp_endpoint: str = ""
    #: The contracts' descriptor set (`make proto`: gen/carrefour.binpb), for the REST/JSON
    #: transcoder; None: no REST/JSON at the edge.
    descriptors: Path | None = None
    #: The portal's browser listener: its port (0: none), the portal process (host:port), the
    #: identity provider's public JWKS (a file), and the tokens' issuer and audience.
    portal_port: int = 0
    portal_upstream: str = ""
    jwks: Path | None = None
    idp_issuer: str = idp.ISSUER
    idp_audience: str = idp.AUDIENCE
    #: Portal API calls per second per signed-in token, and the burst.
    rate_per_person: int = 20
    burst_per_person: int = 60


def _tls_files(config: EdgeConfig) -> dict[str, Any]:
    return {
        "tls_certificates": [
            {
                "certificate_chain": {"filename": str(config.cert)},
                "private_key": {"filename": str(config.key)},
            }
        ]
    }


def _listener(config: EdgeConfig, routes: list[Route]) -> dict[str, Any]:
    downstream_tls = {
        "@type": _T + "extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": True,
        "common_tls_context": {
            **_tls_files(config),
            "validation_context": {"trusted_ca": {"filename": str(config.ca)}},
            # gRPC speaks HTTP/2; REST/JSON clients may speak HTTP/1.1.
            "alpn_protocols": ["h2", "http/1.1"],
        },
    }
    manager = {
        "@type": _T + "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "edge",
        "codec_type": "AUTO",
        "forward_client_cert_details": "SANITIZE_SET",
        "set_current_client_cert_details": {"subject": True, "uri": True},
        "access_log": _access_log(config, ACCESS_LOG_FORMAT),
        **_tracing(config),
        "route_config": _route_config(config, routes),
        "http_filters": [
            *_transcoder(config, transcoded_services(), reject_unknown=True),
            _rbac(routes),
            _rate_limit(XFCC_HEADER, config.rate_per_institution, config.burst_per_institution),
            _router_filter(),
        ],
    }
    return _tls_listener("edge", config.listen_address, config.listen_port, downstream_tls, manager)


def _tls_listener(
    name: str, address: str, port: int, downstream_tls: dict[str, Any], manager: dict[str, Any]
) -> dict[str, Any]:
    """A listener of one filter chain: TLS, then the HTTP connection manager."""
    return {
        "name": name,
        "address": {"socket_address": {"address": address, "port_value": port}},
        "filter_chains": [
            {
                "transport_socket": {
                    "name": "envoy.transport_sockets.tls",
                    "typed_config": downstream_tls,
                },
                "filters": [
                    {
                        "name": "envoy.filters.network.http_connection_manager",
                        "typed_config": manager,
                    }
                ],
            }
        ],
    }


def _access_log(config: EdgeConfig, line: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": _T + "extensions.access_loggers.file.v3.FileAccessLog",
                "path": str(config.access_log),
                "log_format": {"text_format_source": {"inline_string": line}},
            },
        }
    ]


def _portal_listener(config: EdgeConfig) -> dict[str, Any]:
    """Browsers: server TLS, a token on every API path, only the people's REST methods."""
    downstream_tls = {
        "@type": _T + "extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": False,
        "common_tls_context": {**_tls_files(config), "alpn_protocols": ["h2", "http/1.1"]},
    }
    manager = {
        "@type": _T + "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "portal",
        "codec_type": "AUTO",
        # A browser has no certificate: nothing of the kind is forwarded, any XFCC is dropped.
        "forward_client_cert_details": "SANITIZE",
        "access_log": _access_log(config, PORTAL_ACCESS_LOG_FORMAT),
        **_tracing(config),
        "route_config": _portal_route_config(),
        "http_filters": [
            # Before the token is read: a header a browser sent never passes as verified claims.
            _remove_request_headers("strip-claims", [CLAIMS_HEADER, XFCC_HEADER]),
            _jwt_authn(config),
            *_transcoder(config, portal_transcoded_services(), reject_unknown=False),
            _rate_limit(CLAIMS_HEADER, config.rate_per_person, config.burst_per_person),
            _router_filter(),
        ],
    }
    return _tls_listener(
        "portal", config.listen_address, config.portal_port, downstream_tls, manager
    )


def _remove_request_headers(name: str, headers: list[str]) -> dict[str, Any]:
    return {
        "name": f"envoy.filters.http.header_mutation.{name}",
        "typed_config": {
            "@type": _T + "extensions.filters.http.header_mutation.v3.HeaderMutation",
            "mutations": {
                "request_mutations": [{"remove": header} for header in headers],
            },
        },
    }


def _jwt_authn(config: EdgeConfig) -> dict[str, Any]:
    """Tokens of the identity provider, required on the API paths (and on raw gRPC paths)."""
    if config.jwks is None:
        raise ValueError("the portal listener needs the identity provider's JWKS")
    required = {"requires": {"provider_name": JWT_PROVIDER}}
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": _T + "extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                JWT_PROVIDER: {
                    "issuer": config.idp_issuer,
                    "audiences": [config.idp_audience],
                    "local_jwks": {"filename": str(config.jwks)},
                    "forward": False,  # the token itself never reaches a service
                    "forward_payload_header": CLAIMS_HEADER,
                    "clock_skew_seconds": 30,
                }
            },
            "rules": [
                *({"match": {"prefix": p}, **required} for p in portal_api_prefixes()),
                {"match": {"prefix": "/cbss."}, **required},
                {"match": {"prefix": "/grpc."}, **required},
            ],
        },
    }


def _portal_route_config() -> dict[str, Any]:
    """After transcoding, the gRPC paths of the people's methods; the API paths that mapped to
    none are 404 (JSON); everything else is the portal process's (pages, `/idp/`, OpenAPI)."""
    entries: list[dict[str, Any]] = [
        {
            "name": route.path,
            "match": {"path": route.path, "grpc": {}},
            "route": {"cluster": route.cluster, "timeout": "30s"},
        }
        for route in portal_routes()
    ]
    not_found = {
        "status": 404,
        "body": {"inline_string": '{"code": 5, "message": "no such API method"}'},
    }
    for prefix in [*portal_api_prefixes(), "/cbss.", "/grpc."]:
        entries.append(
            {
                "name": "no-such-method",
                "match": {"prefix": prefix},
                "direct_response": not_found,
                "response_headers_to_add": [
                    {"header": {"key": "content-type", "value": "application/json"}}
                ],
            }
        )
    entries.append(
        {"name": "pages", "match": {"prefix": "/"}, "route": {"cluster": PORTAL, "timeout": "15s"}}
    )
    return {
        "name": "portal",
        "virtual_hosts": [{"name": "portal", "domains": ["*"], "routes": entries}],
    }


def _portal_cluster(config: EdgeConfig) -> dict[str, Any]:
    """The portal process: HTTP/1.1 over mTLS (the gateway's certificate), health on /healthz."""
    host, _, port = config.portal_upstream.rpartition(":")
    upstream_tls = {
        "@type": _T + "extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "common_tls_context": {
            **_tls_files(config),
            "validation_context": {
                "trusted_ca": {"filename": str(config.ca)},
                "match_typed_subject_alt_names": [
                    {"san_type": "URI", "matcher": {"exact": config.parties[PORTAL]}}
                ],
            },
            "alpn_protocols": ["http/1.1"],
        },
    }
    return {
        "name": PORTAL,
        "type": "STRICT_DNS",
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": PORTAL,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {"address": host, "port_value": int(port)}
                                }
                            }
                        }
                    ]
                }
            ],
        },
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "5s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "http_health_check": {"path": "/healthz"},
            }
        ],
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": upstream_tls},
    }


def _tracing(config: EdgeConfig) -> dict[str, Any]:
    if not config.otlp_endpoint:
        return {}
    return {
        "tracing": {
            "provider": {
                "name": "envoy.tracers.opentelemetry",
                "typed_config": {
                    "@type": _T + "config.trace.v3.OpenTelemetryConfig",
                    "grpc_service": {
                        "envoy_grpc": {"cluster_name": OTLP_CLUSTER},
                        "timeout": "2s",
                    },
                    "service_name": "cbss.edge",
                },
            },
            "spawn_upstream_span": False,
        }
    }


def _otlp_cluster(config: EdgeConfig) -> dict[str, Any]:
    """The collector: plain HTTP/2 (OTLP/gRPC), on the operators' side."""
    return _h2_cluster(OTLP_CLUSTER, config.otlp_endpoint.removeprefix("http://"))


def _h2_cluster(name: str, address: str) -> dict[str, Any]:
    """An HTTP/2 cluster of one endpoint, host:port."""
    host, _, port = address.rpartition(":")
    return {
        "name": name,
        "type": "STRICT_DNS",
        # The services listen on IPv4 (GRPC_HOST 127.0.0.1 by default): never try ::1 first.
        "dns_lookup_family": "V4_ONLY",
        "connect_timeout": "2s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": _T + "extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {"address": host, "port_value": int(port)}
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }


def _route_config(config: EdgeConfig, routes: list[Route]) -> dict[str, Any]:
    entries = []
    for route in routes:
        action: dict[str, Any] = {"cluster": route.cluster, "timeout": "60s"}
        if route.idempotent:
            action["retry_policy"] = {
                "retry_on": "unavailable,reset,connect-failure,refused-stream",
                "num_retries": 2,
            }
        entries.append(
            {"name": route.path, "match": {"path": route.path, "grpc": {}}, "route": action}
        )
    # The health of the edge is the router's: a client (or `make run`) asking the edge's health
    # learns whether consultations can pass.
    entries.append(
        {
            "name": "health",
            "match": {"path": "/grpc.health.v1.Health/Check", "grpc": {}},
            "route": {"cluster": "router", "timeout": "5s"},
        }
    )
    return {
        "name": "edge",
        # A verified token's claims come only from the portal listener.
        "request_headers_to_remove": [CLAIMS_HEADER],
        "virtual_hosts": [
            {
                "name": "carrefour",
                "domains": ["*"],
                "routes": entries,
            }
        ],
    }


def _transcoder(
    config: EdgeConfig, services: list[str], *, reject_unknown: bool
) -> list[dict[str, Any]]:
    """REST/JSON to gRPC for the annotated methods of `services`; before the checks and routes
    that follow, so that they see the gRPC call. gRPC requests pass untouched; an HTTP request
    that maps to no method is refused (404) when `reject_unknown` (the portal listener passes it
    on to its routes instead: the pages), and gRPC errors come back as JSON with their details."""
    if config.descriptors is None:
        return []
    return [
        {
            "name": "envoy.filters.http.grpc_json_transcoder",
            "typed_config": {
                "@type": _T + "extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
                "proto_descriptor": str(config.descriptors),
                "services": services,
                "print_options": {
                    "add_whitespace": True,
                    "always_print_primitive_fields": True,
                    "preserve_proto_field_names": True,
                },
                "convert_grpc_status": True,
                "request_validation_options": {"reject_unknown_method": reject_unknown},
                "ignore_unknown_query_parameters": True,
            },
        }
    ]


def _rbac(routes: list[Route]) -> dict[str, Any]:
    admin_paths = sorted({r.path.rsplit("/", 1)[0] + "/" for r in routes if r.admin_only})
    return {
        "name": "envoy.filters.http.rbac",
        "typed_config": {
            "@type": _T + "extensions.filters.http.rbac.v3.RBAC",
            "rules": {
                "action": "DENY",
                "policies": {
                    "admin-apis-for-admins-only": {
                        "permissions": [
                            {"url_path": {"path": {"prefix": prefix}}} for prefix in admin_paths
                        ],
                        "principals": [
                            {
                                "not_id": {
                                    "authenticated": {
                                        "principal_name": {"prefix": ADMIN_PRINCIPAL_PREFIX}
                                    }
                                }
                            }
                        ],
                    }
                },
            },
        },
    }


def _rate_limit(header: str, rate: int, burst: int) -> dict[str, Any]:
    """A token bucket per distinct value of `header`, which Envoy itself set: the client
    certificate's XFCC, or a signed-in person's verified claims."""
    bucket = {"max_tokens": burst, "tokens_per_fill": rate, "fill_interval": "1s"}
    return {
        "name": "envoy.filters.http.local_ratelimit",
        "typed_config": {
            "@type": _T + "extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "stat_prefix": "edge_rate_limit",
            # The listener-wide bucket is generous: the per-client descriptors do the limiting.
            "token_bucket": {
                "max_tokens": 1_000_000,
                "tokens_per_fill": 1_000_000,
                "fill_interval": "1s",
            },
            "filter_enabled": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}},
            "filter_enforced": {"default_value": {"numerator": 100, "denominator": "HUNDRED"}},
            "rate_limited_as_resource_exhausted": True,
            "rate_limits": [
                {
                    "actions": [
                        {"request_headers": {"header_name": header, "descriptor_key": "client"}}
                    ]
                }
            ],
            "descriptors": [{"entries": [{"key": "client", "value": ""}], "token_bucket": bucket}],
            "max_dynamic_descriptors": 10_000,
        },
    }


def _router_filter() -> dict[str, Any]:
    return {
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": _T + "extensions.filters.http.router.v3.Router"},
    }


def _cluster(config: EdgeConfig, name: str) -> dict[str, Any]:
    upstream_tls = {
        "@type": _T + "extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        "common_tls_context": {
            **_tls_files(config),
            "validation_context": {
                "trusted_ca": {"filename": str(config.ca)},
                "match_typed_subject_alt_names": [
                    {"san_type": "URI", "matcher": {"exact": config.parties[name]}}
                ],
            },
            "alpn_protocols": ["h2"],
        },
    }
    return {
        **_h2_cluster(name, config.upstreams[name]),
        "health_checks": [
            {
                "timeout": "1s",
                "interval": "5s",
                "unhealthy_threshold": 2,
                "healthy_threshold": 1,
                "grpc_health_check": {},
            }
        ],
        "outlier_detection": {
            "consecutive_5xx": 5,
            "base_ejection_time": "10s",
            "max_ejection_percent": 100,
        },
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": upstream_tls},
    }


def render(config: EdgeConfig) -> dict[str, Any]:
    """Envoy's bootstrap for the edge."""
    routes = edge_routes()
    clusters = sorted({r.cluster for r in routes} | {"router"})
    missing = [c for c in clusters if c not in config.upstreams]
    if missing:
        raise ValueError(f"no address for upstream cluster(s): {', '.join(missing)}")
    bootstrap: dict[str, Any] = {
        "admin": {
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": config.admin_port}}
        },
        "static_resources": {
            "listeners": [_listener(config, routes)],
            "clusters": [_cluster(config, name) for name in clusters],
        },
    }
    if config.portal_port:
        if not config.portal_upstream:
            raise ValueError("no address for the portal process")
        if config.descriptors is None:
            raise ValueError("the portal listener serves REST/JSON: it needs the descriptor set")
        bootstrap["static_resources"]["listeners"].append(_portal_listener(config))
        bootstrap["static_resources"]["clusters"].append(_portal_cluster(config))
    if config.otlp_endpoint:
        bootstrap["static_resources"]["clusters"].append(_otlp_cluster(config))
        # Spans leave within half a second, one by one (Envoy's default waits 5 s or 5 spans).
        bootstrap["layered_runtime"] = {
            "layers": [
                {
                    "name": "edge",
                    "static_layer": {
                        "tracing.opentelemetry.flush_interval_ms": 500,
                        "tracing.opentelemetry.min_flush_spans": 1,
                    },
                }
            ]
        }
    return bootstrap


def write(config: EdgeConfig, path: Path) -> Path:
    """Render to `path` (JSON); returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    config.access_log.parent.mkdir(parents=True, exist_ok=True)  # Envoy opens it at start
    path.write_text(json.dumps(render(config), indent=2) + "\n")
    return path
