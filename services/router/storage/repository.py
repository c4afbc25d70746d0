"""SQL side of the router's configuration and reference directory.

`SqlConfigSource.snapshot()` reads the one-row `config_version` on every call (a primary-key
read) and reloads the whole configuration only when an administrative write has changed it, so a
revocation or suspension applies on the next call of every replica, without restart.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from router.service.model import (
    Authorisation,
    Capacity,
    ConfigSnapshot,
    DeceasedPolicy,
    DirectoryCheck,
    DirectoryEntry,
    Institution,
    Network,
    ServiceProvider,
)
from router.storage.models import (
    AuthorisationRow,
    ConfigVersionRow,
    DirectoryEntryRow,
    InstitutionRow,
    ServiceProviderRow,
)
from runtime.db import Database

#: At most this many directory entries are read for one person (a person has a handful; the
#: cap bounds a pathological case, e.g. a test number integrated by every institution daily).
MAX_PERSON_ENTRIES = 10_000
_VERSION = sa.select(ConfigVersionRow.value).where(ConfigVersionRow.id == 1)
_HOLDERS = sa.select(
    DirectoryEntryRow.insz,
    DirectoryEntryRow.institution,
    DirectoryEntryRow.sector,
    DirectoryEntryRow.code,
).where(
    DirectoryEntryRow.insz.in_(sa.bindparam("inszs", expanding=True)),
    DirectoryEntryRow.start_date <= sa.bindparam("on"),
    sa.or_(DirectoryEntryRow.end_date.is_(None), DirectoryEntryRow.end_date >= sa.bindparam("on")),
)
# Built once (building a select costs more Python time than the database takes to answer it).
_HOLDINGS = sa.select(
    DirectoryEntryRow.insz, DirectoryEntryRow.sector, DirectoryEntryRow.code
).where(
    DirectoryEntryRow.institution == sa.bindparam("institution"),
    DirectoryEntryRow.insz.in_(sa.bindparam("inszs", expanding=True)),
    DirectoryEntryRow.start_date <= sa.bindparam("on"),
    sa.or_(DirectoryEntryRow.end_date.is_(None), DirectoryEntryRow.end_date >= sa.bindparam("on")),
)


# The same for one person (nearly every routed message): a Prepared statement, see holdings().
_HOLDINGS_ONE = sa.select(DirectoryEntryRow.sector, DirectoryEntryRow.code).where(
    DirectoryEntryRow.institution == sa.bindparam("institution"),
    DirectoryEntryRow.insz == sa.bindparam("insz"),
    DirectoryEntryRow.start_date <= sa.bindparam("on"),
    sa.or_(DirectoryEntryRow.end_date.is_(None), DirectoryEntryRow.end_date >= sa.bindparam("on")),
)


def _capacity(text: str) -> Capacity:
    sector, _, code = text.partition("/")
    return Capacity(int(sector), int(code))


def to_institution(row: InstitutionRow) -> Institution:
    return Institution(
        id=row.id,
        display_name=row.display_name,
        network=Network(row.network),
        hub=row.hub,
        active=row.active,
        sectors=frozenset(row.sectors),
    )


def to_provider(row: ServiceProviderRow) -> ServiceProvider:
    from google.protobuf import descriptor_pb2

    fds = descriptor_pb2.FileDescriptorSet.FromString(row.descriptor_set)
    return ServiceProvider(
        service=row.service,
        provider=row.provider,
        endpoint=row.endpoint,
        deceased_policy=DeceasedPolicy(row.deceased_policy),
        files=tuple(f.SerializeToString() for f in fds.file),
        holder_capacities=frozenset(_capacity(c) for c in row.holder_capacities or ()),
        via_router=row.via_router or "",
    )


def to_authorisation(row: AuthorisationRow) -> Authorisation:
    return Authorisation(
        id=row.id,
        deliberation=row.deliberation,
        requester=row.requester,
        service=row.service,
        method=row.method,
        destination=row.destination,
        legal_contexts=frozenset(row.legal_contexts),
        directory_check=DirectoryCheck(row.directory_check),
        capacities=frozenset(_capacity(c) for c in row.capacities),
        read_mask_cap=frozenset(row.read_mask_cap),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        revoked=row.revoked,
    )


class SqlConfigSource:
    """The configuration, cached per version."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._snapshot = ConfigSnapshot(version=-1)
        self._version = db.prepare(_VERSION)

    def cached(self) -> ConfigSnapshot:
        """The last snapshot read, without asking the database (may be one change behind)."""
        return self._snapshot if self._snapshot.version >= 0 else self.snapshot()

    def snapshot(self) -> ConfigSnapshot:
        # Read on every call (a change by another replica counts from the next message): a
        # Prepared statement on a driver cursor, the cheapest round trip there is.
        with self._db.raw_read() as cursor:
            ((version,),) = self._version.all(cursor)
        current = self._snapshot
        if version == current.version:
            return current
        with self._lock:
            if self._snapshot.version != version:
                self._snapshot = self._load()
            return self._snapshot

    def _load(self) -> ConfigSnapshot:
        with self._db.unit_of_work(write=False) as session:
            version = session.execute(_VERSION).scalar_one()
            snap = ConfigSnapshot(version=version)
            for row in session.scalars(sa.select(InstitutionRow)):
                snap.institutions[row.id] = to_institution(row)
            for row in session.scalars(sa.select(ServiceProviderRow)):
                snap.providers.setdefault(row.service, []).append(to_provider(row))
            for row in session.scalars(sa.select(AuthorisationRow)):
                snap.authorisations.setdefault(row.requester, []).append(to_authorisation(row))
        return snap


def bump_version(session: Session) -> None:
    """Every administrative write calls this in its transaction."""
    session.execute(
        sa.update(ConfigVersionRow)
        .where(ConfigVersionRow.id == 1)
        .values(value=ConfigVersionRow.value + 1)
    )


class SqlDirectory:
    """The reference directory."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._holdings_one = db.prepare(_HOLDINGS_ONE)

    def holdings(
        self, institution: str, inszs: Sequence[str], on: dt.date
    ) -> dict[str, set[Capacity]]:
        if len(inszs) == 1:  # the hot path: one read on a driver cursor
            with self._db.raw_read() as cursor:
                rows = self._holdings_one.all(cursor, institution=institution, insz=inszs[0], on=on)
            return {inszs[0]: {Capacity(s, c) for s, c in rows}} if rows else {}
        found: dict[str, set[Capacity]] = {}
        with self._db.read() as conn:
            for start in range(0, len(inszs), 500):
                rows = conn.execute(
                    _HOLDINGS,
                    {
                        "institution": institution,
                        "inszs": list(inszs[start : start + 500]),
                        "on": on,
                    },
                )
                for insz, sector, code in rows:
                    found.setdefault(insz, set()).add(Capacity(sector, code))
        return found

    def holders(self, inszs: Sequence[str], on: dt.date) -> dict[str, set[tuple[str, Capacity]]]:
        """For each INSZ, every (institution, capacity) holding it on `on`."""
        found: dict[str, set[tuple[str, Capacity]]] = {}
        with self._db.read() as conn:
            for start in range(0, len(inszs), 500):
                rows = conn.execute(_HOLDERS, {"inszs": list(inszs[start : start + 500]), "on": on})
                for insz, institution, sector, code in rows:
                    found.setdefault(insz, set()).add((institution, Capacity(sector, code)))
        return found

    def overlapping(
        self, subjects: Sequence[tuple[str, dt.date, dt.date]]
    ) -> list[tuple[int, DirectoryEntry]]:
        """Every entry overlapping each (INSZ, start, end): (subject index, entry)."""
        t = DirectoryEntryRow.__table__
        by_insz: dict[str, list[tuple[int, dt.date, dt.date]]] = {}
        for i, (insz, start, end) in enumerate(subjects):
            by_insz.setdefault(insz, []).append((i, start, end))
        found: list[tuple[int, DirectoryEntry]] = []
        inszs = sorted(by_insz)
        with self._db.read() as conn:
            for at in range(0, len(inszs), 500):
                rows = conn.execute(
                    sa.select(
                        t.c.insz, t.c.institution, t.c.sector, t.c.code, t.c.start_date,
                        t.c.end_date,
                    ).where(t.c.insz.in_(inszs[at : at + 500]))
                )  # fmt: skip
                for insz, institution, sector, code, start, end in rows:
                    for index, q_start, q_end in by_insz[insz]:
                        if start <= q_end and (end is None or end >= q_start):
                            entry = DirectoryEntry(
                                insz, institution, Capacity(sector, code), start, end
                            )
                            found.append((index, entry))
        found.sort(key=lambda f: (f[0], f[1].institution, f[1].capacity, f[1].start))
        return found

    def move_subject(self, old: str, new: str) -> int:
        """Re-number a replaced person's entries (one transaction); an entry the new number
        already has identically is dropped instead of duplicated."""
        t = DirectoryEntryRow.__table__
        key = (t.c.institution, t.c.sector, t.c.code, t.c.start_date, t.c.end_date)
        with self._db.unit_of_work() as session:
            existing = {tuple(r) for r in session.execute(sa.select(*key).where(t.c.insz == new))}
            moved = 0
            for row in session.execute(sa.select(t.c.id, *key).where(t.c.insz == old)).all():
                if tuple(row[1:]) in existing:
                    session.execute(sa.delete(t).where(t.c.id == row[0]))
                else:
                    session.execute(sa.update(t).where(t.c.id == row[0]).values(insz=new))
                moved += 1
            return moved

    def register(self, entries: Iterable[DirectoryEntry]) -> tuple[int, int]:
        """Add entries in one transaction (all or nothing); returns (added, unchanged)."""
        with self._db.unit_of_work() as session:
            return self._register(session, entries)

    def _register(self, session: Session, entries: Iterable[DirectoryEntry]) -> tuple[int, int]:
        # One read of what the batch's institutions hold for its persons, one multi-row insert:
        # a batch of 1,000 costs two statements, not 2,000 (DIMONA integrates in batches).
        t = DirectoryEntryRow.__table__
        batch = list(entries)
        known: set[tuple] = set()
        for institution in {e.institution for e in batch}:
            inszs = sorted({e.insz for e in batch if e.institution == institution})
            for i in range(0, len(inszs), 500):
                rows = session.execute(
                    sa.select(t.c.insz, t.c.sector, t.c.code, t.c.start_date, t.c.end_date).where(
                        t.c.institution == institution, t.c.insz.in_(inszs[i : i + 500])
                    )
                )
                known.update((institution, *row) for row in rows)
        added: list[dict[str, object]] = []
        for e in batch:
            key = (e.institution, e.insz, e.capacity.sector, e.capacity.code, e.start, e.end)
            if key in known:
                continue
            known.add(key)
            added.append(
                {
                    "insz": e.insz,
                    "institution": e.institution,
                    "sector": e.capacity.sector,
                    "code": e.capacity.code,
                    "start_date": e.start,
                    "end_date": e.end,
                }
            )
        if added:
            session.execute(sa.insert(t), added)
        return len(added), len(batch) - len(added)

    def unregister(self, entries: Iterable[DirectoryEntry]) -> int:
        """End entries in one transaction; returns how many were ended."""
        with self._db.unit_of_work() as session:
            return self._unregister(session, entries)

    def _unregister(self, session: Session, entries: Iterable[DirectoryEntry]) -> int:
        ended = 0
        t = DirectoryEntryRow
        for e in entries:
            match = (
                t.institution == e.institution,
                t.insz == e.insz,
                t.sector == e.capacity.sector,
                t.code == e.capacity.code,
                t.start_date == e.start,
            )
            if e.end is not None and e.end < e.start:  # withdrawn: it never applied
                result = session.execute(sa.delete(t).where(*match))
            else:
                result = session.execute(sa.update(t).where(*match).values(end_date=e.end))
            ended += result.rowcount or 0
        return ended

    def list(
        self, institution: str, insz: str | None, after: tuple | None, limit: int
    ) -> list[tuple[DirectoryEntry, tuple]]:
        t = DirectoryEntryRow
        query = sa.select(t).where(t.institution == institution)
        if insz:
            query = query.where(t.insz == insz)
        order = (t.insz, t.sector, t.code, t.start_date, t.id)
        if after is not None:
            query = query.where(sa.tuple_(*order) > sa.tuple_(*after))
        with self._db.unit_of_work(write=False) as session:
            rows = session.scalars(query.order_by(*order).limit(limit)).all()
            return [
                (
                    DirectoryEntry(
                        r.insz, r.institution, Capacity(r.sector, r.code), r.start_date, r.end_date
                    ),
                    (r.insz, r.sector, r.code, r.start_date, r.id),
                )
                for r in rows
            ]

    def entries_of(self, insz: str) -> list[DirectoryEntry]:
        """Every entry of one person, any institution, current and past (the person's own view,
        router.service.citizen): a person has a handful; capped all the same."""
        t = DirectoryEntryRow
        query = sa.select(t).where(t.insz == insz).order_by(t.id).limit(MAX_PERSON_ENTRIES)
        with self._db.unit_of_work(write=False) as session:
            return [
                DirectoryEntry(
                    r.insz, r.institution, Capacity(r.sector, r.code), r.start_date, r.end_date
                )
                for r in session.scalars(query)
            ]
