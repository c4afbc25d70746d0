"""The research extraction's reads of the DmfA's worker quarters (dmfa.service.research)."""

from __future__ import annotations

import sqlalchemy as sa

from dmfa.service.model import RemunerationTotal, WorkerCodeQuarter
from dmfa.service.research import ResearchWorkerQuarter
from dmfa.storage.models import WorkerQuarterRow
from runtime.db import Database

_q = WorkerQuarterRow.__table__.c
_PAGE = (
    sa.select(_q.insz, _q.employer, _q.body)
    .where(
        _q.year == sa.bindparam("year"),
        _q.quarter == sa.bindparam("quarter"),
        sa.or_(
            _q.insz > sa.bindparam("insz"),
            sa.and_(_q.insz == sa.bindparam("insz"), _q.employer > sa.bindparam("employer")),
        ),
    )
    .order_by(_q.insz, _q.employer)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


class SqlResearchWorkers:
    """One short read transaction per page."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def quarter_page(
        self, year: int, quarter: int, after: tuple[str, str], limit: int
    ) -> list[ResearchWorkerQuarter]:
        params = {
            "year": year, "quarter": quarter, "insz": after[0], "employer": after[1],
            "limit": limit,
        }  # fmt: skip
        with self._db.read() as conn:
            rows = conn.execute(_PAGE, params).all()
        return [
            ResearchWorkerQuarter(
                r.insz,
                r.employer,
                tuple(
                    WorkerCodeQuarter(
                        code, days, hours, tuple(RemunerationTotal(c, a) for c, a in pay)
                    )
                    for code, days, hours, pay in r.body
                ),
            )
            for r in rows
        ]
