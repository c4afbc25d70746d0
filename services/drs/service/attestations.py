"""An accepted declaration's attestation: its kind, destination and JSON payload.

The payload (`application/json`, UTF-8, keys sorted: the same declaration always gives the
same bytes) is the declaration's content as the receiving institution needs it — the risk data
the employer added, the employment DIMONA knows, and the reference quarters: the DmfA's closed
quarters (`"source": "DMFA"`), completed by the employer's figures for quarters the DmfA does
not hold (`"source": "EMPLOYER"`); where the employer contradicted the DmfA the DmfA's figures
stay and the warning is listed. The worker is named by INSZ only: the institution reads the
identity from the register if it needs it.
"""

from __future__ import annotations

import json
from typing import Any

from drs.service import codec
from drs.service.model import Attestation, Declaration, QuarterPay, task_name

PAYLOAD_TYPE = "application/json"


def merged_quarters(
    dmfa: tuple[QuarterPay, ...], employer: tuple[QuarterPay, ...]
) -> list[dict[str, Any]]:
    held = {q.key for q in dmfa}
    rows = [(q, "DMFA") for q in dmfa] + [(q, "EMPLOYER") for q in employer if q.key not in held]
    rows.sort(key=lambda r: r[0].key, reverse=True)
    return [
        {
            "year": q.year,
            "quarter": q.quarter,
            "days": q.days,
            "hours": q.hours,
            "pay": q.pay,
            "source": source,
        }
        for q, source in rows
    ]


def payload(d: Declaration) -> bytes:
    body = {
        "declaration": d.name,
        "employer": d.employer,
        "scenario": d.scenario.value,
        "kind": d.scenario.kind,
        "insz": d.insz,
        "risk_date": d.risk_date.isoformat(),
        "deadline": d.deadline.isoformat(),
        "late": d.late,
        "risk": codec.risk_to_json(d.risk),
        "employment": codec.employment_to_json(d.employment),
        "quarters": merged_quarters(d.dmfa_quarters, d.quarters),
        "warnings": [{"code": a.code, "field": a.field, "value": a.value} for a in d.anomalies],
        "task": task_name(d.employer, d.task) if d.task else None,
        "submit_time": d.submitted_at.isoformat(),
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def attestation(d: Declaration) -> Attestation:
    return Attestation(
        id=d.attestation_id,
        kind=d.attestation_kind,
        insz=d.insz,
        reference_date=d.risk_date,
        destination=d.destination,
        payload=payload(d),
    )
