"""Starting real services on port 0 over mTLS, and calling them, from tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc

from runtime.client import party_tls, secure_channel
from runtime.server import Registration, ServiceHost


def service_env(pki_dir: Path, cert_name: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment a service reads, for a test: its certificate, a database, port 0."""
    return {
        "GRPC_PORT": "0",
        "TLS_CERT_FILE": str(pki_dir / f"{cert_name}.pem"),
        "TLS_KEY_FILE": str(pki_dir / f"{cert_name}.key"),
        "TLS_CA_FILE": str(pki_dir / "ca.pem"),
        "DATABASE_URL": database_url,
        "SHUTDOWN_GRACE_SECONDS": "5",
        "HEALTH_INTERVAL_SECONDS": "0.1",
        **extra,
    }


@contextmanager
def running(host: ServiceHost) -> Iterator[ServiceHost]:
    """Start a service host and stop it (no grace) when the block ends."""
    host.start()
    try:
        yield host
    finally:
        host.stop(grace=0)


@contextmanager
def channel_as(pki_dir: Path, party: str, port: int) -> Iterator[grpc.Channel]:
    """An mTLS channel to localhost:port presenting `party`'s certificate."""
    channel = secure_channel(f"localhost:{port}", party_tls(pki_dir, party))
    try:
        yield channel
    finally:
        channel.close()


def make_host(
    create_server: Callable[..., ServiceHost],
    settings_from_env: Callable[[Mapping[str, str]], Any],
    env: Mapping[str, str],
    **kwargs: Any,
) -> ServiceHost:
    return create_server(settings_from_env(env), **kwargs)


def holder_host(
    pki_dir: Path,
    cert_name: str,
    folder: Path,
    add: Callable[[object, object], None],
    servicer: object,
    service: str,
) -> ServiceHost:
    """An institution's own server for one service (a holder), on the shared runtime, with the
    institution's certificate and a database of its own in `folder` (started by `running`)."""
    from runtime.config import EnvReader, RuntimeSettings

    env = EnvReader(service_env(pki_dir, cert_name, f"sqlite:///{folder / 'holder.sqlite3'}"))
    settings = RuntimeSettings.read(env, service="holder", cert_name=cert_name)
    env.finish()
    return ServiceHost(settings=settings, registrations=[Registration(add, servicer, service)])
