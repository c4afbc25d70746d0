"""The reference directory's rules: an institution manages only its own entries, in its sectors."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Protocol

from router.service.model import CAPACITY_CODES, ConfigSnapshot, DirectoryEntry, Institution
from router.service.refusals import refusal
from runtime import identifiers
from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import Caller, PartyKind

MAX_BATCH = 1000


#: The institution whose mutation service fans changes out (the only caller of the fan-out's
#: two RPCs: who holds a person over a period, and moving a replaced number's entries).
MUTATION_SERVICE = "cbss"


class DirectoryStore(Protocol):
    def register(self, entries: Sequence[DirectoryEntry]) -> tuple[int, int]: ...
    def overlapping(
        self, subjects: Sequence[tuple[str, dt.date, dt.date]]
    ) -> list[tuple[int, DirectoryEntry]]: ...
    def move_subject(self, old: str, new: str) -> int: ...
    def unregister(self, entries: Sequence[DirectoryEntry]) -> int: ...
    def list(
        self, institution: str, insz: str | None, after: tuple | None, limit: int
    ) -> list[tuple[DirectoryEntry, tuple]]: ...


class Upstream(Protocol):
    """The primary router's directory, seen from a hub."""

    def register(self, entries: Sequence[DirectoryEntry]) -> None: ...
    def unregister(self, entries: Sequence[DirectoryEntry]) -> None: ...


class Hubs(Protocol):
    """The directories of the hubs behind this (primary) router."""

    def move(self, old: str, new: str) -> int: ...


class DirectoryService:
    """Register, unregister and list an institution's own directory entries."""

    def __init__(
        self,
        store: DirectoryStore,
        config: Callable[[], ConfigSnapshot],
        upstream: Upstream | None = None,
        *,
        upstream_name: str = "",
        hubs: Hubs | None = None,
    ) -> None:
        """`upstream`: on a hub, the primary router's directory, where the hub integrates its
        members' persons under its own identity (before they are stored here), and
        `upstream_name` that router's name (it relays a replaced number's move). `hubs`: on the
        primary, the hubs' directories a move is relayed to."""
        self._store, self._config, self._upstream = store, config, upstream
        self._upstream_name, self._hubs = upstream_name, hubs

    def _institution(self, caller: Caller) -> Institution:
        # A hub router keeps the entries of its network's institution (router/cin -> cin).
        if caller.kind not in (PartyKind.INSTITUTION, PartyKind.ROUTER):
            raise PermissionDenied("INSTITUTIONS_ONLY", "only institutions keep directory entries")
        institution = self._config().institutions.get(caller.id)
        if institution is None:
            raise refusal("UNKNOWN_INSTITUTION")
        if not institution.active:
            raise refusal("INSTITUTION_SUSPENDED")
        return institution

    def _validate(
        self, institution: Institution, entries: Sequence[DirectoryEntry], *, ending: bool
    ) -> None:
        if not 1 <= len(entries) <= MAX_BATCH:
            raise InvalidArgument.for_fields(
                [FieldViolation("entries", f"1 to {MAX_BATCH} entries")], "INVALID_BATCH"
            )
        problems: list[FieldViolation] = []
        forbidden: list[str] = []
        for i, e in enumerate(entries):
            where = f"entries[{i}]"
            try:
                identifiers.parse_insz(e.insz)
            except identifiers.IdentifierError as exc:
                problems.append(FieldViolation(f"{where}.insz", exc.description, exc.reason))
            if e.capacity not in CAPACITY_CODES:
                problems.append(
                    FieldViolation(f"{where}.capacity", "unknown capacity", "UNKNOWN_CAPACITY")
                )
            elif e.capacity.sector not in institution.sectors:
                forbidden.append(where)
            if ending and e.end is None:
                problems.append(
                    FieldViolation(f"{where}.period.end_date", "required to unregister")
                )
            # Ending on the day before the start withdraws the entry (it never applied: a
            # cancelled declaration); any earlier end is a mistake.
            earliest = e.start - dt.timedelta(days=1) if ending else e.start
            if e.end is not None and e.end < earliest:
                problems.append(FieldViolation(f"{where}.period.end_date", "before the start date"))
        if problems:
            raise InvalidArgument.for_fields(problems, "INVALID_ENTRY")
        if forbidden:
            raise PermissionDenied(
                "SECTOR_NOT_AUTHORISED",
                "the institution may not integrate persons in that sector",
                metadata={"entries": ",".join(forbidden[:20])},
            )

    def register(self, caller: Caller, entries: Sequence[DirectoryEntry]) -> tuple[int, int]:
        institution = self._institution(caller)
        owned = [_owned(e, institution.id) for e in entries]
        self._validate(institution, owned, ending=False)
        if self._upstream is not None:
            self._upstream.register(owned)  # raises Unavailable: nothing is stored here then
        return self._store.register(owned)

    def unregister(self, caller: Caller, entries: Sequence[DirectoryEntry]) -> int:
        institution = self._institution(caller)
        owned = [_owned(e, institution.id) for e in entries]
        self._validate(institution, owned, ending=True)
        if self._upstream is not None:
            self._upstream.unregister(owned)
        return self._store.unregister(owned)

    def list(
        self, caller: Caller, insz: str, page_size: int, page_token: str
    ) -> tuple[list[DirectoryEntry], str]:
        institution = self._institution(caller)
        if insz:
            try:
                identifiers.parse_insz(insz)
            except identifiers.IdentifierError as exc:
                raise InvalidArgument.for_fields(
                    [FieldViolation("insz", exc.description, exc.reason)]
                ) from None
        if page_size < 0:
            raise InvalidArgument.for_fields([FieldViolation("page_size", "not negative")])
        limit = min(page_size or 100, 1000)
        after = _decode(page_token, institution.id, insz)
        rows = self._store.list(institution.id, insz or None, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        token = _encode(rows[-1][1], institution.id, insz) if more and rows else ""
        return [entry for entry, _ in rows], token

    # -- the mutation service's fan-out --------------------------------------------------------
    def holders_over(
        self, caller: Caller, subjects: Sequence[tuple[str, dt.date | None, dt.date | None]]
    ) -> list[tuple[int, DirectoryEntry]]:
        """Every entry overlapping each subject's period (subject index, entry).

        The CBSS's mutation service asks the primary; on a hub, the primary router asks too
        (its own certificate, `router/<upstream>`), when a person at the portal lists who holds
        a file about them: the members the hub's entries at the primary stand for
        (router.service.citizen)."""
        if not self._relayed(caller):
            _require_mutation_service(caller)
        if not 1 <= len(subjects) <= MAX_BATCH:
            raise InvalidArgument.for_fields(
                [FieldViolation("subjects", f"1 to {MAX_BATCH} subjects")], "INVALID_BATCH"
            )
        problems: list[FieldViolation] = []
        checked: list[tuple[str, dt.date, dt.date]] = []
        for i, (insz, start, end) in enumerate(subjects):
            try:
                identifiers.parse_insz(insz)
            except identifiers.IdentifierError as exc:
                problems.append(FieldViolation(f"subjects[{i}].insz", exc.description, exc.reason))
            if start is None or end is None or end < start:
                problems.append(
                    FieldViolation(
                        f"subjects[{i}].period",
                        "start and end required, end not before start",
                        "INVALID_PERIOD",
                    )
                )
            else:
                checked.append((insz, start, end))
        if problems:
            raise InvalidArgument.for_fields(problems)
        return self._store.overlapping(checked)

    def move_subject(self, caller: Caller, old: str, new: str) -> int:
        """Move every entry of a replaced number to the new one (idempotent), here and then in
        the hubs' directories (their members' entries): on a hub, the caller is the primary
        router relaying the mutation service's move."""
        if not self._relayed(caller):
            _require_mutation_service(caller)
        problems: list[FieldViolation] = []
        for name, value in (("old_insz", old), ("new_insz", new)):
            try:
                identifiers.parse_insz(value)
            except identifiers.IdentifierError as exc:
                problems.append(FieldViolation(name, exc.description, exc.reason))
        if not problems and old == new:
            problems.append(FieldViolation("new_insz", "same number as old_insz", "SAME_INSZ"))
        if problems:
            raise InvalidArgument.for_fields(problems)
        moved = self._store.move_subject(old, new)
        if self._hubs is not None:
            moved += self._hubs.move(old, new)  # raises Unavailable: the caller tries again
        return moved

    def _relayed(self, caller: Caller) -> bool:
        """Is the caller this hub's primary router (which relays the CBSS's questions)?"""
        return (
            self._upstream is not None
            and caller.kind is PartyKind.ROUTER
            and caller.id == self._upstream_name
        )


def _require_mutation_service(caller: Caller) -> None:
    if caller.kind is not PartyKind.INSTITUTION or caller.id != MUTATION_SERVICE:
        raise PermissionDenied("NOT_AUTHORISED", "only the CBSS's mutation service may ask this")


def _owned(entry: DirectoryEntry, institution: str) -> DirectoryEntry:
    return DirectoryEntry(entry.insz, institution, entry.capacity, entry.start, entry.end)


def _encode(key: tuple, institution: str, insz: str) -> str:
    insz_, sector, code, start, row_id = key
    raw = json.dumps([institution, insz, insz_, sector, code, start.isoformat(), row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(token: str, institution: str, insz: str) -> tuple | None:
    if not token:
        return None
    try:
        inst, query, insz_, sector, code, start, row_id = json.loads(
            base64.urlsafe_b64decode(token.encode())
        )
        if (inst, query) != (institution, insz):
            raise ValueError("token of another query")
        return (str(insz_), int(sector), int(code), dt.date.fromisoformat(start), int(row_id))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidArgument.for_fields(
            [FieldViolation("page_token", "not a token of this query")], "INVALID_PAGE_TOKEN"
        ) from None
