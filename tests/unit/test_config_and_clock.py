"""Settings validation and the injectable clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runtime.clock import FixedClock
from runtime.config import ConfigError, EnvReader, RuntimeSettings


def _env(pki_dir: Path, **extra: str) -> dict[str, str]:
    return {"PKI_DIR": str(pki_dir), **extra}


def test_defaults_are_used_when_environment_is_empty(pki_dir: Path) -> None:
    env = EnvReader(_env(pki_dir))
    settings = RuntimeSettings.read(env, service="echo", cert_name="echo")
    env.finish()
    assert settings.port == 0 and settings.host == "127.0.0.1"
    assert settings.database_url == "sqlite:///var/db/echo.sqlite3"
    assert settings.traces_exporter == "none"
    assert settings.tls.cert == pki_dir / "echo.pem"


def test_all_problems_are_reported_together_when_several_variables_are_bad(pki_dir: Path) -> None:
    env = EnvReader(
        _env(pki_dir, GRPC_PORT="99999", LOG_LEVEL="LOUD", OTEL_TRACES_EXPORTER="zipkin")
    )
    RuntimeSettings.read(env, service="echo", cert_name="nobody")
    with pytest.raises(ConfigError) as err:
        env.finish()
    text = str(err.value)
    for name in ("GRPC_PORT", "LOG_LEVEL", "OTEL_TRACES_EXPORTER", "TLS_CERT_FILE", "TLS_KEY_FILE"):
        assert name in text
    assert len(err.value.problems) == 5


def test_today_is_the_brussels_date_when_utc_is_still_the_day_before() -> None:
    # 23:30 UTC on 31 December is already 1 January in Brussels (UTC+1 in winter).
    clock = FixedClock(dt.datetime(2025, 12, 31, 23, 30, tzinfo=dt.UTC))
    assert clock.now().date() == dt.date(2025, 12, 31)
    assert clock.today() == dt.date(2026, 1, 1)


def test_today_follows_summer_time_when_clock_advances() -> None:
    clock = FixedClock(dt.datetime(2026, 6, 30, 21, 59, tzinfo=dt.UTC))
    assert clock.today() == dt.date(2026, 6, 30)
    clock.advance(dt.timedelta(minutes=2))  # 00:01 in Brussels (UTC+2)
    assert clock.today() == dt.date(2026, 7, 1)


def test_fixed_clock_refuses_naive_instants() -> None:
    with pytest.raises(ValueError):
        FixedClock(dt.datetime(2026, 1, 1))
