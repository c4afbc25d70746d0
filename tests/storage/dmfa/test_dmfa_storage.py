"""The DmfA's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): the rules over the real
repositories (a scripted network), versions and history, the worker quarter replaced by a
correction, the gap-free event log, the quota outbox's order, and races: two originals, or two
corrections of the same version, submitted at once — exactly one wins, the other is told why,
and nothing is half-written."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from dmfa.seed.command import load
from dmfa.service.declarations import Declarations
from dmfa.service.model import Quarter, Status
from dmfa.service.tables import Tables
from dmfa.storage import MIGRATIONS
from dmfa.storage.repository import unit_factory
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.errors import FailedPrecondition
from runtime.identity import Caller, PartyKind
from tests.support.databases import migration_drift
from tests.unit.dmfa.builders import (
    EMPLOYER,
    OTHER,
    STUDENT,
    WORKER,
    person,
    record,
    submission,
)
from tests.unit.dmfa.fakes import NOW as NOW_INSTANT
from tests.unit.dmfa.fakes import FakeNetwork

pytestmark = pytest.mark.storage

CALLER = Caller(PartyKind.EMPLOYER, EMPLOYER)
Q = Quarter(2026, 1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    load(database)
    yield database
    database.dispose()


def _rules(db: Database, network: FakeNetwork) -> Declarations:
    return Declarations(
        unit_factory(db),
        unit_factory(db, write=False),
        network,
        Tables.load(),
        FixedClock(NOW_INSTANT),
    )


def _count(db: Database, table: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())  # noqa: S608


def test_versions_history_quarter_and_events_are_stored(db: Database) -> None:
    network = FakeNetwork()
    student = person(STUDENT, record("841", hours=8000))
    first = submission(person(WORKER), student, reference="a")
    network.cover(*first.persons)
    rules = _rules(db, network)
    v1 = rules.submit(CALLER, first)
    assert (v1.number, v1.status, v1.current) == (1, Status.ACCEPTED, True)

    # A correction: the worker's pay changes, the student is gone, a new worker comes.
    second = submission(
        person(WORKER, record(pay=310000)),
        person(OTHER),
        reference="b",
        corrects=1,
    )
    network.cover(*second.persons)
    v2 = rules.submit(CALLER, second)
    assert (v2.number, v2.corrects, v2.current) == (2, 1, True)

    with unit_factory(db, write=False)() as unit:
        old = unit.versions.get(EMPLOYER, Q, 1)
        assert old is not None and not old.current and old.superseded_by == 2
        assert [v.number for v in unit.versions.of_declaration(EMPLOYER, Q, 0, 10)] == [1, 2]
        [summary] = unit.versions.declarations(EMPLOYER, None, 10)
        assert summary.version_count == 2 and summary.current is not None
        assert summary.current.number == 2
        # The worker's quarter is the correction's; the student's is gone.
        [mine] = unit.worker_quarters.of_worker(WORKER, Q)
        assert (mine.version, mine.records[0].remunerations[0].amount) == (2, 310000)
        assert unit.worker_quarters.of_worker(STUDENT, Q) == []
        workers = unit.versions.workers(v2.id, "", 10)
        assert sorted(w.insz for w in workers) == sorted([WORKER, OTHER])
        events, last = unit.events.after(0, 10)
        assert [(e.sequence, e.kind.value, e.version, e.superseded) for e in events] == [
            (1, "ACCEPTED", 1, None),
            (2, "CORRECTED", 2, 1),
        ]
        assert last == 2
        # The student's 80 hours, then 0 once the correction dropped her: in that order.
        due = unit.quota.due(NOW_INSTANT, 10)
    assert [dict(u.entries) for u in due] == [{STUDENT: 4800}, {STUDENT: 0}]


def test_a_refused_version_is_stored_whole_and_changes_nothing_else(db: Database) -> None:
    network = FakeNetwork()  # no Dimona period at all: every occupation uncovered
    refused = _rules(db, network).submit(CALLER, submission(person(WORKER), reference="r"))
    assert refused.status is Status.REFUSED and not refused.current
    assert {a.code for a in refused.anomalies} == {"OCCUPATION_NOT_COVERED"}
    with unit_factory(db, write=False)() as unit:
        stored = unit.versions.get(EMPLOYER, Q, 1)
        assert stored is not None and stored.anomalies == refused.anomalies
        assert unit.worker_quarters.of_worker(WORKER, Q) == []
        assert unit.events.after(0, 10) == ([], 0)
    assert _count(db, "quota_update") == 0


@pytest.mark.parametrize("kind", ["two originals", "two corrections of version 1"])
def test_a_race_has_exactly_one_winner(db: Database, kind: str) -> None:
    network = FakeNetwork()
    rules = _rules(db, network)
    corrects = None
    if kind != "two originals":
        base = submission(person(WORKER), reference="base")
        network.cover(*base.persons)
        rules.submit(CALLER, base)
        corrects = 1
    racers = [
        submission(
            person(WORKER, record(pay=300000 + i)),
            reference=f"racer-{i}",
            corrects=corrects,
        )
        for i in range(2)
    ]
    network.cover(*racers[0].persons)
    # Both pass the first look before either writes: the lock decides.
    barrier = threading.Barrier(2)
    network.during_periods = lambda: barrier.wait(timeout=10)
    outcomes: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            outcomes[i] = rules.submit(CALLER, racers[i])
        except FailedPrecondition as exc:
            outcomes[i] = exc.reason

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    reasons = sorted(o for o in outcomes if isinstance(o, str))
    winners = [o for o in outcomes if not isinstance(o, str)]
    assert len(winners) == 1
    assert reasons == ["DECLARATION_EXISTS" if corrects is None else "VERSION_SUPERSEDED"]
    expected_versions = 1 if corrects is None else 2
    assert _count(db, "version") == expected_versions
    assert _count(db, "declaration_event") == expected_versions
    with unit_factory(db, write=False)() as unit:
        assert unit.versions.state(EMPLOYER, Q).current == expected_versions


def test_the_person_who_acted_at_the_portal_is_stored_and_read_back(db: Database) -> None:
    network = FakeNetwork()
    first = submission(person(WORKER), reference="portal")
    network.cover(*first.persons)
    jan = "70020304588"
    acting = Caller(PartyKind.EMPLOYER, EMPLOYER, via_gateway=True, person=jan, role="declarant")
    v = _rules(db, network).submit(acting, first)
    assert (v.submitted_by, v.acting_person) == (CALLER.uri, jan)
    with unit_factory(db, write=False)() as unit:
        stored = unit.versions.get(EMPLOYER, Q, 1)
        assert stored == v and stored is not None and stored.acting_person == jan
    # A version stored by a certificate records nobody.
    second = submission(person(WORKER, record(pay=310000)), reference="cert", corrects=1)
    network.cover(*second.persons)
    assert _rules(db, network).submit(CALLER, second).acting_person == ""
    with unit_factory(db, write=False)() as unit:
        again = unit.versions.get(EMPLOYER, Q, 2)
        assert again is not None and again.acting_person == ""


def test_the_migrations_match_the_models_when_applied(database_url: str) -> None:
    from dmfa.storage.models import Base

    assert migration_drift(database_url, MIGRATIONS, Base.metadata) == []
