"""The declaration rules on in-memory fakes with a fixed clock: identity, permissions and
mandates, idempotency, characteristic changes, overlaps, the student quota across years and
employers, flexi-jobs, occasional days, deadlines and holidays, the event log."""

from __future__ import annotations

import datetime as dt

import pytest

from dimona.service.model import EventKind, FlexiContract, PeriodState, Status, WorkerType
from runtime.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.identity import Caller, PartyKind
from tests.unit.dimona.builders import (
    dcancel,
    din,
    dout,
    dupdate,
    identification,
    submission,
)
from tests.unit.dimona.fakes import (
    BIS,
    BUREAU,
    DECEASED,
    ONSS,
    OTHER_WORKER,
    REPLACED,
    REPLACEMENT,
    RETAIL,
    STATE,
    UNKNOWN,
    WORKER,
    World,
    world,
)

HORECA = "001234567"  # seed.data: Brasserie du Sablon (302)
HORECA_CALLER = Caller(PartyKind.EMPLOYER, "123456796")


@pytest.fixture
def w() -> World:
    return world()


def declare(w: World, form: object, ref: str = "ref-1", caller: Caller = RETAIL,
            employer: str | None = None):  # fmt: skip  # noqa: ANN201
    return w.declarations.submit(caller, submission(form, ref, employer or caller.id))


def codes(declaration) -> list[str]:  # noqa: ANN001
    return [a.code for a in declaration.anomalies]


def open_in(w: World, ref: str = "in-1", **changes: object):  # noqa: ANN201
    changes.setdefault("start", dt.date(2025, 6, 3))
    result = declare(w, din(**changes), ref)
    assert result.status is Status.ACCEPTED, codes(result)
    return result


# -- acceptance, identity ------------------------------------------------------------------


def test_in_opens_a_period_with_event_and_outbox_when_accepted(w: World) -> None:
    result = open_in(w)
    assert result.period_id == 1 and result.worker == WORKER
    assert result.period is not None and result.period.state is PeriodState.ACTIVE
    assert result.submitted_by == RETAIL.uri and not result.late
    assert w.fake.counts() == (1, 1, 1, 1)
    assert [e.kind for e in w.fake.state.events] == [EventKind.STARTED]
    assert w.woken == [1]
    assert w.identity.checked == [WORKER]


@pytest.mark.parametrize(
    ("insz", "code", "value"),
    [
        (DECEASED, "WORKER_DECEASED", ""),
        (REPLACED, "WORKER_INSZ_REPLACED", REPLACEMENT),
        (UNKNOWN, "WORKER_NOT_FOUND", ""),
    ],
)
def test_in_is_refused_and_stored_when_worker_identity_fails(
    w: World, insz: str, code: str, value: str
) -> None:
    result = declare(w, din(insz=insz))
    assert result.status is Status.REFUSED and result.period_id == 0
    assert [(a.code, a.value) for a in result.anomalies] == [(code, value)]
    assert w.fake.counts() == (1, 0, 0, 0)  # stored, but no period, event or outbox
    assert w.woken == []


def test_worker_without_insz_gets_the_number_found_or_issued_when_identified(w: World) -> None:
    result = declare(w, din(identification=identification()))
    assert result.status is Status.ACCEPTED and result.worker == BIS
    ((person, request_id),) = w.identity.identified
    assert person.last_name == "Kowalski" and request_id.startswith("dimona-")


def test_refused_identification_is_a_blocking_anomaly_when_registry_refuses(w: World) -> None:
    w.identity.refuse_identification = "INVALID_NAME"
    result = declare(w, din(identification=identification()))
    assert result.status is Status.REFUSED
    assert [(a.code, a.value) for a in result.anomalies] == [
        ("WORKER_IDENTIFICATION_REFUSED", "INVALID_NAME")
    ]


def test_nothing_is_stored_when_identity_cannot_be_checked(w: World) -> None:
    w.identity.down = True
    with pytest.raises(Unavailable):
        declare(w, din())
    assert w.fake.counts() == (0, 0, 0, 0)


def test_malformed_declaration_stores_nothing_when_refused(w: World) -> None:
    with pytest.raises(InvalidArgument):
        declare(w, din(insz="12345678901"))
    assert w.fake.counts() == (0, 0, 0, 0) and w.identity.checked == []


# -- who may declare -----------------------------------------------------------------------


def test_employer_declares_only_for_itself_when_naming_another(w: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(), caller=RETAIL, employer=STATE.id)
    assert err.value.reason == "NOT_OWN_EMPLOYER"


def test_bureau_declares_for_a_mandator_when_mandate_is_stored(w: World) -> None:
    result = declare(w, din(), caller=BUREAU, employer=RETAIL.id)
    assert result.status is Status.ACCEPTED and result.submitted_by == BUREAU.uri
    assert result.employer == RETAIL.id


def test_bureau_is_refused_when_employer_gave_no_mandate(w: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(), caller=BUREAU, employer=STATE.id)
    assert err.value.reason == "NO_MANDATE"
    assert w.fake.counts() == (0, 0, 0, 0)


def test_institutions_do_not_declare_when_calling_directly(w: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(), caller=ONSS, employer=RETAIL.id)
    assert err.value.reason == "NOT_AUTHORISED"


def test_unregistered_employer_is_not_found_when_it_declares_for_itself(w: World) -> None:
    from runtime.identifiers import make_onss_number

    stranger = Caller(PartyKind.EMPLOYER, make_onss_number(1_999_999))
    with pytest.raises(NotFound) as err:
        declare(w, din(), caller=stranger)
    assert err.value.reason == "EMPLOYER_NOT_FOUND"


# -- people at the portal ------------------------------------------------------------------

JAN = "70020304588"  # a person acting for RETAIL at the portal
ANNA = "75112004636"


def portal(role: str, person: str = JAN, employer: str = RETAIL.id) -> Caller:
    return Caller(PartyKind.EMPLOYER, employer, via_gateway=True, person=person, role=role)


def test_reader_is_refused_read_only_role_and_nothing_is_asked_or_stored_when_declaring(
    w: World,
) -> None:
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(), caller=portal("reader"))
    assert err.value.reason == "READ_ONLY_ROLE"
    assert w.fake.counts() == (0, 0, 0, 0) and w.identity.checked == []


def test_reader_of_another_employer_is_refused_as_not_its_employer_when_declaring(
    w: World,
) -> None:
    # The may-act-for check comes first: the role is the person's role for *their* employer.
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(), caller=portal("reader"), employer=STATE.id)
    assert err.value.reason == "NOT_OWN_EMPLOYER"


def test_declarant_declares_and_is_recorded_as_acting_person_when_at_the_portal(
    w: World,
) -> None:
    result = declare(w, din(start=dt.date(2025, 6, 3)), "in-1", caller=portal("declarant"))
    assert result.status is Status.ACCEPTED
    assert (result.submitted_by, result.acting_person) == (RETAIL.uri, JAN)
    assert w.fake.state.declarations[(RETAIL.id, "in-1")].acting_person == JAN
    # A certificate records nobody.
    assert declare(w, din(start=dt.date(2025, 6, 10)), "in-2").acting_person == ""


def test_resubmission_by_another_person_answers_the_first_filing_when_content_is_the_same(
    w: World,
) -> None:
    first = declare(w, din(start=dt.date(2025, 6, 3)), "in-1", caller=portal("declarant"))
    again = declare(w, din(start=dt.date(2025, 6, 3)), "in-1", caller=portal("declarant", ANNA))
    by_certificate = declare(w, din(start=dt.date(2025, 6, 3)), "in-1")
    assert again == first == by_certificate and again.acting_person == JAN
    assert w.fake.counts()[0] == 1
    # A reader is refused even what would only be a replay.
    with pytest.raises(PermissionDenied) as err:
        declare(w, din(start=dt.date(2025, 6, 3)), "in-1", caller=portal("reader"))
    assert err.value.reason == "READ_ONLY_ROLE"


def test_reader_reads_the_employers_periods_when_at_the_portal(w: World) -> None:
    declared = open_in(w)
    period = w.queries.get_period(portal("reader"), f"employers/{RETAIL.id}/periods/1")
    assert period.period_id == declared.period_id


# -- idempotency ---------------------------------------------------------------------------


def test_same_reference_and_content_returns_the_first_answer_when_retried(w: World) -> None:
    first = open_in(w)
    declare(w, dout(first.period_id, dt.date(2025, 6, 30)), "out-1")
    again = declare(w, din(start=dt.date(2025, 6, 3)), "in-1")
    assert again == first and again.period == first.period  # the answer as it was first given
    assert again.period is not None and again.period.end_date is None
    assert w.identity.checked == [WORKER]  # not asked again
    assert w.fake.counts()[:3] == (2, 1, 2)


def test_same_reference_with_other_content_is_refused_when_reused(w: World) -> None:
    open_in(w)
    with pytest.raises(AlreadyExists) as err:
        declare(w, din(start=dt.date(2025, 6, 4)), "in-1")
    assert err.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert w.fake.counts() == (1, 1, 1, 1)


def test_references_are_per_employer_when_two_employers_use_the_same(w: World) -> None:
    open_in(w)
    other = declare(w, din(start=dt.date(2025, 6, 3)), "in-1", caller=STATE)
    assert other.status is Status.ACCEPTED and other.period_id == 2


# -- characteristics and overlaps ----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("joint_committee", "302"),
        ("worker_type", WorkerType.DWD),
        ("sub_entity", "42"),
        ("using_employer", "0203201340"),
    ],
)
def test_characteristic_change_is_refused_when_declared_as_update(
    w: World, field: str, value: object
) -> None:
    period_id = open_in(w).period_id
    result = declare(w, dupdate(period_id, **{field: value}), "upd-1")
    assert result.status is Status.REFUSED
    assert [(a.code, a.field) for a in result.anomalies] == [
        ("CHARACTERISTIC_CHANGED", f"dimona_update.{field}")
    ]
    assert w.fake.state.periods[period_id].joint_committee == "200"
    assert len(w.fake.state.events) == 1


def test_same_characteristic_restated_is_accepted_when_updating_dates(w: World) -> None:
    period_id = open_in(w).period_id
    result = declare(
        w, dupdate(period_id, joint_committee="200", end_date=dt.date(2025, 9, 30)), "upd-1"
    )
    assert result.status is Status.ACCEPTED
    assert w.fake.state.periods[period_id].end_date == dt.date(2025, 9, 30)


def test_overlapping_in_is_refused_when_employer_committee_and_type_match(w: World) -> None:
    first = open_in(w, end=dt.date(2025, 6, 30))
    result = declare(w, din(start=dt.date(2025, 6, 20)), "in-2")
    assert result.status is Status.REFUSED
    assert [(a.code, a.value) for a in result.anomalies] == [
        ("OVERLAPPING_PERIOD", str(first.period_id))
    ]


@pytest.mark.parametrize(
    ("changes", "caller"),
    [({"jc": "201"}, RETAIL), ({"worker_type": WorkerType.DWD}, RETAIL), ({}, STATE)],
)
def test_overlap_is_allowed_when_committee_type_or_employer_differ(
    w: World, changes: dict[str, object], caller: Caller
) -> None:
    open_in(w, end=dt.date(2025, 6, 30))
    result = declare(w, din(start=dt.date(2025, 6, 20), **changes), "in-2", caller=caller)
    assert result.status is Status.ACCEPTED


def test_cancelled_period_does_not_overlap_when_redeclared(w: World) -> None:
    first = open_in(w)
    assert declare(w, dcancel(first.period_id), "cancel-1").status is Status.ACCEPTED
    assert declare(w, din(start=dt.date(2025, 6, 3)), "in-2").status is Status.ACCEPTED


# -- OUT, UPDATE, CANCEL -------------------------------------------------------------------


def test_out_update_cancel_are_numbered_events_when_accepted(w: World) -> None:
    period_id = open_in(w).period_id
    assert declare(w, dout(period_id, dt.date(2025, 6, 30)), "o").status is Status.ACCEPTED
    assert (
        declare(w, dupdate(period_id, end_date=dt.date(2025, 7, 31)), "u").status is Status.ACCEPTED
    )
    assert declare(w, dcancel(period_id), "c").status is Status.ACCEPTED
    events = w.fake.state.events
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert [e.kind for e in events] == [
        EventKind.STARTED,
        EventKind.ENDED,
        EventKind.CHANGED,
        EventKind.CANCELLED,
    ]
    assert events[2].period.end_date == dt.date(2025, 7, 31)
    assert events[3].period.state is PeriodState.CANCELLED


@pytest.mark.parametrize(
    ("form", "code"),
    [
        (dout(99, dt.date(2025, 6, 30)), "PERIOD_NOT_FOUND"),
        (dcancel(99), "PERIOD_NOT_FOUND"),
        (dout(1, dt.date(2025, 6, 30), insz=OTHER_WORKER), "WORKER_MISMATCH"),
        (dout(1, dt.date(2025, 6, 1)), "END_BEFORE_START"),
    ],
)
def test_out_and_cancel_are_refused_with_their_reason_when_rule_broken(
    w: World, form: object, code: str
) -> None:
    open_in(w)
    result = declare(w, form, "x")
    assert result.status is Status.REFUSED and codes(result) == [code]


def test_another_employers_period_is_not_found_when_named(w: World) -> None:
    period_id = open_in(w).period_id
    result = declare(w, dcancel(period_id), "x", caller=STATE)
    assert codes(result) == ["PERIOD_NOT_FOUND"] and result.period_id == 0
    assert w.fake.state.periods[period_id].state is PeriodState.ACTIVE


def test_second_out_and_changes_after_cancel_are_refused_when_declared(w: World) -> None:
    period_id = open_in(w).period_id
    declare(w, dout(period_id, dt.date(2025, 6, 30)), "o1")
    assert codes(declare(w, dout(period_id, dt.date(2025, 7, 1)), "o2")) == ["PERIOD_ALREADY_ENDED"]
    declare(w, dcancel(period_id), "c1")
    assert codes(declare(w, dcancel(period_id), "c2")) == ["PERIOD_CANCELLED"]
    assert codes(declare(w, dupdate(period_id, end_date=dt.date(2025, 8, 1)), "u")) == [
        "PERIOD_CANCELLED"
    ]


def test_update_that_makes_an_overlap_is_refused_when_declared(w: World) -> None:
    open_in(w, "a", start=dt.date(2025, 6, 3), end=dt.date(2025, 6, 10))
    second = open_in(w, "b", start=dt.date(2025, 6, 20), end=dt.date(2025, 6, 30))
    result = declare(w, dupdate(second.period_id, start_date=dt.date(2025, 6, 9)), "u")
    assert codes(result) == ["OVERLAPPING_PERIOD"]


# -- student quota -------------------------------------------------------------------------


def stu(start: dt.date, end: dt.date, hours: int, **kw: object):  # noqa: ANN201
    return din(worker_type=WorkerType.STU, jc="202", start=start, end=end, hours=hours, **kw)


@pytest.mark.parametrize(("year", "quota"), [(2022, 475), (2024, 600), (2025, 650)])
def test_quota_is_counted_across_employers_and_warned_when_exceeded(
    year: int, quota: int, w: World
) -> None:
    w.clock.set(dt.datetime(year, 1, 2, 8, tzinfo=dt.UTC))
    first = declare(w, stu(dt.date(year, 2, 1), dt.date(year, 2, 28), quota - 10), "a")
    assert first.status is Status.ACCEPTED
    at_quota = declare(w, stu(dt.date(year, 4, 1), dt.date(year, 4, 30), 10), "b", caller=STATE)
    assert at_quota.status is Status.ACCEPTED  # exactly the quota: no warning
    over = declare(w, stu(dt.date(year, 7, 1), dt.date(year, 7, 31), 25), "c")
    assert over.status is Status.ACCEPTED_WITH_WARNINGS
    assert [(a.code, a.value) for a in over.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "25")]
    assert over.period is not None and over.period.exceeding_minutes == 25 * 60
    balance = w.queries.student_balance(RETAIL, "employers/000100006", WORKER, year)
    assert (balance.quota_hours, balance.used_minutes) == (quota, (quota + 25) * 60)
    assert balance.exceeding_minutes == 25 * 60 and balance.remaining_minutes == 0
    assert balance.quarter_minutes == ((quota - 10) * 60, 10 * 60, 25 * 60, 0)


def test_quota_restarts_each_year_when_hours_were_used_the_year_before(w: World) -> None:
    w.clock.set(dt.datetime(2024, 10, 1, 8, tzinfo=dt.UTC))
    declare(w, stu(dt.date(2024, 10, 2), dt.date(2024, 12, 31), 600), "a")
    result = declare(w, stu(dt.date(2025, 1, 2), dt.date(2025, 1, 31), 100), "b")
    assert result.status is Status.ACCEPTED


def test_partial_excess_counts_only_hours_beyond_the_quota_when_period_crosses_it(
    w: World,
) -> None:
    declare(w, stu(dt.date(2025, 7, 1), dt.date(2025, 7, 31), 640), "a")
    result = declare(w, stu(dt.date(2025, 8, 1), dt.date(2025, 8, 31), 20), "b", caller=STATE)
    assert [(a.code, a.value) for a in result.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "10")]


def test_occasional_student_day_hours_count_against_the_quota_when_stx(w: World) -> None:
    declare(w, stu(dt.date(2025, 7, 1), dt.date(2025, 7, 31), 650), "a")
    stx = din(worker_type=WorkerType.STX, jc="302", start=dt.date(2025, 8, 4),
              start_time="10:00", end_time="14:30")  # fmt: skip
    result = declare(w, stx, "b", caller=STATE)
    assert [(a.code, a.value) for a in result.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "4.5")]


def test_cancelled_student_hours_free_the_quota_when_cancelled(w: World) -> None:
    first = declare(w, stu(dt.date(2025, 7, 1), dt.date(2025, 7, 31), 650), "a")
    declare(w, dcancel(first.period_id), "c")
    result = declare(w, stu(dt.date(2025, 8, 1), dt.date(2025, 8, 31), 100), "b")
    assert result.status is Status.ACCEPTED


def test_planned_hours_update_recounts_the_quota_when_raised(w: World) -> None:
    first = declare(w, stu(dt.date(2025, 7, 1), dt.date(2025, 7, 31), 600), "a")
    result = declare(w, dupdate(first.period_id, planned_hours=700), "u")
    assert [(a.code, a.value) for a in result.anomalies] == [("STUDENT_QUOTA_EXCEEDED", "50")]
    assert w.fake.state.periods[first.period_id].student_minutes == 700 * 60


def test_student_balance_is_refused_when_employer_never_employed_the_worker(w: World) -> None:
    declare(w, stu(dt.date(2025, 7, 1), dt.date(2025, 7, 31), 10), "a")
    with pytest.raises(PermissionDenied) as err:
        w.queries.student_balance(STATE, "employers/000935467", WORKER, 2025)
    assert err.value.reason == "NOT_WORKERS_EMPLOYER"
    assert w.queries.worker_student_balance(WORKER, 2025).used_minutes == 600


# -- flexi, occasional ---------------------------------------------------------------------


def flx(start: dt.date, end: dt.date) -> object:
    return din(worker_type=WorkerType.FLX, jc="302", start=start, end=end,
               flexi=FlexiContract.WRITTEN)  # fmt: skip


def test_flexi_is_accepted_without_warning_when_t3_employment_elsewhere_is_enough(
    w: World,
) -> None:
    w.clock.set(dt.datetime(2024, 6, 1, 8, tzinfo=dt.UTC))
    # 14 days off in Q3 2024 (T-3 of Q2 2025): 78 of 92 days covered, more than 4/5.
    declare(w, din(start=dt.date(2024, 7, 1), end=dt.date(2024, 8, 31)), "a", caller=STATE)
    declare(w, din(start=dt.date(2024, 9, 15)), "b", caller=STATE)
    result = declare(w, flx(dt.date(2025, 6, 3), dt.date(2025, 6, 30)), "flx")
    assert result.status is Status.ACCEPTED, codes(result)
    w.clock.set(dt.datetime(2025, 6, 1, 8, tzinfo=dt.UTC))
    short = declare(w, flx(dt.date(2025, 7, 1), dt.date(2025, 7, 31)), "flx2")  # T-3 = Q4 2024
    assert codes(short) == []


def test_flexi_is_warned_when_t3_employment_is_missing_or_with_the_same_employer(
    w: World,
) -> None:
    w.clock.set(dt.datetime(2024, 6, 1, 8, tzinfo=dt.UTC))
    declare(w, din(start=dt.date(2024, 7, 1)), "oth")  # the same employer: does not count
    result = declare(w, flx(dt.date(2025, 6, 3), dt.date(2025, 6, 30)), "flx")
    assert result.status is Status.ACCEPTED_WITH_WARNINGS
    assert [(a.code, a.value) for a in result.anomalies] == [
        ("FLEXI_EMPLOYMENT_INSUFFICIENT", "0%")
    ]


def test_third_consecutive_occasional_day_is_refused_when_same_employer(w: World) -> None:
    def day(n: int, ref: str, caller: Caller = RETAIL):  # noqa: ANN202
        form = din(worker_type=WorkerType.EXT, jc="302", start=dt.date(2025, 6, n),
                   start_time="18:00", end_time="23:00")  # fmt: skip
        return declare(w, form, ref, caller=caller)

    assert day(3, "d3").status is Status.ACCEPTED
    assert day(4, "d4").status is Status.ACCEPTED
    third = day(5, "d5")
    assert third.status is Status.REFUSED
    assert [(a.code, a.value) for a in third.anomalies] == [("TOO_MANY_CONSECUTIVE_DAYS", "3")]
    assert day(5, "d5", caller=STATE).status is Status.ACCEPTED  # another employer
    assert day(7, "d7").status is Status.ACCEPTED  # not consecutive


# -- deadlines (now: Monday 2 June 2025, 10:00 in Brussels) --------------------------------


def test_in_after_work_started_is_late_when_start_time_has_passed(w: World) -> None:
    result = declare(w, din(start=dt.date(2025, 6, 2), start_time="09:00"), "a")
    assert result.status is Status.ACCEPTED_WITH_WARNINGS and result.late
    assert codes(result) == ["LATE_DECLARATION"]
    assert result.deadline == dt.datetime(2025, 6, 2, 7, 0, tzinfo=dt.UTC)
    assert w.fake.state.periods[result.period_id].late


def test_in_before_work_starts_is_on_time_when_start_time_is_later(w: World) -> None:
    result = declare(w, din(start=dt.date(2025, 6, 2), start_time="11:00"), "a")
    assert result.status is Status.ACCEPTED and not result.late


def test_out_is_on_time_until_the_next_working_day_ends_when_a_holiday_intervenes(
    w: World,
) -> None:
    w.clock.set(dt.datetime(2025, 4, 1, 8, tzinfo=dt.UTC))
    period_id = open_in(w, start=dt.date(2025, 4, 2)).period_id
    # Last day Good Friday 18 April; Easter Monday is a holiday: due by Tuesday 22 April.
    w.clock.set(dt.datetime(2025, 4, 22, 21, 59, tzinfo=dt.UTC))  # 23:59 in Brussels
    on_time = declare(w, dout(period_id, dt.date(2025, 4, 18)), "o1")
    assert on_time.status is Status.ACCEPTED
    second = open_in(w, "in-2", start=dt.date(2025, 4, 28)).period_id
    w.clock.set(dt.datetime(2025, 5, 6, 8, tzinfo=dt.UTC))  # Tuesday after Friday 2 May
    late = declare(w, dout(second, dt.date(2025, 5, 2)), "o2")
    assert late.status is Status.ACCEPTED_WITH_WARNINGS and late.late


def test_cancel_after_the_start_date_is_late_when_declared(w: World) -> None:
    period_id = open_in(w, start=dt.date(2025, 6, 3)).period_id
    w.clock.set(dt.datetime(2025, 6, 3, 21, 0, tzinfo=dt.UTC))  # 23:00 on the start day
    assert declare(w, dcancel(period_id), "c").status is Status.ACCEPTED
    other = open_in(w, "in-2", start=dt.date(2025, 6, 4)).period_id
    w.clock.set(dt.datetime(2025, 6, 4, 22, 30, tzinfo=dt.UTC))  # 00:30 on 5 June
    late = declare(w, dcancel(other), "c2")
    assert late.status is Status.ACCEPTED_WITH_WARNINGS and codes(late) == ["LATE_DECLARATION"]


def test_update_moving_the_start_earlier_is_late_when_the_new_start_has_passed(
    w: World,
) -> None:
    period_id = open_in(w, start=dt.date(2025, 6, 10)).period_id
    result = declare(w, dupdate(period_id, start_date=dt.date(2025, 6, 1)), "u")
    assert result.late and result.status is Status.ACCEPTED_WITH_WARNINGS


# -- queries ---------------------------------------------------------------------------------


def test_employer_lists_only_its_own_periods_when_paginating(w: World) -> None:
    for i in range(5):
        open_in(w, f"r{i}", start=dt.date(2025, 7, 1 + 2 * i), end=dt.date(2025, 7, 1 + 2 * i))
    declare(w, din(start=dt.date(2025, 6, 3)), "s", caller=STATE)
    page = w.queries.list_periods(RETAIL, "employers/000100006", "", 2, "")
    ids = [p.period_id for p in page.periods]
    while page.next_page_token:
        page = w.queries.list_periods(RETAIL, "employers/000100006", "", 2, page.next_page_token)
        ids += [p.period_id for p in page.periods]
    assert ids == [1, 2, 3, 4, 5]
    with pytest.raises(InvalidArgument) as err:
        w.queries.list_periods(RETAIL, "employers/000100006", WORKER, 2, "bm90IGEgdG9rZW4")
    assert err.value.reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(PermissionDenied):
        w.queries.list_periods(RETAIL, "employers/000935467", "", 2, "")


def test_period_of_another_employer_is_not_found_when_read(w: World) -> None:
    period_id = open_in(w).period_id
    assert w.queries.get_period(RETAIL, f"employers/000100006/periods/{period_id}").worker == WORKER
    with pytest.raises(NotFound):
        w.queries.get_period(STATE, f"employers/000935467/periods/{period_id}")


def test_worker_periods_are_listed_over_a_range_when_consulted(w: World) -> None:
    open_in(w, "a", start=dt.date(2025, 6, 3), end=dt.date(2025, 6, 10))
    declare(w, din(start=dt.date(2025, 8, 1)), "b", caller=STATE)
    june = w.queries.list_worker_periods(WORKER, (2025, 6, 1), (2025, 6, 30), 10, "")
    assert [p.employer for p in june.periods] == [RETAIL.id]
    everything = w.queries.list_worker_periods(WORKER, None, None, 1, "")
    second = w.queries.list_worker_periods(WORKER, None, None, 1, everything.next_page_token)
    assert [p.employer for p in [*everything.periods, *second.periods]] == [RETAIL.id, STATE.id]
    with pytest.raises(InvalidArgument):
        w.queries.list_worker_periods(WORKER, (2025, 6, 30), (2025, 6, 1), 10, "")


def test_event_log_is_read_in_order_when_caller_may(w: World) -> None:
    period_id = open_in(w).period_id
    declare(w, dcancel(period_id), "c")
    events, last = w.queries.list_events(ONSS, 0, 1)
    assert [e.sequence for e in events] == [1] and last == 2
    events, _ = w.queries.list_events(ONSS, 1, 10)
    assert [e.kind for e in events] == [EventKind.CANCELLED]
    with pytest.raises(PermissionDenied):
        w.queries.list_events(RETAIL, 0, 10)
