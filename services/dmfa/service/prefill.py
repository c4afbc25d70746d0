"""A declaration pre-filled from the employer's Dimona periods: the "electronic personnel file"
that feeds the web DmfA (brief §3). Used by `python -m dmfa.cli draft` (the employer reads its
own periods from DIMONA and edits the draft before submitting it) and by the development seed.

One worker per INSZ with a period of a type that appears in a DmfA; one record per worker code;
one occupation per period, from its start to its end (open-ended: the quarter's end), on a
5-day, 38-hour schedule; service code 001 with the working days (Monday to Friday) of the
period's part in the quarter and 7.6 hours a day; remuneration code 001 at a synthetic hourly
wage (UNCONFIRMED, for demonstration: a real employer declares its own pay). Worker codes by
Dimona type and joint committee: manual work for the committees in `MANUAL_COMMITTEES`.
"""

from __future__ import annotations

import datetime as dt

from dmfa.service.model import (
    DimonaPeriod,
    Occupation,
    Person,
    Quarter,
    RemunerationLine,
    ServiceLine,
    WorkerRecord,
)

#: Hourly wage in cents by worker code (synthetic).
WAGES = {"015": 1800, "495": 2250, "840": 1300, "841": 1300, "016": 1250, "496": 1250}
MANUAL_COMMITTEES = frozenset({"124", "302", "144", "145"})
DAY_HUNDREDTHS = 760  # 7.6 hours a day: 38 hours over 5 days


def previous_quarter(today: dt.date) -> Quarter:
    q = (today.month - 1) // 3 + 1
    return Quarter(today.year, q - 1) if q > 1 else Quarter(today.year - 1, 4)


def worker_code(worker_type: str, committee: str) -> str | None:
    """The worker code of a Dimona type; None for types that never appear in a DmfA."""
    manual = committee in MANUAL_COMMITTEES
    return {
        "OTH": "015" if manual else "495",
        "BCW": "015",
        "EXT": "015",
        "IVT": "495",
        "TRI": "495",
        "TEA": "495",
        "STU": "840" if manual else "841",
        "STX": "840",
        "FLX": "016" if manual else "496",
    }.get(worker_type)


def working_days(start: dt.date, end: dt.date) -> int:
    """Mondays to Fridays from start to end, both included."""
    full_weeks, rest = divmod((end - start).days + 1, 7)
    days = full_weeks * 5
    for i in range(rest):
        days += (start + dt.timedelta(days=full_weeks * 7 + i)).weekday() < 5
    return days


def prefill(
    committee: str,
    quarter: Quarter,
    periods: list[DimonaPeriod],
    *,
    leave_out: int = -1,
) -> tuple[Person, ...]:
    """Workers built from the periods, by INSZ (the `leave_out`-th omitted when >= 0)."""
    by_worker: dict[str, list[DimonaPeriod]] = {}
    for p in sorted(periods, key=lambda p: (p.insz, p.start, p.period_id)):
        if worker_code(p.worker_type, committee) is not None:
            by_worker.setdefault(p.insz, []).append(p)
    persons = []
    for index, (insz, own) in enumerate(sorted(by_worker.items())):
        if index == leave_out:
            continue
        records: dict[str, list[Occupation]] = {}
        spans: dict[str, tuple[dt.date, dt.date]] = {}
        for p in own:
            code = worker_code(p.worker_type, committee) or ""
            start = max(p.start, quarter.first_day)
            end = min(p.end or quarter.last_day, quarter.last_day)
            days = max(1, working_days(start, end))
            hours = days * DAY_HUNDREDTHS
            occupations = records.setdefault(code, [])
            occupations.append(
                Occupation(
                    number=len(occupations) + 1,
                    start=p.start,
                    end=p.end,
                    joint_committee=committee,
                    working_days_system=500,
                    mean_working_hours=3800,
                    reference_working_hours=3800,
                    services=(ServiceLine("001", days * 100, hours),),
                    remunerations=(RemunerationLine("001", hours * WAGES[code] // 100),),
                )
            )
            first, last = spans.get(code, (start, end))
            spans[code] = (min(first, start), max(last, end))
        persons.append(
            Person(
                insz,
                tuple(
                    WorkerRecord(1, code, spans[code][0], spans[code][1], tuple(occupations))
                    for code, occupations in sorted(records.items())
                ),
            )
        )
    return tuple(persons)
