"""Who may change what in the registry.

- `institution/nr` (the National Register) changes persons with a National Register number;
- `institution/cbss` (the CBSS) registers BIS numbers and changes persons with a BIS number;
  the CBSS's own router (`router/cbss`) forwards BIS registrations of the institutions it has
  authorised for them (the ONSS identifying a worker declared without an INSZ in DIMONA): the
  router has checked the requester's authorisation and legal context and logged the call;
- `admin/*` (operators) may do both.

Anyone else is refused with PERMISSION_DENIED `NOT_AUTHORISED` before its input is even looked at.
The event log (personal data, read by the router's mutation fan-out) is read by routers, the two
registers and admins; the status of every number (ListPersonStatuses, a router's person-status
index) by routers only. Consultations (GetPerson, SearchPersons) are answered only to a router,
which the runtime enforces from the proto's `access` option; the router checks the requester's
authorisations (and, in a later issue, the information-type cap) before it asks.
"""

from __future__ import annotations

from runtime.errors import PermissionDenied
from runtime.identifiers import InszKind
from runtime.identity import Caller, PartyKind

NATIONAL_REGISTER = "nr"
CBSS = "cbss"


def _is_institution(caller: Caller, institution: str) -> bool:
    return caller.kind is PartyKind.INSTITUTION and caller.id == institution


def denied() -> PermissionDenied:
    return PermissionDenied("NOT_AUTHORISED", "the caller is not allowed to do this")


def require_changer(caller: Caller) -> None:
    """The caller may change some persons (checked first, before any input)."""
    if caller.kind is PartyKind.ADMIN:
        return
    if not (_is_institution(caller, NATIONAL_REGISTER) or _is_institution(caller, CBSS)):
        raise denied()


def require_bis_registrar(caller: Caller) -> None:
    """Only the CBSS (or an admin) issues BIS numbers: itself, or through its router for an
    institution the router has authorised."""
    if caller.kind is PartyKind.ADMIN or _is_institution(caller, CBSS):
        return
    if caller.kind is PartyKind.ROUTER and caller.id == CBSS:
        return
    raise denied()


def require_may_change(caller: Caller, kind: InszKind) -> None:
    """The caller keeps the register of numbers of this kind (or is an admin)."""
    if caller.kind is PartyKind.ADMIN:
        return
    owner = NATIONAL_REGISTER if kind is InszKind.NATIONAL_REGISTER else CBSS
    if not _is_institution(caller, owner):
        raise denied()


def require_router(caller: Caller) -> None:
    """Only routers read every number's status (their person-status index)."""
    if caller.kind is not PartyKind.ROUTER:
        raise denied()


def require_event_reader(caller: Caller) -> None:
    """Routers (the mutation fan-out), the two registers and admins read the event log."""
    if caller.kind in (PartyKind.ROUTER, PartyKind.ADMIN):
        return
    if not (_is_institution(caller, NATIONAL_REGISTER) or _is_institution(caller, CBSS)):
        raise denied()
