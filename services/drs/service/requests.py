"""DrsRequestService.RequestDeclaration: an institution asks an employer for a declaration (today
a mutuality, for a ZIMA 001 when its member's incapacity goes beyond the guaranteed salary). It
becomes an OPEN task in the employer's to-do list, with the deadline of the declaration asked
for; the employer's accepted declaration marks it DONE.

Idempotent on (requester, `request_id`): the same request answers the same task; another
request under the same id is ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`. The employer must be known
to the ONSS (NOT_FOUND `EMPLOYER_NOT_FOUND`). Whether the requester may ask is the router's
authorisation (see `access`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable

from drs.service import access, deadlines
from drs.service.model import Scenario, Task
from drs.service.ports import UnitFactory
from runtime.clock import Clock
from runtime.errors import ConflictError, Unavailable, idempotency_key_reused
from runtime.identity import Caller

logger = logging.getLogger(__name__)

_ATTEMPTS = 3


def request_digest(employer: str, insz: str, scenario: Scenario, risk_date: dt.date) -> str:
    text = f"{employer}|{insz}|{scenario.value}|{risk_date.isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()


class Requests:
    def __init__(
        self,
        units: UnitFactory,
        clock: Clock,
        *,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._units, self._clock, self._new_id = units, clock, new_id

    def request(
        self,
        caller: Caller,
        request_id: str,
        employer: str,
        insz: str,
        scenario: Scenario,
        risk_date: dt.date,
    ) -> Task:
        requester = access.require_requester(caller)
        digest = request_digest(employer, insz, scenario, risk_date)
        for _attempt in range(_ATTEMPTS):
            try:
                with self._units() as unit:
                    known = unit.tasks.by_request(requester, request_id)
                    if known is not None:
                        if known.digest != digest:
                            raise idempotency_key_reused("request_id")
                        return known
                    if unit.employers.get(employer) is None:
                        raise access.employer_not_found()
                    task = unit.tasks.add(
                        Task(
                            id=self._new_id(),
                            employer=employer,
                            scenario=scenario,
                            insz=insz,
                            risk_date=risk_date,
                            requested_by=requester,
                            request_id=request_id,
                            digest=digest,
                            requested_at=self._clock.now(),
                            deadline=deadlines.deadline(scenario, risk_date),
                        )
                    )
            except ConflictError:
                continue  # the same request raced itself: the next pass reads the winner
            logger.info("drs task %s requested by %s", task.name, requester)
            return task
        raise Unavailable("BUSY", "the request is busy; retry with the same request id")
