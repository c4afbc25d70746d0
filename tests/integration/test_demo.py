"""`make run` with every service, then `make demo`'s story against it, through the edge.

The whole mesh starts as `make run` starts it (runtime.supervise, the embedded default), on
free ports; the demo runs twice: the story holds, and a second telling is answered the same
(its references are idempotency keys), not doubled.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.supervise import MESH
from tests.support.mesh import running_mesh

# make_run: `make run`'s mesh is always on SQLite; CI's PostgreSQL pass leaves it out.
pytestmark = [pytest.mark.integration, pytest.mark.make_run]

ROOT = Path(__file__).resolve().parents[2]
WORKER = "85071412330"


@pytest.fixture(scope="module")
def whole_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    started = time.monotonic()
    with running_mesh(tmp_path_factory.mktemp("var"), list(MESH)) as running:
        yield {"var": running.var, "env": running.env, "proc": running.proc,
               "banner": running.banner, "seconds": time.monotonic() - started}  # fmt: skip


def _demo(mesh: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "demo"],
        cwd=ROOT,
        env=mesh["env"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def test_the_demo_tells_the_whole_story_through_the_edge(whole_mesh: dict) -> None:
    story = _demo(whole_mesh)
    banner = whole_mesh["banner"]
    assert "Institutions, employers and operators: the edge" in banner
    chapters = ["1. Hiring", "2. The quarter", "3. Jan falls ill", "4. Jan moves", "5. What each"]
    positions = [story.index(chapter) for chapter in chapters]
    assert positions == sorted(positions)
    assert "ACCEPTED_WITH_WARNINGS  IN  employers/000100006/declarations/demo-hire" in story
    assert "LATE_DECLARATION" in story
    assert "employers/000100006/declarations/20" in story and "ACCEPTED" in story
    assert "attestation" in story and "sickness.zima-001" in story
    # What each institution received: the sickness attestation at the mutuality, the move at
    # ONEM and at the mutuality (behind the hub).
    received = story[story.index("5. What each") :]
    mut_100 = received[received.index("What mut-100's inbox") : received.index("message log")]
    onem = received[received.index("What ONEM's inbox") : received.index("What mut-100's")]
    assert "sickness.zima-001" in mut_100
    assert "mutation.person.address-changed" in mut_100
    assert "mutation.person.address-changed" in onem
    assert "sickness.zima-001" not in onem
    # The message log names the crossings of Jan's data: the mutuality's request, the DRS's
    # pre-fill through the router, the attestation's delivery.
    log = received[received.index("message log") :]
    for crossing in (
        "DrsRequestService/RequestDeclaration",
        "DimonaConsultationService/GetEmploymentOnDate",
        "InboxService/DeliverAttestation",
    ):
        assert crossing in log
    assert "demo stopped" not in story


def test_a_second_telling_is_answered_the_same_not_doubled(whole_mesh: dict) -> None:
    _demo(whole_mesh)
    story = _demo(whole_mesh)
    received = story[story.index("5. What each") :]
    mut_100 = received[received.index("What mut-100's inbox") : received.index("message log")]
    assert mut_100.count("sickness.zima-001") == 1
    assert mut_100.count("mutation.person.address-changed") == 1


def test_make_run_again_on_the_same_var_serves_every_service(whole_mesh: dict) -> None:
    """A second `make run` (warm: the databases seeded already) brings every service up again
    — the seeds see their data and pass."""
    first = whole_mesh["proc"]
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=90) == 0
    with running_mesh(whole_mesh["var"], list(MESH)) as again:
        assert f"{len(MESH)} services SERVING after" in again.banner
