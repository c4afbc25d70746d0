"""An export's data files, in CSV (RFC 4180, UTF-8, a header line) or Apache Parquet.

`tables`: one row per published cell of every table of every exported quarter; the dimensions a
table does not have are empty (that row is the total over them); a suppressed cell's persons and
pay are empty. `positions` (micro-data grants only): one row per coded person and quarter.
Columns and their meaning: dictionary.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.service.model import Quarter
from warehouse.service.positions import PersonPosition
from warehouse.service.suppression import ProtectedCell
from warehouse.service.tables import BY_ID, DIMENSIONS

TABLE_COLUMNS = ("quarter", "table", *DIMENSIONS, "persons", "pay_cents", "suppressed")
POSITION_COLUMNS = (
    "quarter",
    "person",
    "position",
    "worker_class",
    "joint_committee",
    "employers",
    "age_band",
    "sex",
    "region",
    "pay_cents",
)
_TABLE_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in ("quarter", "table", *DIMENSIONS)),
        ("persons", pa.int64()),
        ("pay_cents", pa.int64()),
        ("suppressed", pa.bool_()),
    ]
)
_POSITION_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in POSITION_COLUMNS[:5]),
        ("employers", pa.int32()),
        *((name, pa.string()) for name in ("age_band", "sex", "region")),
        ("pay_cents", pa.int64()),
    ]
)


def table_rows(quarter: Quarter, cells: Iterable[ProtectedCell]) -> list[dict]:
    rows = []
    for cell in cells:
        dims = dict(zip(BY_ID[cell.table].dims, cell.key, strict=True))
        rows.append(
            {
                "quarter": str(quarter),
                "table": cell.table,
                **{d: dims.get(d, "") for d in DIMENSIONS},
                "persons": None if cell.suppressed else cell.persons,
                "pay_cents": None if cell.suppressed else cell.pay,
                "suppressed": cell.suppressed,
            }
        )
    return rows


def position_rows(quarter: Quarter, positions: Iterable[PersonPosition]) -> list[dict]:
    return [
        {
            "quarter": str(quarter),
            "person": p.person,
            "position": p.position.value,
            "worker_class": p.worker_class,
            "joint_committee": p.joint_committee,
            "employers": p.employers,
            "age_band": p.age_band,
            "sex": p.sex,
            "region": p.region,
            "pay_cents": p.pay,
        }
        for p in positions
    ]


def to_csv(columns: Sequence[str], rows: Iterable[dict]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = []
        for name in columns:
            value = row[name]
            if value is None:
                values.append("")
            elif isinstance(value, bool):
                values.append("true" if value else "false")
            else:
                values.append(value)
        writer.writerow(values)
    return out.getvalue().encode("utf-8")


def to_parquet(kind: str, rows: list[dict]) -> bytes:
    schema = _TABLE_SCHEMA if kind == "tables" else _POSITION_SCHEMA
    table = pa.Table.from_pylist(rows, schema=schema)
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()
