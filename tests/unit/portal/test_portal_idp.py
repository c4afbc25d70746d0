"""The development identity provider: its people (seeded in the registry), the mandate table,
token requests and the signed tokens (verified with PyJWT against the published JWKS)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import idp
from registry.seed.population import FIXED_PERSONS
from runtime import employers, pki
from runtime.identifiers import parse_insz
from runtime.identity import ROLES

JAN, MARIE, THOMAS, AHMET = "85071412330", "03020100274", "90052104586", "85493000163"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> idp.TokenSigner:
    folder = tmp_path_factory.mktemp("idp")
    pki.ensure_idp_key(folder)
    return idp.TokenSigner.from_files(folder / pki.IDP_KEY, folder / pki.IDP_JWKS)


def _verify(signer: idp.TokenSigner, token: str) -> dict:
    key = jwt.PyJWKSet.from_dict(signer.jwks)[jwt.get_unverified_header(token)["kid"]]
    return jwt.decode(token, key, algorithms=["RS256"], audience=idp.AUDIENCE, issuer=idp.ISSUER)


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def test_people_are_seeded_in_the_registry_with_their_names_when_listed() -> None:
    seeded = {p.record.insz: p.record for p in FIXED_PERSONS}
    assert JAN in {p.insz for p in idp.PEOPLE}  # the demo's worker
    for person in idp.PEOPLE:
        parse_insz(person.insz)
        record = seeded[person.insz]
        assert record.last_name == person.last_name
        assert person.first_name == record.first_names[0]
        assert record.death_date is None and record.replaced_by is None


def test_mandate_table_covers_the_demo_employers_when_read() -> None:
    roles = {(m.employer, m.role) for p in idp.PEOPLE for m in p.mandates}
    assert (employers.RETAIL, "declarant") in roles
    assert (employers.RETAIL, "reader") in roles
    assert (employers.STATE, "declarant") in roles
    assert all(role in ROLES for _, role in roles)


def test_people_listing_names_each_mandate_with_its_employer_when_requested() -> None:
    listing = idp.people_listing()
    marie = next(p for p in listing["people"] if p["sub"] == MARIE)
    assert marie["mandates"] == [
        {
            "employer": employers.RETAIL,
            "employer_name": "Supermarché Delhaize-Lion (synthetic)",
            "role": "declarant",
        }
    ]
    assert next(p for p in listing["people"] if p["sub"] == JAN)["mandates"] == []


def test_citizen_token_carries_only_the_person_when_issued(signer: idp.TokenSigner) -> None:
    before = int(time.time())
    reply = signer.issue(_body(sub=JAN))
    assert reply["token_type"] == "Bearer" and reply["expires_in"] == 900
    assert jwt.get_unverified_header(reply["access_token"])["kid"] == signer.kid
    claims = _verify(signer, reply["access_token"])
    assert claims["sub"] == JAN and claims["name"] == "Jan Peeters"
    assert claims["iss"] == "carrefour-dev-idp" and claims["aud"] == "carrefour-portal"
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 900
    assert len(claims["jti"]) == 32
    assert not {"employer", "employer_name", "role"} & set(claims)


@pytest.mark.parametrize(
    ("sub", "employer", "role"),
    [(MARIE, employers.RETAIL, "declarant"), (THOMAS, employers.RETAIL, "reader"),
     (AHMET, employers.STATE, "declarant")],
)  # fmt: skip
def test_agent_token_takes_the_role_from_the_mandate_table_when_issued(
    signer: idp.TokenSigner, sub: str, employer: str, role: str
) -> None:
    claims = _verify(signer, signer.issue(_body(sub=sub, employer=employer))["access_token"])
    assert (claims["sub"], claims["employer"], claims["role"]) == (sub, employer, role)
    assert claims["employer_name"] == idp.employer_name(employer)


def test_every_token_has_its_own_id_when_issued_twice(signer: idp.TokenSigner) -> None:
    first = _verify(signer, signer.issue(_body(sub=JAN))["access_token"])
    second = _verify(signer, signer.issue(_body(sub=JAN))["access_token"])
    assert first["jti"] != second["jti"]


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (_body(sub=JAN, employer=employers.RETAIL), 403, "NO_MANDATE"),
        (_body(sub=MARIE, employer=employers.STATE), 403, "NO_MANDATE"),
        (_body(sub="85071412429"), 403, "UNKNOWN_PERSON"),  # valid INSZ, not a person here
        (_body(sub=THOMAS, employer=employers.RETAIL, role="declarant"), 400, "UNKNOWN_FIELD"),
        (b"{not json", 400, "INVALID_JSON"),
        (b"\xff\xfe", 400, "INVALID_JSON"),
        (b"[]", 400, "INVALID_JSON"),
        (_body(), 400, "SUB_REQUIRED"),
        (_body(sub=85071412330), 400, "SUB_REQUIRED"),
        (_body(sub="85071412331"), 400, "INSZ_CHECK_DIGITS"),
        (_body(sub="8507141233"), 400, "INSZ_MALFORMED"),
        (_body(sub=MARIE, employer=100006), 400, "INVALID_EMPLOYER"),
        (_body(sub=MARIE, employer="000100007"), 400, "ONSS_NUMBER_CHECK_DIGITS"),
    ],
)
def test_token_request_is_refused_with_its_reason_when_not_allowed(
    signer: idp.TokenSigner, body: bytes, status: int, reason: str
) -> None:
    with pytest.raises(idp.Refused) as refused:
        signer.issue(body)
    assert (refused.value.status, refused.value.reason) == (status, reason)
    assert "85071412330" not in refused.value.message


@given(
    st.one_of(
        st.binary(max_size=200),
        st.dictionaries(
            st.text(max_size=10), st.none() | st.text(max_size=20) | st.integers(), max_size=4
        ).map(lambda d: json.dumps(d).encode()),
    )
)  # noqa: E501
def test_token_request_parser_answers_or_refuses_cleanly_when_fuzzed(body: bytes) -> None:
    try:
        sub, employer = idp.parse_token_request(body)
    except idp.Refused as refused:
        assert refused.status == 400 and refused.reason.isupper()
    else:
        parse_insz(sub)
        assert employer is None or len(employer) in (9, 10)


def test_signer_refuses_a_jwks_of_another_key_when_built(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    pki.ensure_idp_key(one)
    pki.ensure_idp_key(two)
    with pytest.raises(ValueError, match="does not match"):
        idp.TokenSigner.from_files(one / pki.IDP_KEY, two / pki.IDP_JWKS)


def test_token_signed_by_another_key_fails_verification_when_checked(
    signer: idp.TokenSigner, tmp_path: Path
) -> None:
    pki.ensure_idp_key(tmp_path)
    other = idp.TokenSigner.from_files(tmp_path / pki.IDP_KEY, tmp_path / pki.IDP_JWKS)
    token = other.issue(_body(sub=JAN))["access_token"]
    key = jwt.PyJWK.from_dict(signer.jwks["keys"][0])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, key, algorithms=["RS256"], audience=idp.AUDIENCE)
