"""ExportProject: a project's quarters for a research centre.

Authorised (access.valid_grant: a grant for the project valid today, `NO_PROJECT_GRANT`
otherwise; the positions only under a micro-data grant), the quarters checked (`INVALID_QUARTER`,
`QUARTER_NOT_BUILT`), the files made in memory, then written in the export log — requester,
quarters, format, each file's name, size and SHA-256 — before the transport sends the first byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound
from runtime.identity import Caller
from warehouse.service import access, dictionary, files
from warehouse.service.model import Quarter
from warehouse.service.ports import ExportEntry, WarehouseStore
from warehouse.service.tables import PUBLISHED

FORMATS = ("CSV", "PARQUET")


@dataclass(frozen=True)
class ExportFile:
    name: str
    content: bytes
    sha256: str


@dataclass(frozen=True)
class Export:
    name: str
    files: tuple[ExportFile, ...]


class WarehouseExports:
    def __init__(self, store: WarehouseStore, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def export(
        self, caller: Caller, project_id: str, quarters: Sequence[str], file_format: str | None
    ) -> Export:
        access.valid_project_id(project_id)
        violations = [
            FieldViolation(f"quarters[{i}]", "a quarter: 2025Q2", "INVALID_QUARTER")
            for i, text in enumerate(quarters)
            if Quarter.parse(text) is None
        ]
        if file_format not in FORMATS:
            violations.append(FieldViolation("format", "CSV or PARQUET", "INVALID_FORMAT"))
        if violations:
            raise InvalidArgument.for_fields(violations)
        assert file_format is not None
        grant = access.valid_grant(self._store, caller, project_id, self._clock.today())
        project = self._store.project(project_id)
        if project is None:
            raise access.unknown_project(project_id)
        builds = {b.quarter: b for b in self._store.builds(project_id)}
        asked = sorted({q for text in quarters if (q := Quarter.parse(text)) is not None})
        chosen = asked or sorted(builds)
        missing = [str(q) for q in chosen if q not in builds]
        if missing or not chosen:
            raise NotFound(
                "QUARTER_NOT_BUILT",
                "a quarter asked is not built for this project",
                metadata={"quarters": ",".join(missing)},
            )
        table_rows, position_rows = [], []
        for quarter in chosen:
            for spec in PUBLISHED:
                table_rows += files.table_rows(
                    quarter, self._store.cells(project_id, quarter, spec.id)
                )
            if grant.microdata:
                position_rows += files.position_rows(
                    quarter, self._store.positions(project_id, quarter)
                )
        ext = "csv" if file_format == "CSV" else "parquet"
        data: list[tuple[str, bytes]] = []
        if file_format == "CSV":
            data.append((f"tables.{ext}", files.to_csv(files.TABLE_COLUMNS, table_rows)))
            if grant.microdata:
                data.append(
                    (f"positions.{ext}", files.to_csv(files.POSITION_COLUMNS, position_rows))
                )
        else:
            data.append((f"tables.{ext}", files.to_parquet("tables", table_rows)))
            if grant.microdata:
                data.append((f"positions.{ext}", files.to_parquet("positions", position_rows)))
        latest = builds[chosen[-1]]
        at = self._clock.now()
        # The dictionary names the export: its id comes from the log, so the log row is written
        # with the data files' digests first, the dictionary's digests derived from them.
        entry = ExportEntry(
            project=project_id,
            requester=caller.uri,
            quarters=tuple(chosen),
            format=file_format,
            microdata=grant.microdata,
            files=tuple((name, len(body), hashlib.sha256(body).hexdigest()) for name, body in data),
            exported_at=at,
        )
        export_id = self._store.log_export(entry)
        name = f"projects/{project_id}/exports/{export_id}"
        content = dictionary.dictionary(
            project, name, caller.uri, chosen, file_format, grant.microdata,
            latest.threshold, latest.dominance_percent,
        )  # fmt: skip
        data += [
            ("dictionary.json", dictionary.to_json(content)),
            ("dictionary.md", dictionary.to_markdown(content)),
        ]
        return Export(
            name,
            tuple(ExportFile(n, body, hashlib.sha256(body).hexdigest()) for n, body in data),
        )
