"""Who is calling: the party named by the caller's certificate, and nothing else.

Every certificate of the mesh's PKI carries one URI SAN naming its party:
`spiffe://carrefour.local/<kind>/<id>` with kind `institution`, `employer` (id = ONSS number),
`bureau` (id = KBO number), `admin`, `router` or `gateway` (no id). The caller is read only from
the TLS auth context. A `x-forwarded-client-cert` header (Envoy's XFCC) is honoured only when the
TLS peer itself is the gateway: from any other peer it is ignored, so a client can never claim an
identity in metadata.

Free of grpc: the functions take the server context duck-typed, so service code can import
`Caller` without depending on the transport.
"""

from __future__ import annotations

import contextvars
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runtime import identifiers

TRUST_DOMAIN = "carrefour.local"
XFCC_HEADER = "x-forwarded-client-cert"

_PREFIX = f"spiffe://{TRUST_DOMAIN}/"
_INSTITUTION_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.ASCII)


class PartyKind(enum.Enum):
    """The kinds of party a certificate can name."""

    INSTITUTION = "institution"
    EMPLOYER = "employer"
    BUREAU = "bureau"
    ADMIN = "admin"
    ROUTER = "router"
    GATEWAY = "gateway"


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

    @property
    def uri(self) -> str:
        if self.kind is PartyKind.GATEWAY:
            return f"{_PREFIX}gateway"
        return f"{_PREFIX}{self.kind.value}/{self.id}"

    def __str__(self) -> str:
        return self.uri

    def is_a(self, *kinds: PartyKind) -> bool:
        return self.kind in kinds


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
            found.append(parse_spiffe_uri(uri))
        except IdentityError:
            continue
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


def caller_from_context(context: Any) -> Caller | None:
    """The caller of a gRPC server call, from its TLS auth context (or the gateway's XFCC).

    Returns None when the peer presented no certificate naming exactly one party.
    """
    auth = context.auth_context() or {}
    peer = _party_from_uris(auth.get("x509_subject_alternative_name", ()) or ())
    if peer is None:
        peer = _party_from_uris(auth.get("peer_uri", ()) or ())
    if peer is None or peer.kind is not PartyKind.GATEWAY:
        return peer
    for key, value in context.invocation_metadata() or ():
        if key == XFCC_HEADER:
            forwarded = _party_from_uris(_xfcc_uri(value))
            if forwarded is None or forwarded.kind is PartyKind.GATEWAY:
                return None
            return Caller(forwarded.kind, forwarded.id, via_gateway=True)
    return peer


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
