"""CodeExtraction: one source's quarter, extracted through the router and coded for a project.

Checks before anything is extracted: the caller is the warehouse (`institution/cbss-dwh`, else
PERMISSION_DENIED `NOT_AUTHORISED`), the project id, source and quarter are well-formed
(INVALID_ARGUMENT `INVALID_PROJECT`, `INVALID_SOURCE`, `INVALID_QUARTER`) and the project is one
the TTP codes for (NOT_FOUND `UNKNOWN_PROJECT`). Then the extraction streams through: each batch
of records as the source sent it, every INSZ replaced by the project's code (the record itself is
opaque here: the transport maps it), then a receipt (the router's ticket, the number of records,
the key's id). Nothing is kept; one log line per extraction, without any INSZ or code.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind
from runtime.research_access import quarter_days
from ttp.service.coding import Coder, key_name
from ttp.service.projects import PROJECT_ID, Project

logger = logging.getLogger(__name__)

#: The only caller: the research data warehouse.
WAREHOUSE = "cbss-dwh"


class Source(enum.Enum):
    DIMONA_PERIODS = "DIMONA_PERIODS"
    DMFA_WORKER_QUARTERS = "DMFA_WORKER_QUARTERS"
    REGISTRY_DEMOGRAPHICS = "REGISTRY_DEMOGRAPHICS"


@dataclass(frozen=True)
class CodedBatch:
    source: Source
    #: (code, the source's record) pairs; the record still holds the INSZ, which the transport
    #: never copies into a coded message.
    records: list[tuple[str, Any]]


@dataclass(frozen=True)
class Receipt:
    router_ticket: str
    records: int
    key_id: str


class OpenExtraction(Protocol):
    #: The router's ticket (known once the router answered).
    ticket: str

    def batches(self) -> Iterator[list[tuple[str, Any]]]:
        """(INSZ, record) pairs, a batch per message the source sent."""
        ...


class ExtractionSource(Protocol):
    def open(self, source: Source, year: int, quarter: int, last_day: dt.date) -> OpenExtraction:
        """An extraction through the router (started when its batches are read)."""
        ...


class KeyStore(Protocol):
    def key(self, name: str) -> bytes:
        """The named key, created on first use."""
        ...


class TtpExtractions:
    def __init__(
        self, projects: Mapping[str, Project], keys: KeyStore, sources: ExtractionSource
    ) -> None:
        self._projects, self._keys, self._sources = dict(projects), keys, sources

    def code_extraction(
        self, caller: Caller, project_id: str, source: Source | None, year: int, quarter: int
    ) -> Iterator[CodedBatch | Receipt]:
        """Checked at once, then extracted and coded as the stream is read."""
        if caller.kind is not PartyKind.INSTITUTION or caller.id != WAREHOUSE:
            raise PermissionDenied("NOT_AUTHORISED", "only the research data warehouse may ask")
        violations = []
        if not PROJECT_ID.match(project_id):
            violations.append(
                FieldViolation("project", "lower-case letters, digits, dashes", "INVALID_PROJECT")
            )
        if source is None:
            violations.append(FieldViolation("source", "a source", "INVALID_SOURCE"))
        if violations:
            raise InvalidArgument.for_fields(violations)
        _first, last = quarter_days(year, quarter)
        project = self._projects.get(project_id)
        if project is None:
            raise NotFound(
                "UNKNOWN_PROJECT",
                "the TTP codes for no such project",
                metadata={"project": project_id},
            )
        coder = Coder(self._keys.key(key_name(project)))
        assert source is not None
        return self._run(project, source, year, quarter, coder, last)

    def _run(
        self,
        project: Project,
        source: Source,
        year: int,
        quarter: int,
        coder: Coder,
        last: dt.date,
    ) -> Iterator[CodedBatch | Receipt]:
        extraction = self._sources.open(source, year, quarter, last)
        records = 0
        for batch in extraction.batches():
            records += len(batch)
            yield CodedBatch(source, [(coder.code(insz), record) for insz, record in batch])
        logger.info(
            "coded extraction: project %s, source %s, %dQ%d, %d records, router ticket %s, key %s",
            project.id,
            source.value,
            year,
            quarter,
            records,
            extraction.ticket,
            coder.key_id,
        )
        yield Receipt(extraction.ticket, records, coder.key_id)
