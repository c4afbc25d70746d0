"""The research extraction's reads of DIMONA's periods (dimona.service.research)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from dimona.service.model import PeriodState
from dimona.service.research import ResearchPeriod
from dimona.storage.models import PeriodRow
from runtime.db import Database

_period = PeriodRow.__table__
_PAGE = (
    sa.select(
        _period.c.id,
        _period.c.worker,
        _period.c.employer,
        _period.c.worker_type,
        _period.c.joint_committee,
        _period.c.start_date,
        _period.c.end_date,
    )
    .where(
        _period.c.state == PeriodState.ACTIVE.value,
        _period.c.id > sa.bindparam("after"),
        _period.c.start_date <= sa.bindparam("last"),
        sa.or_(_period.c.end_date.is_(None), _period.c.end_date >= sa.bindparam("first")),
    )
    .order_by(_period.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


class SqlResearchPeriods:
    """One short read transaction per page (the primary key's order)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def quarter_page(
        self, first: dt.date, last: dt.date, after: int, limit: int
    ) -> list[ResearchPeriod]:
        with self._db.read() as conn:
            rows = conn.execute(
                _PAGE, {"first": first, "last": last, "after": after, "limit": limit}
            ).all()
        return [
            ResearchPeriod(r.id, r.worker, r.employer, r.worker_type, r.joint_committee,
                           r.start_date, r.end_date)
            for r in rows
        ]  # fmt: skip
