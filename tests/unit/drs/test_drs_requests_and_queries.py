"""RequestDeclaration (an institution's request becomes an OPEN task, idempotent on the
requester's request id) and the reads: one declaration with its attestation status asked of the
inbox when delivered, the declarations newest first and the to-do list open first, in pages."""

from __future__ import annotations

import datetime as dt

import pytest

from drs.service.model import AttestationStatus, Incapacity, Scenario, TaskState
from runtime import page_tokens
from runtime.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind
from tests.unit.drs.fakes import (
    ME,
    MUT_100,
    OTHER_CALLER,
    OTHER_WORKER,
    RETAIL,
    TODAY,
    WORKER,
    end_of_contract,
    submission,
    world,
)

REQUEST = "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab"
S = Scenario


def test_request_creates_an_open_task_with_the_zima_deadline_when_first_asked() -> None:
    w = world()
    task = w.requests.request(MUT_100, REQUEST, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert task.state is TaskState.OPEN and task.requested_by == "mut-100"
    assert task.deadline == dt.date(2026, 11, 2)
    assert task.name == f"employers/{RETAIL}/tasks/{task.id}"
    assert task.requested_at == w.clock.now()


def test_request_is_idempotent_on_the_requesters_id_when_repeated() -> None:
    w = world()
    first = w.requests.request(MUT_100, REQUEST, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    again = w.requests.request(MUT_100, REQUEST, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert again == first and len(w.store.state.tasks) == 1
    with pytest.raises(AlreadyExists) as caught:
        w.requests.request(MUT_100, REQUEST, RETAIL, OTHER_WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    # Another requester may use the same id: ids are the requester's own.
    other = w.requests.request(
        Caller(PartyKind.INSTITUTION, "mut-200"),
        REQUEST,
        RETAIL,
        WORKER,
        S.SICKNESS_INCAPACITY,
        TODAY,
    )
    assert other.id != first.id


def test_request_answers_the_winner_when_it_raced_itself() -> None:
    w = world()
    w.store.conflicts = 1
    task = w.requests.request(MUT_100, REQUEST, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert task.state is TaskState.OPEN and len(w.store.state.tasks) == 1


def test_request_is_refused_when_the_employer_is_unknown_or_the_caller_no_institution() -> None:
    w = world()
    with pytest.raises(NotFound) as caught:
        w.requests.request(MUT_100, REQUEST, "001345678", WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert caught.value.reason == "EMPLOYER_NOT_FOUND"
    with pytest.raises(PermissionDenied):
        w.requests.request(ME, REQUEST, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert w.store.state.tasks == []


def test_tasks_are_listed_open_first_then_in_request_order_when_paged() -> None:
    w = world()
    ids = []
    for n in range(5):
        t = w.requests.request(
            MUT_100,
            f"6f1c2d3e-4a5b-4c6d-8e7f-{n:012d}",
            RETAIL,
            WORKER if n != 1 else OTHER_WORKER,
            S.SICKNESS_INCAPACITY,
            TODAY - dt.timedelta(days=n),
        )
        ids.append(t.id)
    # The declaration answers the oldest open request of WORKER: task 0.
    w.declarations.submit(ME, submission(Incapacity(TODAY - dt.timedelta(days=1)), TODAY))
    seen, token = [], ""
    while True:
        page = w.queries.list_tasks(ME, f"employers/{RETAIL}", 2, token)
        seen += page.items
        token = page.next_page_token
        if not token:
            break
    assert [t.id for t in seen] == [ids[1], ids[2], ids[3], ids[4], ids[0]]
    assert [t.state for t in seen][-1] is TaskState.DONE and seen[-1].declaration == "ref-1"
    with pytest.raises(InvalidArgument) as caught:
        w.queries.list_tasks(ME, f"employers/{RETAIL}", 2, "bogus")
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(PermissionDenied):
        w.queries.list_tasks(OTHER_CALLER, f"employers/{RETAIL}", 0, "")


def test_declarations_are_listed_newest_first_when_paged() -> None:
    w = world()
    for n in range(5):
        w.declarations.submit(ME, submission(end_of_contract(), TODAY, reference=f"r{n}"))
    seen, token = [], ""
    while True:
        page = w.queries.list_declarations(ME, f"employers/{RETAIL}", 2, token)
        seen += [d.reference for d in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["r4", "r3", "r2", "r1", "r0"]
    with pytest.raises(InvalidArgument) as caught:
        w.queries.list_declarations(ME, f"employers/{RETAIL}", -1, "")
    assert caught.value.reason == "INVALID_PAGE_SIZE"
    tasks_token = page_tokens.encode(["tasks", RETAIL], [0, 1])
    with pytest.raises(InvalidArgument) as other_query:
        w.queries.list_declarations(ME, f"employers/{RETAIL}", 2, tasks_token)
    assert other_query.value.reason == "INVALID_PAGE_TOKEN"


def test_get_asks_the_inbox_when_delivered_and_shows_the_acknowledgement() -> None:
    w = world()
    d = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    name = f"employers/{RETAIL}/declarations/ref-1"
    assert w.queries.get_declaration(ME, name).attestation_status is AttestationStatus.PENDING
    assert w.refreshed == []  # pending: nothing to ask
    w.store.state.outbox[d.attestation_id] = AttestationStatus.DELIVERED
    shown = w.queries.get_declaration(ME, name)
    assert shown.attestation_status is AttestationStatus.ACKNOWLEDGED
    assert w.refreshed == [[d.attestation_id]]


def test_get_shows_the_stored_status_when_the_inbox_cannot_be_asked() -> None:
    w = world()
    d = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    w.store.state.outbox[d.attestation_id] = AttestationStatus.DELIVERED

    def broken(ids: object) -> int:
        raise RuntimeError("router down")

    w.queries._refresh = broken  # noqa: SLF001
    name = f"employers/{RETAIL}/declarations/ref-1"
    assert w.queries.get_declaration(ME, name).attestation_status is AttestationStatus.DELIVERED


def test_get_is_not_found_when_no_such_reference_and_refused_for_another_employer() -> None:
    w = world()
    with pytest.raises(NotFound) as caught:
        w.queries.get_declaration(ME, f"employers/{RETAIL}/declarations/nope")
    assert caught.value.reason == "DECLARATION_NOT_FOUND"
    with pytest.raises(PermissionDenied):
        w.queries.get_declaration(OTHER_CALLER, f"employers/{RETAIL}/declarations/nope")
    with pytest.raises(InvalidArgument) as bad:
        w.queries.get_declaration(ME, "declarations/nope")
    assert bad.value.reason == "INVALID_NAME"
