"""The portal's process: its pages, the OpenAPI document and the development identity provider,
over HTTPS, behind the edge.

The edge's browser listener (Envoy: server TLS, a JWT required on the REST API) sends every
other path here — `/`, the static files, `/idp/...`, `/openapi.json`. This server speaks to the
edge only: it presents the portal's certificate of the mesh's PKI and REQUIRES a client
certificate from the mesh's CA naming the gateway (`spiffe://carrefour.local/gateway`); a
certificate of another party gets 403 (an operator's `admin/*` certificate may read /healthz
only), no certificate fails the handshake.

Why the standard library (`http.server.ThreadingHTTPServer` + `ssl`): the portal serves a
handful of static files and two small JSON endpoints to one client (Envoy, which keeps its
connections open and does the heavy lifting: TLS to browsers, JWT checks, compression is not
needed at this size); a framework would add dependencies and nothing this needs. The TLS
handshake runs in each connection's own thread (not in the accept loop), so a slow or hostile
client cannot stall the others.

Every response carries the security headers (a Content-Security-Policy `default-src 'self'` with
no inline script, `frame-ancestors 'none'`, nosniff, no referrer); HTML and JSON are
`no-store`. Static paths are resolved inside the static folder only (no `..`, no hidden files,
no directory listing, an allow-list of file types). One log line per request: method, path
with every 11-digit run masked (an INSZ may be in a path), never the query or a header (tokens).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import ssl
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from portal.config import Settings
from portal.idp import Refused, TokenSigner, people_listing
from runtime.config import ConfigError
from runtime.identity import TRUST_DOMAIN
from runtime.telemetry import setup_logging

logger = logging.getLogger(__name__)

GATEWAY_URI = f"spiffe://{TRUST_DOMAIN}/gateway"
ADMIN_PREFIX = f"spiffe://{TRUST_DOMAIN}/admin/"
#: The one Content-Security-Policy: scripts, styles, images and fetches from this origin only,
#: no inline script or style, no framing, no plugins, forms post here only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: The static file types served, by extension; anything else is 404.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
MAX_BODY = 4096  # /idp/token's JSON is a few dozen bytes
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", re.ASCII)
_INSZ_SHAPE = re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])")


def static_path(root: Path, url_path: str) -> Path | None:
    """The file under `root` a URL path names, or None: `/` is index.html; every segment must
    be a plain name (letters, digits, `_.-`, not starting with a dot, no `..`): no percent
    sign (no static name needs one, so `%2e%2e` and `%2f` never decode into a separator), no
    backslash, no empty segment (so a directory, `/js/`, is never listed); the file must exist
    under `root` once symlinks are resolved, with a served type."""
    if url_path == "/":
        url_path = "/index.html"
    if not url_path.startswith("/"):
        return None
    segments = url_path[1:].split("/")
    if not all(_SEGMENT.fullmatch(s) and ".." not in s for s in segments):
        return None
    candidate = root.joinpath(*segments)
    if candidate.suffix not in CONTENT_TYPES:
        return None
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_file() or not resolved.is_relative_to(root.resolve()):
        return None
    return resolved


def request_path(target: str) -> str:
    """The path of a request target (origin-form), without query or fragment."""
    return target.split("?", 1)[0].split("#", 1)[0]


def masked(path: str) -> str:
    """A request path as the log may show it: no query, every 11-digit run masked."""
    return _INSZ_SHAPE.sub("***********", request_path(path))[:300]


def peer_uri(connection: Any) -> str:
    """The URI SAN of the TLS peer's (verified) certificate; '' when none."""
    getpeercert = getattr(connection, "getpeercert", None)
    cert = getpeercert() if getpeercert else None
    for kind, value in (cert or {}).get("subjectAltName", ()):
        if kind == "URI":
            return value
    return ""


class PortalHandler(BaseHTTPRequestHandler):
    """One connection from the edge (HTTP/1.1, keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "carrefour-portal"
    sys_version = ""
    timeout = 30  # an idle keep-alive connection is closed after this
    server: PortalServer

    # -- dispatch -------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def _refuse_method(self) -> None:
        self._handle(self.command)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = _refuse_method  # noqa: N815

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        self._status = 0
        self._body_read = False
        self.server.enter()
        try:
            self._route(method, request_path(self.path))
        except OSError:
            raise  # the client went away: nothing to answer (PortalServer.handle_error)
        except Exception:
            logger.exception("unexpected error serving %s %s", method, masked(self.path))
            if not self._status:
                self.close_connection = True
                self._json(500, {"error": "Something went wrong.", "reason": "INTERNAL"})
        finally:
            self.server.leave()
            logger.info(
                "%s %s %d %.1fms peer=%s",
                method,
                masked(self.path),
                self._status,
                (time.monotonic() - started) * 1000,
                self._peer or "-",
            )

    def _route(self, method: str, path: str) -> None:
        self._peer = peer_uri(self.connection)
        if path == "/healthz":
            if self._peer != GATEWAY_URI and not self._peer.startswith(ADMIN_PREFIX):
                return self._forbidden()
            if method not in ("GET", "HEAD"):
                return self._not_allowed("GET, HEAD")
            return self._json(200, {"status": "SERVING"})
        if self._peer != GATEWAY_URI:
            return self._forbidden()
        if path.startswith("/idp/") or path == "/idp":
            return self._idp(method, path)
        if method not in ("GET", "HEAD"):
            return self._not_allowed("GET, HEAD")
        if path == "/openapi.json":
            return self._openapi()
        file = static_path(self.server.settings.static_dir, path)
        if file is None:
            return self._json(404, {"error": "Not found.", "reason": "NOT_FOUND"})
        body = file.read_bytes()
        content_type = CONTENT_TYPES[file.suffix]
        cache = "no-store" if file.suffix == ".html" else "no-cache"
        self._send(200, body, content_type, {"Cache-Control": cache})

    def _idp(self, method: str, path: str) -> None:
        signer = self.server.signer
        if signer is None:
            return self._json(404, {"error": "Not found.", "reason": "NOT_FOUND"})
        if path == "/idp/people":
            if method not in ("GET", "HEAD"):
                return self._not_allowed("GET, HEAD")
            return self._json(200, people_listing())
        if path == "/idp/jwks.json":
            if method not in ("GET", "HEAD"):
                return self._not_allowed("GET, HEAD")
            return self._json(200, signer.jwks)
        if path == "/idp/token":
            if method != "POST":
                return self._not_allowed("POST")
            return self._token(signer)
        return self._json(404, {"error": "Not found.", "reason": "NOT_FOUND"})

    def _token(self, signer: TokenSigner) -> None:
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media != "application/json":
            return self._json(
                415, {"error": "Send JSON (application/json).", "reason": "UNSUPPORTED_MEDIA_TYPE"}
            )
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # a body of unknown length is not read
            self._body_read = True
            return self._json(411, {"error": "Send a Content-Length.", "reason": "NO_LENGTH"})
        if length > MAX_BODY:  # discarded by _send (or the connection closed beyond 64 KiB)
            return self._json(
                413, {"error": "A JSON body of at most 4 KiB.", "reason": "BODY_TOO_LARGE"}
            )
        body = self.rfile.read(length)
        self._body_read = True
        try:
            return self._json(200, signer.issue(body))
        except Refused as refused:
            return self._json(refused.status, {"error": refused.message, "reason": refused.reason})

    def _openapi(self) -> None:
        try:
            body = self.server.settings.openapi.read_bytes()
        except OSError:
            return self._json(
                404,
                {
                    "error": "The OpenAPI document has not been generated (run `make proto`).",
                    "reason": "OPENAPI_NOT_GENERATED",
                },
            )
        self._send(200, body, "application/json", {"Cache-Control": "no-cache"})

    # -- responses ------------------------------------------------------------------------------

    def _forbidden(self) -> None:
        self.close_connection = True
        self._json(
            403,
            {"error": "Only the edge may call the portal.", "reason": "NOT_THE_GATEWAY"},
        )

    def _not_allowed(self, allow: str) -> None:
        self._json(
            405, {"error": "Method not allowed.", "reason": "METHOD_NOT_ALLOWED"}, {"Allow": allow}
        )

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Cache-Control": "no-store", **(extra or {})}
        self._send(status, body, "application/json", headers)

    def _discard_body(self) -> None:
        """Read a body the answer does not use, so that closing or reusing the connection
        never loses the answer (unread data makes TCP reset it); too large: close instead."""
        if self._body_read or self.command in ("GET", "HEAD"):
            return
        self._body_read = True
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if 0 <= length <= 65536:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self._discard_body()
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **headers}.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, header too long, unsupported method) as
        JSON with the security headers, never its HTML page."""
        self.close_connection = True
        self._peer = getattr(self, "_peer", "")
        self._body_read = True  # the request could not be parsed: its body is not read
        self.request_version = self.protocol_version  # never an HTTP/0.9 answer without headers
        try:
            self._json(code, {"error": HTTPStatus(code).phrase, "reason": "BAD_REQUEST"})
        except (OSError, ValueError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """http.server's own lines carry the query string: the request log above replaces them."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Replaced by the one line per request of `_handle`."""


class PortalServer(ThreadingHTTPServer):
    """A threading HTTP server whose TLS handshake runs in each connection's thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, settings: Settings, context: ssl.SSLContext, signer: TokenSigner | None):
        self.settings = settings
        self.context = context
        self.signer = signer
        self._active = 0
        self._lock = threading.Lock()
        super().__init__((settings.host, settings.port), PortalHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def enter(self) -> None:
        with self._lock:
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (or broke TLS) mid-answer is one line; anything else is
        logged in full (socketserver would print it on stderr)."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # ssl.SSLError, ConnectionResetError, BrokenPipeError...
            logger.info("connection closed by the client: %s", type(error).__name__)
        else:
            logger.error("unexpected error serving a request", exc_info=error)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)  # the handshake's deadline; the handler sets its own afterwards
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.info("TLS handshake refused: %s", type(exc).__name__)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Server TLS 1.2+ with the portal's certificate; a client certificate of the mesh's CA is
    required (the gateway's, checked per request)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls.cert, settings.tls.key)
    context.load_verify_locations(cafile=settings.tls.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["http/1.1"])  # the edge's upstream cluster speaks HTTP/1.1
    return context


def create_server(settings: Settings) -> PortalServer:
    """The portal server bound to its port (0: a free one; see `.port`), not yet serving."""
    signer = (
        TokenSigner.from_files(settings.idp_key, settings.idp_jwks) if settings.dev_idp else None
    )
    return PortalServer(settings, tls_context(settings), signer)


class _ProbeHandler(BaseHTTPRequestHandler):
    """The plaintext probe port: /healthz and nothing else."""

    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self) -> None:  # noqa: N802
        ok = request_path(self.path) == "/healthz"
        body = b'{"status": "SERVING"}' if ok else b'{"reason": "NOT_FOUND"}'
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Probes are not logged."""


def _serve(server: ThreadingHTTPServer, name: str) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        import sys

        sys.stderr.write(f"portal: {exc}\n")
        return 2
    setup_logging("portal", settings.log_level)
    try:
        server = create_server(settings)
    except (OSError, ValueError, ssl.SSLError) as exc:
        logger.error("portal cannot start: %s", exc)  # noqa: TRY400 - a message, not a crash
        return 1
    probe = None
    if settings.probe_port:
        probe = ThreadingHTTPServer((settings.host, settings.probe_port), _ProbeHandler)
        probe.daemon_threads = True
        _serve(probe, "probe")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _serve(server, "portal")
    logger.info(
        "portal serving on https://%s:%d (development identity provider %s)",
        settings.host,
        server.port,
        "on" if settings.dev_idp else "off",
    )
    stop.wait()
    logger.info("portal stopping")
    server.shutdown()  # no new request is accepted
    deadline = time.monotonic() + settings.shutdown_grace_seconds
    while server.active and time.monotonic() < deadline:
        time.sleep(0.05)
    server.server_close()
    if probe is not None:
        probe.shutdown()
        probe.server_close()
    return 0
