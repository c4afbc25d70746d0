"""The registry's repositories and unit of work over SQL (SQLite or PostgreSQL).

Repositories run SQLAlchemy Core statements on the unit of work's session, so every statement
reaches the database when it is called (no deferred flush): a unique-key race shows up where it
happens and is raised as runtime.errors.ConflictError by the unit of work. They never commit.

Locks: `persons.lock()` is `SELECT … FOR UPDATE` of the person's row, `events.lock()` of the
counter row, and `events.next_sequence()` is `UPDATE mutation_counter SET value = value + 1
RETURNING value`, which keeps the counter row locked until commit on PostgreSQL; on SQLite every
write unit of work starts with BEGIN IMMEDIATE and is therefore serialised as a whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    InszKind,
    MutationEvent,
    MutationKind,
    NumberStatus,
    PartialDate,
    PersonRecord,
    PersonSummary,
    Sex,
    values_from_json,
    values_to_json,
)
from registry.service.names import normalise_first_names, normalise_name
from registry.service.ports import IdempotencyRecord, SearchHit
from registry.service.tokens import Position, SearchFilters
from registry.storage.models import (
    AddressRow,
    IdempotencyKeyRow,
    MutationCounterRow,
    MutationEventRow,
    PersonRow,
)
from runtime.db import Database

_person = PersonRow.__table__
_address = AddressRow.__table__
_event = MutationEventRow.__table__
_counter = MutationCounterRow.__table__
_idempotency = IdempotencyKeyRow.__table__


#: PostgreSQL errors that mean "another transaction got in the way; run it again".
def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# -- row <-> domain ------------------------------------------------------------------------------


def person_values(person: PersonRecord) -> dict[str, Any]:
    """The `person` row of a record (also used by the bulk loader)."""
    birth = person.birth_date
    return {
        "insz": person.insz,
        "kind": person.kind.value,
        "last_name": person.last_name,
        "first_names": list(person.first_names),
        "last_name_norm": normalise_name(person.last_name),
        "first_names_norm": normalise_first_names(person.first_names),
        "sex": person.sex.value,
        "birth_year": birth.year,
        "birth_month": birth.month,
        "birth_day": birth.day,
        "birth_place": person.birth_place,
        "birth_country": person.birth_country,
        "nationality": person.nationality,
        "civil_state": person.civil_state.value,
        "name_since": person.name_since,
        "death_date": person.death_date,
        "death_place": person.death_place,
        "replaced_by": person.replaced_by,
    }


def address_values(insz: str, period: AddressPeriod) -> dict[str, Any]:
    """The `address` row of a period (also used by the bulk loader)."""
    a = period.address
    return {
        "insz": insz,
        "street": a.street,
        "house_number": a.house_number,
        "box": a.box,
        "postcode": a.postcode,
        "municipality": a.municipality,
        "country_code": a.country_code,
        "start_date": period.start,
        "end_date": period.end,
    }


def _record(row: sa.Row[Any]) -> PersonRecord:
    return PersonRecord(
        insz=row.insz,
        kind=InszKind(row.kind),
        last_name=row.last_name,
        first_names=tuple(row.first_names),
        sex=Sex(row.sex),
        birth_date=PartialDate(row.birth_year, row.birth_month, row.birth_day),
        birth_place=row.birth_place,
        birth_country=row.birth_country,
        nationality=row.nationality,
        civil_state=CivilState(row.civil_state),
        name_since=row.name_since,
        death_date=row.death_date,
        death_place=row.death_place,
        replaced_by=row.replaced_by,
    )


def _period(row: sa.Row[Any]) -> AddressPeriod:
    return AddressPeriod(
        Address(
            row.street,
            row.house_number,
            row.box,
            row.postcode,
            row.municipality,
            row.country_code,
        ),
        row.start_date,
        row.end_date,
    )


def _event_of(row: sa.Row[Any]) -> MutationEvent:
    return MutationEvent(
        sequence=row.sequence,
        insz=row.insz,
        kind=MutationKind(row.kind),
        effective_date=row.effective_date,
        recorded_at=_utc(row.recorded_at),
        before=values_from_json(row.values_before),
        after=values_from_json(row.values_after),
        recorded_by=row.recorded_by,
    )


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix` (non-empty)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no surrogates in real text: skip the block
        last = 0xE000
    if last > 0x10FFFF:
        return prefix_end(prefix[:-1]) if len(prefix) > 1 else "\U0010ffff" * 2
    return prefix[:-1] + chr(last)


# -- repositories --------------------------------------------------------------------------------


# The hot read statements are built once: building a select() costs more Python time than
# SQLite takes to answer it (measured with `make bench`: GetPerson was spending most of its CPU
# constructing the same three statements on every call).
_GET_PERSON = sa.select(_person).where(_person.c.insz == sa.bindparam("insz"))
_ADDRESS_ON = (
    sa.select(_address)
    .where(
        _address.c.insz == sa.bindparam("insz"),
        _address.c.start_date <= sa.bindparam("day"),
        sa.or_(_address.c.end_date.is_(None), _address.c.end_date >= sa.bindparam("day")),
    )
    .order_by(_address.c.start_date.desc(), _address.c.id.desc())
    .limit(1)
)
_GET_WITH_REPLACED = sa.select(_person).where(
    sa.or_(_person.c.insz == sa.bindparam("insz"), _person.c.replaced_by == sa.bindparam("insz"))
)
_LIST_STATUSES = (
    sa.select(_person.c.insz, _person.c.kind, _person.c.death_date, _person.c.replaced_by)
    .where(_person.c.insz > sa.bindparam("after"))
    .order_by(_person.c.insz)
    .limit(sa.bindparam("limit"))
)
_REPLACES = (
    sa.select(_person.c.insz)
    .where(_person.c.replaced_by == sa.bindparam("insz"))
    .order_by(_person.c.insz)
)


class SqlPersonRepository:
    """Persons and their addresses."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, insz: str) -> PersonRecord | None:
        row = self._s.execute(_GET_PERSON, {"insz": insz}).one_or_none()
        return _record(row) if row else None

    def get_with_replaced(self, insz: str) -> tuple[PersonRecord | None, list[str]]:
        person, replaced = None, []
        for row in self._s.execute(_GET_WITH_REPLACED, {"insz": insz}):
            if row.insz == insz:
                person = _record(row)
            else:
                replaced.append(row.insz)
        return person, sorted(replaced)

    def get_many(self, inszs: Sequence[str]) -> dict[str, PersonRecord]:
        found: dict[str, PersonRecord] = {}
        for start in range(0, len(inszs), 500):
            rows = self._s.execute(
                sa.select(_person).where(_person.c.insz.in_(inszs[start : start + 500]))
            )
            for row in rows:
                found[row.insz] = _record(row)
        return found

    def list_statuses(self, after: str, limit: int) -> list[NumberStatus]:
        rows = self._s.execute(_LIST_STATUSES, {"after": after, "limit": limit})
        return [
            NumberStatus(r.insz, InszKind(r.kind), r.death_date is not None, r.replaced_by)
            for r in rows
        ]

    def lock(self, insz: str) -> PersonRecord | None:
        row = self._s.execute(
            sa.select(_person).where(_person.c.insz == insz).with_for_update()
        ).one_or_none()
        return _record(row) if row else None

    def exists(self, insz: str) -> bool:
        found = self._s.execute(sa.select(_person.c.insz).where(_person.c.insz == insz)).first()
        return found is not None

    def add(self, person: PersonRecord, addresses: Sequence[AddressPeriod] = ()) -> None:
        self._s.execute(sa.insert(_person).values(person_values(person)))
        for period in addresses:
            self.add_address(person.insz, period)

    def current_address(self, insz: str) -> AddressPeriod | None:
        row = self._s.execute(
            sa.select(_address)
            .where(_address.c.insz == insz, _address.c.end_date.is_(None))
            .order_by(_address.c.start_date.desc(), _address.c.id.desc())
            .limit(1)
        ).first()
        return _period(row) if row else None

    def address_on(self, insz: str, day: dt.date) -> AddressPeriod | None:
        row = self._s.execute(_ADDRESS_ON, {"insz": insz, "day": day}).first()
        return _period(row) if row else None

    def address_history(self, insz: str) -> list[AddressPeriod]:
        rows = self._s.execute(
            sa.select(_address)
            .where(_address.c.insz == insz)
            .order_by(_address.c.start_date, _address.c.id)
        ).all()
        return [_period(row) for row in rows]

    def replaces(self, insz: str) -> list[str]:
        return list(self._s.scalars(_REPLACES, {"insz": insz}))

    def end_current_address(self, insz: str, end: dt.date) -> None:
        self._s.execute(
            sa.update(_address)
            .where(_address.c.insz == insz, _address.c.end_date.is_(None))
            .values(end_date=end)
        )

    def add_address(self, insz: str, period: AddressPeriod) -> None:
        self._s.execute(sa.insert(_address).values(address_values(insz, period)))

    def set_name(
        self, insz: str, last_name: str, first_names: tuple[str, ...], since: dt.date
    ) -> None:
        self._s.execute(
            sa.update(_person)
            .where(_person.c.insz == insz)
            .values(
                last_name=last_name,
                first_names=list(first_names),
                last_name_norm=normalise_name(last_name),
                first_names_norm=normalise_first_names(first_names),
                name_since=since,
            )
        )

    def set_death(self, insz: str, date: dt.date, place: str) -> None:
        self._s.execute(
            sa.update(_person)
            .where(_person.c.insz == insz)
            .values(death_date=date, death_place=place)
        )

    def replace(self, old: str, new: str, new_kind: InszKind) -> None:
        row = self._s.execute(sa.select(_person).where(_person.c.insz == old)).one()
        values = dict(row._mapping)
        values.update(insz=new, kind=new_kind.value, replaced_by=None)
        self._s.execute(sa.insert(_person).values(values))
        self._s.execute(sa.update(_address).where(_address.c.insz == old).values(insz=new))
        # Numbers that pointed to `old` now point to the current one: one hop, always.
        self._s.execute(
            sa.update(_person).where(_person.c.replaced_by == old).values(replaced_by=new)
        )
        self._s.execute(sa.update(_person).where(_person.c.insz == old).values(replaced_by=new))

    def numbers_with_prefix(self, prefix: str) -> list[str]:
        return list(
            self._s.scalars(
                sa.select(_person.c.insz).where(
                    _person.c.insz >= prefix, _person.c.insz < prefix_end(prefix)
                )
            )
        )

    def find_likely(
        self, last_name_norm: str, first_names_norm: str, birth_date: PartialDate
    ) -> str | None:
        return self._s.scalars(
            sa.select(_person.c.insz)
            .where(
                _person.c.last_name_norm == last_name_norm,
                _person.c.first_names_norm == first_names_norm,
                _person.c.birth_year == birth_date.year,
                _person.c.birth_month == birth_date.month,
                _person.c.birth_day == birth_date.day,
                _person.c.replaced_by.is_(None),
            )
            .order_by(_person.c.insz)
            .limit(1)
        ).first()

    def search(self, filters: SearchFilters, after: Position | None, limit: int) -> list[SearchHit]:
        p = _person.c
        stmt = sa.select(
            p.insz,
            p.last_name,
            p.first_names,
            p.birth_year,
            p.birth_month,
            p.birth_day,
            p.sex,
            p.death_date,
            p.last_name_norm,
            p.first_names_norm,
        ).where(
            p.replaced_by.is_(None),
            p.last_name_norm >= filters.last_name,
            p.last_name_norm < prefix_end(filters.last_name),
        )
        if filters.first_name:
            # A prefix of any word of the first names: " jean" within " marie jeanne".
            words = sa.literal(" ", sa.String) + p.first_names_norm
            stmt = stmt.where(words.contains(" " + filters.first_name, autoescape=True))
        birth = filters.birth_date
        if birth is not None:
            stmt = stmt.where(p.birth_year == birth.year)
            if birth.month:
                stmt = stmt.where(p.birth_month == birth.month)
            if birth.day:
                stmt = stmt.where(p.birth_day == birth.day)
        if filters.birth_year_from:
            stmt = stmt.where(p.birth_year >= filters.birth_year_from)
        if filters.birth_year_to:
            stmt = stmt.where(p.birth_year <= filters.birth_year_to)
        if after is not None:
            stmt = stmt.where(
                # The first bound is implied by the second; it lets the index seek to it.
                p.last_name_norm >= after[0],
                sa.tuple_(p.last_name_norm, p.first_names_norm, p.insz) > sa.tuple_(*after),
            )
        stmt = stmt.order_by(p.last_name_norm, p.first_names_norm, p.insz).limit(limit)
        return [
            SearchHit(
                (row.last_name_norm, row.first_names_norm, row.insz),
                PersonSummary(
                    insz=row.insz,
                    last_name=row.last_name,
                    first_names=tuple(row.first_names),
                    birth_date=PartialDate(row.birth_year, row.birth_month, row.birth_day),
                    sex=Sex(row.sex),
                    deceased=row.death_date is not None,
                ),
            )
            for row in self._s.execute(stmt)
        ]


class SqlEventRepository:
    """The event log and its counter."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def lock(self) -> None:
        self._s.execute(sa.select(_counter.c.value).where(_counter.c.id == 1).with_for_update())

    def next_sequence(self) -> int:
        return self._s.execute(
            sa.update(_counter)
            .where(_counter.c.id == 1)
            .values(value=_counter.c.value + 1)
            .returning(_counter.c.value)
        ).scalar_one()

    def last_sequence(self) -> int:
        return self._s.execute(sa.select(_counter.c.value).where(_counter.c.id == 1)).scalar_one()

    def add(self, event: MutationEvent) -> None:
        self._s.execute(
            sa.insert(_event).values(
                sequence=event.sequence,
                insz=event.insz,
                kind=event.kind.value,
                effective_date=event.effective_date,
                recorded_at=event.recorded_at,
                values_before=values_to_json(event.before),
                values_after=values_to_json(event.after),
                recorded_by=event.recorded_by,
            )
        )

    def get(self, sequence: int) -> MutationEvent | None:
        row = self._s.execute(sa.select(_event).where(_event.c.sequence == sequence)).first()
        return _event_of(row) if row else None

    def list(self, after: int, upto: int, limit: int) -> list[MutationEvent]:
        rows = self._s.execute(
            sa.select(_event)
            .where(_event.c.sequence > after, _event.c.sequence <= upto)
            .order_by(_event.c.sequence)
            .limit(limit)
        )
        return [_event_of(row) for row in rows]


class SqlIdempotencyRepository:
    """First answers per (caller, request_id)."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, caller: str, request_id: str) -> IdempotencyRecord | None:
        row = self._s.execute(
            sa.select(_idempotency).where(
                _idempotency.c.caller == caller, _idempotency.c.request_id == request_id
            )
        ).first()
        if row is None:
            return None
        return IdempotencyRecord(
            row.caller,
            row.request_id,
            row.operation,
            row.fingerprint,
            dict(row.result),
            _utc(row.created_at),
        )

    def add(self, record: IdempotencyRecord) -> None:
        self._s.execute(
            sa.insert(_idempotency).values(
                caller=record.caller,
                request_id=record.request_id,
                operation=record.operation,
                fingerprint=record.fingerprint,
                result=record.result,
                created_at=record.created_at,
            )
        )


class SqlRegistryUnit:
    """What the service layer sees of one transaction."""

    def __init__(self, session: Session) -> None:
        self.persons = SqlPersonRepository(session)
        self.events = SqlEventRepository(session)
        self.idempotency = SqlIdempotencyRepository(session)


def mutation_version(db: Database):  # noqa: ANN201 - a Callable[[], int]
    """Reads the mutation counter on a plain pooled statement (once per GetPerson)."""

    def read() -> int:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT value FROM mutation_counter WHERE id = 1")
            (value,) = cursor.fetchone()
            cursor.close()
            return int(value)
        finally:
            raw.close()

    return read


def unit_factory(db: Database, *, write: bool = True):  # noqa: ANN201 - a UnitFactory
    """Units of work over the database (a lost race raises runtime.errors.ConflictError)."""

    @contextmanager
    def unit() -> Iterator[SqlRegistryUnit]:
        # Reads run on a Core connection (every repository here uses Core statements).
        with db.unit_of_work() if write else db.read() as session:
            yield SqlRegistryUnit(session)  # type: ignore[arg-type]

    return unit
