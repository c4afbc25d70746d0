"""Calling a holder as the portal's parties reach it, in integration tests.

- As the router forwards a consultation: the router's certificate and its routing headers
  (runtime.identity.ROUTING_HEADERS), the requester a person about himself
  (`person/{insz}`, legal context SELF_SERVICE, capacity `self`) or an institution.
- As the edge forwards a person signed in at the portal: the gateway's certificate and the
  verified token's payload in `x-carrefour-claims` (base64url JSON), which the runtime honours
  only from the gateway.
"""

from __future__ import annotations

import base64
import json
import uuid

from runtime import identity

SELF_SERVICE = "SELF_SERVICE"


def routed_for_person(insz: str) -> list[tuple[str, str]]:
    """The metadata the router sends with a person's consultation about himself."""
    return [
        (identity.REQUESTER_HEADER, f"spiffe://carrefour.local/person/{insz}"),
        (identity.LEGAL_CONTEXT_HEADER, SELF_SERVICE),
        (identity.TICKET_HEADER, str(uuid.uuid4())),
        (identity.CAPACITY_HEADER, "self"),
    ]


def routed_for_institution(institution: str, legal_context: str) -> list[tuple[str, str]]:
    """The metadata the router sends with an institution's consultation."""
    return [
        (identity.REQUESTER_HEADER, f"spiffe://carrefour.local/institution/{institution}"),
        (identity.LEGAL_CONTEXT_HEADER, legal_context),
        (identity.TICKET_HEADER, str(uuid.uuid4())),
        (identity.CAPACITY_HEADER, "18/1"),
    ]


def claims(sub: str, employer: str | None = None, role: str | None = None) -> tuple[str, str]:
    """The `x-carrefour-claims` header of a person's verified token (the gateway sets it)."""
    payload: dict[str, str] = {"sub": sub, "aud": "carrefour-portal"}
    if employer is not None:
        payload["employer"] = employer
    if role is not None:
        payload["role"] = role
    raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return (identity.CLAIMS_HEADER, raw)
