"""The deadline the router passes to a holder: the caller's, or a bounded one when there is none
(grpc reports "no deadline" as ~9.2e18 s, which no channel accepts as a timeout)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.transport.forwarder import NO_DEADLINE_UNARY_SECONDS, holder_timeout


@dataclass
class _Context:
    remaining: float | None

    def time_remaining(self) -> float | None:
        return self.remaining


@pytest.mark.parametrize("remaining", [None, 9.223372035058934e18])
def test_unary_call_without_deadline_gets_a_bounded_one(remaining: float | None) -> None:
    assert holder_timeout(_Context(remaining)) == NO_DEADLINE_UNARY_SECONDS


@pytest.mark.parametrize("remaining", [None, 9.223372035058934e18])
def test_stream_without_deadline_gets_none(remaining: float | None) -> None:
    assert holder_timeout(_Context(remaining), stream=True) is None


@given(st.floats(min_value=0, max_value=86_400))
def test_callers_deadline_is_passed_on_when_it_has_one(remaining: float) -> None:
    assert holder_timeout(_Context(remaining)) == remaining
    assert holder_timeout(_Context(remaining), stream=True) == remaining
