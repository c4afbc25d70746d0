"""Who may act for an employer: the one rule of the ONSS's services (DIMONA, the DmfA, the DRS).

- An employer (`employer/{onss}` certificate) acts for itself only (PERMISSION_DENIED
  `NOT_OWN_EMPLOYER`), checked before anything is looked up, so that an employer learns nothing
  about another one;
- a payroll bureau (`bureau/{kbo}`) acts for an employer that gave it a mandate valid today
  (PERMISSION_DENIED `NO_MANDATE`);
- nobody else declares or reads an employer's declarations directly (`NOT_AUTHORISED`):
  institutions consult through the router;
- a person acting for the employer at the portal (the employer's party with `person` and
  `role` set, runtime.identity) reads with either role but files only as a `declarant`: every
  write refuses a `reader` with PERMISSION_DENIED `READ_ONLY_ROLE` (`require_may_declare`,
  called right after `require_may_act_for`, before any input is looked up or stored).
An employer that passes these checks but is not in the service's register is NOT_FOUND
`EMPLOYER_NOT_FOUND`. The event logs are read by routers, the ONSS itself and operators.

Each service keeps its own employer register and mandates (its own database); this module only
holds the rule, over a repository with `get` and `has_mandate`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, TypeVar

from runtime.errors import NotFound, PermissionDenied
from runtime.identity import Caller, Consultation, PartyKind

#: The CBSS itself: its mutation service reads the event logs.
CBSS = "cbss"
ONSS = "onss"
E = TypeVar("E", covariant=True)


class EmployerRegister(Protocol[E]):
    def get(self, onss_number: str) -> E | None: ...

    def has_mandate(self, employer: str, bureau: str, on: dt.date) -> bool:
        """Does `bureau` (a KBO number) hold a mandate of `employer` valid on `on`?"""
        ...


def not_authorised() -> PermissionDenied:
    return PermissionDenied("NOT_AUTHORISED", "the caller may not do this")


def require_declarant(caller: Caller) -> None:
    """Only employers and bureaus declare (checked before the input is looked at)."""
    if caller.kind not in (PartyKind.EMPLOYER, PartyKind.BUREAU):
        raise not_authorised()


def require_may_act_for(
    caller: Caller, employer: str, register: EmployerRegister[E], today: dt.date
) -> E:
    """The employer, when the caller may act for it."""
    if caller.kind is PartyKind.EMPLOYER:
        if caller.id != employer:
            raise PermissionDenied(
                "NOT_OWN_EMPLOYER", "an employer declares and reads only for itself"
            )
    elif caller.kind is PartyKind.BUREAU:
        if not register.has_mandate(employer, caller.id, today):
            raise PermissionDenied("NO_MANDATE", "the bureau holds no mandate of this employer")
    else:
        raise not_authorised()
    found = register.get(employer)
    if found is None:
        raise NotFound("EMPLOYER_NOT_FOUND", "no employer with this ONSS number is registered")
    return found


def require_may_declare(caller: Caller) -> None:
    """The caller may file declarations (writes), not only read them: a person whose role for
    the employer is `reader` may not (certificates always may)."""
    if not caller.may_declare:
        raise PermissionDenied(
            "READ_ONLY_ROLE", "this person may read the employer's declarations, not file them"
        )


def require_event_reader(caller: Caller) -> None:
    """Routers, the CBSS's mutation service (`institution/cbss`, which fans the changes out),
    the ONSS itself and operators read the event logs."""
    if caller.kind in (PartyKind.ROUTER, PartyKind.ADMIN):
        return
    if caller.kind is PartyKind.INSTITUTION and caller.id in (ONSS, CBSS):
        return
    raise not_authorised()


def require_onss_consultation(consultation: Consultation | None) -> None:
    """A router forwarding a request of the ONSS (checked before the input is looked at)."""
    requester = consultation.requester if consultation is not None else None
    if requester is None or requester.kind is not PartyKind.INSTITUTION or requester.id != ONSS:
        raise not_authorised()
