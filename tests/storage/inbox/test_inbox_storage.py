"""An inbox's repository and rules on the production engine (SQLite, or PostgreSQL with
TEST_DATABASE_URL): stored content round-trips, filters and pages, the id is unique, and
concurrent deliveries of one attestation store it once and answer alike."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

from inbox.service.inbox import Inbox
from inbox.service.model import Attestation, ListQuery, State
from inbox.storage import MIGRATIONS
from inbox.storage.repository import unit_factory
from runtime.clock import SystemClock
from runtime.db import Database
from runtime.errors import ConflictError

pytestmark = pytest.mark.storage

T0 = dt.datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def db(database_url: str):  # noqa: ANN201
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


def _att(kind: str = "unemployment.c4", day: dt.date = dt.date(2026, 11, 2)) -> Attestation:
    return Attestation(
        id=str(uuid.uuid4()),
        kind=kind,
        subject_insz="85071412330",
        reference_date=day,
        sender="onss",
        created_at=T0,
        payload=b"\x00\xff{}",
        payload_type="application/octet-stream",
        received_at=T0,
        router_ticket=str(uuid.uuid4()),
    )


def test_content_and_digest_round_trip_when_stored(db: Database) -> None:
    att = _att()
    with unit_factory(db)() as unit:
        unit.attestations.add(att)
    with unit_factory(db, write=False)() as unit:
        back = unit.attestations.get(att.id)
    assert back is not None and back.seq > 0
    assert back.created_at == T0 and back.received_at == T0 and back.payload == att.payload
    assert back.digest() == att.digest()


def test_a_second_row_with_the_same_id_loses_when_inserted(db: Database) -> None:
    att = _att()
    with unit_factory(db)() as unit:
        unit.attestations.add(att)
    with pytest.raises(ConflictError), unit_factory(db)() as unit:
        unit.attestations.add(att)


def test_filters_and_order_apply_when_paging(db: Database) -> None:
    atts = [
        _att("unemployment.c4", dt.date(2026, 1, 5)),
        _att("sickness.zima-001", dt.date(2026, 2, 5)),
        _att("unemployment.c4", dt.date(2026, 3, 5)),
    ]
    with unit_factory(db)() as unit:
        for a in atts:
            unit.attestations.add(a)
        unit.attestations.acknowledge(
            Attestation(**{**atts[2].__dict__, "state": State.ACKNOWLEDGED, "acknowledged_at": T0})
        )
    with unit_factory(db, write=False)() as unit:
        repo = unit.attestations
        assert [a.id for a in repo.page(ListQuery(), 0, 10)] == [a.id for a in atts]
        assert [a.id for a in repo.page(ListQuery(kind="unemployment.c4"), 0, 10)] == [
            atts[0].id,
            atts[2].id,
        ]
        assert [a.id for a in repo.page(ListQuery(state=State.RECEIVED), 0, 10)] == [
            atts[0].id,
            atts[1].id,
        ]
        window = ListQuery(reference_from=dt.date(2026, 2, 1), reference_to=dt.date(2026, 3, 5))
        assert [a.id for a in repo.page(window, 0, 10)] == [atts[1].id, atts[2].id]
        first = repo.page(ListQuery(), 0, 1)[0]
        assert [a.id for a in repo.page(ListQuery(), first.seq, 10)] == [atts[1].id, atts[2].id]
        acked = repo.get(atts[2].id)
        assert acked.state is State.ACKNOWLEDGED and acked.acknowledged_at == T0


def test_stored_once_and_answered_alike_when_deliveries_race(db: Database) -> None:
    inbox = Inbox("onem", unit_factory(db), unit_factory(db, write=False), SystemClock())
    att = _att()
    answers, errors = [], []
    barrier = threading.Barrier(6)

    def deliver(i: int) -> None:
        barrier.wait()
        try:
            answers.append(inbox.deliver(att, "onss", f"ticket-{i}"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({(a.id, a.received_at, a.router_ticket) for a in answers}) == 1
    page, _ = inbox.list("inboxes/onem", ListQuery(), 10, "")
    assert [a.id for a in page] == [att.id]


@pytest.mark.parametrize("which", ["inbox", "sender"])
def test_the_migrations_match_the_models_when_applied(database_url: str, which: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from inbox import sender
    from inbox.storage.models import Base

    migrations, target = (
        (MIGRATIONS, Base.metadata) if which == "inbox" else (sender.MIGRATIONS, sender.METADATA)
    )
    database = Database(database_url)
    try:
        database.migrate(migrations)
        with database.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), target)
    finally:
        database.dispose()
    assert diff == []
