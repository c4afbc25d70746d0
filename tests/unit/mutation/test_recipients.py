"""Who receives a change: holders on the date, granted the type for their capacity, subscribed."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from mutation.service.model import Change, Grant, Holder, recipients

DAY = dt.date(2026, 5, 4)
MAN = "85071412330"


def _change(start: dt.date = DAY, end: dt.date = DAY, new: str = "") -> Change:
    return Change("registry", 7, "person.address-changed", MAN, start, end, lambda i: b"", new)


def _grant(institution: str, capacities: set[str], valid_to: dt.date | None = None) -> Grant:
    return Grant("g", institution, "person.address-changed", frozenset(capacities), "ISC/1",
                 dt.date(2020, 1, 1), valid_to)  # fmt: skip


SUBSCRIBED = {
    "onem": frozenset({"person.address-changed"}),
    "cin": frozenset({"person.address-changed"}),
}


def test_a_holder_granted_for_its_capacity_and_subscribed_receives_once() -> None:
    holders = [
        Holder("onem", "18/1", dt.date(2024, 1, 1), None),
        Holder("onem", "18/4", dt.date(2025, 1, 1), None),
        Holder("cin", "11/1", dt.date(2003, 9, 1), None),
    ]
    grants = [_grant("onem", {"18/1", "18/4"}), _grant("cin", {"11/1"})]
    found = recipients(_change(), holders, grants, SUBSCRIBED)
    assert [(r.institution, r.reference_date) for r in found] == [("cin", DAY), ("onem", DAY)]


def test_no_grant_for_the_capacity_no_subscription_or_an_expired_grant_receive_nothing() -> None:
    holders = [Holder("onem", "18/1", dt.date(2024, 1, 1), None)]
    assert recipients(_change(), holders, [_grant("onem", {"18/4"})], SUBSCRIBED) == []
    assert recipients(_change(), holders, [_grant("onem", {"18/1"})], {}) == []
    expired = _grant("onem", {"18/1"}, valid_to=DAY - dt.timedelta(days=1))
    assert recipients(_change(), holders, [expired], SUBSCRIBED) == []
    assert recipients(_change(), holders, [_grant("cin", {"18/1"})], SUBSCRIBED) == []


def test_over_a_quarter_the_reference_date_is_the_first_day_the_institution_holds_him() -> None:
    start, end = dt.date(2026, 4, 1), dt.date(2026, 6, 30)
    holders = [Holder("onem", "18/1", dt.date(2026, 5, 10), None)]
    found = recipients(_change(start, end), holders, [_grant("onem", {"18/1"})], SUBSCRIBED)
    assert [(r.institution, r.reference_date) for r in found] == [("onem", dt.date(2026, 5, 10))]


def test_a_replacement_asks_the_holders_of_both_numbers() -> None:
    change = _change(new="85071412429")
    assert [q[0] for q in change.holder_queries()] == [MAN, "85071412429"]


@given(
    st.text(alphabet="abcdefghij-", min_size=1, max_size=12),
    st.text(alphabet="abcdefghij-", min_size=1, max_size=12),
    st.integers(min_value=1, max_value=10**9),
)
def test_notification_ids_are_stable_and_differ_per_institution_and_change(
    a: str, b: str, sequence: int
) -> None:
    one = Change("dmfa", sequence, "wages.declared", MAN, DAY, DAY, lambda i: b"")
    again = Change("dmfa", sequence, "wages.declared", MAN, DAY, DAY, lambda i: b"")
    assert one.notification_id(a) == again.notification_id(a)
    if a != b:
        assert one.notification_id(a) != one.notification_id(b)
    later = Change("dmfa", sequence + 1, "wages.declared", MAN, DAY, DAY, lambda i: b"")
    assert later.notification_id(a) != one.notification_id(a)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["onem", "cin", "famiwal"]),
            st.sampled_from(["18/1", "11/1", "7/104"]),
            st.integers(min_value=-400, max_value=400),
        ),
        max_size=8,
    )
)
def test_recipients_are_unique_and_always_granted_subscribed_holders(
    entries: list[tuple[str, str, int]],
) -> None:
    holders = [Holder(i, c, DAY + dt.timedelta(days=d), None) for i, c, d in entries]
    grants = [_grant("onem", {"18/1"}), _grant("cin", {"11/1"})]
    found = recipients(_change(DAY, DAY + dt.timedelta(days=90)), holders, grants, SUBSCRIBED)
    names = [r.institution for r in found]
    assert len(names) == len(set(names))
    for r in found:
        assert any(h.institution == r.institution for h in holders)
        assert r.institution in ("onem", "cin")
        assert r.reference_date >= DAY
