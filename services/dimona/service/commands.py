"""Declarations as the caller sent them (mapped from protobuf, not yet validated), and their
validated forms; likewise the DmfA's actual hours (DimonaQuarterService).

Raw dates are `(year, month, day)` tuples (None when absent) and raw times `(hours, minutes,
seconds, nanos)` tuples, so that the validation here, not the transport, decides what is a
possible date: the transport only copies fields.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dimona.service.model import FlexiContract, Identification, Sex, WorkerType
from dimona.service.rules import PeriodDraft

RawDate = tuple[int, int, int] | None
RawTime = tuple[int, int, int, int] | None


@dataclass(frozen=True)
class RawAddress:
    street: str
    house_number: str
    box: str
    postcode: str
    municipality: str
    country_code: str


@dataclass(frozen=True)
class RawIdentification:
    last_name: str
    first_names: tuple[str, ...]
    sex: Sex | None
    birth_date: RawDate
    birth_place: str
    nationality: str
    address: RawAddress | None


@dataclass(frozen=True)
class InForm:
    insz: str | None
    identification: RawIdentification | None
    worker_type: WorkerType | None
    joint_committee: str
    start_date: RawDate
    start_time: RawTime
    end_date: RawDate
    end_time: RawTime
    planned_hours: int
    flexi_contract: FlexiContract | None
    sub_entity: str
    using_employer: str


@dataclass(frozen=True)
class OutForm:
    period_id: int
    end_date: RawDate
    end_time: RawTime
    insz: str


@dataclass(frozen=True)
class UpdateForm:
    period_id: int
    start_date: RawDate
    start_time: RawTime
    end_date: RawDate
    end_time: RawTime
    planned_hours: int | None
    joint_committee: str | None
    worker_type: WorkerType | None
    sub_entity: str | None
    using_employer: str | None


@dataclass(frozen=True)
class CancelForm:
    period_id: int


Form = InForm | OutForm | UpdateForm | CancelForm


@dataclass(frozen=True)
class Submission:
    """A SubmitDeclaration request."""

    parent: str
    reference: str
    form: Form | None


@dataclass(frozen=True)
class RawActualHours:
    """One entry of RecordStudentActualHours, as sent."""

    insz: str
    minutes: int


# -- validated ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidIn:
    insz: str | None  # None: identified by `identification`
    identification: Identification | None
    draft: PeriodDraft


@dataclass(frozen=True)
class ValidOut:
    period_id: int
    end_date: dt.date
    end_time: int | None
    insz: str  # "" when not given


@dataclass(frozen=True)
class ValidUpdate:
    period_id: int
    start_date: dt.date | None
    start_time: int | None
    end_date: dt.date | None
    end_time: int | None
    planned_hours: int | None
    joint_committee: str | None
    worker_type: WorkerType | None
    sub_entity: str | None
    using_employer: str | None


@dataclass(frozen=True)
class ValidCancel:
    period_id: int


ValidForm = ValidIn | ValidOut | ValidUpdate | ValidCancel


@dataclass(frozen=True)
class ValidSubmission:
    employer: str
    reference: str
    form: ValidForm


@dataclass(frozen=True)
class EmployerQuarter:
    """An employer's calendar quarter (DimonaQuarterService's requests)."""

    employer: str  # canonical ONSS number
    year: int  # 2000..2100
    quarter: int  # 1..4


@dataclass(frozen=True)
class ValidActualHours:
    """A RecordStudentActualHours request that may be written."""

    target: EmployerQuarter
    entries: tuple[tuple[str, int], ...]  # (canonical INSZ, minutes), each INSZ once
    source: str
