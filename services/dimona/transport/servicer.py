"""DIMONA's gRPC servicers: map the request, call the rules with the caller, map the answer.

Errors are runtime.errors.ServiceError raised by the rules; the runtime's interceptor turns
them into statuses with their details. The caller comes only from the certificate
(`current_caller()`); for the consultation service, from the router's routing headers (for
DimonaQuarterService the whole consultation, `current_consultation()`: its requester must be the
ONSS).
"""

from __future__ import annotations

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from dimona.service.declarations import Declarations
from dimona.service.quarter import DimonaQuarters
from dimona.service.queries import DimonaQueries
from dimona.transport import mapping
from dimona.transport.mapping import raw_date
from runtime.identity import current_caller, current_consultation


class DimonaServicer(dimona_pb2_grpc.DimonaServiceServicer):
    def __init__(self, declarations: Declarations, queries: DimonaQueries) -> None:
        self._declarations, self._queries = declarations, queries

    def SubmitDeclaration(self, request, context):  # noqa: N802, ANN001, ANN201
        declaration = self._declarations.submit(current_caller(), mapping.submission(request))
        return dimona_pb2.SubmitDeclarationResponse(declaration=mapping.declaration(declaration))

    def GetPeriod(self, request, context):  # noqa: N802, ANN001, ANN201
        period = self._queries.get_period(current_caller(), request.name)
        return dimona_pb2.GetPeriodResponse(period=mapping.period(period))

    def ListPeriods(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_periods(
            current_caller(),
            request.parent,
            request.worker_insz,
            request.page_size,
            request.page_token,
        )
        return dimona_pb2.ListPeriodsResponse(
            periods=[mapping.period(p) for p in page.periods],
            next_page_token=page.next_page_token,
        )

    def GetStudentBalance(self, request, context):  # noqa: N802, ANN001, ANN201
        balance = self._queries.student_balance(
            current_caller(), request.parent, request.insz, request.year
        )
        return dimona_pb2.GetStudentBalanceResponse(balance=mapping.student_balance(balance))


class DimonaConsultationServicer(dimona_pb2_grpc.DimonaConsultationServiceServicer):
    """Answered only to a router (the runtime enforces ACCESS_ROUTED)."""

    def __init__(self, queries: DimonaQueries) -> None:
        self._queries = queries

    def ListWorkerPeriods(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_worker_periods(
            request.insz,
            raw_date(request, "from_date"),
            raw_date(request, "to_date"),
            request.page_size,
            request.page_token,
        )
        return dimona_pb2.ListWorkerPeriodsResponse(
            periods=[mapping.period(p) for p in page.periods],
            next_page_token=page.next_page_token,
        )

    def GetEmploymentOnDate(self, request, context):  # noqa: N802, ANN001, ANN201
        period = self._queries.employment_on_date(
            request.insz, request.employer, raw_date(request, "date")
        )
        return dimona_pb2.GetEmploymentOnDateResponse(period=mapping.period(period))

    def GetWorkerStudentBalance(self, request, context):  # noqa: N802, ANN001, ANN201
        balance = self._queries.worker_student_balance(request.insz, request.year)
        return dimona_pb2.GetWorkerStudentBalanceResponse(balance=mapping.student_balance(balance))


class DimonaQuarterServicer(dimona_pb2_grpc.DimonaQuarterServiceServicer):
    """The ONSS's DmfA, through the router only (the runtime enforces ACCESS_ROUTED; the rules
    check that the requester is the ONSS)."""

    def __init__(self, quarters: DimonaQuarters) -> None:
        self._quarters = quarters

    def ListEmployerQuarterPeriods(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._quarters.list_employer_quarter_periods(
            current_consultation(),
            request.employer,
            request.year,
            request.quarter,
            request.page_size,
            request.page_token,
        )
        return dimona_pb2.ListEmployerQuarterPeriodsResponse(
            periods=[mapping.period(p) for p in page.periods],
            next_page_token=page.next_page_token,
        )

    def BatchGetStudentQuarterBalances(self, request, context):  # noqa: N802, ANN001, ANN201
        balances = self._quarters.student_quarter_balances(
            current_consultation(), request.employer, request.year, request.quarter,
            list(request.inszs),
        )  # fmt: skip
        return dimona_pb2.BatchGetStudentQuarterBalancesResponse(
            balances=[mapping.student_quarter_balance(b) for b in balances]
        )

    def RecordStudentActualHours(self, request, context):  # noqa: N802, ANN001, ANN201
        recorded = self._quarters.record_actual_hours(
            current_consultation(), request.employer, request.year, request.quarter,
            mapping.actual_hours(request), request.source,
        )  # fmt: skip
        return dimona_pb2.RecordStudentActualHoursResponse(recorded=recorded)


class EmploymentEventServicer(dimona_pb2_grpc.EmploymentEventServiceServicer):
    def __init__(self, queries: DimonaQueries) -> None:
        self._queries = queries

    def ListEmploymentEvents(self, request, context):  # noqa: N802, ANN001, ANN201
        events, last = self._queries.list_events(
            current_caller(), request.after_sequence, request.page_size
        )
        return dimona_pb2.ListEmploymentEventsResponse(
            events=[mapping.event(e) for e in events], last_sequence=last
        )
