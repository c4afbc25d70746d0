"""DmfaResearchService: one quarter's worker quarters in bulk, for the research data warehouse's
trusted third party, through the router only (runtime.research_access).

Read page by page (keyset on INSZ and employer), each page its own short read transaction, so
that a slow consumer never holds the DmfA's database while the stream waits on the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from dmfa.service.model import WorkerCodeQuarter
from runtime.identity import Consultation
from runtime.research_access import BATCH, quarter_days, require_research_extraction


@dataclass(frozen=True, slots=True)
class ResearchWorkerQuarter:
    """A worker's quarter with one employer, from its current accepted version."""

    insz: str
    employer: str
    records: tuple[WorkerCodeQuarter, ...]


class ResearchWorkerSource(Protocol):
    def quarter_page(
        self, year: int, quarter: int, after: tuple[str, str], limit: int
    ) -> list[ResearchWorkerQuarter]:
        """The quarter's worker quarters after (insz, employer), in that order."""
        ...


class DmfaResearch:
    """The rules of DmfaResearchService."""

    def __init__(self, source: ResearchWorkerSource, batch: int = BATCH) -> None:
        self._source, self._batch = source, batch

    def extract_quarter_workers(
        self, consultation: Consultation | None, year: int, quarter: int
    ) -> Iterator[list[ResearchWorkerQuarter]]:
        """Checked at once (the TTP, a research context, a quarter), then the pages."""
        require_research_extraction(consultation)
        quarter_days(year, quarter)
        return self._pages(year, quarter)

    def _pages(self, year: int, quarter: int) -> Iterator[list[ResearchWorkerQuarter]]:
        after = ("", "")
        while True:
            page = self._source.quarter_page(year, quarter, after, self._batch)
            if not page:
                return
            yield page
            if len(page) < self._batch:
                return
            after = (page[-1].insz, page[-1].employer)
