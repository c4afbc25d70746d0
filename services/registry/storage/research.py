"""The research extraction's reads of the register (registry.service.research)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from registry.service.research import RegisteredPerson
from registry.storage.models import AddressRow, PersonRow
from runtime.db import Database

_p = PersonRow.__table__.c
_a = AddressRow.__table__.c
_PERSONS = (
    sa.select(_p.insz, _p.sex, _p.birth_year, _p.birth_month, _p.birth_day, _p.death_date)
    .where(_p.replaced_by.is_(None), _p.insz > sa.bindparam("after"))
    .order_by(_p.insz)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_ADDRESSES = sa.select(_a.insz, _a.postcode, _a.country_code, _a.start_date).where(
    _a.insz.in_(sa.bindparam("inszs", expanding=True)),
    _a.start_date <= sa.bindparam("day"),
    sa.or_(_a.end_date.is_(None), _a.end_date >= sa.bindparam("day")),
)


class SqlPopulation:
    """One short read transaction per page: the persons, then their addresses on the day."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def page(self, day: dt.date, after: str, limit: int) -> list[RegisteredPerson]:
        with self._db.read() as conn:
            persons = conn.execute(_PERSONS, {"after": after, "limit": limit}).all()
            addresses: dict[str, tuple[dt.date, str, str]] = {}
            if persons:
                rows = conn.execute(_ADDRESSES, {"inszs": [p.insz for p in persons], "day": day})
                for r in rows:
                    # Two periods covering the day would be a register error: the later wins.
                    if r.insz not in addresses or addresses[r.insz][0] < r.start_date:
                        addresses[r.insz] = (r.start_date, r.postcode, r.country_code)
        return [
            RegisteredPerson(
                p.insz, p.sex, p.birth_year, p.birth_month, p.birth_day, p.death_date,
                *addresses.get(p.insz, (None, "", ""))[1:],
            )
            for p in persons
        ]  # fmt: skip
