"""Group commit: each declaration in its own savepoint, answers only after the commit."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dimona.service.declarations import Declarations
from dimona.service.group_commit import GroupCommitter
from dimona.service.model import Status
from runtime.errors import AlreadyExists
from tests.unit.dimona.builders import din, submission
from tests.unit.dimona.fakes import RETAIL, FakeDimona, FakeUnit, world


def test_failing_work_is_undone_alone_when_grouped() -> None:
    fake = FakeDimona()
    committer = GroupCommitter(fake.unit)
    gate, started = threading.Event(), threading.Event()

    def slow(unit: FakeUnit) -> str:  # holds the committer so the next three form one group
        started.set()
        gate.wait(30)
        return "slow"

    def add(name: str, fail: bool = False):  # noqa: ANN202
        def work(unit: FakeUnit) -> str:
            unit.outbox.add(name)
            if fail:
                raise ValueError(name)
            return name

        return work

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(committer.run, slow)
        assert started.wait(30)  # on a loaded machine the pool may start it late
        futures = [pool.submit(committer.run, add(n, n == "b")) for n in ("a", "b", "c")]
        for _ in range(500):  # all three queued behind `slow`: they will be one group
            if len(committer._queue) == 3:
                break
            threading.Event().wait(0.01)
        assert len(committer._queue) == 3
        gate.set()
        assert first.result() == "slow"
        assert futures[0].result() == "a" and futures[2].result() == "c"
        with pytest.raises(ValueError, match="b"):
            futures[1].result()
    committer.close()
    assert [w for _, w in fake.state.outbox] == ["a", "c"]


def test_nobody_is_answered_ok_when_the_commit_fails() -> None:
    class Broken(FakeDimona):
        def unit(self):  # noqa: ANN202
            raise OSError("disk full")

    committer = GroupCommitter(Broken().unit)
    with pytest.raises(OSError):
        committer.run(lambda unit: "never durable")
    committer.close()


def test_declarations_behave_the_same_when_group_committed() -> None:
    w = world()
    grouped = Declarations(
        w.fake.unit, w.fake.unit, w.identity, w.clock, committer=GroupCommitter(w.fake.unit)
    )

    def one(i: int):  # noqa: ANN202
        day = dt.date(2025, 6, 3) + dt.timedelta(days=i % 4)
        return grouped.submit(RETAIL, submission(din(start=day, end=day), f"g-{i}"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(16)))  # 4 days, 4 declarations each: 1 accepted per day
    accepted = [a for a in answers if a.status is Status.ACCEPTED]
    assert len(accepted) == 4 and len({a.period_id for a in accepted}) == 4
    assert [e.sequence for e in w.fake.state.events] == [1, 2, 3, 4]
    assert len(w.fake.state.declarations) == 16
    with pytest.raises(AlreadyExists):
        grouped.submit(RETAIL, submission(din(), "g-0"))
