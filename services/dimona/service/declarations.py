"""Submitting a declaration: IN, OUT, UPDATE, CANCEL.

In this order:
1. the caller may declare at all (employers and bureaus), then the input is validated
   (`validation`: malformed → INVALID_ARGUMENT, nothing stored), then the caller may act for
   that employer (`access`: own employer, or a bureau's mandate; the employer is registered),
   then files and not only reads (a person at the portal whose role is `reader`: PERMISSION_DENIED
   `READ_ONLY_ROLE`, nothing looked up);
2. the idempotency key (employer, declaration reference) is looked up: the same content answers
   the stored declaration again (nothing else happens: no second identity check, no second
   event); other content is ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`. The person who acted at
   the portal (`acting_person`, recorded besides `submitted_by`) is not part of the content:
   another person or the employer's certificate resubmitting it gets the stored declaration,
   which keeps the person who first filed it;
3. for an IN, the worker's identity is asked of the registry through the router (exists;
   replaced → refused with the new number; deceased → refused), or — for a worker declared
   without an INSZ — found or registered as a BIS number (`WorkerIdentity`). Unreachable →
   UNAVAILABLE, nothing stored;
4. one unit of work takes the worker's lock (every declaration about a worker is serialised,
   across employers: overlaps and the student quota are decided on what is committed), checks
   the rules and writes, together: the declaration (accepted or refused, with its anomalies and
   answer), the period, the numbered employment event and the directory outbox row. A lost race
   on the idempotency key is run again and then answers like the winner.

An accepted declaration wakes the directory dispatcher (`directory_sync`), which brings the
worker's entries at the router up to date from the outbox — durable and retried, so a router
that is down loses nothing and never fails a declaration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dimona.service import access, checks
from dimona.service.calendar import (
    cancel_deadline,
    in_deadline,
    out_deadline,
    update_deadline,
)
from dimona.service.commands import (
    Submission,
    ValidCancel,
    ValidIn,
    ValidOut,
    ValidSubmission,
    ValidUpdate,
)
from dimona.service.group_commit import GroupCommitter
from dimona.service.model import (
    Action,
    Anomaly,
    Declaration,
    EmploymentEvent,
    EventKind,
    Period,
    PeriodState,
    Severity,
    Status,
)
from dimona.service.ports import (
    ConflictError,
    DimonaUnit,
    IdentificationRefused,
    PersonOutcome,
    UnitFactory,
    WorkerIdentity,
)
from dimona.service.rules import PeriodDraft, field_anomalies
from dimona.service.validation import validate_submission
from runtime.clock import Clock
from runtime.errors import Aborted, idempotency_key_reused
from runtime.identity import Caller

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
T = TypeVar("T")

_ACTION = {ValidIn: Action.IN, ValidOut: Action.OUT, ValidUpdate: Action.UPDATE}
_PREFIX = {
    Action.IN: "dimona_in",
    Action.OUT: "dimona_out",
    Action.UPDATE: "dimona_update",
    Action.CANCEL: "dimona_cancel",
}


def fingerprint(valid: ValidSubmission) -> str:
    """A stable digest of a declaration's content (the reference excluded), to tell a retry
    from a reused reference."""

    def encode(value: object) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, enum.Enum):
            return value.value
        raise TypeError(type(value).__name__)

    body = [type(valid.form).__name__, dataclasses.asdict(valid.form)]
    payload = json.dumps(body, default=encode, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def action_of(valid: ValidSubmission) -> Action:
    return _ACTION.get(type(valid.form), Action.CANCEL)  # type: ignore[arg-type]


@dataclass
class _Context:
    """What one declaration carries through its unit of work."""

    caller: Caller
    valid: ValidSubmission
    action: Action
    digest: str
    received: dt.datetime
    worker: str = ""
    identity_anomalies: tuple[Anomaly, ...] = ()

    @property
    def prefix(self) -> str:
        return _PREFIX[self.action]


def _blocking(code: str, field: str, value: object, label: str) -> Anomaly:
    return Anomaly(code, Severity.BLOCKING, field, "" if value is None else str(value), label)


class Declarations:
    """The write side of DIMONA."""

    def __init__(
        self,
        unit: UnitFactory,
        read_unit: UnitFactory,
        identity: WorkerIdentity,
        clock: Clock,
        on_accepted: Callable[[], None] = lambda: None,
        committer: GroupCommitter | None = None,
    ) -> None:
        """`committer`: run the units of work grouped (SQLite; see group_commit)."""
        self._unit, self._read = unit, read_unit
        self._identity, self._clock, self._on_accepted = identity, clock, on_accepted
        self._committer = committer

    def submit(self, caller: Caller, submission: Submission) -> Declaration:
        access.require_declarant(caller)
        valid = validate_submission(submission)
        ctx = _Context(
            caller, valid, action_of(valid), fingerprint(valid), received=self._clock.now()
        )
        with self._read() as unit:
            access.require_may_act_for(caller, valid.employer, unit, self._clock.today())
            access.require_may_declare(caller)
            stored = unit.declarations.get(valid.employer, valid.reference)
        if stored is not None:
            return self._replay(stored, ctx.digest)
        if isinstance(valid.form, ValidIn):
            self._identify(ctx, valid.form)
        declaration, created = self._retrying(lambda unit: self._decide(unit, ctx))
        if created:
            logger.debug(  # the declaration row is the record; a log line each costs
                "declaration %s %s: %s (period %d)",
                ctx.action.value,
                declaration.name,
                declaration.status.value,
                declaration.period_id,
            )
            if declaration.accepted:
                self._on_accepted()
        return declaration

    # -- identity ------------------------------------------------------------------------------

    def _identify(self, ctx: _Context, form: ValidIn) -> None:
        field = "dimona_in.worker.insz"
        if form.insz is None:
            assert form.identification is not None
            field = "dimona_in.worker.identification"
            request_id = (
                "dimona-"
                + hashlib.sha256(
                    f"{ctx.valid.employer}/{ctx.valid.reference}".encode()
                ).hexdigest()[:32]
            )
            try:
                ctx.worker = self._identity.identify(form.identification, request_id)
            except IdentificationRefused as exc:
                ctx.identity_anomalies = (
                    _blocking(
                        "WORKER_IDENTIFICATION_REFUSED",
                        field,
                        exc.reason,
                        "the registry could not find nor register this worker",
                    ),
                )
                return
        else:
            ctx.worker = form.insz
        check = self._identity.check(ctx.worker)
        if check.outcome is PersonOutcome.NOT_FOUND:
            anomaly = _blocking("WORKER_NOT_FOUND", field, None, "no person has this INSZ")
        elif check.outcome is PersonOutcome.REPLACED:
            anomaly = _blocking(
                "WORKER_INSZ_REPLACED",
                field,
                check.replaced_by,
                "this INSZ was replaced: declare the worker under the new number",
            )
        elif check.outcome is PersonOutcome.DECEASED:
            anomaly = _blocking("WORKER_DECEASED", field, None, "the worker is deceased")
        else:
            return
        ctx.identity_anomalies = (anomaly,)

    # -- the unit of work ----------------------------------------------------------------------

    def _replay(self, stored: Declaration, digest: str) -> Declaration:
        if stored.fingerprint != digest:
            raise idempotency_key_reused("declaration_reference")
        return stored

    def _retrying(self, work: Callable[[DimonaUnit], T]) -> T:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                if self._committer is not None:
                    return self._committer.run(work)
                with self._unit() as unit:
                    return work(unit)
            except ConflictError:
                continue  # another transaction won (same reference); the next attempt sees it
        raise Aborted("CONCURRENT_UPDATE", "too many concurrent declarations; retry")

    def _decide(self, unit: DimonaUnit, ctx: _Context) -> tuple[Declaration, bool]:
        stored = unit.declarations.get(ctx.valid.employer, ctx.valid.reference)
        if stored is not None:
            return self._replay(stored, ctx.digest), False
        form = ctx.valid.form
        if isinstance(form, ValidIn):
            return self._in(unit, ctx, form), True
        period = unit.periods.get(form.period_id)
        if period is not None:
            unit.periods.lock_worker(period.worker)
            period = unit.periods.get(form.period_id)  # as committed under the worker's lock
        if period is None or period.employer != ctx.valid.employer:
            anomaly = _blocking(
                "PERIOD_NOT_FOUND",
                f"{ctx.prefix}.period_id",
                form.period_id,
                "the employer has no period with this id",
            )
            return self._store(unit, ctx, [anomaly], None, None, None), True
        ctx.worker = period.worker
        if period.state is PeriodState.CANCELLED:
            anomaly = _blocking(
                "PERIOD_CANCELLED",
                f"{ctx.prefix}.period_id",
                period.period_id,
                "the period was cancelled",
            )
            return self._store(unit, ctx, [anomaly], period, None, None), True
        if isinstance(form, ValidOut):
            return self._out(unit, ctx, form, period), True
        if isinstance(form, ValidUpdate):
            return self._update(unit, ctx, form, period), True
        assert isinstance(form, ValidCancel)
        return self._cancel(unit, ctx, period), True

    def _in(self, unit: DimonaUnit, ctx: _Context, form: ValidIn) -> Declaration:
        draft = form.draft
        if draft.rule.one_day and draft.end_date is None:
            draft = dataclasses.replace(draft, end_date=draft.start_date)  # a one-day period
        anomalies = list(ctx.identity_anomalies) + field_anomalies(draft, ctx.prefix)
        if not ctx.worker or ctx.identity_anomalies:
            return self._store(unit, ctx, anomalies, None, None, None)
        unit.periods.lock_worker(ctx.worker)
        others = unit.periods.of_worker(ctx.worker)
        quota = _quota(unit, draft, ctx.valid.employer, ctx.worker, others, exclude=0)
        if not anomalies:
            anomalies += self._context(draft, ctx, others, quota, exclude=0)
        deadline = in_deadline(draft.start_date, draft.start_time)
        if any(a.blocking for a in anomalies):
            return self._store(unit, ctx, anomalies, None, None, None)
        late = ctx.received >= deadline
        if late:
            anomalies.append(_late(f"{ctx.prefix}.start_date", deadline))
        now = self._clock.now()
        period = unit.periods.add(
            Period(
                period_id=0,
                employer=ctx.valid.employer,
                worker=ctx.worker,
                worker_type=draft.worker_type,
                joint_committee=draft.joint_committee,
                sub_entity=draft.sub_entity,
                using_employer=draft.using_employer,
                start_date=draft.start_date,
                start_time=draft.start_time,
                end_date=draft.end_date,
                end_time=draft.end_time,
                planned_hours=draft.planned_hours or 0,
                flexi_contract=draft.flexi_contract,
                state=PeriodState.ACTIVE,
                student_minutes=quota.mine,
                exceeding_minutes=quota.exceeding,
                late=late,
                created_at=now,
                updated_at=now,
            )
        )
        return self._store(unit, ctx, anomalies, period, EventKind.STARTED, deadline)

    def _out(self, unit: DimonaUnit, ctx: _Context, form: ValidOut, period: Period) -> Declaration:
        p = ctx.prefix
        anomalies: list[Anomaly] = []
        if form.insz and form.insz != period.worker:
            anomalies.append(
                _blocking("WORKER_MISMATCH", f"{p}.insz", None, "not the period's worker")
            )
        if period.end_date is not None:
            anomalies.append(
                _blocking(
                    "PERIOD_ALREADY_ENDED",
                    f"{p}.period_id",
                    period.end_date.isoformat(),
                    "the period already has an end date: change it with an UPDATE",
                )
            )
        draft = _draft(period, end_date=form.end_date, end_time=form.end_time)
        if not anomalies:
            anomalies += field_anomalies(draft, p)
        if any(a.blocking for a in anomalies):
            return self._store(unit, ctx, anomalies, period, None, None)
        deadline = out_deadline(form.end_date)
        if ctx.received >= deadline:
            anomalies.append(_late(f"{p}.end_date", deadline))
        changed = dataclasses.replace(
            period, end_date=form.end_date, end_time=form.end_time, updated_at=self._clock.now()
        )
        unit.periods.update(changed)
        return self._store(unit, ctx, anomalies, changed, EventKind.ENDED, deadline)

    def _update(
        self, unit: DimonaUnit, ctx: _Context, form: ValidUpdate, period: Period
    ) -> Declaration:
        p = ctx.prefix
        anomalies: list[Anomaly] = []
        for name, new, old in (
            ("joint_committee", form.joint_committee, period.joint_committee),
            ("worker_type", form.worker_type, period.worker_type),
            ("sub_entity", form.sub_entity, period.sub_entity),
            ("using_employer", form.using_employer, period.using_employer),
        ):
            if new is not None and new != old:
                anomalies.append(
                    _blocking(
                        "CHARACTERISTIC_CHANGED",
                        f"{p}.{name}",
                        new.value if isinstance(new, enum.Enum) else new,
                        f"the {name.replace('_', ' ')} is a characteristic of the period: declare "
                        "OUT and a new IN (or CANCEL and a new IN if it was declared wrongly)",
                    )
                )
        draft = _draft(
            period,
            start_date=form.start_date or period.start_date,
            start_time=form.start_time if form.start_time is not None else period.start_time,
            end_date=form.end_date or period.end_date,
            end_time=form.end_time if form.end_time is not None else period.end_time,
            planned_hours=(
                form.planned_hours if form.planned_hours is not None else period.planned_hours
            ),
        )
        if draft.rule.one_day and form.start_date and not form.end_date:
            draft = dataclasses.replace(draft, end_date=draft.start_date)  # the day moves
        others = unit.periods.of_worker(period.worker)
        quota = _quota(unit, draft, period.employer, period.worker, others, period.period_id)
        if not anomalies:
            anomalies += field_anomalies(draft, p)
        if not anomalies:
            anomalies += self._context(draft, ctx, others, quota, exclude=period.period_id)
        if any(a.blocking for a in anomalies):
            return self._store(unit, ctx, anomalies, period, None, None)
        deadline = update_deadline(
            old_start=period.start_date,
            old_start_time=period.start_time,
            new_start=draft.start_date,
            new_start_time=draft.start_time,
            old_end=period.end_date,
            new_end=draft.end_date,
            other_changes=(
                draft.planned_hours != (period.planned_hours or None)
                or draft.end_time != period.end_time
            ),
        )
        if deadline is not None and ctx.received >= deadline:
            anomalies.append(_late(p, deadline))
        changed = dataclasses.replace(
            period,
            start_date=draft.start_date,
            start_time=draft.start_time,
            end_date=draft.end_date,
            end_time=draft.end_time,
            planned_hours=draft.planned_hours or 0,
            student_minutes=quota.mine,
            exceeding_minutes=quota.exceeding,
            updated_at=self._clock.now(),
        )
        unit.periods.update(changed)
        return self._store(unit, ctx, anomalies, changed, EventKind.CHANGED, deadline)

    def _cancel(self, unit: DimonaUnit, ctx: _Context, period: Period) -> Declaration:
        anomalies: list[Anomaly] = []
        deadline = cancel_deadline(period.start_date)
        if ctx.received >= deadline:
            anomalies.append(_late(f"{ctx.prefix}.period_id", deadline))
        changed = dataclasses.replace(
            period, state=PeriodState.CANCELLED, updated_at=self._clock.now()
        )
        unit.periods.update(changed)
        return self._store(unit, ctx, anomalies, changed, EventKind.CANCELLED, deadline)

    def _context(
        self,
        draft: PeriodDraft,
        ctx: _Context,
        others: list[Period],
        quota: checks.QuotaOutcome,
        exclude: int,
    ) -> list[Anomaly]:
        """The rules that look at the worker's other periods."""
        employer = ctx.valid.employer
        found = [
            *_prefixed(checks.overlapping(draft, employer, others, exclude), ctx.prefix),
            *_prefixed(checks.consecutive_days(draft, employer, others, exclude), ctx.prefix),
        ]
        if any(a.blocking for a in found):
            return found
        field = (
            f"{ctx.prefix}.planned_hours"
            if draft.rule.student and not draft.rule.one_day
            else f"{ctx.prefix}.end_time"
        )
        found += checks.quota_warning(quota, field)
        found += checks.flexi_warning(
            draft, employer, [o for o in others if o.period_id != exclude], f"{ctx.prefix}"
        )
        return found

    def _store(
        self,
        unit: DimonaUnit,
        ctx: _Context,
        anomalies: list[Anomaly],
        period: Period | None,
        event: EventKind | None,
        deadline: dt.datetime | None,
    ) -> Declaration:
        """Write the declaration; when accepted (`event` set), its event and outbox row."""
        if event is None:
            status = Status.REFUSED
        elif any(a.severity is Severity.WARNING for a in anomalies):
            status = Status.ACCEPTED_WITH_WARNINGS
        else:
            status = Status.ACCEPTED
        declaration = Declaration(
            employer=ctx.valid.employer,
            reference=ctx.valid.reference,
            action=ctx.action,
            status=status,
            anomalies=tuple(anomalies),
            period_id=period.period_id if period else 0,
            worker=ctx.worker,
            late=any(a.code == "LATE_DECLARATION" for a in anomalies),
            deadline=deadline,
            submitted_by=ctx.caller.uri,
            submitted_at=ctx.received,
            fingerprint=ctx.digest,
            period=period,
            acting_person=ctx.caller.person,
        )
        unit.declarations.add(declaration)
        if event is not None and period is not None:
            unit.events.add(
                EmploymentEvent(
                    sequence=unit.events.next_sequence(),
                    kind=event,
                    period=period,
                    declaration=declaration.name,
                    recorded_at=self._clock.now(),
                )
            )
            unit.outbox.add(period.worker)
        return declaration


def _quota(
    unit: DimonaUnit,
    draft: PeriodDraft,
    employer: str,
    worker: str,
    others: list[Period],
    exclude: int,
) -> checks.QuotaOutcome:
    """The draft against the quota counter (checks.student_counter). The recorded actual hours
    are read only for a student period: any other counts nothing (no statement spent)."""
    actuals = (
        unit.actuals.of_workers([worker], draft.start_date.year).get(worker, [])
        if draft.rule.student
        else []
    )
    return checks.student_quota(draft, employer, others, actuals, exclude)


def _draft(period: Period, **changes: Any) -> PeriodDraft:
    base = PeriodDraft(
        worker_type=period.worker_type,
        joint_committee=period.joint_committee,
        start_date=period.start_date,
        start_time=period.start_time,
        end_date=period.end_date,
        end_time=period.end_time,
        planned_hours=period.planned_hours or None,
        flexi_contract=period.flexi_contract,
        sub_entity=period.sub_entity,
        using_employer=period.using_employer,
    )
    if "planned_hours" in changes:
        changes["planned_hours"] = changes["planned_hours"] or None
    return dataclasses.replace(base, **changes)


def _prefixed(anomalies: list[Anomaly], prefix: str) -> list[Anomaly]:
    return [dataclasses.replace(a, field=f"{prefix}.{a.field}") for a in anomalies]


def _late(field: str, deadline: dt.datetime) -> Anomaly:
    return Anomaly(
        "LATE_DECLARATION",
        Severity.WARNING,
        field,
        deadline.isoformat(),
        "declared after its deadline (Europe/Brussels): accepted, marked late",
    )
