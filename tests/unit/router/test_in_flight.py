"""The forwarder's count of messages in flight (read by the message log's commit delay)."""

from __future__ import annotations

import threading

from router.transport.forwarder import InFlight


def test_the_count_follows_messages_in_and_out_from_many_threads() -> None:
    in_flight = InFlight()
    inside = threading.Barrier(9)
    leave = threading.Event()

    def message() -> None:
        with in_flight:
            inside.wait(timeout=10)
            leave.wait(timeout=10)

    threads = [threading.Thread(target=message) for _ in range(8)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)
    assert in_flight.count() == 8
    leave.set()
    for thread in threads:
        thread.join(timeout=10)
    assert in_flight.count() == 0


def test_a_failed_message_leaves_the_count() -> None:
    in_flight = InFlight()
    try:
        with in_flight:
            raise RuntimeError("the holder failed")
    except RuntimeError:
        pass
    assert in_flight.count() == 0
