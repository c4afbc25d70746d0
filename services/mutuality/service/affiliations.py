"""Answering for a mutuality's members: the affiliation valid on a reference date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from mutuality.service.model import Affiliation
from runtime import identifiers
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound


class AffiliationRepository(Protocol):
    def for_person(self, insz: str) -> list[Affiliation]: ...


class AffiliationsUnit(Protocol):
    affiliations: AffiliationRepository


UnitFactory = Callable[[], AbstractContextManager[AffiliationsUnit]]


class AffiliationQueries:
    """The read side: one person's affiliation to this mutuality."""

    def __init__(self, mutuality: str, read_unit: UnitFactory, clock: Clock) -> None:
        self._mutuality, self._read_unit, self._clock = mutuality, read_unit, clock

    def get(self, insz: str, reference_date: dt.date | None) -> Affiliation:
        try:
            identifiers.parse_insz(insz)
        except identifiers.IdentifierError as exc:
            raise InvalidArgument.for_fields(
                [FieldViolation("insz", exc.description, exc.reason)], exc.reason
            ) from None
        day = reference_date or self._clock.today()
        with self._read_unit() as unit:
            periods = unit.affiliations.for_person(insz)
        for affiliation in periods:
            if affiliation.covers(day):
                return affiliation
        # The member's number is in the request already; the reply names only the mutuality.
        raise NotFound(
            "NOT_A_MEMBER",
            "the person is not a member of this mutuality on that date",
            metadata={"mutuality": self._mutuality, "reference_date": day.isoformat()},
        )
