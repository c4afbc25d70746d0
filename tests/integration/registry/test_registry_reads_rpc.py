"""ValidateInsz, GetPerson and SearchPersons on a real registry over mTLS."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.type import date_pb2
from registry_rpc import Rows, Stub, get_person, routing, rpc_failure, search

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2
from registry.seed.population import (
    FIXED_BIS,
    FIXED_BIS_UNKNOWN,
    FIXED_DECEASED,
    FIXED_MAN,
    FIXED_REPLACED,
    FIXED_REPLACEMENT,
    FIXED_WOMAN,
)
from registry.service.model import InfoType
from runtime.identifiers import make_insz

pytestmark = pytest.mark.integration

ALWAYS = {"name", "insz"}


def present(person: registry_pb2.Person) -> set[str]:
    return {field.name for field, _ in person.ListFields()} - ALWAYS


# -- ValidateInsz ----------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["institution-onem", "employer-000935467", "admin-ops"])
def test_number_is_validated_when_any_party_asks(stub, party: str) -> None:
    reply = stub(party).ValidateInsz(registry_pb2.ValidateInszRequest(insz=FIXED_BIS), timeout=10)
    assert reply.valid and not reply.invalid_reason
    assert reply.details.insz == FIXED_BIS
    assert reply.details.kind == types_pb2.INSZ_KIND_BIS_SEX_KNOWN
    assert reply.details.sex == types_pb2.SEX_MALE
    assert (reply.details.birth_date.year, reply.details.birth_date.month) == (1985, 9)
    assert not reply.details.born_after_1999


def test_partial_birth_date_is_decoded_when_number_says_it_is_unknown(stub) -> None:
    reply = stub("institution-onem").ValidateInsz(
        registry_pb2.ValidateInszRequest(insz=FIXED_BIS_UNKNOWN), timeout=10
    )
    assert reply.details.sex == types_pb2.SEX_UNKNOWN
    date = reply.details.birth_date
    assert (date.year, date.month, date.day) == (1972, 3, 0)
    woman = stub("institution-onem").ValidateInsz(
        registry_pb2.ValidateInszRequest(insz=FIXED_WOMAN), timeout=10
    )
    assert woman.details.born_after_1999 and woman.details.sex == types_pb2.SEX_FEMALE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("85071412331", "INSZ_CHECK_DIGITS"),
        ("85.07.14-123.30", "INSZ_MALFORMED"),
        ("hello", "INSZ_MALFORMED"),
        ("٨٥٠٧١٤١٢٣٣٠", "INSZ_MALFORMED"),
    ],
)
def test_verdict_is_ok_with_reason_when_string_is_not_a_number(
    stub, text: str, reason: str
) -> None:
    reply = stub("institution-onem").ValidateInsz(
        registry_pb2.ValidateInszRequest(insz=text), timeout=10
    )
    assert not reply.valid and reply.invalid_reason == reason and reply.description
    assert not reply.HasField("details")


@pytest.mark.parametrize(("text", "reason"), [("", "INSZ_REQUIRED"), ("8" * 33, "INSZ_TOO_LONG")])
def test_validation_is_invalid_argument_when_input_is_empty_or_long(
    stub, text: str, reason: str
) -> None:
    err = rpc_failure(
        lambda: stub("institution-onem").ValidateInsz(
            registry_pb2.ValidateInszRequest(insz=text), timeout=10
        )
    )
    assert (err.code, err.reason, err.domain) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        "registry.cbss",
    )
    assert "insz" in err.field_violations


# -- GetPerson -------------------------------------------------------------------------------------


@pytest.mark.parametrize("info", [t.value for t in InfoType])
def test_only_the_requested_type_is_returned_when_one_is_asked(stub, info: str) -> None:
    person = get_person(stub, FIXED_MAN, info)
    assert (person.name, person.insz) == (f"persons/{FIXED_MAN}", FIXED_MAN)
    assert present(person) == {info}


def test_every_type_is_returned_when_mask_is_wildcard(stub) -> None:
    person = get_person(stub, FIXED_MAN, "*")
    assert present(person) == {t.value for t in InfoType}
    assert (person.identity.last_name, list(person.identity.first_names)) == (
        "Peeters",
        ["Jan", "Frans"],
    )
    assert person.identity.sex == types_pb2.SEX_MALE
    assert (person.birth.date.year, person.birth.place, person.birth.country_code) == (
        1985,
        "Antwerpen",
        "BE",
    )
    assert person.address.address.street == "Meir"
    assert not person.address.period.HasField("end_date")
    assert [p.address.street for p in person.address_history.addresses] == ["Kerkstraat", "Meir"]
    assert person.nationality.country_code == "BE"
    assert person.civil_status.state == registry_pb2.CIVIL_STATE_MARRIED
    assert not person.death.HasField("date")
    assert not person.status.deceased
    assert person.status.kind == types_pb2.INSZ_KIND_NATIONAL_REGISTER


def test_two_types_are_returned_when_two_are_asked(stub) -> None:
    assert present(get_person(stub, FIXED_MAN, "birth", "death")) == {"birth", "death"}


def test_address_is_the_one_of_reference_date_when_given(stub) -> None:
    person = get_person(stub, FIXED_MAN, "address", on=date_pb2.Date(year=2010, month=1, day=1))
    assert person.address.address.street == "Kerkstraat"
    assert person.address.period.end_date.year == 2015
    before = get_person(stub, FIXED_MAN, "address", on=date_pb2.Date(year=2000, month=1, day=1))
    assert before.HasField("address") and not before.address.HasField("address")


def test_replaced_number_answers_status_with_new_number_when_asked_anything(stub) -> None:
    person = get_person(stub, FIXED_REPLACED, "identity", "address")
    assert present(person) == {"status"}
    assert person.status.replaced_by == FIXED_REPLACEMENT
    current = get_person(stub, FIXED_REPLACEMENT, "status", "identity")
    assert list(current.status.replaces) == [FIXED_REPLACED]
    assert current.identity.last_name == "Vandenbroucke"


def test_deceased_person_is_answered_when_asked(stub) -> None:
    person = get_person(stub, FIXED_DECEASED, "status", "death")
    assert person.status.deceased
    assert (person.death.date.year, person.death.place) == (2019, "Namur")


@pytest.mark.parametrize(
    ("insz", "reason"),
    [
        ("85071412331", "INSZ_CHECK_DIGITS"),
        ("8507141233", "INSZ_MALFORMED"),
        ("", "INSZ_MALFORMED"),
        ("85.07.14-123.30", "INSZ_MALFORMED"),
    ],
)
def test_get_is_invalid_argument_with_identifier_reason_when_insz_is_invalid(
    stub, insz: str, reason: str
) -> None:
    err = rpc_failure(lambda: get_person(stub, insz, "identity"))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    assert "insz" in err.field_violations
    assert insz not in err.message or not insz


def test_get_is_not_found_when_number_is_valid_but_unknown(stub) -> None:
    unknown = make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=997)
    err = rpc_failure(lambda: get_person(stub, unknown, "identity"))
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND")


def test_get_is_refused_when_mask_is_empty(stub) -> None:
    err = rpc_failure(lambda: get_person(stub, FIXED_MAN))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "READ_MASK_REQUIRED")


def test_get_is_refused_when_mask_names_an_unknown_type(stub) -> None:
    err = rpc_failure(lambda: get_person(stub, FIXED_MAN, "identity", "identity.last_name"))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_INFORMATION_TYPE")
    assert list(err.field_violations) == ["read_mask.paths[1]"]


def test_get_is_refused_when_reference_date_is_partial(stub) -> None:
    err = rpc_failure(lambda: get_person(stub, FIXED_MAN, "address", on=date_pb2.Date(year=2010)))
    assert err.reason == "INVALID_REFERENCE_DATE"


@pytest.mark.parametrize("party", ["institution-onem", "institution-cbss", "admin-ops", "registry"])
def test_consultation_is_permission_denied_when_caller_is_not_a_router(stub, party: str) -> None:
    request = registry_pb2.GetPersonRequest(
        insz=FIXED_MAN, read_mask=field_mask_pb2.FieldMask(paths=["identity"])
    )
    err = rpc_failure(lambda: stub(party).GetPerson(request, metadata=routing(), timeout=10))
    assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECT_ACCESS_FORBIDDEN")
    search = registry_pb2.SearchPersonsRequest(last_name="peeters")
    err = rpc_failure(lambda: stub(party).SearchPersons(search, timeout=10))
    assert err.reason == "DIRECT_ACCESS_FORBIDDEN"


# -- SearchPersons ---------------------------------------------------------------------------------

LEFEVRES = 23


@pytest.fixture(scope="module")
def lefevres(stub) -> set[str]:
    """23 BIS persons named Lefèvre (and a few Lefébure), registered through the API."""
    numbers = set()
    firsts = ["Anaïs", "Noël", "Jean-Pierre", "Élodie", "Marc"]
    for i in range(LEFEVRES):
        reply = stub("institution-cbss").RegisterBisNumber(
            registry_pb2.RegisterBisNumberRequest(
                request_id=f"lefevre-{i}",
                last_name="Lefèvre" if i % 4 else "LEFÈVRE",
                first_names=[firsts[i % 5]],
                sex=[types_pb2.SEX_MALE, types_pb2.SEX_FEMALE, types_pb2.SEX_UNKNOWN][i % 3],
                birth_date=date_pb2.Date(year=1960 + i, month=1 + i % 12, day=1 + i),
                nationality="FR",
            ),
            timeout=10,
        )
        numbers.add(reply.insz)
    for i in range(3):
        stub("institution-cbss").RegisterBisNumber(
            registry_pb2.RegisterBisNumberRequest(
                request_id=f"lefebure-{i}",
                last_name="Lefébure",
                first_names=["Anne"],
                sex=types_pb2.SEX_FEMALE,
                birth_date=date_pb2.Date(year=1970 + i, month=5, day=5),
            ),
            timeout=10,
        )
    return numbers


def all_pages(stub: Callable[[str], Stub], **fields: object) -> list[list[str]]:
    pages, token = [], ""
    while True:
        page = search(stub, page_token=token, **fields)
        pages.append([p.insz for p in page.persons])
        token = page.next_page_token
        if not token:
            return pages


@pytest.mark.parametrize("query", ["lefevre", "LEFÈVRE", "Lefèv", "lEfEvRe"])
def test_search_ignores_accents_and_case_when_name_is_typed_plainly(
    stub, lefevres: set[str], rows: Rows, query: str
) -> None:
    found = {p.insz for p in search(stub, last_name=query, page_size=500).persons}
    assert lefevres <= found
    assert found == rows.current_numbers("lefev")
    assert all(p.last_name in ("Lefèvre", "LEFÈVRE") for p in search(stub, last_name=query).persons)


def test_pages_cover_every_match_once_when_followed(stub, lefevres: set[str], rows: Rows) -> None:
    pages = all_pages(stub, last_name="lefe", page_size=4)
    assert len(pages) > 5 and all(len(p) == 4 for p in pages[:-1])
    found = [insz for page in pages for insz in page]
    assert len(found) == len(set(found))
    assert set(found) == rows.current_numbers("lefe") and lefevres <= set(found)


def test_results_are_in_name_order_when_listed(stub, lefevres) -> None:
    persons = search(stub, last_name="lefe", page_size=500).persons
    keys = [(p.last_name.lower().replace("é", "e").replace("è", "e"), p.insz) for p in persons]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


def test_search_filters_by_first_name_and_birth_when_given(stub, lefevres) -> None:
    by_first = search(stub, last_name="lefevre", first_name="NOEL", page_size=500).persons
    assert by_first and all(p.first_names[0] == "Noël" for p in by_first)
    by_date = search(
        stub, last_name="lefevre", birth_date=date_pb2.Date(year=1961, month=2, day=2)
    ).persons
    assert [(p.birth_date.year, p.birth_date.month, p.birth_date.day) for p in by_date] == [
        (1961, 2, 2)
    ]
    by_years = search(stub, last_name="lefevre", birth_year_from=1970, birth_year_to=1972).persons
    assert {p.birth_date.year for p in by_years} <= {1970, 1971, 1972} and len(by_years) >= 3


def test_page_size_is_clamped_when_above_the_maximum(stub, lefevres) -> None:
    assert len(search(stub, last_name="lef", page_size=100_000).persons) >= LEFEVRES


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"last_name": "l"}, "LAST_NAME_TOO_SHORT"),
        ({"last_name": ""}, "LAST_NAME_TOO_SHORT"),
        ({"last_name": "lefevre", "page_size": -1}, "INVALID_PAGE_SIZE"),
        (
            {"last_name": "lefevre", "birth_year_from": 2000, "birth_year_to": 1990},
            "INVALID_BIRTH_YEAR_RANGE",
        ),
        (
            {"last_name": "lefevre", "birth_date": date_pb2.Date(year=1990, month=2, day=30)},
            "INVALID_BIRTH_DATE",
        ),
        ({"last_name": "lefevre", "page_token": "garbage"}, "INVALID_PAGE_TOKEN"),
    ],
)
def test_search_is_invalid_argument_when_filters_are_bad(stub, fields: dict, reason: str) -> None:
    err = rpc_failure(lambda: search(stub, **fields))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)


def test_token_is_refused_when_used_for_another_query(stub, lefevres) -> None:
    token = search(stub, last_name="lefe", page_size=2).next_page_token
    assert token
    err = rpc_failure(lambda: search(stub, last_name="lefev", page_size=2, page_token=token))
    assert err.reason == "INVALID_PAGE_TOKEN"


def test_token_is_refused_when_tampered_with(stub, lefevres) -> None:
    token = search(stub, last_name="lefe", page_size=2).next_page_token
    body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    body["p"][0] = "a"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    err = rpc_failure(lambda: search(stub, last_name="lefe", page_size=2, page_token=forged))
    assert (err.code, err.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")


# -- GetPersonStatuses (the router's person checks) ------------------------------------------------


def test_statuses_answer_each_insz_in_order_when_router_asks(stub: Callable[[str], Stub]) -> None:
    unknown = make_insz(birth_year=1950, birth_month=1, birth_day=1, serial=997)
    asked = [FIXED_MAN, FIXED_DECEASED, FIXED_REPLACED, unknown, FIXED_MAN]
    reply = stub("router").GetPersonStatuses(
        registry_pb2.GetPersonStatusesRequest(inszs=asked), metadata=routing(), timeout=5
    )
    got = [(s.insz, s.exists, s.deceased, s.replaced_by) for s in reply.statuses]
    assert got == [
        (FIXED_MAN, True, False, ""),
        (FIXED_DECEASED, True, True, ""),
        (FIXED_REPLACED, True, False, FIXED_REPLACEMENT),
        (unknown, False, False, ""),
        (FIXED_MAN, True, False, ""),
    ]


@pytest.mark.parametrize(
    ("inszs", "reason"),
    [([], "TOO_MANY_INSZS"), ([FIXED_MAN] * 1001, "TOO_MANY_INSZS"), (["123"], "INSZ_MALFORMED")],
)
def test_statuses_are_invalid_argument_when_input_is_bad(
    stub: Callable[[str], Stub], inszs: list[str], reason: str
) -> None:
    failure = rpc_failure(
        lambda: stub("router").GetPersonStatuses(
            registry_pb2.GetPersonStatusesRequest(inszs=inszs), metadata=routing(), timeout=5
        )
    )
    assert failure.code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure.reason == reason


def test_statuses_are_refused_when_caller_is_not_a_router(stub: Callable[[str], Stub]) -> None:
    failure = rpc_failure(
        lambda: stub("institution-onem").GetPersonStatuses(
            registry_pb2.GetPersonStatusesRequest(inszs=[FIXED_MAN]), timeout=5
        )
    )
    assert failure.reason == "DIRECT_ACCESS_FORBIDDEN"


# -- ListPersonStatuses ----------------------------------------------------------------------------


def test_every_number_is_listed_once_in_order_when_a_router_pages_the_statuses(
    stub, registry_db: str
) -> None:
    import sqlalchemy as sa

    from runtime.db import Database

    listed: list[registry_pb2.ListedPersonStatus] = []
    token, positions = "", set()
    while True:
        page = stub("router").ListPersonStatuses(
            registry_pb2.ListPersonStatusesRequest(page_size=7, page_token=token), timeout=10
        )
        listed += page.statuses
        positions.add(page.last_sequence)
        token = page.next_page_token
        if not token:
            break
    inszs = [s.insz for s in listed]
    db = Database(registry_db)
    try:
        with db.engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one()
            last = conn.execute(sa.text("SELECT value FROM mutation_counter")).scalar_one()
    finally:
        db.dispose()
    assert inszs == sorted(set(inszs)) and len(inszs) == count
    assert positions == {last}
    by = {s.insz: s for s in listed}
    assert by[FIXED_REPLACED].replaced_by == FIXED_REPLACEMENT
    assert by[FIXED_DECEASED].deceased and not by[FIXED_DECEASED].replaced_by
    assert not by[FIXED_BIS].deceased and by[FIXED_BIS].kind == types_pb2.INSZ_KIND_BIS_SEX_KNOWN


@pytest.mark.parametrize("party", ["institution-onem", "registry", "admin-ops"])
def test_status_listing_is_permission_denied_when_caller_is_not_a_router(stub, party: str) -> None:
    failed = rpc_failure(
        lambda: stub(party).ListPersonStatuses(registry_pb2.ListPersonStatusesRequest(), timeout=10)
    )
    assert (failed.code, failed.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")


def test_status_listing_is_invalid_argument_when_token_is_forged(stub) -> None:
    failed = rpc_failure(
        lambda: stub("router").ListPersonStatuses(
            registry_pb2.ListPersonStatusesRequest(page_token="eyJ2IjoxfQ"), timeout=10
        )
    )
    assert (failed.code, failed.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
