"""Attestation delivery figures (issue 8): `python -m bench --only inbox` (or `bench.inbox`).

Processes as `make run` starts them (each `python -m <service>` with its own SQLite database):
the registry (seeded), the primary router, the mutualities' hub, and the inboxes of ONEM,
mut-100 and mut-200, configured by the routers' own seed. The sender is this process: the
demonstration sender (inbox.sender) writes each attestation with its declaration in one
transaction of its own SQLite database, and the shared outbox's dispatcher (runtime.outbox)
delivers through the primary router, as DRS will.

1. **Open loop, 100 attestations/s for 60 s** (`--rate`, `--seconds`), to ONEM (named): the
   latency from the sender's commit to the row stored in the inbox (the inbox's `received_at`
   minus the wall-clock time right after the sender's commit; one machine, one clock). An
   automated consumer polls ONEM's inbox (ListAttestations state=RECEIVED, every 100 ms) and
   acknowledges each attestation: stored -> acknowledged reported separately.
2. The same open loop through **the hub**: sickness attestations whose mutuality the directory
   finds at the primary (`cin`) and at the hub (mut-100 / mut-200).
3. **Maximum rate**: a backlog of `--backlog` attestations committed at once, drained by the
   dispatcher: attestations stored per second; then an open loop at 90 % of that rate for
   `--sustain-seconds`, to show whether it is sustained (nothing left pending, latency bounded).

Target (issue 8): p99 <= 1 s from commit to stored.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc

from bench.harness import ServiceProcess
from bench.registry import registry_process, seeded_inszs
from cbss.common.v1 import types_pb2
from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from runtime import pki
from runtime.client import party_tls, secure_channel, server_name
from runtime.db import Database
from runtime.outbox import DeliveryStatus, Dispatcher, RetryPolicy, RouterTransport

INBOXES = ("onem", "mut-100", "mut-200")
DAY = dt.date(2026, 11, 2)


def _uri(kind: str, name: str) -> dict[str, str]:
    return server_name(f"spiffe://carrefour.local/{kind}/{name}")


def inbox_process(var_dir: Path, pki_dir: Path, institution: str) -> ServiceProcess:
    """An institution's inbox (not started), with a database of its own."""
    return ServiceProcess(
        "inbox",
        var_dir,
        pki_dir,
        label=f"inbox-{institution}",
        INBOX_INSTITUTION=institution,
        DATABASE_URL=f"sqlite:///{var_dir / f'inbox-{institution}.sqlite3'}",
    )


@contextlib.contextmanager
def network(var_dir: Path, pki_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Registry, primary, hub and three inboxes, seeded as `make run` seeds them."""
    with contextlib.ExitStack() as stack:
        registry = stack.enter_context(registry_process(var_dir, pki_dir))
        reg = f"localhost:{registry.port}"
        procs: dict[str, ServiceProcess] = {"registry": registry}
        for inst in INBOXES:
            procs[inst] = stack.enter_context(inbox_process(var_dir, pki_dir, inst))
        router = stack.enter_context(
            ServiceProcess("router", var_dir, pki_dir, REGISTRY_ADDR=reg, ROUTER_NAME="cbss")
        )
        hub = stack.enter_context(
            ServiceProcess(
                "router",
                var_dir,
                pki_dir,
                label="hub",
                ROUTER_NAME="cin",
                DATABASE_URL=f"sqlite:///{var_dir / 'hub-cin.sqlite3'}",
                TLS_CERT_FILE=str(pki_dir / "hub-cin.pem"),
                TLS_KEY_FILE=str(pki_dir / "hub-cin.key"),
                REGISTRY_ADDR=reg,
                UPSTREAM_ROUTER_ADDR=f"localhost:{router.port}",
            )
        )
        procs.update(router=router, hub=hub)
        at = {n: f"localhost:{p.port}" for n, p in procs.items()}
        router.run_step(
            "seed", "--role", "primary", "--registry-endpoint", reg,
            "--hub-endpoint", at["hub"], "--inbox", f"onem={at['onem']}",
        )  # fmt: skip
        hub.run_step(
            "seed", "--role", "hub",
            "--inbox", f"mut-100={at['mut-100']}", "--inbox", f"mut-200={at['mut-200']}",
        )  # fmt: skip
        _integrate_members(hub, pki_dir, seeded_inszs(2000))
        yield procs


def _integrate_members(hub: ServiceProcess, pki_dir: Path, inszs: list[str]) -> None:
    """mut-100 and mut-200 integrate half of the persons each at the hub (which integrates them
    at the primary as `cin`), as `python -m mutuality integrate` does."""
    for member, share in (("mut-100", inszs[0::2]), ("mut-200", inszs[1::2])):
        with secure_channel(
            f"localhost:{hub.port}",
            party_tls(pki_dir, f"institution-{member}"),
            **_uri("router", "cin"),
        ) as channel:
            directory_pb2_grpc.DirectoryServiceStub(channel).RegisterEntries(
                directory_pb2.RegisterEntriesRequest(
                    entries=[
                        directory_pb2.DirectoryEntry(
                            insz=insz,
                            capacity=directory_pb2.Capacity(sector=11, code=1),
                            period=types_pb2.Period(
                                start_date={"year": 2020, "month": 1, "day": 1}
                            ),
                        )
                        for insz in share
                    ]
                ),
                timeout=60,
            )


class Sender:
    """The demo sender's database and dispatcher, in this process."""

    def __init__(self, var_dir: Path, pki_dir: Path, router_port: int, name: str) -> None:
        from inbox.sender import MIGRATIONS, DemoSender

        self.db = Database(f"sqlite:///{var_dir / f'sender-{name}.sqlite3'}")
        self.db.migrate(MIGRATIONS)
        self.demo = DemoSender(self.db)
        self.channel = secure_channel(
            f"localhost:{router_port}", party_tls(pki_dir, "onss"), **_uri("router", "cbss")
        )
        self.dispatcher = Dispatcher(
            self.db,
            self.demo.outbox,
            RouterTransport(self.channel),
            policy=RetryPolicy(base_seconds=0.1, max_delay_seconds=2.0),
            batch=64,
            workers=8,
            poll_seconds=0.05,
        ).start()
        self.committed: dict[str, float] = {}

    def declare(self, kind: str, insz: str) -> None:
        att = self.demo.declare(kind, insz, DAY, b'{"bench": true}')
        self.committed[att] = time.time()  # right after the commit
        self.dispatcher.wake()

    def close(self) -> None:
        self.dispatcher.stop()
        self.channel.close()
        self.db.dispose()

    def wait_done(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.demo.outbox.counts(self.db)[DeliveryStatus.PENDING] == 0:
                return
            time.sleep(0.1)


def _stored(var_dir: Path) -> dict[str, tuple[float, float | None]]:
    """id -> (received_at, acknowledged_at) in every inbox, as epoch seconds."""
    found: dict[str, tuple[float, float | None]] = {}
    for inst in INBOXES:
        with contextlib.closing(sqlite3.connect(var_dir / f"inbox-{inst}.sqlite3")) as conn:
            for att, received, acked in conn.execute(
                "SELECT id, received_at, acknowledged_at FROM attestation"
            ):
                found[att] = (_epoch(received), _epoch(acked) if acked else None)
    return found


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


class Consumer(threading.Thread):
    """ONEM's automated consumer: polls RECEIVED attestations and acknowledges each."""

    def __init__(self, port: int, pki_dir: Path) -> None:
        super().__init__(name="bench-consumer", daemon=True)
        self.channel = secure_channel(
            f"localhost:{port}",
            party_tls(pki_dir, "institution-onem"),
            **_uri("institution", "onem"),
        )
        self.stub = inbox_pb2_grpc.InboxServiceStub(self.channel)
        self.stop = threading.Event()
        self.acked = 0

    def run(self) -> None:
        request = inbox_pb2.ListAttestationsRequest(
            parent="inboxes/onem", page_size=500, state=inbox_pb2.ATTESTATION_STATE_RECEIVED
        )
        while not self.stop.wait(0.1):
            try:
                for a in self.stub.ListAttestations(request, timeout=5).attestations:
                    self.stub.AcknowledgeAttestation(
                        inbox_pb2.AcknowledgeAttestationRequest(name=a.name), timeout=5
                    )
                    self.acked += 1
            except grpc.RpcError:
                continue
        self.channel.close()


def open_loop(
    var_dir: Path,
    pki_dir: Path,
    procs: dict[str, ServiceProcess],
    *,
    name: str,
    kind: str,
    rate: float,
    seconds: float,
    consume: bool,
) -> list[str]:
    inszs = seeded_inszs(2000)
    sender = Sender(var_dir, pki_dir, procs["router"].port, name)
    consumer = Consumer(procs["onem"].port, pki_dir) if consume else None
    if consumer:
        consumer.start()
    watched = [procs[p] for p in ("router", "hub", "registry", *INBOXES)]
    cpu0 = {p.label: p.cpu_seconds() for p in watched}
    own0 = time.process_time()
    begin = time.monotonic()
    i = 0
    while (elapsed := time.monotonic() - begin) < seconds:
        sender.declare(kind, inszs[i % len(inszs)])
        i += 1
        time.sleep(max(0.0, begin + i / rate - time.monotonic()))
    offered = i / elapsed
    sender.wait_done(60)
    time.sleep(0.5 if consume else 0)
    if consumer:
        deadline = time.monotonic() + 30
        while consumer.acked < i and time.monotonic() < deadline:
            time.sleep(0.1)
        consumer.stop.set()
        consumer.join()
    cpu = {p.label: p.cpu_seconds() - cpu0[p.label] for p in watched}
    # This process: the sender (commits, dispatcher) and the load generator and consumer.
    cpu["sender"] = time.process_time() - own0
    stored = _stored(var_dir)
    counts = sender.demo.outbox.counts(sender.db)
    delivery = [stored[a][0] - c for a, c in sender.committed.items() if a in stored]
    acks = [
        stored[a][1] - stored[a][0]
        for a in sender.committed
        if a in stored and stored[a][1] is not None
    ]
    sender.close()
    p99 = _pct(delivery, 0.99)
    busy = " + ".join(f"{k} {v / max(i, 1) * 1e6:.0f}" for k, v in cpu.items() if v > 0.05)
    lines = [
        f"{name}: offered {offered:.0f}/s for {seconds:.0f} s, {i} attestations;"
        f" delivered {counts[DeliveryStatus.DELIVERED] + counts[DeliveryStatus.ACKNOWLEDGED]},"
        f" pending {counts[DeliveryStatus.PENDING]},"
        f" dead-lettered {counts[DeliveryStatus.DEAD_LETTERED]}",
        f"  sender commit -> stored in the inbox: p50 {_pct(delivery, 0.5):.0f} ms,"
        f" p99 {p99:.0f} ms, max {_pct(delivery, 1.0):.0f} ms"
        f"   [{'met' if p99 <= 1000 else 'MISSED'}] target p99 <= 1 s",
    ]
    if consume:
        lines.append(
            f"  stored -> acknowledged by a consumer polling every 100 ms: p50"
            f" {_pct(acks, 0.5):.0f} ms, p99 {_pct(acks, 0.99):.0f} ms ({len(acks)} acknowledged)"
        )
    lines.append(f"  CPU µs per attestation: {busy}")
    return lines


def backlog(
    var_dir: Path, pki_dir: Path, procs: dict[str, ServiceProcess], count: int
) -> tuple[list[str], float]:
    inszs = seeded_inszs(2000)
    sender = Sender(var_dir, pki_dir, procs["router"].port, "backlog")
    sender.dispatcher.stop()  # commit the whole backlog first
    for i in range(count):
        sender.demo.declare("unemployment.c4", inszs[i % len(inszs)], DAY, b"{}")
    from runtime.outbox import Dispatcher

    sender.dispatcher = Dispatcher(
        sender.db,
        sender.demo.outbox,
        RouterTransport(sender.channel),
        batch=64,
        workers=8,
        poll_seconds=0.05,
    ).start()
    begin = time.monotonic()
    sender.wait_done(300)
    took = time.monotonic() - begin
    counts = sender.demo.outbox.counts(sender.db)
    sender.close()
    done = counts[DeliveryStatus.DELIVERED]
    return [
        f"maximum rate: a backlog of {count} drained in {took:.1f} s = {done / took:.0f}"
        f" attestations stored per second ({counts[DeliveryStatus.PENDING]} left pending)"
    ], done / took


def run(args: argparse.Namespace) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-inbox-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        pki.init(pki_dir)
        with network(var_dir, pki_dir) as procs:
            lines = open_loop(
                var_dir, pki_dir, procs, name="to ONEM (named), one router",
                kind="unemployment.c4", rate=args.rate, seconds=args.inbox_seconds, consume=True,
            )  # fmt: skip
            lines += open_loop(
                var_dir, pki_dir, procs, name="to the mutuality (directory, primary + hub)",
                kind="sickness.zima-001", rate=args.rate, seconds=args.hub_seconds, consume=False,
            )  # fmt: skip
            drained, drain_rate = backlog(var_dir, pki_dir, procs, args.backlog)
            lines += drained
            if args.sustain_seconds:  # open loop just under the drain rate: is it sustained?
                lines += open_loop(
                    var_dir, pki_dir, procs, name="sustained (90% of the drain rate)",
                    kind="unemployment.c4", rate=0.9 * drain_rate,
                    seconds=args.sustain_seconds, consume=False,
                )  # fmt: skip
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", type=float, default=100.0, help="attestations per second")
    parser.add_argument("--inbox-seconds", type=float, default=60.0)
    parser.add_argument("--hub-seconds", type=float, default=20.0)
    parser.add_argument("--backlog", type=int, default=3000)
    parser.add_argument("--sustain-seconds", type=float, default=20.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox")
    add_arguments(parser)
    lines = run(parser.parse_args(argv))
    sys.stdout.write("\nAttestation delivery (sender -> router [-> hub] -> inbox), SQLite:\n")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
