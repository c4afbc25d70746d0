"""BIS number allocation: the number's layout, the serial's parity, never twice, exhaustion."""

from __future__ import annotations

import dataclasses

import pytest
from registry_fakes import ADMIN, CBSS, HOME, NR, ONEM, TODAY, FakeRegistry, nr_person

from registry.service import bis
from registry.service.changes import BisRegistration, RegistryChanges
from registry.service.model import MutationKind, Outcome, PartialDate
from runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from runtime.identifiers import InszKind, Sex, make_insz, parse_insz


def registration(request_id: str = "r1", **changes: object) -> BisRegistration:
    fields: dict[str, object] = {
        "request_id": request_id,
        "last_name": "Nowak",
        "first_names": ("Piotr",),
        "sex": Sex.MALE,
        "birth_date": PartialDate(1990, 2, 14),
        "birth_place": "Kraków",
        "nationality": "PL",
    }
    fields.update(changes)
    return BisRegistration(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sex", "birth", "prefix"),
    [
        (Sex.MALE, PartialDate(1990, 2, 14), "904214"),
        (Sex.FEMALE, PartialDate(2003, 12, 1), "035201"),
        (Sex.UNKNOWN, PartialDate(1972, 3, 0), "722300"),
        (Sex.UNKNOWN, PartialDate(1972, 0, 0), "722000"),
        (Sex.MALE, PartialDate(1972, 0, 0), "724000"),
    ],
)
def test_number_prefix_shifts_month_when_sex_is_known_or_not(
    sex: Sex, birth: PartialDate, prefix: str
) -> None:
    assert bis.number_prefix(birth, sex) == prefix
    number = bis.bis_number(birth, sex, 2 if sex is Sex.FEMALE else 1)
    assert number.startswith(prefix)
    parsed = parse_insz(number)
    assert parsed.is_bis and (parsed.birth_month, parsed.birth_day) == (birth.month, birth.day)


@pytest.mark.parametrize(
    ("sex", "used", "expected"),
    [
        (Sex.MALE, set(), 1),
        (Sex.MALE, {1, 2, 3}, 5),
        (Sex.FEMALE, set(), 2),
        (Sex.FEMALE, {1, 2, 3}, 4),
        (Sex.UNKNOWN, {1, 2, 3}, 4),
        (Sex.MALE, set(range(1, 998, 2)), None),
        (Sex.FEMALE, set(range(2, 999, 2)), None),
        (Sex.UNKNOWN, set(range(1, 999)), None),
        (Sex.UNKNOWN, set(range(1, 998)), 998),
    ],
)
def test_next_serial_is_lowest_free_of_right_parity_when_some_are_used(
    sex: Sex, used: set[int], expected: int | None
) -> None:
    assert bis.next_free_serial(used, sex) == expected


def test_used_serials_count_only_same_century_when_prefix_is_shared() -> None:
    kind = InszKind.BIS_SEX_KNOWN
    n1905 = make_insz(birth_year=1905, birth_month=3, birth_day=1, serial=1, kind=kind)
    n2005 = make_insz(birth_year=2005, birth_month=3, birth_day=1, serial=3, kind=kind)
    assert n1905[:6] == n2005[:6]
    assert bis.used_serials([n1905, n2005], 2005) == {3}


def test_registration_issues_a_valid_bis_number_when_cbss_registers(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    result = changes.register_bis(CBSS, registration(address=HOME))
    assert result.outcome is Outcome.CREATED
    parsed = parse_insz(result.insz)
    assert parsed.kind is InszKind.BIS_SEX_KNOWN and parsed.sex is Sex.MALE
    assert (parsed.birth_year, parsed.birth_month, parsed.birth_day) == (1990, 2, 14)
    person = fake.state.persons[result.insz]
    assert (person.last_name, person.nationality, person.birth_place) == ("Nowak", "PL", "Kraków")
    assert fake.state.addresses[result.insz][0].start == TODAY
    (event,) = fake.state.events
    assert (event.sequence, event.kind, event.insz) == (1, MutationKind.BIS_REGISTERED, result.insz)
    assert event.effective_date == TODAY and event.after.insz == result.insz


@pytest.mark.parametrize(
    ("sex", "kind", "parity"),
    [
        (Sex.MALE, InszKind.BIS_SEX_KNOWN, 1),
        (Sex.FEMALE, InszKind.BIS_SEX_KNOWN, 0),
        (Sex.UNKNOWN, InszKind.BIS_SEX_UNKNOWN, None),
    ],
)
def test_successive_registrations_get_distinct_numbers_when_birth_and_sex_are_equal(
    changes: RegistryChanges, sex: Sex, kind: InszKind, parity: int | None
) -> None:
    numbers = [
        changes.register_bis(
            CBSS, registration(f"r{i}", sex=sex, first_names=(f"Name{chr(65 + i)}",))
        ).insz
        for i in range(6)
    ]
    assert len(set(numbers)) == 6
    serials = [parse_insz(n).serial for n in numbers]
    assert all(parse_insz(n).kind is kind for n in numbers)
    if parity is None:
        assert serials == [1, 2, 3, 4, 5, 6]
    else:
        assert all(s % 2 == parity for s in serials) and serials == sorted(serials)


def test_serial_skips_numbers_in_use_when_an_nr_or_replaced_number_shares_the_prefix(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    taken = make_insz(
        birth_year=1990, birth_month=2, birth_day=14, serial=1, kind=InszKind.BIS_SEX_KNOWN
    )
    fake.add(nr_person(insz=taken, kind=InszKind.BIS_SEX_KNOWN, replaced_by="85071412330"))
    assert parse_insz(changes.register_bis(CBSS, registration()).insz).serial == 3


def test_registration_fails_when_every_serial_is_taken(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    with fake.unit() as unit:
        for serial in range(1, 998, 2):
            number = bis.bis_number(PartialDate(1990, 2, 14), Sex.MALE, serial)
            unit.persons.add(nr_person(insz=number, kind=InszKind.BIS_SEX_KNOWN))
    before = fake.counts()
    with pytest.raises(FailedPrecondition) as err:
        changes.register_bis(CBSS, registration())
    assert err.value.reason == "BIS_SERIALS_EXHAUSTED"
    assert fake.counts() == before
    # Women still have their own (even) serials.
    assert changes.register_bis(CBSS, registration("r2", sex=Sex.FEMALE)).outcome is Outcome.CREATED


def test_existing_person_is_returned_when_names_and_birth_date_match(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    known = fake.add(
        nr_person(last_name="Nowák", first_names=("PIOTR",), year=1990, month=2, day=14)
    )
    before = fake.counts()
    result = changes.register_bis(CBSS, registration())
    assert (result.insz, result.outcome) == (known.insz, Outcome.EXISTING_PERSON)
    persons, addresses, events, keys = fake.counts()
    assert (persons, addresses, events) == before[:3] and keys == before[3] + 1
    forced = changes.register_bis(CBSS, registration("r2", force_new=True))
    assert forced.outcome is Outcome.CREATED and forced.insz != known.insz


def test_no_existing_person_is_looked_for_when_birth_date_is_partial(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    fake.add(nr_person(last_name="Nowak", first_names=("Piotr",), year=1990, month=2, day=14))
    result = changes.register_bis(CBSS, registration(birth_date=PartialDate(1990, 2, 0)))
    assert result.outcome is Outcome.CREATED


def test_same_answer_is_given_when_request_is_repeated(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    first = changes.register_bis(CBSS, registration(first_names=("  Piotr ",)))
    counts = fake.counts()
    again = changes.register_bis(CBSS, registration(first_names=("Piotr",)))
    assert again == first and fake.counts() == counts
    # The key is the caller's: an admin may use the same request id.
    assert changes.register_bis(ADMIN, registration(force_new=True)).insz != first.insz


def test_key_reuse_is_refused_when_content_differs(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    changes.register_bis(CBSS, registration())
    counts = fake.counts()
    with pytest.raises(AlreadyExists) as err:
        changes.register_bis(CBSS, registration(last_name="Kowalski"))
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert fake.counts() == counts


@pytest.mark.parametrize("caller", [NR, ONEM])
def test_registration_is_refused_when_caller_is_not_cbss_or_admin(
    changes: RegistryChanges, fake: FakeRegistry, caller: object
) -> None:
    with pytest.raises(PermissionDenied) as err:
        changes.register_bis(caller, registration(last_name=""))  # type: ignore[arg-type]
    assert err.value.reason == "NOT_AUTHORISED"
    assert fake.counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"request_id": ""}, "request_id", "INVALID_REQUEST_ID"),
        ({"request_id": "a b"}, "request_id", "INVALID_REQUEST_ID"),
        ({"request_id": "x" * 65}, "request_id", "INVALID_REQUEST_ID"),
        ({"last_name": "  "}, "last_name", "INVALID_NAME"),
        ({"last_name": "1234"}, "last_name", "INVALID_NAME"),
        ({"last_name": "x" * 101}, "last_name", "INVALID_NAME"),
        ({"first_names": ("Jan", "")}, "first_names[1]", "INVALID_NAME"),
        ({"first_names": ("A",) * 11}, "first_names", "INVALID_NAME"),
        ({"sex": None}, "sex", "INVALID_SEX"),
        ({"birth_date": None}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(1899, 12, 31)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(2026, 1, 1)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(2025, 6, 16)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(1990, 2, 30)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(1990, 0, 5)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"birth_date": PartialDate(1990, 13, 0)}, "birth_date", "INVALID_BIRTH_DATE"),
        ({"nationality": "XX"}, "nationality", "INVALID_COUNTRY"),
        ({"nationality": "pl"}, "nationality", "INVALID_COUNTRY"),
        ({"birth_place": "x" * 101}, "birth_place", "INVALID_PLACE"),
        (
            {"address": dataclasses.replace(HOME, postcode="999")},
            "address.postcode",
            "INVALID_ADDRESS",
        ),
        ({"address": dataclasses.replace(HOME, street="")}, "address.street", "INVALID_ADDRESS"),
        (
            {"address": dataclasses.replace(HOME, country_code="")},
            "address.country_code",
            "INVALID_ADDRESS",
        ),
    ],
)
def test_registration_is_refused_when_input_is_invalid(
    changes: RegistryChanges, fake: FakeRegistry, change: dict, field: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        changes.register_bis(CBSS, registration(**change))
    assert err.value.reason == reason
    assert field in [v.field for v in err.value.violations]
    assert fake.counts() == (0, 0, 0, 0)


def test_today_is_a_valid_birth_date_when_registering(changes: RegistryChanges) -> None:
    assert changes.register_bis(CBSS, registration(birth_date=PartialDate(2025, 6, 15))).insz


def test_every_problem_is_reported_when_several_fields_are_invalid(
    changes: RegistryChanges,
) -> None:
    with pytest.raises(InvalidArgument) as err:
        changes.register_bis(CBSS, registration(request_id="", last_name="", sex=None))
    assert [v.field for v in err.value.violations] == ["request_id", "last_name", "sex"]


def test_registration_through_the_cbss_router_is_accepted_when_forwarded(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    from runtime.identity import Caller, PartyKind

    result = changes.register_bis(Caller(PartyKind.ROUTER, "cbss"), registration())
    assert result.outcome is Outcome.CREATED
    with pytest.raises(PermissionDenied) as err:  # a hub's router is not the CBSS's
        changes.register_bis(Caller(PartyKind.ROUTER, "cin"), registration(request_id="r-2"))
    assert err.value.reason == "NOT_AUTHORISED"
