"""The DRS's domain: scenarios and their risk data, what the network knows (the pre-fill), a
declaration as judged and stored, its anomalies, the to-do tasks, the insurers.

Plain frozen dataclasses, no protobuf and no SQL: the transport maps messages to these, storage
maps rows. Amounts are integer euro cents; days and hours are hundredths (150 = one and a half).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Sector(enum.Enum):
    """Who receives a scenario's attestation, and under which legal context it travels."""

    UNEMPLOYMENT = "drs.unemployment"  # ONEM
    SICKNESS = "drs.sickness"  # the worker's mutuality, found by the directory behind `cin`
    WORK_ACCIDENT = "drs.work-accident"  # the insurer named by the employer, or Fedris

    @property
    def legal_context(self) -> str:
        return self.value


class Scenario(enum.Enum):
    """The scenarios (brief §4), each with the attestation kind it produces."""

    UNEMPLOYMENT_END_OF_CONTRACT = "UNEMPLOYMENT_END_OF_CONTRACT"  # ONEM scenario 1
    TEMPORARY_UNEMPLOYMENT = "TEMPORARY_UNEMPLOYMENT"  # ONEM scenario 2
    TEMPORARY_UNEMPLOYMENT_HOURS = "TEMPORARY_UNEMPLOYMENT_HOURS"  # ONEM scenario 5
    SICKNESS_INCAPACITY = "SICKNESS_INCAPACITY"  # ZIMA 001
    SICKNESS_RESUMPTION = "SICKNESS_RESUMPTION"  # ZIMA 006
    WORK_ACCIDENT = "WORK_ACCIDENT"

    @property
    def kind(self) -> str:
        """The attestation kind (runtime.outbox, the inboxes)."""
        return _KINDS[self][0]

    @property
    def sector(self) -> Sector:
        return _KINDS[self][1]


_KINDS: dict[Scenario, tuple[str, Sector]] = {
    Scenario.UNEMPLOYMENT_END_OF_CONTRACT: ("unemployment.c4", Sector.UNEMPLOYMENT),
    Scenario.TEMPORARY_UNEMPLOYMENT: ("unemployment.temporary", Sector.UNEMPLOYMENT),
    Scenario.TEMPORARY_UNEMPLOYMENT_HOURS: ("unemployment.temporary-hours", Sector.UNEMPLOYMENT),
    Scenario.SICKNESS_INCAPACITY: ("sickness.zima-001", Sector.SICKNESS),
    Scenario.SICKNESS_RESUMPTION: ("sickness.zima-006", Sector.SICKNESS),
    Scenario.WORK_ACCIDENT: ("work-accident.declaration", Sector.WORK_ACCIDENT),
}

#: Attestation kind -> legal context: what the outbox needs (and the router's seed mirrors).
LEGAL_CONTEXTS: dict[str, str] = {s.kind: s.sector.legal_context for s in Scenario}

#: The receiving institutions named by id (sickness: none, the directory chooses).
ONEM = "onem"
FEDRIS = "fedris"


class Severity(enum.Enum):
    BLOCKING = "BLOCKING"
    WARNING = "WARNING"


class Status(enum.Enum):
    ACCEPTED = "ACCEPTED"
    ACCEPTED_WITH_WARNINGS = "ACCEPTED_WITH_WARNINGS"
    REFUSED = "REFUSED"

    @property
    def accepted(self) -> bool:
        return self is not Status.REFUSED


class AttestationStatus(enum.Enum):
    """Where a declaration's attestation stands (the outbox's status); NONE when refused."""

    NONE = "NONE"
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    DEAD_LETTERED = "DEAD_LETTERED"


class TaskState(enum.Enum):
    OPEN = "OPEN"
    DONE = "DONE"


class EndReason(enum.Enum):
    DISMISSAL = "DISMISSAL"
    FIXED_TERM_END = "FIXED_TERM_END"
    RESIGNATION = "RESIGNATION"
    MUTUAL_AGREEMENT = "MUTUAL_AGREEMENT"
    SERIOUS_MISCONDUCT = "SERIOUS_MISCONDUCT"


#: The 11 types of temporary unemployment / employee suspension (ONEM scenarios 2 and 5).
TEMPORARY_UNEMPLOYMENT_TYPES: dict[str, str] = {
    "001": "economic",
    "002": "weather",
    "003": "technical",
    "004": "force majeure",
    "005": "medical force majeure",
    "006": "collective closure (annual holidays)",
    "007": "collective closure (compensatory rest)",
    "008": "collective closure (other)",
    "009": "strike or lock-out",
    "010": "protected worker",
    "011": "employee suspension",
}


# -- the risk data of each scenario -----------------------------------------------------------


@dataclass(frozen=True)
class EndOfContract:
    """ONEM scenario 1; the risk date is the last day worked."""

    #: None only as the transport reads an unset or unknown reason; validation refuses it.
    reason: EndReason
    contract_end: dt.date
    notice_indemnity: int = 0  # cents
    company_supplement: bool = False


@dataclass(frozen=True)
class TemporaryUnemployment:
    """ONEM scenario 2; the risk date is the first day."""

    type: str  # "001".."011"
    planned_end: dt.date | None = None


@dataclass(frozen=True)
class TemporaryUnemploymentHours:
    """ONEM scenario 5; the risk date is the month's first day."""

    type: str
    hours: int  # hundredths
    days: int


@dataclass(frozen=True)
class Incapacity:
    """ZIMA 001; the risk date is the first day of incapacity."""

    last_day_worked: dt.date
    maternity_protection: bool = False
    guaranteed_salary_end: dt.date | None = None


@dataclass(frozen=True)
class Resumption:
    """ZIMA 006; the risk date is the first day worked again."""

    part_time: bool = False
    weekly_hours: int = 0  # hundredths, part-time only


@dataclass(frozen=True)
class WorkAccident:
    """A work accident; the risk date is the accident's day. No insurer: Fedris."""

    place: str
    description: str
    insurer_kbo: str = ""  # canonical 10 digits, or "" when not insured
    policy_number: str = ""
    on_the_way: bool = False


Risk = (
    EndOfContract
    | TemporaryUnemployment
    | TemporaryUnemploymentHours
    | Incapacity
    | Resumption
    | WorkAccident
)

_SCENARIO_OF: dict[type, Scenario] = {
    EndOfContract: Scenario.UNEMPLOYMENT_END_OF_CONTRACT,
    TemporaryUnemployment: Scenario.TEMPORARY_UNEMPLOYMENT,
    TemporaryUnemploymentHours: Scenario.TEMPORARY_UNEMPLOYMENT_HOURS,
    Incapacity: Scenario.SICKNESS_INCAPACITY,
    Resumption: Scenario.SICKNESS_RESUMPTION,
    WorkAccident: Scenario.WORK_ACCIDENT,
}


def scenario_of(risk: Risk) -> Scenario:
    return _SCENARIO_OF[type(risk)]


# -- quarters and what the network knows ------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    def shift(self, by: int) -> Quarter:
        index = self.year * 4 + (self.quarter - 1) + by
        return Quarter(index // 4, index % 4 + 1)


@dataclass(frozen=True)
class QuarterPay:
    """One quarter's pay and working time with the employer."""

    year: int
    quarter: int
    days: int  # hundredths
    hours: int  # hundredths
    pay: int  # cents

    @property
    def key(self) -> Quarter:
        return Quarter(self.year, self.quarter)


@dataclass(frozen=True)
class Worker:
    """The worker as the register knows him (identity and birth)."""

    insz: str
    last_name: str
    first_names: tuple[str, ...]
    birth_date: dt.date | None
    #: The register says the person died (its identity is then withheld by the router).
    deceased: bool = False


@dataclass(frozen=True)
class Employment:
    """The Dimona period covering the risk date, with this employer."""

    period_id: int
    worker_type: str  # DIMONA's three letters, "OTH", "STU", ...
    joint_committee: str
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class Prefill:
    """What the network knows for a declaration (only once: never asked of the employer)."""

    worker: Worker
    employment: Employment
    quarters: tuple[QuarterPay, ...]  # closed quarters from the DmfA, newest first (at most 4)
    deadline: dt.date


# -- a declaration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A well-formed submission (service.validation checked its structure)."""

    employer: str
    reference: str
    insz: str
    risk_date: dt.date
    risk: Risk
    quarters: tuple[QuarterPay, ...] = ()
    task: str = ""  # the task id it answers, "" when none named
    #: SHA-256 of the request's deterministic serialization: idempotency.
    digest: str = ""

    @property
    def scenario(self) -> Scenario:
        return scenario_of(self.risk)


@dataclass(frozen=True)
class Anomaly:
    code: str
    severity: Severity
    field: str = ""
    value: str = ""
    label: str = ""


@dataclass(frozen=True)
class Declaration:
    """A declaration as stored (refused ones included)."""

    employer: str
    reference: str
    scenario: Scenario
    insz: str
    risk_date: dt.date
    status: Status
    anomalies: tuple[Anomaly, ...]
    late: bool
    deadline: dt.date
    digest: str
    risk: Risk
    quarters: tuple[QuarterPay, ...]
    employment: Employment | None
    dmfa_quarters: tuple[QuarterPay, ...]
    attestation_id: str  # "" when refused
    attestation_kind: str
    destination: str  # "onem", "fedris", an insurer's id; "" = the directory chooses
    task: str  # the task id it answered, ""
    submitted_by: str  # SPIFFE URI
    submitted_at: dt.datetime
    attestation_status: AttestationStatus = AttestationStatus.NONE
    id: int = 0  # storage's key
    #: The INSZ of the person who acted for the employer at the portal; "" for a certificate.
    acting_person: str = ""

    @property
    def name(self) -> str:
        return declaration_name(self.employer, self.reference)


def declaration_name(employer: str, reference: str) -> str:
    return f"employers/{employer}/declarations/{reference}"


def task_name(employer: str, task_id: str) -> str:
    return f"employers/{employer}/tasks/{task_id}"


@dataclass(frozen=True)
class Task:
    """A declaration an institution asked an employer for (the employer's to-do list)."""

    id: str
    employer: str
    scenario: Scenario
    insz: str
    risk_date: dt.date
    requested_by: str  # the requesting institution's id, e.g. "mut-100"
    request_id: str
    digest: str
    requested_at: dt.datetime
    deadline: dt.date
    state: TaskState = TaskState.OPEN
    declaration: str = ""  # the answering declaration's reference, when done
    seq: int = 0  # storage's order

    @property
    def name(self) -> str:
        return task_name(self.employer, self.id)


@dataclass(frozen=True)
class Employer:
    onss_number: str
    name: str
    provisional: bool
    #: Files ZIMA 001 spontaneously, without a mutuality's request (DestHa).
    spontaneous_sickness: bool = False


@dataclass(frozen=True)
class Insurer:
    """A work-accident insurer the ONSS knows: its KBO number and its institution id in the
    network (the attestation's destination)."""

    kbo: str
    institution: str
    name: str
    active: bool = True


@dataclass(frozen=True)
class Attestation:
    """An attestation to queue in the declaration's transaction (runtime.outbox)."""

    id: str
    kind: str
    insz: str
    reference_date: dt.date
    destination: str
    payload: bytes
