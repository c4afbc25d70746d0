"""Nothing lost, nothing applied twice: a stream of the register's changes while real processes
die at seeded fault points (`CARREFOUR_FAULTS` with `exit` points: the process ends at once, as
`kill -9` would leave it) — the mutation service (before and after its commit, before and after
a delivery), the registry (a change recorded, its reply lost), the router (the inbox answered,
the router dies before logging and replying) and ONEM's inbox (stored, the reply lost) — and the
hub is stopped abruptly; then one seeded random round. Each killed server is restarted on its
port. Afterwards every institution that should have each notification has it exactly once, and
no one else has it (ONEM not for the person it stopped holding before the change's date).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime.client import party_tls, secure_channel, server_name
from runtime.db import Database
from runtime.faults import EXIT_CODE
from tests.integration.inbox.conftest import Mesh
from tests.integration.mutation.conftest import Register, inbox_changes, mutation_env, wait_for
from tests.support.databases import fresh_database_url
from tests.support.servers import service_env

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date.today()
#: ONEM stops holding this person (its last entry day) before the changes' dates.
ENDED = TODAY - dt.timedelta(days=200)


class FanOutProcess:
    """`python -m mutation` as a child process, restarted when a fault point ends it."""

    def __init__(self, mesh: Mesh, url: str) -> None:
        self.mesh, self.url = mesh, url
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.deaths = 0

    def start(self, faults: str = "", seed: int = 1) -> None:
        env = {
            **os.environ,
            **mutation_env(self.mesh, self.url, self.port),
            "LOG_LEVEL": "WARNING",
            "CARREFOUR_FAULTS": faults,
            "CARREFOUR_FAULT_SEED": str(seed),
            "OTEL_SDK_DISABLED": "true",
        }
        if not faults:
            env.pop("CARREFOUR_FAULTS")
        self.proc = subprocess.Popen([sys.executable, "-m", "mutation"], cwd=ROOT, env=env)

    def died(self) -> bool:
        """True (and counted) when the process ended at a fault point."""
        if self.proc is None or self.proc.poll() is None:
            return False
        assert self.proc.returncode == EXIT_CODE, f"mutation exited {self.proc.returncode}"
        self.deaths += 1
        self.proc = None
        return True

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None


class Swap:
    """A server of the mesh replaced, on its port, by the same program as a child process with
    a fault point; when the point kills it, the in-process server is started again."""

    def __init__(self, mesh: Mesh, name: str, faults: str) -> None:
        self.mesh, self.name, self.deaths = mesh, name, 0
        port = mesh.port(name)
        mesh.hosts[name].stop(grace=0)
        env = {**os.environ, **_process_env(mesh, name, port), "LOG_LEVEL": "WARNING"}
        env.update(CARREFOUR_FAULTS=faults, CARREFOUR_FAULT_SEED="1", OTEL_SDK_DISABLED="true")
        program = {"registry": "registry", "router": "router"}.get(name, "inbox")
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", program], cwd=ROOT, env=env
        )
        self.port = port
        _wait_listening(port)

    def poll(self) -> None:
        """Restart in process once the child died at its point."""
        if self.proc is not None and self.proc.poll() is not None:
            assert self.proc.returncode == EXIT_CODE, f"{self.name} exited {self.proc.returncode}"
            self.deaths += 1
            self.proc = None
            self._restart()

    def finish(self) -> None:
        if self.proc is not None:  # the point did not fire (a probabilistic one): stop it
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None
            self._restart()

    def _restart(self) -> None:
        host = self.mesh.makers[self.name](self.port)
        host.start()
        self.mesh.hosts[self.name] = host


def _process_env(mesh: Mesh, name: str, port: int) -> dict[str, str]:
    registry = f"localhost:{mesh.port('registry')}"
    if name == "registry":
        return service_env(mesh.pki_dir, "registry", mesh.urls["registry"], GRPC_PORT=str(port))
    if name == "router":
        return service_env(
            mesh.pki_dir, "router", mesh.urls["router"], REGISTRY_ADDR=registry,
            GRPC_PORT=str(port),
        )  # fmt: skip
    return service_env(
        mesh.pki_dir, f"institution-{name}", mesh.urls[name], INBOX_INSTITUTION=name,
        GRPC_PORT=str(port),
    )  # fmt: skip


def _wait_listening(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _integrate_at_onem(mesh: Mesh, inszs: list[str], ended: str) -> None:
    channel = secure_channel(
        f"localhost:{mesh.port('router')}",
        party_tls(mesh.pki_dir, "institution-onem"),
        **server_name("spiffe://carrefour.local/router/cbss"),
    )
    start = {"year": 2020, "month": 1, "day": 1}
    stub = directory_pb2_grpc.DirectoryServiceStub(channel)
    try:
        entries = [
            directory_pb2.DirectoryEntry(
                insz=i,
                capacity=directory_pb2.Capacity(sector=18, code=1),
                period=types_pb2.Period(start_date=start),
            )
            for i in inszs
        ]
        stub.RegisterEntries(directory_pb2.RegisterEntriesRequest(entries=entries), timeout=10)
        end = {"year": ENDED.year, "month": ENDED.month, "day": ENDED.day}
        stub.UnregisterEntries(
            directory_pb2.UnregisterEntriesRequest(
                entries=[
                    directory_pb2.DirectoryEntry(
                        insz=ended,
                        capacity=directory_pb2.Capacity(sector=18, code=1),
                        period=types_pb2.Period(start_date=start, end_date=end),
                    )
                ]
            ),
            timeout=10,
        )
    finally:
        channel.close()


def _living(mesh: Mesh) -> list[str]:
    db = Database(mesh.urls["registry"])
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT insz FROM person WHERE death_date IS NULL AND replaced_by IS NULL"
                    " AND kind = 'NATIONAL_REGISTER'"
                    " ORDER BY insz"
                )
            ).scalars()
            return [r for r in rows if r not in (FIXED_MAN, FIXED_WOMAN)]
    finally:
        db.dispose()


@pytest.fixture
def fanout_url(tmp_path: Path) -> object:
    from mutation.seed.command import load
    from mutation.storage import MIGRATIONS

    with fresh_database_url(tmp_path, "mutation-faults") as url:
        db = Database(url)
        db.migrate(MIGRATIONS)
        load(db)
        db.dispose()
        yield url


def _move_all(
    register: Register, inszs: list[str], day: dt.date, moves: list, swap: Swap | None
) -> None:
    for insz in inszs:
        request_id = f"{insz}-{day:%Y%m%d}"  # a retry is answered with the same event
        for attempt in range(200):  # the registry may be dying or restarting
            try:
                moves.append((register.move(insz, day, f"Rue {day:%j}", request_id), insz))
                break
            except grpc.RpcError as exc:
                if exc.code() is not grpc.StatusCode.UNAVAILABLE or attempt == 199:
                    raise
                if swap is not None:
                    swap.poll()
                time.sleep(0.1)


def _registry_maker(mesh: Mesh):  # noqa: ANN202
    from registry.config import Settings as RegistrySettings
    from registry.server import create_server as create_registry

    def make(port: int):  # noqa: ANN202
        env = service_env(mesh.pki_dir, "registry", mesh.urls["registry"], GRPC_PORT=str(port))
        return create_registry(RegistrySettings.from_env(env))

    return make


def test_nothing_lost_nothing_twice_while_processes_die(mesh: Mesh, fanout_url: str) -> None:
    mesh.makers.setdefault("registry", _registry_maker(mesh))
    persons = _living(mesh)[:8]
    ended = persons[-1]
    _integrate_at_onem(mesh, persons, ended)
    register = Register(mesh)
    moves: list[tuple[int, str]] = []
    everyone = [*persons, FIXED_MAN, FIXED_WOMAN]
    proc = FanOutProcess(mesh, fanout_url)
    seed = int(os.environ.get("MUTATION_FAULT_SEED", random.randrange(1, 10**6)))
    # (faults of the mutation process, what else is stopped and restarted during the round)
    # (faults of the mutation process, the server that dies meanwhile and its fault point)
    rounds = [
        ("mutation.before_commit:exit#2", "registry", "registry.after_commit:exit#3"),
        ("mutation.after_commit:exit#2", "router", "router.after_forward:exit#3"),
        ("outbox.after_send:exit#3", "onem", "inbox.after_commit:exit#2"),
        ("outbox.before_send:exit#2", "hub", ""),
        ("mutation.before_commit:exit0.3,outbox.after_send:exit0.1", "random", ""),
    ]
    rng = random.Random(seed)
    swaps: list[Swap] = []
    try:
        for number, (faults, other, point) in enumerate(rounds):
            if other == "random":
                other = rng.choice(["registry", "router", "onem"])
                point = {
                    "registry": "registry.after_commit:exit0.2",
                    "router": "router.after_forward:exit0.1",
                    "onem": "inbox.after_commit:exit0.2",
                }[other]
            proc.start(faults, seed=seed + number)
            swap = Swap(mesh, other, point) if point else None
            if swap is not None:
                swaps.append(swap)
            day = TODAY - dt.timedelta(days=150 - 10 * number)
            half = len(everyone) // 2
            _move_all(register, everyone[:half], day, moves, swap)
            if swap is None:
                mesh.restart(other)
            _move_all(register, everyone[half:], day, moves, swap)
            # Until everything so far arrived: a mutation process killed at its point is started
            # again without faults (a probabilistic point may not fire at all).
            so_far = _expected(moves, persons, ended)
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                if swap is not None:
                    swap.poll()
                if proc.died():
                    proc.start()
                if _received(mesh) == so_far:
                    break
                time.sleep(0.1)
            proc.stop()
            if swap is not None:
                swap.poll()
                swap.finish()
        proc.start()  # no faults: it finishes what is left
        expected = _expected(moves, persons, ended)
        try:
            wait_for(lambda: _received(mesh) == expected, timeout=90)
        except AssertionError:
            pass
        got = _received(mesh)
        assert got == expected, f"seed {seed}: {_diff(expected, got)}"
        # Exactly once in effect: one inbox row per (institution, change).
        for institution in ("onem", "mut-100", "mut-200"):
            counts = Counter(c.source_sequence for _, c in inbox_changes(mesh, institution))
            assert max(counts.values()) == 1, f"seed {seed}: {institution} twice"
        assert proc.deaths >= 3, f"seed {seed}: the mutation service's points did not fire"
        assert [s.deaths for s in swaps[:3]] == [1, 1, 1], f"seed {seed}: a server survived"
    finally:
        proc.stop()
        for swap in swaps:
            swap.finish()


def _expected(moves: list[tuple[int, str]], onem_persons: list[str], ended: str) -> dict:
    onem = {s for s, i in moves if i in onem_persons and i != ended}
    onem |= {s for s, i in moves if i in (FIXED_MAN, FIXED_WOMAN)}  # seeded 18/1 and 18/4
    return {
        "onem": onem,
        "mut-100": {s for s, i in moves if i == FIXED_MAN},
        "mut-200": {s for s, i in moves if i == FIXED_WOMAN},
        "fedris": set(),
        "ethias": set(),
    }


def _received(mesh: Mesh) -> dict:
    return {
        name: {c.source_sequence for _, c in inbox_changes(mesh, name)}
        for name in ("onem", "mut-100", "mut-200", "fedris", "ethias")
    }


def _diff(expected: dict, got: dict) -> str:
    return "; ".join(
        f"{k}: missing {sorted(expected[k] - got[k])}, extra {sorted(got[k] - expected[k])}"
        for k in expected
        if expected[k] != got[k]
    )
