"""In-memory fakes of the DmfA's ports (service/ports.py): a unit of work over plain data
(copied on entry, kept only when the block ends without an exception, like a transaction) and a
scripted network (the register and DIMONA through the router)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dmfa.service.declarations import Declarations
from dmfa.service.model import (
    Anomaly,
    DeclarationEvent,
    DeclarationSummary,
    DeclaredWorker,
    DimonaPeriod,
    Employer,
    EmployerQuarter,
    EventKind,
    Person,
    PersonCheck,
    PersonOutcome,
    Quarter,
    RemunerationTotal,
    StudentBalance,
    Version,
    WorkerCodeQuarter,
)
from dmfa.service.ports import ConflictError, DeclarationState, QuotaUpdate
from dmfa.service.tables import Tables
from runtime.clock import FixedClock
from runtime.errors import ServiceError, Unavailable
from runtime.identity import Caller, PartyKind
from tests.unit.dmfa.builders import (
    EMPLOYER,
    FRESH_STUDENT,
    OTHER_EMPLOYER,
    PROVISIONAL,
    Q,
    covered,
)

#: Wednesday 15 April 2026, 10:00 in Brussels: 2026Q1 is declared on time (deadline 30 April).
NOW = dt.datetime(2026, 4, 15, 8, 0, tzinfo=dt.UTC)
TABLES = Tables.load()

ME = Caller(PartyKind.EMPLOYER, EMPLOYER)
OTHER_CALLER = Caller(PartyKind.EMPLOYER, OTHER_EMPLOYER)
PROVISIONAL_CALLER = Caller(PartyKind.EMPLOYER, PROVISIONAL)
BUREAU = Caller(PartyKind.BUREAU, "0314595348")  # mandated by EMPLOYER only
LONE_BUREAU = Caller(PartyKind.BUREAU, "0203201340")  # no mandate
ONSS = Caller(PartyKind.INSTITUTION, "onss")


@dataclass
class StoredVersion:
    version: Version
    workers: tuple[DeclaredWorker, ...]
    anomalies: tuple[Anomaly, ...]


@dataclass
class QuotaRow:
    id: int
    employer: str
    quarter: Quarter
    entries: tuple[tuple[str, int], ...]
    source: str
    state: str = "PENDING"
    attempts: int = 0
    next_attempt_at: dt.datetime = NOW
    last_error: str = ""


@dataclass
class State:
    employers: dict[str, Employer] = field(default_factory=dict)
    mandates: list[tuple[str, str, dt.date]] = field(default_factory=list)
    declarations: dict[tuple[str, Quarter], DeclarationState] = field(default_factory=dict)
    versions: list[StoredVersion] = field(default_factory=list)
    #: (employer, quarter) -> INSZ -> (version number, worker, student minutes or None)
    quarters: dict[tuple[str, Quarter], dict[str, tuple[int, DeclaredWorker, int | None]]] = field(
        default_factory=dict
    )
    events: list[DeclarationEvent] = field(default_factory=list)
    quota: list[QuotaRow] = field(default_factory=list)


class _Employers:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, onss_number: str) -> Employer | None:
        return self.s.employers.get(onss_number)

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        return any(e == employer and b == bureau and f <= on for e, b, f in self.s.mandates)


class _Versions:
    def __init__(self, s: State, store: FakeStore) -> None:
        self.s, self.store = s, store

    def _read(self, stored: StoredVersion) -> Version:
        v = stored.version
        state = self.s.declarations.get((v.employer, v.quarter), DeclarationState())
        return dataclasses.replace(v, current=state.current == v.number)

    def lock(self, employer: str, quarter: Quarter) -> DeclarationState:
        self.store.locks += 1
        if self.store.conflicts:
            self.store.conflicts -= 1
            raise ConflictError("a concurrent transaction won")
        return self.s.declarations.setdefault((employer, quarter), DeclarationState())

    def state(self, employer: str, quarter: Quarter) -> DeclarationState:
        return self.s.declarations.get((employer, quarter), DeclarationState())

    def by_reference(self, employer: str, reference: str) -> Version | None:
        for stored in self.s.versions:
            v = stored.version
            if v.employer == employer and v.submission_reference == reference:
                return self._read(stored)
        return None

    def get(self, employer: str, quarter: Quarter, number: int) -> Version | None:
        for stored in self.s.versions:
            v = stored.version
            if (v.employer, v.quarter, v.number) == (employer, quarter, number):
                return self._read(stored)
        return None

    def add(
        self, version: Version, workers: Sequence[DeclaredWorker], anomalies: Sequence[Anomaly]
    ) -> Version:
        key = (version.employer, version.quarter)
        state = self.s.declarations[key]  # lock() made it
        assert version.number == state.version_count + 1
        added = dataclasses.replace(version, id=len(self.s.versions) + 1)
        self.s.versions.append(StoredVersion(added, tuple(workers), tuple(anomalies)))
        self.s.declarations[key] = DeclarationState(
            version.number, version.number if version.current else state.current
        )
        return added

    def supersede(self, employer: str, quarter: Quarter, number: int, by: int) -> None:
        for stored in self.s.versions:
            v = stored.version
            if (v.employer, v.quarter, v.number) == (employer, quarter, number):
                stored.version = dataclasses.replace(v, superseded_by=by)

    def of_declaration(
        self, employer: str, quarter: Quarter, after: int, limit: int
    ) -> list[Version]:
        found = [
            self._read(s)
            for s in self.s.versions
            if (s.version.employer, s.version.quarter) == (employer, quarter)
            and s.version.number > after
        ]
        return sorted(found, key=lambda v: v.number)[:limit]

    def declarations(
        self, employer: str, before: Quarter | None, limit: int
    ) -> list[DeclarationSummary]:
        out = []
        for (e, quarter), state in sorted(self.s.declarations.items(), reverse=True):
            if e != employer or not state.version_count or (before and quarter >= before):
                continue
            current = self.get(e, quarter, state.current) if state.current else None
            out.append(DeclarationSummary(e, quarter, state.version_count, current))
        return out[:limit]

    def workers(self, version_id: int, after: str, limit: int) -> list[DeclaredWorker]:
        stored = self.s.versions[version_id - 1]
        return sorted((w for w in stored.workers if w.insz > after), key=lambda w: w.insz)[:limit]


class _WorkerQuarters:
    def __init__(self, s: State) -> None:
        self.s = s

    def replace(
        self,
        employer: str,
        quarter: Quarter,
        version: Version,
        workers: Sequence[DeclaredWorker],
        student_minutes: dict[str, int],
    ) -> dict[str, int]:
        key = (employer, quarter)
        previous = {
            insz: minutes
            for insz, (_, _, minutes) in self.s.quarters.get(key, {}).items()
            if minutes is not None
        }
        self.s.quarters[key] = {
            w.insz: (version.number, w, student_minutes.get(w.insz)) for w in workers
        }
        return previous

    def of_worker(self, insz: str, quarter: Quarter) -> list[EmployerQuarter]:
        return [
            _summary(employer, *rows[insz])
            for (employer, q), rows in sorted(self.s.quarters.items())
            if q == quarter and insz in rows
        ]

    def of_worker_with(
        self, insz: str, employer: str, before: Quarter, limit: int
    ) -> list[tuple[Quarter, EmployerQuarter]]:
        found = [
            (q, _summary(e, *rows[insz]))
            for (e, q), rows in self.s.quarters.items()
            if e == employer and q < before and insz in rows
        ]
        return sorted(found, key=lambda x: x[0], reverse=True)[:limit]


def _summary(employer: str, number: int, worker: DeclaredWorker, _: int | None) -> EmployerQuarter:
    """What the worker's quarter keeps: per record, worker code, days, hours, pay per code."""
    records = []
    for c in worker.records:
        pay: dict[str, int] = {}
        for o in c.record.occupations:
            for m in o.remunerations:
                pay[m.code] = pay.get(m.code, 0) + m.amount
        days = sum(s.days for o in c.record.occupations for s in o.services)
        records.append(
            WorkerCodeQuarter(
                c.record.worker_code,
                days,
                c.record.hours,
                tuple(RemunerationTotal(k, a) for k, a in sorted(pay.items())),
            )
        )
    return EmployerQuarter(employer, number, tuple(records))


class _Events:
    def __init__(self, s: State) -> None:
        self.s = s

    def append(
        self, kind: EventKind, version: Version, superseded: int | None, at: dt.datetime
    ) -> int:
        stored = self.s.versions[version.id - 1]
        sequence = len(self.s.events) + 1
        self.s.events.append(
            DeclarationEvent(
                sequence,
                kind,
                version.employer,
                version.quarter,
                version.number,
                superseded,
                tuple(sorted(w.insz for w in stored.workers)),
                at,
            )
        )
        return sequence

    def after(self, sequence: int, limit: int) -> tuple[list[DeclarationEvent], int]:
        return [e for e in self.s.events if e.sequence > sequence][:limit], len(self.s.events)


class _Quota:
    def __init__(self, s: State) -> None:
        self.s = s

    def _row(self, update_id: int) -> QuotaRow:
        (row,) = [r for r in self.s.quota if r.id == update_id]
        return row

    def add(
        self,
        employer: str,
        quarter: Quarter,
        entries: dict[str, int],
        source: str,
        now: dt.datetime,
    ) -> None:
        self.s.quota.append(
            QuotaRow(
                len(self.s.quota) + 1,
                employer,
                quarter,
                tuple(sorted(entries.items())),
                source,
                next_attempt_at=now,
            )
        )

    def due(self, now: dt.datetime, limit: int) -> list[QuotaUpdate]:
        """The oldest pending rows, in order, up to the first that is not due yet (as storage)."""
        out = []
        for row in [r for r in self.s.quota if r.state == "PENDING"][:limit]:
            if row.next_attempt_at > now:
                break
            out.append(
                QuotaUpdate(
                    row.id, row.employer, row.quarter, row.entries, row.source, row.attempts
                )
            )
        return out

    def done(self, update_id: int, now: dt.datetime) -> None:
        row = self._row(update_id)
        row.state, row.attempts = "DONE", row.attempts + 1

    def retry(self, update_id: int, at: dt.datetime, error: str) -> None:
        row = self._row(update_id)
        row.next_attempt_at, row.last_error, row.attempts = at, error, row.attempts + 1

    def fail(self, update_id: int, now: dt.datetime, error: str) -> None:
        row = self._row(update_id)
        row.state, row.last_error, row.attempts = "FAILED", error, row.attempts + 1


class FakeUnit:
    def __init__(self, s: State, store: FakeStore) -> None:
        self.employers = _Employers(s)
        self.versions = _Versions(s, store)
        self.worker_quarters = _WorkerQuarters(s)
        self.events = _Events(s)
        self.quota = _Quota(s)


class FakeStore:
    """The whole database; `unit()` is a transaction over a copy, kept on success.
    `conflicts` makes that many next `lock()` calls lose a race (ConflictError)."""

    def __init__(self) -> None:
        self.state = State()
        self.locks = 0
        self.conflicts = 0
        self._mutex = threading.Lock()
        for number, name, provisional in (
            (EMPLOYER, "Retail SA", False),
            (OTHER_EMPLOYER, "Other SRL", False),
            (PROVISIONAL, "Newcomer SRL", True),
        ):
            self.state.employers[number] = Employer(number, name, provisional)
        self.state.mandates.append((EMPLOYER, BUREAU.id, dt.date(2020, 1, 1)))

    @contextmanager
    def unit(self) -> Iterator[FakeUnit]:
        with self._mutex:
            working = copy.deepcopy(self.state)
            yield FakeUnit(working, self)
            self.state = working

    def versions(self) -> list[Version]:
        versions = _Versions(self.state, self)
        return [versions._read(s) for s in self.state.versions]

    def declaration(self, employer: str = EMPLOYER, quarter: Quarter = Q) -> DeclarationState:
        return self.state.declarations.get((employer, quarter), DeclarationState())


class FakeNetwork:
    """The register (everyone ACTIVE unless `register` says otherwise), DIMONA's periods by
    (employer, quarter), students' balances (a fresh quota unless `balances` says otherwise).
    `down` names the calls that answer Unavailable; `outcomes` scripts record_student_hours
    (None: recorded, an exception: raised), then every call succeeds."""

    def __init__(self) -> None:
        self.register: dict[str, PersonCheck] = {}
        self.dimona: dict[tuple[str, Quarter], list[DimonaPeriod]] = {}
        self.balances: dict[str, StudentBalance] = {}
        self.down: set[str] = set()
        self.outcomes: list[ServiceError | None] = []
        self.asked: list[tuple[str, tuple[str, ...]]] = []
        self.recorded: list[tuple[str, Quarter, list[tuple[str, int]], str]] = []
        self.during_periods: Callable[[], None] | None = None

    def cover(self, *persons: Person, employer: str = EMPLOYER, quarter: Quarter = Q) -> None:
        """Every record of these workers covered by a Dimona period of the expected type."""
        self.dimona[(employer, quarter)] = list(covered(*persons).periods)

    def _maybe_down(self, call: str) -> None:
        if call in self.down:
            raise Unavailable("ROUTER_UNAVAILABLE", "down")

    def persons(self, inszs: Sequence[str]) -> dict[str, PersonCheck]:
        self._maybe_down("persons")
        self.asked.append(("persons", tuple(inszs)))
        return {i: self.register.get(i, PersonCheck(PersonOutcome.ACTIVE)) for i in inszs}

    def periods(self, employer: str, quarter: Quarter) -> list[DimonaPeriod]:
        self._maybe_down("periods")
        if self.during_periods is not None:
            self.during_periods()
        return list(self.dimona.get((employer, quarter), []))

    def student_balances(
        self, employer: str, quarter: Quarter, inszs: Sequence[str]
    ) -> dict[str, StudentBalance]:
        self._maybe_down("student_balances")
        self.asked.append(("student_balances", tuple(inszs)))
        return {i: self.balances.get(i, FRESH_STUDENT) for i in inszs}

    def record_student_hours(
        self, employer: str, quarter: Quarter, entries: Sequence[tuple[str, int]], source: str
    ) -> None:
        self._maybe_down("record_student_hours")
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.recorded.append((employer, quarter, list(entries), source))


@dataclass
class World:
    store: FakeStore
    network: FakeNetwork
    clock: FixedClock
    declarations: Declarations
    woken: list[int]


def world(tables: Tables = TABLES) -> World:
    store = FakeStore()
    network = FakeNetwork()
    clock = FixedClock(NOW)
    woken: list[int] = []
    declarations = Declarations(
        store.unit, store.unit, network, tables, clock, on_accepted=lambda: woken.append(1)
    )
    return World(store, network, clock, declarations, woken)
