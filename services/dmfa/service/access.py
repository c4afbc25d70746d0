"""Who may act for an employer, and who reads the declaration event log.

The same rule as DIMONA's (both are the ONSS's): an employer (`employer/{onss}` certificate)
acts for itself only (PERMISSION_DENIED `NOT_OWN_EMPLOYER`, checked before anything is looked
up, so that an employer learns nothing about another one); a payroll bureau (`bureau/{kbo}`)
for an employer that gave it a mandate valid today (`NO_MANDATE`); nobody else declares or reads
declarations directly (`NOT_AUTHORISED`): institutions consult a worker's quarter through the
router (DmfaConsultationService). An employer that passes these checks but is unknown to the
ONSS is NOT_FOUND `EMPLOYER_NOT_FOUND`. A person acting for the employer at the portal reads
with either role and declares only as a `declarant` (`READ_ONLY_ROLE` otherwise,
`require_may_declare`).

The declaration event log is read by routers (the mutation fan-out), the ONSS itself and
operators.
"""

from __future__ import annotations

import datetime as dt

from dmfa.service.model import Employer
from dmfa.service.ports import DmfaUnit
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


def require_may_act_for(caller: Caller, employer: str, unit: DmfaUnit, today: dt.date) -> Employer:
    """The employer, when the caller may act for it (runtime.employer_access)."""
    return employer_access.require_may_act_for(caller, employer, unit.employers, today)
