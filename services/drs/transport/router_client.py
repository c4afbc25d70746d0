"""The DRS's calls to the router, as the ONSS (`institution/onss`), legal context
`social-risks.declaration`, each with the risk date as its reference date (the routers consult
the reference directory on it): the register (`RegistryService.GetPerson`, read mask
`identity,birth`, destination `nr`), DIMONA (`DimonaConsultationService.GetEmploymentOnDate`,
destination `onss`) and the DmfA (`DmfaConsultationService.ListWorkerQuarters`, destination
`onss`). Never another service's database.

Outcomes: DIMONA's NOT_FOUND `NO_EMPLOYMENT` is "no period of this employer covers the date"
(None); so is the router's PERMISSION_DENIED `SUBJECT_NOT_INTEGRATED` for that call — the
ONSS's grant has directory check REQUIRED on the risk date, and the ONSS holds a worker only
while a Dimona period integrates him, so no employer at all employed him then (a period declared
a moment ago and not yet integrated by DIMONA's directory outbox is refused the same way, until
it is). The router's refusal of a deceased person's identity (`PERSON_DECEASED`, the register's
policy) gives a worker marked deceased without names (a fatal accident is still declared); its
other refusals of the person (`PERSON_NOT_FOUND`, `PERSON_REPLACED`, and `PERSON_DECEASED` from
other calls) are passed on as FAILED_PRECONDITION with that reason. A failure that a retry
may cure (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, CANCELLED) and any other
refusal (a missing authorisation is the ONSS's configuration, not the employer's doing: logged
as an error) raise runtime.errors.Unavailable. Logs name codes and reasons, never an INSZ.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import grpc
from google.protobuf import field_mask_pb2
from google.type import date_pb2

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from drs.service.model import Employment, QuarterPay, Worker
from runtime import identity
from runtime.client import failure, secure_channel, server_name
from runtime.errors import FailedPrecondition, ServiceError, Unavailable
from runtime.identity import TRUST_DOMAIN

logger = logging.getLogger(__name__)

#: The legal context of the DRS's consultations (the router's seed grants the ONSS under it).
LEGAL_CONTEXT = "social-risks.declaration"
REGISTER = "nr"
ONSS = "onss"  # DIMONA's and the DmfA's provider id
READ_MASK = ("identity", "birth")
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
}
#: DIMONA's "no period of this employer covers the date", and the router's "the ONSS holds
#: no employment of this worker on that date at all" (its directory check on the risk date).
_NOT_EMPLOYED = frozenset({"NO_EMPLOYMENT", "SUBJECT_NOT_INTEGRATED"})
_PERSON_REASONS = frozenset({"PERSON_NOT_FOUND", "PERSON_REPLACED", "PERSON_DECEASED"})
_WORKER_TYPES = {
    value.number: value.name.removeprefix("WORKER_TYPE_")
    for value in dimona_pb2.WorkerType.DESCRIPTOR.values
}


def _metadata(destination: str) -> tuple[tuple[str, str], ...]:
    return (
        (identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT),
        (identity.DESTINATION_HEADER, destination),
    )


def _pb_date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _date(message: Any, field: str) -> dt.date | None:
    if not message.HasField(field):
        return None
    d = getattr(message, field)
    try:
        return dt.date(d.year, d.month, d.day)
    except ValueError:  # a partial date (a birth date known only by year)
        return None


def _error(exc: grpc.RpcError, what: str) -> ServiceError:
    info = failure(exc)
    if info.reason in _PERSON_REASONS:
        return FailedPrecondition(info.reason, f"{what}: the register refuses this person")
    if info.code in _TRANSIENT:
        logger.warning("%s through the router failed: %s %s", what, info.code.name, info.reason)
    else:
        logger.error(
            "%s refused by the router: %s %s (the ONSS's authorisation?)",
            what,
            info.code.name,
            info.reason,
        )
    return Unavailable(info.reason or "ROUTER_UNAVAILABLE", f"{what}: try again later")


class RouterNetwork:
    """drs.service.ports.Network through the router."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 20.0) -> None:
        self._registry = registry_pb2_grpc.RegistryServiceStub(channel)
        self._dimona = dimona_pb2_grpc.DimonaConsultationServiceStub(channel)
        self._dmfa = dmfa_pb2_grpc.DmfaConsultationServiceStub(channel)
        self._timeout = timeout

    def employment(self, insz: str, employer: str, on: dt.date) -> Employment | None:
        try:
            reply = self._dimona.GetEmploymentOnDate(
                dimona_pb2.GetEmploymentOnDateRequest(
                    insz=insz, employer=employer, date=_pb_date(on)
                ),
                metadata=_metadata(ONSS),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            info = failure(exc)
            if info.reason in _NOT_EMPLOYED:
                return None
            raise _error(exc, "DIMONA's employment") from None
        p = reply.period
        start = _date(p, "start_date")
        if start is None:
            return None
        return Employment(
            p.period_id,
            _WORKER_TYPES.get(p.worker_type, "UNSPECIFIED"),
            p.joint_committee,
            start,
            _date(p, "end_date"),
        )

    def worker(self, insz: str, on: dt.date) -> Worker:
        try:
            reply = self._registry.GetPerson(
                registry_pb2.GetPersonRequest(
                    insz=insz,
                    read_mask=field_mask_pb2.FieldMask(paths=list(READ_MASK)),
                    reference_date=_pb_date(on),
                ),
                metadata=_metadata(REGISTER),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            if failure(exc).reason == "PERSON_DECEASED":
                # The router withholds a deceased person's identity (the register's policy);
                # a fatal accident is still declared, under the INSZ.
                return Worker(insz, "", (), None, deceased=True)
            raise _error(exc, "the register") from None
        person = reply.person
        return Worker(
            person.insz or insz,
            person.identity.last_name,
            tuple(person.identity.first_names),
            _date(person.birth, "date") if person.HasField("birth") else None,
        )

    def quarters(
        self, insz: str, employer: str, on: dt.date, max_quarters: int
    ) -> list[QuarterPay]:
        try:
            reply = self._dmfa.ListWorkerQuarters(
                dmfa_pb2.ListWorkerQuartersRequest(
                    insz=insz,
                    employer=employer,
                    reference_date=_pb_date(on),
                    max_quarters=max_quarters,
                ),
                metadata=_metadata(ONSS),
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            raise _error(exc, "the DmfA's quarters") from None
        return [
            QuarterPay(
                q.year,
                q.quarter,
                sum(r.days for r in q.records),
                sum(r.hours for r in q.records),
                sum(m.amount for r in q.records for m in r.remunerations),
            )
            for q in reply.quarters
        ]


def router_channel(router_addr: str, router_name: str, tls: Any) -> grpc.Channel:
    """An mTLS channel to the router (its certificate must be `router/<name>`)."""
    return secure_channel(
        router_addr, tls, **server_name(f"spiffe://{TRUST_DOMAIN}/router/{router_name}")
    )
