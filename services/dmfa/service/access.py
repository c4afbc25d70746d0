"""Who may act for an employer, and who reads the declaration event log.

The same rule as DIMONA's (both are the ONSS's): an employer (`employer/{onss}` certificate)
acts for itself only (PERMISSION_DENIED `NOT_OWN_EMPLOYER`, checked before anything is looked
up, so that an employer learns nothing about another one); a payroll bureau (`bureau/{kbo}`)
for an employer that gave it a mandate valid today (`NO_MANDATE`); nobody else declares or reads
declarations directly (`NOT_AUTHORISED`): institutions consult a worker's quarter through the
router (DmfaConsultationService). An employer that passes these checks but is unknown to the
ONSS is NOT_FOUND `EMPLOYER_NOT_FOUND`.

The declaration event log is read by routers (the mutation fan-out), the ONSS itself and
operators.
"""

from __future__ import annotations

import datetime as dt

from dmfa.service.model import Employer
from dmfa.service.ports import DmfaUnit
from runtime.errors import NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind

ONSS = "onss"


def not_authorised() -> PermissionDenied:
    return PermissionDenied("NOT_AUTHORISED", "the caller may not do this")


def require_declarant(caller: Caller) -> None:
    """Only employers and bureaus declare (checked before the input is looked at)."""
    if caller.kind not in (PartyKind.EMPLOYER, PartyKind.BUREAU):
        raise not_authorised()


def require_may_act_for(caller: Caller, employer: str, unit: DmfaUnit, today: dt.date) -> Employer:
    """The employer, when the caller may act for it."""
    if caller.kind is PartyKind.EMPLOYER:
        if caller.id != employer:
            raise PermissionDenied(
                "NOT_OWN_EMPLOYER", "an employer declares and reads only for itself"
            )
    elif caller.kind is PartyKind.BUREAU:
        if not unit.employers.has_mandate(employer, caller.id, today):
            raise PermissionDenied("NO_MANDATE", "the bureau holds no mandate of this employer")
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
