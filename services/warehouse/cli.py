"""`python -m warehouse.cli`: build quarters, read the published tables, chart them, export.

    python -m warehouse.cli --as admin-ops build --project dwh-standard --quarter 2025Q2
    python -m warehouse.cli tables --project dwh-standard
    python -m warehouse.cli table projects/dwh-standard/quarters/2025Q2/tables/region
    python -m warehouse.cli chart --project dwh-standard --table region
    python -m warehouse.cli --as institution-hiva export --project hiva-careers --format csv \\
        --out var/exports/hiva-careers

The warehouse answers at `--target` (default `$WAREHOUSE_ADDR` or localhost:50065), and must
present the warehouse's certificate (`institution/cbss-dwh`). Global options: `--as` (a
certificate file stem in the PKI folder), `--pki` (default `var/pki`). Errors are printed on
stderr as `CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import grpc
from rich.table import Table

from cbss.ttp.v1 import ttp_pb2
from cbss.warehouse.v1 import warehouse_pb2, warehouse_pb2_grpc
from runtime.cli import fail, invoke, out, party_files
from runtime.client import failure, secure_channel, server_name
from runtime.identity import TRUST_DOMAIN
from warehouse.service import categories

WAREHOUSE = f"spiffe://{TRUST_DOMAIN}/institution/cbss-dwh"
#: A chart bar's width for the largest value.
BAR = 40


@dataclass(frozen=True)
class Client:
    target: str
    party: str
    pki: Path

    def channel(self) -> grpc.Channel:
        return secure_channel(
            self.target, party_files(self.pki, self.party), **server_name(WAREHOUSE)
        )


def _order(category: str) -> tuple[int, str]:
    """Categories in their natural order (age bands, regions), others alphabetically."""
    known = [label for label, _, _ in categories.AGE_BANDS] + list(categories.REGIONS)
    return (known.index(category), "") if category in known else (len(known), category)


def _money(cents: int) -> str:
    return f"{cents / 100:,.0f} €"


@click.group()
@click.option("--target", envvar="WAREHOUSE_ADDR", default="localhost:50065", show_default=True)
@click.option("--as", "party", default="institution-hiva", show_default=True)
@click.option("--pki", default="var/pki", show_default=True, type=click.Path(path_type=Path))
@click.pass_context
def cli(ctx: click.Context, target: str, party: str, pki: Path) -> None:
    """The research data warehouse."""
    ctx.obj = Client(target, party, pki)


@cli.command()
@click.option("--project", required=True)
@click.option("--quarter", required=True, help="e.g. 2025Q2")
@click.pass_obj
def build(client: Client, project: str, quarter: str) -> None:
    """Build (or rebuild) a project's quarter (operators)."""
    year, _, number = quarter.upper().partition("Q")
    if not (year.isdigit() and number.isdigit()):
        fail("INVALID_ARGUMENT", "INVALID_QUARTER", "a quarter is written 2025Q2")
    with client.channel() as channel:
        stub = warehouse_pb2_grpc.WarehouseAdminServiceStub(channel)
        request = warehouse_pb2.BuildQuarterRequest(
            project=project, year=int(year), quarter=int(number)
        )
        try:
            done = stub.BuildQuarter(request, timeout=900).build
        except grpc.RpcError as exc:
            info = failure(exc)
            fail(info.code.name, info.reason or "-", info.message)
    out.print(
        f"{done.name}: {done.persons:,} coded persons, {done.in_work:,} in work; "
        f"{done.cells} published cells, {done.primary_suppressed} suppressed + "
        f"{done.secondary_suppressed} complementary",
        markup=False,
        highlight=False,
    )
    for e in done.extractions:
        out.print(
            f"  {_source(e.source)}: {e.records:,} records, router ticket {e.router_ticket}, "
            f"key {e.key_id}",
            markup=False,
            highlight=False,
        )


def _source(value: int) -> str:
    return ttp_pb2.Source.Name(value).removeprefix("SOURCE_")


def _tables(client: Client, project: str) -> list[Any]:
    found, token = [], ""
    with client.channel() as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        while True:
            reply = invoke(
                stub.ListTables,
                warehouse_pb2.ListTablesRequest(
                    parent=f"projects/{project}", page_size=100, page_token=token
                ),
            )
            found += reply.tables
            token = reply.next_page_token
            if not token:
                return found


@cli.command()
@click.option("--project", default="dwh-standard", show_default=True)
@click.pass_obj
def tables(client: Client, project: str) -> None:
    """The published tables of a project's built quarters."""
    shown = Table("table", "dimensions", "cells", "suppressed")
    for t in _tables(client, project):
        shown.add_row(t.name, " × ".join(t.dimensions) or "—", str(t.cell_count),
                      str(t.suppressed_count))  # fmt: skip
    out.print(shown)


def _get(client: Client, name: str) -> Any:
    with client.channel() as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        return invoke(stub.GetTable, warehouse_pb2.GetTableRequest(name=name)).table


@cli.command()
@click.argument("name")
@click.pass_obj
def table(client: Client, name: str) -> None:
    """One published table; suppressed cells shown as ✕."""
    got = _get(client, name)
    shown = Table(*got.dimensions, "persons", "pay", title=f"{got.title} ({got.name})")
    for cell in got.cells:
        values = ("✕", "✕") if cell.suppressed else (f"{cell.persons:,}", _money(cell.pay))
        shown.add_row(*cell.categories, *values)
    out.print(shown)
    out.print(
        f"threshold {got.threshold}, p % rule {got.dominance_percent} %; "
        f"{got.suppressed_count} of {got.cell_count} cells suppressed",
        markup=False,
        highlight=False,
    )


@cli.command()
@click.option("--project", default="dwh-standard", show_default=True)
@click.option("--table", "table_id", default="region", show_default=True,
              help="a one-dimension table: region, joint_committee, age_band")  # fmt: skip
@click.option("--measure", type=click.Choice(["persons", "pay"]), default="persons",
              show_default=True)  # fmt: skip
@click.pass_obj
def chart(client: Client, project: str, table_id: str, measure: str) -> None:
    """A one-dimension table over the built quarters, as bars (a suppressed cell shows ✕)."""
    quarters = sorted({t.name.split("/")[3] for t in _tables(client, project)})
    series = {
        q: _get(client, f"projects/{project}/quarters/{q}/tables/{table_id}") for q in quarters
    }
    if any(len(t.dimensions) != 1 for t in series.values()):
        fail("INVALID_ARGUMENT", "NOT_ONE_DIMENSION", "chart a table of one dimension")
    values: dict[str, dict[str, int | None]] = {}
    for q, t in series.items():
        for cell in t.cells:
            values.setdefault(cell.categories[0], {})[q] = (
                None if cell.suppressed else getattr(cell, measure)
            )
    top = max((v for row in values.values() for v in row.values() if v), default=1)
    title = next(iter(series.values())).title if series else table_id
    out.print(f"{title}: {measure}, {project}", markup=False, highlight=False)
    for category in sorted(values, key=_order):
        out.print(category, markup=False, highlight=False)
        for q in quarters:
            value = values[category].get(q, 0)
            if value is None:
                out.print(f"  {q} ✕ suppressed", markup=False, highlight=False)
                continue
            bar = "█" * max(1 if value else 0, round(BAR * value / top))
            label = f"{value:,}" if measure == "persons" else _money(value)
            out.print(f"  {q} {bar} {label}", markup=False, highlight=False)


@cli.command()
@click.option("--project", required=True)
@click.option("--quarter", "quarters", multiple=True, help="repeatable; default: every quarter")
@click.option("--format", "file_format", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)  # fmt: skip
@click.option("--out", "folder", required=True, type=click.Path(path_type=Path))
@click.pass_obj
def export(
    client: Client, project: str, quarters: tuple[str, ...], file_format: str, folder: Path
) -> None:
    """Export a project's quarters (a research centre with a grant), with its dictionary."""
    fmt = (
        warehouse_pb2.EXPORT_FORMAT_CSV
        if file_format == "csv"
        else warehouse_pb2.EXPORT_FORMAT_PARQUET
    )
    request = warehouse_pb2.ExportProjectRequest(
        project=project, quarters=list(quarters), format=fmt
    )
    files: dict[str, bytearray] = {}
    digests: dict[str, str] = {}
    name = ""
    with client.channel() as channel:
        stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
        try:
            for chunk in stub.ExportProject(request, timeout=300):
                name = chunk.export
                files.setdefault(chunk.file, bytearray()).extend(chunk.data)
                if chunk.last:
                    digests[chunk.file] = chunk.sha256
        except grpc.RpcError as exc:
            info = failure(exc)
            fail(info.code.name, info.reason or "-", info.message)
    folder.mkdir(parents=True, exist_ok=True)
    out.print(f"{name} → {folder}", markup=False, highlight=False)
    for file_name, body in files.items():
        if hashlib.sha256(body).hexdigest() != digests.get(file_name):
            fail("DATA_LOSS", "DIGEST_MISMATCH", f"{file_name} arrived damaged")
        (folder / file_name).write_bytes(bytes(body))
        out.print(
            f"  {file_name:<20} {len(body):>10,} bytes  sha256 {digests[file_name][:16]}…",
            markup=False,
            highlight=False,
        )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
