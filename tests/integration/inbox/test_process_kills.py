"""Real processes killed at a seeded fault point named by the environment (`CARREFOUR_FAULTS`
with an `exit` point: the process ends at once, as `kill -9` would leave it):

- ONEM's inbox (`python -m inbox`) dies right after committing an attestation, before replying;
  restarted, it answers the re-delivery as the first time: each attestation stored once.
- The sender's dispatcher (`python -m inbox.cli send`) dies after a delivery, before recording
  it; a new dispatcher over the same outbox re-sends what was left leased once the lease ends:
  nothing lost, nothing stored twice.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from inbox.sender import DemoSender
from registry.seed.population import FIXED_MAN
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.faults import EXIT_CODE
from runtime.outbox import DeliveryStatus, Dispatcher, RetryPolicy, RouterTransport
from tests.integration.inbox.conftest import DAY, Mesh, Sender

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _onem_rows(mesh: Mesh) -> Counter[str]:
    db = mesh.inbox_db("onem")
    try:
        with db.engine.connect() as conn:
            return Counter(conn.execute(sa.text("SELECT id FROM attestation")).scalars())
    finally:
        db.dispose()


def _inbox_process(mesh: Mesh, port: int, faults: str = "") -> subprocess.Popen[bytes]:
    pki = mesh.pki_dir
    env = {
        **os.environ,
        "INBOX_INSTITUTION": "onem",
        "GRPC_PORT": str(port),
        "DATABASE_URL": mesh.urls["onem"],
        "TLS_CERT_FILE": str(pki / "institution-onem.pem"),
        "TLS_KEY_FILE": str(pki / "institution-onem.key"),
        "TLS_CA_FILE": str(pki / "ca.pem"),
        "LOG_LEVEL": "WARNING",
        "CARREFOUR_FAULTS": faults,
        "CARREFOUR_FAULT_SEED": "1",
    }
    proc = subprocess.Popen([sys.executable, "-m", "inbox"], cwd=ROOT, env=env)
    with mesh.inbox_channel("onem") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the inbox process exited during start-up"
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return proc
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the inbox process did not start")


def test_each_attestation_is_stored_once_when_the_inbox_process_dies_after_commit(
    mesh: Mesh, sender: Sender
) -> None:
    port = mesh.port("onem")
    mesh.hosts["onem"].stop(grace=0)  # ONEM's inbox becomes a real process
    proc = _inbox_process(mesh, port, "inbox.after_commit:exit#4")
    dispatcher = sender.dispatcher(
        RetryPolicy(base_seconds=0.05, max_delay_seconds=0.3), poll_seconds=0.02
    ).start()
    try:
        ids = [sender.demo.declare("unemployment.c4", FIXED_MAN, DAY, b"{}") for _ in range(10)]
        dispatcher.wake()
        assert proc.wait(timeout=30) == EXIT_CODE  # died after its 4th commit
        proc = _inbox_process(mesh, port)  # restarted, no faults
        deadline = time.monotonic() + 30
        while sender.demo.outbox.counts(sender.db)[DeliveryStatus.PENDING] and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        proc.terminate()
        proc.wait(timeout=30)
        mesh.hosts["onem"] = mesh.makers["onem"](port)
        mesh.hosts["onem"].start()
    assert all(
        sender.demo.outbox.status(sender.db, i).status is DeliveryStatus.DELIVERED for i in ids
    )
    rows = _onem_rows(mesh)
    assert [rows[i] for i in ids] == [1] * len(ids)


def test_nothing_is_lost_or_stored_twice_when_the_dispatcher_process_dies_after_a_send(
    mesh: Mesh, tmp_path: Path
) -> None:
    sender_db = tmp_path / "sender.sqlite3"
    env = {
        **os.environ,
        "CARREFOUR_FAULTS": "outbox.after_send:exit#5",
        "CARREFOUR_FAULT_SEED": "1",
    }
    done = subprocess.run(
        [
            sys.executable, "-m", "inbox.cli", "send",
            "--router", f"localhost:{mesh.port('router')}", "--pki", str(mesh.pki_dir),
            "--db", str(sender_db), "--kind", "unemployment.c4", "--count", "12",
            "--wait", "20", FIXED_MAN,
        ],
        cwd=ROOT, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_CODE, done.stderr.decode()[-2000:]
    db = Database(f"sqlite:///{sender_db}")
    try:
        demo = DemoSender(db)
        entries = demo.outbox.entries(db)
        ids = [e.id for e in entries]
        assert len(ids) == 12
        recorded = sum(e.status is DeliveryStatus.DELIVERED for e in entries)
        stored = sum(_onem_rows(mesh)[i] for i in ids)
        assert stored > recorded  # the kill left deliveries made but not recorded
        # A new dispatcher over the same outbox, once the dead one's leases have ended.
        later = FixedClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
        with mesh.router_channel("onss") as channel:
            dispatcher = Dispatcher(db, demo.outbox, RouterTransport(channel), clock=later)
            while dispatcher.run_once():
                pass
            dispatcher.stop()
        entries = demo.outbox.entries(db)
    finally:
        db.dispose()
    assert [e.status for e in entries] == [DeliveryStatus.DELIVERED] * 12
    rows = _onem_rows(mesh)
    assert [rows[i] for i in ids] == [1] * 12
