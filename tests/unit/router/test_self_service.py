"""The self-service rule, on the pure checks: a person signed in at the portal consults only
their own data, and never learns anything about anyone else.

The register (persons) and the directory are the counting fakes of test_checks: a request about
someone else is refused before the register is asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.service.checks import (
    SELF_CAPACITY,
    SELF_SERVICE_LEGAL_CONTEXT,
    Refused,
    RouteChecker,
    RouteRequest,
)
from router.service.model import (
    Capacity,
    ConfigSnapshot,
    DeceasedPolicy,
    DirectoryEntry,
    Institution,
    ServiceProvider,
)
from router.service.refusals import REFUSALS
from runtime.clock import FixedClock
from runtime.identity import Caller, PartyKind
from tests.unit.router.test_checks import (
    ALIVE,
    DEAD,
    NEW,
    OLD,
    PATH,
    SERVICE,
    UNKNOWN,
    FakeDirectory,
    FakeMethod,
    FakePersons,
    _auth,
    _reason,
)

OTHER_PATH = f"/{SERVICE}/SearchPersons"
TICKET = "00000000-0000-4000-8000-000000000000"


class Catalogs:
    """GetPerson is open to self-service; SearchPersons is not."""

    def method(self, provider: ServiceProvider, path: str) -> FakeMethod | None:
        if path == PATH:
            return FakeMethod(self_service=True)
        if path == OTHER_PATH:
            return FakeMethod(path=OTHER_PATH)
        return None


@dataclass
class World:
    snapshot: ConfigSnapshot
    persons: FakePersons
    directory: FakeDirectory
    checker: RouteChecker
    requests: list[RouteRequest] = field(default_factory=list)

    def authorise(
        self,
        request: dict[str, Any],
        *,
        person: str = ALIVE,
        legal: str | None = "unemployment.control",
        via_gateway: bool = True,
        via_hub: str = "",
        destination: str | None = None,
        customer_ticket: str | None = None,
    ):  # noqa: ANN201
        req = RouteRequest(
            caller=Caller(PartyKind.PERSON, person, via_gateway=via_gateway),
            path=request.pop("path", PATH),
            legal_context=legal,
            customer_ticket=customer_ticket,
            destination=destination,
            ticket=TICKET,
            via_hub=via_hub,
        )
        return self.checker.authorise(req)

    def route(self, request: dict[str, Any], **kwargs: Any):  # noqa: ANN201
        auth = self.authorise(request, **kwargs)
        return self.checker.check(auth, request)


def _world(
    *providers: ServiceProvider,
    deceased_policy: DeceasedPolicy = DeceasedPolicy.REFUSE,
    entries: tuple[DirectoryEntry, ...] = (),
) -> World:
    snap = ConfigSnapshot(version=1)
    snap.institutions = {"onem": Institution("onem", "ONEM", sectors=frozenset({18}))}
    snap.providers = {
        SERVICE: list(providers or [ServiceProvider(SERVICE, "nr", "localhost:1", deceased_policy)])
    }
    # An institution's grant exists, and does not apply to persons.
    snap.authorisations = {"onem": [_auth()]}

    class Config:
        def snapshot(self) -> ConfigSnapshot:
            return snap

    persons, directory = FakePersons(), FakeDirectory(list(entries))
    clock = FixedClock(dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC))
    checker = RouteChecker(Config(), Catalogs(), directory, persons, clock)
    return World(snap, persons, directory, checker)


def test_person_is_cleared_as_self_under_self_service_when_asking_about_themself() -> None:
    w = _world()
    decision = w.route({"inszs": [ALIVE]})
    assert [(s.insz, s.capacity) for s in decision.subjects] == [(ALIVE, SELF_CAPACITY)]
    assert decision.capacity == "self"
    assert decision.authorised.self_service and decision.authorised.institution is None
    assert decision.authorised.authorisations == []
    assert [p.provider for p in decision.providers] == ["nr"]
    assert w.persons.calls == 1  # (5): the person exists
    assert w.directory.calls == 0  # no directory check (6)


@pytest.mark.parametrize("header", ["unemployment.control", None, "", "bad\nline", "x" * 65])
def test_legal_context_header_is_ignored_when_a_person_sends_one(header: str | None) -> None:
    w = _world()
    decision = w.route({"inszs": [ALIVE]}, legal=header)
    assert decision.authorised.request.legal_context == SELF_SERVICE_LEGAL_CONTEXT


@pytest.mark.parametrize(
    "inszs",
    [[DEAD], [UNKNOWN], [OLD], [NEW], ["12345678901"], ["x"], [ALIVE, DEAD], [DEAD, ALIVE]],
)
def test_request_about_anyone_else_is_refused_before_the_register_is_asked(
    inszs: list[str],
) -> None:
    w = _world()
    with pytest.raises(Refused) as err:
        w.route({"inszs": inszs})
    assert err.value.error.reason == "NOT_OWN_DATA"
    assert err.value.error.code == "PERMISSION_DENIED"
    assert w.persons.calls == 0 and w.directory.calls == 0
    # The log names whom the request was about (well-formed numbers only), each refused one
    # with the reason; the person's own number with none.
    expected = [
        (i if len(i) == 11 and i.isdigit() else "", "" if i == ALIVE else "NOT_OWN_DATA")
        for i in inszs
    ]
    assert err.value.subjects == expected
    # The person learns which fields were not theirs, never a value.
    assert ALIVE not in str(err.value.error.metadata) and DEAD not in str(err.value.error.metadata)


@given(
    st.lists(
        st.one_of(st.just(ALIVE), st.text(min_size=1, max_size=12)), min_size=1, max_size=8
    ).filter(lambda values: any(v != ALIVE for v in values))
)
def test_any_subject_but_the_person_refuses_the_whole_request_when_named(
    values: list[str],
) -> None:
    w = _world()
    reason, _ = _reason(lambda: w.route({"inszs": values}))
    assert reason == "NOT_OWN_DATA"
    assert w.persons.calls == 0


def test_request_naming_nobody_is_refused_when_a_person_sends_it() -> None:
    w = _world()
    reason, error = _reason(lambda: w.route({"inszs": []}))
    assert (reason, error.code) == ("OWN_SUBJECT_REQUIRED", "PERMISSION_DENIED")
    assert w.persons.calls == 0


@pytest.mark.parametrize("subject", [ALIVE, DEAD, UNKNOWN])
def test_method_not_open_to_self_service_is_not_authorised_when_a_person_calls(
    subject: str,
) -> None:
    w = _world()
    reason, error = _reason(lambda: w.route({"inszs": [subject], "path": OTHER_PATH}))
    assert (reason, error.code) == ("NOT_AUTHORISED", "PERMISSION_DENIED")
    assert w.persons.calls == 0 and w.directory.calls == 0


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"via_gateway": False}, "UNKNOWN_INSTITUTION"),  # a person has no certificate
        ({"via_hub": "cin"}, "UNKNOWN_INSTITUTION"),  # hubs never relay persons
        ({"destination": "mut-100"}, "UNKNOWN_DESTINATION"),
        ({"customer_ticket": "t" * 37}, "CUSTOMER_TICKET_INVALID"),
    ],
)
def test_person_is_refused_with_its_reason_when_the_call_itself_is_wrong(
    kwargs: dict, expected: str
) -> None:
    w = _world()
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}, **kwargs))
    assert reason == expected
    assert w.persons.calls == 0


def test_unknown_method_is_unknown_service_when_a_person_calls() -> None:
    w = _world()
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE], "path": f"/{SERVICE}/Nope"}))
    assert reason == "UNKNOWN_SERVICE"


@pytest.mark.parametrize(
    ("person", "policy", "expected"),
    [
        (UNKNOWN, DeceasedPolicy.REFUSE, "PERSON_NOT_FOUND"),
        (OLD, DeceasedPolicy.REFUSE, "PERSON_REPLACED"),
        (DEAD, DeceasedPolicy.REFUSE, "PERSON_DECEASED"),
    ],
)
def test_person_checks_apply_when_the_person_asks_about_themself(
    person: str, policy: DeceasedPolicy, expected: str
) -> None:
    w = _world(deceased_policy=policy)
    with pytest.raises(Refused) as err:
        w.route({"inszs": [person]}, person=person)
    assert err.value.error.reason == expected
    assert err.value.subjects == [(person, "")]
    if expected == "PERSON_REPLACED":
        assert err.value.error.metadata["replaced_by"] == NEW


def test_deceased_person_passes_with_the_flag_when_the_provider_passes_them() -> None:
    w = _world(deceased_policy=DeceasedPolicy.PASS_WITH_FLAG)
    decision = w.route({"inszs": [DEAD]}, person=DEAD)
    assert decision.deceased == [DEAD]


def test_repeated_own_subject_is_cleared_once_per_field_when_named_twice() -> None:
    w = _world()
    decision = w.route({"inszs": [ALIVE, ALIVE]})
    assert [s.field for s in decision.subjects] == ["inszs[0]", "inszs[1]"]
    assert w.persons.calls == 1


def test_any_read_mask_passes_when_a_person_reads_their_own_record() -> None:
    w = _world()
    decision = w.route({"inszs": [ALIVE], "read_mask": ("*",)})
    assert decision.subjects[0].insz == ALIVE


def test_reference_date_must_be_a_date_when_a_person_gives_one() -> None:
    w = _world()
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE], "reference_date": "bad"}))
    assert reason == "REFERENCE_DATE_INVALID"


def test_holder_is_chosen_by_the_directory_without_any_grant_when_several_provide() -> None:
    capacity = frozenset({Capacity(11, 1)})
    w = _world(
        ServiceProvider(SERVICE, "mut-100", "localhost:1", holder_capacities=capacity),
        ServiceProvider(SERVICE, "mut-200", "localhost:2", holder_capacities=capacity),
        entries=(DirectoryEntry(ALIVE, "mut-200", Capacity(11, 1), dt.date(2020, 1, 1)),),
    )
    decision = w.route({"inszs": [ALIVE]})
    assert [p.provider for p in decision.providers] == ["mut-200"]


def test_provider_behind_a_hub_is_never_the_holder_when_a_person_calls() -> None:
    w = _world(ServiceProvider(SERVICE, "cin", "localhost:1", via_router="cin"))
    reason, _ = _reason(lambda: w.route({"inszs": [ALIVE]}))
    assert reason == "NOT_AUTHORISED"
    assert w.persons.calls == 0


def test_institution_still_needs_its_grant_when_the_method_is_open_to_self_service() -> None:
    w = _world()
    req = RouteRequest(
        caller=Caller(PartyKind.INSTITUTION, "onem"),
        path=PATH,
        legal_context="unemployment.control",
        customer_ticket=None,
        destination=None,
        ticket=TICKET,
    )
    auth = w.checker.authorise(req)
    assert not auth.self_service and auth.authorisations
    # The institution's own checks apply: ONEM has not integrated the person here.
    reason, _ = _reason(lambda: w.checker.check(auth, {"inszs": [ALIVE]}))
    assert reason == "SUBJECT_NOT_INTEGRATED"


@pytest.mark.parametrize(
    ("revealed", "foreign"),
    [
        ([ALIVE], []),
        ([ALIVE, ALIVE], []),
        ([], []),
        ([ALIVE, DEAD], [DEAD]),
        ([UNKNOWN], [UNKNOWN]),
        (["not-an-insz"], ["not-an-insz"]),
    ],
)
def test_answer_naming_anyone_else_is_foreign_when_the_person_reads_it(
    revealed: list[str], foreign: list[str]
) -> None:
    w = _world()
    auth = w.authorise({"inszs": [ALIVE]})
    assert w.checker.foreign_revealed(auth, revealed, TICKET) == foreign


def test_earlier_number_of_the_person_is_theirs_when_the_answer_reveals_it() -> None:
    w = _world()
    auth = w.authorise({"inszs": [NEW]}, person=NEW)
    assert w.checker.foreign_revealed(auth, [NEW, OLD], TICKET) == []  # OLD -> NEW


def test_every_self_service_reason_is_a_permission_denied_refusal_when_listed() -> None:
    for reason in ("NOT_OWN_DATA", "OWN_SUBJECT_REQUIRED", "RESPONSE_NOT_OWN_DATA"):
        cls, _code, message = REFUSALS[reason]
        assert cls.code == "PERMISSION_DENIED" and message
