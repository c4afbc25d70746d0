"""The registry's storage on SQLite and on PostgreSQL (TEST_DATABASE_URL): migrations, the seed
loader, SQL search order and prefixes, BIS exhaustion and rollback on the real engine.

Repository tests run inside an outer transaction (`join_transaction_mode="create_savepoint"`)
that is rolled back, so they share one migrated database per module.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.seed.command import SeedConflict, load
from registry.seed.population import FIXED_MAN, FIXED_PERSONS
from registry.service import bis
from registry.service.changes import BisRegistration, RegistryChanges
from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    InszKind,
    PartialDate,
    PersonRecord,
    Sex,
)
from registry.service.names import normalise_first_names, normalise_name
from registry.service.tokens import SearchFilters
from registry.storage import MIGRATIONS
from registry.storage.bulk import BulkWriter
from registry.storage.repository import SqlRegistryUnit, prefix_end, unit_factory
from runtime.clock import FixedClock
from runtime.db import Database
from runtime.errors import FailedPrecondition
from runtime.identifiers import make_insz
from runtime.identity import Caller, PartyKind

pytestmark = pytest.mark.storage

CBSS = Caller(PartyKind.INSTITUTION, "cbss")
CLOCK = FixedClock(dt.datetime(2025, 6, 15, 10, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def db(module_database_url: str) -> Iterator[Database]:
    database = Database(module_database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


@pytest.fixture
def unit(db: Database) -> Iterator[SqlRegistryUnit]:
    """A unit over a session whose outer transaction is rolled back after the test."""
    with db.engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield SqlRegistryUnit(session)
        finally:
            session.close()
            outer.rollback()


def person(
    serial: int, last: str, firsts: tuple[str, ...] = ("Jan",), **changes: object
) -> PersonRecord:
    fields: dict[str, object] = {
        "insz": make_insz(birth_year=1970, birth_month=3, birth_day=3, serial=serial),
        "kind": InszKind.NATIONAL_REGISTER,
        "last_name": last,
        "first_names": firsts,
        "sex": Sex.MALE if serial % 2 else Sex.FEMALE,
        "birth_date": PartialDate(1970, 3, 3),
        "civil_state": CivilState.SINGLE,
    }
    fields.update(changes)
    return PersonRecord(**fields)  # type: ignore[arg-type]


def test_backend_is_the_one_tests_were_asked_for_when_checked(db: Database) -> None:
    assert db.is_sqlite == (os.environ.get("TEST_DATABASE_URL") is None)


def test_migrations_are_idempotent_when_run_twice(db: Database) -> None:
    db.migrate(MIGRATIONS)
    with db.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0001"
        assert conn.scalar(sa.text("SELECT value FROM mutation_counter WHERE id = 1")) == 0


# -- SQL order and prefixes ------------------------------------------------------------------------

TRICKY = [
    "Lefèvre", "LEFEVRE", "Lefebvre", "Lefévre-Dubois", "Le Fèvre", "L'Efèvre", "Lef", "Leg",
    "Leœuvre", "Lefſ", "Lefß", "Lef9", "Lef ", "Lef\u00a0x", "Lefø", "Lefz", "Lefª", "Lefア",
]  # fmt: skip
FIRSTS = ("Émile", "zoë", "Anne")


def test_search_order_is_code_point_order_when_names_are_tricky(unit: SqlRegistryUnit) -> None:
    for i, name in enumerate(TRICKY):
        unit.persons.add(person(2 * i + 1, name, (FIRSTS[i % 3],)))
    hits = unit.persons.search(SearchFilters("le"), None, 100)
    expected = sorted(
        (
            normalise_name(name),
            normalise_first_names([FIRSTS[i % 3]]),
            person(2 * i + 1, name).insz,
        )
        for i, name in enumerate(TRICKY)
        if normalise_name(name).startswith("le")
    )
    assert len(expected) == len(TRICKY) - 1  # all but L'Efèvre
    assert [h.position for h in hits] == expected
    # Keyset pages of one give the same sequence.
    after, walked = None, []
    while page := unit.persons.search(SearchFilters("le"), after, 1):
        walked.append(page[0].position)
        after = page[0].position
    assert walked == expected


@pytest.mark.parametrize("prefix", ["lef", "lefe", "le f", "lefß", "lefs", "leg", "lefz", "l'"])
def test_prefix_matches_exactly_the_names_starting_with_it_when_searched(
    unit: SqlRegistryUnit, prefix: str
) -> None:
    for i, name in enumerate(TRICKY):
        unit.persons.add(person(2 * i + 1, name))
    found = {
        h.person.insz for h in unit.persons.search(SearchFilters(normalise_name(prefix)), None, 100)
    }
    expected = {
        person(2 * i + 1, n).insz
        for i, n in enumerate(TRICKY)
        if normalise_name(n).startswith(normalise_name(prefix))
    }
    assert found == expected


def test_first_name_filter_escapes_wildcards_when_name_contains_them(unit: SqlRegistryUnit) -> None:
    unit.persons.add(person(1, "Maes", ("Jan",)))
    unit.persons.add(person(3, "Maes", ("J%n",)))
    unit.persons.add(person(5, "Maes", ("J_n",)))
    found = unit.persons.search(SearchFilters("maes", "j%"), None, 10)
    assert [h.person.first_names for h in found] == [("J%n",)]


def test_prefix_end_is_greater_than_every_extension_when_computed() -> None:
    for prefix in ["a", "lef", "z\U0010ffff", "\ud7ff", "é"]:
        end = prefix_end(prefix)
        assert end > prefix and end > prefix + "\U0010ffff" * 3


def test_replacement_moves_addresses_and_repoints_chain_when_done_in_sql(
    unit: SqlRegistryUnit,
) -> None:
    first, second, third = (
        make_insz(birth_year=1970, birth_month=3, birth_day=3, serial=s) for s in (101, 103, 105)
    )
    unit.persons.add(
        person(101, "Maes"),
        [AddressPeriod(Address("Meir", "1", "", "2000", "Antwerpen", "BE"), dt.date(2000, 1, 1))],
    )
    unit.persons.replace(first, second, InszKind.NATIONAL_REGISTER)
    unit.persons.replace(second, third, InszKind.NATIONAL_REGISTER)
    assert unit.persons.get(first).replaced_by == third
    assert unit.persons.get(second).replaced_by == third
    assert unit.persons.replaces(third) == [first, second]
    assert unit.persons.current_address(third).address.street == "Meir"
    assert unit.persons.address_history(first) == []
    assert unit.persons.numbers_with_prefix("700303") == [first, second, third]


# -- units of work on the real engine --------------------------------------------------------------


def test_bis_registration_fails_without_writing_when_serials_are_exhausted(db: Database) -> None:
    birth = PartialDate(1944, 4, 4)
    with db.unit_of_work() as session:
        BulkWriter(session.connection()).persons(
            [
                person(
                    1,
                    "Full",
                    insz=bis.bis_number(birth, Sex.MALE, s),
                    kind=InszKind.BIS_SEX_KNOWN,
                    birth_date=birth,
                )
                for s in range(1, 998, 2)
            ]
        )
    changes = RegistryChanges(unit_factory(db), CLOCK)
    command = BisRegistration("exhausted", "Nowak", ("Jan",), Sex.MALE, birth)
    with pytest.raises(FailedPrecondition) as err:
        changes.register_bis(CBSS, command)
    assert err.value.reason == "BIS_SERIALS_EXHAUSTED"
    with db.unit_of_work(write=False) as session:
        assert session.scalar(sa.text("SELECT value FROM mutation_counter")) == 0
        assert session.scalar(sa.text("SELECT count(*) FROM idempotency_key")) == 0
    female = changes.register_bis(CBSS, BisRegistration("f", "Nowak", ("Ewa",), Sex.FEMALE, birth))
    assert female.insz == bis.bis_number(birth, Sex.FEMALE, 2)


# -- the seed loader -------------------------------------------------------------------------------


def test_seed_loads_once_when_run_twice(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate(MIGRATIONS)
        progress: list[int] = []
        first = load(db, count=250, seed=3, on_progress=progress.append)
        assert first.loaded and sum(progress) == 250 + sum(
            p.record.replaced_by is None for p in FIXED_PERSONS
        )
        again = load(db, count=250, seed=3)
        assert not again.loaded and again.run.persons == first.run.persons
        with db.unit_of_work(write=False) as session:
            assert session.scalar(sa.text("SELECT count(*) FROM person")) == first.run.persons
            assert session.scalar(sa.text("SELECT count(*) FROM address")) == first.run.addresses
            assert session.scalar(sa.text("SELECT count(*) FROM mutation_event")) == 0
            assert (
                session.scalar(
                    sa.text("SELECT last_name FROM person WHERE insz = :i"), {"i": FIXED_MAN}
                )
                == "Peeters"
            )
        for other in ({"count": 251, "seed": 3}, {"count": 250, "seed": 4}):
            with pytest.raises(SeedConflict):
                load(db, **other)
    finally:
        db.dispose()


def test_seed_refuses_when_register_already_holds_persons(database_url: str) -> None:
    db = Database(database_url)
    try:
        db.migrate(MIGRATIONS)
        with unit_factory(db)() as unit:
            unit.persons.add(person(1, "Maes"))
        with pytest.raises(SeedConflict):
            load(db, count=10, seed=1)
    finally:
        db.dispose()
