"""The portal process on a real port over mTLS: only the gateway gets an answer, the pages with
their security headers, no way out of the static folder, the development identity provider's
tokens (verified with PyJWT against its JWKS) and refusals, the OpenAPI document, and the log."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.config import Settings
from portal.idp import AUDIENCE, ISSUER
from portal.server import PortalServer
from runtime import pki as dev_pki
from tests.integration.portal.conftest import (
    Reply,
    call,
    client_context,
    portal_env,
    serving,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
JAN, MARIE, THOMAS = "85071412330", "03020100274", "90052104586"
RETAIL = "000100006"


def _post_json(port: int, context: ssl.SSLContext, path: str, payload: object) -> Reply:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return call(port, context, "POST", path, body, {"Content-Type": "application/json"})


# -- who may call -----------------------------------------------------------------------------


def test_gateway_gets_the_sign_in_page_with_security_headers_when_it_asks(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    reply = call(portal.port, gateway, "GET", "/")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-store"
    csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert b'<script type="module" src="/js/signin.js">' in reply.body


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/js/employer.js", "text/javascript; charset=utf-8"),
        ("/css/portal.css", "text/css; charset=utf-8"),
        ("/i18n/nl.json", "application/json"),
        ("/favicon.svg", "image/svg+xml"),
        ("/citizen.html", "text/html; charset=utf-8"),
    ],
)
def test_static_files_have_their_content_type_when_served(
    portal: PortalServer, gateway: ssl.SSLContext, path: str, content_type: str
) -> None:
    reply = call(portal.port, gateway, "GET", path)
    assert (reply.status, reply.headers["Content-Type"]) == (200, content_type)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    head = call(portal.port, gateway, "HEAD", path)
    assert head.status == 200 and head.body == b""
    assert head.headers["Content-Length"] == str(len(reply.body))


def test_another_party_of_the_mesh_is_refused_when_it_is_not_the_gateway(
    portal: PortalServer, pki_dir: Path
) -> None:
    for party in ("institution-onem", "employer-000100006", "portal", "admin-ops"):
        reply = call(portal.port, client_context(pki_dir, party), "GET", "/")
        assert reply.status == 403, party
        assert reply.json()["reason"] == "NOT_THE_GATEWAY"
        token = _post_json(portal.port, client_context(pki_dir, party), "/idp/token", {"sub": JAN})
        assert token.status == 403 and b"access_token" not in token.body


def test_health_answers_the_gateway_and_operators_only_when_probed(
    portal: PortalServer, gateway: ssl.SSLContext, pki_dir: Path
) -> None:
    assert call(portal.port, gateway, "GET", "/healthz").json() == {"status": "SERVING"}
    admin = call(portal.port, client_context(pki_dir, "admin-ops"), "GET", "/healthz")
    assert admin.status == 200
    onem = call(portal.port, client_context(pki_dir, "institution-onem"), "GET", "/healthz")
    assert onem.status == 403


def test_handshake_fails_when_the_client_has_no_certificate(
    portal: PortalServer, pki_dir: Path
) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        call(portal.port, client_context(pki_dir, None), "GET", "/")


def test_handshake_fails_when_the_certificate_is_from_another_ca(
    portal: PortalServer, pki_dir: Path, tmp_path: Path
) -> None:
    """A certificate naming the gateway, but issued by a CA the portal does not trust."""
    other = tmp_path / "other-pki"
    dev_pki.init(other, (dev_pki.Party("gateway", "gateway"),))
    context = ssl.create_default_context(cafile=str(pki_dir / "ca.pem"))
    context.load_cert_chain(other / "gateway.pem", other / "gateway.key")
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        call(portal.port, context, "GET", "/")
    # The server is still serving others afterwards.
    assert call(portal.port, client_context(pki_dir, "gateway"), "GET", "/healthz").status == 200


# -- static files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/..%2f..%2fsecret.txt", "/link.txt", "/.hidden.txt", "/js/", "/i18n", "/js\\..\\x.js",
        "//etc/passwd", "/static/index.html", "/index.html%00", "/README.md",
    ],
)  # fmt: skip
def test_paths_out_of_the_pages_are_404_when_asked(
    portal: PortalServer, gateway: ssl.SSLContext, path: str
) -> None:
    reply = call(portal.port, gateway, "GET", path)
    assert reply.status == 404
    assert reply.json() == {"error": "Not found.", "reason": "NOT_FOUND"}
    assert b"TOP-SECRET" not in reply.body


_SEGMENTS = st.sampled_from(
    ["..", ".", "", "js", "i18n", "api.js", "en.json", "index.html", "secret.txt", "link.txt",
     ".hidden.txt", "%2e%2e", "%2f", "%2e", "%5c", "..%2f", "%252e%252e", "static", "~"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_SEGMENTS, min_size=1, max_size=6), st.sampled_from(["GET", "HEAD"]))
def test_no_path_reaches_a_file_outside_the_pages_when_fuzzed(
    portal: PortalServer, gateway: ssl.SSLContext, site: Path, segments: list[str], method: str
) -> None:
    path = "/" + "/".join(segments)
    reply = call(portal.port, gateway, method, path)
    assert reply.status in (200, 404), path
    assert b"TOP-SECRET" not in reply.body
    if reply.status == 200 and method == "GET":
        served = {p.read_bytes() for p in site.rglob("*") if p.is_file() and not p.is_symlink()}
        assert reply.body in served


def test_other_methods_are_refused_with_allow_when_used(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        reply = call(portal.port, gateway, method, "/index.html", b"")
        assert reply.status == 405, method
        assert reply.headers["Allow"] == "GET, HEAD"
    assert call(portal.port, gateway, "POST", "/", b"{}").status == 405
    assert call(portal.port, gateway, "GET", "/idp/token").headers["Allow"] == "POST"


def test_a_malformed_request_gets_a_json_400_with_the_headers_when_sent(
    portal: PortalServer, pki_dir: Path
) -> None:
    for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/7.1\r\n\r\n"):
        with _raw(portal.port, pki_dir) as tls:
            tls.sendall(garbage)
            head = tls.recv(4096).decode()
        assert head.startswith(("HTTP/1.1 400", "HTTP/1.1 505")), head
        assert "Content-Security-Policy" in head and "application/json" in head


def _raw(port: int, pki_dir: Path):  # noqa: ANN202 - a context manager of an SSL socket
    import socket

    context = client_context(pki_dir, "gateway")
    sock = socket.create_connection(("localhost", port), timeout=10)
    return context.wrap_socket(sock, server_hostname="localhost")


# -- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_document_is_served_when_generated(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    reply = call(portal.port, gateway, "GET", "/openapi.json")
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    assert reply.json()["openapi"] == "3.1.0"


def test_openapi_is_a_clear_404_when_not_generated(pki_dir: Path, tmp_path: Path) -> None:
    env = portal_env(pki_dir, PORTAL_OPENAPI=str(tmp_path / "missing.json"))
    with serving(Settings.from_env(env)) as server:
        reply = call(server.port, client_context(pki_dir, "gateway"), "GET", "/openapi.json")
    assert reply.status == 404
    assert reply.json()["reason"] == "OPENAPI_NOT_GENERATED"
    assert "make proto" in reply.json()["error"]


# -- the development identity provider --------------------------------------------------------


def _verify(portal: PortalServer, gateway: ssl.SSLContext, token: str) -> dict:
    jwks = call(portal.port, gateway, "GET", "/idp/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)


def test_published_jwks_is_the_dev_pki_one_when_read(
    portal: PortalServer, gateway: ssl.SSLContext, pki_dir: Path
) -> None:
    assert call(portal.port, gateway, "GET", "/idp/jwks.json").json() == dev_pki.idp_jwks(pki_dir)


def test_people_are_listed_for_the_sign_in_page_when_asked(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    reply = call(portal.port, gateway, "GET", "/idp/people")
    assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
    people = {p["sub"]: p for p in reply.json()["people"]}
    assert people[JAN]["name"] == "Jan Peeters"
    assert {m["role"] for m in people[THOMAS]["mandates"]} == {"reader"}


def test_a_citizen_and_an_agent_get_verifiable_tokens_when_they_sign_in(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    citizen = _post_json(portal.port, gateway, "/idp/token", {"sub": JAN})
    assert citizen.status == 200 and citizen.headers["Cache-Control"] == "no-store"
    assert citizen.json()["token_type"] == "Bearer" and citizen.json()["expires_in"] == 900
    claims = _verify(portal, gateway, citizen.json()["access_token"])
    assert claims["sub"] == JAN and "employer" not in claims
    agent = _post_json(portal.port, gateway, "/idp/token", {"sub": THOMAS, "employer": RETAIL})
    claims = _verify(portal, gateway, agent.json()["access_token"])
    assert (claims["employer"], claims["role"]) == (RETAIL, "reader")
    assert claims["exp"] - claims["iat"] == 900


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        ({"sub": JAN, "employer": RETAIL}, 403, "NO_MANDATE"),
        ({"sub": "85071412429"}, 403, "UNKNOWN_PERSON"),
        ({"sub": THOMAS, "employer": RETAIL, "role": "declarant"}, 400, "UNKNOWN_FIELD"),
        (b"{not json", 400, "INVALID_JSON"),
        ({"sub": "12345"}, 400, "INSZ_MALFORMED"),
    ],
)
def test_token_requests_are_refused_with_a_json_reason_when_not_allowed(
    portal: PortalServer, gateway: ssl.SSLContext, payload: object, status: int, reason: str
) -> None:
    reply = _post_json(portal.port, gateway, "/idp/token", payload)
    assert reply.status == status
    assert reply.json()["reason"] == reason and reply.json()["error"]
    assert "access_token" not in reply.json()


def test_token_endpoint_wants_bounded_json_when_posted(
    portal: PortalServer, gateway: ssl.SSLContext
) -> None:
    form = call(
        portal.port, gateway, "POST", "/idp/token", b"sub=1", {"Content-Type": "text/plain"}
    )
    assert (form.status, form.json()["reason"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    big = _post_json(portal.port, gateway, "/idp/token", b"{" + b" " * 5000 + b"}")
    assert (big.status, big.json()["reason"]) == (413, "BODY_TOO_LARGE")


def test_idp_is_404_when_the_development_provider_is_off(pki_dir: Path) -> None:
    env = portal_env(pki_dir, PORTAL_DEV_IDP="off")
    with serving(Settings.from_env(env)) as server:
        gateway = client_context(pki_dir, "gateway")
        for method, path in (("GET", "/idp/people"), ("GET", "/idp/jwks.json")):
            assert call(server.port, gateway, method, path).status == 404
        assert _post_json(server.port, gateway, "/idp/token", {"sub": JAN}).status == 404
        assert call(server.port, gateway, "GET", "/").status == 200


# -- the process ------------------------------------------------------------------------------


def test_the_process_logs_one_masked_line_per_request_and_stops_on_sigterm(
    pki_dir: Path, tmp_path: Path
) -> None:
    from tests.support.edge import free_port

    port = free_port()
    env = {**os.environ, **portal_env(pki_dir, PORTAL_PORT=str(port))}
    log = tmp_path / "portal.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "portal"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            gateway = client_context(pki_dir, "gateway")
            deadline = time.monotonic() + 20
            while True:
                try:
                    if call(port, gateway, "GET", "/healthz").status == 200:
                        break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.1)
            token = _post_json(port, gateway, "/idp/token", {"sub": JAN}).json()["access_token"]
            call(port, gateway, "GET", f"/nothing/{JAN}?insz={JAN}", None,
                 {"Authorization": f"Bearer {token}"})  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("GET /nothing/*********** 404") for m in messages), messages
    assert any(m.startswith("POST /idp/token 200") for m in messages)
    text = log.read_text()
    assert JAN not in text and token not in text and "insz=" not in text
    assert token.split(".")[1] not in text
    assert all(line["service"] == "portal" for line in lines)
    assert "portal stopping" in messages


def test_the_process_exits_2_with_every_problem_when_misconfigured(tmp_path: Path) -> None:
    env = {**os.environ, "PKI_DIR": str(tmp_path), "PORTAL_PORT": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "portal"], env=env, cwd=REPO, capture_output=True, text=True,
        timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert "PORTAL_PORT" in done.stderr and "TLS_CERT_FILE" in done.stderr
