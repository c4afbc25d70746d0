"""The trusted third party's settings.

`ROUTER_ADDR` (localhost:50052) and `ROUTER_NAME` (`cbss`): where it extracts, and the router
certificate that endpoint must present. `TTP_KEY_DIR` (`var/ttp/keys`): its keys, one file per
key, created on first use (mode 600, the folder 700) — never the warehouse's configuration or
database. `TTP_PROJECTS_FILE` (services/ttp/projects.toml): the projects it codes for and which
require unlinkability. `TTP_LEGAL_CONTEXT` (`research.labour-market`): the legal context of its
extractions. `TTP_EXTRACTION_TIMEOUT_SECONDS` (600): the deadline of one extraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runtime.config import EnvReader, RuntimeSettings
from runtime.research_access import RESEARCH_CONTEXT_PREFIX

SERVICE = "ttp"
PROJECTS_FILE = Path(__file__).parent / "projects.toml"


@dataclass(frozen=True)
class Settings:
    runtime: RuntimeSettings
    router_addr: str
    router_name: str
    key_dir: Path
    projects_file: Path
    legal_context: str
    extraction_timeout_seconds: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = EnvReader(environ)
        runtime = RuntimeSettings.read(env, service=SERVICE, cert_name="ttp")
        var_dir = Path(env.str("VAR_DIR", "var"))
        context = env.str("TTP_LEGAL_CONTEXT", "research.labour-market")
        if not context.startswith(RESEARCH_CONTEXT_PREFIX) or len(context) > 64:
            env.problems.append(
                f"TTP_LEGAL_CONTEXT must start with {RESEARCH_CONTEXT_PREFIX!r} (64 characters "
                f"at most), got {context!r}"
            )
        settings = cls(
            runtime=runtime,
            router_addr=env.str("ROUTER_ADDR", "localhost:50052"),
            router_name=env.str("ROUTER_NAME", "cbss"),
            key_dir=Path(env.str("TTP_KEY_DIR", str(var_dir / "ttp" / "keys"))),
            projects_file=env.file("TTP_PROJECTS_FILE", PROJECTS_FILE),
            legal_context=context,
            extraction_timeout_seconds=env.float(
                "TTP_EXTRACTION_TIMEOUT_SECONDS", 600.0, minimum=1.0, maximum=86400.0
            ),
        )
        env.finish()
        return settings
