"""The DmfA's reads: versions and history for employers and bureaus, the worker's quarter for
institutions (through the router), the event log for the mutation service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from dmfa.service import access, validation
from dmfa.service.model import (
    DeclarationEvent,
    DeclarationSummary,
    DeclaredWorker,
    EmployerQuarter,
    Quarter,
    Version,
)
from dmfa.service.ports import UnitFactory
from runtime import page_tokens
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound
from runtime.identity import Caller

EVENTS_DEFAULT, EVENTS_MAX = 100, 1000
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


def version_not_found() -> NotFound:
    return NotFound("VERSION_NOT_FOUND", "no such version of this employer's declarations")


class DmfaQueries:
    def __init__(self, read_units: UnitFactory, clock: Clock) -> None:
        self._read_units, self._clock = read_units, clock

    def get_version(self, caller: Caller, name: str) -> Version:
        access.require_declarant(caller)
        employer, quarter, number = validation.version_name(name)
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.versions.get(employer, quarter, number)
        if found is None:
            raise version_not_found()
        return found

    def list_versions(
        self, caller: Caller, parent: str, page_size: int, page_token: str
    ) -> Page[Version]:
        access.require_declarant(caller)
        employer, quarter = validation.declaration_name(parent)
        size = page_tokens.page_size(page_size, default=50, maximum=500)
        filters = ["versions", employer, str(quarter)]
        after = page_tokens.decode(page_token, filters, (int,))[0] if page_token else 0
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.versions.of_declaration(employer, quarter, int(after), size + 1)
        more = len(found) > size
        items = found[:size]
        token = page_tokens.encode(filters, [items[-1].number]) if more else ""
        return Page(items, token)

    def list_declarations(
        self, caller: Caller, parent: str, page_size: int, page_token: str
    ) -> Page[DeclarationSummary]:
        access.require_declarant(caller)
        employer = validation.employer_name(parent)
        size = page_tokens.page_size(page_size, default=50, maximum=500)
        filters = ["declarations", employer]
        before = None
        if page_token:
            raw = page_tokens.decode(page_token, filters, (int, int))
            before = Quarter(int(raw[0]), int(raw[1]))
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.versions.declarations(employer, before, size + 1)
        more = len(found) > size
        items = found[:size]
        token = ""
        if more:
            last = items[-1].quarter
            token = page_tokens.encode(filters, [last.year, last.quarter])
        return Page(items, token)

    def list_workers(
        self, caller: Caller, name: str, page_size: int, page_token: str
    ) -> Page[DeclaredWorker]:
        access.require_declarant(caller)
        employer, quarter, number = validation.version_name(name)
        size = page_tokens.page_size(page_size, default=100, maximum=1000)
        filters = ["workers", employer, str(quarter), number]
        after = str(page_tokens.decode(page_token, filters, (str,))[0]) if page_token else ""
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            version = unit.versions.get(employer, quarter, number)
            if version is None:
                raise version_not_found()
            found = unit.versions.workers(version.id, after, size + 1)
        more = len(found) > size
        items = found[:size]
        token = page_tokens.encode(filters, [items[-1].insz]) if more else ""
        return Page(items, token)

    def worker_quarter(self, insz: str, year: int, number: int) -> list[EmployerQuarter]:
        """Answered only to a router (ACCESS_ROUTED): it checked the requester already."""
        insz = validation.insz(insz)
        quarter = validation.quarter(year, number, "year")
        with self._read_units() as unit:
            return unit.worker_quarters.of_worker(insz, quarter)

    def worker_quarters_before(
        self, insz: str, employer: str, reference: dt.date | None, max_quarters: int
    ) -> list[tuple[Quarter, EmployerQuarter]]:
        """A consultation (the DRS's): the worker's closed quarters with one employer before the
        quarter holding `reference`, newest first. Answered only to a router."""
        insz = validation.insz(insz)
        employer = validation.employer_number(employer, "employer")
        if reference is None:
            raise validation.invalid("reference_date", "a full, possible date", "INVALID_DATE")
        if not 0 <= max_quarters <= 8:
            raise validation.invalid("max_quarters", "0 to 8", "INVALID_MAX_QUARTERS")
        holding = Quarter(reference.year, (reference.month - 1) // 3 + 1)
        with self._read_units() as unit:
            return unit.worker_quarters.of_worker_with(insz, employer, holding, max_quarters or 4)

    def list_events(
        self, caller: Caller, after: int, page_size: int
    ) -> tuple[list[DeclarationEvent], int]:
        access.require_event_reader(caller)
        if after < 0:
            raise InvalidArgument.for_fields(
                [FieldViolation("after_sequence", "not negative", "INVALID_AFTER_SEQUENCE")]
            )
        size = page_tokens.page_size(page_size, default=EVENTS_DEFAULT, maximum=EVENTS_MAX)
        with self._read_units() as unit:
            return unit.events.after(after, size)
