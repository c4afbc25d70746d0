"""SubscriptionService and MutationAdminService over the management rules."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from mutation.service.manage import Management, Subscription
from mutation.service.model import Delivery, Grant
from mutation.service.streams import Streams
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import current_caller


def _date_in(value: date_pb2.Date, field: str, *, required: bool) -> dt.date | None:
    if not (value.year or value.month or value.day):
        if required:
            raise InvalidArgument.for_fields(
                [FieldViolation(field, "required", "INVALID_VALIDITY")]
            )
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument.for_fields(
            [FieldViolation(field, "not a calendar date", "INVALID_VALIDITY")]
        ) from None


def _date_out(day: dt.date | None) -> date_pb2.Date | None:
    return None if day is None else date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _timestamp(at: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if at is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(at.astimezone(dt.UTC))
    return ts


def grant_out(g: Grant) -> mutation_pb2.EventTypeGrant:
    return mutation_pb2.EventTypeGrant(
        name=f"grants/{g.id}",
        institution=g.institution,
        event_type=g.event_type,
        capacities=sorted(g.capacities),
        deliberation=g.deliberation,
        valid_from=_date_out(g.valid_from),
        valid_to=_date_out(g.valid_to),
    )


_DELIVERY_OUT = {
    Delivery.INBOX: mutation_pb2.DELIVERY_MODE_INBOX,
    Delivery.STREAM: mutation_pb2.DELIVERY_MODE_STREAM,
}
_DELIVERY_IN = {
    mutation_pb2.DELIVERY_MODE_UNSPECIFIED: Delivery.INBOX,
    mutation_pb2.DELIVERY_MODE_INBOX: Delivery.INBOX,
    mutation_pb2.DELIVERY_MODE_STREAM: Delivery.STREAM,
}


def _subscription(found: Subscription) -> mutation_pb2.Subscription:
    return mutation_pb2.Subscription(
        institution=found.institution,
        event_types=found.event_types,
        granted_event_types=found.granted,
        delivery=_DELIVERY_OUT[found.delivery],
    )


class SubscriptionServicer(mutation_pb2_grpc.SubscriptionServiceServicer):
    def __init__(self, management: Management) -> None:
        self._m = management

    def GetSubscription(self, request, context):  # noqa: N802, ANN001, ANN201
        found = self._m.subscription(current_caller())
        return mutation_pb2.GetSubscriptionResponse(subscription=_subscription(found))

    def UpdateSubscription(self, request, context):  # noqa: N802, ANN001, ANN201
        delivery = _DELIVERY_IN.get(request.delivery)
        if delivery is None:
            raise InvalidArgument.for_fields(
                [FieldViolation("delivery", "not a delivery mode", "INVALID_DELIVERY")]
            )
        found = self._m.subscribe(current_caller(), list(request.event_types), delivery)
        return mutation_pb2.UpdateSubscriptionResponse(subscription=_subscription(found))


class MutationAdminServicer(mutation_pb2_grpc.MutationAdminServiceServicer):
    def __init__(self, management: Management) -> None:
        self._m = management

    def GrantEventType(self, request, context):  # noqa: N802, ANN001, ANN201
        g = request.grant
        valid_from = _date_in(g.valid_from, "grant.valid_from", required=True)
        assert valid_from is not None
        grant = Grant(
            id="",
            institution=g.institution,
            event_type=g.event_type,
            capacities=frozenset(g.capacities),
            deliberation=g.deliberation,
            valid_from=valid_from,
            valid_to=_date_in(g.valid_to, "grant.valid_to", required=False),
        )
        stored = self._m.grant(current_caller(), grant)
        return mutation_pb2.GrantEventTypeResponse(grant=grant_out(stored))

    def ListEventTypeGrants(self, request, context):  # noqa: N802, ANN001, ANN201
        found = self._m.grants(current_caller(), request.institution)
        return mutation_pb2.ListEventTypeGrantsResponse(grants=[grant_out(g) for g in found])

    def ListInstitutionLags(self, request, context):  # noqa: N802, ANN001, ANN201
        return mutation_pb2.ListInstitutionLagsResponse(
            lags=[
                mutation_pb2.InstitutionLag(
                    institution=lag.institution,
                    pending=lag.pending,
                    delivered=lag.delivered,
                    oldest_unacknowledged_time=_timestamp(lag.oldest_unacknowledged),
                    dead_lettered=lag.dead_lettered,
                    acknowledged=lag.acknowledged,
                    delivery=_DELIVERY_OUT[lag.delivery],
                )
                for lag in self._m.lags(current_caller())
            ]
        )

    def ListSourcePositions(self, request, context):  # noqa: N802, ANN001, ANN201
        return mutation_pb2.ListSourcePositionsResponse(
            positions=[
                mutation_pb2.SourcePosition(
                    source=p.source,
                    sequence=p.sequence,
                    source_last_sequence=p.source_last,
                    update_time=_timestamp(p.updated_at),
                )
                for p in self._m.positions(current_caller())
            ]
        )


class NotificationStreamServicer(mutation_pb2_grpc.NotificationStreamServiceServicer):
    """Answered only through a router: the caller is the requester it names."""

    def __init__(self, streams: Streams) -> None:
        self._streams = streams

    def StreamNotifications(self, request, context):  # noqa: N802, ANN001, ANN201
        institution, after, wait = self._streams.open(
            current_caller(), request.after_sequence, request.max_wait_seconds
        )
        for sequence, payload in self._streams.follow(institution, after, wait, context.is_active):
            yield mutation_pb2.StreamNotificationsResponse(
                sequence=sequence, change=mutation_pb2.PersonChange.FromString(payload)
            )

    def AcknowledgeNotifications(self, request, context):  # noqa: N802, ANN001, ANN201
        acknowledged, remaining = self._streams.acknowledge(
            current_caller(), request.up_to_sequence
        )
        return mutation_pb2.AcknowledgeNotificationsResponse(
            acknowledged_sequence=acknowledged, remaining=remaining
        )
