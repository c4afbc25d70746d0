"""`python -m bench` (make bench): each service's figures beside the bare echo, same run.

The echo and every measured service use the same server bootstrap (runtime.server) and the same
client (bench.harness); the ratio to the echo is the figure the issues set targets on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from bench.harness import Result, ServiceProcess, measure, report
from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from runtime import pki


async def _run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="carrefour-bench-") as tmp:
        var_dir = Path(tmp)
        pki_dir = var_dir / "pki"
        pki.init(pki_dir)
        results: list[Result] = []

        with ServiceProcess("echo", var_dir, pki_dir) as echo:

            def echo_call(channel):  # noqa: ANN001, ANN202
                stub = echo_pb2_grpc.EchoServiceStub(channel)
                request = echo_pb2.EchoRequest(payload=b"x" * 200)
                return lambda _i: stub.Echo(request, timeout=5)

            baseline = await measure(
                "echo (bare)",
                echo,
                pki_dir,
                "institution-onem",
                echo_call,
                concurrency=args.concurrency,
                duration=args.seconds,
            )
            results.append(baseline)

        for extra in args.extra:
            results.append(await extra(var_dir, pki_dir, args))

        sys.stdout.write(
            f"\n{args.concurrency} calls in flight, {args.seconds:.0f} s measured after 1 s"
            " warm-up, mTLS, client and servers on this machine\n\n"
        )
        sys.stdout.write(report(results, baseline) + "\n")
        failed = sum(r.errors for r in results)
        return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    from bench.registry import get_person

    args.extra = [get_person]
    return asyncio.run(_run(args))


if __name__ == "__main__":
    raise SystemExit(main())
