"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.portal import Portal, running_portal


@pytest.fixture(scope="session")
def make_run_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """Every service of `make run` (the portal process and the edge included), started once a
    session: a start takes about a minute, and the portal's REST and browser tests share it.

    They write disjoint data (the REST tests hire 03020100274 today; the browser tests hire
    others, and Jan six days ago), and none of them asserts a count another could change. The
    demo's story is not among them: it hires Jan at the same employer and keeps its own mesh."""
    with running_portal(tmp_path_factory.mktemp("make-run")) as running:
        yield running
