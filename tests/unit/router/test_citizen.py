"""CitizenService's rules on fakes: who may ask, the period, pages, and a hub's members standing in
for the hub's directory entries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.service.citizen import (
    CitizenQueries,
    ConsultationRow,
    earliest_start,
    own_read_entry,
)
from router.service.log_queries import ConfidentialContexts
from router.service.model import Capacity, ConfigSnapshot, DirectoryEntry, Institution
from runtime.clock import FixedClock
from runtime.errors import InvalidArgument, PermissionDenied
from runtime.identity import Caller, PartyKind

ME = "85071412330"
PERSON = Caller(PartyKind.PERSON, ME, via_gateway=True)
NOW = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 27)
ONEM = "spiffe://carrefour.local/institution/onem"


@dataclass
class FakeLog:
    rows: list[ConsultationRow] = field(default_factory=list)
    asked: list[dict] = field(default_factory=list)

    def consultations(self, *, subject, start, end, hide, after, limit):  # noqa: ANN001, ANN201
        self.asked.append(dict(subject=subject, start=start, end=end, hide=hide, after=after))
        rows = sorted(self.rows, key=lambda r: (r.occurred_at, r.ticket), reverse=True)
        rows = [r for r in rows if start <= r.occurred_at < end]
        if after is not None:
            rows = [r for r in rows if (r.occurred_at, r.ticket) < after]
        return rows[:limit]


@dataclass
class FakeDirectory:
    entries: list[DirectoryEntry] = field(default_factory=list)

    def entries_of(self, insz: str) -> list[DirectoryEntry]:
        return [e for e in self.entries if e.insz == insz]


@dataclass
class FakeHubs:
    members: dict[str, list[DirectoryEntry] | None] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def hubs(self) -> set[str]:
        return set(self.members)

    def member_entries(self, hub: str, insz: str) -> list[DirectoryEntry] | None:
        self.asked.append(hub)
        return self.members[hub]


@dataclass
class World:
    queries: CitizenQueries
    log: FakeLog
    directory: FakeDirectory
    recorded: list[tuple[str, str]]


def _world(rows=(), entries=(), hubs: FakeHubs | None = None) -> World:  # noqa: ANN001
    snap = ConfigSnapshot(version=1)
    snap.institutions = {
        "onem": Institution("onem", "Office national de l'emploi"),
        "cin": Institution("cin", "Collège intermutualiste national"),
        "mut-200": Institution("mut-200", "Mutualité 200"),
    }
    log, directory = FakeLog(list(rows)), FakeDirectory(list(entries))
    recorded: list[tuple[str, str]] = []
    queries = CitizenQueries(
        log,
        directory,
        lambda: snap,
        lambda caller, method: recorded.append((caller.uri, method)),
        FixedClock(NOW),
        ConfidentialContexts.parse("police.*"),
        hubs,
    )
    return World(queries, log, directory, recorded)


def _row(minutes: int, ticket: str, requester: str = ONEM) -> ConsultationRow:
    return ConsultationRow(
        ticket=ticket,
        occurred_at=NOW - dt.timedelta(minutes=minutes),
        requester=requester,
        service="cbss.registry.v1.RegistryService",
        method="GetPerson",
        legal_context="unemployment.control",
        capacity="18/1",
    )


@pytest.mark.parametrize(
    "caller",
    [
        Caller(PartyKind.INSTITUTION, "onem"),
        Caller(PartyKind.ADMIN, "ops"),
        Caller(PartyKind.GATEWAY, ""),
        Caller(PartyKind.EMPLOYER, "000935467", via_gateway=True, person=ME, role="reader"),
    ],
)
def test_anyone_but_a_person_is_not_authorised_when_asking(caller: Caller) -> None:
    w = _world()
    for ask in (
        lambda: w.queries.consultations(caller, None, None, 0, ""),
        lambda: w.queries.file_holders(caller, 0, ""),
    ):
        with pytest.raises(PermissionDenied) as err:
            ask()
        assert err.value.reason == "NOT_AUTHORISED"
    assert w.recorded == [] and w.log.asked == []


def test_consultations_are_the_last_six_months_newest_first_when_no_period_is_given() -> None:
    w = _world([_row(5, "t-b"), _row(1, "t-a")])
    found, token = w.queries.consultations(PERSON, None, None, 0, "")
    assert [c.ticket for c in found] == ["t-a", "t-b"] and token == ""
    c = found[0]
    assert (c.institution, c.institution_name) == ("onem", "Office national de l'emploi")
    assert c.method == "cbss.registry.v1.RegistryService/GetPerson"
    assert (c.legal_context, c.capacity) == ("unemployment.control", "18/1")
    asked = w.log.asked[0]
    assert asked["subject"] == ME and asked["end"] == NOW
    assert asked["start"] == dt.datetime(2026, 5, 26, 22, tzinfo=dt.UTC)  # 27 May, Brussels
    assert "police.x" in asked["hide"]
    assert w.recorded == [(PERSON.uri, "ListMyConsultations")]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (NOW - dt.timedelta(days=200), None),  # before six months ago
        (NOW, NOW - dt.timedelta(days=1)),  # start after end
        (NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=1)),  # empty
        (NOW + dt.timedelta(days=1), None),  # start after now (the default end)
        (None, NOW - dt.timedelta(days=365)),  # end before the default start
    ],
)
def test_bad_period_is_invalid_period_when_asked(
    start: dt.datetime | None, end: dt.datetime | None
) -> None:
    w = _world()
    with pytest.raises(InvalidArgument) as err:
        w.queries.consultations(PERSON, start, end, 0, "")
    assert err.value.reason == "INVALID_PERIOD"
    assert w.recorded == []  # refused before anything is read


def test_start_six_months_ago_to_the_day_is_accepted_when_given() -> None:
    w = _world()
    w.queries.consultations(PERSON, earliest_start(TODAY), None, 0, "")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 27), dt.date(2026, 5, 27)),
        (dt.date(2026, 8, 31), dt.date(2026, 2, 28)),
        (dt.date(2028, 8, 31), dt.date(2028, 2, 29)),
        (dt.date(2026, 3, 15), dt.date(2025, 9, 15)),
        (dt.date(2026, 6, 30), dt.date(2025, 12, 30)),
    ],
)
def test_earliest_start_is_six_calendar_months_back_when_computed(
    today: dt.date, expected: dt.date
) -> None:
    assert earliest_start(today).astimezone(dt.UTC).date() in (
        expected,
        expected - dt.timedelta(days=1),  # midnight in Brussels is the evening before in UTC
    )


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9000, 12, 31)))
def test_earliest_start_is_between_181_and_185_days_back_when_any_day(today: dt.date) -> None:
    back = today - earliest_start(today).astimezone(dt.UTC).date()
    assert dt.timedelta(days=180) <= back <= dt.timedelta(days=185)


@pytest.mark.parametrize(("size", "expected"), [(0, 50), (1, 1), (500, 500), (501, 500)])
def test_page_size_is_defaulted_and_capped_when_given(size: int, expected: int) -> None:
    w = _world([_row(m, f"t-{m:04d}") for m in range(1, 600)])
    found, token = w.queries.consultations(PERSON, None, None, size, "")
    assert len(found) == expected and token


def test_negative_page_size_is_refused_when_given() -> None:
    w = _world()
    for ask in (
        lambda: w.queries.consultations(PERSON, None, None, -1, ""),
        lambda: w.queries.file_holders(PERSON, -1, ""),
    ):
        with pytest.raises(InvalidArgument) as err:
            ask()
        assert err.value.reason == "INVALID_PAGE_SIZE"


def test_pages_cover_every_consultation_once_when_followed() -> None:
    rows = [_row(m, f"t-{m:04d}") for m in range(1, 12)]
    w = _world(rows)
    seen, token = [], ""
    while True:
        found, token = w.queries.consultations(PERSON, None, None, 3, token)
        seen += [c.ticket for c in found]
        if not token:
            break
    assert seen == [f"t-{m:04d}" for m in range(1, 12)]


@pytest.mark.parametrize("token", ["garbage", "e30", "x" * 2000])
def test_bad_page_token_is_refused_when_given(token: str) -> None:
    w = _world()
    for ask in (
        lambda: w.queries.consultations(PERSON, None, None, 0, token),
        lambda: w.queries.file_holders(PERSON, 0, token),
    ):
        with pytest.raises(InvalidArgument) as err:
            ask()
        assert err.value.reason == "INVALID_PAGE_TOKEN"


def test_token_of_another_period_or_list_is_refused_when_reused() -> None:
    w = _world(
        [_row(m, f"t-{m}") for m in range(1, 5)],
        [DirectoryEntry(ME, "onem", Capacity(18, 1), dt.date(2020 + i, 1, 1)) for i in range(3)],
    )
    _, token = w.queries.consultations(PERSON, None, None, 1, "")
    with pytest.raises(InvalidArgument):
        w.queries.consultations(PERSON, NOW - dt.timedelta(days=3), None, 1, token)
    with pytest.raises(InvalidArgument):
        w.queries.file_holders(PERSON, 1, token)
    _, holders_token = w.queries.file_holders(PERSON, 1, "")
    with pytest.raises(InvalidArgument):
        w.queries.consultations(PERSON, None, None, 1, holders_token)


def test_token_holds_no_insz_when_issued() -> None:
    import base64

    w = _world([_row(m, f"t-{m}") for m in range(1, 5)])
    _, token = w.queries.consultations(PERSON, None, None, 1, "")
    assert ME not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def test_file_holders_list_current_first_then_newest_start_when_asked() -> None:
    entries = [
        DirectoryEntry(ME, "onem", Capacity(18, 1), dt.date(2010, 1, 1), dt.date(2012, 1, 1)),
        DirectoryEntry(ME, "onem", Capacity(18, 4), dt.date(2015, 1, 1), dt.date(2016, 1, 1)),
        DirectoryEntry(ME, "famiwal", Capacity(7, 104), dt.date(2003, 2, 1)),
        DirectoryEntry(ME, "inami", Capacity(11, 2), dt.date(2025, 1, 1), dt.date(2027, 1, 1)),
        DirectoryEntry("03020100274", "onem", Capacity(18, 4), dt.date(2024, 9, 1)),
    ]
    w = _world(entries=entries)
    found, token = w.queries.file_holders(PERSON, 0, "")
    assert [(h.institution, h.start) for h in found] == [
        ("inami", dt.date(2025, 1, 1)),
        ("famiwal", dt.date(2003, 2, 1)),
        ("onem", dt.date(2015, 1, 1)),
        ("onem", dt.date(2010, 1, 1)),
    ]
    assert token == ""
    famiwal = found[1]
    assert (famiwal.sector, famiwal.code, famiwal.end) == (7, 104, None)
    assert famiwal.description == "family allowances: entitled child"
    assert w.recorded == [(PERSON.uri, "ListMyFileHolders")]


def test_file_holder_pages_cover_every_entry_once_when_followed() -> None:
    entries = [
        DirectoryEntry(ME, f"i-{i % 3}", Capacity(18, 1), dt.date(2000 + i, 1, 1))
        for i in range(10)
    ]
    w = _world(entries=entries)
    everything, _ = w.queries.file_holders(PERSON, 0, "")
    seen, token = [], ""
    while True:
        found, token = w.queries.file_holders(PERSON, 3, token)
        seen += found
        if not token:
            break
    assert seen == everything and len(seen) == 10


def test_hub_entry_shows_its_members_when_the_hub_answers() -> None:
    hub_entry = DirectoryEntry(ME, "cin", Capacity(11, 1), dt.date(2003, 9, 1))
    own = DirectoryEntry(ME, "cin", Capacity(11, 1), dt.date(1999, 1, 1), dt.date(2001, 1, 1))
    member = DirectoryEntry(ME, "mut-200", Capacity(11, 1), dt.date(2003, 9, 1))
    hubs = FakeHubs({"cin": [member]})
    w = _world(entries=[hub_entry, own], hubs=hubs)
    found, _ = w.queries.file_holders(PERSON, 0, "")
    # The member stands in for the hub's entry it accounts for; the hub's own entry stays.
    assert [(h.institution, h.institution_name, h.start) for h in found] == [
        ("mut-200", "Mutualité 200", dt.date(2003, 9, 1)),
        ("cin", "Collège intermutualiste national", dt.date(1999, 1, 1)),
    ]
    assert hubs.asked == ["cin"]


@pytest.mark.parametrize("answer", [None, []])
def test_hub_entry_is_shown_with_the_hub_name_when_the_hub_gives_no_member(answer) -> None:  # noqa: ANN001
    hub_entry = DirectoryEntry(ME, "cin", Capacity(11, 1), dt.date(2003, 9, 1))
    w = _world(entries=[hub_entry], hubs=FakeHubs({"cin": answer}))
    found, _ = w.queries.file_holders(PERSON, 0, "")
    assert [(h.institution, h.institution_name) for h in found] == [
        ("cin", "Collège intermutualiste national")
    ]


def test_hub_is_not_asked_when_it_holds_nothing_about_the_person() -> None:
    hubs = FakeHubs({"cin": []})
    w = _world(
        entries=[DirectoryEntry(ME, "onem", Capacity(18, 1), dt.date(2024, 1, 1))], hubs=hubs
    )
    w.queries.file_holders(PERSON, 0, "")
    assert hubs.asked == []


def test_own_read_is_a_query_row_about_the_person_when_logged() -> None:
    entry = own_read_entry(PERSON, "ListMyFileHolders", NOW)
    assert (entry.requester, entry.subject, entry.outcome) == (PERSON.uri, ME, "QUERY")
    assert (entry.legal_context, entry.capacity) == ("SELF_SERVICE", "self")
    assert entry.service == "cbss.router.v1.CitizenService"


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("police.*,judicial.*", ["police.x", "judicial.y.z"], ["policex", "unemployment.control"]),
        ("social-inspection.audit", ["social-inspection.audit"], ["social-inspection.other"]),
        ("-", [], ["police.x"]),
        (" police.* , ,anti-fraud.* ", ["police.a", "anti-fraud.b"], ["anti-fraud"]),
    ],
)
def test_confidential_contexts_match_names_and_prefixes_when_parsed(
    text: str, inside: list[str], outside: list[str]
) -> None:
    contexts = ConfidentialContexts.parse(text)
    assert all(c in contexts for c in inside)
    assert not any(c in contexts for c in outside)


@pytest.mark.parametrize("text", ["a*b", "*", ".*", "x" * 65, "bad\nname"])
def test_confidential_contexts_refuse_a_malformed_entry_when_parsed(text: str) -> None:
    with pytest.raises(ValueError):
        ConfidentialContexts.parse(text)
