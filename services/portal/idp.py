"""The development identity provider: who may sign in at the portal, and the tokens it signs.

Development only. In production the portal's users sign in with the federal identity provider
(FAS / CSAM: eID, itsme) and the employers' mandates come from the federal role manager; the
edge then verifies that provider's tokens with its JWKS. Nothing here runs in production
(`PORTAL_DEV_IDP=off`: every `/idp/` path is 404).

The people and the mandate table are fixed, so every machine and every test sees the same
ones. Each person is in the registry's seed (registry.seed.population's fixed persons; a unit
test checks the numbers and the names). A person signs in either as a citizen (the token's `sub`
is their INSZ, nothing else) or for an employer they hold a mandate for: the token then carries
the employer's ONSS number and name and the ROLE FROM THE MANDATE TABLE — a request never
chooses its role.

Tokens (RS256, the dev PKI's `idp-signing.key`, header `kid` = the key id of `idp-jwks.json`):
`iss` = ISSUER, `aud` = AUDIENCE, `sub`, `iat`, `nbf`, `exp` (15 minutes), `jti`, `name`, and for
an agent `employer`, `employer_name`, `role`. The edge's JWT filter verifies them with the same
JWKS and imports ISSUER and AUDIENCE from here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from runtime import employers
from runtime.identifiers import IdentifierError, parse_insz, parse_onss_number
from runtime.identity import ROLE_DECLARANT, ROLE_READER

#: The token's issuer (`iss`) and audience (`aud`): the edge requires both.
ISSUER = "carrefour-dev-idp"
AUDIENCE = "carrefour-portal"
#: A token's lifetime in seconds (`exp` - `iat`).
TOKEN_LIFETIME = 900
ALGORITHM = "RS256"


@dataclass(frozen=True)
class Mandate:
    """A person may act for an employer in a role (the federal role manager's table)."""

    employer: str  # ONSS number
    role: str  # runtime.identity.ROLES


@dataclass(frozen=True)
class Person:
    """Someone who may sign in: an INSZ seeded in the registry, a display name, mandates."""

    insz: str
    first_name: str
    last_name: str
    mandates: tuple[Mandate, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def mandate_for(self, employer: str) -> Mandate | None:
        return next((m for m in self.mandates if m.employer == employer), None)


#: The people of the development identity provider (registry.seed.population's fixed persons).
#: Jan is the demo's worker; Marie files for the retail employer, Thomas only reads its
#: declarations, Ahmet files for the federal public service.
PEOPLE: tuple[Person, ...] = (
    Person("85071412330", "Jan", "Peeters"),
    Person("03020100274", "Marie", "Dubois", (Mandate(employers.RETAIL, ROLE_DECLARANT),)),
    Person("90052104586", "Thomas", "Vandenbroucke", (Mandate(employers.RETAIL, ROLE_READER),)),
    Person("85493000163", "Ahmet", "Çelik", (Mandate(employers.STATE, ROLE_DECLARANT),)),
    Person("06070500252", "Lotte", "Janssens"),
)
_BY_INSZ = {p.insz: p for p in PEOPLE}
_EMPLOYER_NAMES = {e.onss_number: e.name for e in employers.NAMED}


def employer_name(onss: str) -> str:
    return _EMPLOYER_NAMES.get(onss, onss)


class Refused(Exception):
    """A token request the provider refuses: `status` 400 (malformed) or 403 (not allowed)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def people_listing() -> dict[str, Any]:
    """`GET /idp/people`: what the sign-in page offers (development data only)."""
    return {
        "issuer": ISSUER,
        "people": [
            {
                "sub": p.insz,
                "name": p.name,
                "mandates": [
                    {
                        "employer": m.employer,
                        "employer_name": employer_name(m.employer),
                        "role": m.role,
                    }
                    for m in p.mandates
                ],
            }
            for p in PEOPLE
        ],
    }


def parse_token_request(body: bytes) -> tuple[str, str | None]:
    """The (sub, employer) a `POST /idp/token` body asks for; Refused(400) when malformed.
    Only `sub` and `employer` are accepted: a `role` (or anything else) is refused, since the
    role comes from the mandate table."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "INVALID_JSON", "The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise Refused(400, "INVALID_JSON", "The request body must be a JSON object.")
    unknown = sorted(set(data) - {"sub", "employer"})
    if unknown:
        raise Refused(
            400,
            "UNKNOWN_FIELD",
            f"Unknown field(s): {', '.join(unknown)[:100]} (only sub, employer).",
        )
    sub, employer = data.get("sub"), data.get("employer")
    if not isinstance(sub, str):
        raise Refused(400, "SUB_REQUIRED", "sub (the person's INSZ, 11 digits) is required.")
    try:
        parse_insz(sub)
    except IdentifierError as exc:
        raise Refused(400, exc.reason, exc.description) from None
    if employer is None:
        return sub, None
    if not isinstance(employer, str):
        raise Refused(400, "INVALID_EMPLOYER", "employer must be an ONSS number (a string).")
    try:
        employer = parse_onss_number(employer).value
    except IdentifierError as exc:
        raise Refused(400, exc.reason, exc.description) from None
    return sub, employer


def claims_for(sub: str, employer: str | None, now: int, jti: str) -> dict[str, Any]:
    """The token's claims for a person (and an employer); Refused(403) when the person is
    unknown or holds no mandate for the employer."""
    person = _BY_INSZ.get(sub)
    if person is None:
        raise Refused(403, "UNKNOWN_PERSON", "This person is not known to the identity provider.")
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": jti,
        "name": person.name,
    }
    if employer is not None:
        mandate = person.mandate_for(employer)
        if mandate is None:
            raise Refused(403, "NO_MANDATE", "This person holds no mandate for this employer.")
        claims |= {
            "employer": employer,
            "employer_name": employer_name(employer),
            "role": mandate.role,
        }
    return claims


class TokenSigner:
    """Signs tokens with the dev PKI's identity-provider key, under its JWKS key id."""

    def __init__(self, key: rsa.RSAPrivateKey, jwks: Mapping[str, Any]) -> None:
        keys = jwks.get("keys") or []
        if len(keys) != 1 or keys[0].get("kty") != "RSA":
            raise ValueError("the JWKS must hold exactly one RSA key")
        public = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(keys[0]))
        if public.public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
            raise ValueError("the signing key does not match the JWKS")
        self._key = key
        self.jwks = {"keys": [dict(keys[0])]}
        self.kid: str = keys[0]["kid"]

    @classmethod
    def from_files(cls, key_path: Path, jwks_path: Path) -> TokenSigner:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path}: not an RSA key")
        return cls(key, json.loads(jwks_path.read_text()))

    def issue(self, body: bytes, now: float | None = None) -> dict[str, Any]:
        """`POST /idp/token`: the signed token for a request body, or Refused."""
        sub, employer = parse_token_request(body)
        issued_at = int(time.time() if now is None else now)
        claims = claims_for(sub, employer, issued_at, uuid.uuid4().hex)
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
