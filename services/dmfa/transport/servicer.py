"""The DmfA's gRPC servicers: map the request, call the rules with the caller, map the answer.

Errors are runtime.errors.ServiceError raised by the rules; the runtime's interceptor turns them
into statuses with their details. The caller comes only from the certificate
(`current_caller()`); DmfaConsultationService is answered only to a router (ACCESS_ROUTED).
"""

from __future__ import annotations

from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from dmfa.service import access
from dmfa.service.declarations import Declarations
from dmfa.service.queries import DmfaQueries
from dmfa.transport import mapping
from runtime.identity import current_caller


class DmfaServicer(dmfa_pb2_grpc.DmfaServiceServicer):
    def __init__(self, declarations: Declarations, queries: DmfaQueries) -> None:
        self._declarations, self._queries = declarations, queries

    def SubmitDeclaration(self, request_iterator, context):  # noqa: N802, ANN001, ANN201
        caller = current_caller()
        # Who may declare is checked before the stream is read.
        access.require_declarant(caller)
        version = self._declarations.submit(caller, mapping.submission(request_iterator))
        return dmfa_pb2.SubmitDeclarationResponse(version=mapping.version(version))

    def GetDeclarationVersion(self, request, context):  # noqa: N802, ANN001, ANN201
        version = self._queries.get_version(current_caller(), request.name)
        return dmfa_pb2.GetDeclarationVersionResponse(version=mapping.version(version))

    def ListDeclarationVersions(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_versions(
            current_caller(), request.parent, request.page_size, request.page_token
        )
        return dmfa_pb2.ListDeclarationVersionsResponse(
            versions=[mapping.version(v) for v in page.items],
            next_page_token=page.next_page_token,
        )

    def ListDeclarations(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_declarations(
            current_caller(), request.parent, request.page_size, request.page_token
        )
        return dmfa_pb2.ListDeclarationsResponse(
            declarations=[mapping.summary(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    def ListVersionWorkers(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_workers(
            current_caller(), request.name, request.page_size, request.page_token
        )
        return dmfa_pb2.ListVersionWorkersResponse(
            workers=[mapping.worker(w) for w in page.items],
            next_page_token=page.next_page_token,
        )


class DmfaConsultationServicer(dmfa_pb2_grpc.DmfaConsultationServiceServicer):
    def __init__(self, queries: DmfaQueries) -> None:
        self._queries = queries

    def GetWorkerQuarter(self, request, context):  # noqa: N802, ANN001, ANN201
        employers = self._queries.worker_quarter(request.insz, request.year, request.quarter)
        return dmfa_pb2.GetWorkerQuarterResponse(
            quarter=mapping.worker_quarter(request.insz, request.year, request.quarter, employers)
        )

    def ListWorkerQuarters(self, request, context):  # noqa: N802, ANN001, ANN201
        found = self._queries.worker_quarters_before(
            request.insz,
            request.employer,
            mapping.optional_date(request, "reference_date"),
            request.max_quarters,
        )
        return dmfa_pb2.ListWorkerQuartersResponse(
            insz=request.insz,
            quarters=[mapping.employer_worker_quarter(q, e) for q, e in found],
        )


class DeclarationEventServicer(dmfa_pb2_grpc.DeclarationEventServiceServicer):
    def __init__(self, queries: DmfaQueries) -> None:
        self._queries = queries

    def ListDeclarationEvents(self, request, context):  # noqa: N802, ANN001, ANN201
        events, last = self._queries.list_events(
            current_caller(), request.after_sequence, request.page_size
        )
        return dmfa_pb2.ListDeclarationEventsResponse(
            events=[mapping.event(e) for e in events], last_sequence=last
        )
