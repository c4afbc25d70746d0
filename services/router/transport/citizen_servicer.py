"""CitizenService: a signed-in person's view of the crossroads (rules in router.service.citizen)."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from cbss.router.v1 import citizen_pb2, citizen_pb2_grpc
from router.service.citizen import CitizenQueries
from router.transport.mapping import from_date
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import current_caller


def _time(request: object, name: str) -> dt.datetime | None:
    if not request.HasField(name):  # type: ignore[attr-defined]
        return None
    value: timestamp_pb2.Timestamp = getattr(request, name)
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidArgument.for_fields(
            [FieldViolation(name, "not a valid timestamp", "INVALID_PERIOD")]
        ) from None


class CitizenServicer(citizen_pb2_grpc.CitizenServiceServicer):
    def __init__(self, queries: CitizenQueries) -> None:
        self._queries = queries

    def ListMyConsultations(self, request, context):  # noqa: N802, ANN001, ANN201
        found, token = self._queries.consultations(
            current_caller(),
            _time(request, "start_time"),
            _time(request, "end_time"),
            request.page_size,
            request.page_token,
        )
        response = citizen_pb2.ListMyConsultationsResponse(next_page_token=token)
        for c in found:
            out = response.consultations.add(
                institution=c.institution,
                institution_name=c.institution_name,
                legal_context=c.legal_context,
                method=c.method,
                capacity=c.capacity,
                ticket=c.ticket,
            )
            out.time.FromDatetime(c.time)
        return response

    def ListMyFileHolders(self, request, context):  # noqa: N802, ANN001, ANN201
        found, token = self._queries.file_holders(
            current_caller(), request.page_size, request.page_token
        )
        return citizen_pb2.ListMyFileHoldersResponse(
            holders=[
                citizen_pb2.FileHolder(
                    institution=h.institution,
                    institution_name=h.institution_name,
                    sector=h.sector,
                    capacity=h.code,
                    description=h.description,
                    start_date=from_date(h.start),
                    end_date=from_date(h.end),
                )
                for h in found
            ],
            next_page_token=token,
        )
