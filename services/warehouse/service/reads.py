"""The published tables: ListTables and GetTable (access.py says who may read which).

A suppressed cell is served with its categories and the flag, never its values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime import page_tokens
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound
from runtime.identity import Caller
from warehouse.service import access
from warehouse.service.model import Quarter, QuarterBuild
from warehouse.service.ports import WarehouseStore
from warehouse.service.suppression import ProtectedCell
from warehouse.service.tables import BY_ID, PUBLISHED, TableSpec

DEFAULT_PAGE, MAX_PAGE = 100, 1000
_PARENT = re.compile(r"^projects/([^/]+)$")
_TABLE = re.compile(r"^projects/([^/]+)/quarters/(\d{4}Q[1-4])/tables/([a-z_]+)$")


@dataclass(frozen=True)
class TableView:
    name: str
    spec: TableSpec
    build: QuarterBuild
    cell_count: int
    suppressed_count: int
    #: Empty in a list.
    cells: tuple[ProtectedCell, ...] = ()


def table_name(project: str, quarter: Quarter, table: str) -> str:
    return f"projects/{project}/quarters/{quarter}/tables/{table}"


class WarehouseReads:
    def __init__(self, store: WarehouseStore, clock: Clock) -> None:
        self._store, self._clock = store, clock

    def list_tables(
        self, caller: Caller, parent: str, page_size: int, page_token: str
    ) -> tuple[list[TableView], str]:
        found = _PARENT.match(parent)
        project_id = access.valid_project_id(found[1] if found else "", "parent")
        if page_size < 0:
            raise InvalidArgument.for_fields(
                [FieldViolation("page_size", "0 or more", "INVALID_PAGE_SIZE")]
            )
        size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
        access.readable_project(self._store, caller, project_id, self._clock.today())
        offset = 0
        if page_token:
            (offset,) = page_tokens.decode(page_token, [parent], [int])
        views = []
        for build in self._store.builds(project_id):
            counts = {}
            for spec in PUBLISHED:
                counts[spec.id] = self._store.cells(project_id, build.quarter, spec.id)
            for spec in PUBLISHED:
                cells = counts[spec.id]
                views.append(
                    TableView(
                        table_name(project_id, build.quarter, spec.id),
                        spec,
                        build,
                        len(cells),
                        sum(1 for c in cells if c.suppressed),
                    )
                )
        page = views[offset : offset + size]
        following = offset + size
        token = page_tokens.encode([parent], [following]) if following < len(views) else ""
        return page, token

    def get_table(self, caller: Caller, name: str) -> TableView:
        found = _TABLE.match(name)
        quarter = Quarter.parse(found[2]) if found else None
        if not found or quarter is None or found[3] not in BY_ID:
            raise InvalidArgument.for_fields(
                [FieldViolation("name", "projects/{project}/quarters/{year}Q{q}/tables/{table}",
                                "INVALID_TABLE_NAME")]
            )  # fmt: skip
        project_id = access.valid_project_id(found[1], "name")
        access.readable_project(self._store, caller, project_id, self._clock.today())
        build = next((b for b in self._store.builds(project_id) if b.quarter == quarter), None)
        if build is None:
            raise NotFound("TABLE_NOT_FOUND", "no such table", metadata={"name": name})
        cells = self._store.cells(project_id, quarter, found[3])
        return TableView(
            name,
            BY_ID[found[3]],
            build,
            len(cells),
            sum(1 for c in cells if c.suppressed),
            tuple(cells),
        )
