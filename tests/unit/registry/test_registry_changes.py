"""Change rules: moves, deaths, names, replacements; permissions; nothing written on refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from registry_fakes import (
    ADMIN,
    CBSS,
    ELSEWHERE,
    HOME,
    NR,
    ONEM,
    ROUTER,
    TODAY,
    FakeRegistry,
    bis_person,
    home_since,
    nr_person,
)

from registry.service.changes import (
    AddressChange,
    DeathRecord,
    InszReplacement,
    NameChange,
    RegistryChanges,
    fingerprint,
)
from registry.service.model import (
    AddressPeriod,
    DeathValues,
    InszValues,
    MutationKind,
    NameValues,
    PartialDate,
)
from runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from runtime.identifiers import InszKind, make_insz
from runtime.identity import Caller

D = PartialDate
MOVED_IN = dt.date(2015, 3, 1)
NEW_YEAR = D(2024, 1, 1)


@pytest.fixture
def jan(fake: FakeRegistry):
    return fake.add(nr_person(), home_since(MOVED_IN))


@pytest.fixture
def ahmet(fake: FakeRegistry):
    return fake.add(bis_person(), home_since(dt.date(2019, 5, 1), ELSEWHERE))


def move(insz: str, day: PartialDate | None = NEW_YEAR, request_id: str = "m1", address=ELSEWHERE):
    return AddressChange(insz, request_id, address, day)


def refused(fake: FakeRegistry, call: Callable[[], object]) -> ServiceError:
    """Run a change that must fail; assert that nothing was written, return the error."""
    before = (
        fake.counts(),
        dict(fake.state.persons),
        {k: list(v) for k, v in fake.state.addresses.items()},
    )
    with pytest.raises(ServiceError) as err:
        call()
    after = (
        fake.counts(),
        dict(fake.state.persons),
        {k: list(v) for k, v in fake.state.addresses.items()},
    )
    assert after == before
    return err.value


# -- ChangeAddress ---------------------------------------------------------------------------------


def test_move_closes_current_address_when_recorded(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    event = changes.change_address(NR, move(jan.insz))
    assert (event.sequence, event.kind, event.insz) == (1, MutationKind.ADDRESS_CHANGED, jan.insz)
    assert (event.before, event.after, event.effective_date) == (
        HOME,
        ELSEWHERE,
        dt.date(2024, 1, 1),
    )
    assert event.recorded_by == NR.uri and event.recorded_at.tzinfo is not None
    assert fake.state.addresses[jan.insz] == [
        AddressPeriod(HOME, MOVED_IN, dt.date(2023, 12, 31)),
        AddressPeriod(ELSEWHERE, dt.date(2024, 1, 1)),
    ]


def test_first_address_has_no_before_when_person_had_none(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    person = fake.add(nr_person(serial=5))
    event = changes.change_address(NR, move(person.insz))
    assert event.before is None and event.after == ELSEWHERE


@pytest.mark.parametrize("day", [MOVED_IN, D(2015, 2, 28), D(2010, 1, 1)])
def test_move_is_refused_when_not_after_current_address_start(
    changes: RegistryChanges, fake: FakeRegistry, jan, day
) -> None:
    day = day if isinstance(day, PartialDate) else PartialDate.of(day)
    err = refused(fake, lambda: changes.change_address(NR, move(jan.insz, day)))
    assert (err.code, err.reason) == ("FAILED_PRECONDITION", "EFFECTIVE_DATE_OUT_OF_ORDER")


def test_move_is_refused_when_address_is_the_current_one(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    err = refused(fake, lambda: changes.change_address(NR, move(jan.insz, address=HOME)))
    assert err.reason == "ADDRESS_UNCHANGED"


def test_move_is_refused_when_person_is_deceased(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    dead = fake.add(nr_person(serial=7, death_date=dt.date(2020, 1, 1)), home_since(MOVED_IN))
    err = refused(fake, lambda: changes.change_address(NR, move(dead.insz)))
    assert (err.code, err.reason) == ("FAILED_PRECONDITION", "PERSON_DECEASED")


def test_change_is_refused_when_number_was_replaced(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    old = fake.add(nr_person(serial=9, replaced_by=jan.insz))
    for call in (
        lambda: changes.change_address(NR, move(old.insz)),
        lambda: changes.record_death(NR, DeathRecord(old.insz, "d1", D(2024, 1, 1))),
        lambda: changes.change_name(
            NR, NameChange(old.insz, "n1", "Maes", ("Jan",), D(2024, 1, 1))
        ),
        lambda: changes.replace_insz(
            NR,
            InszReplacement(
                old.insz,
                make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=11),
                "x1",
                D(2024, 1, 1),
            ),
        ),
    ):
        assert refused(fake, call).reason == "PERSON_REPLACED"


def test_move_is_refused_when_before_birth(changes: RegistryChanges, fake: FakeRegistry) -> None:
    baby = fake.add(nr_person(serial=13, year=2024, month=3, day=1))
    err = refused(fake, lambda: changes.change_address(NR, move(baby.insz, D(2024, 2, 29))))
    assert err.reason == "DATE_BEFORE_BIRTH"


def test_move_is_refused_when_person_is_unknown(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    unknown = make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=997)
    err = refused(fake, lambda: changes.change_address(NR, move(unknown)))
    assert isinstance(err, NotFound) and err.reason == "PERSON_NOT_FOUND"


@pytest.mark.parametrize(
    ("command", "field", "reason"),
    [
        (move("85071412331"), "insz", "INSZ_CHECK_DIGITS"),
        (move("8507141233"), "insz", "INSZ_MALFORMED"),
        (move("85071412330", request_id=""), "request_id", "INVALID_REQUEST_ID"),
        (move("85071412330", None), "effective_date", "EFFECTIVE_DATE_REQUIRED"),
        (move("85071412330", D(2024, 2, 30)), "effective_date", "INVALID_EFFECTIVE_DATE"),
        (move("85071412330", D(2024, 2, 0)), "effective_date", "INVALID_EFFECTIVE_DATE"),
        (move("85071412330", D(0, 0, 0)), "effective_date", "INVALID_EFFECTIVE_DATE"),
        (move("85071412330", D(2025, 6, 16)), "effective_date", "EFFECTIVE_DATE_IN_FUTURE"),
        (move("85071412330", address=None), "address", "ADDRESS_REQUIRED"),
        (
            move("85071412330", address=HOME.__class__("", "", "", "", "", "")),
            "address.street",
            "INVALID_ADDRESS",
        ),
    ],
)
def test_move_is_refused_when_input_is_invalid(
    changes: RegistryChanges,
    fake: FakeRegistry,
    jan,
    command: AddressChange,
    field: str,
    reason: str,
) -> None:
    err = refused(fake, lambda: changes.change_address(NR, command))
    assert isinstance(err, InvalidArgument) and err.reason == reason
    assert field in [v.field for v in err.violations]


def test_move_today_is_accepted_when_effective_date_is_today(changes: RegistryChanges, jan) -> None:
    assert changes.change_address(NR, move(jan.insz, PartialDate.of(TODAY))).effective_date == TODAY


# -- permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "person", "allowed"),
    [
        (NR, "jan", True),
        (NR, "ahmet", False),
        (CBSS, "jan", False),
        (CBSS, "ahmet", True),
        (ADMIN, "jan", True),
        (ADMIN, "ahmet", True),
        (ONEM, "jan", False),
        (ROUTER, "ahmet", False),
    ],
)
def test_change_is_allowed_only_when_caller_keeps_that_register(
    changes: RegistryChanges,
    fake: FakeRegistry,
    jan,
    ahmet,
    caller: Caller,
    person: str,
    allowed: bool,
) -> None:
    insz = {"jan": jan.insz, "ahmet": ahmet.insz}[person]
    if allowed:
        assert (
            changes.change_address(
                caller, move(insz, address=HOME.__class__("Markt", "1", "", "8000", "Brugge", "BE"))
            ).insz
            == insz
        )
    else:
        err = refused(fake, lambda: changes.change_address(caller, move(insz)))
        assert isinstance(err, PermissionDenied) and err.reason == "NOT_AUTHORISED"


def test_stranger_is_refused_before_input_is_read_when_changing(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    err = refused(fake, lambda: changes.change_address(ONEM, move("garbage", None, "")))
    assert err.reason == "NOT_AUTHORISED"


# -- idempotency -----------------------------------------------------------------------------------


def test_same_event_is_answered_when_change_is_repeated(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    first = changes.change_address(NR, move(jan.insz))
    counts = fake.counts()
    assert changes.change_address(NR, move(jan.insz)) == first
    assert fake.counts() == counts


def test_repeat_is_answered_when_person_changed_since(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    first = changes.change_address(NR, move(jan.insz))
    changes.record_death(NR, DeathRecord(jan.insz, "d1", D(2025, 1, 1)))
    assert changes.change_address(NR, move(jan.insz)) == first


def test_key_reuse_is_refused_when_content_or_operation_differs(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    changes.change_address(NR, move(jan.insz))
    for call in (
        lambda: changes.change_address(NR, move(jan.insz, D(2024, 1, 2))),
        lambda: changes.record_death(NR, DeathRecord(jan.insz, "m1", NEW_YEAR)),
    ):
        err = refused(fake, call)
        assert isinstance(err, AlreadyExists) and err.reason == "IDEMPOTENCY_KEY_REUSED"


def test_fingerprint_differs_when_operation_differs() -> None:
    assert fingerprint("A", 1, "x") != fingerprint("B", 1, "x")
    assert fingerprint("A", dt.date(2024, 1, 1)) == fingerprint("A", dt.date(2024, 1, 1))


# -- RecordDeath -----------------------------------------------------------------------------------


def test_death_is_recorded_when_person_is_alive(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    event = changes.record_death(NR, DeathRecord(jan.insz, "d1", D(2025, 6, 1), " Antwerpen "))
    assert event.kind is MutationKind.DEATH_RECORDED and event.before is None
    assert event.after == DeathValues(dt.date(2025, 6, 1), "Antwerpen")
    assert fake.state.persons[jan.insz].death_date == dt.date(2025, 6, 1)
    err = refused(
        fake, lambda: changes.record_death(NR, DeathRecord(jan.insz, "d2", D(2025, 6, 2)))
    )
    assert err.reason == "PERSON_DECEASED"


@pytest.mark.parametrize(
    ("day", "reason"),
    [(D(1985, 7, 13), "DATE_BEFORE_BIRTH"), (D(2015, 2, 28), "EFFECTIVE_DATE_OUT_OF_ORDER")],
)
def test_death_is_refused_when_date_is_impossible(
    changes: RegistryChanges, fake: FakeRegistry, jan, day, reason
) -> None:
    assert (
        refused(fake, lambda: changes.record_death(NR, DeathRecord(jan.insz, "d1", day))).reason
        == reason
    )


def test_death_date_is_refused_when_missing_or_in_future(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    for day, reason in (
        (None, "DATE_OF_DEATH_REQUIRED"),
        (D(2025, 6, 16), "DATE_OF_DEATH_IN_FUTURE"),
    ):
        err = refused(
            fake, lambda day=day: changes.record_death(NR, DeathRecord(jan.insz, "d1", day))
        )
        assert err.reason == reason


# -- ChangeName ------------------------------------------------------------------------------------


def test_name_is_changed_when_new(changes: RegistryChanges, fake: FakeRegistry, jan) -> None:
    event = changes.change_name(
        NR, NameChange(jan.insz, "n1", " Maes ", ("Jan", "Pieter"), D(2020, 5, 1))
    )
    assert event.before == NameValues("Peeters", ("Jan",))
    assert event.after == NameValues("Maes", ("Jan", "Pieter"))
    person = fake.state.persons[jan.insz]
    assert (person.last_name, person.first_names, person.name_since) == (
        "Maes",
        ("Jan", "Pieter"),
        dt.date(2020, 5, 1),
    )
    err = refused(
        fake,
        lambda: changes.change_name(
            NR, NameChange(jan.insz, "n2", "Claes", ("Jan",), D(2020, 4, 30))
        ),
    )
    assert err.reason == "EFFECTIVE_DATE_OUT_OF_ORDER"
    err = refused(
        fake,
        lambda: changes.change_name(
            NR, NameChange(jan.insz, "n3", "Maes", ("Jan", "Pieter"), D(2021, 1, 1))
        ),
    )
    assert err.reason == "NAME_UNCHANGED"


def test_name_change_is_refused_when_name_is_invalid(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    err = refused(
        fake, lambda: changes.change_name(NR, NameChange(jan.insz, "n1", "", ("",), D(2020, 1, 1)))
    )
    assert [v.field for v in err.violations] == ["last_name", "first_names[0]"]


# -- ReplaceInsz -----------------------------------------------------------------------------------


def test_person_moves_to_new_number_when_replaced(
    changes: RegistryChanges, fake: FakeRegistry, ahmet
) -> None:
    new = make_insz(birth_year=1985, birth_month=9, birth_day=30, serial=15)
    event = changes.replace_insz(NR, InszReplacement(ahmet.insz, new, "x1", D(2024, 1, 1)))
    assert (event.kind, event.insz) == (MutationKind.INSZ_REPLACED, ahmet.insz)
    assert (event.before, event.after) == (InszValues(ahmet.insz), InszValues(new))
    moved = fake.state.persons[new]
    assert moved.kind is InszKind.NATIONAL_REGISTER and moved.replaced_by is None
    assert moved.last_name == ahmet.last_name
    assert fake.state.persons[ahmet.insz].replaced_by == new
    assert fake.state.addresses[new][0].address == ELSEWHERE
    assert not fake.state.addresses.get(ahmet.insz)
    # A second replacement re-points the first number to the current one.
    newer = make_insz(birth_year=1985, birth_month=9, birth_day=30, serial=17)
    changes.replace_insz(NR, InszReplacement(new, newer, "x2", D(2024, 2, 1)))
    assert fake.state.persons[ahmet.insz].replaced_by == newer
    assert fake.state.persons[new].replaced_by == newer


def test_replacement_is_refused_when_new_number_is_in_use(
    changes: RegistryChanges, fake: FakeRegistry, jan, ahmet
) -> None:
    err = refused(
        fake,
        lambda: changes.replace_insz(
            ADMIN, InszReplacement(ahmet.insz, jan.insz, "x1", D(2024, 1, 1))
        ),
    )
    assert isinstance(err, AlreadyExists) and err.reason == "INSZ_IN_USE"


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("85071412330", "85071412330", "new_insz", "SAME_INSZ"),
        ("85071412330", "85493000163", "new_insz", "INVALID_REPLACEMENT_KIND"),
        ("85071412331", "85493000163", "old_insz", "INSZ_CHECK_DIGITS"),
        ("85071412330", "x", "new_insz", "INSZ_MALFORMED"),
    ],
)
def test_replacement_is_refused_when_numbers_do_not_fit(
    changes: RegistryChanges, fake: FakeRegistry, jan, old: str, new: str, field: str, reason: str
) -> None:
    err = refused(
        fake, lambda: changes.replace_insz(ADMIN, InszReplacement(old, new, "x1", D(2024, 1, 1)))
    )
    assert isinstance(err, InvalidArgument) and err.reason == reason
    assert field in [v.field for v in err.violations]


@pytest.mark.parametrize(("caller", "allowed"), [(NR, True), (CBSS, False), (ADMIN, True)])
def test_replacement_is_decided_by_new_register_when_bis_becomes_nr(
    changes: RegistryChanges, fake: FakeRegistry, ahmet, caller: Caller, allowed: bool
) -> None:
    new = make_insz(birth_year=1985, birth_month=9, birth_day=30, serial=19)
    command = InszReplacement(ahmet.insz, new, "x1", D(2024, 1, 1))
    if allowed:
        assert changes.replace_insz(caller, command).after == InszValues(new)
    else:
        assert (
            refused(fake, lambda: changes.replace_insz(caller, command)).reason == "NOT_AUTHORISED"
        )


def test_deceased_person_may_be_renumbered_when_replaced(
    changes: RegistryChanges, fake: FakeRegistry
) -> None:
    dead = fake.add(nr_person(serial=21, death_date=dt.date(2020, 1, 1)))
    new = make_insz(birth_year=1985, birth_month=7, birth_day=15, serial=21)
    changes.replace_insz(NR, InszReplacement(dead.insz, new, "x1", D(2024, 1, 1)))
    assert fake.state.persons[new].deceased


# -- the event sequence ----------------------------------------------------------------------------


def test_sequence_has_no_gap_when_changes_fail_in_between(
    changes: RegistryChanges, fake: FakeRegistry, jan
) -> None:
    changes.change_address(NR, move(jan.insz, D(2020, 1, 1), "a"))
    with pytest.raises(FailedPrecondition):
        changes.change_address(NR, move(jan.insz, D(2019, 1, 1), "b", address=HOME))
    changes.change_address(NR, move(jan.insz, D(2021, 1, 1), "c", address=HOME))
    assert [e.sequence for e in fake.state.events] == [1, 2]
