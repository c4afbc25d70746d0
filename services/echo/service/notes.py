"""Notes: validation and idempotent creation. No grpc, no sqlalchemy."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from runtime.clock import Clock
from runtime.errors import (
    ConflictError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    idempotency_key_reused,
)
from runtime.identity import Caller

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$", re.ASCII)
NOTE_NAME = re.compile(r"^notes/([0-9a-f]{32})$", re.ASCII)
MAX_TEXT = 1000


@dataclass(frozen=True)
class Note:
    """A stored note."""

    id: str
    text: str
    creator: str
    request_id: str
    created_at: datetime

    @property
    def name(self) -> str:
        return f"notes/{self.id}"


class NoteRepository(Protocol):
    def get(self, note_id: str) -> Note | None: ...
    def by_request_id(self, creator: str, request_id: str) -> Note | None: ...
    def add(self, note: Note) -> None: ...


class NotesUnit(Protocol):
    notes: NoteRepository


UnitFactory = Callable[[], AbstractContextManager[NotesUnit]]


class NoteService:
    """Create and read notes."""

    def __init__(self, unit: UnitFactory, read_unit: UnitFactory, clock: Clock) -> None:
        self._unit, self._read_unit, self._clock = unit, read_unit, clock

    def create(self, caller: Caller, request_id: str, text: str) -> Note:
        problems = []
        if not REQUEST_ID.match(request_id):
            problems.append(
                FieldViolation(
                    "request_id", "1 to 64 characters of A-Z a-z 0-9 . _ -", "INVALID_REQUEST_ID"
                )
            )
        if not text.strip() or len(text) > MAX_TEXT:
            problems.append(
                FieldViolation("note.text", f"1 to {MAX_TEXT} characters", "INVALID_TEXT")
            )
        if problems:
            raise InvalidArgument.for_fields(problems)
        for attempt in (1, 2):
            try:
                with self._unit() as unit:
                    existing = unit.notes.by_request_id(caller.uri, request_id)
                    if existing is not None:
                        if existing.text != text:
                            raise idempotency_key_reused()
                        return existing
                    note = Note(uuid.uuid4().hex, text, caller.uri, request_id, self._clock.now())
                    unit.notes.add(note)
                return note
            except ConflictError:
                # Another call with the same key committed first: read its answer.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, name: str) -> Note:
        match = NOTE_NAME.match(name)
        if not match:
            raise InvalidArgument.for_fields(
                [FieldViolation("name", "expected notes/{32 hex digits}", "INVALID_NAME")]
            )
        with self._read_unit() as unit:
            note = unit.notes.get(match.group(1))
        if note is None:
            raise NotFound("NOTE_NOT_FOUND", "no such note", metadata={"name": name})
        return note
