"""The router's check matrix, on the pure rules: each failing check gives exactly its reason.

The register (persons) and the directory are fakes that count their calls, so the tests also show
that a caller refused at checks 1–3 makes the router look nothing up about the person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from router.service.checks import Refused, RouteChecker, RouteRequest
from router.service.model import (
    Authorisation,
    Capacity,
    ConfigSnapshot,
    DeceasedPolicy,
    DirectoryCheck,
    DirectoryEntry,
    Institution,
    PersonStatus,
    ServiceProvider,
)
from runtime.clock import FixedClock
from runtime.errors import ServiceError
from runtime.identity import Caller, PartyKind

SERVICE = "cbss.registry.v1.RegistryService"
PATH = f"/{SERVICE}/GetPerson"
ALIVE, DEAD, OLD, NEW, UNKNOWN = (
    "85071412330",
    "03020100274",
    "06070500252",
    "85493000163",
    "72230000222",
)
TODAY = dt.date(2026, 11, 27)


@dataclass
class FakeMethod:
    path: str = PATH
    server_streaming: bool = False
    idempotent: bool = True
    self_service: bool = False

    def parse_request(self, data: bytes) -> Any:
        return data

    def subjects(self, request: dict) -> list[Any]:
        @dataclass
        class S:
            value: str
            field: str

        values = request.get("inszs", [])
        return [S(v, f"inszs[{i}]") for i, v in enumerate(values)]

    def reference_date(self, request: dict) -> dt.date | None:
        value = request.get("reference_date")
        if value == "bad":
            raise ValueError("not a date")
        return value

    def read_mask(self, request: dict) -> tuple[str, ...] | None:
        return request.get("read_mask")


class FakeCatalogs:
    def method(self, provider: ServiceProvider, path: str) -> FakeMethod | None:
        return FakeMethod() if path == PATH else None


@dataclass
class FakePersons:
    calls: int = 0
    known: dict[str, PersonStatus] = field(
        default_factory=lambda: {
            ALIVE: PersonStatus(True),
            DEAD: PersonStatus(True, deceased=True),
            OLD: PersonStatus(True, replaced_by=NEW),
            NEW: PersonStatus(True),
        }
    )

    def statuses(self, inszs, ticket: str) -> dict[str, PersonStatus]:
        self.calls += 1
        return {i: self.known[i] for i in inszs if i in self.known}


@dataclass
class FakeDirectory:
    entries: list[DirectoryEntry] = field(default_factory=list)
    calls: int = 0

    def holders(self, inszs, on: dt.date) -> dict[str, set[tuple[str, Capacity]]]:
        self.calls += 1
        found: dict[str, set[tuple[str, Capacity]]] = {}
        for e in self.entries:
            if e.insz in inszs and e.covers(on):
                found.setdefault(e.insz, set()).add((e.institution, e.capacity))
        return found

    def holdings(self, institution: str, inszs, on: dt.date) -> dict[str, set[Capacity]]:
        self.calls += 1
        found: dict[str, set[Capacity]] = {}
        for e in self.entries:
            if e.institution == institution and e.insz in inszs and e.covers(on):
                found.setdefault(e.insz, set()).add(e.capacity)
        return found


def _auth(**overrides: Any) -> Authorisation:
    values = dict(
        id="a1",
        deliberation="ISC/18/001",
        requester="onem",
        service=SERVICE,
        method="GetPerson",
        destination="",
        legal_contexts=frozenset({"unemployment.control"}),
        directory_check=DirectoryCheck.REQUIRED,
        capacities=frozenset({Capacity(18, 1)}),
        read_mask_cap=frozenset(),
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
    )
    values.update(overrides)
    return Authorisation(**values)


@dataclass
class World:
    snapshot: ConfigSnapshot
    persons: FakePersons
    directory: FakeDirectory
    checker: RouteChecker

    def route(
        self,
        request: dict,
        *,
        caller: str = "onem",
        legal: str | None = "unemployment.control",
        destination: str | None = None,
        customer_ticket: str | None = None,
    ):
        req = RouteRequest(
            caller=Caller(PartyKind.INSTITUTION, caller),
            path=request.pop("path", PATH),
            legal_context=legal,
            customer_ticket=customer_ticket,
            destination=destination,
            ticket="00000000-0000-4000-8000-000000000000",
        )
        authorised = self.checker.authorise(req)
        return self.checker.check(authorised, request)


def _world(*auths: Authorisation, deceased_policy=DeceasedPolicy.REFUSE, suspended=False) -> World:
    snap = ConfigSnapshot(version=1)
    snap.institutions = {
        "onem": Institution("onem", "ONEM", active=not suspended, sectors=frozenset({18})),
        "nr": Institution("nr", "NR"),
    }
    snap.providers = {SERVICE: [ServiceProvider(SERVICE, "nr", "localhost:1", deceased_policy)]}
    snap.authorisations = {"onem": list(auths or [_auth()])}

    class Config:
        def snapshot(self) -> ConfigSnapshot:
            return snap

    persons = FakePersons()
    directory = FakeDirectory(
        [
            DirectoryEntry(ALIVE, "onem", Capacity(18, 1), dt.date(2024, 1, 1)),
            DirectoryEntry(NEW, "onem", Capacity(18, 1), dt.date(2024, 1, 1)),
            DirectoryEntry(DEAD, "onem", Capacity(18, 1), dt.date(2024, 1, 1)),
            DirectoryEntry(OLD, "onem", Capacity(18, 1), dt.date(2024, 1, 1)),
        ]
    )
    clock = FixedClock(dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC))
    return World(
        snap, persons, directory, RouteChecker(Config(), FakeCatalogs(), directory, persons, clock)
    )


def _reason(fn) -> tuple[str, ServiceError]:
    with pytest.raises((ServiceError, Refused)) as err:
        fn()
    error = err.value.error if isinstance(err.value, Refused) else err.value
    return error.reason, error


def test_request_is_cleared_with_the_capacity_used_when_every_check_passes() -> None:
    w = _world()
    decision = w.route({"inszs": [ALIVE]})
    assert [(s.insz, s.capacity) for s in decision.subjects] == [(ALIVE, "18/1")]
    assert decision.reference_date == TODAY


@pytest.mark.parametrize(
    ("setup", "kwargs", "expected"),
    [
        ("unknown", {"caller": "mut-999"}, "UNKNOWN_INSTITUTION"),
        ("suspended", {}, "INSTITUTION_SUSPENDED"),
        ("plain", {"path": f"/{SERVICE}/NoSuchMethod"}, "UNKNOWN_SERVICE"),
        ("plain", {"path": "/cbss.nothing.v1.Nothing/Get"}, "UNKNOWN_SERVICE"),
        ("plain", {"destination": "mut-100"}, "UNKNOWN_DESTINATION"),
        ("other-method", {}, "NOT_AUTHORISED"),
        ("revoked", {}, "NOT_AUTHORISED"),
        ("expired", {}, "NOT_AUTHORISED"),
        ("not-yet", {}, "NOT_AUTHORISED"),
        ("other-destination", {}, "NOT_AUTHORISED"),
        ("plain", {"legal": None}, "LEGAL_CONTEXT_MISSING"),
        ("plain", {"legal": "x" * 65}, "LEGAL_CONTEXT_INVALID"),
        ("plain", {"legal": "bad\nline"}, "LEGAL_CONTEXT_INVALID"),
        ("plain", {"legal": "family-allowances.entitlement"}, "LEGAL_CONTEXT_NOT_AUTHORISED"),
        ("plain", {"customer_ticket": "t" * 37}, "CUSTOMER_TICKET_INVALID"),
    ],
)
@pytest.mark.parametrize("subject", [ALIVE, DEAD, OLD, UNKNOWN, "12345678901"])
def test_caller_learns_nothing_about_the_person_when_refused_at_checks_1_to_3(
    setup: str, kwargs: dict, expected: str, subject: str
) -> None:
    auths = {
        "other-method": _auth(method="SearchPersons"),
        "revoked": _auth(revoked=True),
        "expired": _auth(valid_to=dt.date(2025, 12, 31)),
        "not-yet": _auth(valid_from=dt.date(2027, 1, 1)),
        "other-destination": _auth(destination="mut-100"),
    }
    w = _world(*([auths[setup]] if setup in auths else []), suspended=setup == "suspended")
    kwargs = dict(kwargs)  # parametrized dicts are shared between cases
    path = kwargs.pop("path", PATH)
    reason, _ = _reason(lambda: w.route({"inszs": [subject], "path": path}, **kwargs))
    assert reason == expected  # the same whatever the person: alive, dead, replaced, unknown
    assert w.persons.calls == 0 and w.directory.calls == 0


@pytest.mark.parametrize(
    ("subject", "expected", "code"),
    [
        ("8507141233", "SUBJECT_MALFORMED", "MSG00011"),
        ("85071412331", "SUBJECT_MALFORMED", "MSG00011"),
        (UNKNOWN, "PERSON_NOT_FOUND", "MSG00005"),
        (OLD, "PERSON_REPLACED", "MSG00006"),
        (DEAD, "PERSON_DECEASED", "MSG00009"),
    ],
)
def test_person_checks_give_their_own_reason_when_they_fail(
    subject: str, expected: str, code: str
) -> None:
    w = _world()
    reason, error = _reason(lambda: w.route({"inszs": [subject]}))
    assert reason == expected
    assert error.metadata["cbss_code"] == code
    if expected == "PERSON_REPLACED":
        assert error.metadata["replaced_by"] == NEW
    assert w.directory.calls == 0


def test_deceased_person_passes_with_a_flag_when_service_policy_allows() -> None:
    w = _world(deceased_policy=DeceasedPolicy.PASS_WITH_FLAG)
    decision = w.route({"inszs": [DEAD]})
    assert decision.deceased == [DEAD]


@pytest.mark.parametrize(
    ("auth", "reference_date"),
    [
        (_auth(capacities=frozenset({Capacity(18, 4)})), None),  # held as 18/1, not 18/4
        (_auth(), dt.date(2023, 12, 31)),  # integrated only from 2024
    ],
)
def test_subject_not_integrated_when_directory_does_not_hold_it_so(auth, reference_date) -> None:
    w = _world(auth)
    reason, error = _reason(lambda: w.route({"inszs": [ALIVE], "reference_date": reference_date}))
    assert reason == "SUBJECT_NOT_INTEGRATED"
    assert error.metadata["cbss_code"] == "MSG00012"


def test_reference_date_in_request_is_the_date_checked_when_given() -> None:
    w = _world()
    w.directory.entries = [
        DirectoryEntry(ALIVE, "onem", Capacity(18, 1), dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    ]
    assert w.route({"inszs": [ALIVE], "reference_date": dt.date(2020, 6, 1)}).subjects
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}))  # today: no longer integrated
    assert reason == "SUBJECT_NOT_INTEGRATED"


def test_invalid_reference_date_is_refused_when_request_carries_one() -> None:
    reason, _ = _reason(lambda: _world().route({"inszs": [ALIVE], "reference_date": "bad"}))
    assert reason == "REFERENCE_DATE_INVALID"


def test_directory_is_not_consulted_when_authorisation_check_is_none() -> None:
    w = _world(_auth(directory_check=DirectoryCheck.NONE, capacities=frozenset()))
    decision = w.route({"inszs": [UNKNOWN.replace("72230000222", NEW)]})
    assert [s.capacity for s in decision.subjects] == ["none"]
    assert w.directory.calls == 0


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        (("identity", "address"), None),
        (("identity", "death"), "READ_MASK_EXCEEDS_CAP"),
        (("*",), "READ_MASK_EXCEEDS_CAP"),
        (None, "READ_MASK_REQUIRED"),
        ((), "READ_MASK_REQUIRED"),
    ],
)
def test_read_mask_must_stay_within_cap_when_authorisation_caps_it(mask, expected) -> None:
    w = _world(_auth(read_mask_cap=frozenset({"identity", "address"})))
    request = {"inszs": [ALIVE], "read_mask": mask}
    if expected is None:
        assert w.route(request).subjects
    else:
        reason, _ = _reason(lambda: w.route(request))
        assert reason == expected


def test_any_read_mask_passes_when_authorisation_has_no_cap() -> None:
    assert _world().route({"inszs": [ALIVE], "read_mask": ("*",)}).subjects


def test_every_failing_subject_is_listed_when_request_names_several() -> None:
    w = _world()
    reason, error = _reason(lambda: w.route({"inszs": [ALIVE, OLD, "1", NEW, UNKNOWN]}))
    assert reason == "SUBJECTS_REFUSED"
    assert [(v.subject, v.type) for v in error.preconditions] == [
        ("inszs[1]", "PERSON_REPLACED"),
        ("inszs[2]", "SUBJECT_MALFORMED"),
        ("inszs[4]", "PERSON_NOT_FOUND"),
    ]
    assert NEW in error.preconditions[0].description
    assert w.persons.calls == 1  # one batched question to the register


def test_all_subjects_are_cleared_when_each_passes() -> None:
    decision = _world().route({"inszs": [ALIVE, NEW]})
    assert [s.insz for s in decision.subjects] == [ALIVE, NEW]


def test_too_many_subjects_are_refused_when_over_one_thousand() -> None:
    reason, _ = _reason(lambda: _world().route({"inszs": [ALIVE] * 1001}))
    assert reason == "TOO_MANY_SUBJECTS"


def test_refusal_names_logged_subjects_when_person_checks_fail() -> None:
    with pytest.raises(Refused) as err:
        _world().route({"inszs": [ALIVE, UNKNOWN]})
    assert err.value.subjects == [(ALIVE, ""), (UNKNOWN, "PERSON_NOT_FOUND")]


def test_method_without_subject_is_authorised_per_method_when_it_names_nobody() -> None:
    decision = _world().route({"inszs": []})
    assert decision.subjects == []


def _mutualities() -> World:
    """Two mutualities offer the service; ONEM names no destination."""
    w = _world()
    w.snapshot.providers = {
        SERVICE: [
            ServiceProvider(
                SERVICE, p, "localhost:1", holder_capacities=frozenset({Capacity(11, 1)})
            )
            for p in ("mut-100", "mut-200")
        ]
    }
    return w


def test_holder_is_chosen_by_directory_when_several_providers_offer_the_service() -> None:
    w = _mutualities()
    w.directory.entries.append(
        DirectoryEntry(ALIVE, "mut-200", Capacity(11, 1), dt.date(2020, 1, 1))
    )
    decision = w.route({"inszs": [ALIVE]})
    assert decision.provider.provider == "mut-200"


def test_no_holder_is_not_found_when_no_provider_holds_the_person() -> None:
    w = _mutualities()
    w.directory.entries.append(  # held by mut-200, but with a capacity that does not count
        DirectoryEntry(ALIVE, "mut-200", Capacity(11, 2), dt.date(2020, 1, 1))
    )
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}))
    assert reason == "NO_HOLDER"


def test_ambiguous_holder_is_refused_when_two_providers_hold_the_person() -> None:
    w = _mutualities()
    for mut in ("mut-100", "mut-200"):
        w.directory.entries.append(DirectoryEntry(ALIVE, mut, Capacity(11, 1), dt.date(2020, 1, 1)))
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}))
    assert reason == "AMBIGUOUS_HOLDER"


def test_named_destination_is_used_when_caller_names_one() -> None:
    w = _mutualities()
    decision = w.route({"inszs": [ALIVE]}, destination="mut-100")
    assert decision.provider.provider == "mut-100"


def test_destination_is_required_when_request_names_no_person_and_providers_are_several() -> None:
    reason, _ = _reason(lambda: _mutualities().route({"inszs": []}))
    assert reason == "DESTINATION_REQUIRED"


def test_chosen_holder_must_be_authorised_when_authorisation_names_a_destination() -> None:
    w = _world(_auth(destination="mut-100"))
    w.snapshot.providers = _mutualities().snapshot.providers
    w.directory.entries.append(
        DirectoryEntry(ALIVE, "mut-200", Capacity(11, 1), dt.date(2020, 1, 1))
    )
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}))
    assert reason == "NOT_AUTHORISED"
