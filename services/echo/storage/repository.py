"""The notes repository and the unit of work over the service's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.orm import Session

from echo.service.notes import Note
from echo.storage.models import NoteRow
from runtime.db import Database


def _note(row: NoteRow) -> Note:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return Note(row.id, row.text, row.creator, row.request_id, created)


class SqlNoteRepository:
    """Notes in SQL; never commits (the unit of work does)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, note_id: str) -> Note | None:
        row = self._session.get(NoteRow, note_id)
        return _note(row) if row else None

    def by_request_id(self, creator: str, request_id: str) -> Note | None:
        row = self._session.scalars(
            sa.select(NoteRow).where(NoteRow.creator == creator, NoteRow.request_id == request_id)
        ).one_or_none()
        return _note(row) if row else None

    def add(self, note: Note) -> None:
        self._session.add(
            NoteRow(
                id=note.id,
                text=note.text,
                creator=note.creator,
                request_id=note.request_id,
                created_at=note.created_at,
            )
        )


class SqlNotesUnit:
    """What the service layer sees of one transaction."""

    def __init__(self, session: Session) -> None:
        self.notes = SqlNoteRepository(session)


def unit_factory(db: Database, *, write: bool = True):  # noqa: ANN201 - a UnitFactory
    """A factory of units of work (a lost race raises runtime.errors.ConflictError)."""

    @contextmanager
    def unit() -> Iterator[SqlNotesUnit]:
        with db.unit_of_work(write=write) as session:
            yield SqlNotesUnit(session)

    return unit
