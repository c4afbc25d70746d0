"""Pre-filling and submitting declarations: the DRS's write path for employers and bureaus.

SubmitDeclaration:

1. Who: the caller may act for the employer (access); the employer is known; a person acting
   for it at the portal as a `reader` is PERMISSION_DENIED `READ_ONLY_ROLE` (pre-filling is a
   read: a reader may).
2. Idempotency on (employer, declaration reference): the same content (digest of the request's
   deterministic serialization) answers the stored declaration again; other content is
   ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`. The person who acted (`acting_person`) is not
   part of the content: another person (or the employer's certificate) resubmitting the same
   content answers the stored declaration, which keeps the person who first filed it.
3. The task it answers: a named task must be this employer's OPEN task for this worker and
   scenario (FAILED_PRECONDITION `TASK_NOT_FOUND` otherwise); unnamed, a ZIMA 001 answers the
   worker's oldest open request, if any.
4. The pre-fill through the router (`prefill`), outside any transaction: a caller that is not the
   worker's employer on the risk date is FAILED_PRECONDITION `NOT_WORKERS_EMPLOYER`; a source
   that cannot answer is UNAVAILABLE `PREFILL_UNAVAILABLE`. Nothing is stored in either case.
5. The rules (`rules.judge`): status, anomalies, lateness, destination.
6. One transaction: the declaration with its anomalies; when accepted, its attestation queued
   in the outbox and the task marked DONE. A refused declaration is stored (the employer sees
   why) and sends nothing. A lost race (the same reference submitted twice at once, or the
   task answered meanwhile) runs steps 2 to 6 again: the second submission then answers as the
   first did, or sees the task DONE.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from drs.service import access, attestations
from drs.service.model import (
    Declaration,
    Prefill,
    Scenario,
    Submission,
    Task,
    TaskState,
    WorkAccident,
)
from drs.service.ports import DrsUnit, Network, UnitFactory
from drs.service.prefill import THREADS as PREFILL_THREADS
from drs.service.prefill import Prefiller
from drs.service.rules import NEEDS_REQUEST, Facts, Judgement, judge
from runtime.clock import Clock
from runtime.errors import (
    ConflictError,
    FailedPrecondition,
    Unavailable,
    idempotency_key_reused,
)
from runtime.identity import Caller

logger = logging.getLogger(__name__)

_ATTEMPTS = 5


class _TaskMoved(Exception):
    """The task was answered by another declaration between the read and the write."""


def task_not_found() -> FailedPrecondition:
    return FailedPrecondition(
        "TASK_NOT_FOUND",
        "the task is not an open task of this employer for this worker and scenario",
    )


class Declarations:
    def __init__(
        self,
        units: UnitFactory,
        read_units: UnitFactory,
        network: Network,
        clock: Clock,
        *,
        on_queued: Callable[[], None] | None = None,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        prefill_threads: int = PREFILL_THREADS,
    ) -> None:
        self._units, self._read_units = units, read_units
        self._prefiller = Prefiller(network, threads=prefill_threads)
        self._clock = clock
        self._on_queued = on_queued or (lambda: None)
        self._new_id = new_id

    def close(self) -> None:
        self._prefiller.close()

    def prefill(
        self, caller: Caller, employer: str, insz: str, scenario: Scenario, risk_date: dt.date
    ) -> Prefill:
        access.require_declarant(caller)
        with self._read_units() as unit:
            access.require_may_act_for(caller, employer, unit, self._clock.today())
        return self._prefiller.gather(employer, insz, scenario, risk_date)

    def submit(self, caller: Caller, submission: Submission) -> Declaration:
        access.require_declarant(caller)
        prefill: Prefill | None = None
        for _attempt in range(_ATTEMPTS):
            with self._read_units() as unit:
                employer = access.require_may_act_for(
                    caller, submission.employer, unit, self._clock.today()
                )
                access.require_may_declare(caller)
                known = unit.declarations.by_reference(submission.employer, submission.reference)
                if known is not None:
                    return _same(known, submission)
                task = self._task(unit, submission)
                risk = submission.risk
                insurer = (
                    unit.insurers.get(risk.insurer_kbo)
                    if isinstance(risk, WorkAccident) and risk.insurer_kbo
                    else None
                )
            if prefill is None:  # asked once, even when the write is tried again
                prefill = self._prefiller.gather(
                    submission.employer, submission.insz, submission.scenario, submission.risk_date
                )
            judgement = judge(
                submission, Facts(prefill, employer, insurer, task, self._clock.today())
            )
            try:
                declaration = self._store(caller, submission, prefill, judgement, task)
            except (ConflictError, _TaskMoved):
                continue
            logger.info(
                "drs declaration %s stored: %s, %s, %d anomalies%s",
                declaration.name,
                declaration.scenario.value,
                declaration.status.value,
                len(declaration.anomalies),
                f", attestation {declaration.attestation_id}" if declaration.attestation_id else "",
            )
            if declaration.status.accepted:
                self._on_queued()
            return declaration
        raise Unavailable("BUSY", "the declaration is busy; retry with the same reference")

    def _task(self, unit: DrsUnit, submission: Submission) -> Task | None:
        tasks = unit.tasks
        if submission.task:
            task = tasks.get(submission.employer, submission.task)
            if (
                task is None
                or task.state is not TaskState.OPEN
                or task.insz != submission.insz
                or task.scenario is not submission.scenario
            ):
                raise task_not_found()
            return task
        if submission.scenario in NEEDS_REQUEST:
            return tasks.oldest_open(submission.employer, submission.insz, submission.scenario)
        return None

    def _store(
        self,
        caller: Caller,
        submission: Submission,
        prefill: Prefill,
        judgement: Judgement,
        task: Task | None,
    ) -> Declaration:
        accepted = judgement.status.accepted
        with self._units() as unit:
            known = unit.declarations.by_reference(submission.employer, submission.reference)
            if known is not None:
                return _same(known, submission)
            if task is not None:
                locked = unit.tasks.lock(task.id)
                if locked is None or locked.state is not TaskState.OPEN:
                    raise _TaskMoved()
            declaration = unit.declarations.add(
                Declaration(
                    employer=submission.employer,
                    reference=submission.reference,
                    scenario=submission.scenario,
                    insz=submission.insz,
                    risk_date=submission.risk_date,
                    status=judgement.status,
                    anomalies=judgement.anomalies,
                    late=judgement.late,
                    deadline=judgement.deadline,
                    digest=submission.digest,
                    risk=submission.risk,
                    quarters=submission.quarters,
                    employment=prefill.employment,
                    dmfa_quarters=prefill.quarters,
                    attestation_id=self._new_id() if accepted else "",
                    attestation_kind=submission.scenario.kind if accepted else "",
                    destination=judgement.destination if accepted else "",
                    task=task.id if accepted and task is not None else "",
                    submitted_by=caller.uri,
                    submitted_at=self._clock.now(),
                    acting_person=caller.person,
                )
            )
            if accepted:
                unit.attestations.enqueue(attestations.attestation(declaration))
                if task is not None:
                    unit.tasks.mark_done(task.id, declaration.reference)
            return declaration


def _same(known: Declaration, submission: Submission) -> Declaration:
    if known.digest != submission.digest:
        raise idempotency_key_reused("declaration_reference")
    return known
