"""The data dictionary of an export: what every file and column means, how persons are coded,
and how the tables were protected — as JSON (`dictionary.json`) and Markdown (`dictionary.md`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from warehouse.service import categories
from warehouse.service.model import Project, Quarter
from warehouse.service.positions import Position
from warehouse.service.tables import PUBLISHED

CODING = (
    "A person is a code from the CBSS's trusted third party: base32(HMAC-SHA256(key, INSZ)), the "
    "first 20 bytes of the MAC, 32 characters of A-Z and 2-7. The key is the TTP's and never "
    "leaves it: nobody can compute a code from a national number. A person keeps the same code "
    "in every quarter of a project."
)
LINKABLE = (
    "This project shares the TTP's common key: a person has the same code in every project "
    "that does (the standard tables included)."
)
UNLINKABLE = (
    "This project requires unlinkability: its key is its own, so its codes match no other "
    "project's."
)
POPULATION = (
    "The tables count the persons in work on the quarter's last day (positions EMPLOYED, "
    "SEVERAL_EMPLOYERS and STUDENT), each once, under their main job's joint committee and "
    "worker class; pay is their pay in the quarter, all employers and remuneration codes, in "
    "euro cents."
)


def _control(threshold: int, percent: int) -> str:
    return (
        f"A cell with 1 to {threshold - 1} persons, or whose pay minus its two largest "
        f"contributions is below {percent} % of the largest (the p % rule), is suppressed; "
        "further cells are suppressed until, by linear programming over every published cell of "
        f"the quarter, each suppressed cell's persons range over at least {threshold} and its pay "
        f"over at least {percent} % of its value. A suppressed cell holds at least one person; "
        "a combination absent from a table holds none. A table's margins are the other tables: "
        "each row whose dimension columns are empty is the total over those dimensions."
    )


def dictionary(
    project: Project,
    export: str,
    requester: str,
    quarters: Sequence[Quarter],
    file_format: str,
    microdata: bool,
    threshold: int,
    percent: int,
) -> dict:
    ext = "csv" if file_format == "CSV" else "parquet"
    dims = {
        "joint_committee": 'Joint committee of the main job on the last day ("302", '
        '"140.03"; "XXX" for employers without one, "NONE" for worker types without).',
        "worker_class": "Class of the main job: "
        + ", ".join(categories.WORKER_CLASSES)
        + " (from the DmfA's worker code, else DIMONA's worker type).",
        "age_band": "Age on the last day: "
        + ", ".join(label for label, _, _ in categories.AGE_BANDS)
        + ", UNKNOWN.",
        "sex": "Registered sex: " + ", ".join(categories.SEXES) + ".",
        "region": "Region of residence on the last day, from the postcode by the table "
        "1000-1299 BRUSSELS, 1300-1499 WALLONIA, 1500-3999 FLANDERS, 4000-7999 WALLONIA, "
        "8000-9999 FLANDERS; ABROAD, UNKNOWN (no address).",
    }
    files = [
        {
            "name": f"tables.{ext}",
            "description": "Every published cell of every table of the exported quarters.",
            "columns": [
                {"name": "quarter", "type": "string", "description": "The quarter, 2025Q2."},
                {"name": "table", "type": "string", "description": "The table's id (below)."},
                *(
                    {"name": d, "type": "string",
                     "description": text + " Empty when not a dimension of the table."}
                    for d, text in dims.items()
                ),
                {"name": "persons", "type": "int64",
                 "description": "Persons in work on the last day; empty when suppressed."},
                {"name": "pay_cents", "type": "int64",
                 "description": "Their pay in the quarter, euro cents; empty when suppressed."},
                {"name": "suppressed", "type": "bool",
                 "description": "true when the cell is suppressed (disclosure control)."},
            ],
        }
    ]  # fmt: skip
    if microdata:
        files.append(
            {
                "name": f"positions.{ext}",
                "description": "Each coded person's socio-economic position on the quarter's "
                "last day (every person of the register's population and any other person a "
                "source names).",
                "columns": [
                    {"name": "quarter", "type": "string", "description": "The quarter."},
                    {"name": "person", "type": "string", "description": "The person's code."},
                    {"name": "position", "type": "string",
                     "description": ", ".join(p.value for p in Position)
                     + " (the warehouse's README explains each)."},
                    {"name": "worker_class", "type": "string",
                     "description": dims["worker_class"] + " NONE when not in work."},
                    {"name": "joint_committee", "type": "string",
                     "description": dims["joint_committee"] + " NONE when not in work."},
                    {"name": "employers", "type": "int32",
                     "description": "Distinct employers on the last day."},
                    {"name": "age_band", "type": "string", "description": dims["age_band"]},
                    {"name": "sex", "type": "string", "description": dims["sex"]},
                    {"name": "region", "type": "string", "description": dims["region"]},
                    {"name": "pay_cents", "type": "int64",
                     "description": "Pay in the quarter, every employer, euro cents."},
                ],
            }
        )  # fmt: skip
    return {
        "export": export,
        "requester": requester,
        "project": {"id": project.id, "title": project.title, "unlinkable": project.unlinkable},
        "quarters": [str(q) for q in quarters],
        "format": file_format,
        "coding": CODING + " " + (UNLINKABLE if project.unlinkable else LINKABLE),
        "population": POPULATION,
        "disclosure_control": {
            "threshold": threshold,
            "dominance_percent": percent,
            "rules": _control(threshold, percent),
        },
        "tables": [{"id": s.id, "title": s.title, "dimensions": list(s.dims)} for s in PUBLISHED],
        "files": files,
    }


def to_json(content: dict) -> bytes:
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_markdown(content: dict) -> bytes:
    lines = [
        f"# Data dictionary — {content['project']['title']} ({content['project']['id']})",
        "",
        f"Export `{content['export']}` for `{content['requester']}`: quarters "
        f"{', '.join(content['quarters'])}, {content['format']}.",
        "",
        "## Persons", "", content["coding"], "", content["population"], "",
        "## Disclosure control", "", content["disclosure_control"]["rules"], "",
        "## Tables", "", "| id | dimensions | title |", "|---|---|---|",
    ]  # fmt: skip
    for t in content["tables"]:
        lines.append(f"| `{t['id']}` | {', '.join(t['dimensions']) or '—'} | {t['title']} |")
    for f in content["files"]:
        lines += ["", f"## `{f['name']}`", "", f["description"], "",
                  "| column | type | meaning |", "|---|---|---|"]  # fmt: skip
        for c in f["columns"]:
            lines.append(f"| `{c['name']}` | {c['type']} | {c['description']} |")
    return ("\n".join(lines) + "\n").encode("utf-8")
