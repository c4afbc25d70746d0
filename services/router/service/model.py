"""The router's domain: institutions, service providers, authorisations, directory entries.

Plain dataclasses, free of grpc and SQL. The reference directory's sector and capacity codes come
from the CBSS list (domain brief §5); the ONSS employment capacity (sector 1, code 1) is our own
choice, marked UNCONFIRMED below.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Network(enum.Enum):
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


class DirectoryCheck(enum.Enum):
    REQUIRED = "REQUIRED"
    NONE = "NONE"


class DeceasedPolicy(enum.Enum):
    REFUSE = "REFUSE"
    PASS_WITH_FLAG = "PASS_WITH_FLAG"  # noqa: S105 - not a password


@dataclass(frozen=True, order=True)
class Capacity:
    """A sector and a capacity code within it, written `<sector>/<code>` (e.g. 11/1)."""

    sector: int
    code: int

    def __str__(self) -> str:
        return f"{self.sector}/{self.code}"


#: Sectors and capacity codes the directory accepts (domain brief §5, from the CBSS list).
CAPACITY_CODES: dict[Capacity, str] = {
    Capacity(7, 101): "family allowances: beneficiary",
    Capacity(7, 104): "family allowances: entitled child",
    Capacity(11, 1): "health insurance: insurability",
    Capacity(11, 2): "health insurance: incapacity for work",
    Capacity(15, 2): "self-employed: social statute",
    Capacity(17, 1): "CPAS: under investigation",
    Capacity(17, 2): "CPAS: integration income",
    Capacity(17, 5): "CPAS: cohabitant",
    Capacity(18, 1): "unemployment: controlled unemployed",
    Capacity(18, 4): "unemployment: job seeker",
    # UNCONFIRMED: the brief names no capacity for ONSS's employment files. Chosen: sector 1
    # (employment, ONSS), code 1 "employee declared by an employer" (integrated from Dimona).
    Capacity(1, 1): "employment (ONSS): employee declared by an employer [UNCONFIRMED]",
    # UNCONFIRMED: work accidents (Fedris and insurers): sector 24, code 1 "victim".
    Capacity(24, 1): "work accidents: victim [UNCONFIRMED]",
}


@dataclass(frozen=True)
class Institution:
    id: str
    display_name: str
    network: Network = Network.PRIMARY
    hub: str = ""
    active: bool = True
    sectors: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ServiceProvider:
    """One provider of a gRPC service at an endpoint, with the descriptors it registered."""

    service: str
    provider: str
    endpoint: str
    deceased_policy: DeceasedPolicy = DeceasedPolicy.REFUSE
    files: tuple[bytes, ...] = ()
    #: Capacities that make this provider's institution the holder of a person's file for the
    #: service (e.g. 11/1 for a mutuality's services): how the router picks the provider when
    #: several offer the service and the caller names none.
    holder_capacities: frozenset[Capacity] = frozenset()
    #: Set when the provider is a secondary network reached through its hub: the hub router's
    #: name (its endpoint presents `router/<name>`, and forwards to the member institutions).
    via_router: str = ""


@dataclass(frozen=True)
class Authorisation:
    id: str
    deliberation: str
    requester: str
    service: str
    method: str  # "" = every method
    destination: str  # "" = any provider
    legal_contexts: frozenset[str]
    directory_check: DirectoryCheck
    capacities: frozenset[Capacity]
    read_mask_cap: frozenset[str]  # empty = no cap
    valid_from: dt.date
    valid_to: dt.date | None
    revoked: bool = False

    def covers(self, service: str, method: str, destination: str, on: dt.date) -> bool:
        """Does it apply to this method of this service at this provider on this date?"""
        return (
            not self.revoked
            and self.service == service
            and self.method in ("", method)
            and self.destination in ("", destination)
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )


@dataclass(frozen=True)
class DirectoryEntry:
    insz: str
    institution: str
    capacity: Capacity
    start: dt.date
    end: dt.date | None = None

    def covers(self, on: dt.date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


@dataclass(frozen=True)
class PersonStatus:
    """What the National Register says of an INSZ, for the router's checks."""

    exists: bool
    deceased: bool = False
    replaced_by: str = ""


@dataclass
class ConfigSnapshot:
    """The router's configuration at one version: read on every call, rebuilt when it changes."""

    version: int
    institutions: dict[str, Institution] = field(default_factory=dict)
    providers: dict[str, list[ServiceProvider]] = field(default_factory=dict)  # by service
    authorisations: dict[str, list[Authorisation]] = field(default_factory=dict)  # by requester
