"""In-memory fakes of the DRS's ports (service/ports.py) and builders: a unit of work over plain
data (copied on entry, kept only when the block ends without an exception, like a transaction),
a scripted network (the register, DIMONA and the DmfA through the router), and the declaring
employers, workers and risks the unit tests use."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from drs.service.declarations import Declarations
from drs.service.model import (
    Attestation,
    AttestationStatus,
    Declaration,
    Employer,
    Employment,
    EndOfContract,
    EndReason,
    Incapacity,
    Insurer,
    QuarterPay,
    Resumption,
    Risk,
    Scenario,
    Submission,
    Task,
    TaskState,
    TemporaryUnemployment,
    TemporaryUnemploymentHours,
    WorkAccident,
    Worker,
)
from drs.service.ports import ConflictError
from drs.service.queries import DrsQueries
from drs.service.requests import Requests
from runtime.clock import BRUSSELS, FixedClock
from runtime.errors import Unavailable
from runtime.identity import Caller, PartyKind

#: Employers: RETAIL (not DestHa, bureau-mandated), STATE (DestHa), OTHER (not the worker's).
RETAIL, STATE, OTHER = "000100006", "000935467", "001234567"
BUREAU_KBO = "0314595348"
WORKER = "85071412330"  # runtime.identifiers' worked example
OTHER_WORKER = "03020100274"
ETHIAS_KBO = "0404484654"
UNKNOWN_KBO = "0203201340"  # a valid KBO number no insurer has
ME = Caller(PartyKind.EMPLOYER, RETAIL)
STATE_CALLER = Caller(PartyKind.EMPLOYER, STATE)
OTHER_CALLER = Caller(PartyKind.EMPLOYER, OTHER)
BUREAU = Caller(PartyKind.BUREAU, BUREAU_KBO)
MUT_100 = Caller(PartyKind.INSTITUTION, "mut-100")

#: Wednesday 14 October 2026, 10:00 in Brussels.
NOW = dt.datetime(2026, 10, 14, 10, 0, tzinfo=BRUSSELS)
TODAY = dt.date(2026, 10, 14)
EMPLOYMENT = Employment(4242, "OTH", "202", dt.date(2024, 3, 1), None)
#: What the DmfA holds: the two closed quarters before 2026Q4 (newest first).
DMFA_QUARTERS = (
    QuarterPay(2026, 3, 6_400, 48_640, 960_000),
    QuarterPay(2026, 2, 6_200, 47_120, 930_000),
)


def clock(at: dt.datetime = NOW) -> FixedClock:
    return FixedClock(at)


# -- risks and submissions ---------------------------------------------------------------------


def end_of_contract(last_day: dt.date = TODAY) -> EndOfContract:
    return EndOfContract(EndReason.DISMISSAL, last_day, 250_000, False)


def risks(day: dt.date = TODAY) -> dict[Scenario, tuple[Risk, dt.date]]:
    """A well-formed risk of each scenario, with its risk date (on time when submitted today)."""
    first = day.replace(day=1)
    return {
        Scenario.UNEMPLOYMENT_END_OF_CONTRACT: (end_of_contract(day), day),
        Scenario.TEMPORARY_UNEMPLOYMENT: (TemporaryUnemployment("001", None), day),
        Scenario.TEMPORARY_UNEMPLOYMENT_HOURS: (TemporaryUnemploymentHours("002", 3_800, 5), first),
        Scenario.SICKNESS_INCAPACITY: (
            Incapacity(day - dt.timedelta(days=1), False, None),
            day,
        ),
        Scenario.SICKNESS_RESUMPTION: (Resumption(False, 0), day),
        Scenario.WORK_ACCIDENT: (WorkAccident("Warehouse 3", "Fell from a ladder."), day),
    }


def submission(
    risk: Risk,
    risk_date: dt.date = TODAY,
    *,
    employer: str = RETAIL,
    reference: str = "ref-1",
    insz: str = WORKER,
    quarters: tuple[QuarterPay, ...] = (),
    task: str = "",
    digest: str = "",
) -> Submission:
    return Submission(
        employer,
        reference,
        insz,
        risk_date,
        risk,
        quarters,
        task,
        digest
        or hashlib.sha256(
            f"{reference}|{risk!r}|{risk_date}|{quarters}|{task}".encode()
        ).hexdigest(),
    )


# -- storage -----------------------------------------------------------------------------------


@dataclass
class State:
    employers: dict[str, Employer] = field(default_factory=dict)
    mandates: list[tuple[str, str, dt.date]] = field(default_factory=list)
    insurers: dict[str, Insurer] = field(default_factory=dict)
    declarations: list[Declaration] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    attestations: list[Attestation] = field(default_factory=list)
    #: attestation id -> outbox status (what the dispatcher recorded).
    outbox: dict[str, AttestationStatus] = field(default_factory=dict)


class _Employers:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, onss_number: str) -> Employer | None:
        return self.s.employers.get(onss_number)

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        return any(e == employer and b == bureau and f <= on for e, b, f in self.s.mandates)


class _Insurers:
    def __init__(self, s: State) -> None:
        self.s = s

    def get(self, kbo: str) -> Insurer | None:
        return self.s.insurers.get(kbo)


class _Declarations:
    def __init__(self, s: State, store: FakeStore) -> None:
        self.s, self.store = s, store

    def _read(self, d: Declaration) -> Declaration:
        status = AttestationStatus.NONE
        if d.attestation_id:
            status = self.s.outbox.get(d.attestation_id, AttestationStatus.DELIVERED)
        return dataclasses.replace(d, attestation_status=status)

    def by_reference(self, employer: str, reference: str) -> Declaration | None:
        for d in self.s.declarations:
            if (d.employer, d.reference) == (employer, reference):
                return self._read(d)
        return None

    def add(self, declaration: Declaration) -> Declaration:
        if self.store.conflicts:
            self.store.conflicts -= 1
            if self.store.winner is not None:  # the concurrent transaction that won
                self.store.state.declarations.append(self.store.winner)
            raise ConflictError("a concurrent transaction won")
        assert self.by_reference(declaration.employer, declaration.reference) is None
        added = dataclasses.replace(declaration, id=len(self.s.declarations) + 1)
        self.s.declarations.append(added)
        if added.attestation_id:
            self.s.outbox[added.attestation_id] = AttestationStatus.PENDING
        return self._read(added)

    def newest(self, employer: str, before_id: int | None, limit: int) -> list[Declaration]:
        found = [
            self._read(d)
            for d in reversed(self.s.declarations)
            if d.employer == employer and (before_id is None or d.id < before_id)
        ]
        return found[:limit]

    def of_worker(self, insz: str, before_id: int | None, limit: int) -> list[Declaration]:
        found = [
            self._read(d)
            for d in reversed(self.s.declarations)
            if d.insz == insz and (before_id is None or d.id < before_id)
        ]
        return found[:limit]


class _Tasks:
    def __init__(self, s: State, store: FakeStore) -> None:
        self.s, self.store = s, store

    def get(self, employer: str, task_id: str) -> Task | None:
        return next((t for t in self.s.tasks if (t.employer, t.id) == (employer, task_id)), None)

    def oldest_open(self, employer: str, insz: str, scenario: Scenario) -> Task | None:
        return next(
            (
                t
                for t in self.s.tasks
                if (t.employer, t.insz, t.scenario, t.state)
                == (employer, insz, scenario, TaskState.OPEN)
            ),
            None,
        )

    def lock(self, task_id: str) -> Task | None:
        self.store.on_lock(self.s, task_id)
        return next((t for t in self.s.tasks if t.id == task_id), None)

    def mark_done(self, task_id: str, declaration_reference: str) -> None:
        self.s.tasks = [
            dataclasses.replace(t, state=TaskState.DONE, declaration=declaration_reference)
            if t.id == task_id
            else t
            for t in self.s.tasks
        ]

    def by_request(self, requested_by: str, request_id: str) -> Task | None:
        return next(
            (
                t
                for t in self.s.tasks
                if (t.requested_by, t.request_id) == (requested_by, request_id)
            ),
            None,
        )

    def add(self, task: Task) -> Task:
        if self.store.conflicts:
            self.store.conflicts -= 1
            raise ConflictError("a concurrent transaction won")
        added = dataclasses.replace(task, seq=len(self.s.tasks) + 1)
        self.s.tasks.append(added)
        return added

    def page(self, employer: str, after: tuple[int, int] | None, limit: int) -> list[Task]:
        keyed = sorted(
            ((0 if t.state is TaskState.OPEN else 1, t.seq), t)
            for t in self.s.tasks
            if t.employer == employer
        )
        return [t for key, t in keyed if after is None or key > after][:limit]


class _Attestations:
    def __init__(self, s: State) -> None:
        self.s = s

    def enqueue(self, attestation: Attestation) -> None:
        self.s.attestations.append(attestation)


class FakeUnit:
    def __init__(self, s: State, store: FakeStore) -> None:
        self.employers = _Employers(s)
        self.insurers = _Insurers(s)
        self.declarations = _Declarations(s, store)
        self.tasks = _Tasks(s, store)
        self.attestations = _Attestations(s)


class FakeStore:
    """The committed state, and units of work over copies of it."""

    def __init__(self) -> None:
        self.state = State()
        self.conflicts = 0  # the next N adds raise ConflictError (lost races)
        self.winner: Declaration | None = None  # committed by the race's winner
        self.commits = 0
        self.on_lock: Callable[[State, str], None] = lambda s, task_id: None
        self._lock = threading.Lock()

    @contextmanager
    def unit(self) -> Iterator[FakeUnit]:
        with self._lock:
            working = copy.deepcopy(self.state)
        yield FakeUnit(working, self)
        with self._lock:
            self.state = working
            self.commits += 1

    @contextmanager
    def read_unit(self) -> Iterator[FakeUnit]:
        with self._lock:
            working = copy.deepcopy(self.state)
        yield FakeUnit(working, self)


def seeded_store() -> FakeStore:
    store = FakeStore()
    s = store.state
    s.employers[RETAIL] = Employer(RETAIL, "Retail", False, False)
    s.employers[STATE] = Employer(STATE, "State", False, True)
    s.employers[OTHER] = Employer(OTHER, "Other", False, False)
    s.mandates.append((RETAIL, BUREAU_KBO, dt.date(2020, 1, 1)))
    s.insurers[ETHIAS_KBO] = Insurer(ETHIAS_KBO, "ethias", "Ethias SA")
    return store


# -- the network -------------------------------------------------------------------------------


@dataclass
class FakeNetwork:
    """The register, DIMONA and the DmfA as the router would answer: a worker employed by
    RETAIL and STATE since 2024-03-01, with the DmfA's DMFA_QUARTERS."""

    employments: dict[tuple[str, str], Employment] = field(
        default_factory=lambda: {
            (WORKER, RETAIL): EMPLOYMENT,
            (WORKER, STATE): EMPLOYMENT,
            (OTHER_WORKER, RETAIL): EMPLOYMENT,
        }
    )
    quarter_pays: dict[tuple[str, str], tuple[QuarterPay, ...]] = field(
        default_factory=lambda: {(WORKER, RETAIL): DMFA_QUARTERS}
    )
    down: bool = False
    calls: list[tuple[str, str, dt.date]] = field(default_factory=list)
    #: Called at each employment question (a test's barrier to make submissions race).
    during_employment: Callable[[], object] = lambda: None

    def employment(self, insz: str, employer: str, on: dt.date) -> Employment | None:
        self.calls.append(("employment", insz, on))
        self.during_employment()
        if self.down:
            raise Unavailable("HOLDER_UNAVAILABLE", "down")
        found = self.employments.get((insz, employer))
        if found is None or found.start > on or (found.end is not None and found.end < on):
            return None
        return found

    def worker(self, insz: str, on: dt.date) -> Worker:
        self.calls.append(("worker", insz, on))
        if self.down:
            raise Unavailable("HOLDER_UNAVAILABLE", "down")
        return Worker(insz, "Peeters", ("Jan", "Frans"), dt.date(1985, 7, 14))

    def quarters(
        self, insz: str, employer: str, on: dt.date, max_quarters: int
    ) -> list[QuarterPay]:
        self.calls.append(("quarters", insz, on))
        if self.down:
            raise Unavailable("HOLDER_UNAVAILABLE", "down")
        return list(self.quarter_pays.get((insz, employer), ()))[:max_quarters]


@dataclass
class World:
    store: FakeStore
    network: FakeNetwork
    clock: FixedClock
    declarations: Declarations
    queries: DrsQueries
    requests: Requests
    queued: list[int]
    refreshed: list[list[str]]


def world(at: dt.datetime = NOW, network: FakeNetwork | None = None) -> World:
    store = seeded_store()
    net = network or FakeNetwork()
    fixed = clock(at)
    queued: list[int] = []
    refreshed: list[list[str]] = []
    ids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 10_000))

    def refresh(names: object) -> int:
        listed = list(names)  # type: ignore[call-overload]
        refreshed.append(listed)
        changed = 0
        for i in listed:
            if store.state.outbox.get(i) is AttestationStatus.DELIVERED:
                store.state.outbox[i] = AttestationStatus.ACKNOWLEDGED
                changed += 1
        return changed

    declarations = Declarations(
        store.unit,
        store.read_unit,
        net,
        fixed,
        on_queued=lambda: queued.append(1),
        new_id=lambda: next(ids),
    )
    return World(
        store,
        net,
        fixed,
        declarations,
        DrsQueries(store.read_unit, fixed, refresh=refresh),
        Requests(store.unit, fixed, new_id=lambda: next(ids)),
        queued,
        refreshed,
    )
