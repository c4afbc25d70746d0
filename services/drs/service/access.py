"""Who may act for an employer, and who may ask an employer for a declaration.

DrsService (ACCESS_DIRECT) follows the ONSS's one rule (runtime.employer_access, shared with
DIMONA and the DmfA): an employer acts for itself only (`NOT_OWN_EMPLOYER`, checked before
anything is looked up), a payroll bureau for an employer that gave it a mandate valid today
(`NO_MANDATE`), nobody else (`NOT_AUTHORISED`); an employer unknown to the ONSS is NOT_FOUND
`EMPLOYER_NOT_FOUND`. A person acting for the employer at the portal reads with either role and
files only as a `declarant` (`READ_ONLY_ROLE` otherwise).

DrsRequestService (ACCESS_ROUTED: the runtime answers only a router, and the requester is the
one the router names): any institution the router let through. The router's authorisation
(which institution may ask, under which legal context, with which directory check) is the real
check; the DRS does not keep a second list of mutualities. It refuses only parties that are not
institutions (`NOT_AUTHORISED`), and records the requester's id on the task.
"""

from __future__ import annotations

import datetime as dt

from drs.service.model import Employer
from drs.service.ports import DrsUnit
from runtime import employer_access
from runtime.errors import NotFound
from runtime.identity import Caller, PartyKind

not_authorised = employer_access.not_authorised
require_declarant = employer_access.require_declarant
require_may_declare = employer_access.require_may_declare


def require_may_act_for(caller: Caller, employer: str, unit: DrsUnit, today: dt.date) -> Employer:
    """The employer, when the caller may act for it."""
    return employer_access.require_may_act_for(caller, employer, unit.employers, today)


def employer_not_found() -> NotFound:
    return NotFound("EMPLOYER_NOT_FOUND", "no employer with this ONSS number is registered")


def require_requester(caller: Caller) -> str:
    """The requesting institution's id (the router authorised it)."""
    if caller.kind is not PartyKind.INSTITUTION:
        raise not_authorised()
    return caller.id
