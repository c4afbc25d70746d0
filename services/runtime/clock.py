"""The injectable clock.

Business rules (deadlines, quarters, year boundaries) work on Belgian calendar dates, so they ask
the clock for `today()` in Europe/Brussels; timestamps are stored and exchanged in UTC. Tests pass
a `FixedClock` to put "now" just before midnight on 31 December, in a leap year, and so on.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol, overload
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


@overload
def as_utc(value: dt.datetime) -> dt.datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime read back from a database, timezone-aware: SQLite keeps no offset, and the
    project stores UTC only."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class Clock(Protocol):
    """What services may ask of time."""

    def now(self) -> dt.datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> dt.date:
        """The current calendar date in Europe/Brussels."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return dt.datetime.now(BRUSSELS).date()


class FixedClock:
    """A clock that stands still until told to move; thread-safe, for tests."""

    def __init__(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self._instant = instant.astimezone(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._instant

    def today(self) -> dt.date:
        return self.now().astimezone(BRUSSELS).date()

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward (or back, with a negative delta)."""
        with self._lock:
            self._instant += delta

    def set(self, instant: dt.datetime) -> None:
        """Put the clock at an instant."""
        with self._lock:
            self._instant = instant.astimezone(dt.UTC)
