"""The DmfA's figure: validate and store one 10,000-worker declaration, Dimona cross-checks
included — wall time and peak memory (`python -m bench --only dmfa`, also part of `make bench`).

Targets (the DmfA issue): at most 10 s and at most 1 GiB of resident memory on this machine.

**Processes**, as `make run` starts them (`python -m <service>`, port 0, a temporary var/ and
SQLite databases): the registry seeded with 11,000 synthetic persons (about 10,650 living under
their current number; `export-population` writes them), the primary router seeded by its own
`seed --role primary` with DIMONA's and the DmfA's endpoints (so DimonaQuarterService, the
DmfA's services and the ONSS's cross-check grants exist), DIMONA, and the DmfA.

**Set-up, not measured.** 10,000 Dimona periods of employer 000100006 (definitive number, a
certificate in the dev PKI) for 10,000 distinct living persons of the register, overlapping
2025Q3: 9,700 OTH (most since before the quarter and open-ended, some hired or leaving during
it) and 300 STU of one to four weeks with planned hours (persons aged 16 to 24), so that
students' quota counters are asked and fed. They are **written into DIMONA's database with
DIMONA's own repository** (`dimona.storage.repository`, one transaction) before DIMONA starts,
instead of 10,000 IN declarations through its gRPC (30-60 s here): only the period rows are
written — no declaration, employment event or directory outbox row, hence no directory
integration, which the DmfA does not need (it reads DIMONA's periods through the router, and
the register's statuses). The declaration is then pre-filled from those periods as the
employer's `python -m dmfa.cli draft` does (`dmfa.service.prefill`, committee 202: worker codes
495 and 841) with one worker left out, so that DIMONA has a period the declaration lacks: one
MISSING_WORKER warning.

**Measured**, twice: the client's wall time of one SubmitDeclaration stream as the employer
(`employer-000100006` certificate; 10 chunks of 1,000 workers, built beforehand) from the
first chunk to the response. It holds the DmfA's reading and validation of the stream, the
register's statuses of 9,999 INSZs (batches of 500), DIMONA's 10 pages of periods and the
students' balances through the router, the checks and the contributions, and the commit
(version, workers, anomalies, workers' quarters, event, quota outbox row). The answer must be
ACCEPTED_WITH_ANOMALIES with 9,999 workers and exactly one MISSING_WORKER (plus LATE: the
DmfA runs on the real clock and 2025Q3's deadline is past) — anything else fails the bench.
Run 1 is the original (the first submission since the DmfA started); run 2 a correction of it
with the same workers (the previous version superseded, the workers' quarters replaced), after
the quota outbox has sent run 1's student hours to DIMONA. Peak memory is each process's VmHWM
(/proc/<pid>/status), reset before each run (`clear_refs`), read after it.

**Phases**, afterwards and cheap: the same cross-check calls made from this process through the
router as the ONSS (`dmfa.transport.router_client`), and the stream's mapping and the checks run
in this process on the same declaration; what remains of the total is the commit and gRPC.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bench.harness import ServiceProcess
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from runtime import pki
from runtime.client import party_tls, secure_channel

if TYPE_CHECKING:
    from dmfa.service.model import DimonaPeriod, Person

T = TypeVar("T")
TITLE = "DmfA: one declaration validated and stored, Dimona cross-checks included"

EMPLOYER = "000100006"
COMMITTEE = "202"
YEAR, QUARTER = 2025, 3
WORKERS = 10_000
STUDENTS = 300
REGISTRY_PERSONS = 11_000
CHUNK = 1_000
SEED = 2025_09
TARGET_SECONDS = 10.0
TARGET_BYTES = 1 << 30
#: The worker code of a student in joint committee 202 (dmfa.service.prefill).
STUDENT_CODE = "841"
STATUS = {
    v.number: v.name.removeprefix("VERSION_STATUS_")
    for v in dmfa_pb2.VersionStatus.DESCRIPTOR.values
}


@contextlib.contextmanager
def databases(var_dir: Path, postgres: str) -> Iterator[dict[str, str]]:
    """DIMONA's and the DmfA's database URLs: SQLite files in var_dir, or with `postgres` (a
    server URL) two new databases on that server, dropped afterwards."""
    names = ("dimona", "dmfa")
    if not postgres:
        yield {n: f"sqlite:///{var_dir / f'{n}.sqlite3'}" for n in names}
        return
    import sqlalchemy as sa

    server = sa.make_url(postgres)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    made = {n: f"bench_{n}_{os.getpid()}" for n in names}
    try:
        with admin.connect() as conn:
            for db in made.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{db}"'))
        yield {
            n: server.set(database=db).render_as_string(hide_password=False)
            for n, db in made.items()
        }
    finally:
        with admin.connect() as conn:
            for db in made.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def network(
    var_dir: Path, pki_dir: Path, workers: int, urls: dict[str, str]
) -> Iterator[dict[str, ServiceProcess]]:
    """Registry, router, DIMONA (its periods written first) and the DmfA, seeded."""
    with contextlib.ExitStack() as stack:
        registry = ServiceProcess("registry", var_dir, pki_dir)
        registry.run_step("seed", "--count", str(REGISTRY_PERSONS))
        population = var_dir / "population.txt"
        registry.run_step("export-population", "--out", str(population))
        stack.enter_context(registry)
        reg = f"localhost:{registry.port}"
        router = stack.enter_context(
            ServiceProcess("router", var_dir, pki_dir, REGISTRY_ADDR=reg, ROUTER_NAME="cbss")
        )
        at_router = {"ROUTER_ADDR": f"localhost:{router.port}", "ROUTER_NAME": "cbss"}
        dimona = ServiceProcess(
            "dimona", var_dir, pki_dir, DATABASE_URL=urls["dimona"], **at_router
        )
        dimona.run_step("seed")  # migrated, the employer register
        inszs = [line for line in population.read_text().split() if line]
        write_periods(urls["dimona"], choose_workers(inszs, workers))
        stack.enter_context(dimona)
        dmfa = ServiceProcess("dmfa", var_dir, pki_dir, DATABASE_URL=urls["dmfa"], **at_router)
        dmfa.run_step("seed")
        stack.enter_context(dmfa)
        router.run_step(
            "seed", "--role", "primary", "--registry-endpoint", reg,
            "--dimona-endpoint", f"localhost:{dimona.port}",
            "--dmfa-endpoint", f"localhost:{dmfa.port}",
        )  # fmt: skip
        yield {"registry": registry, "router": router, "dimona": dimona, "dmfa": dmfa}


def choose_workers(inszs: list[str], count: int) -> list[tuple[str, str]]:
    """(INSZ, Dimona type) of `count` distinct persons: students aged 16 to 24, the others
    of working age first (then anyone living, should the population run short)."""
    from runtime.identifiers import parse_insz

    rng = random.Random(SEED)
    ages = {insz: YEAR - parse_insz(insz).birth_year for insz in sorted(set(inszs))}
    young = [i for i, age in ages.items() if 16 <= age <= 24]
    working = [i for i, age in ages.items() if 25 <= age <= 66]
    rest = [i for i, age in ages.items() if not 16 <= age <= 66]
    for pool in (young, working, rest):
        rng.shuffle(pool)
    students = min(STUDENTS, count // 20)
    chosen = [(i, "STU") for i in young[:students]]
    others = working + young[students:] + rest
    if len(others) < count - students:
        raise SystemExit(f"bench.dmfa: the register has {len(ages)} living persons, not {count}")
    chosen += [(i, "OTH") for i in others[: count - students]]
    return chosen


def write_periods(database_url: str, workers: list[tuple[str, str]]) -> None:
    """The employer's periods in DIMONA's database, with DIMONA's repository (one transaction)."""
    from dimona.service.model import Period, PeriodState, WorkerType
    from dimona.storage.repository import unit_factory
    from dmfa.service.model import Quarter
    from runtime.db import Database

    quarter = Quarter(YEAR, QUARTER)
    first, last = quarter.first_day, quarter.last_day
    days = (last - first).days + 1
    rng = random.Random(SEED + 1)
    declared = dt.datetime(2025, 6, 30, 6, 0, tzinfo=dt.UTC)
    db = Database(database_url)
    try:
        with unit_factory(db)() as unit:
            for insz, kind in workers:
                start, end, planned = first, None, 0
                if kind == "STU":
                    start = first + dt.timedelta(days=rng.randrange(0, days - 30))
                    end = start + dt.timedelta(days=rng.randrange(6, 28))
                    planned = rng.randrange(20, 121, 4)
                else:
                    shape = rng.random()
                    if shape < 0.8:  # employed since before the quarter
                        start = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 3800))
                    elif shape < 0.9:  # hired during the quarter
                        start = first + dt.timedelta(days=rng.randrange(0, days - 1))
                    else:  # leaving during the quarter
                        end = first + dt.timedelta(days=rng.randrange(10, days - 1))
                unit.periods.add(
                    Period(
                        period_id=0, employer=EMPLOYER, worker=insz,
                        worker_type=WorkerType(kind), joint_committee=COMMITTEE,
                        sub_entity="", using_employer="", start_date=start, start_time=None,
                        end_date=end, end_time=None, planned_hours=planned,
                        flexi_contract=None, state=PeriodState.ACTIVE,
                        student_minutes=planned * 60, exceeding_minutes=0, late=False,
                        created_at=declared, updated_at=declared,
                    )
                )  # fmt: skip
    finally:
        db.dispose()


def read_periods(database_url: str) -> list[DimonaPeriod]:
    """The employer's periods in the quarter as the DmfA sees them (dmfa DimonaPeriod)."""
    from dimona.storage.repository import unit_factory
    from dmfa.service.model import DimonaPeriod, Quarter
    from runtime.db import Database

    quarter = Quarter(YEAR, QUARTER)
    db = Database(database_url)
    try:
        with unit_factory(db, write=False)() as unit:
            rows = unit.periods.in_quarter(
                EMPLOYER, quarter.first_day, quarter.last_day, 0, 1_000_000
            )
    finally:
        db.dispose()
    return [
        DimonaPeriod(p.period_id, p.worker, p.worker_type.value, p.start_date, p.end_date)
        for p in rows
    ]


def chunks(
    persons: tuple[Person, ...], reference: str, corrects: int = 0
) -> list[dmfa_pb2.SubmitDeclarationRequest]:
    """The declaration's stream: the header and 1,000 workers a chunk."""
    from dmfa.transport.mapping import person_message

    declaration = f"employers/{EMPLOYER}/declarations/{YEAR}Q{QUARTER}"
    header = dmfa_pb2.DeclarationHeader(
        employer=EMPLOYER, year=YEAR, quarter=QUARTER, submission_reference=reference,
        corrects=f"{declaration}/versions/{corrects}" if corrects else "",
    )  # fmt: skip
    messages = [person_message(p) for p in persons]
    out = [dmfa_pb2.SubmitDeclarationRequest(header=header, workers=messages[:CHUNK])]
    out += [
        dmfa_pb2.SubmitDeclarationRequest(workers=messages[i : i + CHUNK])
        for i in range(CHUNK, len(messages), CHUNK)
    ]
    return out


def _status(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure in bytes (VmHWM, VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _reset_peak(pid: int) -> None:
    with contextlib.suppress(OSError):  # not permitted: the peak since start is reported
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB"


def _quota_pending(database_url: str) -> int:
    """Rows of the DmfA's quota outbox not yet sent to DIMONA."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM quota_update WHERE state = 'PENDING'"
            return int(conn.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


class BenchFailed(Exception):
    """The declaration was not answered as it must be: the figure means nothing."""


@dataclass
class Submitted:
    name: str
    seconds: float
    version: dmfa_pb2.DeclarationVersion
    #: By process label: CPU seconds used, resident bytes before, peak resident bytes.
    cpu: dict[str, float]
    rss_before: dict[str, int]
    peak: dict[str, int]

    def lines(self) -> list[str]:
        v = self.version
        codes = Counter(a.code for a in v.anomalies)
        anomalies = ", ".join(f"{code} {n}" for code, n in sorted(codes.items()))
        return [
            f"  {self.name}: {self.seconds:.2f} s = {v.totals.workers / self.seconds:,.0f}"
            f" workers/s; {STATUS[v.status]}, {v.totals.workers:,} workers, {anomalies}",
            "    peak RSS "
            + ", ".join(
                f"{k} {_mib(self.peak[k])} ({_mib(self.rss_before[k])} before)" for k in self.peak
            ),
            "    CPU s " + ", ".join(f"{k} {self.cpu[k]:.2f}" for k in self.cpu),
        ]


def submit(
    procs: dict[str, ServiceProcess],
    pki_dir: Path,
    requests: list[dmfa_pb2.SubmitDeclarationRequest],
    workers: int,
    name: str,
) -> Submitted:
    """One SubmitDeclaration stream as the employer, timed; checked against what it must be."""
    pids = {p.label: p.proc.pid for p in procs.values() if p.proc is not None}
    for pid in pids.values():
        _reset_peak(pid)
    rss_before = {label: _status(pid, "VmRSS") for label, pid in pids.items()}
    cpu0 = {p.label: p.cpu_seconds() for p in procs.values()}
    with secure_channel(
        f"localhost:{procs['dmfa'].port}", party_tls(pki_dir, f"employer-{EMPLOYER}")
    ) as channel:
        stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
        stub.ListDeclarations(  # the connection up (TLS handshake) before the clock starts
            dmfa_pb2.ListDeclarationsRequest(parent=f"employers/{EMPLOYER}"), timeout=10
        )
        begin = time.perf_counter()
        reply = stub.SubmitDeclaration(iter(requests), timeout=300)
        seconds = time.perf_counter() - begin
    cpu = {p.label: p.cpu_seconds() - cpu0[p.label] for p in procs.values()}
    peak = {label: _status(pid, "VmHWM") for label, pid in pids.items()}
    v = reply.version
    codes = Counter(a.code for a in v.anomalies)
    expected = Counter({"MISSING_WORKER": 1}) + (Counter({"LATE": 1}) if v.late else Counter())
    if (
        v.status != dmfa_pb2.VERSION_STATUS_ACCEPTED_WITH_ANOMALIES
        or v.totals.workers != workers - 1
        or codes != expected
    ):
        raise BenchFailed(
            f"{name}: {STATUS.get(v.status, v.status)}, {v.totals.workers} workers, anomalies"
            f" {dict(codes)} (expected ACCEPTED_WITH_ANOMALIES, {workers - 1} workers, one"
            " MISSING_WORKER)"
        )
    return Submitted(name, seconds, v, cpu, rss_before, peak)


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    begin = time.perf_counter()
    out = work()
    return out, time.perf_counter() - begin


def phases(
    procs: dict[str, ServiceProcess],
    pki_dir: Path,
    requests: list[dmfa_pb2.SubmitDeclarationRequest],
) -> list[str]:
    """The cross-checks as the DmfA makes them (from this process, as the ONSS, through the
    same router), then the stream's mapping and the checks in this process: a rough split."""
    from dmfa.service.checks import judge
    from dmfa.service.model import CrossCheck, Quarter
    from dmfa.service.tables import Tables
    from dmfa.transport import mapping
    from dmfa.transport.router_client import router_network

    quarter = Quarter(YEAR, QUARTER)
    submission, t_read = _timed(lambda: mapping.submission(iter(requests)))
    inszs = sorted({p.insz for p in submission.persons})
    students = sorted(
        {p.insz for p in submission.persons if p.records[0].worker_code == STUDENT_CODE}
    )
    network, channel = router_network(
        f"localhost:{procs['router'].port}", "cbss", party_tls(pki_dir, "onss")
    )
    try:
        persons, t_persons = _timed(lambda: network.persons(inszs))
        periods, t_periods = _timed(lambda: network.periods(EMPLOYER, quarter))
        balances, t_balances = _timed(lambda: network.student_balances(EMPLOYER, quarter, students))
        with ThreadPoolExecutor(3) as pool:  # as the DmfA does
            begin = time.perf_counter()
            for future in [
                pool.submit(network.persons, inszs),
                pool.submit(network.periods, EMPLOYER, quarter),
                pool.submit(network.student_balances, EMPLOYER, quarter, students),
            ]:
                future.result()
            t_parallel = time.perf_counter() - begin
    finally:
        channel.close()
    cross = CrossCheck(persons=persons, periods=tuple(periods), students=balances)
    tables = Tables.load()
    _, t_judge = _timed(lambda: judge(submission, cross, tables, dt.date.today()))
    return [
        "  phases, the same work again from this process:",
        f"    cross-checks through the router, in parallel as the DmfA makes them:"
        f" {t_parallel:.2f} s; one at a time: the register's statuses of {len(inszs):,} INSZs"
        f" {t_persons:.2f} s, DIMONA's {len(periods):,} periods {t_periods:.2f} s,"
        f" {len(students)} students' balances {t_balances:.2f} s",
        f"    reading and validating the stream {t_read:.2f} s; checks and contributions"
        f" {t_judge:.2f} s; the rest of the total is the commit and gRPC",
    ]


def run(args: argparse.Namespace) -> tuple[list[str], bool]:
    """The figure's lines, and whether every declaration was answered as it must be."""
    from dmfa.service.model import Quarter
    from dmfa.service.prefill import prefill

    workers = args.dmfa_workers
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-dmfa-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        pki.init(pki_dir)
        with (
            databases(var_dir, args.dmfa_postgres) as urls,
            network(var_dir, pki_dir, workers, urls) as procs,
        ):
            periods: list[DimonaPeriod] = read_periods(urls["dimona"])
            # The draft's first worker (by INSZ) left out: a period of DIMONA's without a worker.
            persons = prefill(COMMITTEE, Quarter(YEAR, QUARTER), periods, leave_out=0)
            original = chunks(persons, "bench-original")
            correction = chunks(persons, "bench-correction", corrects=1)
            done: list[Submitted] = []
            try:
                done.append(submit(procs, pki_dir, original, workers, "original (version 1)"))
                deadline = time.monotonic() + 60
                while _quota_pending(urls["dmfa"]) and time.monotonic() < deadline:
                    time.sleep(0.2)  # run 1's students' hours recorded in DIMONA first
                done.append(submit(procs, pki_dir, correction, workers, "correction (version 2)"))
            except BenchFailed as exc:
                return [f"  FAILED: {exc}"], False
            split = phases(procs, pki_dir, original) if args.dmfa_phases else []
    students = sum(1 for p in persons if p.records[0].worker_code == STUDENT_CODE)
    lines = [
        f"employer {EMPLOYER}, {YEAR}Q{QUARTER}: {workers:,} Dimona periods ({students} STU"
        f" declared), {len(persons):,} workers declared in {len(original)} chunks of {CHUNK:,};"
        f" DIMONA and the DmfA on {'PostgreSQL' if args.dmfa_postgres else 'SQLite'}"
    ]
    for submitted in done:
        lines += submitted.lines()
    lines += split
    worst = max(s.seconds for s in done)
    dmfa_peak = max(s.peak["dmfa"] for s in done)
    router_peak = max(s.peak["router"] for s in done)
    lines.append(
        f"  [{'met' if worst <= TARGET_SECONDS else 'MISSED'}] one {workers:,}-worker declaration"
        f" validated and stored in <= {TARGET_SECONDS:.0f} s: "
        + ", ".join(f"{s.seconds:.1f} s" for s in done)
    )
    lines.append(
        f"  [{'met' if dmfa_peak <= TARGET_BYTES else 'MISSED'}] peak RSS <= 1 GiB: dmfa"
        f" {_mib(dmfa_peak)} (router {_mib(router_peak)})"
    )
    return lines, True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dmfa-workers", type=int, default=WORKERS, help="Dimona periods (workers + 1 missing)"
    )
    parser.add_argument(
        "--no-dmfa-phases", dest="dmfa_phases", action="store_false",
        help="skip the phase split",
    )  # fmt: skip
    parser.add_argument(
        "--dmfa-postgres", default="", metavar="URL",
        help="DIMONA and the DmfA on new databases of this PostgreSQL server"
        " (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); default SQLite",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dmfa")
    add_arguments(parser)
    lines, ok = run(parser.parse_args(argv))
    sys.stdout.write(f"\n{TITLE}:\n")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
