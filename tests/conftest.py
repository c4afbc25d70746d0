"""Fixtures shared by every test: a throw-away PKI, fresh databases, real servers on port 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime import pki
from tests.support.databases import fresh_database_url


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A development PKI made for this test session (independent of var/pki)."""
    directory = tmp_path_factory.mktemp("pki")
    pki.init(directory)
    return directory


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh, empty database for one test: PostgreSQL when TEST_DATABASE_URL says so."""
    with fresh_database_url(tmp_path, "test") as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty database shared by one test module."""
    with fresh_database_url(tmp_path_factory.mktemp("db"), "module") as url:
        yield url
