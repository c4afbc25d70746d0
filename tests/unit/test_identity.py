"""Parsing party identities from certificates and from the gateway's XFCC header."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.identity import (
    Caller,
    IdentityError,
    PartyKind,
    caller_from_context,
    parse_spiffe_uri,
    router_ticket,
)

P = "spiffe://carrefour.local/"


@dataclass
class FakeContext:
    """The two things identity reads from a grpc ServicerContext."""

    sans: list[str]
    metadata: list[tuple[str, str]] = field(default_factory=list)

    def auth_context(self) -> dict[str, list[bytes]]:
        return {"x509_subject_alternative_name": [s.encode() for s in self.sans]}

    def invocation_metadata(self) -> list[tuple[str, str]]:
        return self.metadata


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (P + "institution/onem", Caller(PartyKind.INSTITUTION, "onem")),
        (P + "employer/000935467", Caller(PartyKind.EMPLOYER, "000935467")),
        (P + "employer/0000935467", Caller(PartyKind.EMPLOYER, "000935467")),
        (P + "bureau/0314595348", Caller(PartyKind.BUREAU, "0314595348")),
        (P + "admin/ops", Caller(PartyKind.ADMIN, "ops")),
        (P + "router/cbss", Caller(PartyKind.ROUTER, "cbss")),
        (P + "gateway", Caller(PartyKind.GATEWAY, "")),
        (P + "person/85071412330", Caller(PartyKind.PERSON, "85071412330")),
    ],
)
def test_party_is_parsed_when_uri_is_valid(uri: str, expected: Caller) -> None:
    assert parse_spiffe_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "spiffe://other.domain/institution/onem",
        P + "citizen/85071412330",
        P + "person/85071412331",  # bad check digits
        P + "institution/",
        P + "institution/ONEM",
        P + "institution/onem/extra",
        P + "employer/000935468",  # wrong check digits
        P + "bureau/0314595349",
        P + "gateway/x",
        "",
    ],
)
def test_uri_is_refused_when_it_names_no_party(uri: str) -> None:
    with pytest.raises(IdentityError):
        parse_spiffe_uri(uri)


def test_caller_is_none_when_certificate_names_two_parties() -> None:
    ctx = FakeContext([P + "institution/onem", P + "admin/ops"])
    assert caller_from_context(ctx) is None


def test_dns_and_ip_sans_are_ignored_when_reading_the_party() -> None:
    ctx = FakeContext(["localhost", "127.0.0.1", P + "institution/onem"])
    assert caller_from_context(ctx) == Caller(PartyKind.INSTITUTION, "onem")


def test_xfcc_is_ignored_when_peer_is_not_gateway() -> None:
    ctx = FakeContext([P + "institution/onem"], [("x-forwarded-client-cert", f"URI={P}admin/ops")])
    assert caller_from_context(ctx) == Caller(PartyKind.INSTITUTION, "onem")


def test_first_xfcc_element_is_used_when_peer_is_gateway() -> None:
    header = f'Hash=1;Subject="CN=a,O=b";URI={P}bureau/0314595348,Hash=2;URI={P}admin/ops'
    ctx = FakeContext([P + "gateway"], [("x-forwarded-client-cert", header)])
    assert caller_from_context(ctx) == Caller(PartyKind.BUREAU, "0314595348", via_gateway=True)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_xfcc_parser_never_crashes_and_never_invents_a_party_when_header_is_arbitrary(
    header: str,
) -> None:
    ctx = FakeContext([P + "gateway"], [("x-forwarded-client-cert", header)])
    caller = caller_from_context(ctx)
    # Whatever the header, the result is either no party or a party whose URI is in the header.
    assert caller is None or caller.uri in header or caller.kind is PartyKind.GATEWAY


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_spiffe_parser_raises_only_identity_error_when_uri_is_arbitrary(uri: str) -> None:
    try:
        caller = parse_spiffe_uri(uri)
    except IdentityError:
        return
    assert parse_spiffe_uri(caller.uri) == caller


def test_certificate_names_its_party_as_a_host_when_issued(tmp_path) -> None:
    from cryptography import x509

    from runtime import pki

    pki.init(tmp_path, (pki.Party("x", "institution/mut-100"),))
    cert = x509.load_pem_x509_certificate((tmp_path / "x.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "institution-mut-100.carrefour.local" in sans.get_values_for_type(x509.DNSName)
    assert pki.party_host("spiffe://carrefour.local/gateway") == "gateway.carrefour.local"


def test_certificate_is_reissued_when_it_lacks_the_party_host(tmp_path) -> None:
    from runtime import pki

    party = pki.Party("old", "institution/onem")
    ca = pki.load_or_create_ca(tmp_path)
    # A certificate without this party's host name (as an older layout issued them).
    other_pem, other_key = pki.issue(ca, "spiffe://carrefour.local/institution/inami")
    (tmp_path / "old.pem").write_bytes(other_pem)
    (tmp_path / "old.key").write_bytes(other_key)
    assert pki.init(tmp_path, (party,)) == ["old", pki.IDP_KEY]  # and the provider's key
    assert pki.init(tmp_path, (party,)) == []  # current now: kept


def test_identity_providers_key_is_rsa_and_its_jwks_verifies_what_it_signs(tmp_path) -> None:
    import jwt

    from runtime import pki

    assert pki.ensure_idp_key(tmp_path) is True
    assert pki.ensure_idp_key(tmp_path) is False  # kept
    (jwk,) = pki.idp_jwks(tmp_path)["keys"]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    token = jwt.encode({"sub": "x"}, (tmp_path / pki.IDP_KEY).read_bytes(), algorithm="RS256")
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["RS256"])["sub"] == "x"
    assert oct((tmp_path / pki.IDP_KEY).stat().st_mode)[-3:] == "600"


# -- a person signed in at the portal: the verified token's payload, from the gateway only ----
def _claims(**claims: object) -> str:
    import base64
    import json

    raw = json.dumps(claims).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GATEWAY = [P + "gateway"]
JAN = "85071412330"


def test_citizen_is_the_person_its_token_names_when_forwarded_by_gateway() -> None:
    ctx = FakeContext(GATEWAY, [("x-carrefour-claims", _claims(sub=JAN, aud="carrefour-portal"))])
    caller = caller_from_context(ctx)
    assert caller == Caller(PartyKind.PERSON, JAN, via_gateway=True)
    assert JAN not in caller.log_name


def test_person_acting_for_employer_is_the_employer_with_person_and_role() -> None:
    claims = _claims(sub=JAN, employer="000100006", role="reader")
    caller = caller_from_context(FakeContext(GATEWAY, [("x-carrefour-claims", claims)]))
    assert caller == Caller(
        PartyKind.EMPLOYER, "000100006", via_gateway=True, person=JAN, role="reader"
    )
    assert not caller.may_declare
    assert JAN not in caller.log_name
    assert Caller(PartyKind.EMPLOYER, "000100006").may_declare


def test_claims_are_ignored_when_peer_is_not_gateway() -> None:
    ctx = FakeContext([P + "institution/onem"], [("x-carrefour-claims", _claims(sub=JAN))])
    assert caller_from_context(ctx) == Caller(PartyKind.INSTITUTION, "onem")


def test_claims_win_over_xfcc_when_gateway_forwards_both() -> None:
    # The edge sets only one of them per listener; if both came, the token is the caller.
    ctx = FakeContext(
        GATEWAY,
        [
            ("x-forwarded-client-cert", f"URI={P}institution/onem"),
            ("x-carrefour-claims", _claims(sub=JAN)),
        ],
    )
    assert caller_from_context(ctx) == Caller(PartyKind.PERSON, JAN, via_gateway=True)


@pytest.mark.parametrize(
    "claims",
    [
        _claims(sub="85071412331"),  # bad check digits
        _claims(sub=85071412330),
        _claims(),
        _claims(sub=JAN, employer="000100006"),  # no role
        _claims(sub=JAN, employer="000100006", role="boss"),
        _claims(sub=JAN, employer="000100007", role="declarant"),  # bad ONSS number
        "not base64 !",
        "bm90IGpzb24",  # "not json"
        "WzFd",  # a JSON list
    ],
)
def test_gateway_claims_name_nobody_when_they_are_not_what_the_idp_issues(claims: str) -> None:
    assert caller_from_context(FakeContext(GATEWAY, [("x-carrefour-claims", claims)])) is None


def test_certificate_never_names_a_person() -> None:
    assert caller_from_context(FakeContext([P + "person/" + JAN])) is None
    ctx = FakeContext(GATEWAY, [("x-forwarded-client-cert", f"URI={P}person/{JAN}")])
    assert caller_from_context(ctx) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_claims_parser_never_crashes_when_header_is_arbitrary(header: str) -> None:
    caller = caller_from_context(FakeContext(GATEWAY, [("x-carrefour-claims", header)]))
    assert caller is None or caller.via_gateway


@dataclass
class _Call:
    """What a finished call or an RpcError offers: its two sets of metadata."""

    initial: tuple = ()
    trailing: tuple | None = ()

    def initial_metadata(self) -> tuple:
        return self.initial

    def trailing_metadata(self) -> tuple:
        if self.trailing is None:
            raise AssertionError("a stream's trailing metadata waits for its end: not read")
        return self.trailing


def test_router_ticket_is_read_from_trailers_when_call_is_unary() -> None:
    call = _Call(trailing=(("cbss-subject-deceased", "true"), ("cbss-ticket", "t-1")))
    assert router_ticket(call) == "t-1"


def test_router_ticket_is_read_without_waiting_for_trailers_when_call_is_a_stream() -> None:
    assert router_ticket(_Call(initial=(("cbss-ticket", "t-2"),), trailing=None)) == "t-2"


def test_router_ticket_is_empty_when_no_router_answered() -> None:
    assert router_ticket(_Call(trailing=(("grpc-status-details-bin", b"x"),))) == ""
