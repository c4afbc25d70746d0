"""The recovery attack on published tables, written apart from the warehouse's own audit.

Input: what a reader has — every published row of every table of a quarter (its dimensions'
categories, persons and pay, or `suppressed`) and which dimensions each table has (the data
dictionary). The attacker knows that a combination absent from a table has no person (so a
listed, suppressed finest cell holds at least one) and that pay is never negative. For each
suppressed cell of any table, the minimum and maximum of its persons and of its pay by linear
programming (scipy's HiGHS) over the finest table's suppressed cells, subject to every published
cell of every table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class Row:
    table: str
    #: dimension -> category, for the table's dimensions only
    categories: Mapping[str, str]
    persons: int | None
    pay: int | None
    suppressed: bool


@dataclass(frozen=True)
class Interval:
    table: str
    categories: tuple[tuple[str, str], ...]
    persons: tuple[float, float]
    pay: tuple[float, float]

    @property
    def persons_width(self) -> float:
        return self.persons[1] - self.persons[0]

    @property
    def pay_width(self) -> float:
        return self.pay[1] - self.pay[0]


def _matches(finest: Mapping[str, str], cell: Mapping[str, str]) -> bool:
    return all(finest[d] == v for d, v in cell.items())


def attack(rows: Sequence[Row], dimensions: Mapping[str, Sequence[str]]) -> list[Interval]:
    """`dimensions`: table id -> its dimensions. The finest table has them all."""
    finest_id = max(dimensions, key=lambda t: len(dimensions[t]))
    finest = [r for r in rows if r.table == finest_id]
    unknown = [r for r in finest if r.suppressed]
    known = [r for r in finest if not r.suppressed]
    n = len(unknown)
    a_rows, b_persons, b_pay = [], [], []
    for r in rows:
        if r.table == finest_id or r.suppressed:
            continue
        coefficients = [1.0 if _matches(u.categories, r.categories) else 0.0 for u in unknown]
        known_persons = sum(k.persons for k in known if _matches(k.categories, r.categories))
        known_pay = sum(k.pay for k in known if _matches(k.categories, r.categories))
        if not any(coefficients):
            continue
        a_rows.append(coefficients)
        b_persons.append(r.persons - known_persons)
        b_pay.append(r.pay - known_pay)
    a_eq = np.array(a_rows) if a_rows else None
    out = []
    for target in (r for r in rows if r.suppressed):
        objective = np.array(
            [1.0 if _matches(u.categories, target.categories) else 0.0 for u in unknown]
        )
        matching_known = [k for k in known if _matches(k.categories, target.categories)]
        constants = (
            sum(k.persons for k in matching_known),
            sum(k.pay for k in matching_known),
        )
        bounds = []
        for b_eq, lower, constant in (
            (b_persons, 1.0, constants[0]),
            (b_pay, 0.0, constants[1]),
        ):
            ends = []
            for sign in (1.0, -1.0):
                if n == 0 or not objective.any():
                    ends.append(0.0)  # only published cells add into it: its value is known
                    continue
                found = linprog(
                    sign * objective,
                    A_eq=a_eq,
                    b_eq=np.array(b_eq) if a_eq is not None else None,
                    bounds=(lower, None),
                    method="highs",
                )
                if found.status == 3:
                    ends.append(np.inf if sign < 0 else -np.inf)
                    continue
                assert found.status == 0, found.message
                ends.append(sign * found.fun)
            bounds.append((ends[0] + constant, ends[1] + constant))
        out.append(
            Interval(target.table, tuple(sorted(target.categories.items())), bounds[0], bounds[1])
        )
    return out
