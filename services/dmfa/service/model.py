"""The DmfA's domain: a declaration's structure, its anomalies, versions and contributions.

Plain frozen dataclasses, no protobuf and no SQL: the transport maps messages to these, storage
maps rows. Amounts are integer euro cents; days and hours are hundredths (150 = one and a half).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass, field


class Severity(enum.Enum):
    BLOCKING = "BLOCKING"
    WARNING = "WARNING"


class Status(enum.Enum):
    ACCEPTED = "ACCEPTED"
    ACCEPTED_WITH_ANOMALIES = "ACCEPTED_WITH_ANOMALIES"
    REFUSED = "REFUSED"

    @property
    def accepted(self) -> bool:
        return self is not Status.REFUSED


class Party(enum.Enum):
    WORKER = "WORKER"
    EMPLOYER = "EMPLOYER"


class EventKind(enum.Enum):
    ACCEPTED = "ACCEPTED"  # an original
    CORRECTED = "CORRECTED"  # a correction superseded the previous version


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    # Cached: the checks ask them for every occupation (a frozen dataclass keeps its __dict__).
    @functools.cached_property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @functools.cached_property
    def last_day(self) -> dt.date:
        if self.quarter == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.quarter + 1, 1) - dt.timedelta(days=1)

    @functools.cached_property
    def deadline(self) -> dt.date:
        """The last day of the month after the quarter (Q2 -> 31 July; brief §3)."""
        month = 3 * self.quarter + 1  # the month after the quarter (13 = January next year)
        year = self.year + (month > 12)
        month = (month - 1) % 12 + 1
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """`2026Q1` -> Quarter(2026, 1); None when it is not one. ASCII digits only (`isdigit`
        accepts other scripts' digits, and superscripts that `int` refuses), and no leading zero
        (year 1000 to 9999), so that `str(Quarter.parse(text)) == text`."""
        if (
            len(text) != 6
            or not text.isascii()
            or text[4] != "Q"
            or not text[:4].isdigit()
            or text[0] == "0"
            or text[5] not in "1234"
        ):
            return None
        return cls(int(text[:4]), int(text[5]))


@dataclass(frozen=True)
class ServiceLine:
    code: str
    days: int  # hundredths
    hours: int  # hundredths


@dataclass(frozen=True)
class RemunerationLine:
    code: str
    amount: int  # cents


@dataclass(frozen=True)
class Occupation:
    number: int
    start: dt.date
    end: dt.date | None
    joint_committee: str
    working_days_system: int  # hundredths of days a week
    mean_working_hours: int  # hundredths of hours a week
    reference_working_hours: int
    services: tuple[ServiceLine, ...] = ()
    remunerations: tuple[RemunerationLine, ...] = ()


@dataclass(frozen=True)
class WorkerRecord:
    employer_category: int
    worker_code: str
    start: dt.date
    end: dt.date
    occupations: tuple[Occupation, ...]

    @property
    def pay(self) -> int:
        return sum(r.amount for o in self.occupations for r in o.remunerations)

    @property
    def hours(self) -> int:
        return sum(s.hours for o in self.occupations for s in o.services)


@dataclass(frozen=True)
class Person:
    insz: str
    records: tuple[WorkerRecord, ...]


@dataclass(frozen=True)
class Header:
    employer: str
    quarter: Quarter
    submission_reference: str
    corrects: int | None  # the version number a correction supersedes; None for an original


@dataclass(frozen=True)
class Submission:
    """A well-formed submission (transport/validation checked the structure)."""

    header: Header
    persons: tuple[Person, ...]
    #: SHA-256 over the header and the workers (deterministic serialization): idempotency.
    digest: str


@dataclass(frozen=True)
class BlockKey:
    insz: str = ""
    worker_code: str = ""
    occupation: int = 0
    service_code: str = ""
    remuneration_code: str = ""

    @property
    def path(self) -> str:
        parts = []
        if self.insz:
            parts.append(f"workers[insz={self.insz}]")
        if self.worker_code:
            parts.append(f"records[worker_code={self.worker_code}]")
        if self.occupation:
            parts.append(f"occupations[{self.occupation}]")
        if self.service_code:
            parts.append(f"services[service_code={self.service_code}]")
        if self.remuneration_code:
            parts.append(f"remunerations[remuneration_code={self.remuneration_code}]")
        return "/".join(parts)


@dataclass(frozen=True)
class Anomaly:
    code: str
    severity: Severity
    block: BlockKey = BlockKey()
    value: str = ""
    label: str = ""


@dataclass(frozen=True)
class ContributionLine:
    party: Party
    kind: str
    basis: int  # cents
    rate_percent: str  # decimal text, "13.07"
    amount: int  # cents


@dataclass(frozen=True)
class ComputedRecord:
    record: WorkerRecord
    contributions: tuple[ContributionLine, ...]


@dataclass(frozen=True)
class DeclaredWorker:
    insz: str
    records: tuple[ComputedRecord, ...]


@dataclass(frozen=True)
class Totals:
    workers: int = 0
    remuneration: int = 0
    worker_contributions: int = 0
    employer_contributions: int = 0

    @property
    def total_contributions(self) -> int:
        return self.worker_contributions + self.employer_contributions


@dataclass(frozen=True)
class Version:
    """One submission about a declaration, as stored."""

    employer: str
    quarter: Quarter
    number: int
    submission_reference: str
    digest: str
    status: Status
    corrects: int | None
    current: bool
    superseded_by: int | None
    anomalies: tuple[Anomaly, ...]
    totals: Totals
    late: bool
    submitted_by: str
    submitted_at: dt.datetime
    id: int = 0  # storage's key
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: str = ""


@dataclass(frozen=True)
class DeclarationSummary:
    employer: str
    quarter: Quarter
    version_count: int
    current: Version | None


@dataclass(frozen=True)
class RemunerationTotal:
    code: str
    amount: int


@dataclass(frozen=True)
class WorkerCodeQuarter:
    worker_code: str
    days: int
    hours: int
    remunerations: tuple[RemunerationTotal, ...]


@dataclass(frozen=True)
class EmployerQuarter:
    employer: str
    version: int
    records: tuple[WorkerCodeQuarter, ...]


@dataclass(frozen=True)
class DeclarationEvent:
    sequence: int
    kind: EventKind
    employer: str
    quarter: Quarter
    version: int
    superseded: int | None
    worker_inszs: tuple[str, ...]
    recorded_at: dt.datetime


@dataclass(frozen=True)
class Employer:
    onss_number: str
    name: str
    provisional: bool


# -- what the network tells (ports) ---------------------------------------------------------


class PersonOutcome(enum.Enum):
    ACTIVE = "ACTIVE"
    NOT_FOUND = "NOT_FOUND"
    REPLACED = "REPLACED"
    DECEASED = "DECEASED"


@dataclass(frozen=True)
class PersonCheck:
    outcome: PersonOutcome
    replaced_by: str = ""


@dataclass(frozen=True)
class DimonaPeriod:
    """A Dimona period of the declaring employer, as DIMONA tells it through the router."""

    period_id: int
    insz: str
    worker_type: str  # "OTH", "STU", ... (DIMONA's three-letter types)
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class StudentBalance:
    """A student's year against the quota, with this employer's quarter in it (minutes)."""

    quota_minutes: int
    used_minutes: int
    employer_quarter_minutes: int

    @property
    def available_minutes(self) -> int:
        """What this employer's quarter may count within the quota: the quota less what every
        other employer and quarter counts (UNCONFIRMED order: those come first)."""
        others = self.used_minutes - self.employer_quarter_minutes
        return max(0, self.quota_minutes - others)


@dataclass(frozen=True)
class CrossCheck:
    """Everything the network said about a submission, gathered before it is judged."""

    persons: dict[str, PersonCheck] = field(default_factory=dict)
    periods: tuple[DimonaPeriod, ...] = ()
    students: dict[str, StudentBalance] = field(default_factory=dict)
