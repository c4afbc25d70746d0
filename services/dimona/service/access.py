"""Who may act for an employer, and who reads the employment event log.

- An employer (`employer/{onss}` certificate) acts for itself only (PERMISSION_DENIED
  `NOT_OWN_EMPLOYER` otherwise) — checked before anything is looked up, so that an employer
  learns nothing about another one;
- a payroll bureau (`bureau/{kbo}`) acts for an employer that gave it a mandate valid today
  (PERMISSION_DENIED `NO_MANDATE` otherwise);
- nobody else declares or reads periods directly (`NOT_AUTHORISED`): institutions consult a
  worker's periods through the router (DimonaConsultationService).
An employer that passes these checks but is not in the register is NOT_FOUND
`EMPLOYER_NOT_FOUND`.

The event log (DIMONA's only-once feed) is read by routers (the mutation fan-out), the ONSS
itself and operators.

DimonaQuarterService (what the ONSS's DmfA reads from and records in DIMONA) is `ACCESS_ROUTED`:
the runtime answers only a router, and the requester that router names in its routing headers
must be the ONSS itself (`institution/onss`), whatever the router's authorisations say
(`NOT_AUTHORISED` otherwise).
"""

from __future__ import annotations

import datetime as dt

from dimona.service.model import Employer
from dimona.service.ports import DimonaUnit
from runtime.errors import NotFound, PermissionDenied
from runtime.identity import Caller, Consultation, PartyKind

ONSS = "onss"


def not_authorised() -> PermissionDenied:
    return PermissionDenied("NOT_AUTHORISED", "the caller may not do this")


def require_declarant(caller: Caller) -> None:
    """Only employers and bureaus declare (checked before the input is looked at)."""
    if caller.kind not in (PartyKind.EMPLOYER, PartyKind.BUREAU):
        raise not_authorised()


def require_may_act_for(
    caller: Caller, employer: str, unit: DimonaUnit, today: dt.date
) -> Employer:
    """The employer, when the caller may act for it."""
    if caller.kind is PartyKind.EMPLOYER:
        if caller.id != employer:
            raise PermissionDenied(
                "NOT_OWN_EMPLOYER", "an employer declares and reads only for itself"
            )
    elif caller.kind is PartyKind.BUREAU:
        if not unit.employers.has_mandate(employer, caller.id, today):
            raise PermissionDenied(
                "NO_MANDATE", "the bureau holds no mandate of this employer", metadata={}
            )
    else:
        raise not_authorised()
    found = unit.employers.get(employer)
    if found is None:
        raise NotFound("EMPLOYER_NOT_FOUND", "no employer with this ONSS number is registered")
    return found


def require_event_reader(caller: Caller) -> None:
    if caller.kind in (PartyKind.ROUTER, PartyKind.ADMIN):
        return
    if caller.kind is PartyKind.INSTITUTION and caller.id == ONSS:
        return
    raise not_authorised()


def require_onss_consultation(consultation: Consultation | None) -> None:
    """A router forwarding a request of the ONSS (checked before the input is looked at)."""
    requester = consultation.requester if consultation is not None else None
    if requester is None or requester.kind is not PartyKind.INSTITUTION or requester.id != ONSS:
        raise not_authorised()
