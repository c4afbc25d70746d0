"""The warehouse's settings.

`TTP_ADDR` (localhost:50066): the trusted third party, whose certificate must be
`institution/cbss-ttp`; `TTP_TIMEOUT_SECONDS` (900): one source's coded extraction.
`WAREHOUSE_THRESHOLD` (5): a published cell with fewer persons is suppressed;
`WAREHOUSE_DOMINANCE_PERCENT` (10): the p of the pay's p % dominance rule. The warehouse's own
database (`var/db/warehouse.sqlite3` unless `DATABASE_URL` says otherwise); no key of the TTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from runtime.config import EnvReader, RuntimeSettings

SERVICE = "warehouse"


@dataclass(frozen=True)
class Settings:
    runtime: RuntimeSettings
    ttp_addr: str
    ttp_timeout_seconds: float
    threshold: int
    dominance_percent: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        settings = cls(
            runtime=RuntimeSettings.read(env, service=SERVICE, cert_name="warehouse"),
            ttp_addr=env.str("TTP_ADDR", "localhost:50066"),
            ttp_timeout_seconds=env.float(
                "TTP_TIMEOUT_SECONDS", 900.0, minimum=1.0, maximum=86400.0
            ),
            threshold=env.int("WAREHOUSE_THRESHOLD", 5, minimum=2, maximum=1000),
            dominance_percent=env.int("WAREHOUSE_DOMINANCE_PERCENT", 10, minimum=0, maximum=100),
        )
        env.finish()
        return settings
