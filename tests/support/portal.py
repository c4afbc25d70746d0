"""The portal as people reach it: the whole mesh started as `make run` starts it, the edge's
browser listener in front; tokens minted as the development identity provider mints them (or
deliberately wrong); the edge's key pinned for Chromium."""

from __future__ import annotations

import base64
import hashlib
import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal.idp import AUDIENCE, ISSUER
from runtime.pki import IDP_JWKS, IDP_KEY
from runtime.supervise import MESH
from tests.support.mesh import Mesh, running_mesh


@dataclass
class Portal:
    mesh: Mesh

    @property
    def pki_dir(self) -> Path:
        return self.mesh.var / "pki"

    @property
    def port(self) -> int:
        return self.mesh.ports["edge-portal"]

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/"

    def token(self, sub: str, **claims: Any) -> str:
        return mint(self.pki_dir, sub, **claims)

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: bytes | dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One HTTPS request to the browser listener (the edge's certificate checked against
        the dev CA): the status and the JSON body (or the text when it is not JSON)."""
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        url = self.url.rstrip("/") + path
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - https
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        context = ssl.create_default_context(cafile=str(self.pki_dir / "ca.pem"))
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as reply:  # noqa: S310
                status, raw = reply.status, reply.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")


def mint(pki_dir: Path, sub: str, *, key: bytes | None = None, **claims: Any) -> str:
    """A token as the development identity provider signs it (RS256, its key id), with
    `claims` added or overriding (`exp`, `aud`, `iss`...); `key`: sign with another key."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    kid = json.loads((pki_dir / IDP_JWKS).read_text())["keys"][0]["kid"]
    signing = key if key is not None else (pki_dir / IDP_KEY).read_bytes()
    return jwt.encode(payload, signing, algorithm="RS256", headers={"kid": kid})


def edge_spki_pin(pki_dir: Path) -> str:
    """Base64 SHA-256 of the gateway certificate's public key: Chromium's
    `--ignore-certificate-errors-spki-list` trusts exactly the edge's key, nothing else."""
    cert = x509.load_pem_x509_certificate((pki_dir / "gateway.pem").read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@contextmanager
def running_portal(var: Path) -> Iterator[Portal]:
    """Every service of `make run` (the portal process and the edge included)."""
    with running_mesh(var, list(MESH)) as mesh:
        yield Portal(mesh)
