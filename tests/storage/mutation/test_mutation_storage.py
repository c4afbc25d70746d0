"""The mutation service's database: migrations match the models, the source position moves by
compare-and-set, a fan-out's notifications are all or nothing, stream acknowledgements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mutation.seed.command import load
from mutation.service.fanout import FanOut
from mutation.service.model import Change, Delivery, Holder, Page, StreamEntry
from mutation.storage import MIGRATIONS
from mutation.storage.models import Base
from mutation.storage.repository import mutation_outbox, unit_factory
from runtime import faults
from runtime.db import Database
from runtime.errors import ConflictError

pytestmark = pytest.mark.storage

DAY = dt.date(2026, 5, 4)
MAN, WOMAN = "85071412330", "03020100274"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    load(database)  # onem 18/1 18/4, cin 11/1 (INBOX), famiwal 7/104 (STREAM)
    try:
        yield database
    finally:
        database.dispose()


def _change(sequence: int, insz: str) -> Change:
    return Change(
        "registry", sequence, "person.address-changed", insz, DAY, DAY, lambda i: i.encode()
    )


class Source:
    name = "registry"

    def __init__(self, changes: list[Change]) -> None:
        self.changes = changes

    def read(self, after: int, limit: int) -> Page:
        found = [c for c in self.changes if c.sequence > after][:limit]
        last = max((c.sequence for c in self.changes), default=0)
        return Page(found, found[-1].sequence if found else after, last)


class Directory:
    held = {
        MAN: [Holder("onem", "18/1", dt.date(2024, 1, 1), None), Holder("cin", "11/1", DAY, None)],
        WOMAN: [Holder("famiwal", "7/104", dt.date(2003, 2, 1), None)],
    }

    def holders(self, queries: Sequence[tuple[str, dt.date, dt.date]]) -> list[tuple[int, Holder]]:
        return [(i, h) for i, (insz, _, _) in enumerate(queries) for h in self.held.get(insz, [])]

    def move(self, old: str, new: str) -> int:
        return 0


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_position_moves_only_from_where_it_was_read(db: Database) -> None:
    units = unit_factory(db, mutation_outbox())
    with units() as unit:
        unit.advance("registry", 0, 5, 9)
    with pytest.raises(ConflictError), units() as unit:
        unit.advance("registry", 0, 7, 9)  # a pass that read 0 lost the race
    with units(write=False) as unit:
        assert unit.position("registry").sequence == 5


def test_a_pass_queues_inbox_and_stream_notifications_with_its_position_or_nothing(
    db: Database,
) -> None:
    units = unit_factory(db, mutation_outbox())
    fanout = FanOut(units, Directory())
    source = Source([_change(1, MAN), _change(2, WOMAN)])
    faults.install(faults.FaultPlan.parse("mutation.before_commit:#1"))
    try:
        with pytest.raises(faults.InjectedFault):
            fanout.step(source)
    finally:
        faults.install(None)
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM outbox_attestation")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM stream_notification")).scalar() == 0
    assert fanout.step(source) == 2
    assert fanout.step(source) == 0  # taken: nothing again
    with db.engine.connect() as conn:
        inbox = conn.execute(sa.text("SELECT destination FROM outbox_attestation")).scalars()
        assert sorted(inbox) == ["cin", "onem"]
        kept = conn.execute(sa.text("SELECT institution, insz FROM stream_notification")).all()
        assert kept == [("famiwal", WOMAN)]
    with units(write=False) as unit:
        assert unit.position("registry").sequence == 2


def test_stream_acknowledgements_only_move_forward(db: Database) -> None:
    units = unit_factory(db, mutation_outbox())
    with units() as unit:
        ident = "00000000-0000-4000-8000-00000000000{}"
        unit.append_stream(
            [
                StreamEntry("famiwal", ident.format(i), "person.name-changed", WOMAN, b"x")
                for i in range(3)
            ]
        )
    with units() as unit:
        assert unit.deliveries()["famiwal"] is Delivery.STREAM
        last = unit.last_stream_sequence("famiwal")
        unit.acknowledge("famiwal", last - 1)
        unit.acknowledge("famiwal", last - 2)  # earlier: no change
        assert unit.acknowledged("famiwal") == last - 1
        assert unit.unacknowledged("famiwal", last - 1) == 1
        assert [s for s, _ in unit.stream_after("famiwal", last - 2, 10)] == [last - 1, last]
    with units(write=False) as unit:
        lag = [lag for lag in unit.lags() if lag.institution == "famiwal"][0]
        assert (lag.delivery, lag.pending, lag.acknowledged) == (Delivery.STREAM, 1, 2)


def test_retention_purges_only_what_is_delivered_or_acknowledged(db: Database) -> None:
    from mutation.retention import purge

    units = unit_factory(db, mutation_outbox())
    fanout = FanOut(units, Directory())
    fanout.step(Source([_change(1, MAN), _change(2, WOMAN)]))  # onem, cin; famiwal (stream)
    with db.engine.begin() as conn:  # ONEM's was delivered; cin's is still pending
        conn.execute(
            sa.text(
                "UPDATE outbox_attestation SET status = 'DELIVERED', delivered_at = :at"
                " WHERE destination = 'onem'"
            ),
            {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert purge(db, later) == (1, 0)  # famiwal's stream notification is not acknowledged
    with units() as unit:
        unit.acknowledge("famiwal", unit.last_stream_sequence("famiwal"))
    assert purge(db, later) == (0, 1)
    with db.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT destination, status FROM outbox_attestation")).all()
    assert left == [("cin", "PENDING")]
