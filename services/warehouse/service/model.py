"""The warehouse's domain: coded records, positions, projects and grants. No grpc, no SQL.

No INSZ anywhere: a person is their project code (`person`, 32 base32 characters from the
trusted third party).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

PROJECT_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$", re.ASCII)
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$", re.ASCII)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        found = _QUARTER.match(text)
        return cls(int(found[1]), int(found[2])) if found else None

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> dt.date:
        if self.quarter == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.quarter + 1, 1) - dt.timedelta(days=1)


class Source(enum.Enum):
    """The sources a quarter is built from, in the order they are extracted."""

    REGISTRY_DEMOGRAPHICS = "REGISTRY_DEMOGRAPHICS"
    DIMONA_PERIODS = "DIMONA_PERIODS"
    DMFA_WORKER_QUARTERS = "DMFA_WORKER_QUARTERS"


@dataclass(frozen=True, slots=True)
class CodedPerson:
    """A person of the register's population on the quarter's last day."""

    person: str
    age: int | None
    sex: str  # MALE, FEMALE, UNKNOWN
    postcode: str
    country_code: str


@dataclass(frozen=True, slots=True)
class CodedPeriod:
    """A Dimona period meeting the quarter."""

    person: str
    employer: str
    worker_type: str  # DIMONA's code: OTH, STU, FLX, ...
    joint_committee: str
    start: dt.date
    end: dt.date | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class CodedWorkerRecord:
    """One worker code of a worker's DmfA quarter with one employer."""

    person: str
    employer: str
    worker_code: str
    days: int  # hundredths
    hours: int  # hundredths
    pay: int  # euro cents, every remuneration code


@dataclass(frozen=True)
class Extraction:
    """One source's extraction as the trusted third party delivered it."""

    source: Source
    records: int
    router_ticket: str
    key_id: str


@dataclass(frozen=True)
class Project:
    id: str
    title: str
    #: Its codes are its own (the TTP keeps a key for it alone).
    unlinkable: bool
    #: Its tables are published to every party (the standard tables).
    public: bool


@dataclass(frozen=True)
class Grant:
    """A research centre's grant for a project, valid over a period."""

    project: str
    institution: str
    #: The coded persons' positions (micro-data) may be exported, not only the tables.
    microdata: bool
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class QuarterBuild:
    project: str
    quarter: Quarter
    key_id: str
    persons: int
    in_work: int
    cells: int
    primary_suppressed: int
    secondary_suppressed: int
    threshold: int
    dominance_percent: int
    built_at: dt.datetime
    extractions: tuple[Extraction, ...] = ()

    @property
    def name(self) -> str:
        return f"projects/{self.project}/quarters/{self.quarter}"
