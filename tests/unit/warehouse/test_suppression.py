"""Disclosure control of published tables: the p % rule, primary and complementary suppression,
and — for hypothesis-generated tables — the recovery attack (tests.support.attack, written apart
from the warehouse's audit) finds every suppressed cell's persons ranging over at least the
threshold and its pay over at least p % of its value."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.attack import Row, attack
from warehouse.service.suppression import ProtectedCell, Status, TableSpec, dominated, protect

DIMS = ("a", "b", "c")
SPECS = (
    TableSpec("abc", "finest", DIMS),
    TableSpec("a", "by a", ("a",)),
    TableSpec("bc", "by b and c", ("b", "c")),
    TableSpec("total", "total", ()),
)


def _rows(cells: list[ProtectedCell], specs=SPECS) -> list[Row]:  # noqa: ANN001
    dims = {s.id: s.dims for s in specs}
    return [
        Row(
            c.table,
            dict(zip(dims[c.table], c.key, strict=True)),
            None if c.suppressed else c.persons,
            None if c.suppressed else c.pay,
            c.suppressed,
        )
        for c in cells
    ]


def _check(cells: list[ProtectedCell], threshold: int, percent: int, specs=SPECS) -> None:  # noqa: ANN001
    values = {(c.table, c.key): c for c in cells}
    dims = {s.id: s.dims for s in specs}
    for interval in attack(_rows(cells, specs), dims):
        key = tuple(dict(interval.categories)[d] for d in dims[interval.table])
        cell = values[(interval.table, key)]
        assert interval.persons[0] - 1e-6 <= cell.persons <= interval.persons[1] + 1e-6
        assert interval.persons_width >= threshold - 1e-6, (interval, cell)
        assert interval.pay_width >= cell.pay * percent / 100 - 1e-6, (interval, cell)


def test_dominance_rule_flags_a_cell_when_two_contributions_make_almost_all_of_it() -> None:
    # 1,000 + 900 + 50: the rest (50) is below 10 % of the largest (100).
    assert dominated(1950, 1000, 900, 10)
    # 1,000 + 900 + 200: the rest (200) is not below 100.
    assert not dominated(2100, 1000, 900, 10)
    assert not dominated(0, 0, 0, 10)  # nobody paid: nothing to protect


def test_a_cell_below_the_threshold_is_suppressed_with_a_partner_when_its_margin_is_published() -> (
    None
):
    units = [(("x", "p", "u"), 1000)] * 3 + [(("x", "p", "v"), 1000 + i) for i in range(20)]
    units += [(("y", "p", "u"), 2000 + i) for i in range(20)]
    result = protect(SPECS, units, threshold=5, dominance_percent=10)
    status = {(c.table, c.key): c.status for c in result.cells}
    assert status[("abc", ("x", "p", "u"))] is Status.PRIMARY
    # Alone in its `a` margin it would be recomputed by subtraction: a partner goes with it.
    assert sum(1 for c in result.cells if c.status is Status.SECONDARY) >= 1
    _check(result.cells, 5, 10)


def test_a_dominated_cell_is_suppressed_even_with_many_persons() -> None:
    units = [(("x", "p", "u"), 100)] * 10 + [(("x", "p", "u"), 1_000_000)]
    units += [(("x", "q", "u"), 1000 + i) for i in range(30)]
    units += [(("y", "p", "u"), 1000 + i) for i in range(30)]
    result = protect(SPECS, units, threshold=5, dominance_percent=10)
    status = {(c.table, c.key): c.status for c in result.cells}
    assert status[("abc", ("x", "p", "u"))] is Status.PRIMARY
    _check(result.cells, 5, 10)


def test_nothing_is_suppressed_when_every_cell_is_large_and_even() -> None:
    units = [((a, b, c), 1000 + i) for a in "xy" for b in "pq" for c in "uv" for i in range(10)]
    result = protect(SPECS, units)
    assert all(c.status is Status.PUBLISHED for c in result.cells)
    assert result.programs == 0


def test_everything_is_suppressed_when_the_whole_population_is_below_the_threshold() -> None:
    result = protect(SPECS, [(("x", "p", "u"), 10), (("y", "q", "v"), 20)], threshold=5)
    assert all(c.suppressed for c in result.cells)
    _check(result.cells, 5, 10)


@st.composite
def _tables(draw: st.DrawFn) -> tuple[list[tuple[tuple[str, ...], int]], int]:
    sizes = [draw(st.integers(1, 3)) for _ in DIMS]
    n = draw(st.integers(1, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    # Skewed: a few large cells, many small ones (as real tables are).
    weights = [rng.random() ** 3 for _ in range(sizes[0] * sizes[1] * sizes[2])]
    keys = [
        (f"a{i}", f"b{j}", f"c{k}")
        for i in range(sizes[0])
        for j in range(sizes[1])
        for k in range(sizes[2])
    ]
    units = [
        (
            rng.choices(keys, weights)[0],
            rng.choice((0, rng.randint(1, 5000), rng.randint(1, 10**6))),
        )
        for _ in range(n)
    ]
    return units, draw(st.integers(2, 6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables())
def test_no_suppressed_cell_can_be_narrowed_when_tables_are_generated(
    generated: tuple[list[tuple[tuple[str, ...], int]], int],
) -> None:
    units, threshold = generated
    result = protect(SPECS, units, threshold=threshold, dominance_percent=10)
    # Every primary-sensitive cell is suppressed.
    for cell in result.cells:
        if cell.persons < threshold:
            assert cell.suppressed
    _check(result.cells, threshold, 10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables())
def test_linked_margins_are_protected_when_two_margin_tables_share_a_dimension(
    generated: tuple[list[tuple[tuple[str, ...], int]], int],
) -> None:
    specs = (
        TableSpec("abc", "finest", DIMS),
        TableSpec("ab", "by a and b", ("a", "b")),
        TableSpec("bc", "by b and c", ("b", "c")),
        TableSpec("b", "by b", ("b",)),
        TableSpec("total", "total", ()),
    )
    units, threshold = generated
    result = protect(specs, units, threshold=threshold, dominance_percent=10)
    _check(result.cells, threshold, 10, specs)
