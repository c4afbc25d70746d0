"""The router's monitoring summary, from message-log rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.service.monitoring import LogRow, Monitoring, summarise
from runtime.errors import InvalidArgument, PermissionDenied
from runtime.identity import Caller, PartyKind

ONEM = "spiffe://carrefour.local/institution/onem"
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)

rows = st.lists(
    st.builds(
        LogRow,
        ticket=st.sampled_from([f"t{i}" for i in range(12)]),
        requester=st.sampled_from([ONEM, "spiffe://carrefour.local/institution/inami"]),
        outcome=st.sampled_from(["FORWARDED", "REFUSED", "FAILED", "REVEALED", "QUERY"]),
        reason=st.sampled_from(["", "NOT_AUTHORISED", "SUBJECT_NOT_INTEGRATED"]),
        latency_us=st.integers(0, 10_000_000),
    ),
    max_size=60,
)


@given(rows)
def test_each_routed_ticket_counts_once_by_its_worst_outcome(log: list[LogRow]) -> None:
    traffic = summarise(log)
    routed = {r.ticket for r in log if r.outcome in ("FORWARDED", "REFUSED", "FAILED")}
    assert sum(t.messages for t in traffic) == len(routed)
    refused = {r.ticket for r in log if r.outcome == "REFUSED"}
    assert sum(t.refused for t in traffic) == len(refused)
    for t in traffic:
        assert t.messages == t.forwarded + t.refused + t.failed
        assert sum(t.refusals_by_reason.values()) == t.refused
        assert t.percentile(0.5) <= t.percentile(0.95) <= t.percentile(0.99)
        assert t.percentile(0.99) <= max(t.latencies_ms)


def test_percentiles_are_nearest_rank() -> None:
    log = [LogRow(f"t{i}", ONEM, "FORWARDED", "", (i + 1) * 1000) for i in range(100)]
    (t,) = summarise(log)
    assert (t.percentile(0.5), t.percentile(0.95), t.percentile(0.99)) == (50.0, 95.0, 99.0)


def test_a_revealed_row_does_not_make_a_message_of_its_own() -> None:
    log = [
        LogRow("t1", ONEM, "FORWARDED", "", 2000),
        LogRow("t1", ONEM, "REVEALED", "", 2000),
        LogRow("t2", ONEM, "REFUSED", "SUBJECT_NOT_INTEGRATED", 500),
    ]
    (t,) = summarise(log)
    assert (t.messages, t.forwarded, t.refused) == (2, 1, 1)
    assert t.refusals_by_reason == {"SUBJECT_NOT_INTEGRATED": 1}


class _Reader:
    def routed_rows(self, start: dt.datetime, end: dt.datetime) -> list[LogRow]:
        return [LogRow("t1", ONEM, "FORWARDED", "", 1000)]


def test_only_operators_see_the_traffic() -> None:
    monitoring = Monitoring(_Reader(), lambda: NOW)
    with pytest.raises(PermissionDenied):
        monitoring.traffic(Caller(PartyKind.INSTITUTION, "onem"), NOW - dt.timedelta(hours=1), None)
    assert monitoring.traffic(Caller(PartyKind.ADMIN, "ops"), NOW - dt.timedelta(hours=1), None)


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (None, None, "INVALID_PERIOD"),
        (NOW, NOW, "INVALID_PERIOD"),
        (NOW - dt.timedelta(days=8), None, "WINDOW_TOO_LONG"),
    ],
)
def test_a_bad_window_is_invalid_argument(
    start: dt.datetime | None, end: dt.datetime | None, reason: str
) -> None:
    monitoring = Monitoring(_Reader(), lambda: NOW)
    with pytest.raises(InvalidArgument) as caught:
        monitoring.traffic(Caller(PartyKind.ADMIN, "ops"), start, end)
    assert caught.value.reason == reason
