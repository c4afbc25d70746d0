"""Submitting a version (declarations.Declarations.submit) on in-memory fakes with a fixed
clock: who may declare, idempotency, where the declaration stands (original, correction,
superseded), refused versions kept as history, the cross-checks unreachable, students' hours
queued for DIMONA's quota counter, lost races."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from dmfa.service.declarations import Declarations
from dmfa.service.model import (
    EmployerQuarter,
    EventKind,
    Person,
    PersonCheck,
    PersonOutcome,
    Quarter,
    RemunerationTotal,
    Status,
    Totals,
    Version,
    WorkerCodeQuarter,
)
from dmfa.service.ports import DeclarationState
from runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.identifiers import make_insz, make_onss_number
from runtime.identity import Caller, PartyKind
from tests.unit.dmfa.builders import (
    EMPLOYER,
    OTHER,
    OTHER_EMPLOYER,
    PROVISIONAL,
    STUDENT,
    WORKER,
    Q,
    person,
    record,
    submission,
)
from tests.unit.dmfa.fakes import (
    BUREAU,
    LONE_BUREAU,
    ME,
    NOW,
    ONSS,
    OTHER_CALLER,
    PROVISIONAL_CALLER,
    TABLES,
    FakeNetwork,
    World,
    world,
)

V = f"employers/{EMPLOYER}/declarations/2026Q1/versions"
STUDENT_40H = person(STUDENT, record("841", pay=100_000, hours=4_000))  # 2,400 min
BAD_INSZ = WORKER[:-1] + str((int(WORKER[-1]) + 1) % 10)


@pytest.fixture
def w() -> Iterator[World]:
    w = world()
    yield w
    w.declarations.close()


def submit(
    w: World,
    *persons: Person,
    caller: Caller = ME,
    employer: str = EMPLOYER,
    reference: str = "ref-1",
    corrects: int | None = None,
    quarter: Quarter = Q,
    cover: bool = True,
) -> Version:
    """Submit these workers (the default employee when none), each covered by Dimona unless
    `cover` is False (then the network's periods are whatever the test set)."""
    persons = persons or (person(),)
    if cover:
        w.network.cover(*persons, employer=employer, quarter=quarter)
    return w.declarations.submit(
        caller,
        submission(
            *persons, employer=employer, reference=reference, corrects=corrects, quarter=quarter
        ),
    )


def nothing_stored(w: World) -> bool:
    s = w.store.state
    return not s.versions and not s.declarations and not s.events and not s.quota


# -- an original -------------------------------------------------------------------------------


def test_original_becomes_current_with_event_and_worker_quarter_when_accepted(w: World) -> None:
    v = submit(w)
    assert (v.number, v.status, v.current, v.corrects, v.superseded_by) == (
        1,
        Status.ACCEPTED,
        True,
        None,
        None,
    )
    assert v.totals == Totals(1, 300_000, 39_210, 75_000)  # 13.07 % and 25 % of 3,000 EUR
    assert (v.submitted_by, v.submitted_at, v.late, v.anomalies) == (ME.uri, NOW, False, ())
    assert w.store.declaration() == DeclarationState(1, 1)
    ((kind, number, superseded, inszs),) = [
        (e.kind, e.version, e.superseded, e.worker_inszs) for e in w.store.state.events
    ]
    assert (kind, number, superseded, inszs) == (EventKind.ACCEPTED, 1, None, (WORKER,))
    assert set(w.store.state.quarters[(EMPLOYER, Q)]) == {WORKER}
    assert w.store.state.quota == []  # no student
    assert w.woken == [1]


def test_register_is_asked_once_per_valid_insz_when_workers_repeat_or_are_invalid(
    w: World,
) -> None:
    v = submit(w, person(OTHER), person(WORKER), person(BAD_INSZ), person(WORKER))
    assert [a for a in w.network.asked if a[0] == "persons"] == [
        ("persons", tuple(sorted([OTHER, WORKER])))
    ]
    assert {a.code for a in v.anomalies} == {"INVALID_INSZ", "DUPLICATE_WORKER"}


def test_student_balances_are_asked_for_students_only_when_declaration_mixes_codes(
    w: World,
) -> None:
    submit(w, person(WORKER), STUDENT_40H)
    asked = [a[1] for a in w.network.asked if a[0] == "student_balances"]
    assert asked == [(STUDENT,)]


def test_students_hours_are_queued_for_quota_counter_when_accepted(w: World) -> None:
    submit(w, person(WORKER), STUDENT_40H)
    ((row),) = w.store.state.quota
    assert (row.employer, row.quarter, row.entries, row.source) == (
        EMPLOYER,
        Q,
        ((STUDENT, 2_400),),  # 40 h
        f"{V}/1",
    )
    assert w.store.state.quarters[(EMPLOYER, Q)][STUDENT][2] == 2_400


def test_late_version_is_accepted_with_anomaly_when_after_deadline_in_brussels(w: World) -> None:
    # 30 April 2026 22:30 UTC is 1 May 00:30 in Brussels: the day after the deadline
    w.clock.set(dt.datetime(2026, 4, 30, 22, 30, tzinfo=dt.UTC))
    v = submit(w)
    assert v.late and v.status is Status.ACCEPTED_WITH_ANOMALIES and v.current
    assert [(a.code, a.value) for a in v.anomalies] == [("LATE", "2026-04-30")]


def test_version_on_deadline_day_is_not_late_when_brussels_date_is_30_april(w: World) -> None:
    w.clock.set(dt.datetime(2026, 4, 30, 21, 30, tzinfo=dt.UTC))  # 23:30 in Brussels
    assert not submit(w).late


# -- idempotency ----------------------------------------------------------------------------


def test_same_reference_and_content_answers_stored_version_when_resent(w: World) -> None:
    first = submit(w)
    again = submit(w)
    assert again == first
    assert len(w.store.state.versions) == 1 and len(w.store.state.events) == 1
    assert w.woken == [1]  # nothing new to send


def test_resent_original_shows_it_superseded_when_a_correction_came_since(w: World) -> None:
    submit(w)
    submit(w, reference="ref-2", corrects=1)
    again = submit(w)  # the original again: not DECLARATION_EXISTS, the stored answer
    assert (again.number, again.current, again.superseded_by) == (1, False, 2)


def test_same_reference_with_other_content_is_already_exists_when_reused(w: World) -> None:
    submit(w)
    with pytest.raises(AlreadyExists) as err:
        submit(w, person(WORKER, record("495", pay=300_001)))
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert err.value.metadata == {"field": "header.submission_reference"}
    assert len(w.store.state.versions) == 1


def test_same_reference_of_another_employer_is_independent_when_each_declares(w: World) -> None:
    submit(w)
    other = submit(w, caller=OTHER_CALLER, employer=OTHER_EMPLOYER)
    assert (other.employer, other.number, other.current) == (OTHER_EMPLOYER, 1, True)


def test_resent_refused_version_is_answered_again_when_same_content(w: World) -> None:
    refused = submit(w, cover=False)  # no Dimona: OCCUPATION_NOT_COVERED
    assert refused.status is Status.REFUSED
    assert submit(w, cover=False) == refused
    assert len(w.store.state.versions) == 1


# -- where the declaration stands -------------------------------------------------------------


def test_provisional_employer_is_failed_precondition_when_declaring(w: World) -> None:
    with pytest.raises(FailedPrecondition) as err:
        submit(w, caller=PROVISIONAL_CALLER, employer=PROVISIONAL)
    assert err.value.reason == "PROVISIONAL_EMPLOYER_NUMBER"
    assert nothing_stored(w) and w.network.asked == []


def test_second_original_is_declaration_exists_when_one_is_accepted(w: World) -> None:
    submit(w)
    with pytest.raises(FailedPrecondition) as err:
        submit(w, reference="ref-2")
    assert err.value.reason == "DECLARATION_EXISTS"
    assert err.value.metadata == {"current_version": "1"}
    assert len(w.store.state.versions) == 1


def test_original_is_allowed_for_another_quarter_when_one_is_accepted(w: World) -> None:
    submit(w)
    q2 = Quarter(2026, 2)
    w.clock.set(dt.datetime(2026, 7, 1, 8, tzinfo=dt.UTC))
    later = submit(
        w,
        person(WORKER, record("495", start=q2.first_day, end=q2.last_day)),
        reference="ref-q2",
        quarter=q2,
    )
    # the occupation starts 1 January (before the quarter): only its Q2 part is checked
    assert (later.quarter, later.number, later.status) == (q2, 1, Status.ACCEPTED)


def test_correction_is_nothing_to_correct_when_nothing_is_accepted(w: World) -> None:
    with pytest.raises(FailedPrecondition) as err:
        submit(w, corrects=1)
    assert err.value.reason == "NOTHING_TO_CORRECT"
    w.network.dimona.clear()
    assert submit(w, cover=False).status is Status.REFUSED  # a refused version does not count
    with pytest.raises(FailedPrecondition) as err:
        submit(w, reference="ref-2", corrects=1)
    assert err.value.reason == "NOTHING_TO_CORRECT"


def test_correction_of_old_version_is_version_superseded_when_another_came_since(
    w: World,
) -> None:
    submit(w)
    submit(w, reference="ref-2", corrects=1)
    with pytest.raises(FailedPrecondition) as err:
        submit(w, reference="ref-3", corrects=1)
    assert err.value.reason == "VERSION_SUPERSEDED"
    assert err.value.metadata == {"current_version": "2"}
    with pytest.raises(FailedPrecondition) as err:
        submit(w, reference="ref-4", corrects=7)
    assert err.value.reason == "VERSION_SUPERSEDED"


def test_correction_supersedes_current_and_queues_zero_for_gone_students_when_accepted(
    w: World,
) -> None:
    submit(w, person(WORKER), STUDENT_40H)
    other_10h = person(OTHER, record("841", pay=20_000, hours=1_000))  # 600 min
    v2 = submit(w, person(WORKER), other_10h, reference="ref-2", corrects=1)
    assert (v2.number, v2.corrects, v2.current, v2.status) == (2, 1, True, Status.ACCEPTED)
    v1 = w.store.versions()[0]
    assert (v1.current, v1.superseded_by) == (False, 2)
    assert w.store.declaration() == DeclarationState(2, 2)
    assert [(e.kind, e.version, e.superseded) for e in w.store.state.events] == [
        (EventKind.ACCEPTED, 1, None),
        (EventKind.CORRECTED, 2, 1),
    ]
    first, second = w.store.state.quota
    assert dict(first.entries) == {STUDENT: 2_400} and first.source == f"{V}/1"
    # the student of version 1 is gone: 0 from now on; the new one: 600 min
    assert dict(second.entries) == {STUDENT: 0, OTHER: 600} and second.source == f"{V}/2"
    assert set(w.store.state.quarters[(EMPLOYER, Q)]) == {WORKER, OTHER}
    assert w.woken == [1, 1]


def test_worker_quarter_follows_current_version_when_corrected(w: World) -> None:
    submit(w)
    submit(w, person(WORKER, record("495", pay=310_000)), reference="ref-2", corrects=1)
    with w.store.unit() as unit:
        quarters = unit.worker_quarters.of_worker(WORKER, Q)
    # the correction's figures: 60 days (6,000), 456 h (45,600), 3,100 EUR under code 001
    assert quarters == [
        EmployerQuarter(
            EMPLOYER,
            2,
            (WorkerCodeQuarter("495", 6_000, 45_600, (RemunerationTotal("001", 310_000),)),),
        )
    ]


def test_student_kept_by_correction_gets_new_figure_when_hours_change(w: World) -> None:
    submit(w, STUDENT_40H)
    submit(w, person(STUDENT, record("841", pay=50_000, hours=2_000)), reference="r2", corrects=1)
    assert [dict(r.entries) for r in w.store.state.quota] == [{STUDENT: 2_400}, {STUDENT: 1_200}]


def test_refused_version_is_stored_but_changes_nothing_else_when_a_rule_fails(w: World) -> None:
    w.network.register[WORKER] = PersonCheck(PersonOutcome.NOT_FOUND)
    v = submit(w, person(WORKER), STUDENT_40H)
    assert (v.number, v.status, v.current) == (1, Status.REFUSED, False)
    assert [a.code for a in v.anomalies] == ["WORKER_UNKNOWN"]
    assert v.totals.workers == 2  # computed for information
    stored = w.store.state.versions[0]
    assert stored.anomalies == v.anomalies and len(stored.workers) == 2
    assert w.store.declaration() == DeclarationState(1, None)
    assert w.store.state.events == [] and w.store.state.quota == []
    assert w.store.state.quarters == {} and w.woken == []
    del w.network.register[WORKER]
    fixed = submit(w, person(WORKER), STUDENT_40H, reference="ref-2")  # an original again
    assert (fixed.number, fixed.status, fixed.current) == (2, Status.ACCEPTED, True)


def test_refused_correction_leaves_current_version_when_a_rule_fails(w: World) -> None:
    submit(w)
    w.network.dimona.clear()
    refused = submit(w, reference="ref-2", corrects=1, cover=False)
    assert (refused.number, refused.status, refused.current) == (2, Status.REFUSED, False)
    v1 = w.store.versions()[0]
    assert (v1.current, v1.superseded_by) == (True, None)
    assert w.store.declaration() == DeclarationState(2, 1)
    assert len(w.store.state.events) == 1
    again = submit(w, reference="ref-3", corrects=1)  # the current one is still 1
    assert (again.number, again.corrects, again.current) == (3, 1, True)
    assert w.store.versions()[0].superseded_by == 3


# -- the network -------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["persons", "periods", "student_balances"])
def test_nothing_is_stored_when_a_cross_check_is_unavailable(w: World, call: str) -> None:
    w.network.down.add(call)
    with pytest.raises(Unavailable) as err:
        submit(w, person(WORKER), STUDENT_40H)
    assert err.value.reason == "CROSS_CHECK_UNAVAILABLE"
    assert nothing_stored(w) and w.store.locks == 0 and w.woken == []
    w.network.down.clear()
    assert submit(w, person(WORKER), STUDENT_40H).status is Status.ACCEPTED  # same reference


class CountedInsz(str):
    """An INSZ that counts how often it is compared for equality."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedInsz.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_cross_checks_compare_each_insz_a_bounded_number_of_times_when_many_workers(
    w: World,
) -> None:
    # Who is a student was looked up in a sorted list of every INSZ: quadratic, ~2,000,000
    # comparisons for 2,000 workers, ~50 s of CPU for 50,000 (the most a declaration carries).
    many = tuple(
        Person(
            CountedInsz(
                make_insz(
                    birth_year=1960 + i // 900, birth_month=1, birth_day=1, serial=1 + i % 900
                )
            ),
            (),
        )
        for i in range(2_000)
    )
    CountedInsz.comparisons = 0
    found = w.declarations._cross_check(submission(*many))  # the step before the judgement
    assert CountedInsz.comparisons < 10 * len(many)
    assert len(found.persons) == 2_000 and found.students == {}


# -- who may declare ---------------------------------------------------------------------------


def test_employer_may_not_declare_for_another_when_certificate_names_itself(w: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        submit(w, caller=OTHER_CALLER)
    assert err.value.reason == "NOT_OWN_EMPLOYER"
    assert nothing_stored(w) and w.network.asked == []


def test_bureau_declares_for_employer_when_it_holds_a_mandate(w: World) -> None:
    v = submit(w, caller=BUREAU)
    assert v.status is Status.ACCEPTED and v.submitted_by == BUREAU.uri


def test_bureau_is_no_mandate_when_employer_gave_none(w: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        submit(w, caller=LONE_BUREAU)
    assert err.value.reason == "NO_MANDATE"
    assert nothing_stored(w)


def test_bureau_is_no_mandate_when_mandate_starts_after_today(w: World) -> None:
    w.store.state.mandates.append((OTHER_EMPLOYER, BUREAU.id, dt.date(2026, 4, 16)))
    with pytest.raises(PermissionDenied) as err:
        submit(w, caller=BUREAU, employer=OTHER_EMPLOYER)
    assert err.value.reason == "NO_MANDATE"


@pytest.mark.parametrize(
    "caller",
    [ONSS, Caller(PartyKind.ROUTER, "cbss"), Caller(PartyKind.ADMIN, "ops"),
     Caller(PartyKind.INSTITUTION, "onem")],
)  # fmt: skip
def test_others_are_not_authorised_when_they_declare(w: World, caller: Caller) -> None:
    with pytest.raises(PermissionDenied) as err:
        submit(w, caller=caller)
    assert err.value.reason == "NOT_AUTHORISED"
    assert nothing_stored(w)


def test_unknown_employer_is_not_found_when_it_declares_for_itself(w: World) -> None:
    stranger = make_onss_number(5_000)
    with pytest.raises(NotFound) as err:
        submit(w, caller=Caller(PartyKind.EMPLOYER, stranger), employer=stranger)
    assert err.value.reason == "EMPLOYER_NOT_FOUND"


# -- people at the portal ----------------------------------------------------------------------

JAN, ANNA = "70020304588", "75112004636"  # people acting for EMPLOYER at the portal


def portal(role: str, person_insz: str = JAN, employer: str = EMPLOYER) -> Caller:
    return Caller(PartyKind.EMPLOYER, employer, via_gateway=True, person=person_insz, role=role)


def test_reader_is_refused_read_only_role_and_nothing_is_asked_or_stored_when_declaring(
    w: World,
) -> None:
    with pytest.raises(PermissionDenied) as err:
        submit(w, caller=portal("reader"))
    assert err.value.reason == "READ_ONLY_ROLE"
    assert nothing_stored(w) and w.network.asked == []


def test_declarant_declares_and_is_recorded_as_acting_person_when_at_the_portal(
    w: World,
) -> None:
    v = submit(w, caller=portal("declarant"))
    assert v.status is Status.ACCEPTED
    assert (v.submitted_by, v.acting_person) == (ME.uri, JAN)
    assert [x.version.acting_person for x in w.store.state.versions] == [JAN]
    # Resent by another person or by the certificate: the stored version, its first filer.
    assert submit(w, caller=portal("declarant", ANNA)) == v
    assert submit(w) == v and len(w.store.state.versions) == 1
    # A certificate records nobody.
    assert submit(w, reference="ref-2", quarter=Quarter(2025, 4)).acting_person == ""


# -- races -------------------------------------------------------------------------------------


def test_lost_race_is_retried_when_storage_reports_a_conflict(w: World) -> None:
    w.store.conflicts = 2
    v = submit(w)
    assert v.number == 1 and v.current and w.store.locks == 3


def test_busy_declaration_is_unavailable_when_every_attempt_conflicts(w: World) -> None:
    w.store.conflicts = 5
    with pytest.raises(Unavailable) as err:
        submit(w)
    assert err.value.reason == "BUSY"
    assert not w.store.state.versions and w.store.locks == 5


def _rival(w: World) -> Declarations:
    """Another server over the same store, whose network does not call back."""
    network = FakeNetwork()
    network.dimona = w.network.dimona  # the same Dimona periods
    return Declarations(w.store.unit, w.store.unit, network, TABLES, w.clock)


def test_original_is_declaration_exists_when_another_was_accepted_during_cross_checks(
    w: World,
) -> None:
    rival = _rival(w)

    def meanwhile() -> None:
        w.network.during_periods = None
        assert rival.submit(ME, submission(person(), reference="rival")).current

    w.network.during_periods = meanwhile
    try:
        with pytest.raises(FailedPrecondition) as err:
            submit(w)
    finally:
        rival.close()
    assert err.value.reason == "DECLARATION_EXISTS"
    assert [v.submission_reference for v in w.store.versions()] == ["rival"]


def test_same_submission_answers_winner_when_it_was_stored_during_cross_checks(
    w: World,
) -> None:
    rival = _rival(w)
    winner: list[Version] = []

    def meanwhile() -> None:
        w.network.during_periods = None
        winner.append(rival.submit(ME, submission(person())))
        assert winner[0].current

    w.network.during_periods = meanwhile
    try:
        v = submit(w)
    finally:
        rival.close()
    assert v == winner[0] and len(w.store.state.versions) == 1
