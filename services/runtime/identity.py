"""Who is calling: the party named by the caller's certificate, and nothing else.

Every certificate of the mesh's PKI carries one URI SAN naming its party:
`spiffe://carrefour.local/<kind>/<id>` with kind `institution`, `employer` (id = ONSS number),
`bureau` (id = KBO number), `admin`, `router` or `gateway` (no id). The caller is read only from
the TLS auth context. A `x-forwarded-client-cert` header (Envoy's XFCC) is honoured only when the
TLS peer itself is the gateway: from any other peer it is ignored, so a client can never claim an
identity in metadata.

People signed in at the portal have no certificate: the edge's browser listener verifies their
token (a JWT, RS256, from the identity provider) and forwards its payload in `x-carrefour-claims`
(Envoy's `forward_payload_header`, base64url JSON), which is honoured — like XFCC — only when
the TLS peer is the gateway. A citizen is the party `person/{insz}` (`sub`); a person acting for
an employer (claims `employer` and `role`, from the identity provider's mandate table) is the
party `employer/{onss}` with `person` (who acted) and `role` set. The edge removes both headers
from anything a client sends, each on the listener that does not set it.

Consultations (methods declared `ACCESS_ROUTED` in their proto) are called only by a router,
which passes the original requester, the legal context, its ticket and the capacity used as
metadata (`ROUTING_HEADERS`). Those headers are read only when the TLS peer is a router; the
runtime's interceptor refuses any other peer (DIRECT_ACCESS_FORBIDDEN) and makes the requester the
call's `current_caller()`, with the rest in `current_consultation()`.

Free of grpc: the functions take the server context duck-typed, so service code can import
`Caller` without depending on the transport.
"""

from __future__ import annotations

import base64
import contextvars
import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runtime import identifiers

TRUST_DOMAIN = "carrefour.local"
XFCC_HEADER = "x-forwarded-client-cert"
#: A person's verified token payload, set by the edge's browser listener (base64url JSON).
CLAIMS_HEADER = "x-carrefour-claims"

# Metadata a caller sends to the router with a consultation.
LEGAL_CONTEXT_HEADER = "cbss-legal-context"  # required, at most 64 characters
CUSTOMER_TICKET_HEADER = "cbss-customer-ticket"  # optional, the caller's own ticket, <= 36 chars
DESTINATION_HEADER = "cbss-destination"  # optional, the holder institution's id
# Metadata the router adds when it forwards (trusted only from a router), and the ticket it
# returns to the caller on success and refusal alike: in the trailing metadata of every call
# (and, for a server stream, in its initial metadata too) — read it with router_ticket().
REQUESTER_HEADER = "cbss-requester"  # SPIFFE URI of the original requester
TICKET_HEADER = "cbss-ticket"  # the router's ticket (UUID)
CAPACITY_HEADER = "cbss-capacity"  # "<sector>/<capacity>" used, or "none"
ROUTING_HEADERS = (
    REQUESTER_HEADER,
    LEGAL_CONTEXT_HEADER,
    TICKET_HEADER,
    CAPACITY_HEADER,
    CUSTOMER_TICKET_HEADER,
)

_PREFIX = f"spiffe://{TRUST_DOMAIN}/"

_INSTITUTION_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.ASCII)


def router_ticket(call: Any) -> str:
    """The router's ticket of a finished call: `call` is what `.with_call()` returned beside
    the response, or the `grpc.RpcError` raised ("" when the call never reached a router).

    The router returns it in the trailing metadata, which travels with the call's status (an
    extra initial-metadata write per message cost the router ≈ 7 % of its CPU); a server stream
    also has it in its initial metadata, read first here: a stream's trailing metadata waits
    for the stream's end, so a caller may ask for the ticket before reading the messages.
    """
    for read in (call.initial_metadata, call.trailing_metadata):
        for key, value in read() or ():
            if key == TICKET_HEADER:
                return str(value)
    return ""


class PartyKind(enum.Enum):
    """The kinds of party a certificate can name."""

    INSTITUTION = "institution"
    EMPLOYER = "employer"
    BUREAU = "bureau"
    ADMIN = "admin"
    ROUTER = "router"
    GATEWAY = "gateway"
    #: A person signed in at the portal (id = INSZ); never a certificate.
    PERSON = "person"


#: Roles a person may hold for an employer (the identity provider's mandate table): a
#: `declarant` files and reads the employer's declarations, a `reader` only reads them.
ROLE_DECLARANT = "declarant"
ROLE_READER = "reader"
ROLES = (ROLE_DECLARANT, ROLE_READER)


class IdentityError(ValueError):
    """A URI that does not name a party of this mesh."""


@dataclass(frozen=True)
class Caller:
    """A party of the mesh, as its certificate names it."""

    kind: PartyKind
    id: str
    #: True when the identity was forwarded by the gateway (Envoy) rather than read from the
    #: TLS peer directly.
    via_gateway: bool = False
    #: For an employer acting through a person signed in at the portal: that person's INSZ and
    #: role (ROLES). Empty for a certificate.
    person: str = ""
    role: str = ""

    @property
    def uri(self) -> str:
        if self.kind is PartyKind.GATEWAY:
            return f"{_PREFIX}gateway"
        return f"{_PREFIX}{self.kind.value}/{self.id}"

    def __str__(self) -> str:
        return self.uri

    def is_a(self, *kinds: PartyKind) -> bool:
        return self.kind in kinds

    @property
    def log_name(self) -> str:
        """The caller as application logs may name it: never a person's INSZ."""
        if self.kind is PartyKind.PERSON:
            return f"{_PREFIX}person/*"
        return f"{self.uri} (person)" if self.person else self.uri

    @property
    def may_declare(self) -> bool:
        """May file declarations: any certificate of the employer or bureau, or a person whose
        role for the employer is `declarant` (a `reader` only reads)."""
        return not self.person or self.role == ROLE_DECLARANT


def parse_spiffe_uri(uri: str) -> Caller:
    """Parse a party URI; raises IdentityError when it names no valid party."""
    if not uri.startswith(_PREFIX):
        raise IdentityError("not a carrefour.local SPIFFE ID")
    parts = uri[len(_PREFIX) :].split("/")
    try:
        kind = PartyKind(parts[0])
    except ValueError:
        raise IdentityError("unknown party kind") from None
    if kind is PartyKind.GATEWAY:
        if len(parts) != 1:
            raise IdentityError("the gateway identity has no id")
        return Caller(kind, "")
    if len(parts) != 2 or not parts[1]:
        raise IdentityError("expected <kind>/<id>")
    party_id = parts[1]
    try:
        if kind is PartyKind.EMPLOYER:
            party_id = identifiers.parse_onss_number(party_id).value
        elif kind is PartyKind.BUREAU:
            party_id = identifiers.parse_enterprise_number(party_id).value
        elif kind is PartyKind.PERSON:
            party_id = identifiers.parse_insz(party_id).value
        elif not _INSTITUTION_ID.match(party_id):
            raise IdentityError("ids are lower-case letters, digits and dashes")
    except identifiers.IdentifierError as exc:
        raise IdentityError(f"invalid {kind.value} number: {exc.reason}") from None
    return Caller(kind, party_id)


def _party_from_uris(uris: Iterable[bytes | str]) -> Caller | None:
    """The one party among a certificate's URI SANs, or None when there is not exactly one."""
    found: list[Caller] = []
    for raw in uris:
        uri = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        try:
            party = parse_spiffe_uri(uri)
        except IdentityError:
            continue
        if party.kind is not PartyKind.PERSON:  # a certificate never names a person
            found.append(party)
    return found[0] if len(found) == 1 else None


def _xfcc_uri(header: str) -> list[str]:
    """URI fields of the *first* XFCC element: the client certificate Envoy verified.

    XFCC looks like `Hash=…;Subject="…";URI=spiffe://…;DNS=…`, elements separated by commas
    (outside quotes). With SANITIZE_SET our gateway sets the header itself; a later element would
    come from a proxy behind it, which this mesh does not have.
    """
    element, in_quotes = [], False
    for ch in header:
        if ch == '"':
            in_quotes = not in_quotes
        elif ch == "," and not in_quotes:
            break
        element.append(ch)
    uris, field, in_quotes = [], [], False
    for ch in [*element, ";"]:
        if ch == '"':
            in_quotes = not in_quotes
            continue
        if ch == ";" and not in_quotes:
            key, _, value = "".join(field).partition("=")
            if key.strip().upper() == "URI":
                uris.append(value.strip())
            field = []
            continue
        field.append(ch)
    return uris


def caller_from_claims(encoded: str) -> Caller | None:
    """The party a verified token's payload names (`x-carrefour-claims`), or None when the
    payload is not what the identity provider issues."""
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(claims, dict):
            return None
        sub = claims.get("sub")
        person = identifiers.parse_insz(sub).value if isinstance(sub, str) else None
    except (ValueError, UnicodeError, identifiers.IdentifierError):
        return None
    if person is None:
        return None
    employer, role = claims.get("employer"), claims.get("role")
    if employer is None:
        return Caller(PartyKind.PERSON, person, via_gateway=True)
    if not isinstance(employer, str) or role not in ROLES:
        return None
    try:
        onss = identifiers.parse_onss_number(employer).value
    except identifiers.IdentifierError:
        return None
    return Caller(PartyKind.EMPLOYER, onss, via_gateway=True, person=person, role=role)


def caller_from_context(context: Any) -> Caller | None:
    """The caller of a gRPC server call, from its TLS auth context (or what the gateway
    forwards: a person's verified token, or a client certificate's XFCC).

    Returns None when the peer presented no certificate naming exactly one party, or when the
    gateway forwarded an identity that names none.
    """
    auth = context.auth_context() or {}
    peer = _party_from_uris(auth.get("x509_subject_alternative_name", ()) or ())
    if peer is None:
        peer = _party_from_uris(auth.get("peer_uri", ()) or ())
    if peer is None or peer.kind is not PartyKind.GATEWAY:
        return peer
    metadata = context.invocation_metadata() or ()
    for key, value in metadata:
        if key == CLAIMS_HEADER:
            return caller_from_claims(value)
    for key, value in metadata:
        if key == XFCC_HEADER:
            forwarded = _party_from_uris(_xfcc_uri(value))
            if forwarded is None or forwarded.kind is PartyKind.GATEWAY:
                return None
            return Caller(forwarded.kind, forwarded.id, via_gateway=True)
    return peer


@dataclass(frozen=True)
class Consultation:
    """What a router says about the consultation it forwards to this holder."""

    router: Caller
    requester: Caller
    legal_context: str
    ticket: str
    capacity: str
    customer_ticket: str = ""


def consultation_from_metadata(router: Caller, metadata: Iterable[tuple[str, str]]) -> Consultation:
    """Read the routing headers of a call whose TLS peer is `router` (a router identity).

    Raises IdentityError when the requester is missing or names no party, or when the legal
    context or ticket is missing: a router always sends them.
    """
    if router.kind is not PartyKind.ROUTER:
        raise IdentityError("routing headers are trusted only from a router")
    values = {k: v for k, v in metadata if k in ROUTING_HEADERS}
    requester = parse_spiffe_uri(values.get(REQUESTER_HEADER, ""))
    if requester.kind is PartyKind.GATEWAY:
        raise IdentityError("the gateway is never a requester")
    legal_context, ticket = values.get(LEGAL_CONTEXT_HEADER, ""), values.get(TICKET_HEADER, "")
    if not legal_context or len(legal_context) > 64 or not ticket:
        raise IdentityError("a routed call carries a legal context and a ticket")
    return Consultation(
        router=router,
        requester=requester,
        legal_context=legal_context,
        ticket=ticket,
        capacity=values.get(CAPACITY_HEADER, ""),
        customer_ticket=values.get(CUSTOMER_TICKET_HEADER, ""),
    )


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "carrefour_caller", default=None
)


def current_caller() -> Caller:
    """The caller of the RPC being served on this thread (set by the runtime's interceptor)."""
    caller = _current.get()
    if caller is None:
        raise RuntimeError("current_caller() called outside an RPC")
    return caller


def set_current_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    return _current.set(caller)


def reset_current_caller(token: contextvars.Token[Caller | None]) -> None:
    _current.reset(token)


_consultation: contextvars.ContextVar[Consultation | None] = contextvars.ContextVar(
    "carrefour_consultation", default=None
)


def current_consultation() -> Consultation | None:
    """The routing details of the consultation being served, or None for a direct call."""
    return _consultation.get()


def set_current_consultation(
    consultation: Consultation | None,
) -> contextvars.Token[Consultation | None]:
    return _consultation.set(consultation)


def reset_current_consultation(token: contextvars.Token[Consultation | None]) -> None:
    _consultation.reset(token)
