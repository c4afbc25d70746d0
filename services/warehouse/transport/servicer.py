"""The warehouse's servicers: map requests, call the rules with the caller, map the answers.

A suppressed cell is mapped with its categories and `suppressed`, never its values.
"""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from cbss.ttp.v1 import ttp_pb2
from cbss.warehouse.v1 import warehouse_pb2, warehouse_pb2_grpc
from runtime.identity import current_caller
from warehouse.service.builds import WarehouseBuilds
from warehouse.service.exports import WarehouseExports
from warehouse.service.model import QuarterBuild
from warehouse.service.reads import TableView, WarehouseReads

CHUNK = 1024 * 1024
_FORMATS = {
    warehouse_pb2.EXPORT_FORMAT_CSV: "CSV",
    warehouse_pb2.EXPORT_FORMAT_PARQUET: "PARQUET",
}


def build_message(build: QuarterBuild) -> warehouse_pb2.QuarterBuild:
    at = timestamp_pb2.Timestamp()
    at.FromDatetime(build.built_at)
    return warehouse_pb2.QuarterBuild(
        name=build.name,
        extractions=[
            warehouse_pb2.Extraction(
                source=ttp_pb2.Source.Value(f"SOURCE_{e.source.value}"),
                records=e.records,
                router_ticket=e.router_ticket,
                key_id=e.key_id,
            )
            for e in build.extractions
        ],
        persons=build.persons,
        in_work=build.in_work,
        cells=build.cells,
        primary_suppressed=build.primary_suppressed,
        secondary_suppressed=build.secondary_suppressed,
        build_time=at,
    )


def table_message(view: TableView) -> warehouse_pb2.Table:
    table = warehouse_pb2.Table(
        name=view.name,
        title=view.spec.title,
        dimensions=list(view.spec.dims),
        cell_count=view.cell_count,
        suppressed_count=view.suppressed_count,
        threshold=view.build.threshold,
        dominance_percent=view.build.dominance_percent,
    )
    for cell in view.cells:
        out = table.cells.add(categories=list(cell.key), suppressed=cell.suppressed)
        if not cell.suppressed:
            out.persons = cell.persons
            out.pay = cell.pay
    return table


class WarehouseAdminServicer(warehouse_pb2_grpc.WarehouseAdminServiceServicer):
    def __init__(self, builds: WarehouseBuilds) -> None:
        self._builds = builds

    def BuildQuarter(self, request, context):  # noqa: N802, ANN001, ANN201
        build = self._builds.build_quarter(
            current_caller(), request.project, request.year, request.quarter
        )
        return warehouse_pb2.BuildQuarterResponse(build=build_message(build))


class WarehouseServicer(warehouse_pb2_grpc.WarehouseServiceServicer):
    def __init__(self, reads: WarehouseReads, exports: WarehouseExports) -> None:
        self._reads, self._exports = reads, exports

    def ListTables(self, request, context):  # noqa: N802, ANN001, ANN201
        views, token = self._reads.list_tables(
            current_caller(), request.parent, request.page_size, request.page_token
        )
        return warehouse_pb2.ListTablesResponse(
            tables=[table_message(v) for v in views], next_page_token=token
        )

    def GetTable(self, request, context):  # noqa: N802, ANN001, ANN201
        view = self._reads.get_table(current_caller(), request.name)
        return warehouse_pb2.GetTableResponse(table=table_message(view))

    def ExportProject(self, request, context):  # noqa: N802, ANN001, ANN201
        export = self._exports.export(
            current_caller(),
            request.project,
            list(request.quarters),
            _FORMATS.get(request.format),
        )
        for file in export.files:
            body = file.content
            offsets = range(0, max(len(body), 1), CHUNK)
            for i, offset in enumerate(offsets):
                last = i == len(offsets) - 1
                yield warehouse_pb2.ExportProjectResponse(
                    export=export.name,
                    file=file.name,
                    data=body[offset : offset + CHUNK],
                    last=last,
                    sha256=file.sha256 if last else "",
                )
