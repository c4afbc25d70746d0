"""BuildQuarter: a project's quarter from the trusted third party's coded extractions.

1. Checks: an operator (`NOT_AUTHORISED`), a project id and a quarter (`INVALID_PROJECT`,
   `INVALID_QUARTER`), a project of the warehouse's table (`UNKNOWN_PROJECT`).
2. For each source — the register's population on the last day, DIMONA's periods, the DmfA's
   worker quarters — the TTP extracts it through the router and codes it; each extraction, once
   received whole, is written in the extraction log at once (its own transaction: the log keeps
   every extraction received, even when the build then stops).
3. The codes must come from one key: the three sources' and the project's earlier quarters'
   (FAILED_PRECONDITION `KEY_CHANGED` otherwise: a changed key would break every trajectory),
   and the key must match the project's unlinkability — an unlinkable project's key is nobody
   else's, a linkable project's is the other linkable projects' (`KEY_POLICY_MISMATCH`: the TTP
   and the warehouse disagree about the project).
4. Positions on the last day (positions.py), the published tables and their disclosure control
   (tables.py, suppression.py), then one transaction replaces the quarter's coded records,
   positions, cells and build row: a quarter is always whole, never half rebuilt.

`aggregate` redoes steps 4 from the quarter's stored coded records (the bench; a changed
threshold).
"""

from __future__ import annotations

import logging

from runtime.clock import Clock
from runtime.errors import FailedPrecondition
from runtime.identity import Caller
from runtime.research_access import quarter_days
from warehouse.service import access
from warehouse.service.model import (
    CodedPeriod,
    CodedPerson,
    CodedWorkerRecord,
    Extraction,
    Project,
    Quarter,
    QuarterBuild,
    Source,
)
from warehouse.service.ports import QuarterRecords, TrustedThirdParty, WarehouseStore
from warehouse.service.positions import PersonPosition, derive_positions
from warehouse.service.suppression import ProtectedCell, Status, protect
from warehouse.service.tables import PUBLISHED, units

logger = logging.getLogger(__name__)


def compute(
    quarter: Quarter, records: QuarterRecords, threshold: int, dominance_percent: int
) -> tuple[list[PersonPosition], list[ProtectedCell]]:
    """The positions on the quarter's last day and the protected published cells."""
    positions = derive_positions(
        quarter.last_day, records.persons, records.periods, records.workers
    )
    protection = protect(PUBLISHED, units(positions), threshold, dominance_percent)
    logger.info(
        "%s: %d positions, %d cells, protected in %d rounds (%d linear programs)",
        quarter,
        len(positions),
        len(protection.cells),
        protection.rounds,
        protection.programs,
    )
    return positions, protection.cells


class WarehouseBuilds:
    def __init__(
        self,
        store: WarehouseStore,
        ttp: TrustedThirdParty,
        clock: Clock,
        threshold: int = 5,
        dominance_percent: int = 10,
    ) -> None:
        self._store, self._ttp, self._clock = store, ttp, clock
        self.threshold, self.dominance_percent = threshold, dominance_percent

    def build_quarter(
        self, caller: Caller, project_id: str, year: int, number: int
    ) -> QuarterBuild:
        access.require_operator(caller)
        access.valid_project_id(project_id)
        quarter_days(year, number)
        quarter = Quarter(year, number)
        project = self._store.project(project_id)
        if project is None:
            raise access.unknown_project(project_id)
        received: dict[Source, list] = {}
        extractions = []
        for source in Source:
            records, extraction = self._ttp.extract(project.id, source, quarter)
            self._store.log_extraction(project.id, quarter, extraction, self._clock.now())
            received[source] = records
            extractions.append(extraction)
        key_id = self._check_key(project, extractions)
        records = QuarterRecords(
            [r for r in received[Source.REGISTRY_DEMOGRAPHICS] if isinstance(r, CodedPerson)],
            [r for r in received[Source.DIMONA_PERIODS] if isinstance(r, CodedPeriod)],
            [r for r in received[Source.DMFA_WORKER_QUARTERS] if isinstance(r, CodedWorkerRecord)],
        )
        return self._store_quarter(project.id, quarter, key_id, records, tuple(extractions), True)

    def aggregate(self, project_id: str, quarter: Quarter) -> QuarterBuild:
        """The positions and tables again, from the quarter's stored coded records."""
        known = {b.quarter: b for b in self._store.builds(project_id)}
        if quarter not in known:
            raise FailedPrecondition(
                "QUARTER_NOT_BUILT",
                "the quarter has no coded records",
                metadata={"quarter": str(quarter)},
            )
        records = self._store.quarter_records(project_id, quarter)
        return self._store_quarter(
            project_id, quarter, known[quarter].key_id, records, known[quarter].extractions, False
        )

    def _store_quarter(
        self,
        project_id: str,
        quarter: Quarter,
        key_id: str,
        records: QuarterRecords,
        extractions: tuple[Extraction, ...],
        replace_records: bool,
    ) -> QuarterBuild:
        positions, cells = compute(quarter, records, self.threshold, self.dominance_percent)
        build = QuarterBuild(
            project=project_id,
            quarter=quarter,
            key_id=key_id,
            persons=len(positions),
            in_work=sum(1 for p in positions if p.in_work),
            cells=len(cells),
            primary_suppressed=sum(1 for c in cells if c.status is Status.PRIMARY),
            secondary_suppressed=sum(1 for c in cells if c.status is Status.SECONDARY),
            threshold=self.threshold,
            dominance_percent=self.dominance_percent,
            built_at=self._clock.now(),
            extractions=extractions,
        )
        self._store.replace_quarter(build, records if replace_records else None, positions, cells)
        logger.info(
            "%s built: %d persons, %d in work, %d cells (%d + %d suppressed)",
            build.name,
            build.persons,
            build.in_work,
            build.cells,
            build.primary_suppressed,
            build.secondary_suppressed,
        )
        return build

    def _check_key(self, project: Project, extractions: list[Extraction]) -> str:
        keys = {e.key_id for e in extractions}
        known = self._store.key_ids()
        earlier = known.get(project.id, set())
        if len(keys) != 1 or (earlier and not keys <= earlier):
            raise FailedPrecondition(
                "KEY_CHANGED",
                "the extractions were not coded with the project's one key",
                metadata={"project": project.id},
            )
        key_id = next(iter(keys))
        others = {pid: ids for pid, ids in known.items() if pid != project.id and ids}
        if project.unlinkable:
            clash = any(key_id in ids for ids in others.values())
        else:
            linkable = set()
            for pid, ids in others.items():
                other = self._store.project(pid)
                if other is not None and not other.unlinkable:
                    linkable |= ids
            clash = bool(linkable) and key_id not in linkable
            clash = clash or any(
                key_id in ids
                for pid, ids in others.items()
                if (p := self._store.project(pid)) is not None and p.unlinkable
            )
        if clash:
            raise FailedPrecondition(
                "KEY_POLICY_MISMATCH",
                "the codes do not follow the project's unlinkability",
                metadata={"project": project.id},
            )
        return key_id
