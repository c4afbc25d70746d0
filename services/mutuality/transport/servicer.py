"""MutualityService servicer: proto <-> domain mapping only; rules live in mutuality.service."""

from __future__ import annotations

import datetime as dt

import grpc
from google.type import date_pb2

from cbss.mutuality.v1 import mutuality_pb2, mutuality_pb2_grpc
from mutuality.service.affiliations import AffiliationQueries
from mutuality.service.model import Affiliation, Insurability, Role
from runtime.errors import FieldViolation, InvalidArgument

_ROLE = {
    Role.HOLDER: mutuality_pb2.MEMBER_ROLE_HOLDER,
    Role.DEPENDENT: mutuality_pb2.MEMBER_ROLE_DEPENDENT,
}
_INSURABILITY = {
    Insurability.INSURED: mutuality_pb2.INSURABILITY_STATUS_INSURED,
    Insurability.SUSPENDED: mutuality_pb2.INSURABILITY_STATUS_SUSPENDED,
}


def date_in(value: date_pb2.Date, field: str) -> dt.date | None:
    if (value.year, value.month, value.day) == (0, 0, 0):
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument.for_fields(
            [FieldViolation(field, "a full, valid date")], "INVALID_REFERENCE_DATE"
        ) from None


def date_out(value: dt.date | None) -> date_pb2.Date | None:
    if value is None:
        return None
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def to_proto(affiliation: Affiliation) -> mutuality_pb2.Affiliation:
    return mutuality_pb2.Affiliation(
        name=affiliation.name,
        mutuality=affiliation.mutuality,
        insz=affiliation.insz,
        member_since=date_out(affiliation.since),
        member_until=date_out(affiliation.until),
        role=_ROLE[affiliation.role],
        insurability=_INSURABILITY[affiliation.insurability],
    )


class MutualityServicer(mutuality_pb2_grpc.MutualityServiceServicer):
    """Maps MutualityService RPCs onto the affiliation queries."""

    def __init__(self, queries: AffiliationQueries) -> None:
        self._queries = queries

    def GetAffiliation(
        self, request: mutuality_pb2.GetAffiliationRequest, context: grpc.ServicerContext
    ) -> mutuality_pb2.GetAffiliationResponse:
        day = date_in(request.reference_date, "reference_date")
        affiliation = self._queries.get(request.insz, day)
        return mutuality_pb2.GetAffiliationResponse(affiliation=to_proto(affiliation))
