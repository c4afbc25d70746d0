"""The portal's static paths: only plain names inside the static folder, never a way out of it
(hypothesis over paths), and the request log's masking of INSZ-shaped runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.config import STATIC
from portal.server import CONTENT_TYPES, masked, request_path, static_path


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static folder with a page, a nested file, a hidden file, a symlink out, and a secret
    beside it."""
    base = tmp_path_factory.mktemp("site")
    (base / "secret.txt").write_text("SECRET")
    static = base / "static"
    (static / "js").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html>")
    (static / "js" / "app.js").write_text("export {};")
    (static / ".env.txt").write_text("hidden")
    (static / "notes.md").write_text("not a served type")
    os.symlink(base / "secret.txt", static / "link.txt")
    return static


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/", "index.html"), ("/index.html", "index.html"), ("/js/app.js", "js/app.js")],
)
def test_static_path_serves_plain_names_when_inside(root: Path, path: str, expected: str) -> None:
    assert static_path(root, path) == (root / expected).resolve()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt", "/js/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
        "/js/", "/js", "//index.html", "/.env.txt", "/notes.md", "/link.txt", "/js\\app.js",
        "/index.html/", "/nothing.html", "index.html", "", "/js/./app.js", "/%69ndex.html",
        "/index.html%00.js", "/js//app.js", "/..", "/.",
    ],
)  # fmt: skip
def test_static_path_refuses_when_not_a_plain_name_inside(root: Path, path: str) -> None:
    assert static_path(root, path) is None


_PIECES = st.sampled_from(
    ["..", ".", "", "js", "app.js", "index.html", "secret.txt", "link.txt", "%2e", "%2f", "%00",
     "\\", "~", ".env.txt", "static", "..%2f", "%252e"]
)  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_PIECES | st.text(max_size=8), max_size=6))
def test_static_path_never_leaves_the_folder_when_fuzzed(root: Path, pieces: list[str]) -> None:
    found = static_path(root, "/" + "/".join(pieces))
    if found is not None:
        assert found.is_file()
        assert found.is_relative_to(root.resolve())
        assert found.suffix in CONTENT_TYPES
        assert not any(part.startswith(".") for part in found.relative_to(root.resolve()).parts)


def test_the_shipped_pages_resolve_when_served() -> None:
    for page in ("/", "/employer.html", "/citizen.html", "/css/portal.css", "/js/api.js",
                 "/i18n/fr.json", "/favicon.svg"):  # fmt: skip
        assert static_path(STATIC, page) is not None, page


def test_request_log_path_hides_the_query_and_insz_runs_when_masked() -> None:
    assert masked("/registry/v1/persons/85071412330?read_mask=identity") == (
        "/registry/v1/persons/***********"
    )
    assert masked("/dimona/v1/employers/000100006/periods?worker_insz=85071412330") == (
        "/dimona/v1/employers/000100006/periods"
    )
    assert masked("/x/123456789012") == "/x/123456789012"  # 12 digits: not an INSZ shape
    assert request_path("/a?b#c") == "/a"


@given(st.text(alphabet="0123456789/?=&abc", max_size=60))
def test_request_log_path_never_shows_an_insz_shape_when_fuzzed(path: str) -> None:
    import re

    assert not re.search(r"(?<![0-9])[0-9]{11}(?![0-9])", masked("/" + path))
