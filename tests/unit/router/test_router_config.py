"""The router's CONFIDENTIAL_LEGAL_CONTEXTS setting: its default, a chosen list, a bad entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import Settings
from runtime.config import ConfigError
from tests.support.servers import service_env


def _settings(pki_dir: Path, **extra: str) -> Settings:
    return Settings.from_env(service_env(pki_dir, "router", "sqlite:///unused.sqlite3", **extra))


def test_investigations_are_confidential_by_default_when_nothing_is_set(pki_dir: Path) -> None:
    hidden = _settings(pki_dir).confidential_legal_contexts
    for context in ("police.x", "judicial.y", "social-inspection.z", "anti-fraud.w"):
        assert context in hidden
    assert "unemployment.control" not in hidden


def test_operators_choose_the_list_when_the_setting_is_given(pki_dir: Path) -> None:
    hidden = _settings(
        pki_dir, CONFIDENTIAL_LEGAL_CONTEXTS="sirs.investigation"
    ).confidential_legal_contexts
    assert "sirs.investigation" in hidden and "police.x" not in hidden
    nothing = _settings(pki_dir, CONFIDENTIAL_LEGAL_CONTEXTS="-").confidential_legal_contexts
    assert "police.x" not in nothing


def test_service_refuses_to_start_when_an_entry_is_malformed(pki_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _settings(pki_dir, CONFIDENTIAL_LEGAL_CONTEXTS="police*")
    assert any("CONFIDENTIAL_LEGAL_CONTEXTS" in p for p in err.value.problems)
