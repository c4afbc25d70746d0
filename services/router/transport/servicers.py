"""The router's own gRPC services: administration and the reference directory."""

from __future__ import annotations

import base64

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from cbss.router.v1 import (
    directory_pb2,
    directory_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from router.service.admin import AdminService
from router.service.directory import DirectoryService
from router.service.refusals import refusal
from router.transport import mapping
from router.transport.person_index import Loaded, PersonIndex
from runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument
from runtime.identity import current_caller


def _page(page_size: int, token: str, default: int = 100, maximum: int = 500) -> tuple[int, str]:
    if page_size < 0:
        raise InvalidArgument.for_fields([FieldViolation("page_size", "not negative")])
    try:
        after = base64.urlsafe_b64decode(token.encode()).decode() if token else ""
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument.for_fields(
            [FieldViolation("page_token", "not a token of this list")], "INVALID_PAGE_TOKEN"
        ) from None
    return min(page_size or default, maximum), after


def _token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


class AdminServicer(router_admin_pb2_grpc.RouterAdminServiceServicer):
    """RouterAdminService over the AdminService rules."""

    def __init__(
        self,
        admin: AdminService,
        catalog_for: object,
        person_index: PersonIndex | None = None,
    ) -> None:
        self._admin = admin
        self._catalog_for = catalog_for
        self._person_index = person_index

    def RebuildPersonIndex(self, request, context):  # noqa: N802, ANN001, ANN201
        index = self._person_index

        def rebuild() -> Loaded:
            if index is None:
                raise FailedPrecondition("PERSON_INDEX_OFF", "this router runs without an index")
            try:
                return index.rebuild()
            except grpc.RpcError as exc:
                raise refusal("REGISTRY_UNAVAILABLE", {"code": exc.code().name}) from None  # type: ignore[attr-defined]

        loaded = self._admin.rebuild_person_index(current_caller(), rebuild)
        return router_admin_pb2.RebuildPersonIndexResponse(
            numbers=loaded.numbers, sequence=loaded.sequence
        )

    def RegisterInstitution(self, request, context):  # noqa: N802, ANN001, ANN201
        stored = self._admin.register_institution(
            current_caller(), mapping.institution_in(request.institution)
        )
        return router_admin_pb2.RegisterInstitutionResponse(
            institution=mapping.institution_out(stored)
        )

    def SuspendInstitution(self, request, context):  # noqa: N802, ANN001, ANN201
        stored = self._admin.set_active(current_caller(), request.name, False, request.reason)
        return router_admin_pb2.SuspendInstitutionResponse(
            institution=mapping.institution_out(stored)
        )

    def ReactivateInstitution(self, request, context):  # noqa: N802, ANN001, ANN201
        stored = self._admin.set_active(current_caller(), request.name, True, "reactivated")
        return router_admin_pb2.ReactivateInstitutionResponse(
            institution=mapping.institution_out(stored)
        )

    def ListInstitutions(self, request, context):  # noqa: N802, ANN001, ANN201
        limit, after = _page(request.page_size, request.page_token)
        found = self._admin.list_institutions(current_caller(), after, limit + 1)
        more = len(found) > limit
        found = found[:limit]
        return router_admin_pb2.ListInstitutionsResponse(
            institutions=[mapping.institution_out(i) for i in found],
            next_page_token=_token(found[-1].id) if more else "",
        )

    def RegisterService(self, request, context):  # noqa: N802, ANN001, ANN201
        files: list[bytes] = []
        if request.file_descriptor_set:
            try:
                fds = descriptor_pb2.FileDescriptorSet.FromString(request.file_descriptor_set)
            except DecodeError:
                raise InvalidArgument.for_fields(
                    [FieldViolation("file_descriptor_set", "not a FileDescriptorSet")],
                    "INVALID_DESCRIPTOR_SET",
                ) from None
            files = [f.SerializeToString() for f in fds.file]
        stored, catalog = self._admin.register_service(
            current_caller(), mapping.provider_in(request.registration), files
        )
        return router_admin_pb2.RegisterServiceResponse(
            registration=mapping.provider_out(stored, catalog)
        )

    def ListServices(self, request, context):  # noqa: N802, ANN001, ANN201
        limit, after = _page(request.page_size, request.page_token)
        key = tuple(after.split("\x00", 1)) if after else None
        if key is not None and len(key) != 2:
            raise InvalidArgument.for_fields(
                [FieldViolation("page_token", "not a token of this list")], "INVALID_PAGE_TOKEN"
            )
        found = self._admin.list_providers(current_caller(), key, limit + 1)  # type: ignore[arg-type]
        more = len(found) > limit
        found = found[:limit]
        return router_admin_pb2.ListServicesResponse(
            registrations=[mapping.provider_out(p, self._catalog_for(p)) for p in found],  # type: ignore[operator]
            next_page_token=_token(f"{found[-1].service}\x00{found[-1].provider}") if more else "",
        )

    def GrantAuthorisation(self, request, context):  # noqa: N802, ANN001, ANN201
        stored = self._admin.grant(
            current_caller(), mapping.authorisation_in(request.authorisation)
        )
        return router_admin_pb2.GrantAuthorisationResponse(
            authorisation=mapping.authorisation_out(stored)
        )

    def RevokeAuthorisation(self, request, context):  # noqa: N802, ANN001, ANN201
        stored = self._admin.revoke(current_caller(), request.name, request.reason)
        return router_admin_pb2.RevokeAuthorisationResponse(
            authorisation=mapping.authorisation_out(stored)
        )

    def ListAuthorisations(self, request, context):  # noqa: N802, ANN001, ANN201
        limit, after = _page(request.page_size, request.page_token)
        found = self._admin.list_authorisations(
            current_caller(), request.requester, after, limit + 1
        )
        more = len(found) > limit
        found = found[:limit]
        return router_admin_pb2.ListAuthorisationsResponse(
            authorisations=[mapping.authorisation_out(a) for a in found],
            next_page_token=_token(found[-1].id) if more else "",
        )


class DirectoryServicer(directory_pb2_grpc.DirectoryServiceServicer):
    """DirectoryService over the directory rules."""

    def __init__(self, directory: DirectoryService) -> None:
        self._directory = directory

    def RegisterEntries(self, request, context):  # noqa: N802, ANN001, ANN201
        entries = [mapping.entry_in(e, i) for i, e in enumerate(request.entries)]
        added, unchanged = self._directory.register(current_caller(), entries)
        return directory_pb2.RegisterEntriesResponse(added=added, unchanged=unchanged)

    def UnregisterEntries(self, request, context):  # noqa: N802, ANN001, ANN201
        entries = [mapping.entry_in(e, i) for i, e in enumerate(request.entries)]
        ended = self._directory.unregister(current_caller(), entries)
        return directory_pb2.UnregisterEntriesResponse(ended=ended)

    def ListEntries(self, request, context):  # noqa: N802, ANN001, ANN201
        entries, token = self._directory.list(
            current_caller(), request.insz, request.page_size, request.page_token
        )
        return directory_pb2.ListEntriesResponse(
            entries=[mapping.entry_out(e) for e in entries], next_page_token=token
        )

    def ListSubjectHolders(self, request, context):  # noqa: N802, ANN001, ANN201
        subjects = [
            (
                q.insz,
                mapping.to_date(
                    q.period.start_date, f"subjects[{i}].period.start_date", required=False
                ),
                mapping.to_date(
                    q.period.end_date, f"subjects[{i}].period.end_date", required=False
                ),
            )
            for i, q in enumerate(request.subjects)
        ]
        found = self._directory.holders_over(current_caller(), subjects)
        return directory_pb2.ListSubjectHoldersResponse(
            holders=[
                directory_pb2.SubjectHolder(subject_index=i, entry=mapping.entry_out(e))
                for i, e in found
            ]
        )

    def MoveSubjectEntries(self, request, context):  # noqa: N802, ANN001, ANN201
        moved = self._directory.move_subject(current_caller(), request.old_insz, request.new_insz)
        return directory_pb2.MoveSubjectEntriesResponse(moved=moved)
