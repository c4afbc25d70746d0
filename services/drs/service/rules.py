"""Business rules: a well-formed declaration, what the network knows, and the employer's
situation -> status, anomalies, lateness, where the attestation goes. Pure.

Every anomaly has a code, a severity, the request field it concerns and the value concerned:

- `LATE_DECLARATION`, warning: received after the scenario's deadline (`deadlines`); value =
  the deadline.
- `RISK_DATE_IN_FUTURE`, blocking: the risk date is after today, except for temporary
  unemployment (scenario 2), which may be announced before its first day (UNCONFIRMED).
- `PAY_CONTRADICTS_DMFA`, warning: a submitted closed quarter the DmfA holds with other days,
  hours or pay (field `quarters[i].days` / `.hours` / `.pay`; value = the DmfA's). The DmfA's
  figures are what the attestation carries — never a silent overwrite. The risk date's quarter
  and quarters the DmfA lacks are the employer's to give, never a contradiction.
- `END_CONTRADICTS_DIMONA`, warning: scenario 1, the contract's end differs from the end of the
  Dimona period covering the risk date (value = DIMONA's end).
- `UNKNOWN_INSURER`, blocking: a work accident naming an insurer's KBO number that is not in the
  ONSS's insurer list (or no longer active).
- `NO_REQUEST`, blocking: ZIMA 001 from an employer not flagged as filing spontaneously
  (DestHa) with no open request of a mutuality for this worker. **UNCONFIRMED**: the brief says
  scenario 1 is "normally requested" through the hub; we refuse the unrequested one so that the
  mutuality stays the one that starts it.

Blocking anomalies refuse the declaration (stored, no attestation); warnings accept it with
ACCEPTED_WITH_WARNINGS; none: ACCEPTED. Whether the caller is the worker's employer on the risk
date is not an anomaly: without a Dimona period of this employer covering it, the pre-fill is
FAILED_PRECONDITION `NOT_WORKERS_EMPLOYER` and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from drs.service import deadlines
from drs.service.model import (
    FEDRIS,
    ONEM,
    Anomaly,
    Employer,
    EndOfContract,
    Insurer,
    Prefill,
    Scenario,
    Sector,
    Severity,
    Status,
    Submission,
    Task,
    WorkAccident,
)

#: Scenarios that an employer may declare before the risk date (UNCONFIRMED).
MAY_ANTICIPATE = frozenset({Scenario.TEMPORARY_UNEMPLOYMENT})
#: Scenarios that need a request unless the employer files spontaneously (DestHa).
NEEDS_REQUEST = frozenset({Scenario.SICKNESS_INCAPACITY})


@dataclass(frozen=True)
class Facts:
    """What is known about a submission before it is judged."""

    prefill: Prefill
    employer: Employer
    #: The insurer named by a work accident, from the ONSS's list (None: unknown or not named).
    insurer: Insurer | None
    #: The open task this declaration answers (named, or the worker's oldest open one).
    task: Task | None
    today: dt.date


@dataclass(frozen=True)
class Judgement:
    status: Status
    anomalies: tuple[Anomaly, ...]
    late: bool
    deadline: dt.date
    destination: str


def judge(submission: Submission, facts: Facts) -> Judgement:
    scenario = submission.scenario
    found: list[Anomaly] = []
    deadline = deadlines.deadline(scenario, submission.risk_date)
    late = facts.today > deadline
    if submission.risk_date > facts.today and scenario not in MAY_ANTICIPATE:
        found.append(
            Anomaly(
                "RISK_DATE_IN_FUTURE",
                Severity.BLOCKING,
                "risk_date",
                submission.risk_date.isoformat(),
                "the risk date is after today: declare it once it has happened",
            )
        )
    if late:
        found.append(
            Anomaly(
                "LATE_DECLARATION",
                Severity.WARNING,
                "risk_date",
                deadline.isoformat(),
                f"declared after the deadline ({deadline.isoformat()})",
            )
        )
    found += contradictions(submission, facts.prefill)
    risk = submission.risk
    if isinstance(risk, EndOfContract):
        end = facts.prefill.employment.end
        if end is not None and end != risk.contract_end:
            found.append(
                Anomaly(
                    "END_CONTRADICTS_DIMONA",
                    Severity.WARNING,
                    "end_of_contract.contract_end_date",
                    end.isoformat(),
                    "the contract's end differs from the Dimona period's end",
                )
            )
    destination = ""
    sector = scenario.sector
    if sector is Sector.UNEMPLOYMENT:
        destination = ONEM
    elif isinstance(risk, WorkAccident):
        destination = FEDRIS
        if risk.insurer_kbo:
            if facts.insurer is None or not facts.insurer.active:
                found.append(
                    Anomaly(
                        "UNKNOWN_INSURER",
                        Severity.BLOCKING,
                        "work_accident.insurer_kbo",
                        risk.insurer_kbo,
                        "not a work-accident insurer the ONSS knows",
                    )
                )
            else:
                destination = facts.insurer.institution
    if scenario in NEEDS_REQUEST and not facts.employer.spontaneous_sickness and facts.task is None:
        found.append(
            Anomaly(
                "NO_REQUEST",
                Severity.BLOCKING,
                "task",
                "",
                "no mutuality asked for this declaration, and the employer does not file it"
                " spontaneously",
            )
        )
    if any(a.severity is Severity.BLOCKING for a in found):
        status = Status.REFUSED
    elif found:
        status = Status.ACCEPTED_WITH_WARNINGS
    else:
        status = Status.ACCEPTED
    return Judgement(status, tuple(found), late, deadline, destination)


def contradictions(submission: Submission, prefill: Prefill) -> list[Anomaly]:
    """PAY_CONTRADICTS_DMFA for every submitted closed quarter's field the DmfA holds otherwise.
    The DmfA answers closed quarters only: the risk date's quarter, or any quarter it lacks, is
    never a contradiction."""
    held = {q.key: q for q in prefill.quarters}
    found = []
    for i, q in enumerate(submission.quarters):
        dmfa = held.get(q.key)
        if dmfa is None:
            continue
        for field in ("days", "hours", "pay"):
            if getattr(q, field) != getattr(dmfa, field):
                found.append(
                    Anomaly(
                        "PAY_CONTRADICTS_DMFA",
                        Severity.WARNING,
                        f"quarters[{i}].{field}",
                        str(getattr(dmfa, field)),
                        f"{q.key}: the DmfA holds another value; the DmfA's is kept",
                    )
                )
    return found
