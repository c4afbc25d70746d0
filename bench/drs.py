"""The DRS's figure: pre-fills per second (three routed consultations each) and their latency,
20 in flight (`python -m bench --only drs`, also part of `make bench`).

No target was set (the DRS issue asks for the figure); it is printed beside a single routed
consultation measured on the same processes in the same run, so that the ratio shows what the
three consultations and the DRS's own work cost.

**Processes**, as `make run` starts them (`python -m <service>`, port 0, a temporary var/ and
SQLite databases): the registry seeded with 2,000 synthetic persons, the primary router seeded
by its own `seed --role primary` with DIMONA's, the DmfA's and the DRS's endpoints (so the DRS's
pre-fill grants exist: legal context `social-risks.declaration`, directory check REQUIRED with the
ONSS's capacity 1/1 on the risk date), DIMONA, the DmfA and the DRS, each seeded (employers).

**Set-up, not measured.** 500 living persons of working age get an OTH period (joint committee
202) at employer 000100006 (definitive number, a certificate in the dev PKI) from the first day
of the previous quarter, open-ended, **declared through DIMONA's gRPC** as the employer (500 IN
declarations, accepted late: they are backdated). That is the honest path and costs a few
seconds: DIMONA checks each identity through the router, stores the period and its directory
outbox row, and its dispatcher integrates the workers in the router's reference directory with
the ONSS's capacity 1/1 — without that integration the router refuses every pre-fill call. The
bench waits until the router's directory (DirectoryService.ListEntries as `onss`) holds all 500
on the risk date. Then the employer submits one DmfA declaration of the previous quarter for the
500 workers (pre-filled from the same periods with `dmfa.service.prefill`, as `python -m
dmfa.cli draft` does; accepted, LATE: its deadline may be past), so that each pre-fill's third
consultation finds a closed quarter.

**Measured**: DrsService.PrefillDeclaration as `employer-000100006`, 20 in flight (closed loop,
bench.harness), 20 s after a 2 s warm-up, each call for the next worker round-robin, scenario
end of contract, risk date the 10th of the current quarter's first month (today if that is
still ahead). Each pre-fill is three routed consultations: DIMONA's GetEmploymentOnDate, then in
parallel the register's GetPerson and the DmfA's ListWorkerQuarters. Every reply must name the
worker, his period and exactly the previous quarter from the DmfA; any error or other answer
fails the bench. Reported: pre-fills/s, p50/p99 latency, the CPU milliseconds each process spends
per pre-fill (/proc, over the measured window), and the router's message log read afterwards:
the consultations it logged per pre-fill, by method. Then, on the same processes, one routed
consultation (the register's GetPerson as the ONSS under the pre-fill's grant, straight to the
router, 20 in flight, 5 s) for the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from bench.harness import Result, ServiceProcess, measure
from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from runtime import identity, pki
from runtime.client import party_tls, secure_channel

if TYPE_CHECKING:
    from dmfa.service.model import Quarter

TITLE = "DRS: pre-fills (three routed consultations each), 20 in flight"
EMPLOYER = "000100006"
COMMITTEE = "202"
WORKERS = 500
REGISTRY_PERSONS = 2_000
CONCURRENCY = 20
WARMUP = 2.0
SECONDS = 20.0
SEED = 2026_11
LEGAL_CONTEXT = "social-risks.declaration"  # the DRS's grants (router.seed)
ONSS_EMPLOYMENT = (1, 1)
PREFILL = "DRS PrefillDeclaration"
SINGLE = "routed GetPerson (one call)"
#: The router's log rows of one pre-fill, by method.
CONSULTATIONS = ("GetEmploymentOnDate", "GetPerson", "ListWorkerQuarters")


def risk_date(today: dt.date) -> dt.date:
    """The 10th of the current quarter's first month, or today when that is still ahead."""
    first_month = 3 * ((today.month - 1) // 3) + 1
    return min(dt.date(today.year, first_month, 10), today)


def _pb(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _day(d: date_pb2.Date) -> dt.date | None:
    return dt.date(d.year, d.month, d.day) if d.year else None


class BenchFailed(Exception):
    """The set-up or a measured call did not answer as it must: the figure means nothing."""


@contextlib.contextmanager
def network(var_dir: Path, pki_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Registry, router, DIMONA, the DmfA and the DRS, seeded; the router seeded last (it
    needs every endpoint)."""
    with contextlib.ExitStack() as stack:
        registry = ServiceProcess("registry", var_dir, pki_dir)
        registry.run_step("seed", "--count", str(REGISTRY_PERSONS))
        registry.run_step("export-population", "--out", str(var_dir / "population.txt"))
        stack.enter_context(registry)
        reg = f"localhost:{registry.port}"
        router = stack.enter_context(
            ServiceProcess("router", var_dir, pki_dir, REGISTRY_ADDR=reg, ROUTER_NAME="cbss")
        )
        at_router = {"ROUTER_ADDR": f"localhost:{router.port}", "ROUTER_NAME": "cbss"}
        procs = {"registry": registry, "router": router}
        for name in ("dimona", "dmfa", "drs"):
            proc = ServiceProcess(name, var_dir, pki_dir, **at_router)
            proc.run_step("seed")  # migrated, the employer register (and the DRS's insurers)
            procs[name] = stack.enter_context(proc)
        router.run_step(
            "seed", "--role", "primary", "--registry-endpoint", reg,
            "--dimona-endpoint", f"localhost:{procs['dimona'].port}",
            "--dmfa-endpoint", f"localhost:{procs['dmfa'].port}",
            "--drs-endpoint", f"localhost:{procs['drs'].port}",
        )  # fmt: skip
        yield procs


def choose_workers(population: Path, year: int, count: int) -> list[str]:
    """`count` distinct living persons aged 25 to 62 (then any adult), in a fixed random order."""
    from runtime.identifiers import parse_insz

    rng = random.Random(SEED)
    ages = {i: year - parse_insz(i).birth_year for i in sorted(set(population.read_text().split()))}
    working = [i for i, age in ages.items() if 25 <= age <= 62]
    others = [i for i, age in ages.items() if 18 <= age <= 66 and not 25 <= age <= 62]
    rng.shuffle(working)
    rng.shuffle(others)
    chosen = (working + others)[:count]
    if len(chosen) < count:
        raise BenchFailed(f"the register has {len(chosen)} adults, not {count}")
    return chosen


def declare_periods(
    procs: dict[str, ServiceProcess], pki_dir: Path, inszs: list[str], start: dt.date
) -> None:
    """One IN per worker through DIMONA's gRPC as the employer (16 at a time)."""
    with secure_channel(
        f"localhost:{procs['dimona'].port}", party_tls(pki_dir, f"employer-{EMPLOYER}")
    ) as channel:
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)

        def declare(n: int) -> dimona_pb2.Declaration:
            request = dimona_pb2.SubmitDeclarationRequest(
                parent=f"employers/{EMPLOYER}",
                declaration_reference=f"bench-drs-{n}",
                dimona_in=dimona_pb2.DimonaIn(
                    worker=dimona_pb2.Worker(insz=inszs[n]),
                    worker_type=dimona_pb2.WORKER_TYPE_OTH,
                    joint_committee=COMMITTEE,
                    start_date=_pb(start),
                ),
            )
            return stub.SubmitDeclaration(request, timeout=60).declaration

        with ThreadPoolExecutor(16) as pool:
            declared = list(pool.map(declare, range(len(inszs))))
    refused = [d for d in declared if d.status == dimona_pb2.DECLARATION_STATUS_REFUSED]
    if refused:
        codes = Counter(a.code for d in refused for a in d.anomalies)
        raise BenchFailed(f"DIMONA refused {len(refused)} INs: {dict(codes)}")


def wait_integrated(
    procs: dict[str, ServiceProcess], pki_dir: Path, inszs: list[str], on: dt.date
) -> None:
    """Until the router's directory holds every worker as the ONSS's (1/1) on the risk date,
    put there by DIMONA's directory outbox (DirectoryService.ListEntries as `onss`)."""
    wanted, held = set(inszs), set[str]()
    deadline = time.monotonic() + 120
    with secure_channel(f"localhost:{procs['router'].port}", party_tls(pki_dir, "onss")) as ch:
        stub = directory_pb2_grpc.DirectoryServiceStub(ch)
        while time.monotonic() < deadline:
            held, token = set(), ""
            while True:
                page = stub.ListEntries(
                    directory_pb2.ListEntriesRequest(page_size=1000, page_token=token), timeout=30
                )
                for e in page.entries:
                    start, end = _day(e.period.start_date), _day(e.period.end_date)
                    covers = start is not None and start <= on and (end is None or on <= end)
                    if covers and (e.capacity.sector, e.capacity.code) == ONSS_EMPLOYMENT:
                        held.add(e.insz)
                token = page.next_page_token
                if not token:
                    break
            if wanted <= held:
                return
            time.sleep(0.2)
    raise BenchFailed(f"the directory holds {len(wanted & held)} of {len(wanted)} workers")


def declare_quarter(
    procs: dict[str, ServiceProcess], pki_dir: Path, inszs: list[str], quarter: Quarter
) -> str:
    """The employer's DmfA of `quarter`, pre-filled from the periods (from its first day,
    open-ended); its status and anomaly codes."""
    from dmfa.service.model import DimonaPeriod
    from dmfa.service.prefill import prefill
    from dmfa.transport.mapping import person_message

    periods = [DimonaPeriod(0, insz, "OTH", quarter.first_day, None) for insz in inszs]
    persons = prefill(COMMITTEE, quarter, periods)
    header = dmfa_pb2.DeclarationHeader(
        employer=EMPLOYER,
        year=quarter.year,
        quarter=quarter.quarter,
        submission_reference="bench-drs",
    )
    request = dmfa_pb2.SubmitDeclarationRequest(
        header=header, workers=[person_message(p) for p in persons]
    )
    with secure_channel(
        f"localhost:{procs['dmfa'].port}", party_tls(pki_dir, f"employer-{EMPLOYER}")
    ) as channel:
        stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
        v = stub.SubmitDeclaration(iter([request]), timeout=120).version
    status = dmfa_pb2.VersionStatus.Name(v.status).removeprefix("VERSION_STATUS_")
    codes = Counter(a.code for a in v.anomalies)
    if (
        not v.status
        or v.status == dmfa_pb2.VERSION_STATUS_REFUSED
        or v.totals.workers != len(inszs)
    ):
        raise BenchFailed(f"DmfA {quarter}: {status}, {v.totals.workers} workers, {dict(codes)}")
    return f"DmfA {quarter} {status} ({', '.join(sorted(codes)) or 'no anomaly'})"


class Prefills:
    """The measured call, checking every reply; counts what was answered and what was wrong."""

    def __init__(self, inszs: list[str], on: dt.date, closed: tuple[int, int]) -> None:
        self.inszs, self.on, self.closed = inszs, on, closed
        self.answered = 0
        self.wrong: list[str] = []

    def make(self, channel: grpc.aio.Channel):  # noqa: ANN201
        stub = drs_pb2_grpc.DrsServiceStub(channel)
        requests = [
            drs_pb2.PrefillDeclarationRequest(
                parent=f"employers/{EMPLOYER}",
                insz=insz,
                scenario=drs_pb2.SCENARIO_UNEMPLOYMENT_END_OF_CONTRACT,
                risk_date=_pb(self.on),
            )
            for insz in self.inszs
        ]

        async def call(i: int) -> None:
            request = requests[i % len(requests)]
            p = (await stub.PrefillDeclaration(request, timeout=30)).prefill
            quarters = [(q.year, q.quarter) for q in p.quarters]
            if (
                p.worker.insz != request.insz
                or not p.employment.period_id
                or quarters != [self.closed]
            ):
                self.wrong.append(f"{p.worker.insz or '?'}: quarters {quarters}")
            else:
                self.answered += 1

        return call


def _single_call(inszs: list[str], on: dt.date):  # noqa: ANN202
    """The register's GetPerson through the router as the ONSS, under the pre-fill's grant."""
    metadata = (
        (identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT),
        (identity.DESTINATION_HEADER, "nr"),
    )

    def make(channel):  # noqa: ANN001, ANN202
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        requests = [
            registry_pb2.GetPersonRequest(
                insz=insz,
                read_mask=field_mask_pb2.FieldMask(paths=["identity", "birth"]),
                reference_date=_pb(on),
            )
            for insz in inszs
        ]
        return lambda i: stub.GetPerson(requests[i % len(requests)], metadata=metadata, timeout=30)

    return make


def logged(var_dir: Path) -> Counter[tuple[str, str]]:
    """The router's message log under the pre-fill's legal context: rows by (method, outcome)."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{var_dir / 'db' / 'router.sqlite3'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT method, outcome, count(*) FROM message_log"
                    " WHERE legal_context = :c GROUP BY method, outcome"
                ),
                {"c": LEGAL_CONTEXT},
            )
            return Counter({(m, o): int(n) for m, o, n in rows})
    finally:
        engine.dispose()


def _per_call_ms(result: Result) -> str:
    return ", ".join(
        f"{name} {seconds / max(result.calls, 1) * 1e3:.2f}"
        for name, seconds in result.process_cpu.items()
    )


async def _measure(
    procs: dict[str, ServiceProcess], pki_dir: Path, prefills: Prefills, args: argparse.Namespace
) -> Result:
    others = tuple(procs[n] for n in ("router", "registry", "dimona", "dmfa"))
    return await measure(
        PREFILL, procs["drs"], pki_dir, f"employer-{EMPLOYER}", prefills.make,
        concurrency=args.drs_concurrency, warmup=WARMUP, duration=args.drs_seconds,
        others=others,
    )  # fmt: skip


def run(args: argparse.Namespace) -> tuple[list[str], bool]:
    """The figure's lines, and whether every call was answered as it must be."""
    from dmfa.service.prefill import previous_quarter

    today = dt.date.today()
    on = risk_date(today)
    closed = previous_quarter(on)
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-drs-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        pki.init(pki_dir)
        try:
            with network(var_dir, pki_dir) as procs:
                inszs = choose_workers(var_dir / "population.txt", on.year, args.drs_workers)
                begin = time.perf_counter()
                declare_periods(procs, pki_dir, inszs, closed.first_day)
                t_declared = time.perf_counter() - begin
                dmfa_status = declare_quarter(procs, pki_dir, inszs, closed)
                wait_integrated(procs, pki_dir, inszs, on)
                t_integrated = time.perf_counter() - begin
                prefills = Prefills(inszs, on, (closed.year, closed.quarter))
                result = asyncio.run(_measure(procs, pki_dir, prefills, args))
                log = logged(var_dir)
                single = asyncio.run(
                    measure(
                        SINGLE, procs["router"], pki_dir, "onss", _single_call(inszs, on),
                        concurrency=args.drs_concurrency, warmup=1.0, duration=5.0,
                        others=(procs["registry"],),
                    )
                )  # fmt: skip
        except BenchFailed as exc:
            return [f"  FAILED: {exc}"], False
    lines = [
        f"employer {EMPLOYER}: {len(inszs)} workers, OTH from {closed.first_day} (open-ended),"
        f" declared through DIMONA's gRPC in {t_declared:.1f} s and in the router's directory"
        f" (1/1) {t_integrated:.1f} s after the first IN; {dmfa_status}; risk date {on};"
        " SQLite everywhere",
        f"  {PREFILL}, {args.drs_concurrency} in flight, {args.drs_seconds:.0f} s after"
        f" {WARMUP:.0f} s warm-up: {result.rate:.0f} pre-fills/s, p50"
        f" {result.percentile(0.5):.0f} ms, p99 {result.percentile(0.99):.0f} ms,"
        f" {result.calls} calls, {result.errors} errors, {len(prefills.wrong)} wrong answers",
        f"    CPU ms per pre-fill: {_per_call_ms(result)}",
    ]
    total, ok = sum(log.values()), prefills.answered
    by_method = Counter[str]()
    for (method, _outcome), n in log.items():
        by_method[method] += n
    lines.append(
        f"    the router logged {total / max(ok, 1):.2f} consultations per pre-fill"
        f" ({total:,} rows for {ok:,} pre-fills, warm-up included: "
        + ", ".join(f"{m} {n:,}" for m, n in sorted(by_method.items()))
        + f"; outcomes {', '.join(sorted({o for _m, o in log}))})"
    )
    lines.append(
        f"  {SINGLE} as the ONSS, same grant, {args.drs_concurrency} in flight, 5 s:"
        f" {single.rate:.0f}/s, p50 {single.percentile(0.5):.1f} ms, p99"
        f" {single.percentile(0.99):.1f} ms; CPU ms per call: {_per_call_ms(single)}"
    )
    lines.append(
        f"  pre-fills/s / routed calls/s = {result.rate / single.rate:.0%} (a pre-fill costing"
        " exactly three routed calls would give 33 %)"
    )
    if by_method != Counter(dict.fromkeys(CONSULTATIONS, ok)):
        lines.append(f"  FAILED: not one {' + '.join(CONSULTATIONS)} per pre-fill")
        return lines, False
    failed = result.errors + single.errors + len(prefills.wrong)
    if failed:
        lines.append(
            f"  FAILED: {result.errors} pre-fill errors, {single.errors} GetPerson errors,"
            f" {len(prefills.wrong)} wrong answers (first: {prefills.wrong[:3]})"
        )
    return lines, not failed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drs-workers", type=int, default=WORKERS, help="workers pre-filled")
    parser.add_argument("--drs-seconds", type=float, default=SECONDS, help="measured seconds")
    parser.add_argument("--drs-concurrency", type=int, default=CONCURRENCY, help="in flight")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drs")
    add_arguments(parser)
    lines, ok = run(parser.parse_args(argv))
    sys.stdout.write(f"\n{TITLE}:\n")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
