"""Seeded fault injection: named points where a test makes a process fail on purpose.

`CARREFOUR_FAULTS` names the points and how often each fails, comma-separated:

- `name:0.3` fails 30 % of the passes, drawn from a random generator seeded by
  `CARREFOUR_FAULT_SEED` (one generator per point, so points do not disturb each other's draws);
- `name:#3` fails the third pass only; `name:#3+` every pass from the third on;
- `name:exit#3` (or `name:exit0.1`): the process **dies** there instead, at once, as a `kill -9`
  would leave it (`os._exit(EXIT_CODE)`: no cleanup, no reply, nothing flushed).

`check(name)` raises `InjectedFault` (UNAVAILABLE `INJECTED_FAULT` when it reaches a caller) when
the point fails, or ends the process for an `exit` point. Points in the code (grep
`faults.check`): `inbox.before_commit` (the inbox's transaction is rolled back, as if the inbox
died before its commit), `inbox.after_commit` (stored, but the reply is lost),
`outbox.before_send` and `outbox.after_send` (the dispatcher dies before the call, or after it
but before recording the result), `mutation.before_commit` and `mutation.after_commit` (the
mutation service's fan-out, around the transaction that takes a page of events),
`registry.after_commit` (a change recorded, its reply lost) and `router.after_forward` (the
holder answered, the router dies before logging and replying). Nothing is injected unless
installed: services install the plan from their Settings (`EnvReader.faults()`), command-line
tools with `install_from`, tests directly.
"""

from __future__ import annotations

import os
import random
import sys
import threading
from dataclasses import dataclass, field

from runtime.errors import Unavailable


class InjectedFault(Unavailable):
    """A failure injected at a named point (a test asked for it)."""

    def __init__(self, point: str) -> None:
        super().__init__(
            "INJECTED_FAULT",
            "an injected fault interrupted the operation",
            metadata={"point": point},
        )
        self.point = point


#: The exit status of a process an `exit` point killed.
EXIT_CODE = 86


@dataclass
class _Point:
    exit: bool = False
    probability: float = 0.0
    first: int = 0  # the pass that fails (1-based), 0: by probability
    onwards: bool = False
    passes: int = 0
    rng: random.Random = field(default_factory=random.Random)


class FaultPlan:
    """Which points fail, and when; thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._points: dict[str, _Point] = {}
        self._lock = threading.Lock()
        self.fired: dict[str, int] = {}

    @classmethod
    def parse(cls, spec: str, seed: int = 0) -> FaultPlan:
        """`outbox.after_send:0.3,inbox.before_commit:#2`; raises ValueError when malformed."""
        plan = cls(seed)
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, how = item.partition(":")
            if not sep or not name:
                raise ValueError(f"fault {item!r}: expected NAME:PROBABILITY or NAME:#N")
            exits = how.startswith("exit")
            how = how.removeprefix("exit")
            if how.startswith("#"):
                onwards = how.endswith("+")
                count = how[1:-1] if onwards else how[1:]
                if not count.isdigit() or int(count) < 1:
                    raise ValueError(f"fault {item!r}: #N needs a pass number >= 1")
                plan.add(name, first=int(count), onwards=onwards, exit=exits)
            else:
                try:
                    probability = float(how)
                except ValueError:
                    raise ValueError(f"fault {item!r}: not a probability") from None
                if not 0.0 <= probability <= 1.0:
                    raise ValueError(f"fault {item!r}: probability between 0 and 1")
                plan.add(name, probability=probability, exit=exits)
        return plan

    def add(
        self,
        name: str,
        *,
        probability: float = 0.0,
        first: int = 0,
        onwards: bool = False,
        exit: bool = False,  # noqa: A002 - the spec's word
    ) -> FaultPlan:
        # One generator per point, seeded by the plan's seed and the point's name.
        rng = random.Random(f"{self.seed}:{name}")
        self._points[name] = _Point(exit, probability, first, onwards, rng=rng)
        return self

    def exits(self, name: str) -> bool:
        point = self._points.get(name)
        return point is not None and point.exit

    def fails(self, name: str) -> bool:
        point = self._points.get(name)
        if point is None:
            return False
        with self._lock:
            point.passes += 1
            if point.first:
                hit = point.passes == point.first or (point.onwards and point.passes > point.first)
            else:
                hit = point.rng.random() < point.probability
            if hit:
                self.fired[name] = self.fired.get(name, 0) + 1
            return hit


_plan: FaultPlan | None = None


def install(plan: FaultPlan | None) -> None:
    """Make `plan` the process's fault plan (None: no faults)."""
    global _plan
    _plan = plan


def installed() -> FaultPlan | None:
    return _plan


def install_from(spec: str, seed: str) -> FaultPlan | None:
    """Install the plan of `CARREFOUR_FAULTS` / `CARREFOUR_FAULT_SEED` values (for command-line
    tools; services read them through their Settings). Empty spec: nothing installed."""
    if not spec:
        return None
    plan = FaultPlan.parse(spec, int(seed or 0))
    install(plan)
    return plan


def check(name: str) -> None:
    """Raise InjectedFault when the installed plan says this pass of `name` fails."""
    plan = _plan
    if plan is not None and plan.fails(name):
        if plan.exits(name):
            sys.stderr.write(f"fault point {name}: exiting (seed {plan.seed})\n")
            sys.stderr.flush()
            os._exit(EXIT_CODE)
        raise InjectedFault(name)
