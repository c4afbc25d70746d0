"""The echo service's settings: only the runtime's shared variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "echo"


@dataclass(frozen=True)
class Settings:
    """Everything the echo service reads from its environment."""

    runtime: RuntimeSettings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="echo"))
        env.finish()
        return settings
