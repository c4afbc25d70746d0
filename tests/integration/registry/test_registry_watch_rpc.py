"""WatchMutationEvents on a real registry over mTLS: events pushed as recorded, renewals
answered, and a death acknowledged only once the watching router has applied it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import grpc
import pytest
from google.type import date_pb2
from registry_rpc import rpc_failure

from cbss.registry.v1 import registry_pb2 as R
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime.client import failure

pytestmark = pytest.mark.integration


class Watch:
    """A router's side of one stream: messages sent from a queue, responses read in order."""

    def __init__(self, stub, first: R.WatchMutationEventsRequest) -> None:  # noqa: ANN001
        self._out: queue.SimpleQueue[R.WatchMutationEventsRequest | None] = queue.SimpleQueue()
        self._out.put(first)
        self.call = stub.WatchMutationEvents(self._requests(), timeout=30)

    def _requests(self) -> Iterator[R.WatchMutationEventsRequest]:
        while (item := self._out.get()) is not None:
            yield item

    def send(self, applied: int, renewal: int = 0) -> None:
        self._out.put(R.WatchMutationEventsRequest(applied_sequence=applied, renewal=renewal))

    def next(self) -> R.WatchMutationEventsResponse:
        return next(self.call)

    def close(self) -> None:
        self._out.put(None)
        self.call.cancel()


def _last(stub) -> int:  # noqa: ANN001
    return (
        stub("router").ListMutationEvents(R.ListMutationEventsRequest(), timeout=10).last_sequence
    )


def test_death_is_pushed_and_acknowledged_only_once_the_router_applied_it(stub) -> None:
    last = _last(stub)
    watch = Watch(
        stub("router"),
        R.WatchMutationEventsRequest(after_sequence=last, applied_sequence=last, renewal=1),
    )
    try:
        granted = watch.next()
        assert (granted.renewal, granted.lease_millis > 0) == (1, True)
        assert not granted.events and granted.last_sequence == last
        answered: list[R.RecordDeathResponse] = []
        death = threading.Thread(
            target=lambda: answered.append(
                stub("registry").RecordDeath(
                    R.RecordDeathRequest(
                        insz=FIXED_WOMAN,
                        request_id="watched-death",
                        date_of_death=date_pb2.Date(year=2025, month=3, day=1),
                    ),
                    timeout=20,
                )
            )
        )
        death.start()
        pushed = watch.next()
        assert [(e.insz, e.kind) for e in pushed.events] == [
            (FIXED_WOMAN, R.MUTATION_KIND_DEATH_RECORDED)
        ]
        sequence = pushed.events[0].sequence
        death.join(0.3)
        assert death.is_alive() and not answered  # the router has not applied it yet
        watch.send(applied=sequence, renewal=2)
        death.join(10)
        assert answered and answered[0].event.sequence == sequence
        renewed = watch.next()
        assert (renewed.renewal, renewed.lease_millis > 0) == (2, True)
    finally:
        watch.close()


def test_renewal_is_refused_while_the_router_is_behind_a_death(stub) -> None:
    stub("admin-ops").RecordDeath(
        R.RecordDeathRequest(
            insz=FIXED_MAN,
            request_id="unwatched-death",
            date_of_death=date_pb2.Date(year=2025, month=4, day=1),
        ),
        timeout=20,
    )
    watch = Watch(
        stub("router"),
        R.WatchMutationEventsRequest(after_sequence=0, applied_sequence=0, renewal=7),
    )
    try:
        first = watch.next()
        assert first.renewal == 7 and first.lease_millis == 0  # behind: answered, not granted
        assert first.events and first.events[0].sequence == 1
    finally:
        watch.close()


@pytest.mark.parametrize("party", ["institution-onem", "registry", "admin-ops"])
def test_watch_is_permission_denied_when_the_caller_is_not_a_router(stub, party: str) -> None:
    watch = Watch(stub(party), R.WatchMutationEventsRequest())
    try:
        failed = rpc_failure(watch.next)
        assert (failed.code, failed.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")
    finally:
        watch.close()


@pytest.mark.parametrize(
    ("first", "later", "reason"),
    [
        (R.WatchMutationEventsRequest(after_sequence=-1), None, "INVALID_AFTER_SEQUENCE"),
        (R.WatchMutationEventsRequest(applied_sequence=-3), None, "INVALID_APPLIED_SEQUENCE"),
        (
            R.WatchMutationEventsRequest(applied_sequence=2, renewal=1),
            1,
            "INVALID_APPLIED_SEQUENCE",
        ),
    ],
)
def test_watch_is_invalid_argument_when_a_position_is_bad(
    stub, first: R.WatchMutationEventsRequest, later: int | None, reason: str
) -> None:
    watch = Watch(stub("router"), first)
    try:
        if later is not None:
            watch.next()  # the first renewal's answer
            watch.send(applied=later)  # lower than before
        with pytest.raises(grpc.RpcError) as err:
            while True:
                watch.next()
        found = failure(err.value)
        assert (err.value.code(), found.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    finally:
        watch.close()
