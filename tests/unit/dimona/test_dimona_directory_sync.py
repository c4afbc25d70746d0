"""The directory dispatcher: merged intervals, the changes that reach the router, retries when
the router is down (nothing lost), convergence whatever the mirror believed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dimona.service.calendar import ONE_DAY
from dimona.service.directory_sync import DirectorySync, changes, intervals
from dimona.service.model import Period, PeriodState, WorkerType
from dimona.service.ports import DirectoryInterval
from runtime.errors import Unavailable
from tests.unit.dimona.builders import dcancel, din, dout
from tests.unit.dimona.fakes import NOW, WORKER, RecordingDirectory, World, world

BASE = dt.date(2025, 1, 1)


def period(start: int, length: int | None, active: bool = True) -> Period:
    return Period(
        period_id=1, employer="000100006", worker=WORKER, worker_type=WorkerType.OTH,
        joint_committee="200", sub_entity="", using_employer="",
        start_date=BASE + dt.timedelta(days=start), start_time=None,
        end_date=None if length is None else BASE + dt.timedelta(days=start + length),
        end_time=None, planned_hours=0, flexi_contract=None,
        state=PeriodState.ACTIVE if active else PeriodState.CANCELLED,
        student_minutes=0, exceeding_minutes=0, late=False, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def days(spans: list[DirectoryInterval], horizon: dt.date) -> set[dt.date]:
    out: set[dt.date] = set()
    for s in spans:
        day = s.start
        while day <= (s.end or horizon):
            out.add(day)
            day += ONE_DAY
    return out


spans = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(0, 20)), st.booleans()),
    max_size=8,
)


@given(spans)
def test_intervals_cover_exactly_the_active_days_when_merged(raw: list) -> None:
    periods = [period(s, n, a) for s, n, a in raw]
    merged = intervals(periods)
    horizon = BASE + dt.timedelta(days=100)
    wanted = days(
        [DirectoryInterval(p.start_date, p.end_date) for p in periods if p.active], horizon
    )
    assert days(merged, horizon) == wanted
    for left, right in zip(merged, merged[1:], strict=False):
        assert left.end is not None and left.end + ONE_DAY < right.start  # apart, not touching


@given(spans, spans)
def test_changes_bring_any_directory_state_to_the_desired_one_when_applied(
    known_raw: list, desired_raw: list
) -> None:
    known = intervals([period(s, n, a) for s, n, a in known_raw])
    desired = intervals([period(s, n, a) for s, n, a in desired_raw])
    router = {i.start: i.end for i in known}
    withdraw, end, register = changes(WORKER, desired, known)
    for _w, i in withdraw:
        router.pop(i.start, None)
    for _w, i in end:
        router[i.start] = i.end
    for _w, i in register:
        router[i.start] = i.end
    assert router == {i.start: i.end for i in desired}


@pytest.fixture
def setup() -> tuple[World, RecordingDirectory, DirectorySync]:
    w = world()
    directory = RecordingDirectory()
    return w, directory, DirectorySync(w.fake.unit, w.fake.unit, directory)


def test_in_out_cancel_reach_the_router_as_register_end_withdraw_when_dispatched(setup) -> None:  # noqa: ANN001
    w, directory, sync = setup
    first = w.declarations.submit(_retail(), _sub(din(), "a"))
    assert sync.run_once() == 1
    start = dt.date(2025, 6, 3)
    assert directory.calls == [
        ("withdraw", [(WORKER, DirectoryInterval(start, None))]),
        ("register", [(WORKER, DirectoryInterval(start, None))]),
    ]
    assert w.fake.state.outbox == [] and sync.run_once() == 0
    directory.calls.clear()
    w.declarations.submit(_retail(), _sub(dout(first.period_id, dt.date(2025, 6, 30)), "o"))
    sync.run_once()
    assert directory.calls == [("end", [(WORKER, DirectoryInterval(start, dt.date(2025, 6, 30)))])]
    directory.calls.clear()
    w.declarations.submit(_retail(), _sub(dcancel(first.period_id), "c"))
    sync.run_once()
    assert directory.calls == [
        ("withdraw", [(WORKER, DirectoryInterval(start, dt.date(2025, 6, 30)))])
    ]
    assert w.fake.state.mirror[WORKER] == []


def test_new_start_is_registered_straight_away_when_nothing_failed(setup) -> None:  # noqa: ANN001
    w, directory, sync = setup
    assert sync.run_once() == 0  # the process's first run: nothing from before it
    w.declarations.submit(_retail(), _sub(din(), "a"))
    sync.run_once()
    assert [kind for kind, _ in directory.calls] == ["register"]
    directory.down = True
    separate = din(start=dt.date(2025, 5, 1), end=dt.date(2025, 5, 10), jc="201")
    w.declarations.submit(_retail(), _sub(separate, "b"))
    with pytest.raises(Unavailable):
        sync.run_once()
    directory.down = False
    directory.calls.clear()
    sync.run_once()  # after a failure: careful
    assert [kind for kind, _ in directory.calls] == ["withdraw", "register"]


def test_nothing_is_lost_when_the_router_is_down_then_back(setup) -> None:  # noqa: ANN001
    w, directory, sync = setup
    w.declarations.submit(_retail(), _sub(din(), "a"))
    directory.down = True
    with pytest.raises(Unavailable):
        sync.run_once()
    assert len(w.fake.state.outbox) == 1 and WORKER not in w.fake.state.mirror
    w.declarations.submit(_retail(), _sub(din(start=dt.date(2025, 9, 1), jc="201"), "b"))
    directory.down = False
    assert sync.run_once() == 1  # one worker, both declarations
    assert w.fake.state.outbox == []
    assert w.fake.state.mirror[WORKER] == [DirectoryInterval(dt.date(2025, 6, 3), None)]


def test_refused_declarations_leave_the_outbox_empty_when_submitted(setup) -> None:  # noqa: ANN001
    w, _directory, sync = setup
    w.declarations.submit(_retail(), _sub(din(jc=""), "a"))  # refused: no joint committee
    assert w.fake.state.outbox == [] and sync.run_once() == 0


def test_replayed_batch_converges_when_mirror_was_not_updated(setup) -> None:  # noqa: ANN001
    w, directory, sync = setup
    w.declarations.submit(_retail(), _sub(din(), "a"))
    sync.run_once()
    w.fake.state.mirror.clear()  # as if the process stopped before writing the mirror
    w.fake.state.outbox.append((99, WORKER))
    directory.calls.clear()
    restarted = DirectorySync(w.fake.unit, w.fake.unit, directory)
    restarted.run_once()
    kinds = [kind for kind, _ in directory.calls]
    assert kinds == ["withdraw", "register"]  # withdraw first: no duplicate entry
    assert dataclasses.asdict(w.fake.state.mirror[WORKER][0])["start"] == dt.date(2025, 6, 3)


def _retail():  # noqa: ANN202
    from tests.unit.dimona.fakes import RETAIL

    return RETAIL


def _sub(form: object, ref: str):  # noqa: ANN202
    from tests.unit.dimona.builders import submission

    return submission(form, ref)
