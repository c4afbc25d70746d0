"""`python -m dimona seed-periods` without a database or a network: the quarter's plan (the
roster, the rules of each worker type, determinism, a slot of the population per quarter) and
its declaration through the real rules over the in-memory fakes (accepted, on time,
idempotent; a refusal is reported by its codes, exit status 1)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

import pytest

from dimona.seed import periods as seed
from dimona.service.calendar import brussels, quarter_bounds
from dimona.service.declarations import Declarations
from dimona.service.model import PeriodState, Status
from dimona.service.ports import PersonCheck, PersonOutcome
from dimona.service.rules import field_anomalies
from runtime.clock import FixedClock
from runtime.identifiers import make_insz, parse_insz
from tests.unit.dimona.fakes import FakeDimona, ScriptedIdentity

BRASSERIE, BOUW = seed.BRASSERIE, seed.BOUW
EXPECTED = {
    ("000100006", "OTH"): 9, ("000100006", "STU"): 2,
    ("000935467", "OTH"): 5, ("000935467", "STG"): 1,
    (BRASSERIE, "OTH"): 4, (BRASSERIE, "STU"): 2, (BRASSERIE, "FLX"): 1, (BRASSERIE, "EXT"): 1,
    (BOUW, "OTH"): 5, (BOUW, "DWD"): 1,
}  # fmt: skip


def population(size: int = 900) -> list[str]:
    """Persons born 1950-2009 (a third of them of student age on seed.AGES_ON), plus the
    demonstration persons the seed leaves out."""
    out = [
        make_insz(birth_year=1950 + i % 60, birth_month=1 + i % 12, birth_day=1 + i % 28, serial=i)
        for i in range(1, size + 1)
    ]
    return [*out, *seed.DEMONSTRATION]


def counts(planned: list[seed.Planned]) -> Counter[tuple[str, str]]:
    return Counter((p.employer, p.draft.worker_type.value) for p in planned)


def test_the_plan_follows_the_roster_and_the_rules_when_a_quarter_is_planned() -> None:
    planned = seed.plan(2025, 2, population())
    first, last = quarter_bounds(2025, 2)
    assert counts(planned) == EXPECTED
    assert [p.reference for p in planned] == [f"seed-2025Q2-{n:02d}" for n in range(1, 32)]
    assert len({p.worker for p in planned}) == 30  # the flexi worker holds two periods
    assert not {p.worker for p in planned} & seed.DEMONSTRATION
    for p in planned:
        d = p.draft
        assert field_anomalies(d, "dimona_in") == []
        assert d.start_date <= last and (d.end_date is None or d.end_date >= first)
        assert p.declared_at == brussels(min(first, d.start_date) - dt.timedelta(days=1), 480)
        if d.worker_type.value in ("STU", "EXT", "FLX", "STG"):
            assert first <= d.start_date and d.end_date is not None and d.end_date <= last
    flexi = next(p for p in planned if p.draft.worker_type.value == "FLX")
    main_job = [p for p in planned if p.worker == flexi.worker and p is not flexi]
    assert [(m.employer, m.draft.start_date) for m in main_job] == [
        ("000100006", dt.date(2024, 7, 1))
    ]


def test_the_plan_is_the_same_when_planned_again() -> None:
    people = population()
    assert seed.plan(2025, 2, people) == seed.plan(2025, 2, list(reversed(people)))


def test_quarters_share_no_worker_when_the_population_has_room() -> None:
    people = population()
    quarters = [(2024, 4), (2025, 1), (2025, 2), (2025, 3)]
    workers = [{p.worker for p in seed.plan(y, q, people)} for y, q in quarters]
    for i, mine in enumerate(workers):
        for other in workers[i + 1 :]:
            assert not mine & other


def test_a_population_too_small_is_an_error_when_planned() -> None:
    with pytest.raises(seed.SeedError):
        seed.plan(2025, 2, population(40))


def test_previous_quarter_is_the_calendar_quarter_before_today() -> None:
    assert seed.previous_quarter(dt.date(2025, 1, 15)) == (2024, 4)
    assert seed.previous_quarter(dt.date(2025, 8, 31)) == (2025, 2)


def _run(fake: FakeDimona, identity: ScriptedIdentity, planned: list[seed.Planned]) -> seed.Outcome:
    clock = FixedClock(planned[0].declared_at)
    declarations = Declarations(fake.unit, fake.unit, identity, clock)
    return seed.declare(declarations, fake.unit, clock, planned)


def test_every_in_is_accepted_on_time_and_a_second_run_adds_nothing_when_declared() -> None:
    fake, identity = FakeDimona(), ScriptedIdentity()
    planned = seed.plan(2025, 2, population())
    first = _run(fake, identity, planned)
    assert (first.declared, first.already, first.late, first.refused, first.warnings) == (
        31, 0, 0, [], [],
    )  # fmt: skip
    assert dict(first.accepted) == EXPECTED
    stored = list(fake.state.declarations.values())
    assert {d.status for d in stored} == {Status.ACCEPTED} and not any(d.late for d in stored)
    assert all(p.state is PeriodState.ACTIVE and not p.late for p in fake.state.periods.values())
    before = fake.counts()
    again = _run(fake, identity, planned)
    assert (again.declared, again.already, again.refused) == (0, 31, [])
    assert fake.counts() == before
    assert seed.report(2025, 2, again) == 0


class _RefusingOne(ScriptedIdentity):
    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    def check(self, insz: str) -> PersonCheck:
        if insz == self.refused:
            return PersonCheck(PersonOutcome.DECEASED)
        return super().check(insz)


def test_a_refused_in_is_reported_by_its_codes_when_declared(
    caplog: pytest.LogCaptureFixture,
) -> None:
    planned = seed.plan(2025, 2, population())
    victim = planned[4]
    outcome = _run(FakeDimona(), _RefusingOne(victim.worker), planned)
    assert outcome.refused == [(victim.reference, ("WORKER_DECEASED",))]
    assert outcome.declared == 30
    with caplog.at_level(logging.INFO, logger=seed.__name__):
        assert seed.report(2025, 2, outcome) == 1
    assert f"{victim.reference} not accepted: WORKER_DECEASED" in caplog.text
    assert victim.worker not in caplog.text


def test_an_unreachable_identity_stops_the_run_when_declared() -> None:
    identity = ScriptedIdentity()
    identity.down = True
    outcome = _run(FakeDimona(), identity, seed.plan(2025, 2, population()))
    assert outcome.refused == [("seed-2025Q2-01", ("IDENTITY_UNAVAILABLE",))]
    assert not outcome.ok


def test_the_sickness_demonstration_is_declared_once_and_kept_in_later_quarters() -> None:
    fake, identity = FakeDimona(), ScriptedIdentity()
    first = _run(fake, identity, [seed.demonstration(2025, 1)])
    assert (first.declared, first.already, first.refused) == (1, 0, [])
    [period] = [p for p in fake.state.periods.values() if p.worker == seed.SICKNESS_DEMO[0]]
    assert (period.employer, period.start_date, period.end_date) == (
        seed.SICKNESS_DEMO[1],
        dt.date(2025, 1, 1),
        None,
    )
    # The next quarter's seed finds her open-ended period: nothing declared, nothing refused
    # (a second IN would overlap it).
    later = _run(fake, identity, [seed.demonstration(2025, 2)])
    assert (later.declared, later.already, later.refused) == (0, 1, [])
    assert len([p for p in fake.state.periods.values() if p.worker == period.worker]) == 1


# --- `--workers N`: extra ordinary workers ---------------------------------------------------


def large_population(size: int, first_year: int = 1955, years: int = 50) -> list[str]:
    """`size` distinct persons (up to 16,800) born over `years` years from `first_year`, both
    sexes, plus the demonstration persons and the portal's people (never extra workers). Born
    1955-2004, students are scarcer than adults, as in the register's population: the roster's
    slots leave adults over."""
    out = [
        make_insz(
            birth_year=first_year + i % years,
            birth_month=1 + (i // years) % 12,
            birth_day=1 + (i // (years * 12)) % 28,
            serial=1 + (i // years) % 2,
        )
        for i in range(size)
    ]
    return [*out, *seed.EXTRA_EXCLUDED]


def extras(planned: list[seed.Planned]) -> list[seed.Planned]:
    return [p for p in planned if "-w" in p.reference]


def test_extra_workers_follow_the_roster_and_the_rules_when_planned() -> None:
    people = large_population(6000)
    roster = seed.plan(2025, 2, people)
    planned = seed.plan(2025, 2, people, workers=200)
    first, last = quarter_bounds(2025, 2)
    assert planned[: len(roster)] == roster  # the roster is untouched
    added = planned[len(roster) :]
    assert [p.reference for p in added] == [f"seed-2025Q2-w{n:04d}" for n in range(1, 201)]
    assert len({p.worker for p in planned}) == 30 + 200
    assert not {p.worker for p in added} & seed.EXTRA_EXCLUDED
    committees = {e: c for e, c, _share in seed.EXTRA_EMPLOYERS}
    # The shares 7:5:4:4 of 20, in a repeated order.
    assert Counter(p.employer for p in added) == {
        seed.RETAIL: 70, seed.STATE: 50, BOUW: 40, BRASSERIE: 40
    }  # fmt: skip
    ordinary = [p for p in added if p.draft.worker_type.value == "OTH"]
    students = [p for p in added if p.draft.worker_type.value == "STU"]
    assert len(ordinary) + len(students) == 200 and 0 < len(students) < 40
    late_hires = [p for p in ordinary if p.draft.start_date != first]
    assert len(late_hires) == len(ordinary) // seed.LATE_HIRE_EVERY
    for p in added:
        d = p.draft
        assert field_anomalies(d, "dimona_in") == []
        assert d.joint_committee == committees[p.employer]
        assert first <= d.start_date <= last and d.end_date == last  # never beyond the quarter
        assert p.declared_at == brussels(first - dt.timedelta(days=1), 480)
    for p in students:
        assert p.employer in seed.EXTRA_STUDENT_EMPLOYERS
        assert seed.AGES_ON.year - parse_insz(p.worker).birth_year < seed.EXTRA_STUDENT_UNDER
        assert p.draft.planned_hours and 40 <= p.draft.planned_hours <= 200
    sexes = Counter(parse_insz(p.worker).sex.value for p in added)
    assert sexes["MALE"] > 50 and sexes["FEMALE"] > 50
    ages = Counter((2025 - parse_insz(p.worker).birth_year) // 10 for p in added)
    assert len(ages) >= 4  # a spread of ages
    assert seed.plan(2025, 2, list(reversed(people)), workers=200) == planned


def test_extra_workers_hold_no_roster_slot_and_differ_between_quarters() -> None:
    people = large_population(6000)
    adults, students = seed.pools(people)
    slots = min(len(adults) // seed.ADULTS_PER_QUARTER, len(students) // seed.STUDENTS_PER_QUARTER)
    # Every roster slot, whichever quarter takes it.
    every_roster = {
        *adults[: slots * seed.ADULTS_PER_QUARTER],
        *students[: slots * seed.STUDENTS_PER_QUARTER],
    }
    quarters = [seed.shift_quarter(2024, 1, i) for i in range(seed.EXTRA_SLOTS + 2)]
    assert all({p.worker for p in seed.plan(y, q, people)} <= every_roster for y, q in quarters)
    assert len(seed.extra_pool(adults, students)) // seed.EXTRA_SLOTS >= 300
    added = [{p.worker for p in extras(seed.plan(y, q, people, 300))} for y, q in quarters]
    for i, mine in enumerate(added):
        assert len(mine) == 300 and not mine & every_roster
        for j in range(i + 1, min(i + seed.EXTRA_SLOTS, len(added))):
            assert not mine & added[j]
    # The extra slots wrap around after a year: the same workers, in periods that end with
    # their quarters (never overlapping).
    assert added[0] == added[seed.EXTRA_SLOTS]


def test_too_many_extra_workers_is_an_error_when_planned() -> None:
    people = population()  # 75 persons beyond the roster's slots: 18 a quarter
    adults, students = seed.pools(people)
    room = len(seed.extra_pool(adults, students)) // seed.EXTRA_SLOTS
    assert room == 18
    assert len(extras(seed.plan(2025, 2, people, room))) == room
    with pytest.raises(seed.SeedError, match="room for 18 extra workers a quarter, not 19"):
        seed.plan(2025, 2, people, room + 1)
    for wrong in (-1, seed.MAX_WORKERS + 1):
        with pytest.raises(seed.SeedError, match="--workers"):
            seed.plan(2025, 2, people, wrong)


def test_extra_workers_are_accepted_once_and_a_larger_number_adds_the_rest_when_declared() -> None:
    fake, identity = FakeDimona(), ScriptedIdentity()
    people = large_population(6000)
    planned = seed.plan(2025, 2, people, workers=40)
    first = _run(fake, identity, planned)
    assert (first.declared, first.already, first.late, first.refused, first.warnings) == (
        71, 0, 0, [], [],
    )  # fmt: skip
    assert sum(first.accepted.values()) == 71
    again = _run(fake, identity, planned)
    assert (again.declared, again.already, again.refused) == (0, 71, [])
    more = _run(fake, identity, seed.plan(2025, 2, people, workers=50))
    assert (more.declared, more.already, more.refused) == (10, 71, [])
    stored = list(fake.state.declarations.values())
    assert len(stored) == 81 and {d.status for d in stored} == {Status.ACCEPTED}
