"""The quarter: its days, its deadline (the last day of the month after it) and its text form."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dmfa.service.model import Quarter

quarters = st.builds(Quarter, st.integers(1000, 9998), st.integers(1, 4))


@pytest.mark.parametrize(
    ("number", "first", "last", "deadline"),
    [
        (1, dt.date(2024, 1, 1), dt.date(2024, 3, 31), dt.date(2024, 4, 30)),
        (2, dt.date(2024, 4, 1), dt.date(2024, 6, 30), dt.date(2024, 7, 31)),
        (3, dt.date(2024, 7, 1), dt.date(2024, 9, 30), dt.date(2024, 10, 31)),
        (4, dt.date(2024, 10, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 31)),
    ],
)
def test_days_and_deadline_are_calendar_ones_when_quarter_is_1_to_4(
    number: int, first: dt.date, last: dt.date, deadline: dt.date
) -> None:
    q = Quarter(2024, number)
    assert (q.first_day, q.last_day, q.deadline) == (first, last, deadline)


@settings(max_examples=300, deadline=None)
@given(quarters)
def test_deadline_is_last_day_of_month_after_quarter_when_any_quarter(q: Quarter) -> None:
    month_after = q.last_day + dt.timedelta(days=1)  # the first day of the month after
    assert (q.deadline.year, q.deadline.month) == (month_after.year, month_after.month)
    assert (q.deadline + dt.timedelta(days=1)).day == 1


@settings(max_examples=300, deadline=None)
@given(quarters)
def test_quarters_follow_one_another_when_any_quarter(q: Quarter) -> None:
    following = Quarter(q.year + (q.quarter == 4), q.quarter % 4 + 1)
    assert q < following
    assert following.first_day == q.last_day + dt.timedelta(days=1)
    assert 90 <= (q.last_day - q.first_day).days + 1 <= 92


@settings(max_examples=300, deadline=None)
@given(quarters)
def test_parse_returns_the_quarter_when_given_its_text(q: Quarter) -> None:
    assert Quarter.parse(str(q)) == q


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=8), st.from_regex(r"\d{4}Q\d", fullmatch=True)))
def test_parse_never_raises_and_round_trips_when_text_is_arbitrary(text: str) -> None:
    q = Quarter.parse(text)
    assert q is None or str(q) == text


@pytest.mark.parametrize(
    "text", ["2026Q0", "2026Q5", "2026q1", "26Q1", "2026Q1 ", " 2026Q1", "2026-Q1", "", "٢٠٢٦Q1"]
)
def test_parse_returns_none_when_text_is_not_a_quarter(text: str) -> None:
    assert Quarter.parse(text) is None


def test_str_is_year_q_number_when_printed() -> None:
    assert str(Quarter(2026, 1)) == "2026Q1"
    assert Quarter(2023, 4) < Quarter(2024, 1) < Quarter(2024, 2)
