"""The portal's REST/JSON as a browser reaches it: the whole mesh as `make run` starts it, the
edge's browser listener (server TLS, a token required), every people's method called.

- Tokens: none, expired, signed by another key, tampered, unsigned, another issuer → 401; another
  audience → 403 — nothing reaches a service.
- A person is who the verified token says: a forged `x-carrefour-claims` header is replaced;
  a citizen reads only their own data (NOT_OWN_DATA for anyone else's), an employer's staff act
  only for their employer, a `reader` never files.
- Every REST method the portal serves answers (a success or its reason), bad JSON is 400, an
  API path that maps to no method is 404, the OpenAPI document is served.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import json_format

from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime.client import party_tls, secure_channel
from runtime.employers import RETAIL, STATE
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.support.portal import Portal

# make_run: `make run`'s mesh is always on SQLite; CI's PostgreSQL pass leaves it out.
pytestmark = [pytest.mark.integration, pytest.mark.make_run]

JAN = FIXED_MAN
OTHER = FIXED_WOMAN
#: Persons of the identity provider's mandate table are not needed here: the tokens are minted
#: directly (the provider's own refusals are the portal process's tests).
AGENT = "79021401475"


@pytest.fixture(scope="module")
def portal(make_run_portal: Portal) -> Portal:
    """The whole mesh, shared with the browser tests (tests/integration/conftest.py)."""
    return make_run_portal


def _reason(body: object) -> str:
    """The machine-readable reason of a JSON google.rpc.Status."""
    text = json.dumps(body)
    if not isinstance(body, dict):
        return text
    for detail in body.get("details", []):
        if "reason" in detail:
            return detail["reason"]
    return text


def _jan(portal: Portal) -> str:
    return portal.token(JAN, name="Jan")


PERSON = f"/registry/v1/persons/{JAN}?read_mask=identity,address"


# -- tokens ---------------------------------------------------------------------------------
def test_api_without_a_token_is_refused_at_the_edge(portal: Portal) -> None:
    status, _ = portal.request("GET", PERSON)
    assert status == 401


def _other_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _tampered(token: str, **changes: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _unsigned(portal: Portal) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    token = portal.token(JAN)
    return f"{header}.{token.split('.')[1]}."


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("expired", 401),
        ("other key", 401),
        ("tampered", 401),
        ("unsigned", 401),
        ("other issuer", 401),
        ("other audience", 403),
        ("not a token", 401),
    ],
)
def test_bad_tokens_are_refused_at_the_edge(portal: Portal, case: str, expected: int) -> None:
    now = int(time.time())
    token = {
        "expired": lambda: portal.token(JAN, iat=now - 3600, nbf=now - 3600, exp=now - 1800),
        "other key": lambda: portal.token(JAN, key=_other_key()),
        "tampered": lambda: _tampered(portal.token(OTHER), sub=JAN),
        "unsigned": lambda: _unsigned(portal),
        "other issuer": lambda: portal.token(JAN, iss="someone-else"),
        "other audience": lambda: portal.token(JAN, aud="another-app"),
        "not a token": lambda: "abc.def",
    }[case]()
    status, body = portal.request("GET", PERSON, token)
    assert status == expected, body


# -- a citizen ------------------------------------------------------------------------------
def test_citizen_reads_their_own_register_record(portal: Portal) -> None:
    status, body = portal.request("GET", PERSON, _jan(portal))
    assert status == 200, body
    assert body["person"]["insz"] == JAN
    assert body["person"]["identity"]["last_name"]


@pytest.mark.parametrize(
    "path",
    [
        f"/registry/v1/persons/{OTHER}?read_mask=identity",
        f"/dimona/v1/persons/{OTHER}/periods",
        f"/drs/v1/persons/{OTHER}/declarations",
    ],
)
def test_citizen_cannot_read_another_persons_data(portal: Portal, path: str) -> None:
    status, body = portal.request("GET", path, _jan(portal))
    assert status == 403, body
    assert _reason(body) == "NOT_OWN_DATA"


def test_forged_claims_header_is_replaced_by_the_verified_token(portal: Portal) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"sub": OTHER}).encode()).decode()
    headers = {"x-carrefour-claims": forged}
    status, body = portal.request(
        "GET", f"/registry/v1/persons/{OTHER}?read_mask=identity", _jan(portal), headers=headers
    )
    assert status == 403 and _reason(body) == "NOT_OWN_DATA"
    status, body = portal.request("GET", PERSON, _jan(portal), headers=headers)
    assert status == 200 and body["person"]["insz"] == JAN


def test_citizen_sees_their_periods_attestations_holders_and_consultations(
    portal: Portal,
) -> None:
    token = _jan(portal)
    status, periods = portal.request("GET", f"/dimona/v1/persons/{JAN}/periods", token)
    assert status == 200, periods
    assert isinstance(periods["periods"], list)
    status, attestations = portal.request("GET", f"/drs/v1/persons/{JAN}/declarations", token)
    assert status == 200, attestations
    assert isinstance(attestations["declarations"], list)
    status, holders = portal.request("GET", "/router/v1/me/holders", token)
    assert status == 200, holders
    assert {"onem", "cin"} & {h["institution"] for h in holders["holders"]}  # seeded
    # ONEM consults Jan's record through the router now; Jan sees it, never his own reads.
    _onem_consults(portal, JAN)
    status, seen = portal.request("GET", "/router/v1/me/consultations", token)
    assert status == 200, seen
    onem = [c for c in seen["consultations"] if c["institution"] == "onem"]
    assert onem and onem[0]["legal_context"] and onem[0]["method"].endswith("/GetPerson")
    assert all(
        c["institution"] != JAN and "person" not in c["institution"] for c in seen["consultations"]
    )
    assert "payload" not in json.dumps(seen).lower()


def _onem_consults(portal: Portal, insz: str) -> None:
    from google.protobuf import field_mask_pb2

    from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
    from runtime.identity import LEGAL_CONTEXT_HEADER

    files = party_tls(portal.pki_dir, "institution-onem")
    with secure_channel(f"localhost:{portal.mesh.ports['router']}", files) as channel:
        registry_pb2_grpc.RegistryServiceStub(channel).GetPerson(
            registry_pb2.GetPersonRequest(
                insz=insz, read_mask=field_mask_pb2.FieldMask(paths=["identity"])
            ),
            metadata=[(LEGAL_CONTEXT_HEADER, "unemployment.control")],
            timeout=15,
        )


def test_citizen_cannot_use_an_employers_api(portal: Portal) -> None:
    status, body = portal.request("GET", f"/dimona/v1/employers/{RETAIL}/periods", _jan(portal))
    assert status == 403, body
    assert _reason(body) == "NOT_AUTHORISED"


# -- an employer's staff --------------------------------------------------------------------
def _agent(portal: Portal, role: str = "declarant", employer: str = RETAIL) -> str:
    return portal.token(AGENT, employer=employer, role=role, name="An")


def _dimona_in(reference: str) -> dict:
    body = json_format.MessageToDict(
        submit_in(RETAIL, reference, dimona_in(OTHER, start=dt.date.today())),
        preserving_proto_field_name=True,
    )
    del body["parent"]  # in the path
    return body


def test_declarant_files_a_dimona_and_it_records_who_acted(portal: Portal) -> None:
    status, body = portal.request(
        "POST", f"/dimona/v1/employers/{RETAIL}/declarations", _agent(portal),
        _dimona_in("portal-rest-1"),
    )  # fmt: skip
    assert status == 200, body
    declaration = body["declaration"]
    assert declaration["status"].startswith("DECLARATION_STATUS_ACCEPTED")
    assert AGENT in json.dumps(declaration)  # the person who acted
    status, listed = portal.request(
        "GET", f"/dimona/v1/employers/{RETAIL}/periods?worker_insz={OTHER}", _agent(portal)
    )
    assert status == 200
    assert str(declaration["period_id"]) in {str(p["period_id"]) for p in listed["periods"]}


def test_reader_never_files(portal: Portal) -> None:
    status, body = portal.request(
        "POST", f"/dimona/v1/employers/{RETAIL}/declarations", _agent(portal, "reader"),
        _dimona_in("portal-rest-reader"),
    )  # fmt: skip
    assert status == 403, body
    assert _reason(body) == "READ_ONLY_ROLE"
    status, body = portal.request(
        "GET", f"/dimona/v1/employers/{RETAIL}/periods", _agent(portal, "reader")
    )
    assert status == 200, body


def test_staff_act_only_for_their_employer(portal: Portal) -> None:
    status, body = portal.request("GET", f"/dimona/v1/employers/{STATE}/periods", _agent(portal))
    assert status == 403
    assert _reason(body) == "NOT_OWN_EMPLOYER"
    # And never about persons through the self-service rule: they are not the person.
    status, body = portal.request(
        "GET", f"/registry/v1/persons/{OTHER}?read_mask=identity", _agent(portal)
    )
    assert status == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", f"/dimona/v1/employers/{RETAIL}/periods/999999999", None, 404),
        ("GET", f"/dmfa/v1/employers/{RETAIL}/declarations", None, 200),
        ("GET", f"/dmfa/v1/employers/{RETAIL}/declarations/2025Q1/versions", None, 200),
        ("GET", f"/dmfa/v1/employers/{RETAIL}/declarations/2025Q1/versions/99", None, 404),
        ("GET", f"/dmfa/v1/employers/{RETAIL}/declarations/2025Q1/versions/99/workers", None, 404),
        ("GET", f"/drs/v1/employers/{RETAIL}/declarations", None, 200),
        ("GET", f"/drs/v1/employers/{RETAIL}/declarations/nope-1", None, 404),
        ("GET", f"/drs/v1/employers/{RETAIL}/tasks", None, 200),
        ("POST", f"/drs/v1/employers/{RETAIL}/declarations:prefill", {"insz": OTHER}, 400),
        ("POST", f"/drs/v1/employers/{RETAIL}/declarations", {"insz": OTHER}, 400),
    ],
)
def test_every_employer_rest_method_answers_with_a_status_and_reason(
    portal: Portal, method: str, path: str, body: dict | None, expected: int
) -> None:
    status, reply = portal.request(method, path, _agent(portal), body)
    assert status == expected, reply
    if expected != 200:
        assert _reason(reply).isupper(), reply  # a machine-readable reason, not a stack


def test_bad_json_is_400_and_reaches_no_service(portal: Portal) -> None:
    status, _ = portal.request(
        "POST", f"/dimona/v1/employers/{RETAIL}/declarations", _agent(portal), b"{not json"
    )
    assert status == 400


def test_api_path_that_maps_to_no_method_is_404(portal: Portal) -> None:
    status, body = portal.request("GET", "/router/v1/me/everything", _jan(portal))
    assert status == 404, body
    # Institutions' APIs are not on the browser listener at all.
    status, _ = portal.request("GET", "/router/v1/messages", _jan(portal))
    assert status == 404


def test_openapi_document_is_served_without_a_token(portal: Portal) -> None:
    status, document = portal.request("GET", "/openapi.json")
    assert status == 200
    assert document["openapi"] == "3.1.0"
    assert "/router/v1/me/consultations" in document["paths"]


def test_access_log_has_no_token_and_no_insz(portal: Portal) -> None:
    portal.request("GET", PERSON, _jan(portal))
    log = portal.mesh.var / "log" / "edge-access.log"
    deadline = time.monotonic() + 10  # Envoy flushes its access log every second
    while "RegistryService/GetPerson" not in (text := log.read_text()):
        assert time.monotonic() < deadline, text[-2000:]
        time.sleep(0.2)
    assert "Bearer" not in text and "eyJ" not in text
    assert JAN not in text and OTHER not in text
