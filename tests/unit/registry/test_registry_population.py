"""The synthetic population: deterministic, valid numbers, never twice, the documented shape."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from registry.seed.population import (
    FIXED_BIS,
    FIXED_MAN,
    FIXED_PERSONS,
    FIXED_REPLACED,
    FIXED_REPLACEMENT,
    FIXED_WOMAN,
    REFERENCE_DATE,
    SeedPerson,
    SerialAllocator,
    generate,
)
from registry.service.model import PartialDate
from registry.service.regions import region_for_postcode
from registry.service.validation import Problems, is_possible_partial
from runtime.identifiers import InszKind, Sex, parse_insz

COUNT = 5000


@pytest.fixture(scope="module")
def people() -> list[SeedPerson]:
    return list(generate(COUNT, 1))


def test_population_is_identical_when_seed_and_count_are_the_same(people) -> None:
    assert list(generate(COUNT, 1)) == people
    assert list(itertools.islice(generate(COUNT, 2), 200)) != people[:200]


def test_fixed_persons_come_first_when_generated(people) -> None:
    numbers = [p.record.insz for p in people]
    for fixed in (FIXED_MAN, FIXED_WOMAN, FIXED_BIS, FIXED_REPLACED, FIXED_REPLACEMENT):
        assert fixed in numbers[: len(FIXED_PERSONS)]
    man = people[0].record
    assert (man.last_name, man.first_names[0], man.birth_place) == ("Peeters", "Jan", "Antwerpen")
    replaced = next(p.record for p in FIXED_PERSONS if p.record.insz == FIXED_REPLACED)
    assert replaced.replaced_by == FIXED_REPLACEMENT


def test_every_number_is_valid_and_unique_when_generated(people) -> None:
    numbers = [p.record.insz for p in people]
    assert len(set(numbers)) == len(numbers)
    for person in people:
        parsed = parse_insz(person.record.insz)
        record = person.record
        assert parsed.kind is record.kind
        assert (parsed.birth_year, parsed.birth_month, parsed.birth_day) == (
            record.birth_date.year,
            record.birth_date.month,
            record.birth_date.day,
        ) or record.replaced_by is not None  # a corrected birth day changes the number
        if record.kind is not InszKind.BIS_SEX_UNKNOWN:
            assert parsed.sex is record.sex


def test_every_record_passes_the_service_checks_when_generated(people) -> None:
    for person in people:
        record = person.record
        problems = Problems()
        problems.last_name(record.last_name)
        problems.first_names(record.first_names)
        problems.place(record.birth_place, "birth_place")
        problems.country(record.nationality, "nationality", required=True)
        for period in person.addresses:
            problems.address(period.address)
            assert period.start <= REFERENCE_DATE
            assert period.start >= record.birth_date.earliest()
        assert not problems.violations, (record.insz, problems.violations)
        assert is_possible_partial(record.birth_date)
        if record.death_date:
            assert record.birth_date.earliest() <= record.death_date <= REFERENCE_DATE


def test_address_periods_are_contiguous_when_a_history_exists(people) -> None:
    with_history = [p for p in people if len(p.addresses) > 1]
    assert len(with_history) > COUNT * 0.2
    for person in with_history:
        periods = person.addresses
        assert periods[-1].end is None
        for earlier, later in itertools.pairwise(periods):
            assert earlier.end is not None and (later.start - earlier.end).days == 1


def test_shape_matches_the_documented_shares_when_many_are_generated(people) -> None:
    current = [p.record for p in people if p.record.replaced_by is None]
    share = lambda n: n / len(current)  # noqa: E731
    kinds = Counter(p.kind for p in current)
    bis = kinds[InszKind.BIS_SEX_KNOWN] + kinds[InszKind.BIS_SEX_UNKNOWN]
    assert 0.01 < share(bis) < 0.03
    assert kinds[InszKind.BIS_SEX_KNOWN] and kinds[InszKind.BIS_SEX_UNKNOWN]
    assert 0.02 < share(sum(p.deceased for p in current)) < 0.04
    replaced = sum(p.record.replaced_by is not None for p in people)
    assert 0.002 < replaced / COUNT < 0.009
    years = [p.birth_date.year for p in current]
    assert min(years) < 2000 <= max(years)
    regions = Counter(
        region_for_postcode(p.addresses[-1].address.postcode)
        for p in people
        if p.addresses and p.addresses[-1].address.country_code == "BE"
    )
    assert len(regions) == 3 and None not in regions
    assert any(ch in p.last_name for p in current for ch in "èéëç")
    assert sum(p.sex is Sex.UNKNOWN for p in current) > 0


def test_allocator_skips_reserved_numbers_when_they_are_next() -> None:
    allocator = SerialAllocator(reserved=[FIXED_MAN])
    birth = PartialDate(1985, 7, 14)
    numbers = [allocator.allocate(birth, InszKind.NATIONAL_REGISTER, Sex.MALE) for _ in range(70)]
    assert FIXED_MAN not in numbers and len(set(numbers)) == 70
    assert [parse_insz(n).serial for n in numbers][60:63] == [121, 125, 127]


def test_allocator_reports_exhaustion_when_a_day_is_full() -> None:
    allocator = SerialAllocator()
    birth = PartialDate(1990, 1, 1)
    got = [allocator.allocate(birth, InszKind.NATIONAL_REGISTER, Sex.FEMALE) for _ in range(500)]
    assert got[-1] is None and None not in got[:499]
