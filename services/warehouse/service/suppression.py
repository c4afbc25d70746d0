"""Statistical disclosure control of a quarter's published tables.

The tables (`TableSpec`) are one finest table and margins of it: every published cell of every
table is the sum of finest cells, so that everything a reader can combine is a linear system
over the finest cells. Each cell has a count of persons and their pay (euro cents); a cell is
published whole or suppressed whole. Cells without a person are absent (never suppressed), so a
reader knows that every suppressed finest cell holds at least one person.

1. **Primary suppression.** A cell is sensitive when it holds 1 to `threshold` - 1 persons, or
   when its pay fails the p % dominance rule: the pay minus its two largest contributions (two
   persons' pay) is below p % of the largest — the second-largest contributor could then estimate
   the largest one's pay within p %.
2. **Relations.** For each linear relation "a margin cell = the sum of the cells of the next finer
   published table it covers", a relation with exactly one suppressed member would give it away by
   subtraction: another member is suppressed (the smallest unsuppressed child, else the parent),
   until no relation has exactly one. Only covering pairs of tables are related (total -> region
   -> finest, not total -> finest directly): the others follow from them.
3. **Audit by linear programming** (scipy.optimize.linprog, HiGHS). The unknowns are the
   suppressed finest cells (a count at least 1, a pay at least 0); every published cell of every
   table is an equality. For each suppressed cell of any table, its count's minimum and maximum
   over that system must be at least `threshold` apart, and its pay's at least p % of its pay.
   Each solution found is a feasible point, which bounds every other suppressed cell too: a cell
   whose interval is already wide enough from the points seen needs no program of its own.
4. **Complementary suppression.** A cell that fails is pinned by the published margins whose
   equalities bind its program (the nonzero duals): the smallest binding margin gets a
   suppressed neighbour with room — a cell of the next finer table under it holding at least
   `threshold` persons beyond one per finest cell (a reader knows each listed finest cell holds
   one) — or, without one, is suppressed itself. One complement per binding margin a round, then
   steps 2 and 3 again, until the audit passes. It ends: each round suppresses at least one
   cell, and with every cell suppressed nothing is bounded. Cells proven in a round are not
   audited again: suppressing more only removes equalities, so intervals only widen.

The same audit is what an attacker runs (tests/…/test_recovery_attack.py does it on the
exported files, independently of this code).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

_EPS = 1e-6


class Status(enum.Enum):
    PUBLISHED = "PUBLISHED"
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"


@dataclass(frozen=True)
class TableSpec:
    id: str
    title: str
    dims: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProtectedCell:
    table: str
    #: The categories of the table's dimensions, in its order.
    key: tuple[str, ...]
    persons: int
    pay: int
    status: Status

    @property
    def suppressed(self) -> bool:
        return self.status is not Status.PUBLISHED


@dataclass
class Protection:
    cells: list[ProtectedCell]
    rounds: int = 0
    programs: int = 0
    weak: list[int] = field(default_factory=list)


def dominated(pay: int, top1: int, top2: int, percent: int) -> bool:
    """The p % rule: the pay minus its two largest contributions is below p % of the largest."""
    return top1 > 0 and 100 * (pay - top1 - top2) < percent * top1


class _Tables:
    """Every cell of every table, its finest cells, and the relations between tables."""

    def __init__(
        self,
        specs: Sequence[TableSpec],
        units: Sequence[tuple[tuple[str, ...], int]],
    ) -> None:
        finest = specs[0]
        dims = finest.dims
        for spec in specs[1:]:
            if not set(spec.dims) <= set(dims):
                raise ValueError(f"{spec.id}: not a margin of {finest.id}")
        self.specs = list(specs)
        acc: dict[tuple[str, ...], list[int]] = {}
        for key, pay in units:
            cell = acc.get(key)
            if cell is None:
                acc[key] = [1, pay, pay, 0]
                continue
            cell[0] += 1
            cell[1] += pay
            if pay > cell[2]:
                cell[2], cell[3] = pay, cell[2]
            elif pay > cell[3]:
                cell[3] = pay
        finest_keys = sorted(acc)
        self.n_finest = len(finest_keys)
        self.table_of: list[int] = []
        self.keys: list[tuple[str, ...]] = []
        persons, pay, top1, top2 = [], [], [], []
        rows, cols = [], []
        self.index: dict[tuple[int, tuple[str, ...]], int] = {}
        for t, spec in enumerate(self.specs):
            positions = [dims.index(d) for d in spec.dims]
            cells: dict[tuple[str, ...], list[int]] = {}
            members: dict[tuple[str, ...], list[int]] = {}
            for f, key in enumerate(finest_keys):
                projected = tuple(key[p] for p in positions)
                c, s, a, b = acc[key]
                cell = cells.get(projected)
                if cell is None:
                    cells[projected] = [c, s, a, b]
                    members[projected] = [f]
                    continue
                cell[0] += c
                cell[1] += s
                cell[2], cell[3] = sorted((cell[2], cell[3], a, b), reverse=True)[:2]
                members[projected].append(f)
            for projected in sorted(cells):
                g = len(self.keys)
                self.index[(t, projected)] = g
                self.table_of.append(t)
                self.keys.append(projected)
                c, s, a, b = cells[projected]
                persons.append(c)
                pay.append(s)
                top1.append(a)
                top2.append(b)
                for f in members[projected]:
                    rows.append(g)
                    cols.append(f)
        self.n = len(self.keys)
        self.persons = np.array(persons, dtype=np.int64)
        self.pay = np.array(pay, dtype=np.int64)
        self.top1 = np.array(top1, dtype=np.int64)
        self.top2 = np.array(top2, dtype=np.int64)
        #: cell x finest cell, 1 where the finest cell adds into the cell.
        self.members = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(self.n, self.n_finest)
        )
        self.is_finest = np.array([t == 0 for t in self.table_of])
        #: Persons beyond one per finest cell: what a suppressed cell lets move, since a reader
        #: knows each listed finest cell holds at least one person.
        self.slack = self.persons - self.members.getnnz(axis=1)
        self.relations: list[tuple[int, np.ndarray]] = []
        self._relate(dims)
        self.relations_of: list[list[int]] = [[] for _ in range(self.n)]
        for r, (parent, children) in enumerate(self.relations):
            self.relations_of[parent].append(r)
            for child in children:
                self.relations_of[int(child)].append(r)

    def _relate(self, dims: tuple[str, ...]) -> None:
        sets = [set(s.dims) for s in self.specs]
        for a, parent_dims in enumerate(sets):
            for b, child_dims in enumerate(sets):
                if not parent_dims < child_dims:
                    continue
                if any(parent_dims < sets[c] < child_dims for c in range(len(sets))):
                    continue
                positions = [self.specs[b].dims.index(d) for d in self.specs[a].dims]
                groups: dict[int, list[int]] = {}
                for g in range(self.n):
                    if self.table_of[g] != b:
                        continue
                    parent = self.index[(a, tuple(self.keys[g][p] for p in positions))]
                    groups.setdefault(parent, []).append(g)
                for parent, children in sorted(groups.items()):
                    self.relations.append((parent, np.array(children, dtype=np.int64)))


def protect(
    specs: Sequence[TableSpec],
    units: Sequence[tuple[tuple[str, ...], int]],
    threshold: int = 5,
    dominance_percent: int = 10,
    max_rounds: int = 10_000,
) -> Protection:
    """Protect the tables of `specs` (the first the finest, the others its margins) over `units`
    (one per person: the categories of the finest table's dimensions and the person's pay)."""
    if threshold < 1:
        raise ValueError("the threshold is at least 1")
    tables = _Tables(specs, units)
    status = np.zeros(tables.n, dtype=np.int8)  # 0 published, 1 primary, 2 secondary
    primary = (tables.persons < threshold) | np.array(
        [
            dominated(int(s), int(a), int(b), dominance_percent)
            for s, a, b in zip(tables.pay, tables.top1, tables.top2, strict=True)
        ],
        dtype=bool,
    )
    status[primary] = 1
    result = Protection([])
    safe = np.zeros((2, tables.n), dtype=bool)
    while True:
        _relations_pass(tables, status)
        weak, programs = audit(tables, status, threshold, dominance_percent, safe)
        result.programs += programs
        result.rounds += 1
        if not weak:
            break
        if result.rounds >= max_rounds:
            raise RuntimeError("complementary suppression did not converge")
        # One complement per binding margin a round: the cells pinned by one margin are all
        # freed by the one suppression (no cascade of margins), then the audit runs again.
        handled: set[int] = set()
        for w, binding in weak.items():
            if binding and binding <= handled:
                continue
            chosen = _complement_for(tables, status, w, binding, threshold)
            if chosen is not None:
                status[chosen] = 2
            handled |= binding
    names = [s.id for s in tables.specs]
    labels = (Status.PUBLISHED, Status.PRIMARY, Status.SECONDARY)
    result.cells = [
        ProtectedCell(
            names[tables.table_of[g]],
            tables.keys[g],
            int(tables.persons[g]),
            int(tables.pay[g]),
            labels[int(status[g])],
        )
        for g in range(tables.n)
    ]
    return result


def _smallest(tables: _Tables, candidates: Sequence[int] | np.ndarray) -> int | None:
    best = None
    for g in candidates:
        g = int(g)
        rank = (int(tables.persons[g]), int(tables.pay[g]), g)
        if best is None or rank < best:
            best = rank
    return None if best is None else best[2]


def _relations_pass(tables: _Tables, status: np.ndarray) -> None:
    """Until no relation has exactly one suppressed member."""
    changed = True
    while changed:
        changed = False
        for parent, children in tables.relations:
            suppressed_children = int(np.count_nonzero(status[children]))
            if suppressed_children + (1 if status[parent] else 0) != 1:
                continue
            open_children = children[status[children] == 0]
            chosen = _smallest(tables, open_children)
            if chosen is None:
                chosen = parent  # its only child is suppressed: the margin must go too
            status[chosen] = 2
            changed = True


def _complement_for(
    tables: _Tables, status: np.ndarray, weak: int, binding: set[int], threshold: int
) -> int | None:
    """The cell to suppress for a cell that failed the audit.

    `binding`: the published cells whose equalities bound it (the nonzero duals of its linear
    program). A cell is freed either by a suppressed neighbour with room in the binding equality
    — a cell of the next finer table under the binding margin, with at least `threshold` persons
    beyond one per finest cell it covers (a reader knows each listed finest cell holds one) — or
    by suppressing the binding margin itself. The smallest binding margin first; in it the
    smallest neighbour with room, else the margin. Without binding cells (a suppressed margin
    whose cells are all published: their sum), its smallest published finer cell.
    """
    for margin in sorted(binding, key=lambda g: (int(tables.persons[g]), g)):
        room = [
            int(c)
            for r in tables.relations_of[margin]
            if int(tables.relations[r][0]) == margin
            for c in tables.relations[r][1]
            if not status[c] and tables.slack[c] >= threshold
        ]
        return _smallest(tables, room) if room else margin
    finer = [
        int(c)
        for r in tables.relations_of[weak]
        if int(tables.relations[r][0]) == weak
        for c in tables.relations[r][1]
        if not status[c]
    ]
    chosen = _smallest(tables, finer)
    if chosen is None:
        finest = tables.members[weak].indices
        touching = tables.members[:, finest].sum(axis=1).A1 > 0
        chosen = _smallest(tables, np.flatnonzero(touching & (status == 0)))
    return chosen if chosen is not None else _smallest(tables, np.flatnonzero(status == 0))


def audit(
    tables: _Tables,
    status: np.ndarray,
    threshold: int,
    dominance_percent: int,
    safe: np.ndarray | None = None,
) -> tuple[dict[int, set[int]], int]:
    """The suppressed cells whose count or pay an attacker could narrow too much — each with the
    published cells whose equalities bind it — and the number of linear programs solved.

    `safe` (2 x cells: persons, pay) remembers the cells proven wide enough in an earlier round:
    suppressing more only removes equalities or frees fixed values, so every point that was
    feasible stays feasible and a proven interval can only widen — those cells are not audited
    again. Updated in place.
    """
    if safe is None:
        safe = np.zeros((2, tables.n), dtype=bool)
    suppressed = np.flatnonzero(status != 0)
    if suppressed.size == 0:
        return {}, 0
    finest_cells = np.flatnonzero(tables.is_finest)  # global index of finest cell f is f
    unknown = finest_cells[status[finest_cells] != 0]
    published_margins = np.flatnonzero((status == 0) & ~tables.is_finest)
    a_eq = tables.members[published_margins][:, unknown].tocsr()
    with_unknowns = a_eq.getnnz(axis=1) > 0
    a_eq = a_eq[with_unknowns]
    row_cells = published_margins[with_unknowns]
    constrained = a_eq.getnnz(axis=0) > 0
    weak: dict[int, set[int]] = {}
    programs = 0
    measures = (
        (0, tables.persons, 1.0, lambda cells: np.full(cells.size, float(threshold))),
        (1, tables.pay, 0.0, lambda cells: tables.pay[cells] * dominance_percent / 100.0),
    )
    for m, values, lower, need in measures:
        cells = suppressed[~safe[m, suppressed]]
        if cells.size == 0:
            continue
        targets = tables.members[cells][:, unknown].tocsr()
        # A target with an unknown that no equality holds can grow without bound.
        unbounded = (targets[:, ~constrained].getnnz(axis=1) > 0) if unknown.size else None
        solved, failed = _intervals(
            a_eq, targets, values[unknown].astype(float), lower, need(cells), unbounded
        )
        programs += solved
        failing = cells[list(failed)] if failed else np.array([], dtype=np.int64)
        safe[m, np.setdiff1d(cells, failing)] = True
        for t, rows in failed.items():
            weak.setdefault(int(cells[t]), set()).update(int(row_cells[r]) for r in rows)
    return dict(sorted(weak.items())), programs


def _intervals(
    a_eq: sparse.csr_matrix,
    targets: sparse.csr_matrix,
    truth: np.ndarray,
    lower: float,
    need: np.ndarray,
    unbounded: np.ndarray | None,
) -> tuple[int, dict[int, list[int]]]:
    """(programs solved, targets whose interval is narrower than `need` with the rows binding
    their maximum).

    Every solution is a feasible point that bounds every target: first programs that push every
    open target at once (random positive weights: a vertex raises up to one variable per
    equality, so each proves dozens), as long as each proves a few; then one program per target
    still open, which decides it exactly.
    """
    values = targets @ truth
    lo, hi = values.copy(), values.copy()
    if unbounded is not None:
        hi[unbounded] = np.inf
    b_eq = a_eq @ truth
    has_rows = a_eq.shape[0] > 0
    solved = 0

    def open_targets() -> np.ndarray:
        return np.flatnonzero(hi - lo < need - _EPS)

    def solve(objective: np.ndarray) -> Any:
        nonlocal solved
        found = linprog(
            objective,
            A_eq=a_eq if has_rows else None,
            b_eq=b_eq if has_rows else None,
            bounds=(lower, None),
            method="highs",
            options={"presolve": False},
        )
        solved += 1
        if found.status == 0:
            seen = targets @ found.x
            np.minimum(lo, seen, out=lo)
            np.maximum(hi, seen, out=hi)
        elif found.status != 3:  # 3: unbounded
            raise RuntimeError(f"the audit's linear program failed: {found.message}")
        return found

    rng = np.random.default_rng(0)
    for sign in (-1.0, 1.0):  # push up, then down
        while (pending := open_targets()).size:
            weights = rng.uniform(1.0, 2.0, pending.size)
            objective = np.asarray(targets[pending].T @ weights).ravel()
            if solve(sign * objective).status == 3 or pending.size - open_targets().size < 3:
                break  # little left to gain from shared points
    failed: dict[int, list[int]] = {}
    for t in open_targets():
        if targets[t].nnz == 0:  # only published cells add into it: it is their sum
            failed[int(t)] = []
            continue
        objective = targets[t].toarray().ravel()
        binding: list[int] = []
        for sign in (-1.0, 1.0):  # maximise, then minimise
            if hi[t] - lo[t] >= need[t] - _EPS:
                break
            found = solve(sign * objective)
            if found.status == 3:
                hi[t] = np.inf
            elif has_rows:
                duals = np.abs(found.eqlin.marginals)
                binding += [int(r) for r in np.flatnonzero(duals > _EPS)]
        if hi[t] - lo[t] < need[t] - _EPS:
            failed[int(t)] = sorted(set(binding))
    return solved, failed
