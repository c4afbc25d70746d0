"""A mutuality's domain: its members' affiliations. No grpc, no sqlalchemy."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

#: The capacity under which a mutuality integrates its members in the reference directory
#: (sector 11 health insurance, code 1 insurability: domain brief §5).
MEMBER_SECTOR, MEMBER_CODE = 11, 1


class Role(enum.Enum):
    HOLDER = "HOLDER"  # affiliated in their own right (titulaire / gerechtigde)
    DEPENDENT = "DEPENDENT"  # insured as a holder's dependent (personne à charge)


class Insurability(enum.Enum):
    INSURED = "INSURED"
    SUSPENDED = "SUSPENDED"  # e.g. contributions unpaid


@dataclass(frozen=True)
class Affiliation:
    """A person's affiliation to this mutuality over a period."""

    mutuality: str
    insz: str
    since: dt.date
    until: dt.date | None
    role: Role
    insurability: Insurability
    #: When the affiliation was integrated in the reference directory at the hub (None: not yet).
    integrated_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return f"mutualities/{self.mutuality}/members/{self.insz}"

    def covers(self, day: dt.date) -> bool:
        return self.since <= day and (self.until is None or day <= self.until)
