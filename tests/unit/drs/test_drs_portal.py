"""The DRS for the portal, on fakes: a worker's declarations by every employer (the routed
ListWorkerDeclarations: newest first, in pages, the acting person never shown, every bad input
with its reason), and people acting for an employer — a `reader` reads but never files
(READ_ONLY_ROLE, nothing asked nor stored), a `declarant` files and is recorded as the acting
person, which the idempotent content does not include."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drs.service.model import Scenario, Status
from runtime import page_tokens
from runtime.errors import InvalidArgument, PermissionDenied
from runtime.identifiers import make_insz
from runtime.identity import Caller, PartyKind
from tests.unit.drs.fakes import (
    ME,
    OTHER_WORKER,
    RETAIL,
    STATE,
    STATE_CALLER,
    TODAY,
    WORKER,
    World,
    end_of_contract,
    risks,
    submission,
    world,
)

JAN, ANNA = "70020304588", "75112004636"  # people acting for RETAIL at the portal
NOBODY = make_insz(birth_year=1990, birth_month=5, birth_day=17, serial=123)  # never declared


def portal(role: str, person: str = JAN, employer: str = RETAIL) -> Caller:
    return Caller(PartyKind.EMPLOYER, employer, via_gateway=True, person=person, role=role)


def _every_page(w: World, insz: str, size: int) -> list[tuple[str, str]]:
    seen, token = [], ""
    while True:
        page = w.queries.list_worker_declarations(insz, size, token)
        seen += [(d.employer, d.reference) for d in page.items]
        token = page.next_page_token
        if not token:
            return seen


# -- ListWorkerDeclarations --------------------------------------------------------------------


def test_worker_declarations_of_every_employer_are_listed_newest_first_when_paged() -> None:
    w = world()
    w.declarations.submit(ME, submission(end_of_contract(), TODAY, reference="r0"))
    w.declarations.submit(
        STATE_CALLER, submission(end_of_contract(), TODAY, employer=STATE, reference="s0")
    )
    w.declarations.submit(
        ME, submission(end_of_contract(), TODAY, reference="o0", insz=OTHER_WORKER)
    )
    risk, day = risks()[Scenario.WORK_ACCIDENT]
    w.declarations.submit(portal("declarant"), submission(risk, day, reference="r1"))
    expected = [(RETAIL, "r1"), (STATE, "s0"), (RETAIL, "r0")]
    assert _every_page(w, WORKER, 0) == expected
    assert _every_page(w, WORKER, 1) == expected
    assert _every_page(w, WORKER, 2) == expected
    assert _every_page(w, OTHER_WORKER, 0) == [(RETAIL, "o0")]
    assert _every_page(w, NOBODY, 0) == []
    page = w.queries.list_worker_declarations(WORKER, 0, "")
    # As GetDeclaration shows it (attestation kind, destination, status), the person who acted
    # for the employer left out.
    newest = page.items[0]
    assert newest.attestation_kind == "work-accident.declaration"
    assert newest.destination == "fedris" and newest.status.accepted
    assert [d.acting_person for d in page.items] == ["", "", ""]
    assert w.store.state.declarations[-1].acting_person == JAN  # stored all the same


def test_worker_declarations_include_refused_ones_without_an_attestation() -> None:
    w = world()
    refused = w.declarations.submit(
        ME, submission(end_of_contract(TODAY.replace(year=TODAY.year + 1)), TODAY.replace(
            year=TODAY.year + 1), reference="future")
    )  # fmt: skip
    assert refused.status is Status.REFUSED
    (listed,) = w.queries.list_worker_declarations(WORKER, 0, "").items
    assert listed.reference == "future" and listed.attestation_kind == ""


@pytest.mark.parametrize(
    ("insz", "page_size", "token", "field", "reason"),
    [
        ("", 0, "", "insz", "INSZ_MALFORMED"),
        ("8507141233", 0, "", "insz", "INSZ_MALFORMED"),
        ("85071412331", 0, "", "insz", "INSZ_CHECK_DIGITS"),
        (WORKER, -1, "", "page_size", "INVALID_PAGE_SIZE"),
        (WORKER, 0, "bogus", "page_token", "INVALID_PAGE_TOKEN"),
        # Another query's token, and another worker's.
        (WORKER, 0, page_tokens.encode(["declarations", RETAIL], [2]), "page_token",
         "INVALID_PAGE_TOKEN"),
        (WORKER, 0, page_tokens.encode(["worker-declarations", OTHER_WORKER], [2]), "page_token",
         "INVALID_PAGE_TOKEN"),
    ],
)  # fmt: skip
def test_worker_declarations_refuse_bad_input_with_its_reason(
    insz: str, page_size: int, token: str, field: str, reason: str
) -> None:
    w = world()
    with pytest.raises(InvalidArgument) as caught:
        w.queries.list_worker_declarations(insz, page_size, token)
    assert caught.value.reason == reason
    assert [v.field for v in caught.value.violations] == [field]


@settings(max_examples=200, deadline=None)
@given(insz=st.text(max_size=20), size=st.integers(-5, 600), token=st.text(max_size=40))
def test_worker_declarations_answer_or_refuse_invalid_argument_for_any_input(
    insz: str, size: int, token: str
) -> None:
    w = world()
    try:
        page = w.queries.list_worker_declarations(insz, size, token)
    except InvalidArgument as exc:
        assert exc.reason in {
            "INVALID_PAGE_SIZE",
            "INVALID_PAGE_TOKEN",
        } or exc.reason.startswith("INSZ_")
    else:
        assert page.items == [] and page.next_page_token == ""


# -- people acting for an employer -----------------------------------------------------------


def test_reader_is_refused_read_only_role_and_nothing_is_asked_or_stored_when_submitting() -> None:
    w = world()
    for risk, day in risks().values():
        with pytest.raises(PermissionDenied) as caught:
            w.declarations.submit(portal("reader"), submission(risk, day))
        assert caught.value.reason == "READ_ONLY_ROLE"
    assert w.network.calls == [] and w.store.commits == 0
    assert w.store.state.declarations == [] and w.store.state.attestations == []


def test_reader_of_another_employer_is_refused_as_not_its_employer() -> None:
    w = world()
    with pytest.raises(PermissionDenied) as caught:
        w.declarations.submit(
            portal("reader", employer=STATE), submission(end_of_contract(), TODAY)
        )
    assert caught.value.reason == "NOT_OWN_EMPLOYER"


def test_reader_prefills_and_reads_the_employers_declarations_and_tasks() -> None:
    w = world()
    w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    reader = portal("reader")
    assert w.declarations.prefill(reader, RETAIL, WORKER, Scenario.WORK_ACCIDENT, TODAY)
    assert w.queries.get_declaration(reader, f"employers/{RETAIL}/declarations/ref-1")
    assert [d.reference for d in w.queries.list_declarations(
        reader, f"employers/{RETAIL}", 0, "").items] == ["ref-1"]  # fmt: skip
    assert w.queries.list_tasks(reader, f"employers/{RETAIL}", 0, "").items == []


def test_declarant_files_and_is_recorded_as_the_acting_person() -> None:
    w = world()
    d = w.declarations.submit(portal("declarant"), submission(end_of_contract(), TODAY))
    assert d.status.accepted and (d.submitted_by, d.acting_person) == (ME.uri, JAN)
    assert w.store.state.declarations[0].acting_person == JAN
    shown = w.queries.get_declaration(ME, f"employers/{RETAIL}/declarations/ref-1")
    assert shown.acting_person == JAN  # the employer reads who acted
    other = w.declarations.submit(ME, submission(end_of_contract(), TODAY, reference="cert"))
    assert other.acting_person == ""  # a certificate records nobody


def test_resubmission_by_another_person_answers_the_first_filing_when_content_is_the_same() -> None:
    w = world()
    first = w.declarations.submit(portal("declarant"), submission(end_of_contract(), TODAY))
    again = w.declarations.submit(portal("declarant", ANNA), submission(end_of_contract(), TODAY))
    by_certificate = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert again == first == by_certificate and again.acting_person == JAN
    assert len(w.store.state.declarations) == 1 and len(w.store.state.attestations) == 1
    with pytest.raises(PermissionDenied) as caught:  # a reader gets no replay either
        w.declarations.submit(portal("reader"), submission(end_of_contract(), TODAY))
    assert caught.value.reason == "READ_ONLY_ROLE"
