"""The DmfA's calls to the router, as the ONSS (`institution/onss`), legal context
`social-security.contributions`: the register (`GetPersonStatuses`, destination `nr`) and DIMONA
(`DimonaQuarterService`, destination `onss`). Never another service's database.

- Persons: batches of 500 INSZs. The router refuses a batch naming a person that does not
  exist, was replaced or died with `SUBJECTS_REFUSED` and one PreconditionFailure violation per
  refused person (`inszs[i]`): that refusal is the answer for those persons, and every other
  person of the batch passed. A replaced person's new number is asked alone (the router gives it
  in `replaced_by` then). Four batches are in flight at a time.
- Dimona periods: the employer's quarter, pages of 1,000 (every worker returned is logged by the
  router as a response subject).
- Student balances: batches of 500 INSZs; actual hours: at most 500 entries a call.

A failure that a retry may cure (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED)
raises runtime.errors.Unavailable; a refusal is passed on as a ServiceError with the router's
reason. Logs name codes and reasons, never an INSZ.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from dmfa.service.model import (
    DimonaPeriod,
    PersonCheck,
    PersonOutcome,
    Quarter,
    StudentBalance,
)
from runtime import identity
from runtime.client import failure, refused_subjects, secure_channel, server_name
from runtime.errors import FailedPrecondition, PermissionDenied, ServiceError, Unavailable
from runtime.identity import TRUST_DOMAIN

logger = logging.getLogger(__name__)

LEGAL_CONTEXT = "social-security.contributions"
REGISTER = "nr"
DIMONA = "onss"
BATCH = 500
#: Register batches in flight at once.
PERSON_CALLS = 4
PAGE = 1000
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
}
_PERSON_REASONS = {
    "PERSON_NOT_FOUND": PersonOutcome.NOT_FOUND,
    "PERSON_REPLACED": PersonOutcome.REPLACED,
    "PERSON_DECEASED": PersonOutcome.DECEASED,
}
_WORKER_TYPES = {
    value.number: value.name.removeprefix("WORKER_TYPE_")
    for value in dimona_pb2.WorkerType.DESCRIPTOR.values
}


def _metadata(destination: str) -> tuple[tuple[str, str], ...]:
    return (
        (identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT),
        (identity.DESTINATION_HEADER, destination),
    )


def _error(exc: grpc.RpcError, what: str) -> ServiceError:
    info = failure(exc)
    logger.warning("%s through the router failed: %s %s", what, info.code.name, info.reason)
    if info.code in _TRANSIENT:
        return Unavailable(info.reason or "ROUTER_UNAVAILABLE", f"{what}: try again later")
    if info.code is grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(info.reason or "NOT_AUTHORISED", f"{what}: refused by the router")
    return FailedPrecondition(info.reason or "REFUSED", f"{what}: {info.code.name}")


def _date(message: object, field: str) -> dt.date | None:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    d = getattr(message, field)
    return dt.date(d.year, d.month, d.day)


class RouterNetwork:
    """dmfa.service.ports.Network through the router."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 30.0) -> None:
        self._registry = registry_pb2_grpc.RegistryServiceStub(channel)
        self._dimona = dimona_pb2_grpc.DimonaQuarterServiceStub(channel)
        self._timeout = timeout

    # -- the register ---------------------------------------------------------------------

    def persons(self, inszs: Sequence[str]) -> dict[str, PersonCheck]:
        batches = [list(inszs[i : i + BATCH]) for i in range(0, len(inszs), BATCH)]
        found: dict[str, PersonCheck] = {}
        if len(batches) <= 1:
            for batch in batches:
                found.update(self._persons(batch))
            return found
        # A few batches in flight: the router and the register work on one while the next is
        # on its way (a 10,000-worker declaration: 20 batches).
        with ThreadPoolExecutor(min(PERSON_CALLS, len(batches)), "dmfa-register") as pool:
            for part in pool.map(self._persons, batches):
                found.update(part)
        return found

    def _persons(self, inszs: list[str]) -> dict[str, PersonCheck]:
        try:
            reply = self._registry.GetPersonStatuses(
                registry_pb2.GetPersonStatusesRequest(inszs=inszs),
                metadata=_metadata(REGISTER),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            return self._refused(inszs, exc)
        found: dict[str, PersonCheck] = {}
        for status in reply.statuses:
            if not status.exists:
                found[status.insz] = PersonCheck(PersonOutcome.NOT_FOUND)
            elif status.replaced_by:
                found[status.insz] = PersonCheck(PersonOutcome.REPLACED, status.replaced_by)
            elif status.deceased:
                found[status.insz] = PersonCheck(PersonOutcome.DECEASED)
            else:
                found[status.insz] = PersonCheck(PersonOutcome.ACTIVE)
        return found

    def _refused(self, inszs: list[str], exc: grpc.RpcError) -> dict[str, PersonCheck]:
        info = failure(exc)
        if info.reason in _PERSON_REASONS and len(inszs) == 1:
            return {
                inszs[0]: PersonCheck(
                    _PERSON_REASONS[info.reason], info.metadata.get("replaced_by", "")
                )
            }
        refusals = refused_subjects(info)
        if refusals is not None:
            found = {insz: PersonCheck(PersonOutcome.ACTIVE) for insz in inszs}
            for index, reason in refusals:
                outcome = _PERSON_REASONS.get(reason)
                if outcome is None or index >= len(inszs):
                    raise _error(exc, "the register")
                if outcome is PersonOutcome.REPLACED:
                    found[inszs[index]] = self._persons([inszs[index]])[inszs[index]]
                else:
                    found[inszs[index]] = PersonCheck(outcome)
            return found
        raise _error(exc, "the register")

    # -- DIMONA ---------------------------------------------------------------------------

    def periods(self, employer: str, quarter: Quarter) -> list[DimonaPeriod]:
        out: list[DimonaPeriod] = []
        token = ""
        while True:
            try:
                reply = self._dimona.ListEmployerQuarterPeriods(
                    dimona_pb2.ListEmployerQuarterPeriodsRequest(
                        employer=employer,
                        year=quarter.year,
                        quarter=quarter.quarter,
                        page_size=PAGE,
                        page_token=token,
                    ),
                    metadata=_metadata(DIMONA),
                    timeout=self._timeout,
                )
            except grpc.RpcError as exc:
                raise _error(exc, "DIMONA's periods") from None
            for p in reply.periods:
                start = _date(p, "start_date")
                if start is None:
                    continue
                out.append(
                    DimonaPeriod(
                        p.period_id,
                        p.worker_insz,
                        _WORKER_TYPES.get(p.worker_type, "UNSPECIFIED"),
                        start,
                        _date(p, "end_date"),
                    )
                )
            token = reply.next_page_token
            if not token:
                return out

    def student_balances(
        self, employer: str, quarter: Quarter, inszs: Sequence[str]
    ) -> dict[str, StudentBalance]:
        found: dict[str, StudentBalance] = {}
        for i in range(0, len(inszs), BATCH):
            try:
                reply = self._dimona.BatchGetStudentQuarterBalances(
                    dimona_pb2.BatchGetStudentQuarterBalancesRequest(
                        employer=employer,
                        year=quarter.year,
                        quarter=quarter.quarter,
                        inszs=list(inszs[i : i + BATCH]),
                    ),
                    metadata=_metadata(DIMONA),
                    timeout=self._timeout,
                )
            except grpc.RpcError as exc:
                raise _error(exc, "DIMONA's student counters") from None
            for b in reply.balances:
                found[b.insz] = StudentBalance(
                    b.quota_hours * 60, b.used_minutes, b.employer_quarter_minutes
                )
        return found

    def record_student_hours(
        self, employer: str, quarter: Quarter, entries: Sequence[tuple[str, int]], source: str
    ) -> None:
        try:
            self._dimona.RecordStudentActualHours(
                dimona_pb2.RecordStudentActualHoursRequest(
                    employer=employer,
                    year=quarter.year,
                    quarter=quarter.quarter,
                    entries=[
                        dimona_pb2.StudentActualHours(insz=insz, minutes=minutes)
                        for insz, minutes in entries
                    ],
                    source=source,
                ),
                metadata=_metadata(DIMONA),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            raise _error(exc, "DIMONA's quota counter") from None


def router_network(
    router_addr: str, router_name: str, tls: Any
) -> tuple[RouterNetwork, grpc.Channel]:
    """The network port through the router (its certificate must be `router/<name>`), and the
    channel to close."""
    channel = secure_channel(
        router_addr, tls, **server_name(f"spiffe://{TRUST_DOMAIN}/router/{router_name}")
    )
    return RouterNetwork(channel), channel
