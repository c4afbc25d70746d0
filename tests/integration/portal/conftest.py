"""The portal process's own server on a real port over mTLS (no mesh): in-process for the
HTTP behaviour, as `python -m portal` for start-up, logs and shutdown."""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from portal.config import STATIC, Settings
from portal.server import PortalServer, create_server


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def client_context(pki_dir: Path, party: str | None) -> ssl.SSLContext:
    """TLS to the portal: its certificate checked against the dev CA, `party`'s presented."""
    context = ssl.create_default_context(cafile=str(pki_dir / "ca.pem"))
    if party is not None:
        context.load_cert_chain(pki_dir / f"{party}.pem", pki_dir / f"{party}.key")
    return context


def call(
    port: int,
    context: ssl.SSLContext,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request with the path sent exactly as given (no normalisation)."""
    connection = http.client.HTTPSConnection("localhost", port, context=context, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        reply = connection.getresponse()
        return Reply(reply.status, reply.headers, reply.read())
    finally:
        connection.close()


@contextmanager
def serving(settings: Settings) -> Iterator[PortalServer]:
    server = create_server(settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def portal_env(pki_dir: Path, **extra: str) -> dict[str, str]:
    return {"PKI_DIR": str(pki_dir), "PORTAL_PORT": "0", **extra}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pages with a secret beside them and a symlink pointing at it."""
    base = tmp_path_factory.mktemp("site")
    (base / "secret.txt").write_text("TOP-SECRET-BESIDE-THE-PAGES")
    static = base / "static"
    shutil.copytree(STATIC, static)
    (static / "link.txt").symlink_to(base / "secret.txt")
    (static / ".hidden.txt").write_text("TOP-SECRET-HIDDEN")
    return static


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "openapi.json"
    path.write_text('{"openapi": "3.1.0", "paths": {}}')
    return path


@pytest.fixture(scope="module")
def portal(pki_dir: Path, site: Path, openapi: Path) -> Iterator[PortalServer]:
    env = portal_env(pki_dir, PORTAL_STATIC=str(site), PORTAL_OPENAPI=str(openapi))
    with serving(Settings.from_env(env)) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(pki_dir: Path) -> ssl.SSLContext:
    return client_context(pki_dir, "gateway")
