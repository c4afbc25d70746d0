"""The portal's settings, from its environment (read once, every bad variable reported together).

Variables: `PORTAL_HOST` (127.0.0.1), `PORTAL_PORT` (50047), `VAR_DIR` / `PKI_DIR` (as every
service), `TLS_CERT_FILE` / `TLS_KEY_FILE` (the portal's certificate, `portal.pem`: the party
`institution/cbss`), `TLS_CA_FILE` (the mesh's CA: client certificates are checked against it),
`PORTAL_OPENAPI` (the generated OpenAPI document, served at /openapi.json), `PORTAL_STATIC` (the
pages; the package's `static/` folder), `PORTAL_DEV_IDP` (`on` by default; `off` in production,
where /idp/ is 404), `PORTAL_IDP_KEY` / `PORTAL_IDP_JWKS` (the development provider's signing
key and JWKS, read only when it is on), `PROBE_PORT` (a plaintext port answering only
/healthz, for Kubernetes' probes, which cannot present a certificate; 0: none), `LOG_LEVEL`,
`SHUTDOWN_GRACE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runtime.config import EnvReader, TlsFiles

SERVICE = "portal"
DEFAULT_PORT = 50047
REPO = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
#: Where the lead's OpenAPI generator writes (`make proto`).
OPENAPI = REPO / "gen" / "openapi.json"
_SWITCH = {"on": True, "1": True, "true": True, "yes": True,
           "off": False, "0": False, "false": False, "no": False}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Everything the portal reads from its environment."""

    host: str
    port: int
    tls: TlsFiles
    static_dir: Path
    openapi: Path
    dev_idp: bool
    idp_key: Path
    idp_jwks: Path
    probe_port: int
    log_level: str
    shutdown_grace_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        var_dir = Path(env.str("VAR_DIR", "var"))
        pki_dir = Path(env.str("PKI_DIR", str(var_dir / "pki")))
        switch = env.str("PORTAL_DEV_IDP", "on").lower()
        if switch not in _SWITCH:
            env.problems.append(f"PORTAL_DEV_IDP must be on or off, got {switch!r}")
        dev_idp = _SWITCH.get(switch, False)
        static_dir = Path(env.str("PORTAL_STATIC", str(STATIC)))
        if not (static_dir / "index.html").is_file():
            env.problems.append(f"PORTAL_STATIC: no index.html in {static_dir}")
        idp_key, idp_jwks = pki_dir / "idp-signing.key", pki_dir / "idp-jwks.json"
        if dev_idp:
            idp_key = env.file("PORTAL_IDP_KEY", idp_key)
            idp_jwks = env.file("PORTAL_IDP_JWKS", idp_jwks)
        settings = cls(
            host=env.str("PORTAL_HOST", "127.0.0.1"),
            port=env.int("PORTAL_PORT", DEFAULT_PORT, minimum=0, maximum=65535),
            tls=TlsFiles(
                cert=env.file("TLS_CERT_FILE", pki_dir / "portal.pem"),
                key=env.file("TLS_KEY_FILE", pki_dir / "portal.key"),
                ca=env.file("TLS_CA_FILE", pki_dir / "ca.pem"),
            ),
            static_dir=static_dir.resolve(),
            openapi=Path(env.str("PORTAL_OPENAPI", str(OPENAPI))),
            dev_idp=dev_idp,
            idp_key=idp_key,
            idp_jwks=idp_jwks,
            probe_port=env.int("PROBE_PORT", 0, minimum=0, maximum=65535),
            log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            shutdown_grace_seconds=env.float(
                "SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0, maximum=300.0
            ),
        )
        env.finish()
        return settings
