"""MessageLogService: questions to the message log (rules in router.service.log_queries)."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from cbss.router.v1 import message_log_pb2, message_log_pb2_grpc
from router.service.log_queries import LogQueries, LogQuery
from router.service.monitoring import Monitoring
from runtime.identity import current_caller


def _time(value: timestamp_pb2.Timestamp, present: bool) -> dt.datetime | None:
    return value.ToDatetime(tzinfo=dt.UTC) if present else None


class MessageLogServicer(message_log_pb2_grpc.MessageLogServiceServicer):
    def __init__(self, queries: LogQueries, monitoring: Monitoring) -> None:
        self._queries, self._monitoring = queries, monitoring

    def GetTrafficStatistics(self, request, context):  # noqa: N802, ANN001, ANN201
        traffic = self._monitoring.traffic(
            current_caller(),
            _time(request.start_time, request.HasField("start_time")),
            _time(request.end_time, request.HasField("end_time")),
        )
        response = message_log_pb2.GetTrafficStatisticsResponse()
        for t in traffic:
            response.institutions.add(
                requester=t.requester,
                messages=t.messages,
                forwarded=t.forwarded,
                refused=t.refused,
                failed=t.failed,
                refusals_by_reason=t.refusals_by_reason,
                latency_p50_ms=t.percentile(0.50),
                latency_p95_ms=t.percentile(0.95),
                latency_p99_ms=t.percentile(0.99),
            )
        return response

    def ListMessages(self, request, context):  # noqa: N802, ANN001, ANN201
        rows, token = self._queries.list(
            current_caller(),
            LogQuery(
                subject=request.subject,
                requester=request.requester,
                start=_time(request.start_time, request.HasField("start_time")),
                end=_time(request.end_time, request.HasField("end_time")),
                citizen_view=request.citizen_view,
                page_size=request.page_size,
                page_token=request.page_token,
            ),
        )
        response = message_log_pb2.ListMessagesResponse(next_page_token=token)
        for r in rows:
            m = response.messages.add(
                ticket=r.ticket,
                requester=r.requester,
                service=r.service,
                method=r.method,
                legal_context=r.legal_context,
                subject=r.subject,
                capacity=r.capacity,
                destination=r.destination,
                outcome=r.outcome,
                reason=r.reason,
            )
            m.occurred_at.FromDatetime(r.occurred_at)
        return response
