"""The routers' leases on the event log: a death or replacement answers only once every router
that may hold a lease has applied it, or that lease has run out (registry.service.leases).

Real clock, short leases: each test waits at most a few tenths of a second."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from registry_fakes import ELSEWHERE, NOW, NR, ONEM, ROUTER, FakeRegistry, home_since, nr_person

from registry.service.changes import AddressChange, DeathRecord, RegistryChanges
from registry.service.leases import Leases, Watcher
from registry.service.model import MutationKind, PartialDate
from runtime.clock import FixedClock
from runtime.errors import InvalidArgument, PermissionDenied

LEASE = 0.4


def _leases(head: int = 0, grace: bool = False) -> Leases:
    leases = Leases(LEASE, head)
    if not grace:
        leases._grace_until = 0.0  # started long ago
    return leases


def _timed(call: Callable[[], object]) -> float:
    began = time.monotonic()
    call()
    return time.monotonic() - began


def _in_background(call: Callable[[], object]) -> tuple[threading.Thread, list[float]]:
    took: list[float] = []
    thread = threading.Thread(target=lambda: took.append(_timed(call)))
    thread.start()
    return thread, took


def _granted(leases: Leases, watcher: Watcher, applied: int, renewal: int) -> bool:
    leases.receive(watcher, applied, renewal)
    _, answers = leases.wait_for_news(watcher, 10**9, 0)
    return answers == [(renewal, int(LEASE * 1000))]


def test_change_answers_at_once_when_no_router_holds_a_lease() -> None:
    leases = _leases()
    assert _timed(lambda: leases.await_applied(1)) < 0.05


def test_change_waits_one_lease_after_the_register_started() -> None:
    leases = _leases(grace=True)  # a router may hold a lease from the previous process
    assert LEASE * 0.9 < _timed(lambda: leases.await_applied(1)) < LEASE * 3


def test_change_answers_once_the_leaseholder_has_applied_it() -> None:
    leases = _leases()
    watcher = leases.open(ROUTER, 0, 0)
    assert _granted(leases, watcher, 0, 1)
    leases.recorded(1, MutationKind.DEATH_RECORDED)
    waiting, took = _in_background(lambda: leases.await_applied(1))
    time.sleep(0.05)
    assert waiting.is_alive()  # the router has not applied it
    leases.receive(watcher, 1, 0)
    waiting.join(2)
    assert took and took[0] < LEASE  # its acknowledgement, not the lease's end


def test_change_answers_when_the_lease_of_a_silent_router_runs_out() -> None:
    leases = _leases()
    watcher = leases.open(ROUTER, 0, 0)
    assert _granted(leases, watcher, 0, 1)
    leases.recorded(1, MutationKind.DEATH_RECORDED)
    took = _timed(lambda: leases.await_applied(1))
    assert LEASE * 0.7 < took < LEASE * 3


def test_no_lease_is_granted_to_a_router_behind_a_recorded_death() -> None:
    leases = _leases(head=5)
    watcher = leases.open(ROUTER, 4, 4)
    assert not _granted(leases, watcher, 4, 1)  # answered, not granted
    assert _granted(leases, watcher, 5, 2)
    leases.recorded(6, MutationKind.ADDRESS_CHANGED)  # a move: no status, the head stays
    assert _granted(leases, watcher, 5, 3)
    leases.recorded(7, MutationKind.INSZ_REPLACED)
    assert not _granted(leases, watcher, 6, 4)


def test_ended_stream_keeps_its_lease_until_it_runs_out() -> None:
    leases = _leases()
    watcher = leases.open(ROUTER, 0, 0)
    assert _granted(leases, watcher, 0, 1)
    leases.end(watcher)
    leases.leave(watcher)  # the router may not know yet that its stream is gone
    assert leases.watchers() == 1
    leases.recorded(1, MutationKind.DEATH_RECORDED)
    assert _timed(lambda: leases.await_applied(1)) > LEASE * 0.7
    assert leases.watchers() == 0


def test_router_that_never_held_a_lease_is_not_waited_for() -> None:
    leases = _leases()
    leases.open(ROUTER, 0, 0)
    assert _timed(lambda: leases.await_applied(1)) < 0.05


def test_stream_is_refused_when_the_caller_is_not_a_router_or_the_position_is_bad() -> None:
    leases = _leases()
    with pytest.raises(PermissionDenied):
        leases.open(ONEM, 0, 0)
    with pytest.raises(InvalidArgument) as bad:
        leases.open(ROUTER, -1, 0)
    assert bad.value.violations[0].reason == "INVALID_AFTER_SEQUENCE"
    watcher = leases.open(ROUTER, 3, 3)
    for applied in (-1, 2):  # negative, or lower than before
        with pytest.raises(InvalidArgument) as bad:
            leases.receive(watcher, applied, 0)
        assert bad.value.violations[0].reason == "INVALID_APPLIED_SEQUENCE"


def test_death_answers_only_after_the_router_applied_it_and_a_move_never_waits() -> None:
    fake = FakeRegistry()
    jan = fake.add(nr_person(), home_since(dt.date(2015, 3, 1)))
    leases = _leases()
    changes = RegistryChanges(fake.unit, FixedClock(NOW), leases)
    watcher = leases.open(ROUTER, 0, 0)
    assert _granted(leases, watcher, 0, 1)

    move = AddressChange(jan.insz, "m1", ELSEWHERE, PartialDate(2024, 1, 1))
    assert _timed(lambda: changes.change_address(NR, move)) < 0.1  # no status: no wait
    leases.receive(watcher, 1, 0)
    death = DeathRecord(jan.insz, "d1", PartialDate(2025, 1, 1))
    waiting, took = _in_background(lambda: changes.record_death(NR, death))
    time.sleep(0.05)
    assert waiting.is_alive()
    leases.receive(watcher, 2, 0)  # the router applied event 2
    waiting.join(2)
    assert took and took[0] < LEASE
