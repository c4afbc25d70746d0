"""Declarations.submit and prefill on fakes: the pre-fill's content and order, the employer
check, every anomaly of the rules, attestations queued in the declaration's transaction (kind,
destination, payload), refusals stored without attestation, idempotency, tasks, access, and lost
races."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from drs.service import prefill
from drs.service.model import (
    AttestationStatus,
    Incapacity,
    QuarterPay,
    Scenario,
    Severity,
    Status,
    TaskState,
    TemporaryUnemployment,
    WorkAccident,
)
from runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.identity import Caller, PartyKind
from tests.unit.drs.fakes import (
    BUREAU,
    DMFA_QUARTERS,
    EMPLOYMENT,
    ETHIAS_KBO,
    ME,
    MUT_100,
    OTHER,
    OTHER_CALLER,
    OTHER_WORKER,
    RETAIL,
    STATE,
    STATE_CALLER,
    TODAY,
    UNKNOWN_KBO,
    WORKER,
    FakeNetwork,
    World,
    end_of_contract,
    risks,
    submission,
    world,
)

S = Scenario
YESTERDAY = TODAY - dt.timedelta(days=1)


def codes(d: object) -> list[tuple[str, str, str]]:
    return [(a.code, a.field, a.value) for a in d.anomalies]  # type: ignore[attr-defined]


def incapacity(w: World, **kw: object):  # noqa: ANN201
    return w.declarations.submit(
        kw.pop("caller", ME),  # type: ignore[arg-type]
        submission(Incapacity(YESTERDAY), TODAY, **kw),  # type: ignore[arg-type]
    )


def request_task(w: World, insz: str = WORKER, employer: str = RETAIL, n: int = 1):  # noqa: ANN201
    return w.requests.request(
        MUT_100, f"6f1c2d3e-4a5b-4c6d-8e7f-{n:012d}", employer, insz, S.SICKNESS_INCAPACITY, TODAY
    )


# -- the pre-fill -----------------------------------------------------------------------------


def test_prefill_gathers_identity_employment_and_closed_quarters_when_employer_on_risk_date() -> (
    None
):
    w = world()
    found = w.declarations.prefill(ME, RETAIL, WORKER, S.SICKNESS_INCAPACITY, TODAY)
    assert found.worker.last_name == "Peeters" and found.worker.insz == WORKER
    assert found.employment == EMPLOYMENT
    assert found.quarters == DMFA_QUARTERS
    assert found.deadline == dt.date(2026, 11, 2)  # 1 November 2026: Sunday and a holiday
    # DIMONA first, then the register and the DmfA; every call on the risk date.
    assert w.network.calls[0] == ("employment", WORKER, TODAY)
    assert sorted(c[0] for c in w.network.calls[1:]) == ["quarters", "worker"]
    assert {c[2] for c in w.network.calls} == {TODAY}


def test_prefills_in_flight_do_not_wait_for_each_others_consultations() -> None:
    # As many pre-fills as the server has handler threads: every register and DmfA question
    # is asked at once (each barrier needs all 16), none queued behind another pre-fill's.
    handlers = prefill.THREADS
    asked = {
        "worker": threading.Barrier(handlers, timeout=10),
        "quarters": threading.Barrier(handlers, timeout=10),
    }

    class AllAtOnce(FakeNetwork):
        def worker(self, insz: str, on: dt.date):  # noqa: ANN202
            asked["worker"].wait()
            return super().worker(insz, on)

        def quarters(self, insz: str, employer: str, on: dt.date, max_quarters: int):  # noqa: ANN202
            asked["quarters"].wait()
            return super().quarters(insz, employer, on, max_quarters)

    prefiller = prefill.Prefiller(AllAtOnce())
    try:
        with ThreadPoolExecutor(handlers) as server:
            found = list(
                server.map(
                    lambda _i: prefiller.gather(RETAIL, WORKER, S.WORK_ACCIDENT, TODAY),
                    range(handlers),
                )
            )
    finally:
        prefiller.close()
    assert all(f.quarters == DMFA_QUARTERS and f.worker.insz == WORKER for f in found)


def test_prefill_is_refused_and_asks_nothing_more_when_not_the_workers_employer() -> None:
    w = world()
    with pytest.raises(FailedPrecondition) as caught:
        w.declarations.prefill(OTHER_CALLER, OTHER, WORKER, S.WORK_ACCIDENT, TODAY)
    assert caught.value.reason == "NOT_WORKERS_EMPLOYER"
    assert [c[0] for c in w.network.calls] == ["employment"]


def test_prefill_is_refused_when_the_risk_date_is_before_the_employment() -> None:
    w = world()
    with pytest.raises(FailedPrecondition) as caught:
        w.declarations.prefill(ME, RETAIL, WORKER, S.WORK_ACCIDENT, dt.date(2024, 2, 29))
    assert caught.value.reason == "NOT_WORKERS_EMPLOYER"


def test_prefill_is_unavailable_when_the_network_is_down() -> None:
    w = world()
    w.network.down = True
    with pytest.raises(Unavailable) as caught:
        w.declarations.prefill(ME, RETAIL, WORKER, S.WORK_ACCIDENT, TODAY)
    assert caught.value.reason == "PREFILL_UNAVAILABLE"


def test_prefill_access_is_the_onss_rule_when_callers_differ() -> None:
    w = world()
    assert w.declarations.prefill(BUREAU, RETAIL, WORKER, S.WORK_ACCIDENT, TODAY).employment
    for caller, reason in (
        (OTHER_CALLER, "NOT_OWN_EMPLOYER"),
        (Caller(PartyKind.BUREAU, "0203201340"), "NO_MANDATE"),
        (MUT_100, "NOT_AUTHORISED"),
    ):
        with pytest.raises(PermissionDenied) as caught:
            w.declarations.prefill(caller, RETAIL, WORKER, S.WORK_ACCIDENT, TODAY)
        assert caught.value.reason == reason
    with pytest.raises(NotFound) as missing:
        w.declarations.prefill(
            Caller(PartyKind.EMPLOYER, "001345678"), "001345678", WORKER, S.WORK_ACCIDENT, TODAY
        )
    assert missing.value.reason == "EMPLOYER_NOT_FOUND"
    assert not w.network.calls[1:] or w.network.calls[0][0] == "employment"


# -- accepted: attestations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "kind", "destination"),
    [
        (S.UNEMPLOYMENT_END_OF_CONTRACT, "unemployment.c4", "onem"),
        (S.TEMPORARY_UNEMPLOYMENT, "unemployment.temporary", "onem"),
        (S.TEMPORARY_UNEMPLOYMENT_HOURS, "unemployment.temporary-hours", "onem"),
        (S.SICKNESS_INCAPACITY, "sickness.zima-001", ""),
        (S.SICKNESS_RESUMPTION, "sickness.zima-006", ""),
        (S.WORK_ACCIDENT, "work-accident.declaration", "fedris"),
    ],
)
def test_accepted_declaration_queues_one_attestation_when_each_scenario(
    scenario: Scenario, kind: str, destination: str
) -> None:
    w = world()
    risk, day = risks()[scenario]
    d = w.declarations.submit(STATE_CALLER, submission(risk, day, employer=STATE))
    assert d.status is Status.ACCEPTED, d.anomalies
    assert (d.attestation_kind, d.destination) == (kind, destination)
    [queued] = w.store.state.attestations
    assert (queued.id, queued.kind, queued.insz, queued.reference_date, queued.destination) == (
        d.attestation_id,
        kind,
        WORKER,
        day,
        destination,
    )
    assert d.attestation_status is AttestationStatus.PENDING
    assert w.queued == [1]  # the dispatcher is woken once
    body = json.loads(queued.payload)
    assert body["kind"] == kind and body["insz"] == WORKER
    assert body["risk_date"] == day.isoformat()
    assert body["employment"]["period_id"] == EMPLOYMENT.period_id


def test_payload_carries_the_dmfas_quarters_and_the_employers_for_the_rest_when_merged() -> None:
    w = world()
    quarters = (
        QuarterPay(2026, 4, 1_000, 7_600, 150_000),  # current quarter: the employer's
        QuarterPay(2026, 3, 6_400, 48_640, 999_999),  # contradicts the DmfA
    )
    d = w.declarations.submit(
        ME, submission(end_of_contract(), TODAY, quarters=quarters, reference="c4")
    )
    body = json.loads(w.store.state.attestations[0].payload)
    assert [(q["year"], q["quarter"], q["pay"], q["source"]) for q in body["quarters"]] == [
        (2026, 4, 150_000, "EMPLOYER"),
        (2026, 3, 960_000, "DMFA"),  # never silently overwritten
        (2026, 2, 930_000, "DMFA"),
    ]
    assert body["warnings"] == [
        {"code": "PAY_CONTRADICTS_DMFA", "field": "quarters[1].pay", "value": "960000"}
    ]
    assert body["risk"]["reason"] == "DISMISSAL" and body["risk"]["contract_end"] == "2026-10-14"
    assert d.status is Status.ACCEPTED_WITH_WARNINGS


def test_payload_is_deterministic_json_when_read_back() -> None:
    w = world()
    w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    raw = w.store.state.attestations[0].payload
    assert (
        raw
        == json.dumps(
            json.loads(raw), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    )


# -- anomalies --------------------------------------------------------------------------------


def test_contradictions_are_warnings_per_field_when_a_closed_quarter_differs() -> None:
    w = world()
    quarters = (
        QuarterPay(2026, 3, 6_000, 48_640, 950_000),
        QuarterPay(2026, 2, 6_200, 47_120, 930_000),  # the same as the DmfA: fine
        QuarterPay(2026, 1, 1, 1, 1),  # the DmfA does not hold it: the employer's
        QuarterPay(2026, 4, 5, 5, 5),  # the risk date's quarter: the employer's
    )
    d = w.declarations.submit(ME, submission(end_of_contract(), TODAY, quarters=quarters))
    assert codes(d) == [
        ("PAY_CONTRADICTS_DMFA", "quarters[0].days", "6400"),
        ("PAY_CONTRADICTS_DMFA", "quarters[0].pay", "960000"),
    ]
    assert all(a.severity is Severity.WARNING for a in d.anomalies)
    assert d.status is Status.ACCEPTED_WITH_WARNINGS and d.attestation_id


def test_contract_end_contradicting_dimona_is_a_warning_when_the_period_has_an_end() -> None:
    w = world()
    w.network.employments[(WORKER, RETAIL)] = dataclasses.replace(
        EMPLOYMENT, end=TODAY + dt.timedelta(days=30)
    )
    d = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert codes(d) == [
        ("END_CONTRADICTS_DIMONA", "end_of_contract.contract_end_date", "2026-11-13")
    ]


def test_future_risk_date_is_blocking_when_not_temporary_unemployment() -> None:
    w = world()
    tomorrow = TODAY + dt.timedelta(days=1)
    d = w.declarations.submit(ME, submission(WorkAccident("x", "y"), tomorrow))
    assert d.status is Status.REFUSED
    assert codes(d) == [("RISK_DATE_IN_FUTURE", "risk_date", tomorrow.isoformat())]
    assert d.attestation_id == "" and w.store.state.attestations == []
    ahead = w.declarations.submit(
        ME, submission(TemporaryUnemployment("002"), tomorrow, reference="ahead")
    )
    assert ahead.status is Status.ACCEPTED


def test_insurer_is_the_destination_when_known_and_refused_when_unknown() -> None:
    w = world()
    insured = w.declarations.submit(
        ME, submission(WorkAccident("x", "y", ETHIAS_KBO, "AT-1"), TODAY, reference="a")
    )
    assert (insured.status, insured.destination) == (Status.ACCEPTED, "ethias")
    unknown = w.declarations.submit(
        ME, submission(WorkAccident("x", "y", UNKNOWN_KBO, "AT-1"), TODAY, reference="b")
    )
    assert unknown.status is Status.REFUSED and unknown.destination == ""
    assert codes(unknown) == [("UNKNOWN_INSURER", "work_accident.insurer_kbo", UNKNOWN_KBO)]
    w.store.state.insurers[ETHIAS_KBO] = dataclasses.replace(
        w.store.state.insurers[ETHIAS_KBO], active=False
    )
    withdrawn = w.declarations.submit(
        ME, submission(WorkAccident("x", "y", ETHIAS_KBO, "AT-1"), TODAY, reference="c")
    )
    assert [a.code for a in withdrawn.anomalies] == ["UNKNOWN_INSURER"]
    uninsured = w.declarations.submit(ME, submission(WorkAccident("x", "y"), TODAY, reference="d"))
    assert uninsured.destination == "fedris"
    assert [a.destination for a in w.store.state.attestations] == ["ethias", "fedris"]


def test_refused_declaration_is_stored_with_its_anomalies_and_sends_nothing() -> None:
    w = world()
    d = incapacity(w)  # RETAIL does not file spontaneously, and no one asked
    assert d.status is Status.REFUSED
    assert codes(d) == [("NO_REQUEST", "task", "")]
    assert d.anomalies[0].severity is Severity.BLOCKING
    assert (d.attestation_id, d.attestation_kind, d.destination) == ("", "", "")
    assert d.attestation_status is AttestationStatus.NONE
    assert w.store.state.attestations == [] and w.queued == []
    assert w.store.state.declarations[0].reference == "ref-1"


# -- tasks ------------------------------------------------------------------------------------


def test_a_mutualitys_request_is_answered_and_done_when_the_employer_declares() -> None:
    w = world()
    task = request_task(w)
    d = incapacity(w)
    assert d.status is Status.ACCEPTED and d.task == task.id
    [done] = w.store.state.tasks
    assert (done.state, done.declaration) == (TaskState.DONE, "ref-1")
    body = json.loads(w.store.state.attestations[0].payload)
    assert body["task"] == task.name
    # Another ZIMA 001 for the same worker: no open request any more.
    again = incapacity(w, reference="ref-2")
    assert [a.code for a in again.anomalies] == ["NO_REQUEST"]


def test_named_task_is_answered_when_open_and_refused_when_not() -> None:
    w = world()
    first = request_task(w, n=1)
    second = request_task(w, n=2)
    d = incapacity(w, task=second.id)
    assert d.task == second.id
    states = {t.id: t.state for t in w.store.state.tasks}
    assert states == {first.id: TaskState.OPEN, second.id: TaskState.DONE}
    for task, why in (
        (second.id, "done already"),
        ("6f1c2d3e-4a5b-4c6d-8e7f-999999999999", "unknown"),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            incapacity(w, task=task, reference=f"again-{why[:4]}")
        assert caught.value.reason == "TASK_NOT_FOUND", why
    other_worker = request_task(w, insz=OTHER_WORKER, n=3)
    with pytest.raises(FailedPrecondition):
        incapacity(w, task=other_worker.id, reference="wrong-worker")
    with pytest.raises(FailedPrecondition):
        w.declarations.submit(
            ME, submission(end_of_contract(), TODAY, task=first.id, reference="wrong-scenario")
        )
    assert len(w.store.state.declarations) == 1  # nothing stored for the refused tasks


def test_refused_declaration_leaves_the_task_open_when_blocking() -> None:
    w = world()
    task = request_task(w)
    d = w.declarations.submit(
        ME, submission(Incapacity(TODAY), TODAY + dt.timedelta(days=1), reference="future")
    )
    assert d.status is Status.REFUSED and d.task == ""
    assert w.store.state.tasks[0].state is TaskState.OPEN and w.store.state.tasks[0].id == task.id


def test_spontaneous_employer_declares_without_a_request_when_destha() -> None:
    w = world()
    d = incapacity(w, caller=STATE_CALLER, employer=STATE)
    assert d.status is Status.ACCEPTED and d.task == ""


def test_the_task_answered_meanwhile_is_seen_when_the_write_locks_it() -> None:
    w = world()
    request_task(w)

    def answered_elsewhere(state: object, task_id: str) -> None:
        # Another declaration answered the task between this one's read and its write.
        w.store.on_lock = lambda s, t: None
        for stored in (state, w.store.state):
            stored.tasks = [  # type: ignore[attr-defined]
                dataclasses.replace(t, state=TaskState.DONE)
                for t in stored.tasks  # type: ignore[attr-defined]
            ]

    w.store.on_lock = answered_elsewhere
    d = incapacity(w)
    # Tried again: no open request any more.
    assert [a.code for a in d.anomalies] == ["NO_REQUEST"]
    assert w.store.state.attestations == []


# -- idempotency, races, failures ---------------------------------------------------------------


def test_same_reference_answers_the_stored_declaration_when_the_content_is_the_same() -> None:
    w = world()
    first = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    calls = len(w.network.calls)
    again = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert again == first
    assert len(w.network.calls) == calls  # answered before any consultation
    assert len(w.store.state.attestations) == 1
    with pytest.raises(AlreadyExists) as caught:
        w.declarations.submit(ME, submission(end_of_contract(YESTERDAY), YESTERDAY))
    assert caught.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert caught.value.metadata == {"field": "declaration_reference"}


def test_a_lost_race_answers_as_the_winner_when_the_same_reference_was_stored_meanwhile() -> None:
    elsewhere = world()
    winner = elsewhere.declarations.submit(ME, submission(end_of_contract(), TODAY))
    w = world()
    w.store.conflicts, w.store.winner = 1, winner  # the first write loses to the winner
    d = w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert dataclasses.replace(d, attestation_status=winner.attestation_status) == winner
    assert w.store.state.attestations == []  # the loser queued nothing


def test_busy_is_unavailable_when_every_attempt_loses() -> None:
    w = world()
    w.store.conflicts = 99
    with pytest.raises(Unavailable) as caught:
        w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert caught.value.reason == "BUSY"
    assert w.store.state.declarations == []
    # The pre-fill was asked once, not once per attempt.
    assert [c[0] for c in w.network.calls].count("employment") == 1


def test_nothing_is_stored_when_not_the_workers_employer_or_the_network_is_down() -> None:
    w = world()
    with pytest.raises(FailedPrecondition) as caught:
        w.declarations.submit(
            OTHER_CALLER, submission(end_of_contract(), TODAY, employer=OTHER, reference="x")
        )
    assert caught.value.reason == "NOT_WORKERS_EMPLOYER"
    w.network.down = True
    with pytest.raises(Unavailable) as down:
        w.declarations.submit(ME, submission(end_of_contract(), TODAY))
    assert down.value.reason == "PREFILL_UNAVAILABLE"
    assert w.store.state.declarations == [] and w.store.state.attestations == []


def test_submit_access_is_checked_before_anything_is_looked_up_when_not_a_declarant() -> None:
    w = world()
    with pytest.raises(PermissionDenied) as caught:
        w.declarations.submit(MUT_100, submission(end_of_contract(), TODAY))
    assert caught.value.reason == "NOT_AUTHORISED" and w.network.calls == []
    with pytest.raises(PermissionDenied) as other:
        w.declarations.submit(OTHER_CALLER, submission(end_of_contract(), TODAY))
    assert other.value.reason == "NOT_OWN_EMPLOYER" and w.network.calls == []
    d = w.declarations.submit(BUREAU, submission(end_of_contract(), TODAY))
    assert d.submitted_by == "spiffe://carrefour.local/bureau/0314595348"
