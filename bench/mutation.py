"""Mutation fan-out figures (issue 10): `python -m bench --only mutation` (or `bench.mutation`).

Processes as `make run` starts them, each with its own SQLite database: the registry (10,000
seeded persons), the primary router (its own seed), ten institution inboxes (`bench-01` ..
`bench-10`, onboarded through the router's and the mutation service's public admin APIs, each
with its certificate in a bench PKI) and the mutation service reading the register.

The directory holds **over 100,000 entries**: every living person of the register is held
today by two of the ten institutions (capacity 17/1) and was held in nine past, closed periods
(so the directory answers eleven rows per person, of which two are current). Each
institution is granted `person.address-changed` for 17/1 and subscribes to it: a move gives two
notifications, each delivered through the router to the holder's inbox.

1. **Maximum rate**: `--mutation-backlog` moves recorded while the mutation service is stopped,
   then it starts: notifications stored in the ten inboxes per second, from its start to the
   last one stored (reading the register, asking the directory, queuing, routing, storing).
2. **Lag**: moves recorded at `--mutation-rate` events/s for `--mutation-seconds`: the time from
   the register recording the move (the event's `recorded_at`) to the notification stored in
   the inbox (`received_at`), p50 / p99 / max.

Targets (issue 10): >= 300 notifications/s; lag p99 <= 2 s at 100 events/s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc

from bench.harness import ServiceProcess
from bench.inbox import inbox_process
from bench.registry import SEEDED, registry_process
from cbss.common.v1 import types_pb2
from cbss.inbox.v1 import inbox_pb2
from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc, router_admin_pb2
from cbss.router.v1 import router_admin_pb2_grpc as admin_grpc
from registry.seed.population import generate
from runtime import pki
from runtime.client import party_tls, secure_channel, server_name
from runtime.identifiers import InszKind

TITLE = "Mutation fan-out (register -> mutation service -> router -> 10 inboxes), SQLite"
INSTITUTIONS = tuple(f"bench-{i:02d}" for i in range(1, 11))
CAPACITY = directory_pb2.Capacity(sector=17, code=1)
EVENT_TYPE = "person.address-changed"


def _uri(kind: str, name: str) -> dict[str, str]:
    return server_name(f"spiffe://carrefour.local/{kind}/{name}")


def _movable() -> list[str]:
    """Living National Register persons under their current number (the register's own
    changes: `institution/nr` may move them)."""
    people = itertools.islice(generate(SEEDED, 1), SEEDED)
    return [
        p.record.insz
        for p in people
        if p.record.replaced_by is None
        and p.record.death_date is None
        and p.record.kind is InszKind.NATIONAL_REGISTER
    ]


def _contract() -> bytes:
    from google.protobuf import descriptor_pb2

    from router.seed import contract_files

    files = contract_files(inbox_pb2.DESCRIPTOR)
    return descriptor_pb2.FileDescriptorSet(
        file=[descriptor_pb2.FileDescriptorProto.FromString(f) for f in files]
    ).SerializeToString()


def _onboard(router: int, mutation: int, inboxes: dict[str, int], pki_dir: Path) -> None:
    """The ten institutions, as an operator onboards them: at the router (institution, its
    inbox as provider of the inbox contract, the CBSS's authorisation to deliver to it), at the
    mutation service (the grant), then each institution subscribes."""
    contract = _contract()
    day = {"year": 2020, "month": 1, "day": 1}
    with secure_channel(
        f"localhost:{router}", party_tls(pki_dir, "admin-ops"), **_uri("router", "cbss")
    ) as channel:
        admin = admin_grpc.RouterAdminServiceStub(channel)
        for inst, port in inboxes.items():
            admin.RegisterInstitution(
                router_admin_pb2.RegisterInstitutionRequest(
                    institution=router_admin_pb2.Institution(
                        id=inst, display_name=f"Bench {inst}", sectors=[17]
                    )
                ),
                timeout=30,
            )
            admin.RegisterService(
                router_admin_pb2.RegisterServiceRequest(
                    registration=router_admin_pb2.ServiceRegistration(
                        service="cbss.inbox.v1.InboxService",
                        provider=inst,
                        endpoint=f"localhost:{port}",
                    ),
                    file_descriptor_set=contract,
                ),
                timeout=30,
            )
            for method in ("DeliverAttestation", "GetAttestationStatus"):
                admin.GrantAuthorisation(
                    router_admin_pb2.GrantAuthorisationRequest(
                        authorisation=router_admin_pb2.Authorisation(
                            deliberation=f"ISC/BENCH/{inst}",
                            requester="cbss",
                            service="cbss.inbox.v1.InboxService",
                            method=method,
                            destination=inst,
                            legal_contexts=["mutation.person"],
                            directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE,
                            valid_from=day,
                        )
                    ),
                    timeout=30,
                )
    with secure_channel(
        f"localhost:{mutation}", party_tls(pki_dir, "admin-ops"), **_uri("institution", "cbss")
    ) as channel:
        stub = mutation_pb2_grpc.MutationAdminServiceStub(channel)
        for inst in inboxes:
            stub.GrantEventType(
                mutation_pb2.GrantEventTypeRequest(
                    grant=mutation_pb2.EventTypeGrant(
                        institution=inst,
                        event_type=EVENT_TYPE,
                        capacities=["17/1"],
                        deliberation=f"ISC/BENCH/{inst}",
                        valid_from=day,
                    )
                ),
                timeout=30,
            )
    for inst in inboxes:
        with secure_channel(
            f"localhost:{mutation}",
            party_tls(pki_dir, f"institution-{inst}"),
            **_uri("institution", "cbss"),
        ) as channel:
            mutation_pb2_grpc.SubscriptionServiceStub(channel).UpdateSubscription(
                mutation_pb2.UpdateSubscriptionRequest(event_types=[EVENT_TYPE]), timeout=30
            )


def _integrate(router: int, pki_dir: Path, persons: list[str]) -> int:
    """Each institution registers its own entries (batches of 1,000): 11 per person."""
    per: dict[str, list[directory_pb2.DirectoryEntry]] = {i: [] for i in INSTITUTIONS}
    n = len(INSTITUTIONS)
    for i, insz in enumerate(persons):
        for k in range(n):
            inst = INSTITUTIONS[(i + k) % n]
            if k < 2:  # held today
                period = types_pb2.Period(start_date={"year": 2020, "month": 1, "day": 1})
            else:  # held once, for a year
                period = _year(2000 + k)
            per[inst].append(
                directory_pb2.DirectoryEntry(insz=insz, capacity=CAPACITY, period=period)
            )
        # And once more, long ago, by the first of them: 11 entries per person.
        per[INSTITUTIONS[i % n]].append(
            directory_pb2.DirectoryEntry(insz=insz, capacity=CAPACITY, period=_year(1995))
        )
    total = 0
    for inst, entries in per.items():
        with secure_channel(
            f"localhost:{router}",
            party_tls(pki_dir, f"institution-{inst}"),
            **_uri("router", "cbss"),
        ) as channel:
            stub = directory_pb2_grpc.DirectoryServiceStub(channel)
            for at in range(0, len(entries), 1000):
                stub.RegisterEntries(
                    directory_pb2.RegisterEntriesRequest(entries=entries[at : at + 1000]),
                    timeout=120,
                )
                total += len(entries[at : at + 1000])
    return total


def _year(year: int) -> types_pb2.Period:
    return types_pb2.Period(
        start_date={"year": year, "month": 1, "day": 1},
        end_date={"year": year, "month": 12, "day": 31},
    )


class Register:
    """Moves recorded by the National Register (`institution/nr`), from a few threads."""

    def __init__(self, port: int, pki_dir: Path) -> None:
        self.channel = secure_channel(
            f"localhost:{port}", party_tls(pki_dir, "institution-nr"), **_uri("institution", "nr")
        )
        self.stub = registry_pb2_grpc.RegistryServiceStub(self.channel)
        self.pool = futures.ThreadPoolExecutor(8)
        self.failed = 0
        self._lock = threading.Lock()

    def move(self, insz: str) -> None:
        day = dt.date.today()
        try:
            self.stub.ChangeAddress(
                registry_pb2.ChangeAddressRequest(
                    insz=insz,
                    request_id=uuid.uuid4().hex,
                    address=types_pb2.Address(
                        street="Rue du Banc d'essai",
                        house_number="1",
                        postcode="1000",
                        municipality="Bruxelles",
                        country_code="BE",
                    ),
                    effective_date={"year": day.year, "month": day.month, "day": day.day},
                ),
                timeout=30,
            )
        except grpc.RpcError:
            with self._lock:
                self.failed += 1

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.channel.close()


def _stored(var_dir: Path) -> list[tuple[float, float]]:
    """(recorded_at of the change, received_at) of every notification in the ten inboxes."""
    found = []
    for inst in INSTITUTIONS:
        path = var_dir / f"inbox-{inst}.sqlite3"
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            for payload, received in conn.execute(
                "SELECT payload, received_at FROM attestation WHERE kind LIKE 'mutation.%'"
            ):
                change = mutation_pb2.PersonChange.FromString(payload)
                recorded = change.record_time.ToDatetime(dt.UTC).timestamp()
                found.append((recorded, _epoch(received)))
    return found


def _count(var_dir: Path) -> int:
    total = 0
    for inst in INSTITUTIONS:
        with contextlib.closing(
            sqlite3.connect(var_dir / f"inbox-{inst}.sqlite3", timeout=30)
        ) as conn:
            total += conn.execute("SELECT count(*) FROM attestation").fetchone()[0]
    return total


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _wait_count(var_dir: Path, expected: int, timeout: float) -> tuple[int, float]:
    deadline = time.monotonic() + timeout
    n = _count(var_dir)
    while n < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        n = _count(var_dir)
    return n, time.monotonic()


@contextlib.contextmanager
def network(var_dir: Path, pki_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    with contextlib.ExitStack() as stack:
        registry = stack.enter_context(registry_process(var_dir, pki_dir))
        reg = f"localhost:{registry.port}"
        procs: dict[str, ServiceProcess] = {"registry": registry}
        for inst in INSTITUTIONS:
            procs[inst] = stack.enter_context(inbox_process(var_dir, pki_dir, inst))
        router = stack.enter_context(
            ServiceProcess("router", var_dir, pki_dir, REGISTRY_ADDR=reg, ROUTER_NAME="cbss")
        )
        router.run_step("seed", "--role", "primary", "--registry-endpoint", reg)
        procs["router"] = router
        yield procs


def _mutation(var_dir: Path, pki_dir: Path, procs: dict[str, ServiceProcess]) -> ServiceProcess:
    return ServiceProcess(
        "mutation",
        var_dir,
        pki_dir,
        ROUTER_ADDR=f"localhost:{procs['router'].port}",
        REGISTRY_ADDR=f"localhost:{procs['registry'].port}",
        DIMONA_ADDR="",
        DMFA_ADDR="",
        ACK_POLL_SECONDS="0",
        MUTATION_POLL_SECONDS="0.05",
        DATABASE_URL=f"sqlite:///{var_dir / 'mutation.sqlite3'}",
    )


def run(args: argparse.Namespace) -> tuple[list[str], bool]:
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-mutation-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        parties = pki.DEV_PARTIES + tuple(
            pki.Party(f"institution-{i}", f"institution/{i}") for i in INSTITUTIONS
        )
        pki.init(pki_dir, parties)
        persons = _movable()
        backlog = persons[: args.mutation_backlog]
        streamed = persons[args.mutation_backlog :]
        with network(var_dir, pki_dir) as procs:
            # Onboarding needs the mutation service serving: start it once for that, stop it.
            with _mutation(var_dir, pki_dir, procs) as mutation:
                inboxes = {i: procs[i].port for i in INSTITUTIONS}
                _onboard(procs["router"].port, mutation.port, inboxes, pki_dir)
            entries = _integrate(procs["router"].port, pki_dir, persons)
            lines.append(
                f"directory: {entries:,} entries ({len(persons):,} persons, 11 entries each over"
                " 10 institutions, 2 current); 2 notifications per move"
            )
            register = Register(procs["registry"].port, pki_dir)
            list(register.pool.map(register.move, backlog))
            recorded = len(backlog) - register.failed
            expected = 2 * recorded
            watched = [procs["router"], procs["registry"], *(procs[i] for i in INSTITUTIONS)]
            cpu0 = {p.label: p.cpu_seconds() for p in watched}
            with _mutation(var_dir, pki_dir, procs) as mutation:
                begin = time.monotonic()
                mcpu0 = mutation.cpu_seconds()
                n, end = _wait_count(var_dir, expected, 300)
                took = end - begin
                rate = n / took
                cpu = {p.label: p.cpu_seconds() - cpu0[p.label] for p in watched}
                cpu["mutation"] = mutation.cpu_seconds() - mcpu0
                inbox_cpu = sum(v for k, v in cpu.items() if k.startswith("inbox-"))
                busy = (
                    f"mutation {cpu['mutation'] / max(n, 1) * 1e6:.0f} + router"
                    f" {cpu['router'] / max(n, 1) * 1e6:.0f} + inboxes"
                    f" {inbox_cpu / max(n, 1) * 1e6:.0f}"
                )
                ok_rate = rate >= 300 and n == expected
                lines.append(
                    f"maximum rate: a backlog of {recorded:,} moves -> {n:,}/{expected:,}"
                    f" notifications stored in {took:.1f} s = {rate:.0f} notifications/s"
                    f"   [{'met' if ok_rate else 'MISSED'}] target >= 300/s"
                )
                lines.append(f"  CPU µs per notification: {busy}")
                # Open loop at the given rate.
                before = _count(var_dir)
                register.failed = 0
                total = int(args.mutation_rate * args.mutation_seconds)
                start, wall0 = time.monotonic(), time.time()
                for i, insz in enumerate(streamed[:total]):
                    register.pool.submit(register.move, insz)
                    time.sleep(max(0.0, start + (i + 1) / args.mutation_rate - time.monotonic()))
                offered = total / (time.monotonic() - start)
                register.pool.shutdown(wait=True)
                expected_more = 2 * (total - register.failed)
                n2, _ = _wait_count(var_dir, before + expected_more, 120)
                lags = [r - c for c, r in _stored(var_dir) if c >= wall0]
                p99 = _pct(lags, 0.99)
                ok_lag = p99 <= 2.0 and n2 == before + expected_more
                lines.append(
                    f"lag at {offered:.0f} moves/s for {args.mutation_seconds:.0f} s"
                    f" ({2 * offered:.0f} notifications/s): recorded -> stored p50"
                    f" {_pct(lags, 0.5) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max"
                    f" {_pct(lags, 1.0) * 1000:.0f} ms ({n2 - before:,}/{expected_more:,} stored)"
                    f"   [{'met' if ok_lag else 'MISSED'}] target p99 <= 2 s"
                )
            register.channel.close()
    return lines, ok_rate and ok_lag


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mutation-backlog", type=int, default=1500, help="moves (x2 notifs)")
    parser.add_argument("--mutation-rate", type=float, default=100.0, help="moves per second")
    parser.add_argument("--mutation-seconds", type=float, default=20.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation")
    add_arguments(parser)
    lines, ok = run(parser.parse_args(argv))
    sys.stdout.write(f"\n{TITLE}:\n" + "\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
