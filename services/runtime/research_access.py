"""Who may extract a source in bulk for research: the one rule of the holders' research services.

DIMONA, the DmfA and the register each serve a routed, server-streaming extraction for the CBSS's
research data warehouse (`DimonaResearchService`, `DmfaResearchService`,
`RegistryResearchService`). The runtime answers them only to a router (ACCESS_ROUTED); the holder
then checks, before reading anything, that the router forwards a request of the warehouse's
trusted third party (`institution/cbss-ttp`: the only party that sees the INSZs and codes them)
under a research legal context (`research.*`) — whatever the router's authorisations say
(PERMISSION_DENIED `NOT_AUTHORISED` otherwise). The router checked its authorisation and logged
the extraction (one message-log row per extraction: the requests name no person).

Also the quarter's validation every extraction shares (INVALID_ARGUMENT `INVALID_QUARTER`).
"""

from __future__ import annotations

import datetime as dt

from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import Consultation, PartyKind

#: The trusted third party's institution id (its certificate: `institution/cbss-ttp`).
TTP = "cbss-ttp"
#: Legal contexts of research extractions start with this.
RESEARCH_CONTEXT_PREFIX = "research."
#: Records per streamed message.
BATCH = 1000
FIRST_YEAR, LAST_YEAR = 2000, 2100


def require_research_extraction(consultation: Consultation | None) -> None:
    """A router forwarding a request of the TTP under a research legal context."""
    requester = consultation.requester if consultation is not None else None
    if (
        consultation is None
        or requester is None
        or requester.kind is not PartyKind.INSTITUTION
        or requester.id != TTP
        or not consultation.legal_context.startswith(RESEARCH_CONTEXT_PREFIX)
    ):
        raise PermissionDenied("NOT_AUTHORISED", "the caller may not do this")


def quarter_days(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a calendar quarter (INVALID_QUARTER when it is none)."""
    violations = []
    if not FIRST_YEAR <= year <= LAST_YEAR:
        violations.append(FieldViolation("year", f"{FIRST_YEAR} to {LAST_YEAR}", "INVALID_QUARTER"))
    if not 1 <= quarter <= 4:
        violations.append(FieldViolation("quarter", "1 to 4", "INVALID_QUARTER"))
    if violations:
        raise InvalidArgument.for_fields(violations, "INVALID_QUARTER")
    first = dt.date(year, 3 * quarter - 2, 1)
    following = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return first, following - dt.timedelta(days=1)
