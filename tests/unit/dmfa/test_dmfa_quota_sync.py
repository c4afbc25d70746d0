"""Students' hours to DIMONA's quota counter (quota_sync.QuotaSync.run_once) on fakes: rows
sent in order, a transient failure retried with backoff while later rows wait, a refusal marked
FAILED while the next row goes on, big rows cut into calls of 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from dmfa.service.quota_sync import QuotaSync
from runtime.errors import FailedPrecondition, PermissionDenied, Unavailable
from runtime.identifiers import make_insz
from tests.unit.dmfa.builders import EMPLOYER, OTHER, STUDENT, Q, person, record, submission
from tests.unit.dmfa.fakes import ME, NOW, QuotaRow, World, world

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def w() -> Iterator[World]:
    w = world()
    yield w
    w.declarations.close()


def sync(w: World) -> QuotaSync:
    return QuotaSync(w.store.unit, w.network, w.clock)


def queue(w: World, *sources: str, entries: dict[str, int] | None = None) -> None:
    with w.store.unit() as unit:
        for source in sources:
            unit.quota.add(EMPLOYER, Q, entries or {STUDENT: 600}, source, w.clock.now())


def rows(w: World) -> list[QuotaRow]:
    return w.store.state.quota


def sent(w: World) -> list[str]:
    return [source for _, _, _, source in w.network.recorded]


def many_students(n: int) -> dict[str, int]:
    """n students (INSZ -> minutes, all different)."""
    return {
        make_insz(birth_year=2004, birth_month=1, birth_day=1 + i // 900, serial=1 + i % 900): i
        for i in range(n)
    }


def down() -> Unavailable:
    return Unavailable("ROUTER_UNAVAILABLE", "the router is down")


def test_rows_are_sent_in_order_and_done_when_network_answers(w: World) -> None:
    queue(w, "v1", "v2", "v3")
    assert sync(w).run_once() == 3
    assert sent(w) == ["v1", "v2", "v3"]
    assert w.network.recorded[0] == (EMPLOYER, Q, [(STUDENT, 600)], "v1")
    assert [(r.state, r.attempts) for r in rows(w)] == [("DONE", 1)] * 3
    assert sync(w).run_once() == 0  # nothing left


def test_later_rows_wait_for_retry_when_first_is_unavailable(w: World) -> None:
    queue(w, "v1", "v2", "v3")
    w.network.outcomes = [down()]
    assert sync(w).run_once() == 0
    first, second, third = rows(w)
    assert (first.state, first.attempts, first.last_error) == ("PENDING", 1, "ROUTER_UNAVAILABLE")
    assert first.next_attempt_at == NOW + SECOND  # 1 s x 2^0
    assert [(r.attempts, r.next_attempt_at) for r in (second, third)] == [(0, NOW)] * 2
    assert sync(w).run_once() == 0 and sent(w) == []  # not due yet: the others wait in line
    w.clock.advance(SECOND)
    assert sync(w).run_once() == 3
    assert sent(w) == ["v1", "v2", "v3"]


def test_backoff_doubles_up_to_five_minutes_when_failures_repeat(w: World) -> None:
    queue(w, "v1")
    w.network.down.add("record_student_hours")
    delays = []
    for _ in range(11):
        assert sync(w).run_once() == 0
        (row,) = rows(w)
        delays.append((row.next_attempt_at - w.clock.now()).total_seconds())
        w.clock.set(row.next_attempt_at)
    # 1, 2, 4, ... 256, then 512 capped at 300
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    w.network.down.clear()
    assert sync(w).run_once() == 1 and rows(w)[0].state == "DONE"


@pytest.mark.parametrize(
    "refusal",
    [
        FailedPrecondition("QUOTA_REFUSED", "DIMONA refuses the figures"),
        PermissionDenied("NOT_AUTHORISED", "no authorisation at the router"),
    ],
)
def test_refused_row_fails_and_next_goes_on_when_error_is_not_transient(
    w: World, refusal: Exception
) -> None:
    queue(w, "v1", "v2", "v3")
    w.network.outcomes = [refusal]  # type: ignore[list-item]
    assert sync(w).run_once() == 2
    assert sent(w) == ["v2", "v3"]
    assert [r.state for r in rows(w)] == ["FAILED", "DONE", "DONE"]
    assert rows(w)[0].last_error == f"{refusal.code} {refusal.reason}"  # type: ignore[attr-defined]


def test_big_row_is_sent_in_calls_of_500_when_it_has_1001_entries(w: World) -> None:
    students = many_students(1001)
    queue(w, "v1", entries=students)
    assert sync(w).run_once() == 1
    assert [len(entries) for _, _, entries, _ in w.network.recorded] == [500, 500, 1]
    assert sent(w) == ["v1"] * 3
    assert dict(e for _, _, entries, _ in w.network.recorded for e in entries) == students


def test_whole_row_is_sent_again_when_a_later_call_of_it_was_unavailable(w: World) -> None:
    students = many_students(601)
    queue(w, "v1", entries=students)
    w.network.outcomes = [None, down()]  # the first 500 recorded, the last 101 not
    assert sync(w).run_once() == 0 and rows(w)[0].state == "PENDING"
    w.clock.advance(SECOND)
    assert sync(w).run_once() == 1
    # 500, then again 500 + 101: DIMONA replaces the figures, so the repeat does no harm
    assert [len(entries) for _, _, entries, _ in w.network.recorded] == [500, 500, 101]


def test_accepted_declaration_reaches_quota_counter_when_sync_runs(w: World) -> None:
    students = (
        person(STUDENT, record("841", pay=100_000, hours=4_000)),  # 2,400 min
        person(OTHER, record("840", pay=10_000, hours=150)),  # 1.5 h = 90 min
    )
    w.network.cover(*students)
    w.declarations.submit(ME, submission(*students))
    assert sync(w).run_once() == 1
    ((employer, quarter, entries, source),) = w.network.recorded
    assert (employer, quarter, source) == (
        EMPLOYER,
        Q,
        f"employers/{EMPLOYER}/declarations/2026Q1/versions/1",
    )
    assert dict(entries) == {STUDENT: 2_400, OTHER: 90}
