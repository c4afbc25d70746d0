"""The DRS's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): the rules over the real
repositories (a scripted network), every scenario stored and read back, the attestation in the
outbox table in the declaration's transaction (and its status shown with the declaration), the
to-do list's order, and races — the same reference twice, two declarations answering one task,
the same request twice — with exactly one winner and nothing half-written. The migrations match
the models; the seed is idempotent."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from drs.seed.command import load
from drs.seed.data import ETHIAS_KBO
from drs.service.declarations import Declarations
from drs.service.model import (
    AttestationStatus,
    Incapacity,
    QuarterPay,
    Scenario,
    Status,
    TaskState,
    WorkAccident,
)
from drs.service.queries import DrsQueries
from drs.service.requests import Requests
from drs.storage import MIGRATIONS
from drs.storage.models import OUTBOX
from drs.storage.repository import drs_outbox, unit_factory
from runtime.db import Database
from runtime.identity import Caller, PartyKind
from runtime.outbox import DeliveryStatus
from tests.support.databases import migration_drift
from tests.unit.drs.fakes import (
    ME,
    MUT_100,
    NOW,
    OTHER_WORKER,
    RETAIL,
    STATE,
    STATE_CALLER,
    TODAY,
    WORKER,
    FakeNetwork,
    clock,
    end_of_contract,
    risks,
    submission,
)

pytestmark = pytest.mark.storage

YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    load(database)
    yield database
    database.dispose()


def _rules(db: Database, network: FakeNetwork | None = None) -> Declarations:
    return Declarations(
        unit_factory(db), unit_factory(db, write=False), network or FakeNetwork(), clock()
    )


def _count(db: Database, table: str) -> int:
    with db.read() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())  # noqa: S608


def _outbox_rows(db: Database) -> list[sa.Row]:
    with db.read() as conn:
        return list(conn.execute(sa.select(OUTBOX).order_by(OUTBOX.c.created_at)))


def test_every_scenario_is_stored_and_read_back_whole(db: Database) -> None:
    rules = _rules(db)
    stored = []
    for n, (scenario, (risk, day)) in enumerate(risks().items()):
        if scenario is Scenario.WORK_ACCIDENT:
            risk = WorkAccident("Dock 2", "Crushed a finger.\nFirst aid.", ETHIAS_KBO, "AT/1", True)
        quarters = (QuarterPay(2026, 4, 100, 760, 15_000), QuarterPay(2026, 3, 1, 2, 3))
        d = rules.submit(
            STATE_CALLER,
            submission(risk, day, employer=STATE, reference=f"s{n}", quarters=quarters),
        )
        assert d.status is Status.ACCEPTED, d.anomalies
        stored.append(d)
    with unit_factory(db, write=False)() as unit:
        for d in stored:
            again = unit.declarations.by_reference(STATE, d.reference)
            assert again == d, d.scenario
    rows = _outbox_rows(db)
    assert [(r.kind, r.destination, r.legal_context) for r in rows] == [
        ("unemployment.c4", "onem", "drs.unemployment"),
        ("unemployment.temporary", "onem", "drs.unemployment"),
        ("unemployment.temporary-hours", "onem", "drs.unemployment"),
        ("sickness.zima-001", "", "drs.sickness"),
        ("sickness.zima-006", "", "drs.sickness"),
        ("work-accident.declaration", "ethias", "drs.work-accident"),
    ]
    assert all(r.payload_type == "application/json" and r.subject_insz == WORKER for r in rows)
    assert json.loads(rows[-1].payload)["risk"]["on_the_way"] is True


def test_a_refused_declaration_is_stored_with_its_anomalies_and_no_attestation(
    db: Database,
) -> None:
    d = _rules(db).submit(ME, submission(Incapacity(YESTERDAY), TODAY))
    assert d.status is Status.REFUSED
    with unit_factory(db, write=False)() as unit:
        again = unit.declarations.by_reference(RETAIL, "ref-1")
    assert again == d and [a.code for a in again.anomalies] == ["NO_REQUEST"]
    assert again.attestation_status is AttestationStatus.NONE
    assert _count(db, "outbox_attestation") == 0


def test_the_outbox_status_is_shown_with_the_declaration_when_it_changes(db: Database) -> None:
    d = _rules(db).submit(ME, submission(end_of_contract(), TODAY))
    assert d.attestation_status is AttestationStatus.PENDING
    for status in ("DELIVERED", "ACKNOWLEDGED", "DEAD_LETTERED"):
        with db.write() as conn:
            conn.execute(
                sa.update(OUTBOX).where(OUTBOX.c.id == d.attestation_id).values(status=status)
            )
        with unit_factory(db, write=False)() as unit:
            shown = unit.declarations.by_reference(RETAIL, "ref-1")
        assert shown is not None and shown.attestation_status.value == status
    # Purged after delivery (the outbox's retention): shown as delivered.
    with db.write() as conn:
        conn.execute(sa.delete(OUTBOX))
    with unit_factory(db, write=False)() as unit:
        [shown] = unit.declarations.newest(RETAIL, None, 10)
    assert shown.attestation_status is AttestationStatus.DELIVERED
    assert drs_outbox().status(db, d.attestation_id) is None


def test_the_attestation_is_not_queued_when_the_declarations_transaction_rolls_back(
    db: Database,
) -> None:
    rules = _rules(db)

    class Boom(Exception):
        pass

    units = unit_factory(db)

    def failing_units():  # noqa: ANN202
        from contextlib import contextmanager

        @contextmanager
        def unit():  # noqa: ANN202
            with units() as u:
                enqueue = u.attestations.enqueue

                def then_fail(attestation: object) -> None:
                    enqueue(attestation)  # type: ignore[arg-type]
                    raise Boom()

                u.attestations.enqueue = then_fail  # type: ignore[method-assign]
                yield u

        return unit()

    rules._units = failing_units  # noqa: SLF001
    with pytest.raises(Boom):
        rules.submit(ME, submission(end_of_contract(), TODAY))
    assert _count(db, "declaration") == 0 and _count(db, "outbox_attestation") == 0


def test_a_dispatched_attestation_is_what_the_outbox_delivers(db: Database) -> None:
    d = _rules(db).submit(ME, submission(end_of_contract(), TODAY))
    outbox = drs_outbox()
    entry = outbox.status(db, d.attestation_id)
    assert entry is not None and entry.status is DeliveryStatus.PENDING
    assert entry.reference_date == TODAY and entry.legal_context == "drs.unemployment"
    assert json.loads(entry.payload)["declaration"] == f"employers/{RETAIL}/declarations/ref-1"


def test_tasks_are_listed_open_first_and_answered_once_when_stored(db: Database) -> None:
    requests = Requests(unit_factory(db), clock())
    tasks = [
        requests.request(
            MUT_100,
            f"6f1c2d3e-4a5b-4c6d-8e7f-{n:012d}",
            RETAIL,
            WORKER,
            Scenario.SICKNESS_INCAPACITY,
            TODAY - dt.timedelta(days=n),
        )
        for n in range(3)
    ]
    assert requests.request(
        MUT_100, "6f1c2d3e-4a5b-4c6d-8e7f-000000000000", RETAIL, WORKER,
        Scenario.SICKNESS_INCAPACITY, TODAY,
    ) == tasks[0]  # fmt: skip
    d = _rules(db).submit(ME, submission(Incapacity(YESTERDAY), TODAY))
    assert d.task == tasks[0].id and d.status is Status.ACCEPTED
    page = DrsQueries(unit_factory(db, write=False), clock()).list_tasks(
        ME, f"employers/{RETAIL}", 0, ""
    )
    assert [(t.id, t.state) for t in page.items] == [
        (tasks[1].id, TaskState.OPEN),
        (tasks[2].id, TaskState.OPEN),
        (tasks[0].id, TaskState.DONE),
    ]
    assert page.items[-1].declaration == "ref-1"
    assert page.items[0].requested_at == NOW


def _race(targets: list) -> list[object]:  # noqa: ANN001
    outcomes: list[object] = [None] * len(targets)

    def run(i: int) -> None:
        try:
            outcomes[i] = targets[i]()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_the_same_reference_submitted_twice_at_once_is_stored_once(db: Database) -> None:
    network = FakeNetwork()
    barrier = threading.Barrier(2)
    network.during_employment = lambda: barrier.wait(timeout=20)
    rules = _rules(db, network)
    outcomes = _race([lambda: rules.submit(ME, submission(end_of_contract(), TODAY))] * 2)
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert outcomes[0] == outcomes[1]
    assert _count(db, "declaration") == 1 and _count(db, "outbox_attestation") == 1


def test_two_declarations_answering_one_task_at_once_have_one_winner(db: Database) -> None:
    Requests(unit_factory(db), clock()).request(
        MUT_100, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab", RETAIL, WORKER,
        Scenario.SICKNESS_INCAPACITY, TODAY,
    )  # fmt: skip
    network = FakeNetwork()
    barrier = threading.Barrier(2)
    network.during_employment = lambda: barrier.wait(timeout=20)
    rules = _rules(db, network)
    outcomes = _race(
        [
            lambda: rules.submit(ME, submission(Incapacity(YESTERDAY), TODAY, reference="a")),
            lambda: rules.submit(ME, submission(Incapacity(YESTERDAY), TODAY, reference="b")),
        ]
    )
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    statuses = sorted(o.status.value for o in outcomes)  # type: ignore[attr-defined]
    # The loser saw the task DONE and was judged again: no request left.
    assert statuses == ["ACCEPTED", "REFUSED"]
    assert _count(db, "outbox_attestation") == 1
    with db.read() as conn:
        states = conn.execute(sa.text("SELECT state, declaration FROM task")).all()
    assert len(states) == 1 and states[0][0] == "DONE"


def test_the_same_request_twice_at_once_makes_one_task(db: Database) -> None:
    requests = Requests(unit_factory(db), clock())

    def ask():  # noqa: ANN202
        return requests.request(
            MUT_100, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab", RETAIL, WORKER,
            Scenario.SICKNESS_INCAPACITY, TODAY,
        )  # fmt: skip

    outcomes = _race([ask] * 4)
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert len({o.id for o in outcomes}) == 1  # type: ignore[attr-defined]
    assert _count(db, "task") == 1


def test_the_seed_flags_destha_employers_and_lists_the_insurer_when_loaded(db: Database) -> None:
    assert load(db) == (0, 0)  # the fixture loaded it already: nothing more
    with unit_factory(db, write=False)() as unit:
        assert unit.employers.get(STATE).spontaneous_sickness  # type: ignore[union-attr]
        assert not unit.employers.get(RETAIL).spontaneous_sickness  # type: ignore[union-attr]
        assert unit.employers.has_mandate(RETAIL, "0314595348", TODAY)
        ethias = unit.insurers.get(ETHIAS_KBO)
    assert ethias is not None and ethias.institution == "ethias"
    with db.read() as conn:
        flagged = conn.execute(
            sa.text("SELECT count(*) FROM employer WHERE spontaneous_sickness")
        ).scalar()
    assert 2 <= int(flagged) < _count(db, "employer")


def test_a_workers_declarations_by_every_employer_are_read_newest_first_in_pages(
    db: Database,
) -> None:
    rules = _rules(db)
    jan = "70020304588"
    acting = Caller(PartyKind.EMPLOYER, RETAIL, via_gateway=True, person=jan, role="declarant")
    rules.submit(ME, submission(end_of_contract(), TODAY, reference="r0"))
    rules.submit(STATE_CALLER, submission(end_of_contract(), TODAY, employer=STATE, reference="s0"))
    rules.submit(ME, submission(end_of_contract(), TODAY, reference="o0", insz=OTHER_WORKER))
    risk, day = risks()[Scenario.WORK_ACCIDENT]
    portal = rules.submit(acting, submission(risk, day, reference="r1"))
    assert (portal.submitted_by, portal.acting_person) == (ME.uri, jan)
    with unit_factory(db, write=False)() as unit:
        assert unit.declarations.by_reference(RETAIL, "r1") == portal
        assert unit.declarations.by_reference(RETAIL, "r0").acting_person == ""
        first = unit.declarations.of_worker(WORKER, None, 2)
        rest = unit.declarations.of_worker(WORKER, first[-1].id, 2)
        other = unit.declarations.of_worker(OTHER_WORKER, None, 10)
    assert [(d.employer, d.reference) for d in first + rest] == [
        (RETAIL, "r1"),
        (STATE, "s0"),
        (RETAIL, "r0"),
    ]
    assert first[0].attestation_status is AttestationStatus.PENDING
    assert first[0].attestation_kind == "work-accident.declaration"
    assert [d.reference for d in other] == ["o0"]
    # Through the rules: the same, the acting person left out.
    queries = DrsQueries(unit_factory(db, write=False), clock())
    page = queries.list_worker_declarations(WORKER, 2, "")
    last = queries.list_worker_declarations(WORKER, 2, page.next_page_token)
    assert [d.reference for d in page.items + last.items] == ["r1", "s0", "r0"]
    assert last.next_page_token == "" and {d.acting_person for d in page.items} == {""}


def test_a_worker_query_uses_its_index_on_postgresql(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        with db.read() as conn:
            plan = conn.execute(
                sa.text(
                    "EXPLAIN QUERY PLAN SELECT id FROM declaration WHERE insz = :i "
                    "ORDER BY id DESC LIMIT 3"
                ),
                {"i": WORKER},
            ).all()
        assert "ix_declaration_insz_id" in " ".join(str(r) for r in plan)
        return
    with db.read() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = conn.execute(
            sa.text("EXPLAIN SELECT id FROM declaration WHERE insz = :i ORDER BY id DESC LIMIT 3"),
            {"i": WORKER},
        ).all()
    assert "ix_declaration_insz_id" in " ".join(r[0] for r in plan)


def test_the_migrations_match_the_models_when_applied(database_url: str) -> None:
    from drs.storage.models import Base

    assert migration_drift(database_url, MIGRATIONS, Base.metadata) == []
