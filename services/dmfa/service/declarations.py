"""Submitting a version of a declaration: the DmfA's only write path.

1. Who: the caller may act for the employer (access), the employer is known, the caller files
   and not only reads (a person at the portal whose role is `reader`: PERMISSION_DENIED
   `READ_ONLY_ROLE`, nothing looked up), its number is definitive (a provisional one:
   FAILED_PRECONDITION `PROVISIONAL_EMPLOYER_NUMBER`).
2. Idempotency on (employer, submission reference): the same content answers the stored
   version again; other content is ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`. The person who
   acted at the portal (`acting_person`, recorded besides `submitted_by`) is not part of the
   content: another person or the employer's certificate resubmitting it gets the stored
   version, which keeps the person who first filed it.
3. Where the declaration stands: an original when a version is accepted already is
   `DECLARATION_EXISTS`; a correction with nothing accepted `NOTHING_TO_CORRECT`; a correction
   naming another version than the current one `VERSION_SUPERSEDED` (two corrections raced).
4. Cross-checks through the router, outside any transaction and in parallel: the register for
   every worker (batches of 500), the employer's Dimona periods in the quarter (pages of 1,000),
   students' quota counters (batches of 500). Any of them unreachable: UNAVAILABLE
   `CROSS_CHECK_UNAVAILABLE`, nothing stored (retry with the same reference).
5. The checks and the contributions (`checks.judge`): status and anomalies.
6. One transaction: the declaration's row locked (submissions about one declaration are
   serialised; steps 2 and 3 are checked again under the lock), the version stored with its
   workers and anomalies, and when accepted: the previous current version superseded, the
   workers' quarter replaced (what DmfaConsultationService answers), an event numbered, and the
   students' actual hours queued for DIMONA's quota counter (`quota_sync`). A refused version is
   stored too (history), but changes nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from dmfa.service import access
from dmfa.service.checks import Judgement, judge
from dmfa.service.contributions import hours_to_minutes
from dmfa.service.model import (
    CrossCheck,
    DeclaredWorker,
    EventKind,
    Header,
    Status,
    Submission,
    Version,
)
from dmfa.service.ports import DeclarationState, Network, UnitFactory
from dmfa.service.tables import Tables
from runtime.clock import Clock
from runtime.errors import (
    ConflictError,
    FailedPrecondition,
    Unavailable,
    idempotency_key_reused,
)
from runtime.identifiers import IdentifierError, parse_insz
from runtime.identity import Caller

logger = logging.getLogger(__name__)

_ATTEMPTS = 5


def version_name(employer: str, quarter: object, number: int) -> str:
    return f"employers/{employer}/declarations/{quarter}/versions/{number}"


class Declarations:
    def __init__(
        self,
        units: UnitFactory,
        read_units: UnitFactory,
        network: Network,
        tables: Tables,
        clock: Clock,
        *,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self._units, self._read_units = units, read_units
        self._network, self._tables, self._clock = network, tables, clock
        self._on_accepted = on_accepted or (lambda: None)
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="dmfa-crosscheck")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, caller: Caller, submission: Submission) -> Version:
        header = submission.header
        access.require_declarant(caller)
        with self._read_units() as unit:
            employer = access.require_may_act_for(
                caller, header.employer, unit, self._clock.today()
            )
            access.require_may_declare(caller)
            if employer.provisional:
                raise FailedPrecondition(
                    "PROVISIONAL_EMPLOYER_NUMBER",
                    "a DmfA is declared under the definitive ONSS number",
                )
            known = unit.versions.by_reference(header.employer, header.submission_reference)
            if known is not None:
                return _same(known, submission)
            _require_state(header, unit.versions.state(header.employer, header.quarter))
        judgement = judge(
            submission, self._cross_check(submission), self._tables, self._clock.today()
        )
        for attempt in range(_ATTEMPTS):
            try:
                version = self._store(caller, submission, judgement)
            except ConflictError:
                if attempt == _ATTEMPTS - 1:
                    raise Unavailable("BUSY", "the declaration is busy; retry") from None
                continue
            logger.info(
                "dmfa version %s stored: %s, %d workers, %d anomalies",
                version_name(version.employer, version.quarter, version.number),
                version.status.value,
                version.totals.workers,
                len(version.anomalies),
            )
            if version.status.accepted:
                self._on_accepted()
            return version
        raise AssertionError("unreachable")

    # -- cross-checks ---------------------------------------------------------------------------

    def _cross_check(self, submission: Submission) -> CrossCheck:
        header = submission.header
        # DIMONA's pages first: the longest call of the three, and they need no INSZ (checking
        # 10,000 INSZs' digits and finding the students below take a tenth of a second).
        periods = self._pool.submit(self._network.periods, header.employer, header.quarter)
        valid = {p.insz for p in submission.persons if _valid_insz(p.insz)}
        inszs = sorted(valid)
        students = sorted(
            {
                p.insz
                for p in submission.persons
                if p.insz in valid  # a set: a list here was quadratic (50,000 workers: ~50 s)
                and any(
                    (code := self._tables.worker_codes.get(r.worker_code)) is not None
                    and code.scheme == "STUDENT"
                    for r in p.records
                )
            }
        )
        persons = self._pool.submit(self._network.persons, inszs)
        balances = self._pool.submit(
            self._network.student_balances, header.employer, header.quarter, students
        )
        try:
            return CrossCheck(
                persons=persons.result(),
                periods=tuple(periods.result()),
                students=balances.result() if students else {},
            )
        except Unavailable:
            raise Unavailable(
                "CROSS_CHECK_UNAVAILABLE",
                "the register or DIMONA cannot be asked now; nothing was stored, retry with the"
                " same reference",
            ) from None

    # -- the transaction ------------------------------------------------------------------------

    def _store(self, caller: Caller, submission: Submission, judgement: Judgement) -> Version:
        header = submission.header
        now = self._clock.now()
        with self._units() as unit:
            state = unit.versions.lock(header.employer, header.quarter)
            known = unit.versions.by_reference(header.employer, header.submission_reference)
            if known is not None:
                return _same(known, submission)
            _require_state(header, state)
            accepted = judgement.status.accepted
            version = unit.versions.add(
                Version(
                    employer=header.employer,
                    quarter=header.quarter,
                    number=state.version_count + 1,
                    submission_reference=header.submission_reference,
                    digest=submission.digest,
                    status=judgement.status,
                    corrects=header.corrects,
                    current=accepted,
                    superseded_by=None,
                    anomalies=tuple(judgement.anomalies),
                    totals=judgement.totals,
                    late=judgement.late,
                    submitted_by=caller.uri,
                    submitted_at=now,
                    acting_person=caller.person,
                ),
                judgement.workers,
                judgement.anomalies,
            )
            if not accepted:
                return version
            if state.current is not None:
                unit.versions.supersede(
                    header.employer, header.quarter, state.current, version.number
                )
            minutes = self._student_minutes(judgement.workers)
            previous = unit.worker_quarters.replace(
                header.employer, header.quarter, version, judgement.workers, minutes
            )
            kind = EventKind.ACCEPTED if state.current is None else EventKind.CORRECTED
            unit.events.append(kind, version, state.current, now)
            # Students of the previous version that are gone count 0 hours from now on.
            entries = {insz: 0 for insz in previous if insz not in minutes} | minutes
            if entries:
                unit.quota.add(
                    header.employer,
                    header.quarter,
                    entries,
                    version_name(header.employer, header.quarter, version.number),
                    now,
                )
            return version

    def _student_minutes(self, workers: Sequence[DeclaredWorker]) -> dict[str, int]:
        out: dict[str, int] = {}
        for worker in workers:
            hours = 0
            student = False
            for computed in worker.records:
                code = self._tables.worker_codes.get(computed.record.worker_code)
                if code is not None and code.scheme == "STUDENT":
                    student = True
                    hours += computed.record.hours
            if student:
                out[worker.insz] = hours_to_minutes(hours)
        return out


def _valid_insz(insz: str) -> bool:
    try:
        parse_insz(insz)
    except IdentifierError:
        return False
    return True


def _same(known: Version, submission: Submission) -> Version:
    if known.digest != submission.digest or known.quarter != submission.header.quarter:
        raise idempotency_key_reused("header.submission_reference")
    return known


def _require_state(header: Header, state: DeclarationState) -> None:
    if header.corrects is None:
        if state.current is not None:
            raise FailedPrecondition(
                "DECLARATION_EXISTS",
                "this quarter's declaration is accepted already; send a correction of version"
                f" {state.current}",
                metadata={"current_version": str(state.current)},
            )
        return
    if state.current is None:
        raise FailedPrecondition(
            "NOTHING_TO_CORRECT", "no version of this declaration is accepted yet"
        )
    if header.corrects != state.current:
        raise FailedPrecondition(
            "VERSION_SUPERSEDED",
            f"version {header.corrects} is not the current one ({state.current})",
            metadata={"current_version": str(state.current)},
        )


__all__ = ["Declarations", "Status", "version_name"]
