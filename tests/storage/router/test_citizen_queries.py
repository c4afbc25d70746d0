"""The portal's reads on a real database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set):
a person's consultations from the message log (one per ticket, what is shown and what is not,
keyset pages) and a person's directory entries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.service.citizen import ConsultationRow
from router.service.log_queries import ConfidentialContexts
from router.service.message_log import LogEntry
from router.service.model import Capacity, DirectoryEntry
from router.storage import MIGRATIONS
from router.storage.message_log import LogWriter, SqlLogReader
from router.storage.repository import SqlDirectory
from runtime.db import Database

pytestmark = pytest.mark.storage

ME, OTHER = "85071412330", "03020100274"
ONEM = "spiffe://carrefour.local/institution/onem"
FAMIWAL = "spiffe://carrefour.local/institution/famiwal"
T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
HIDE = ConfidentialContexts.parse("police.*,social-inspection.audit")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.migrate(MIGRATIONS)
    yield database
    database.dispose()


def _entry(n: int, minutes: int, **changes: object) -> LogEntry:
    values: dict[str, object] = {
        "ticket": str(uuid.UUID(int=n, version=4)),
        # Odd tickets at a fraction of a second, even ones on the second (stored differently
        # on SQLite: both must compare as instants).
        "occurred_at": T0 + dt.timedelta(minutes=minutes, microseconds=1000 * n * (n % 2)),
        "requester": ONEM,
        "service": "cbss.registry.v1.RegistryService",
        "method": "GetPerson",
        "legal_context": "unemployment.control",
        "subject": ME,
        "capacity": "18/1",
        "destination": "nr",
        "outcome": "FORWARDED",
        "reason": "",
        "latency_us": 900,
        "trace_id": "",
        "request_digest": "",
        "response_digest": "",
    }
    values.update(changes)
    return LogEntry(**values)  # type: ignore[arg-type]


@pytest.fixture
def logged(db: Database, pki_dir: Path) -> SqlLogReader:
    """A log holding what a person may see, and everything they may not."""
    writer = LogWriter(
        db, name="router-cbss", cert_path=pki_dir / "router.pem", key_path=pki_dir / "router.key"
    )
    writer.start()
    try:
        for rows in (
            [_entry(1, 1)],  # shown
            # A fan-out: two holders, two rows, one ticket (and a later row of the same ticket).
            [_entry(2, 2, destination="mut-100", capacity="11/1", requester=FAMIWAL)],
            [_entry(2, 3, destination="mut-200", capacity="11/1", requester=FAMIWAL)],
            # Revealed in another request's answer: shown, without a capacity.
            [_entry(3, 4, outcome="REVEALED", capacity="", method="SearchPersons")],
            [_entry(4, 5, legal_context="police.fraud")],  # confidential (prefix)
            [_entry(5, 6, legal_context="social-inspection.audit")],  # confidential (exact)
            [_entry(6, 7, outcome="REFUSED", reason="SUBJECT_NOT_INTEGRATED", capacity="")],
            [_entry(7, 8, reason="HOLDER_NOT_FOUND")],  # the holder answered an error
            [_entry(8, 9, outcome="FAILED", reason="HOLDER_UNAVAILABLE")],
            [_entry(9, 10, outcome="QUERY", capacity="")],  # someone's question to the log
            [
                _entry(
                    10,
                    11,
                    requester=f"spiffe://carrefour.local/person/{ME}",  # the person's own read
                    legal_context="SELF_SERVICE",
                    capacity="self",
                )
            ],
            [_entry(11, 12, subject=OTHER)],  # about someone else
            [_entry(12, 13, legal_context="social-inspection.audit-2")],  # not confidential
            [_entry(13, -60 * 24 * 30)],  # outside the period asked
        ):
            writer.submit(rows).result(timeout=30)
    finally:
        writer.close()
    return SqlLogReader(db)


def _ask(reader: SqlLogReader, **changes: object) -> list[ConsultationRow]:
    query: dict[str, object] = {
        "subject": ME,
        "start": T0 - dt.timedelta(days=1),
        "end": T0 + dt.timedelta(days=1),
        "hide": HIDE,
        "after": None,
        "limit": 100,
    }
    query.update(changes)
    return reader.consultations(**query)  # type: ignore[arg-type]


def _n(row: ConsultationRow) -> int:
    return uuid.UUID(row.ticket).int & 0xFFFF


def test_only_consultations_the_person_may_see_are_listed_newest_first_when_asked(
    logged: SqlLogReader,
) -> None:
    rows = _ask(logged)
    assert [_n(r) for r in rows] == [12, 3, 2, 1]
    by_ticket = {_n(r): r for r in rows}
    fan_out = by_ticket[2]
    assert fan_out.occurred_at == T0 + dt.timedelta(minutes=2)  # the ticket's first row
    assert by_ticket[3].occurred_at == T0 + dt.timedelta(minutes=4, microseconds=3000)
    assert (fan_out.requester, fan_out.capacity) == (FAMIWAL, "11/1")
    assert by_ticket[3].method == "SearchPersons" and by_ticket[3].capacity == ""
    first = by_ticket[1]
    assert first.occurred_at.tzinfo is not None
    assert (first.service, first.method, first.legal_context) == (
        "cbss.registry.v1.RegistryService",
        "GetPerson",
        "unemployment.control",
    )


def test_period_is_start_inclusive_and_end_exclusive_when_asked(logged: SqlLogReader) -> None:
    rows = _ask(logged, start=T0 + dt.timedelta(minutes=2), end=T0 + dt.timedelta(minutes=4))
    assert [_n(r) for r in rows] == [2]


def test_nothing_is_hidden_but_the_rules_when_no_context_is_confidential(
    logged: SqlLogReader,
) -> None:
    rows = _ask(logged, hide=ConfidentialContexts())
    assert [_n(r) for r in rows] == [12, 5, 4, 3, 2, 1]


def test_keyset_pages_cover_every_consultation_once_when_followed(logged: SqlLogReader) -> None:
    everything = [_n(r) for r in _ask(logged)]
    seen: list[int] = []
    after = None
    while True:
        page = _ask(logged, after=after, limit=1)
        if not page:
            break
        seen += [_n(r) for r in page]
        after = (page[-1].occurred_at, page[-1].ticket)
    assert seen == everything


def test_another_person_sees_only_their_own_consultations_when_asked(
    logged: SqlLogReader,
) -> None:
    assert [_n(r) for r in _ask(logged, subject=OTHER)] == [11]


def test_entries_of_a_person_are_every_institution_current_and_past_when_read(
    db: Database,
) -> None:
    directory = SqlDirectory(db)
    mine = [
        DirectoryEntry(ME, "onem", Capacity(18, 1), dt.date(2024, 1, 1)),
        DirectoryEntry(ME, "onem", Capacity(18, 4), dt.date(2020, 1, 1), dt.date(2021, 6, 30)),
        DirectoryEntry(ME, "cin", Capacity(11, 1), dt.date(2003, 9, 1)),
    ]
    directory.register([*mine, DirectoryEntry(OTHER, "onem", Capacity(18, 4), dt.date(2024, 9, 1))])
    assert sorted(directory.entries_of(ME), key=lambda e: e.start) == sorted(
        mine, key=lambda e: e.start
    )
    assert directory.entries_of("72230000222") == []
