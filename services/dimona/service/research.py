"""DimonaResearchService: one quarter's Dimona periods in bulk, for the research data warehouse's
trusted third party, through the router only (runtime.research_access).

The periods are read page by page (keyset on the period id), each page its own short read
transaction, so that a slow consumer never holds DIMONA's database (on SQLite, its one reader
gate) while the stream waits on the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from runtime.identity import Consultation
from runtime.research_access import BATCH, quarter_days, require_research_extraction


@dataclass(frozen=True, slots=True)
class ResearchPeriod:
    """What research needs of a period (no times, hours, contract or declarant)."""

    id: int
    insz: str
    employer: str
    worker_type: str
    joint_committee: str
    start: dt.date
    end: dt.date | None


class ResearchPeriodSource(Protocol):
    def quarter_page(
        self, first: dt.date, last: dt.date, after: int, limit: int
    ) -> list[ResearchPeriod]:
        """Active periods meeting [first, last] with an id above `after`, by id."""
        ...


class DimonaResearch:
    """The rules of DimonaResearchService."""

    def __init__(self, source: ResearchPeriodSource, batch: int = BATCH) -> None:
        self._source, self._batch = source, batch

    def extract_quarter_periods(
        self, consultation: Consultation | None, year: int, quarter: int
    ) -> Iterator[list[ResearchPeriod]]:
        """Checked at once (the TTP, a research context, a quarter), then the pages."""
        require_research_extraction(consultation)
        first, last = quarter_days(year, quarter)
        return self._pages(first, last)

    def _pages(self, first: dt.date, last: dt.date) -> Iterator[list[ResearchPeriod]]:
        after = 0
        while True:
            page = self._source.quarter_page(first, last, after, self._batch)
            if not page:
                return
            yield page
            if len(page) < self._batch:
                return
            after = page[-1].id
