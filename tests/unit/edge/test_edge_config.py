"""The edge's routes and Envoy configuration, as rendered (no Envoy needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.envoy import EdgeConfig, render
from edge.routes import ADMIN_ONLY, edge_routes

UPSTREAMS = {
    "router": "localhost:1",
    "dimona": "localhost:2",
    "dmfa": "localhost:3",
    "drs": "localhost:4",
    "mutation": "localhost:5",
    "warehouse": "localhost:7",
}


def _config(**upstreams: str) -> EdgeConfig:
    return EdgeConfig(
        listen_port=9,
        admin_port=0,
        cert=Path("g.pem"),
        key=Path("g.key"),
        ca=Path("ca.pem"),
        upstreams=upstreams or UPSTREAMS,
        access_log=Path("access.log"),
    )


def _by_path() -> dict[str, object]:
    return {r.path: r for r in edge_routes()}


def test_consultations_go_to_the_router_and_declarations_to_their_owner() -> None:
    routes = _by_path()
    assert routes["/cbss.registry.v1.RegistryService/GetPerson"].cluster == "router"
    assert routes["/cbss.dimona.v1.DimonaConsultationService/ListWorkerPeriods"].cluster == "router"
    assert routes["/cbss.dimona.v1.DimonaService/SubmitDeclaration"].cluster == "dimona"
    assert routes["/cbss.dmfa.v1.DmfaService/SubmitDeclaration"].cluster == "dmfa"
    assert routes["/cbss.drs.v1.DrsService/PrefillDeclaration"].cluster == "drs"


def test_internal_methods_have_no_route_at_the_edge() -> None:
    routes = _by_path()
    for internal in (
        "/cbss.registry.v1.RegistryService/RecordDeath",  # the register's own mutations
        "/cbss.registry.v1.RegistryService/ListMutationEvents",  # the feeds
        "/cbss.dimona.v1.EmploymentEventService/ListEmploymentEvents",
        "/cbss.inbox.v1.InboxService/ListAttestations",  # each institution's own inbox
        "/cbss.echo.v1.EchoService/Echo",
    ):
        assert internal not in routes


def test_admin_services_are_admin_only_and_nothing_else_is() -> None:
    for route in edge_routes():
        assert route.admin_only == (route.path.split("/")[1] in ADMIN_ONLY)
    rules = render(_config())["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    rbac = rules["typed_config"]["http_filters"][0]["typed_config"]["rules"]
    prefixes = {
        p["url_path"]["path"]["prefix"]
        for p in rbac["policies"]["admin-apis-for-admins-only"]["permissions"]
    }
    assert prefixes == {f"/{name}/" for name in ADMIN_ONLY}
    assert rbac["action"] == "DENY"


def test_retries_only_for_methods_declared_safe_to_repeat() -> None:
    routes = _by_path()
    assert routes["/cbss.drs.v1.DrsService/GetDeclaration"].idempotent
    assert not routes["/cbss.drs.v1.DrsService/SubmitDeclaration"].idempotent
    listener = render(_config())["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    entries = manager["route_config"]["virtual_hosts"][0]["routes"]
    retried = {e["match"]["path"] for e in entries if "retry_policy" in e["route"]}
    assert retried == {r.path for r in edge_routes() if r.idempotent}


def test_client_identity_header_is_always_set_by_envoy() -> None:
    listener = render(_config())["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["forward_client_cert_details"] == "SANITIZE_SET"
    tls = listener["filter_chains"][0]["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True


def test_every_upstream_is_reached_over_mtls_checking_its_owner() -> None:
    clusters = render(_config())["static_resources"]["clusters"]
    assert {c["name"] for c in clusters} == set(UPSTREAMS)
    for cluster in clusters:
        context = cluster["transport_socket"]["typed_config"]["common_tls_context"]
        (san,) = context["validation_context"]["match_typed_subject_alt_names"]
        assert san["matcher"]["exact"].startswith("spiffe://carrefour.local/")
        assert context["tls_certificates"][0]["certificate_chain"]["filename"] == "g.pem"
        assert "grpc_health_check" in cluster["health_checks"][0]


def test_missing_upstream_address_is_refused() -> None:
    with pytest.raises(ValueError, match="dmfa"):
        render(_config(router="a:1", dimona="b:2", drs="c:3", mutation="d:4", warehouse="e:5"))


# -- the portal's browser listener ---------------------------------------------------------
def _portal_config(**changes: object) -> EdgeConfig:
    from dataclasses import replace

    portal = {
        "portal_port": 10,
        "portal_upstream": "localhost:6",
        "jwks": Path("jwks.json"),
        "descriptors": Path("carrefour.binpb"),
    }
    return replace(_config(), **{**portal, **changes})  # type: ignore[arg-type]


def _portal_manager() -> dict:
    listeners = render(_portal_config())["static_resources"]["listeners"]
    (portal,) = [listener for listener in listeners if listener["name"] == "portal"]
    return portal


def test_browsers_reach_only_the_peoples_rest_methods() -> None:
    from edge.routes import portal_routes

    paths = {r.path: r for r in portal_routes()}
    assert paths["/cbss.registry.v1.RegistryService/GetPerson"].self_service
    assert paths["/cbss.router.v1.CitizenService/ListMyConsultations"].cluster == "router"
    assert paths["/cbss.dimona.v1.DimonaService/SubmitDeclaration"].cluster == "dimona"
    assert all(r.http and not r.admin_only for r in paths.values())
    for never in (
        "/cbss.router.v1.DirectoryService/RegisterEntries",  # institutions' own APIs
        "/cbss.router.v1.MessageLogService/ListMessages",
        "/cbss.mutuality.v1.MutualityService/GetAffiliation",  # not self-service
        "/cbss.router.v1.RouterAdminService/GrantAuthorisation",
        "/cbss.dmfa.v1.DmfaService/SubmitDeclaration",  # a stream: no REST mapping
    ):
        assert never not in paths
    # The citizen's own service is never on the certificate listener.
    assert not any(r.path.startswith("/cbss.router.v1.CitizenService/") for r in edge_routes())


def test_portal_listener_requires_no_certificate_and_forwards_none() -> None:
    portal = _portal_manager()
    tls = portal["filter_chains"][0]["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is False
    manager = portal["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["forward_client_cert_details"] == "SANITIZE"


def test_portal_listener_strips_claims_before_verifying_the_token() -> None:
    from edge.routes import portal_api_prefixes

    manager = _portal_manager()["filter_chains"][0]["filters"][0]["typed_config"]
    names = [f["name"] for f in manager["http_filters"]]
    strip = names.index("envoy.filters.http.header_mutation.strip-claims")
    jwt = names.index("envoy.filters.http.jwt_authn")
    assert strip < jwt < names.index("envoy.filters.http.grpc_json_transcoder")
    removed = manager["http_filters"][strip]["typed_config"]["mutations"]["request_mutations"]
    assert {m["remove"] for m in removed} == {"x-carrefour-claims", "x-forwarded-client-cert"}
    jwt_config = manager["http_filters"][jwt]["typed_config"]
    (provider,) = jwt_config["providers"].values()
    assert provider["forward"] is False
    assert provider["forward_payload_header"] == "x-carrefour-claims"
    assert provider["audiences"] == ["carrefour-portal"]
    required = {r["match"]["prefix"] for r in jwt_config["rules"] if "requires" in r}
    assert set(portal_api_prefixes()) | {"/cbss.", "/grpc."} <= required
    assert all("requires" in r for r in jwt_config["rules"])  # nothing else is exempted


def test_certificate_listener_removes_claims_a_client_sends() -> None:
    listener = render(_config())["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["route_config"]["request_headers_to_remove"] == ["x-carrefour-claims"]


def test_portal_process_is_reached_over_mtls_checking_its_owner() -> None:
    clusters = {c["name"]: c for c in render(_portal_config())["static_resources"]["clusters"]}
    context = clusters["portal"]["transport_socket"]["typed_config"]["common_tls_context"]
    (san,) = context["validation_context"]["match_typed_subject_alt_names"]
    assert san["matcher"]["exact"] == "spiffe://carrefour.local/institution/cbss"
    assert clusters["portal"]["health_checks"][0]["http_health_check"]["path"] == "/healthz"


def test_portal_listener_needs_its_upstream_and_keys() -> None:
    with pytest.raises(ValueError, match="portal"):
        render(_portal_config(portal_upstream=""))
    with pytest.raises(ValueError, match="JWKS"):
        render(_portal_config(jwks=None))
    with pytest.raises(ValueError, match="descriptor set"):
        render(_portal_config(descriptors=None))
