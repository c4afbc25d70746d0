"""The socio-economic position on the quarter's last day, and the tables' categories."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from warehouse.service import categories
from warehouse.service.model import CodedPeriod, CodedPerson, CodedWorkerRecord, Quarter
from warehouse.service.positions import Position, derive_positions

Q = Quarter(2025, 2)
LAST = Q.last_day
A, B, C, D, E = (f"{ch * 32}" for ch in "ABCDE")


def _period(person: str, employer: str, kind: str = "OTH", jc: str = "200", start=None, end=None):  # noqa: ANN001, ANN202
    return CodedPeriod(person, employer, kind, jc, start or dt.date(2025, 1, 1), end)


def _positions(persons, periods, workers):  # noqa: ANN001, ANN202
    return {p.person: p for p in derive_positions(LAST, persons, periods, workers)}


def test_quarter_knows_its_last_day() -> None:
    assert Quarter(2025, 2).last_day == dt.date(2025, 6, 30)
    assert Quarter(2024, 4).last_day == dt.date(2024, 12, 31)
    assert Quarter(2024, 1).last_day == dt.date(2024, 3, 31)
    assert Quarter.parse("2025Q2") == Q and Quarter.parse("2025Q5") is None


def test_positions_follow_the_periods_covering_the_last_day() -> None:
    persons = [
        CodedPerson(A, 40, "FEMALE", "9000", "BE"),
        CodedPerson(B, 20, "MALE", "1000", "BE"),
        CodedPerson(C, 50, "MALE", "4000", "BE"),
        CodedPerson(D, 70, "FEMALE", "", ""),
    ]
    periods = [
        _period(A, "000100006", jc="202"),
        _period(B, "000100006", "STU", "202", dt.date(2025, 6, 2), dt.date(2025, 6, 30)),
        _period(C, "000100006", jc="202"),
        _period(C, "000935467", jc="XXX"),
        # Ended before the last day: not a job on that day.
        _period(D, "000100006", end=dt.date(2025, 5, 31)),
        # A person the register did not list (deceased during the quarter, say).
        _period(E, "000100006", "DWD", "124"),
    ]
    workers = [
        CodedWorkerRecord(A, "000100006", "495", 6500, 45600, 1_200_000),
        CodedWorkerRecord(C, "000100006", "015", 6500, 45600, 900_000),
        CodedWorkerRecord(C, "000935467", "495", 3000, 20000, 1_500_000),
        CodedWorkerRecord(D, "000100006", "015", 4000, 30000, 500_000),
    ]
    found = _positions(persons, periods, workers)
    assert found[A].position is Position.EMPLOYED
    assert (found[A].worker_class, found[A].joint_committee) == ("WHITE_COLLAR", "202")
    assert (found[A].age_band, found[A].sex, found[A].region) == ("35-44", "FEMALE", "FLANDERS")
    assert found[B].position is Position.STUDENT and found[B].worker_class == "STUDENT"
    assert found[B].region == "BRUSSELS" and found[B].age_band == "<25"
    # Two employers: the main job is the one that paid more (the public service, JC XXX).
    assert found[C].position is Position.SEVERAL_EMPLOYERS and found[C].employers == 2
    assert (found[C].worker_class, found[C].joint_committee) == ("WHITE_COLLAR", "XXX")
    assert found[C].pay == 2_400_000 and found[C].region == "WALLONIA"
    # Left during the quarter: not in work on the last day, but paid in the quarter.
    assert found[D].position is Position.NOT_IN_EMPLOYMENT and found[D].pay == 500_000
    assert (found[D].worker_class, found[D].region, found[D].age_band) == ("NONE", "UNKNOWN", "65+")
    # No DmfA record: the class from the type (DWD tells none); demographics unknown.
    assert found[E].position is Position.EMPLOYED
    assert (found[E].worker_class, found[E].sex, found[E].region) == ("UNKNOWN",) * 3


def test_every_person_of_the_population_gets_a_position_when_nobody_works() -> None:
    persons = [CodedPerson(A, 30, "MALE", "2000", "BE"), CodedPerson(B, None, "UNKNOWN", "", "")]
    found = _positions(persons, [], [])
    assert {p.position for p in found.values()} == {Position.NOT_IN_EMPLOYMENT}
    assert found[B].age_band == "UNKNOWN"


def test_regions_follow_the_postcode_table() -> None:
    assert categories.region("1000", "BE") == "BRUSSELS"
    assert categories.region("1299", "BE") == "BRUSSELS"
    assert categories.region("1300", "BE") == "WALLONIA"
    assert categories.region("1500", "BE") == "FLANDERS"
    assert categories.region("4700", "BE") == "WALLONIA"  # Eupen: the Walloon Region
    assert categories.region("8000", "BE") == "FLANDERS"
    assert categories.region("75001", "FR") == "ABROAD"
    assert categories.region("", "") == "UNKNOWN"
    assert categories.region("0999", "BE") == "UNKNOWN"


@given(st.text(max_size=6), st.sampled_from(["BE", "FR", "NL", ""]))
def test_every_address_falls_in_a_published_region(postcode: str, country: str) -> None:
    assert categories.region(postcode, country) in categories.REGIONS


@given(st.one_of(st.none(), st.integers(-5, 130)))
def test_every_age_falls_in_one_band(age: int | None) -> None:
    band = categories.age_band(age)
    assert band in {label for label, _, _ in categories.AGE_BANDS} | {"UNKNOWN"}
    if age is not None and age >= 0:
        low, high = next((lo, hi) for label, lo, hi in categories.AGE_BANDS if label == band)
        assert low <= age <= high
