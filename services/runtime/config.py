"""Settings from environment variables, read once and validated together.

Each service has one frozen `Settings` dataclass built by `Settings.from_env()` in its
`server.py`. The part every service shares is `RuntimeSettings`, read here; a service reads its
own variables with the same `EnvReader` so that every bad variable is reported at once and the
process exits non-zero before it binds a port.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runtime.faults import FaultPlan

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_TRACE_EXPORTERS = ("none", "otlp", "console")


class ConfigError(Exception):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


class EnvReader:
    """Reads typed variables and collects every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if environ is None else environ
        self.problems: list[str] = []

    def str(self, name: str, default: str | None = None) -> str:
        value = self._env.get(name, default)
        if value is None or value == "":
            if default is None:
                self.problems.append(f"{name} is required")
            return default or ""
        return value

    def int(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be an integer, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problems.append(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    def float(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        raw = self._env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name} must be a number, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self.problems.append(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._env.get(name) or default
        if value not in choices:
            self.problems.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def file(self, name: str, default: Path) -> Path:
        path = Path(self._env.get(name) or default)
        if not path.is_file():
            self.problems.append(f"{name}: no such file {path} (run `make pki`?)")
        return path

    def faults(self) -> FaultPlan | None:
        """The seeded fault points a test names (`CARREFOUR_FAULTS`, `CARREFOUR_FAULT_SEED`;
        runtime.faults); None when unset."""
        spec = self.str("CARREFOUR_FAULTS", "-")
        seed = self.int("CARREFOUR_FAULT_SEED", 0, minimum=0, maximum=2**63 - 1)
        if spec == "-":
            return None
        try:
            return FaultPlan.parse(spec, seed)
        except ValueError as exc:
            self.problems.append(f"CARREFOUR_FAULTS: {exc}")
            return None

    def finish(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)


@dataclass(frozen=True)
class TlsFiles:
    """The certificate and key a process presents, and the CA it trusts."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class RuntimeSettings:
    """What every service reads: where it listens, its identity, its database, its telemetry."""

    service: str
    host: str
    port: int
    tls: TlsFiles
    database_url: str
    log_level: str
    shutdown_grace_seconds: float
    max_workers: int
    health_interval_seconds: float
    traces_exporter: str
    #: The Prometheus scrape endpoint's port (http://127.0.0.1:<port>/metrics); 0: none.
    metrics_port: int = 0
    #: A plaintext port serving only grpc.health.v1 (Kubernetes' native gRPC probes cannot
    #: present a client certificate); 0: none.
    probe_port: int = 0

    @classmethod
    def read(
        cls, env: EnvReader, *, service: str, cert_name: str, database_name: str = ""
    ) -> RuntimeSettings:
        """Read the shared variables; `cert_name` is the default certificate in PKI_DIR and
        `database_name` the default SQLite file's stem (the service's name unless one program
        runs as several instances, each with a database of its own)."""
        var_dir = Path(env.str("VAR_DIR", "var"))
        pki_dir = Path(env.str("PKI_DIR", str(var_dir / "pki")))
        db_default = f"sqlite:///{var_dir / 'db' / ((database_name or service) + '.sqlite3')}"
        return cls(
            service=service,
            host=env.str("GRPC_HOST", "127.0.0.1"),
            port=env.int("GRPC_PORT", 0, minimum=0, maximum=65535),
            tls=TlsFiles(
                cert=env.file("TLS_CERT_FILE", pki_dir / f"{cert_name}.pem"),
                key=env.file("TLS_KEY_FILE", pki_dir / f"{cert_name}.key"),
                ca=env.file("TLS_CA_FILE", pki_dir / "ca.pem"),
            ),
            database_url=env.str("DATABASE_URL", db_default),
            log_level=env.choice("LOG_LEVEL", "INFO", _LOG_LEVELS),
            shutdown_grace_seconds=env.float(
                "SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0, maximum=300.0
            ),
            max_workers=env.int("GRPC_MAX_WORKERS", 16, minimum=1, maximum=256),
            health_interval_seconds=env.float(
                "HEALTH_INTERVAL_SECONDS", 2.0, minimum=0.05, maximum=60.0
            ),
            # The standard OpenTelemetry variable; nothing is exported unless it says so.
            traces_exporter=env.choice("OTEL_TRACES_EXPORTER", "none", _TRACE_EXPORTERS),
            metrics_port=env.int("METRICS_PORT", 0, minimum=0, maximum=65535),
            probe_port=env.int("PROBE_PORT", 0, minimum=0, maximum=65535),
        )
