"""The portal's settings: defaults, and every bad variable reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import DEFAULT_PORT, OPENAPI, STATIC, Settings
from runtime.config import ConfigError


def test_defaults_name_the_portal_certificate_and_port_when_unset(pki_dir: Path) -> None:
    settings = Settings.from_env({"PKI_DIR": str(pki_dir)})
    assert (settings.host, settings.port) == ("127.0.0.1", 50047) and DEFAULT_PORT == 50047
    assert settings.tls.cert == pki_dir / "portal.pem"
    assert settings.tls.ca == pki_dir / "ca.pem"
    assert settings.dev_idp and settings.idp_key == pki_dir / "idp-signing.key"
    assert settings.static_dir == STATIC and settings.openapi == OPENAPI
    assert OPENAPI.parts[-2:] == ("gen", "openapi.json")


def test_dev_idp_off_needs_no_signing_key_when_production(pki_dir: Path, tmp_path: Path) -> None:
    env = {
        "PORTAL_DEV_IDP": "off",
        "TLS_CERT_FILE": str(pki_dir / "portal.pem"),
        "TLS_KEY_FILE": str(pki_dir / "portal.key"),
        "TLS_CA_FILE": str(pki_dir / "ca.pem"),
        "PKI_DIR": str(tmp_path),  # no idp-signing.key there
    }
    assert Settings.from_env(env).dev_idp is False


def test_every_bad_variable_is_reported_together_when_invalid(tmp_path: Path) -> None:
    env = {
        "PKI_DIR": str(tmp_path),
        "PORTAL_PORT": "http",
        "PORTAL_DEV_IDP": "maybe",
        "PORTAL_STATIC": str(tmp_path),
        "LOG_LEVEL": "LOUD",
    }
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    text = "\n".join(caught.value.problems)
    for name in ("PORTAL_PORT", "PORTAL_DEV_IDP", "PORTAL_STATIC", "LOG_LEVEL", "TLS_CERT_FILE"):
        assert name in text
