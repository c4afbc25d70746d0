"""Server bootstrap shared by every service.

`ServiceHost` builds a gRPC server (sync, a thread pool: measured faster than grpc.aio on this
machine, and the database drivers are blocking anyway) on one mTLS port, adds the standard health
service with a real status, server reflection, and the runtime's interceptor (tracing,
identity, error mapping, access log). `serve()` runs it until SIGTERM or SIGINT, then drains.

Probes: with PROBE_PORT, a second server — plaintext, on the same host, with nothing but the same
health service — answers Kubernetes' native gRPC probes, which cannot present a client
certificate; every other method stays behind mTLS.

Health: every service name (and "") is NOT_SERVING until the readiness check (the database ping)
passes, and is re-checked every HEALTH_INTERVAL_SECONDS: an unreachable database turns it
NOT_SERVING, a recovered one SERVING again.

Shutdown: health goes NOT_SERVING at once (load balancers stop sending), new calls are refused,
in-flight calls get SHUTDOWN_GRACE_SECONDS to finish, then the database engine is disposed and
telemetry flushed.
"""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from cbss.common.v1 import options_pb2
from runtime import telemetry, tls
from runtime.config import ConfigError, RuntimeSettings
from runtime.db import Database
from runtime.interceptors import DIRECT, ROUTED, ServiceInterceptor

logger = logging.getLogger(__name__)

#: Messages up to 16 MiB: a 10,000-worker DmfA chunk fits; larger input is refused, not read.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass
class Registration:
    """A servicer to add: the generated `add_XServicer_to_server` function and the servicer."""

    add: Callable[[object, grpc.Server], None]
    servicer: object
    #: Full service name, e.g. "cbss.echo.v1.EchoService" (from the generated descriptor);
    #: empty for a catch-all generic handler (the router's forwarder), which is then neither
    #: advertised by reflection nor given a health status of its own.
    name: str
    #: For a service without generated descriptors (a generic handler): the access of all its
    #: methods, ROUTED or DIRECT. Services from protos declare access per method instead.
    access: str | None = None


def method_access(registrations: Sequence[Registration]) -> dict[str, str]:
    """Method path (or `/<service>/` for all its methods) -> ROUTED / DIRECT.

    Read from each method's `cbss.common.v1.access` option.

    Fails closed: a method that does not declare its access stops the service from starting.
    """
    access: dict[str, str] = {}
    pool = descriptor_pool.Default()
    for reg in registrations:
        if not reg.name:
            if reg.access not in (ROUTED, DIRECT):
                raise ValueError("a catch-all registration declares its access")
            continue  # its handler applies its own checks (the router's forwarder)
        try:
            service = pool.FindServiceByName(reg.name)
        except KeyError:
            if reg.access not in (ROUTED, DIRECT):
                raise ValueError(f"{reg.name}: no descriptor; give Registration.access") from None
            access[f"/{reg.name}/"] = reg.access  # every method of that service
            continue
        for method in service.methods:
            declared = method.GetOptions().Extensions[options_pb2.access]
            if declared == options_pb2.ACCESS_ROUTED:
                access[f"/{service.full_name}/{method.name}"] = ROUTED
            elif declared == options_pb2.ACCESS_DIRECT:
                access[f"/{service.full_name}/{method.name}"] = DIRECT
            else:
                raise ValueError(
                    f"{service.full_name}.{method.name} does not declare its access "
                    "(option (cbss.common.v1.access))"
                )
    return access


@dataclass
class ServiceHost:
    """One service's gRPC server with health, reflection, identity and graceful shutdown."""

    settings: RuntimeSettings
    registrations: Sequence[Registration]
    readiness: Callable[[], bool] = lambda: True
    on_stop: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.health = health.HealthServicer(experimental_non_blocking=True)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=self.settings.max_workers,
                thread_name_prefix=f"{self.settings.service}-rpc",
            ),
            interceptors=[
                ServiceInterceptor(self.settings.service, method_access(self.registrations))
            ],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        for reg in self.registrations:
            reg.add(reg.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = [reg.name for reg in self.registrations if reg.name]
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self._set_health(False)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self.port = 0
        self.probe_port = 0
        self._probe: grpc.Server | None = None
        if self.settings.probe_port:
            self._probe = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            health_pb2_grpc.add_HealthServicer_to_server(self.health, self._probe)

    def start(self) -> int:
        """Bind the mTLS port (0 = any free port), start serving; returns the bound port."""
        address = f"{self.settings.host}:{self.settings.port}"
        self.port = self.server.add_secure_port(address, tls.server_credentials(self.settings.tls))
        if self.port == 0:
            raise OSError(f"could not bind {address}")
        self.server.start()
        if self._probe is not None:
            probe = f"{self.settings.host}:{self.settings.probe_port}"
            self.probe_port = self._probe.add_insecure_port(probe)
            if self.probe_port == 0:
                raise OSError(f"could not bind the probe port {probe}")
            self._probe.start()
        self._ready_now = self._check()
        threading.Thread(
            target=self._health_loop, name=f"{self.settings.service}-health", daemon=True
        ).start()
        logger.info(
            "%s listening on %s:%d (mTLS)", self.settings.service, self.settings.host, self.port
        )
        return self.port

    def _check(self) -> bool:
        try:
            ready = bool(self.readiness())
        except Exception:
            logger.exception("readiness check raised")
            ready = False
        self._set_health(ready)
        return ready

    def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self.service_names]:
            self.health.set(name, status)

    def _health_loop(self) -> None:
        while not self._stopping.wait(self.settings.health_interval_seconds):
            ready = self._check()
            if ready != self._ready_now:
                logger.warning("health changed to %s", "SERVING" if ready else "NOT_SERVING")
                self._ready_now = ready

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, refuse new calls, let in-flight calls finish within the grace period."""
        if self._stopping.is_set():
            self._stopped.wait()
            return
        self._stopping.set()
        self.health.enter_graceful_shutdown()
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        logger.info("%s stopping (grace %.1fs)", self.settings.service, grace)
        self.server.stop(grace).wait()
        if self._probe is not None:
            self._probe.stop(0)
        for callback in self.on_stop:
            try:
                callback()
            except Exception:
                logger.exception("shutdown callback failed")
        self._stopped.set()
        logger.info("%s stopped", self.settings.service)

    def wait(self) -> None:
        """Block until the server has stopped."""
        self._stopped.wait()

    def serve(self) -> None:
        """Start, then run until SIGTERM/SIGINT, then stop gracefully (for `main()`)."""

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            logger.info("received %s", signal.Signals(signum).name)
            threading.Thread(target=self.stop, name="shutdown").start()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        settle_heap(process=True)
        self.wait()
        telemetry.shutdown_tracing()


_SETTLE = False  # set by the first settle_heap(process=True): this process is a service's own


def settle_heap(*, process: bool = False) -> None:
    """Put everything alive now out of the cyclic garbage collector's way, for good.

    A full collection walks every tracked object with the GIL held: with a service's modules,
    descriptor pools, SQLAlchemy metadata and caches (80–160k objects), measured at 40–95 ms
    under load — added to every call in flight at that moment, the whole of a p99. What exists
    once a service is up lives as long as the process: collect once, then `gc.freeze()` it, so
    that later collections walk only what calls create (measured after: ≤ 4 ms).

    `ServiceHost.serve()` (a service's own process) calls it with `process=True` once serving;
    a long-lived cache calls it once it has loaded (the router's person index), which does
    something only in such a process — a test process hosting servers keeps its collector as
    it is. Objects frozen are still freed when their last reference goes; only a reference
    cycle among them would wait for the process's end.
    """
    global _SETTLE
    if process:
        _SETTLE = True
    if not _SETTLE:
        return
    gc.collect()
    gc.freeze()


def service_main(
    service: str,
    load_settings: Callable[[], Any],
    create: Callable[[Any], ServiceHost],
    migrations: Path,
    commands: Mapping[str, Callable[[Any, list[str]], int]] | None = None,
    argv: Sequence[str] | None = None,
) -> int:
    """The entry point every service shares: `python -m <service> [migrate | <command> …]`.

    Reads the settings (every bad variable reported, exit 2), sets up logging, then migrates,
    runs one of the service's own commands, or serves until SIGTERM/SIGINT with tracing on.
    `load_settings()` returns the service's Settings, which has a `runtime` (RuntimeSettings).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    commands = dict(commands or {})
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"{service}: {exc}\n")
        return 2
    runtime: RuntimeSettings = settings.runtime
    telemetry.setup_logging(service, runtime.log_level)
    if args == ["migrate"]:
        Database(runtime.database_url).migrate(migrations)
        logger.info("%s database migrated", service)
        return 0
    if args and args[0] in commands:
        return commands[args[0]](settings, args[1:])
    if args:
        names = " | ".join(["migrate", *commands])
        sys.stderr.write(f"usage: python -m {service} [{names}]\n")
        return 2
    telemetry.setup_tracing(service, runtime.traces_exporter)
    telemetry.setup_metrics(service, runtime.host, runtime.metrics_port)
    create(settings).serve()
    return 0
