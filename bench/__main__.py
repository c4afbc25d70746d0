"""`python -m bench` (make bench): each service's figures beside the bare echo, same run.

`--only mesh` (echo, registry, router, DIMONA: one network, interleaved rounds), `--only router`
(the same without DIMONA), `--only inbox`
(attestation delivery, bench.inbox), `--only dmfa` (one 10,000-worker DmfA declaration,
bench.dmfa) and `--only drs` (the DRS's pre-fills, three routed consultations each, bench.drs)
each start their own processes; `all` (the default) runs the four in turn.

The echo and every measured service use the same server bootstrap (runtime.server) and the same
client (bench.harness); the ratios are the figures the issues set targets on: GetPerson against
the echo (registry issue), the checked route against a bare forwarding hop (router issue).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import dimona
from bench.harness import (
    Result,
    ServiceProcess,
    cpu_breakdown,
    measure,
    report,
    switch_breakdown,
)
from bench.router import figures, network, targets
from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from runtime import pki


def _median(results: list[Result]) -> Result:
    """The round whose rate is the median (figures on this VM vary from run to run)."""
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


async def _run(args: argparse.Namespace) -> int:
    with_dimona = args.only != "router"
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        pki.init(pki_dir)
        with (
            ServiceProcess("echo", var_dir, pki_dir) as echo,
            network(var_dir, pki_dir) as procs,
            (
                dimona.dimona_process(var_dir, procs["router"])
                if with_dimona
                else contextlib.nullcontext()
            ) as dimona_server,
        ):
            procs = {**procs, "dimona": dimona_server}

            def echo_call(channel):  # noqa: ANN001, ANN202
                stub = echo_pb2_grpc.EchoServiceStub(channel)
                request = echo_pb2.EchoRequest(payload=b"x" * 200)
                return lambda _i: stub.Echo(request, timeout=5)

            def echo_round():  # noqa: ANN202
                return measure(
                    "echo (bare)", echo, pki_dir, "institution-onem", echo_call,
                    concurrency=args.concurrency, duration=args.seconds,
                )  # fmt: skip

            plan = [
                ("echo (bare)", echo_round),
                *figures(procs, pki_dir, args),
                *(dimona.figures(procs, pki_dir, args) if with_dimona else []),
            ]
            rounds: dict[str, list[Result]] = {name: [] for name, _ in plan}
            for _ in range(args.rounds):  # interleaved, so a slow moment hits every target
                for name, run in plan:
                    rounds[name].append(await run())
    results = [_median(rounds[name]) for name, _ in plan]
    baseline = results[0]

    out = sys.stdout
    out.write(
        f"\n{args.concurrency} calls in flight unless said, {args.seconds:.0f} s measured after"
        f" 1 s warm-up, median of {args.rounds} interleaved rounds; mTLS, client and servers on"
        " this machine (2 cores)\n\n"
    )
    out.write(report(results, baseline) + "\n\n")
    out.write("CPU µs per message, per process:\n")
    for r in results[1:]:
        out.write(f"  {r.name:<30} {cpu_breakdown(r)}\n")
    out.write("Context switches per message, per process (every thread):\n")
    for r in results:
        out.write(f"  {r.name:<30} {switch_breakdown(r)}\n")
    by = {r.name: r for r in results}
    get_person = by["registry GetPerson (direct)"]
    out.write("\nTargets:\n")
    out.write(
        f"  [{'met' if get_person.rate >= 0.5 * baseline.rate else 'MISSED'}] "
        f"GetPerson >= 50% of the echo: {get_person.rate / baseline.rate:.0%}\n"
    )
    out.write("\n".join(targets(results)) + "\n")
    if with_dimona:
        out.write("\n".join(dimona.targets(results)) + "\n")
        dimona_result = by[dimona.NAME]
        out.write(
            "  Dimona CPU ms per declaration, per process: "
            + ", ".join(
                f"{name} {seconds / max(dimona_result.calls, 1) * 1e3:.2f}"
                for name, seconds in dimona_result.process_cpu.items()
            )
            + "\n"
        )
    failed = failures(rounds)
    if failed:
        out.write("\n" + "\n".join(failed) + "\n")
    return 1 if failed else 0


def failures(rounds: dict[str, list[Result]]) -> list[str]:
    """The failed calls of every round, by measurement and status code (none: [])."""
    lines, total = [], 0
    for name, results in rounds.items():
        codes: Counter[str] = Counter()
        for result in results:
            codes.update(result.failures)
        if codes:
            total += codes.total()
            listed = ", ".join(f"{code} {n}" for code, n in codes.most_common())
            lines.append(f"  {name}: {listed}")
    return [f"{total} calls failed (all rounds, warm-ups included):", *lines] if lines else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=(
            "all",
            "mesh",
            "router",
            "inbox",
            "dmfa",
            "drs",
            "mutation",
            "startup",
            "warehouse",
        ),
        default="all",
        help="which figures (mesh: echo, registry, router, DIMONA; router: the same without"
        " DIMONA; inbox, dmfa, drs and mutation each"
        " start their own network; startup: make run's time to SERVING, cold and warm;"
        " warehouse: one quarter's aggregates for 100,000 coded persons)",
    )
    from bench import dmfa, drs, inbox, mutation, startup, warehouse

    inbox.add_arguments(parser)
    dmfa.add_arguments(parser)
    drs.add_arguments(parser)
    mutation.add_arguments(parser)
    warehouse.add_arguments(parser)
    args = parser.parse_args(argv)
    status = asyncio.run(_run(args)) if args.only in ("all", "mesh", "router") else 0
    if args.only in ("all", "inbox"):
        sys.stdout.write("\nAttestation delivery (sender -> router [-> hub] -> inbox), SQLite:\n")
        sys.stdout.write("\n".join(inbox.run(args)) + "\n")
    if args.only in ("all", "dmfa"):
        sys.stdout.write(f"\n{dmfa.TITLE}:\n")
        lines, ok = dmfa.run(args)
        sys.stdout.write("\n".join(lines) + "\n")
        status = status or (0 if ok else 1)
    if args.only in ("all", "drs"):
        sys.stdout.write(f"\n{drs.TITLE}:\n")
        lines, ok = drs.run(args)
        sys.stdout.write("\n".join(lines) + "\n")
        status = status or (0 if ok else 1)
    if args.only in ("all", "mutation"):
        sys.stdout.write(f"\n{mutation.TITLE}:\n")
        lines, ok = mutation.run(args)
        sys.stdout.write("\n".join(lines) + "\n")
        status = status or (0 if ok else 1)
    if args.only in ("all", "startup"):
        sys.stdout.write(f"\n{startup.TITLE}:\n")
        lines, ok = startup.run(args)
        sys.stdout.write("\n".join(lines) + "\n")
        status = status or (0 if ok else 1)
    if args.only in ("all", "warehouse"):
        sys.stdout.write(f"\n{warehouse.TITLE}:\n")
        lines, ok = warehouse.run(args)
        sys.stdout.write("\n".join(lines) + "\n")
        status = status or (0 if ok else 1)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
