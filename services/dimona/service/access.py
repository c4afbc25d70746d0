"""Who may act for an employer, and who reads the employment event log.

- An employer (`employer/{onss}` certificate) acts for itself only (PERMISSION_DENIED
  `NOT_OWN_EMPLOYER` otherwise) — checked before anything is looked up, so that an employer
  learns nothing about another one;
- a payroll bureau (`bureau/{kbo}`) acts for an employer that gave it a mandate valid today
  (PERMISSION_DENIED `NO_MANDATE` otherwise);
- nobody else declares or reads periods directly (`NOT_AUTHORISED`): institutions consult a
  worker's periods through the router (DimonaConsultationService).
An employer that passes these checks but is not in the register is NOT_FOUND
`EMPLOYER_NOT_FOUND`. A person acting for the employer at the portal reads with either role and
declares only as a `declarant` (`READ_ONLY_ROLE` otherwise, `require_may_declare`).

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
from runtime import employer_access
from runtime.employer_access import (
    ONSS,
    not_authorised,
    require_declarant,
    require_event_reader,
    require_may_declare,
    require_onss_consultation,
)
from runtime.identity import Caller

__all__ = [
    "ONSS",
    "not_authorised",
    "require_declarant",
    "require_event_reader",
    "require_may_act_for",
    "require_may_declare",
    "require_onss_consultation",
]


def require_may_act_for(
    caller: Caller, employer: str, unit: DimonaUnit, today: dt.date
) -> Employer:
    """The employer, when the caller may act for it (runtime.employer_access)."""
    return employer_access.require_may_act_for(caller, employer, unit.employers, today)
