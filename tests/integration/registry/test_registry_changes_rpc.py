"""Changes on a real registry over mTLS: rules, permissions, idempotency, nothing half-written."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import grpc
import pytest
from registry_rpc import Rows, Stub, day, get_person, rpc_failure

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2
from registry.seed.population import FIXED_DECEASED, FIXED_MAN, FIXED_REPLACED
from runtime.identifiers import InszKind, make_insz, parse_insz

pytestmark = pytest.mark.integration

R = registry_pb2
_ids = itertools.count(1)


def address(
    street: str = "Markt", postcode: str = "8000", town: str = "Brugge"
) -> types_pb2.Address:
    return types_pb2.Address(
        street=street, house_number="1", postcode=postcode, municipality=town, country_code="BE"
    )


def new_bis(stub: Callable[[str], Stub], *, street: str = "Rue Neuve") -> str:
    """A fresh BIS person (sex known, male) registered by the CBSS, living at `street` since
    1 January 2024 (its first address, recorded as a move by the CBSS)."""
    i = next(_ids)
    insz = (
        stub("institution-cbss")
        .RegisterBisNumber(
            R.RegisterBisNumberRequest(
                request_id=f"bis-{i}",
                last_name="Testperson",
                first_names=[f"Number{i}"],
                sex=types_pb2.SEX_MALE,
                birth_date=day(1980, 1 + i % 12, 1 + i % 28),
                force_new=True,
            ),
            timeout=10,
        )
        .insz
    )
    stub("institution-cbss").ChangeAddress(
        R.ChangeAddressRequest(
            insz=insz,
            request_id=f"bis-{i}-home",
            address=address(street, "1000", "Bruxelles"),
            effective_date=day(2024, 1, 1),
        ),
        timeout=10,
    )
    return insz


def nr_number() -> str:
    i = next(_ids)
    return make_insz(
        birth_year=1980, birth_month=1 + i % 12, birth_day=1 + i % 28, serial=901 + i % 90 * 2
    )


def new_nr(stub: Callable[[str], Stub]) -> str:
    """A fresh National Register person: a BIS person the National Register took over."""
    number = nr_number()
    stub("registry").ReplaceInsz(
        R.ReplaceInszRequest(
            old_insz=new_bis(stub),
            new_insz=number,
            request_id=f"nr-{number}",
            effective_date=day(2024, 1, 1),
        ),
        timeout=10,
    )
    return number


def move(
    insz: str, request_id: str, when: tuple[int, int, int] = (2024, 6, 1), street: str = "Markt"
):
    return R.ChangeAddressRequest(
        insz=insz, request_id=request_id, address=address(street), effective_date=day(*when)
    )


def nothing_written(rows: Rows, call: Callable[[], object]):
    """Run a call that must fail; assert no row and no event appeared; return the failure."""
    before = rows.counts(), rows.scalar("SELECT value FROM mutation_counter")
    err = rpc_failure(call)
    assert (rows.counts(), rows.scalar("SELECT value FROM mutation_counter")) == before
    return err


# -- permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["registry", "institution-onem", "hub-cin", "employer-000935467"])
def test_bis_registration_is_permission_denied_when_caller_is_not_cbss_or_admin(
    stub, rows: Rows, party: str
) -> None:
    request = R.RegisterBisNumberRequest(
        request_id="x", last_name="Nowak", sex=types_pb2.SEX_MALE, birth_date=day(1990, 1, 1)
    )
    err = nothing_written(rows, lambda: stub(party).RegisterBisNumber(request, timeout=10))
    assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")


def test_bis_registration_is_accepted_when_the_cbss_router_forwards_it(stub) -> None:
    # The CBSS's own router forwards registrations of institutions it has authorised (DIMONA's
    # workers declared without an INSZ); a hub's router (hub-cin) is refused above.
    reply = stub("router").RegisterBisNumber(
        R.RegisterBisNumberRequest(
            request_id="via-router-1",
            last_name="Wiśniewski",
            first_names=["Adam"],
            sex=types_pb2.SEX_MALE,
            birth_date=day(1987, 3, 9),
        ),
        timeout=10,
    )
    assert reply.insz[2:4] == "43"  # a BIS number, sex known: March + 40


def test_bis_registration_is_accepted_when_caller_is_an_admin(stub) -> None:
    reply = stub("admin-ops").RegisterBisNumber(
        R.RegisterBisNumberRequest(
            request_id="admin-1",
            last_name="Nowak",
            sex=types_pb2.SEX_UNKNOWN,
            birth_date=day(1990, 0, 0),
        ),
        timeout=10,
    )
    assert reply.outcome == R.RegisterBisNumberResponse.OUTCOME_CREATED
    assert parse_insz(reply.insz).kind is InszKind.BIS_SEX_UNKNOWN and reply.insz[2:6] == "2000"


@pytest.mark.parametrize(
    ("party", "kind", "allowed"),
    [
        ("registry", "nr", True),
        ("registry", "bis", False),
        ("institution-cbss", "nr", False),
        ("institution-cbss", "bis", True),
        ("admin-ops", "bis", True),
        ("institution-onem", "bis", False),
        ("router", "nr", False),
    ],
)
def test_change_is_allowed_only_when_caller_keeps_that_register(
    stub, rows: Rows, party: str, kind: str, allowed: bool
) -> None:
    insz = new_nr(stub) if kind == "nr" else new_bis(stub)
    request = move(insz, f"perm-{insz}")
    if allowed:
        assert stub(party).ChangeAddress(request, timeout=10).event.insz == insz
    else:
        err = nothing_written(rows, lambda: stub(party).ChangeAddress(request, timeout=10))
        assert (err.code, err.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")


@pytest.mark.parametrize("party", ["institution-onem", "employer-000935467", "gateway"])
def test_event_log_is_refused_when_caller_is_not_a_router_register_or_admin(
    stub, party: str
) -> None:
    err = rpc_failure(
        lambda: stub(party).ListMutationEvents(R.ListMutationEventsRequest(), timeout=10)
    )
    assert err.code is grpc.StatusCode.PERMISSION_DENIED


# -- bad input: INVALID_ARGUMENT / NOT_FOUND with a reason, nothing written -----------------------

BAD_INPUT = [
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(request_id="b", last_name="X", birth_date=day(1990, 1, 1)),
        "INVALID_SEX",
        "sex",
    ),
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(request_id="b", last_name="Nowak", sex=types_pb2.SEX_MALE),
        "INVALID_BIRTH_DATE",
        "birth_date",
    ),
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(
            request_id="b c", last_name="Nowak", sex=types_pb2.SEX_MALE, birth_date=day(1990, 1, 1)
        ),
        "INVALID_REQUEST_ID",
        "request_id",
    ),
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(
            request_id="b", last_name="Nowak", sex=types_pb2.SEX_MALE, birth_date=day(2025, 7, 1)
        ),
        "INVALID_BIRTH_DATE",
        "birth_date",
    ),
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(
            request_id="b", last_name="Nowak", sex=99, birth_date=day(1990, 1, 1)
        ),
        "INVALID_SEX",
        "sex",
    ),
    (
        "RegisterBisNumber",
        "institution-cbss",
        R.RegisterBisNumberRequest(
            request_id="b",
            last_name="Nowak",
            sex=types_pb2.SEX_MALE,
            birth_date=day(1990, 1, 1),
            nationality="Polish",
        ),
        "INVALID_COUNTRY",
        "nationality",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(
            insz="85071412331", request_id="c", address=address(), effective_date=day(2024, 1, 1)
        ),
        "INSZ_CHECK_DIGITS",
        "insz",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(insz=FIXED_MAN, request_id="c", effective_date=day(2024, 1, 1)),
        "ADDRESS_REQUIRED",
        "address",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(
            insz=FIXED_MAN,
            request_id="c",
            address=address(postcode="800"),
            effective_date=day(2024, 1, 1),
        ),
        "INVALID_ADDRESS",
        "address.postcode",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(insz=FIXED_MAN, request_id="c", address=address()),
        "EFFECTIVE_DATE_REQUIRED",
        "effective_date",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(
            insz=FIXED_MAN, request_id="c", address=address(), effective_date=day(2025, 6, 16)
        ),
        "EFFECTIVE_DATE_IN_FUTURE",
        "effective_date",
    ),
    (
        "ChangeAddress",
        "registry",
        R.ChangeAddressRequest(
            insz=FIXED_MAN, request_id="c", address=address(), effective_date=day(2024, 2, 30)
        ),
        "INVALID_EFFECTIVE_DATE",
        "effective_date",
    ),
    (
        "RecordDeath",
        "registry",
        R.RecordDeathRequest(insz=FIXED_MAN, request_id="d"),
        "DATE_OF_DEATH_REQUIRED",
        "date_of_death",
    ),
    (
        "RecordDeath",
        "registry",
        R.RecordDeathRequest(insz="123", request_id="d", date_of_death=day(2024, 1, 1)),
        "INSZ_MALFORMED",
        "insz",
    ),
    (
        "ChangeName",
        "registry",
        R.ChangeNameRequest(
            insz=FIXED_MAN, request_id="n", last_name=" ", effective_date=day(2024, 1, 1)
        ),
        "INVALID_NAME",
        "last_name",
    ),
    (
        "ReplaceInsz",
        "registry",
        R.ReplaceInszRequest(
            old_insz=FIXED_MAN, new_insz=FIXED_MAN, request_id="r", effective_date=day(2024, 1, 1)
        ),
        "SAME_INSZ",
        "new_insz",
    ),
    (
        "ReplaceInsz",
        "admin-ops",
        R.ReplaceInszRequest(
            old_insz=FIXED_MAN,
            new_insz="85493000163",
            request_id="r",
            effective_date=day(2024, 1, 1),
        ),
        "INVALID_REPLACEMENT_KIND",
        "new_insz",
    ),
    (
        "ReplaceInsz",
        "registry",
        R.ReplaceInszRequest(
            old_insz=FIXED_MAN,
            new_insz="85071412332",
            request_id="r",
            effective_date=day(2024, 1, 1),
        ),
        "INSZ_CHECK_DIGITS",
        "new_insz",
    ),
    (
        "ListMutationEvents",
        "router",
        R.ListMutationEventsRequest(after_sequence=-1),
        "INVALID_AFTER_SEQUENCE",
        "after_sequence",
    ),
    (
        "ListMutationEvents",
        "router",
        R.ListMutationEventsRequest(page_size=-1),
        "INVALID_PAGE_SIZE",
        "page_size",
    ),
]


@pytest.mark.parametrize(
    ("method", "party", "request_", "reason", "field"),
    BAD_INPUT,
    ids=[f"{m}-{r}" for m, _, _, r, _ in BAD_INPUT],
)
def test_bad_input_is_invalid_argument_with_reason_when_sent(
    stub, rows: Rows, method: str, party: str, request_: object, reason: str, field: str
) -> None:
    err = nothing_written(rows, lambda: getattr(stub(party), method)(request_, timeout=10))
    assert (err.code, err.reason, err.domain) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        reason,
        "registry.cbss",
    )
    assert field in err.field_violations
    assert FIXED_MAN not in err.message


@pytest.mark.parametrize(
    ("method", "request_"),
    [
        ("ChangeAddress", lambda insz: move(insz, "nf")),
        (
            "RecordDeath",
            lambda insz: R.RecordDeathRequest(
                insz=insz, request_id="nf", date_of_death=day(2024, 1, 1)
            ),
        ),
        (
            "ChangeName",
            lambda insz: R.ChangeNameRequest(
                insz=insz, request_id="nf", last_name="X", effective_date=day(2024, 1, 1)
            ),
        ),
        (
            "ReplaceInsz",
            lambda insz: R.ReplaceInszRequest(
                old_insz=insz, new_insz=nr_number(), request_id="nf", effective_date=day(2024, 1, 1)
            ),
        ),
    ],
)
def test_change_is_not_found_when_person_is_unknown(
    stub, rows: Rows, method: str, request_
) -> None:
    unknown = make_insz(birth_year=1985, birth_month=7, birth_day=14, serial=997)
    err = nothing_written(
        rows, lambda: getattr(stub("admin-ops"), method)(request_(unknown), timeout=10)
    )
    assert (err.code, err.reason) == (grpc.StatusCode.NOT_FOUND, "PERSON_NOT_FOUND")


# -- business rules: FAILED_PRECONDITION, nothing written ------------------------------------------


def test_move_is_refused_and_nothing_written_when_out_of_order(stub, rows: Rows) -> None:
    insz = new_nr(stub)
    stub("registry").ChangeAddress(move(insz, "o1", (2024, 6, 1)), timeout=10)
    for when in ((2024, 6, 1), (2024, 5, 31)):
        err = nothing_written(
            rows,
            lambda when=when: stub("registry").ChangeAddress(
                move(insz, "o-{}-{}-{}".format(*when), when, "Kouter"), timeout=10
            ),
        )
        assert (err.code, err.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "EFFECTIVE_DATE_OUT_OF_ORDER",
        )
    history = get_person(stub, insz, "address_history").address_history.addresses
    assert [a.address.street for a in history] == ["Rue Neuve", "Markt"]


def test_move_is_refused_when_address_is_unchanged(stub, rows: Rows) -> None:
    insz = new_nr(stub)
    stub("registry").ChangeAddress(move(insz, "u1", (2024, 6, 1)), timeout=10)
    err = nothing_written(
        rows, lambda: stub("registry").ChangeAddress(move(insz, "u2", (2024, 7, 1)), timeout=10)
    )
    assert err.reason == "ADDRESS_UNCHANGED"


def test_changes_are_refused_when_person_is_deceased(stub, rows: Rows) -> None:
    err = nothing_written(
        rows, lambda: stub("registry").ChangeAddress(move(FIXED_DECEASED, "dd1"), timeout=10)
    )
    assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PERSON_DECEASED")
    err = nothing_written(
        rows,
        lambda: stub("registry").RecordDeath(
            R.RecordDeathRequest(
                insz=FIXED_DECEASED, request_id="dd2", date_of_death=day(2024, 1, 1)
            ),
            timeout=10,
        ),
    )
    assert err.reason == "PERSON_DECEASED"


def test_changes_are_refused_when_number_was_replaced(stub, rows: Rows) -> None:
    err = nothing_written(
        rows, lambda: stub("registry").ChangeAddress(move(FIXED_REPLACED, "rr1"), timeout=10)
    )
    assert (err.code, err.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "PERSON_REPLACED")


def test_replacement_is_already_exists_when_new_number_is_in_use(stub, rows: Rows) -> None:
    request = R.ReplaceInszRequest(
        old_insz=new_bis(stub), new_insz=FIXED_MAN, request_id="iu", effective_date=day(2024, 1, 1)
    )
    err = nothing_written(rows, lambda: stub("admin-ops").ReplaceInsz(request, timeout=10))
    assert (err.code, err.reason) == (grpc.StatusCode.ALREADY_EXISTS, "INSZ_IN_USE")


# -- the changes themselves ------------------------------------------------------------------------


def test_move_is_recorded_and_shown_when_accepted(stub) -> None:
    insz = new_nr(stub)
    event = stub("registry").ChangeAddress(move(insz, "ok1", (2024, 6, 1)), timeout=10).event
    assert event.kind == R.MUTATION_KIND_ADDRESS_CHANGED and event.insz == insz
    assert (
        event.before.WhichOneof("value") == "address" and event.before.address.street == "Rue Neuve"
    )
    assert event.after.address.street == "Markt"
    assert (event.effective_date.year, event.effective_date.month) == (2024, 6)
    assert event.recorded_at.seconds > 0
    person = get_person(stub, insz, "address", "address_history")
    assert person.address.address.street == "Markt"
    old = person.address_history.addresses[0]
    assert (old.period.end_date.month, old.period.end_date.day) == (5, 31)


def test_death_name_and_events_are_recorded_when_accepted(stub) -> None:
    insz = new_nr(stub)
    named = (
        stub("registry")
        .ChangeName(
            R.ChangeNameRequest(
                insz=insz,
                request_id="nm1",
                last_name="Maes",
                first_names=["Jan", "Pieter"],
                effective_date=day(2024, 2, 1),
            ),
            timeout=10,
        )
        .event
    )
    assert (named.before.name.last_name, named.after.name.last_name) == ("Testperson", "Maes")
    died = (
        stub("registry")
        .RecordDeath(
            R.RecordDeathRequest(
                insz=insz, request_id="dt1", date_of_death=day(2025, 1, 2), place="Gent"
            ),
            timeout=10,
        )
        .event
    )
    assert died.kind == R.MUTATION_KIND_DEATH_RECORDED and died.after.death.place == "Gent"
    assert not died.HasField("before") or died.before.WhichOneof("value") is None
    person = get_person(stub, insz, "identity", "status", "death")
    assert person.identity.last_name == "Maes" and person.status.deceased
    assert (person.death.date.year, person.death.place) == (2025, "Gent")
    listed = stub("router").ListMutationEvents(
        R.ListMutationEventsRequest(after_sequence=named.sequence - 1, page_size=2), timeout=10
    )
    assert [e.sequence for e in listed.events] == [named.sequence, died.sequence]
    assert listed.last_sequence >= died.sequence


def test_person_moves_to_new_number_when_bis_number_is_replaced(stub, rows: Rows) -> None:
    old = new_bis(stub)
    new = nr_number()
    event = (
        stub("registry")
        .ReplaceInsz(
            R.ReplaceInszRequest(
                old_insz=old, new_insz=new, request_id="rp1", effective_date=day(2025, 1, 1)
            ),
            timeout=10,
        )
        .event
    )
    assert (event.kind, event.insz) == (R.MUTATION_KIND_INSZ_REPLACED, old)
    assert (event.before.insz.insz, event.after.insz.insz) == (old, new)
    assert get_person(stub, old, "identity").status.replaced_by == new
    moved = get_person(stub, new, "*")
    assert moved.identity.last_name == "Testperson" and list(moved.status.replaces) == [old]
    assert moved.status.kind == types_pb2.INSZ_KIND_NATIONAL_REGISTER
    assert moved.address.address.street == "Rue Neuve"
    assert rows.scalar("SELECT count(*) FROM address WHERE insz = :i", i=old) == 0
    # The old number stays used: a second replacement to it is refused.
    err = rpc_failure(
        lambda: stub("admin-ops").ReplaceInsz(
            R.ReplaceInszRequest(
                old_insz=new_bis(stub),
                new_insz=old,
                request_id="rp2",
                effective_date=day(2025, 1, 1),
            ),
            timeout=10,
        )
    )
    assert err.reason == "INSZ_IN_USE"


# -- idempotency -----------------------------------------------------------------------------------


def test_same_answer_is_given_when_change_is_retried(stub, rows: Rows) -> None:
    insz = new_nr(stub)
    first = stub("registry").ChangeAddress(move(insz, "idem-1"), timeout=10).event
    counts = rows.counts()
    again = stub("registry").ChangeAddress(move(insz, "idem-1"), timeout=10).event
    assert again == first and rows.counts() == counts
    err = nothing_written(
        rows, lambda: stub("registry").ChangeAddress(move(insz, "idem-1", (2024, 6, 2)), timeout=10)
    )
    assert (err.code, err.reason) == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED")


def test_same_number_is_answered_when_registration_is_retried(stub, rows: Rows) -> None:
    request = R.RegisterBisNumberRequest(
        request_id="idem-bis",
        last_name="Kowalski",
        first_names=["Piotr"],
        sex=types_pb2.SEX_MALE,
        birth_date=day(1991, 3, 3),
    )
    first = stub("institution-cbss").RegisterBisNumber(request, timeout=10)
    counts = rows.counts()
    assert stub("institution-cbss").RegisterBisNumber(request, timeout=10) == first
    assert rows.counts() == counts
    request.last_name = "Kowalska"
    err = nothing_written(
        rows, lambda: stub("institution-cbss").RegisterBisNumber(request, timeout=10)
    )
    assert err.reason == "IDEMPOTENCY_KEY_REUSED"


def test_existing_person_is_returned_when_registered_again(stub, rows: Rows) -> None:
    request = R.RegisterBisNumberRequest(
        request_id="dup-1",
        last_name="Wiśniewska",
        first_names=["Joanna"],
        sex=types_pb2.SEX_FEMALE,
        birth_date=day(1992, 4, 4),
    )
    created = stub("institution-cbss").RegisterBisNumber(request, timeout=10)
    events = rows.counts()["mutation_event"]
    request.request_id, request.last_name, request.first_names[0] = "dup-2", "WISNIEWSKA", "joanna"
    again = stub("institution-cbss").RegisterBisNumber(request, timeout=10)
    assert (again.insz, again.outcome) == (
        created.insz,
        R.RegisterBisNumberResponse.OUTCOME_EXISTING_PERSON,
    )
    assert rows.counts()["mutation_event"] == events
    request.request_id, request.force_new = "dup-3", True
    forced = stub("institution-cbss").RegisterBisNumber(request, timeout=10)
    assert (
        forced.outcome == R.RegisterBisNumberResponse.OUTCOME_CREATED
        and forced.insz != created.insz
    )


# -- the event log ---------------------------------------------------------------------------------


def test_event_log_is_gap_free_and_ordered_when_read_in_pages(stub) -> None:
    new_nr(stub)
    seen, after = [], 0
    while True:
        page = stub("router").ListMutationEvents(
            R.ListMutationEventsRequest(after_sequence=after, page_size=7), timeout=10
        )
        if not page.events:
            break
        seen.extend(e.sequence for e in page.events)
        after = page.events[-1].sequence
    assert seen == list(range(1, page.last_sequence + 1))


def test_a_read_person_is_answered_fresh_when_it_changed_since(stub) -> None:
    # The registry keeps persons it has read in memory, stamped with the mutation counter:
    # a change must show on the very next read, never the cached value.
    insz = new_nr(stub)
    assert get_person(stub, insz, "address").address.address.street == "Rue Neuve"
    assert get_person(stub, insz, "address").address.address.street == "Rue Neuve"  # cached
    stub("registry").ChangeAddress(move(insz, "fresh-1", (2025, 1, 1)), timeout=10)
    assert get_person(stub, insz, "address").address.address.street == "Markt"
    stub("registry").RecordDeath(
        registry_pb2.RecordDeathRequest(
            insz=insz, request_id="fresh-2", date_of_death=day(2025, 2, 1), place="Gent"
        ),
        timeout=10,
    )
    assert get_person(stub, insz, "status").status.deceased
