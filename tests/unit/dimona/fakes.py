"""In-memory fakes of DIMONA's ports: a unit of work over dicts (copied on entry, kept only when
the block ends without an exception, like a transaction), a scripted worker identity and a
recording directory."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dimona.seed.data import employers, mandates
from dimona.service.declarations import Declarations
from dimona.service.model import (
    Declaration,
    Employer,
    EmploymentEvent,
    Identification,
    Period,
    StudentActual,
)
from dimona.service.ports import (
    DirectoryInterval,
    IdentificationRefused,
    PersonCheck,
    PersonOutcome,
)
from dimona.service.quarter import DimonaQuarters
from dimona.service.queries import DimonaQueries
from runtime.clock import FixedClock
from runtime.errors import Unavailable
from runtime.identifiers import make_insz
from runtime.identity import Caller, PartyKind

#: Monday 2 June 2025, 10:00 in Brussels.
NOW = dt.datetime(2025, 6, 2, 8, 0, tzinfo=dt.UTC)
STATE = Caller(PartyKind.EMPLOYER, "000935467")
RETAIL = Caller(PartyKind.EMPLOYER, "000100006")
BUREAU = Caller(PartyKind.BUREAU, "0314595348")
ONSS = Caller(PartyKind.INSTITUTION, "onss")
WORKER = make_insz(birth_year=2004, birth_month=3, birth_day=14, serial=121)
OTHER_WORKER = make_insz(birth_year=1990, birth_month=1, birth_day=2, serial=33)
DECEASED = make_insz(birth_year=1950, birth_month=5, birth_day=5, serial=11)
REPLACED = make_insz(birth_year=1960, birth_month=6, birth_day=6, serial=13)
REPLACEMENT = make_insz(birth_year=1960, birth_month=6, birth_day=6, serial=15)
UNKNOWN = make_insz(birth_year=1970, birth_month=7, birth_day=7, serial=997)
BIS = make_insz(birth_year=1988, birth_month=4, birth_day=4, serial=7)


@dataclass
class State:
    employers: dict[str, Employer] = field(default_factory=dict)
    mandates: list[tuple[str, str, dt.date]] = field(default_factory=list)
    workers: set[str] = field(default_factory=set)
    periods: dict[int, Period] = field(default_factory=dict)
    declarations: dict[tuple[str, str], Declaration] = field(default_factory=dict)
    events: list[EmploymentEvent] = field(default_factory=list)
    counter: int = 0
    outbox: list[tuple[int, str]] = field(default_factory=list)
    outbox_id: int = 0
    mirror: dict[str, list[DirectoryInterval]] = field(default_factory=dict)
    actuals: dict[tuple[str, str, int, int], StudentActual] = field(default_factory=dict)


class _Employers:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, onss: str) -> Employer | None:
        return self.s.employers.get(onss)

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        return any(e == employer and b == bureau and f <= on for e, b, f in self.s.mandates)


class _Periods:
    def __init__(self, s: State) -> None:
        self.s = s

    def lock_worker(self, insz: str) -> None:
        self.s.workers.add(insz)

    def get(self, period_id: int) -> Period | None:
        return self.s.periods.get(period_id)

    def of_worker(self, insz: str) -> list[Period]:
        return sorted(
            (p for p in self.s.periods.values() if p.worker == insz and p.active),
            key=lambda p: (p.start_date, p.period_id),
        )

    def add(self, period: Period) -> Period:
        new = dataclasses.replace(period, period_id=len(self.s.periods) + 1)
        self.s.periods[new.period_id] = new
        return new

    def update(self, period: Period) -> None:
        self.s.periods[period.period_id] = period

    def by_employer(self, employer: str, worker: str | None, after_id: int, limit: int):  # noqa: ANN201
        rows = [
            p
            for pid, p in sorted(self.s.periods.items())
            if p.employer == employer and pid > after_id and (not worker or p.worker == worker)
        ]
        return rows[:limit]

    def by_worker(self, insz, start, end, after, limit):  # noqa: ANN001, ANN201
        rows = [
            p
            for p in self.of_worker(insz)
            if (start is None or p.end_date is None or p.end_date >= start)
            and (end is None or p.start_date <= end)
            and (after is None or (p.start_date, p.period_id) > after)
        ]
        return rows[:limit]

    def for_workers(self, inszs: Sequence[str]) -> dict[str, list[Period]]:
        return {w: self.of_worker(w) for w in inszs if self.of_worker(w)}

    def employed_by(self, employer: str, insz: str) -> bool:
        return any(p.employer == employer for p in self.of_worker(insz))

    def in_quarter(self, employer, first, last, after_id, limit):  # noqa: ANN001, ANN201
        rows = [
            p
            for pid, p in sorted(self.s.periods.items())
            if p.employer == employer and p.active and pid > after_id and p.overlaps(first, last)
        ]
        return rows[:limit]

    def student_periods(self, inszs: Sequence[str], year: int) -> dict[str, list[Period]]:
        found: dict[str, list[Period]] = {}
        for w in dict.fromkeys(inszs):
            mine = [p for p in self.of_worker(w) if p.student_minutes and p.start_date.year == year]
            if mine:
                found[w] = mine
        return found


class _Actuals:
    def __init__(self, s: State) -> None:
        self.s = s

    def of_workers(self, inszs: Sequence[str], year: int) -> dict[str, list[StudentActual]]:
        found: dict[str, list[StudentActual]] = {}
        for a in self.s.actuals.values():
            if a.worker in inszs and a.year == year:
                found.setdefault(a.worker, []).append(a)
        return found

    def record(self, actuals: Sequence[StudentActual]) -> None:
        for a in actuals:
            self.s.actuals[(a.employer, a.worker, a.year, a.quarter)] = a


class _Declarations:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, employer: str, reference: str) -> Declaration | None:
        return self.s.declarations.get((employer, reference))

    def add(self, d: Declaration) -> None:
        assert (d.employer, d.reference) not in self.s.declarations
        self.s.declarations[(d.employer, d.reference)] = d


class _Events:
    def __init__(self, s: State) -> None:
        self.s = s

    def next_sequence(self) -> int:
        self.s.counter += 1
        return self.s.counter

    def last_sequence(self) -> int:
        return self.s.counter

    def add(self, event: EmploymentEvent) -> None:
        self.s.events.append(event)

    def list(self, after: int, limit: int) -> list[EmploymentEvent]:
        return [e for e in self.s.events if e.sequence > after][:limit]


class _Outbox:
    def __init__(self, s: State) -> None:
        self.s = s

    def add(self, insz: str) -> None:
        self.s.outbox_id += 1
        self.s.outbox.append((self.s.outbox_id, insz))

    def last_id(self) -> int:
        return max((i for i, _ in self.s.outbox), default=0)

    def pending(self, limit: int) -> list[tuple[int, str]]:
        return self.s.outbox[:limit]

    def delete_handled(self, inszs: Sequence[str], last_id: int) -> None:
        done = set(inszs)
        self.s.outbox = [(i, w) for i, w in self.s.outbox if not (w in done and i <= last_id)]

    def mirror(self, inszs: Sequence[str]) -> dict[str, list[DirectoryInterval]]:
        return {w: list(self.s.mirror[w]) for w in inszs if w in self.s.mirror}

    def set_mirrors(self, intervals: dict[str, Sequence[DirectoryInterval]]) -> None:
        for insz, spans in intervals.items():
            self.s.mirror[insz] = list(spans)


class FakeUnit:
    def __init__(self, s: State) -> None:
        self._state = s
        self.employers = _Employers(s)
        self.periods = _Periods(s)
        self.declarations = _Declarations(s)
        self.events = _Events(s)
        self.outbox = _Outbox(s)
        self.actuals = _Actuals(s)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = copy.deepcopy(self._state.__dict__)
        try:
            yield
        except BaseException:
            self._state.__dict__.update(saved)
            raise


class FakeDimona:
    """The whole store; `unit()` is a transaction over a copy, kept on success."""

    def __init__(self) -> None:
        self.state = State()
        # One unit at a time, as SQLite's writer (BEGIN IMMEDIATE): without it two units copy
        # the same state and the last to finish drops the other's writes.
        self._serial = threading.RLock()
        register = employers()
        self.state.employers = {e.onss_number: e for e in register}
        self.state.mandates = mandates(register)

    @contextmanager
    def unit(self) -> Iterator[FakeUnit]:
        with self._serial:
            working = copy.deepcopy(self.state)
            yield FakeUnit(working)
            self.state = working

    def counts(self) -> tuple[int, int, int, int]:
        s = self.state
        return len(s.declarations), len(s.periods), len(s.events), len(s.outbox)


class ScriptedIdentity:
    """Answers from a table: DECEASED, REPLACED (by REPLACEMENT) and UNKNOWN are what their
    names say; everyone else exists. `down` makes every call Unavailable."""

    def __init__(self) -> None:
        self.down = False
        self.checked: list[str] = []
        self.identified: list[tuple[Identification, str]] = []
        self.refuse_identification = ""

    def check(self, insz: str) -> PersonCheck:
        if self.down:
            raise Unavailable("IDENTITY_UNAVAILABLE", "down")
        self.checked.append(insz)
        if insz == DECEASED:
            return PersonCheck(PersonOutcome.DECEASED)
        if insz == REPLACED:
            return PersonCheck(PersonOutcome.REPLACED, REPLACEMENT)
        if insz == UNKNOWN:
            return PersonCheck(PersonOutcome.NOT_FOUND)
        return PersonCheck(PersonOutcome.ACTIVE)

    def identify(self, person: Identification, request_id: str) -> str:
        if self.down:
            raise Unavailable("IDENTITY_UNAVAILABLE", "down")
        if self.refuse_identification:
            raise IdentificationRefused(self.refuse_identification)
        self.identified.append((person, request_id))
        return BIS


class RecordingDirectory:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, DirectoryInterval]]]] = []
        self.down = False

    def _record(self, kind: str, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        if self.down:
            raise Unavailable("DIRECTORY_UNAVAILABLE", "down")
        self.calls.append((kind, list(entries)))

    def withdraw(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        self._record("withdraw", entries)

    def end(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        self._record("end", entries)

    def register(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        self._record("register", entries)


@dataclass
class World:
    fake: FakeDimona
    clock: FixedClock
    identity: ScriptedIdentity
    declarations: Declarations
    queries: DimonaQueries
    woken: list[int]
    quarters: DimonaQuarters


def world() -> World:
    fake = FakeDimona()
    clock = FixedClock(NOW)
    identity = ScriptedIdentity()
    woken: list[int] = []
    declarations = Declarations(
        fake.unit, fake.unit, identity, clock, on_accepted=lambda: woken.append(1)
    )
    return World(
        fake,
        clock,
        identity,
        declarations,
        DimonaQueries(fake.unit, clock),
        woken,
        DimonaQuarters(fake.unit, fake.unit, clock),
    )
