"""InboxService servicer: proto <-> domain mapping only; rules live in inbox.service."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from inbox.service.inbox import Inbox
from inbox.service.model import Attestation, ListQuery, State
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import PartyKind, current_caller, current_consultation

_STATE_OUT = {
    State.RECEIVED: inbox_pb2.ATTESTATION_STATE_RECEIVED,
    State.ACKNOWLEDGED: inbox_pb2.ATTESTATION_STATE_ACKNOWLEDGED,
}
_STATE_IN = {v: k for k, v in _STATE_OUT.items()}


def date_in(value: date_pb2.Date, field: str, *, required: bool = False) -> dt.date | None:
    if (value.year, value.month, value.day) == (0, 0, 0):
        if required:
            raise InvalidArgument.for_fields(
                [FieldViolation(field, "required")], "INVALID_ATTESTATION"
            )
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument.for_fields(
            [FieldViolation(field, "a full, valid date")], "INVALID_ATTESTATION"
        ) from None


def date_out(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def time_out(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(dt.UTC))
    return ts


def attestation_in(msg: inbox_pb2.Attestation) -> Attestation:
    reference = date_in(msg.reference_date, "attestation.reference_date", required=True)
    if not msg.HasField("create_time"):
        raise InvalidArgument.for_fields(
            [FieldViolation("attestation.create_time", "required")], "INVALID_ATTESTATION"
        )
    return Attestation(
        id=msg.id,
        kind=msg.kind,
        subject_insz=msg.subject_insz,
        reference_date=reference,  # type: ignore[arg-type]
        sender=msg.sender,
        created_at=msg.create_time.ToDatetime(dt.UTC),
        payload=msg.payload,
        payload_type=msg.payload_type,
    )


def attestation_out(att: Attestation, institution: str) -> inbox_pb2.Attestation:
    return inbox_pb2.Attestation(
        name=att.name(institution),
        id=att.id,
        kind=att.kind,
        subject_insz=att.subject_insz,
        reference_date=date_out(att.reference_date),
        sender=att.sender,
        create_time=time_out(att.created_at),
        payload=att.payload,
        payload_type=att.payload_type,
        receive_time=time_out(att.received_at),
        state=_STATE_OUT[att.state],
        acknowledge_time=time_out(att.acknowledged_at),
        router_ticket=att.router_ticket,
    )


def _institution() -> str | None:
    caller = current_caller()
    return caller.id if caller.kind is PartyKind.INSTITUTION else None


class InboxServicer(inbox_pb2_grpc.InboxServiceServicer):
    """Maps InboxService RPCs onto the inbox's rules."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    def DeliverAttestation(
        self, request: inbox_pb2.DeliverAttestationRequest, context: grpc.ServicerContext
    ) -> inbox_pb2.DeliverAttestationResponse:
        consultation = current_consultation()
        stored = self._inbox.deliver(
            attestation_in(request.attestation),
            _institution() or "",
            consultation.ticket if consultation else "",
        )
        return inbox_pb2.DeliverAttestationResponse(
            name=stored.name(self._inbox.institution), receive_time=time_out(stored.received_at)
        )

    def GetAttestationStatus(
        self, request: inbox_pb2.GetAttestationStatusRequest, context: grpc.ServicerContext
    ) -> inbox_pb2.GetAttestationStatusResponse:
        att = self._inbox.status(request.id, request.subject_insz, _institution() or "")
        return inbox_pb2.GetAttestationStatusResponse(
            name=att.name(self._inbox.institution),
            state=_STATE_OUT[att.state],
            receive_time=time_out(att.received_at),
            acknowledge_time=time_out(att.acknowledged_at),
        )

    def ListAttestations(
        self, request: inbox_pb2.ListAttestationsRequest, context: grpc.ServicerContext
    ) -> inbox_pb2.ListAttestationsResponse:
        self._inbox.check_owner(_institution())
        query = ListQuery(
            kind=request.kind,
            state=_STATE_IN.get(request.state),
            reference_from=date_in(request.reference_date_from, "reference_date_from"),
            reference_to=date_in(request.reference_date_to, "reference_date_to"),
        )
        page, token = self._inbox.list(request.parent, query, request.page_size, request.page_token)
        return inbox_pb2.ListAttestationsResponse(
            attestations=[attestation_out(a, self._inbox.institution) for a in page],
            next_page_token=token,
        )

    def AcknowledgeAttestation(
        self, request: inbox_pb2.AcknowledgeAttestationRequest, context: grpc.ServicerContext
    ) -> inbox_pb2.AcknowledgeAttestationResponse:
        self._inbox.check_owner(_institution())
        att = self._inbox.acknowledge(request.name)
        return inbox_pb2.AcknowledgeAttestationResponse(
            attestation=attestation_out(att, self._inbox.institution)
        )
