"""What the warehouse's rules need from the outside: its store and the trusted third party."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from warehouse.service.model import (
    CodedPeriod,
    CodedPerson,
    CodedWorkerRecord,
    Extraction,
    Grant,
    Project,
    Quarter,
    QuarterBuild,
    Source,
)
from warehouse.service.positions import PersonPosition
from warehouse.service.suppression import ProtectedCell

CodedRecord = CodedPerson | CodedPeriod | CodedWorkerRecord


@dataclass(frozen=True)
class QuarterRecords:
    persons: list[CodedPerson]
    periods: list[CodedPeriod]
    workers: list[CodedWorkerRecord]


@dataclass(frozen=True)
class ExportEntry:
    """One export, as the export log keeps it (before the first byte is sent)."""

    project: str
    requester: str
    quarters: tuple[Quarter, ...]
    format: str
    microdata: bool
    #: (file name, bytes, SHA-256 hex)
    files: tuple[tuple[str, int, str], ...]
    exported_at: dt.datetime


class WarehouseStore(Protocol):
    def project(self, project_id: str) -> Project | None: ...

    def grants(self, project_id: str, institution: str) -> list[Grant]: ...

    def key_ids(self) -> dict[str, set[str]]:
        """Each project's key ids, from its builds."""
        ...

    def log_extraction(
        self, project: str, quarter: Quarter, extraction: Extraction, at: dt.datetime
    ) -> None: ...

    def replace_quarter(
        self,
        build: QuarterBuild,
        records: QuarterRecords | None,
        positions: Sequence[PersonPosition],
        cells: Sequence[ProtectedCell],
    ) -> None:
        """In one transaction: the quarter's coded records (unless None: kept as they are), its
        positions, its published cells and its build row, replacing what was there."""
        ...

    def quarter_records(self, project: str, quarter: Quarter) -> QuarterRecords: ...

    def builds(self, project: str) -> list[QuarterBuild]:
        """The project's built quarters, by quarter."""
        ...

    def cells(self, project: str, quarter: Quarter, table: str) -> list[ProtectedCell]: ...

    def positions(self, project: str, quarter: Quarter) -> list[PersonPosition]: ...

    def log_export(self, entry: ExportEntry) -> int:
        """The export's id."""
        ...


class TrustedThirdParty(Protocol):
    def extract(
        self, project: str, source: Source, quarter: Quarter
    ) -> tuple[list[CodedRecord], Extraction]:
        """One source's coded quarter, whole (its receipt included); a failure raises a
        ServiceError and delivers nothing."""
        ...
