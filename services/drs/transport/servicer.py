"""The DRS's gRPC servicers: map the request, call the rules with the caller, map the answer.

Errors are runtime.errors.ServiceError raised by the rules; the runtime's interceptor turns them
into statuses with their details (domain `drs.cbss`). The caller comes only from the
certificate (`current_caller()`); DrsRequestService and DrsConsultationService are answered
only to a router (ACCESS_ROUTED), and their caller is the requester the router names.
"""

from __future__ import annotations

from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from drs.service import access, validation
from drs.service.declarations import Declarations
from drs.service.queries import DrsQueries
from drs.service.requests import Requests
from drs.transport import mapping
from runtime.identity import current_caller


class DrsServicer(drs_pb2_grpc.DrsServiceServicer):
    def __init__(self, declarations: Declarations, queries: DrsQueries) -> None:
        self._declarations, self._queries = declarations, queries

    def PrefillDeclaration(self, request, context):  # noqa: N802, ANN001, ANN201
        caller = current_caller()
        access.require_declarant(caller)
        employer, insz, scenario, risk_date = validation.prefill_request(
            request.parent,
            request.insz,
            mapping.scenario(request.scenario),
            mapping.date_of(request, "risk_date"),
        )
        found = self._declarations.prefill(caller, employer, insz, scenario, risk_date)
        return drs_pb2.PrefillDeclarationResponse(prefill=mapping.prefill(found))

    def SubmitDeclaration(self, request, context):  # noqa: N802, ANN001, ANN201
        caller = current_caller()
        access.require_declarant(caller)  # before the input is looked at
        declaration = self._declarations.submit(caller, mapping.submission(request))
        return drs_pb2.SubmitDeclarationResponse(declaration=mapping.declaration(declaration))

    def GetDeclaration(self, request, context):  # noqa: N802, ANN001, ANN201
        found = self._queries.get_declaration(current_caller(), request.name)
        return drs_pb2.GetDeclarationResponse(declaration=mapping.declaration(found))

    def ListDeclarations(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_declarations(
            current_caller(), request.parent, request.page_size, request.page_token
        )
        return drs_pb2.ListDeclarationsResponse(
            declarations=[mapping.declaration(d) for d in page.items],
            next_page_token=page.next_page_token,
        )

    def ListTasks(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_tasks(
            current_caller(), request.parent, request.page_size, request.page_token
        )
        return drs_pb2.ListTasksResponse(
            tasks=[mapping.task(t) for t in page.items], next_page_token=page.next_page_token
        )


class DrsRequestServicer(drs_pb2_grpc.DrsRequestServiceServicer):
    def __init__(self, requests: Requests) -> None:
        self._requests = requests

    def RequestDeclaration(self, request, context):  # noqa: N802, ANN001, ANN201
        caller = current_caller()
        access.require_requester(caller)
        request_id, employer, insz, scenario, risk_date = validation.declaration_request(
            request.request_id,
            request.employer,
            request.insz,
            mapping.scenario(request.scenario),
            mapping.date_of(request, "risk_date"),
        )
        task = self._requests.request(caller, request_id, employer, insz, scenario, risk_date)
        return drs_pb2.RequestDeclarationResponse(task=mapping.task(task))


class DrsConsultationServicer(drs_pb2_grpc.DrsConsultationServiceServicer):
    """Answered only to a router (the runtime enforces ACCESS_ROUTED); the requester may be an
    institution or the worker himself (`person/{insz}`): the router checked which."""

    def __init__(self, queries: DrsQueries) -> None:
        self._queries = queries

    def ListWorkerDeclarations(self, request, context):  # noqa: N802, ANN001, ANN201
        page = self._queries.list_worker_declarations(
            request.insz, request.page_size, request.page_token
        )
        return drs_pb2.ListWorkerDeclarationsResponse(
            declarations=[mapping.declaration(d) for d in page.items],
            next_page_token=page.next_page_token,
        )
