"""`make run`'s wiring, not only its parts: the supervisor starts the mesh exactly as `make run`
does (the same specs, prepare steps and seeds: echo, registry, the primary router, the
mutualities' hub and two mutualities), on free ports (CARREFOUR_PORT_BASE) with a var folder of
its own; an institution then asks the primary router about a person's mutuality with no
destination, and the routers find the member by the directory. Both routers' logs name the end
institution; Ctrl-C stops everything gracefully.

Always on the embedded default (SQLite), as `make run` is.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from cbss.mutuality.v1 import mutuality_pb2, mutuality_pb2_grpc
from cbss.router.v1 import message_log_pb2, message_log_pb2_grpc
from mutuality.service.membership import mutuality_of
from registry.seed.population import FIXED_MAN, FIXED_WOMAN, FIXED_WOMAN_2006
from runtime.client import failure, party_tls, secure_channel
from runtime.identity import LEGAL_CONTEXT_HEADER, router_ticket
from tests.support.mesh import running_mesh

# make_run: `make run`'s mesh is always on SQLite; CI's PostgreSQL pass leaves it out.
pytestmark = [pytest.mark.integration, pytest.mark.make_run]

ROOT = Path(__file__).resolve().parents[2]
MESH_ORDER = ["echo", "registry", "router", "hub-cin", "mut-100", "mut-200"]
MESH_ORDER += ["inbox-onem", "inbox-mut-100", "inbox-mut-200", "inbox-fedris", "inbox-ethias"]
MESH_ORDER += ["edge"]
ONEM = "spiffe://carrefour.local/institution/onem"
SERVICE = "cbss.mutuality.v1.MutualityService"
START_TIMEOUT = 240


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_mesh(tmp_path_factory.mktemp("var"), MESH_ORDER, START_TIMEOUT) as running:
        yield {"proc": running.proc, "var": running.var, "ports": running.ports,
               "banner": running.banner, "lines": running.lines}  # fmt: skip


def _ask(mesh: dict, insz: str, via: str = "router"):  # noqa: ANN202
    files = party_tls(mesh["var"] / "pki", "institution-onem")
    with secure_channel(f"localhost:{mesh['ports'][via]}", files) as channel:
        return mutuality_pb2_grpc.MutualityServiceStub(channel).GetAffiliation.with_call(
            mutuality_pb2.GetAffiliationRequest(insz=insz),
            metadata=[(LEGAL_CONTEXT_HEADER, "unemployment.incapacity-check")],
            timeout=15,
        )


def _logged(mesh: dict, router: str, subject: str) -> set[tuple[str, str, str]]:
    files = party_tls(mesh["var"] / "pki", "admin-ops")
    with secure_channel(f"localhost:{mesh['ports'][router]}", files) as channel:
        reply = message_log_pb2_grpc.MessageLogServiceStub(channel).ListMessages(
            message_log_pb2.ListMessagesRequest(subject=subject), timeout=10
        )
    return {(m.requester, m.destination, m.outcome) for m in reply.messages if m.service == SERVICE}


def test_banner_lists_every_service_and_the_try_commands_on_the_chosen_ports(mesh: dict) -> None:
    banner = mesh["banner"]
    for name in MESH_ORDER:
        assert f"{name:<14} localhost:{mesh['ports'][name]}" in banner
    assert "services SERVING after" in banner
    router = mesh["ports"]["router"]
    commands = (mesh["var"] / "try-commands.txt").read_text()
    assert f"mutuality.cli --router localhost:{router} --as institution-onem get 85071412330" in (
        commands
    )
    assert "{" not in commands  # every placeholder filled
    tried = banner.split("Try:")[1].split("(every service's commands")[0]
    assert len(tried.strip().splitlines()) == 3
    assert f"--router localhost:{mesh['ports']['edge']}" in tried  # the edge's, first


@pytest.mark.parametrize(("insz", "expected"), [(FIXED_MAN, "mut-100"), (FIXED_WOMAN, "mut-200")])
def test_primary_reaches_the_members_mutuality_through_the_hub_when_no_destination_is_given(
    mesh: dict, insz: str, expected: str
) -> None:
    reply, call = _ask(mesh, insz)
    assert reply.affiliation.mutuality == expected == mutuality_of(insz)
    assert reply.affiliation.insz == insz
    assert router_ticket(call)
    assert (ONEM, "cin", "FORWARDED") in _logged(mesh, "router", insz)
    assert (ONEM, expected, "FORWARDED") in _logged(mesh, "hub-cin", insz)


def test_consultation_through_the_edge_reaches_the_member_as_the_calling_institution(
    mesh: dict,
) -> None:
    """`make run` puts Envoy in front: the same call through the edge's port is ONEM's."""
    reply, call = _ask(mesh, FIXED_MAN, via="edge")
    assert reply.affiliation.mutuality == "mut-100"
    ticket = router_ticket(call)
    assert (ONEM, "cin", "FORWARDED") in _logged(mesh, "router", FIXED_MAN)
    assert ticket
    access_log = mesh["var"] / "log" / "edge-access.log"
    deadline = time.monotonic() + 10  # Envoy flushes its access log every second
    while "MutualityService/GetAffiliation grpc-status=0" not in access_log.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert FIXED_MAN not in access_log.read_text()


def test_every_service_and_the_edge_serve_metrics_for_prometheus(mesh: dict) -> None:
    import urllib.request

    _ask(mesh, FIXED_MAN, via="edge")
    router = mesh["ports"]["router"] + 1000
    text = urllib.request.urlopen(f"http://127.0.0.1:{router}/metrics", timeout=5).read().decode()  # noqa: S310
    assert 'rpc_method="GetAffiliation"' in text  # the router's forwarded calls, by method
    edge = mesh["ports"]["edge"] + 1000
    stats = urllib.request.urlopen(f"http://127.0.0.1:{edge}/stats/prometheus", timeout=5)  # noqa: S310
    assert "envoy_cluster_upstream_rq" in stats.read().decode()


def test_no_holder_when_the_person_is_no_mutualitys_member(mesh: dict) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _ask(mesh, FIXED_WOMAN_2006)
    info = failure(err.value)
    assert (info.code, info.reason) == (grpc.StatusCode.NOT_FOUND, "NO_HOLDER")
    assert not _logged(mesh, "hub-cin", FIXED_WOMAN_2006)  # refused at the primary


def test_every_member_is_known_to_the_primary_under_the_hubs_identity_when_integrated(
    mesh: dict,
) -> None:
    var = mesh["var"]
    counts = {}
    for name in ("mut-100", "mut-200"):
        with sqlite3.connect(var / "db" / f"{name}.sqlite3") as conn:
            counts[name] = conn.execute(
                "SELECT count(*), count(integrated_at) FROM affiliation"
            ).fetchone()
    assert all(total == integrated > 1000 for total, integrated in counts.values())
    with sqlite3.connect(var / "db" / "router.sqlite3") as conn:
        at_primary = conn.execute(
            "SELECT count(DISTINCT insz) FROM directory_entry WHERE institution = 'cin'"
        ).fetchone()[0]
    with sqlite3.connect(var / "db" / "hub-cin.sqlite3") as conn:
        at_hub = dict(
            conn.execute(
                "SELECT institution, count(*) FROM directory_entry GROUP BY institution"
            ).fetchall()
        )
    assert at_hub == {name: total for name, (total, _) in counts.items()}
    assert at_primary == sum(at_hub.values())


def _inbox_cli(mesh: dict, *args: str) -> str:
    var = mesh["var"]
    done = subprocess.run(
        [sys.executable, "-m", "inbox.cli", *args, "--pki", str(var / "pki")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_attestation_reaches_the_members_inbox_when_sent_with_the_cli(mesh: dict) -> None:
    var, port = mesh["var"], mesh["ports"]
    sent = _inbox_cli(
        mesh, "send", "--router", f"localhost:{port['router']}", "--db",
        str(var / "db" / "sender-demo.sqlite3"), "--kind", "sickness.zima-001", FIXED_WOMAN,
    )  # fmt: skip
    assert "DELIVERED" in sent and "inboxes/mut-200" in sent
    listed = _inbox_cli(
        mesh, "list", "--as", "institution-mut-200", "--target",
        f"localhost:{port['inbox-mut-200']}", "--json",
    )  # fmt: skip
    assert [(a["kind"], a["subject_insz"], a["sender"]) for a in json.loads(listed)] == [
        ("sickness.zima-001", FIXED_WOMAN, "onss")
    ]


def test_ctrl_c_stops_every_service_gracefully_when_the_mesh_runs(mesh: dict) -> None:
    proc = mesh["proc"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    for name in MESH_ORDER:
        log = (mesh["var"] / "log" / f"{name}.log").read_text()
        if name == "edge":  # Envoy's own words, at the edge's log level (warning)
            assert "caught ENVOY_SIGTERM" in log.splitlines()[-1], name
            continue
        assert " stopped" in log.splitlines()[-1], name
