"""DIMONA's domain: employers, mandates, declarations, periods, anomalies, employment events.

Plain frozen dataclasses and enums shared by the rules, the storage mapping and the transport.
Times of day are minutes since midnight (0..1439); dates are `datetime.date`; instants are
timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from runtime.identifiers import Sex

__all__ = [
    "Action",
    "Anomaly",
    "Declaration",
    "Employer",
    "EventKind",
    "EmploymentEvent",
    "FlexiContract",
    "Identification",
    "Period",
    "PeriodState",
    "Severity",
    "Sex",
    "Status",
    "StudentActual",
    "StudentQuarterBalance",
    "WorkerType",
]


class WorkerType(enum.Enum):
    """Dimona worker types (the schema's codes)."""

    OTH = "OTH"
    STU = "STU"
    FLX = "FLX"
    EXT = "EXT"
    STX = "STX"
    DWD = "DWD"
    IVT = "IVT"
    A17 = "A17"
    BCW = "BCW"
    TRI = "TRI"
    STG = "STG"
    TEA = "TEA"


class FlexiContract(enum.Enum):
    WRITTEN = "WRITTEN"
    ORAL = "ORAL"


class Action(enum.Enum):
    IN = "IN"
    OUT = "OUT"
    UPDATE = "UPDATE"
    CANCEL = "CANCEL"


class Status(enum.Enum):
    ACCEPTED = "ACCEPTED"
    ACCEPTED_WITH_WARNINGS = "ACCEPTED_WITH_WARNINGS"
    REFUSED = "REFUSED"


class Severity(enum.Enum):
    BLOCKING = "BLOCKING"
    WARNING = "WARNING"


class PeriodState(enum.Enum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class EventKind(enum.Enum):
    STARTED = "STARTED"
    ENDED = "ENDED"
    CHANGED = "CHANGED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Employer:
    """An employer of the register ONSS keeps in this service."""

    onss_number: str  # canonical (runtime.identifiers.parse_onss_number)
    enterprise_number: str  # KBO, 10 digits
    name: str
    provisional: bool
    #: Joint committees the employer's workers fall under (informative; not checked).
    joint_committees: tuple[str, ...] = ()
    #: Size class by number of workers, e.g. "1-4", "5-9", ..., "1000+".
    size_class: str = ""


@dataclass(frozen=True)
class Identification:
    """A worker without an INSZ, as the declarant identifies him."""

    last_name: str
    first_names: tuple[str, ...]
    sex: Sex
    birth_date: dt.date
    birth_place: str
    nationality: str
    street: str
    house_number: str
    box: str
    postcode: str
    municipality: str
    country_code: str


@dataclass(frozen=True)
class Anomaly:
    """A finding about a declaration (Dimona's anomaly report: code, tag, value, label)."""

    code: str
    severity: Severity
    field: str = ""
    value: str = ""
    label: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.BLOCKING


@dataclass(frozen=True)
class Period:
    """A Dimona period as stored."""

    period_id: int
    employer: str
    worker: str  # INSZ
    worker_type: WorkerType
    joint_committee: str
    sub_entity: str
    using_employer: str
    start_date: dt.date
    start_time: int | None
    end_date: dt.date | None
    end_time: int | None
    planned_hours: int
    flexi_contract: FlexiContract | None
    state: PeriodState
    student_minutes: int
    exceeding_minutes: int
    late: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def active(self) -> bool:
        return self.state is PeriodState.ACTIVE

    @property
    def name(self) -> str:
        return f"employers/{self.employer}/periods/{self.period_id}"

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        """Do the days of this period and [start, end] (None: open) meet?"""
        mine_end = self.end_date or dt.date.max
        other_end = end or dt.date.max
        return self.start_date <= other_end and start <= mine_end


@dataclass(frozen=True)
class Declaration:
    """A declaration as stored (accepted or refused), with what it answered."""

    employer: str
    reference: str
    action: Action
    status: Status
    anomalies: tuple[Anomaly, ...]
    period_id: int  # 0 when none
    worker: str  # INSZ, "" when unknown (e.g. a refused OUT naming no period)
    late: bool
    deadline: dt.datetime | None
    submitted_by: str
    submitted_at: dt.datetime
    fingerprint: str
    period: Period | None = field(default=None, compare=False)
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: str = ""

    @property
    def name(self) -> str:
        return f"employers/{self.employer}/declarations/{self.reference}"

    @property
    def accepted(self) -> bool:
        return self.status is not Status.REFUSED


@dataclass(frozen=True)
class EmploymentEvent:
    """One entry of the gap-free employment event log."""

    sequence: int
    kind: EventKind
    period: Period
    declaration: str  # the declaration's resource name
    recorded_at: dt.datetime


@dataclass(frozen=True)
class StudentBalance:
    """A student's minutes in one calendar year against the quota."""

    insz: str
    year: int
    quota_hours: int
    used_minutes: int
    quarter_minutes: tuple[int, int, int, int]

    @property
    def remaining_minutes(self) -> int:
        return max(0, self.quota_hours * 60 - self.used_minutes) if self.quota_hours else 0

    @property
    def exceeding_minutes(self) -> int:
        return max(0, self.used_minutes - self.quota_hours * 60) if self.quota_hours else 0


@dataclass(frozen=True)
class StudentActual:
    """A student's actual working time with one employer in one calendar quarter, as declared in
    an accepted DmfA: in the quota counter it replaces the planned minutes of that employer's
    student periods in that quarter."""

    employer: str
    worker: str  # INSZ
    year: int
    quarter: int  # 1..4
    minutes: int
    source: str  # what the figure comes from (e.g. the DmfA declaration's name and version)
    recorded_at: dt.datetime


@dataclass(frozen=True)
class StudentQuarterBalance:
    """A student's year against the quota, with one employer's quarter within it."""

    insz: str
    quota_hours: int
    used_minutes: int
    employer_quarter_minutes: int
