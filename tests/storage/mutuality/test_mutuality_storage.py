"""A mutuality's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): the migration, the
affiliation periods of a person, and what remains to integrate at the hub."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from mutuality.service.model import Affiliation, Insurability, Role
from mutuality.storage import MIGRATIONS
from mutuality.storage.repository import unit_factory
from runtime.db import Database

pytestmark = pytest.mark.storage

MAN, WOMAN = "85071412330", "03020100274"
AT = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    database.migrate(MIGRATIONS)  # idempotent
    yield database
    database.dispose()


def _a(insz: str, since: dt.date, until: dt.date | None = None) -> Affiliation:
    return Affiliation("mut-100", insz, since, until, Role.DEPENDENT, Insurability.SUSPENDED)


def test_periods_of_a_person_come_back_in_order_when_stored(db: Database) -> None:
    unit = unit_factory(db, "mut-100")
    with unit() as u:
        u.affiliations.add_all(
            [_a(MAN, dt.date(2015, 1, 1)), _a(MAN, dt.date(2003, 9, 1), dt.date(2010, 12, 31))]
        )
        u.affiliations.add_all([_a(WOMAN, dt.date(2021, 2, 1))])
    with unit_factory(db, "mut-100", write=False)() as u:
        periods = u.affiliations.for_person(MAN)
        assert u.affiliations.count() == 3
    assert [(p.since, p.until) for p in periods] == [
        (dt.date(2003, 9, 1), dt.date(2010, 12, 31)),
        (dt.date(2015, 1, 1), None),
    ]
    assert periods[0] == _a(MAN, dt.date(2003, 9, 1), dt.date(2010, 12, 31))
    assert periods[0].name == f"mutualities/mut-100/members/{MAN}"


def test_only_unmarked_affiliations_are_pending_when_a_batch_was_integrated(db: Database) -> None:
    unit = unit_factory(db, "mut-100")
    with unit() as u:
        u.affiliations.add_all([_a(MAN, dt.date(2015, 1, 1)), _a(WOMAN, dt.date(2021, 2, 1))])
    with unit() as u:
        first = u.affiliations.not_integrated(1)
        assert [a.insz for a in first] == [WOMAN]  # INSZ order: "03…" before "85…"
        u.affiliations.mark_integrated(first, AT)
    with unit() as u:
        assert [a.insz for a in u.affiliations.not_integrated(10)] == [MAN]
        assert u.affiliations.for_person(WOMAN)[0].integrated_at == AT


def test_a_failed_unit_writes_nothing_when_it_raises(db: Database) -> None:
    unit = unit_factory(db, "mut-100")
    with pytest.raises(RuntimeError), unit() as u:
        u.affiliations.add_all([_a(MAN, dt.date(2015, 1, 1))])
        raise RuntimeError("boom")
    with unit() as u:
        assert u.affiliations.count() == 0
