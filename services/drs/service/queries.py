"""The DRS's reads for employers and bureaus: one declaration (with its attestation's status,
asked of the inbox at once when it is delivered and not yet known to be acknowledged), the
declarations newest first, and the to-do list (open tasks first). A person acting for the
employer at the portal reads with either role (a `reader` too).

And one consultation, answered only to a router (ACCESS_ROUTED: the runtime refuses any other
peer): a worker's declarations by every employer, newest first, for an institution or for the
worker himself at the portal (requester `person/{insz}`, legal context SELF_SERVICE). The DRS
trusts the router's checks (authorisation, legal context, the person asking about himself), as
for its other routed method, and does not look at the requester. The person who acted for an
employer (`acting_person`, a third person's INSZ) is never part of that answer.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

from drs.service import access, validation
from drs.service.model import AttestationStatus, Declaration, Task, TaskState
from drs.service.ports import Refresh, UnitFactory
from runtime import page_tokens
from runtime.clock import Clock
from runtime.errors import NotFound
from runtime.identity import Caller

logger = logging.getLogger(__name__)

T = TypeVar("T")
PAGE_DEFAULT, PAGE_MAX = 50, 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


def declaration_not_found() -> NotFound:
    return NotFound("DECLARATION_NOT_FOUND", "no such declaration of this employer")


class DrsQueries:
    def __init__(
        self, read_units: UnitFactory, clock: Clock, refresh: Refresh | None = None
    ) -> None:
        self._read_units, self._clock = read_units, clock
        self._refresh = refresh

    def get_declaration(self, caller: Caller, name: str) -> Declaration:
        access.require_declarant(caller)
        employer, reference = validation.declaration_name(name)
        found = self._read(caller, employer, reference)
        if (
            self._refresh is not None
            and found.attestation_status is AttestationStatus.DELIVERED
            and self._ask_inbox(found.attestation_id)
        ):
            found = self._read(caller, employer, reference)
        return found

    def _read(self, caller: Caller, employer: str, reference: str) -> Declaration:
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.declarations.by_reference(employer, reference)
        if found is None:
            raise declaration_not_found()
        return found

    def _ask_inbox(self, attestation_id: str) -> bool:
        """One routed question to the inbox; a failure only leaves the status as it was."""
        assert self._refresh is not None
        try:
            return self._refresh([attestation_id]) > 0
        except Exception:
            logger.warning("status of attestation %s not refreshed", attestation_id, exc_info=True)
            return False

    def list_declarations(
        self, caller: Caller, parent: str, page_size: int, page_token: str
    ) -> Page[Declaration]:
        access.require_declarant(caller)
        employer = validation.employer_parent(parent)
        size = page_tokens.page_size(page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        filters = ["declarations", employer]
        before = int(page_tokens.decode(page_token, filters, (int,))[0]) if page_token else None
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.declarations.newest(employer, before, size + 1)
        more = len(found) > size
        items = found[:size]
        token = page_tokens.encode(filters, [items[-1].id]) if more else ""
        return Page(items, token)

    def list_tasks(
        self, caller: Caller, parent: str, page_size: int, page_token: str
    ) -> Page[Task]:
        access.require_declarant(caller)
        employer = validation.employer_parent(parent)
        size = page_tokens.page_size(page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        filters = ["tasks", employer]
        after = None
        if page_token:
            rank, seq = page_tokens.decode(page_token, filters, (int, int))
            after = (int(rank), int(seq))
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
            found = unit.tasks.page(employer, after, size + 1)
        more = len(found) > size
        items = found[:size]
        token = ""
        if more:
            last = items[-1]
            token = page_tokens.encode(filters, [task_rank(last), last.seq])
        return Page(items, token)

    def list_worker_declarations(
        self, insz: str, page_size: int, page_token: str
    ) -> Page[Declaration]:
        """A consultation: the runtime lets only a router call it, after its checks."""
        found = validation.Violations()
        worker = validation.insz(insz, found)
        found.raise_if_any()
        size = page_tokens.page_size(page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        filters = ["worker-declarations", worker]
        before = int(page_tokens.decode(page_token, filters, (int,))[0]) if page_token else None
        with self._read_units() as unit:
            rows = unit.declarations.of_worker(worker, before, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        token = page_tokens.encode(filters, [rows[-1].id]) if more else ""
        return Page([dataclasses.replace(d, acting_person="") for d in rows], token)


def task_rank(task: Task) -> int:
    """Open tasks (0) before done ones (1)."""
    return 0 if task.state is TaskState.OPEN else 1
