"""A mutuality's rules without a database or a network: who is whose member, the affiliation on
a reference date, and integrating members at the hub once each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import pytest

from mutuality.service import membership
from mutuality.service.affiliations import AffiliationQueries
from mutuality.service.integration import BATCH, integrate
from mutuality.service.model import Affiliation, Insurability, Role
from registry.seed.population import (
    FIXED_MAN,
    FIXED_PERSONS,
    FIXED_WOMAN,
    FIXED_WOMAN_2006,
    generate,
)
from runtime.clock import FixedClock
from runtime.errors import InvalidArgument, NotFound, Unavailable

CLOCK = FixedClock(dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC))


def _population(count: int = 2000) -> list[str]:
    return [
        p.record.insz
        for p in generate(count, 1)
        if p.record.death_date is None and p.record.replaced_by is None
    ]


def test_members_are_disjoint_and_about_45_percent_each_when_drawn_from_the_population() -> None:
    people = _population()
    first = {a.insz for a in membership.members("mut-100", people)}
    second = {a.insz for a in membership.members("mut-200", people)}
    assert not first & second
    assert 0.40 < len(first) / len(people) < 0.50
    assert 0.40 < len(second) / len(people) < 0.50
    assert membership.members("mut-100", reversed(people)) == membership.members("mut-100", people)


def test_fixed_persons_are_placed_by_hand_when_the_docs_name_them() -> None:
    fixed = [p.record.insz for p in FIXED_PERSONS]
    assert [a.insz for a in membership.members("mut-100", fixed)].count(FIXED_MAN) == 1
    assert FIXED_MAN not in {a.insz for a in membership.members("mut-200", fixed)}
    assert membership.mutuality_of(FIXED_WOMAN) == "mut-200"
    assert membership.mutuality_of(FIXED_WOMAN_2006) is None
    man = membership.affiliation("mut-100", FIXED_MAN)
    assert (man.since, man.role, man.insurability) == (
        dt.date(2003, 9, 1),
        Role.HOLDER,
        Insurability.INSURED,
    )


def test_minors_are_dependents_insured_from_birth_when_under_18() -> None:
    people = _population()
    for a in membership.members("mut-100", people) + membership.members("mut-200", people):
        born = membership.identifiers.parse_insz(a.insz).birth_date
        assert a.since <= membership.REFERENCE_DATE
        if a.role is Role.DEPENDENT:
            assert a.since == born
        elif born is not None:
            assert a.since >= born


def test_unknown_mutuality_is_refused_when_seeding() -> None:
    with pytest.raises(ValueError, match="not a demonstration mutuality"):
        membership.members("mut-999", [FIXED_MAN])


@dataclass
class FakeStore:
    rows: list[Affiliation] = field(default_factory=list)

    def for_person(self, insz: str) -> list[Affiliation]:
        return sorted((a for a in self.rows if a.insz == insz), key=lambda a: a.since)

    def not_integrated(self, limit: int) -> list[Affiliation]:
        return [a for a in self.rows if a.integrated_at is None][:limit]

    def mark_integrated(self, affiliations: Sequence[Affiliation], at: object) -> None:
        keys = {(a.insz, a.since) for a in affiliations}
        self.rows = [
            replace(a, integrated_at=at) if (a.insz, a.since) in keys else a for a in self.rows
        ]


@dataclass
class FakeUnit:
    affiliations: FakeStore


def _unit(store: FakeStore):  # noqa: ANN202
    @contextmanager
    def unit() -> Iterator[FakeUnit]:
        yield FakeUnit(store)

    return unit


def _member(insz: str, since: dt.date, until: dt.date | None = None) -> Affiliation:
    return Affiliation("mut-100", insz, since, until, Role.HOLDER, Insurability.INSURED)


def test_affiliation_on_the_reference_date_when_the_person_was_a_member_then() -> None:
    store = FakeStore(
        [
            _member(FIXED_MAN, dt.date(2003, 9, 1), dt.date(2010, 12, 31)),
            _member(FIXED_MAN, dt.date(2015, 1, 1)),
        ]
    )
    queries = AffiliationQueries("mut-100", _unit(store), CLOCK)
    assert queries.get(FIXED_MAN, dt.date(2005, 1, 1)).until == dt.date(2010, 12, 31)
    assert queries.get(FIXED_MAN, None).since == dt.date(2015, 1, 1)  # today
    with pytest.raises(NotFound) as err:
        queries.get(FIXED_MAN, dt.date(2012, 6, 1))  # between the two periods
    assert err.value.reason == "NOT_A_MEMBER"
    assert err.value.metadata == {"mutuality": "mut-100", "reference_date": "2012-06-01"}


def test_not_a_member_when_the_mutuality_does_not_know_the_person() -> None:
    queries = AffiliationQueries("mut-100", _unit(FakeStore()), CLOCK)
    with pytest.raises(NotFound) as err:
        queries.get(FIXED_WOMAN, None)
    assert err.value.reason == "NOT_A_MEMBER"


def test_malformed_insz_is_invalid_when_asked() -> None:
    queries = AffiliationQueries("mut-100", _unit(FakeStore()), CLOCK)
    with pytest.raises(InvalidArgument) as err:
        queries.get("85071412331", None)
    assert err.value.reason == "INSZ_CHECK_DIGITS"


@dataclass
class FakeHub:
    known: set[str] = field(default_factory=set)
    batches: list[int] = field(default_factory=list)
    refuse: bool = False

    def register(self, affiliations: Sequence[Affiliation]) -> tuple[int, int]:
        if self.refuse:
            raise Unavailable("HUB_REFUSED_INTEGRATION", "refused")
        self.batches.append(len(affiliations))
        new = {a.insz for a in affiliations} - self.known
        self.known |= new
        return len(new), len(affiliations) - len(new)


def test_members_are_integrated_once_in_batches_when_integrate_runs_twice() -> None:
    people = _population(2600)
    store = FakeStore(membership.members("mut-100", people))
    hub = FakeHub()
    report = integrate(_unit(store), hub, CLOCK)
    assert report.sent == report.added == len(store.rows) > BATCH
    assert max(hub.batches) == BATCH
    assert all(a.integrated_at == CLOCK.now() for a in store.rows)
    again = integrate(_unit(store), hub, CLOCK)
    assert (again.sent, again.added, again.unchanged) == (0, 0, 0)


def test_nothing_is_marked_integrated_when_the_hub_refuses() -> None:
    store = FakeStore([_member(FIXED_MAN, dt.date(2003, 9, 1))])
    with pytest.raises(Unavailable):
        integrate(_unit(store), FakeHub(refuse=True), CLOCK)
    assert store.rows[0].integrated_at is None
