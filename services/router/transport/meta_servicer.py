"""MetaService: what the network offers, for any party (no person is ever named here)."""

from __future__ import annotations

from collections.abc import Callable

from cbss.router.v1 import meta_pb2, meta_pb2_grpc, router_admin_pb2
from router.service.model import ConfigSnapshot, DirectoryCheck
from router.transport import mapping
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import PartyKind, current_caller


class MetaServicer(meta_pb2_grpc.MetaServiceServicer):
    def __init__(
        self,
        config: Callable[[], ConfigSnapshot],
        catalog_for: Callable[[object], object],
        clock: Clock,
    ) -> None:
        self._config, self._catalog_for, self._clock = config, catalog_for, clock

    def ListNetworkInstitutions(self, request, context):  # noqa: N802, ANN001, ANN201
        snap = self._config()
        institutions = []
        for i in sorted(snap.institutions.values(), key=lambda i: i.id):
            out = mapping.institution_out(i)
            out.ClearField("sectors")
            institutions.append(out)
        return meta_pb2.ListNetworkInstitutionsResponse(institutions=institutions)

    def ListAllowedMethods(self, request, context):  # noqa: N802, ANN001, ANN201
        caller = current_caller()
        if caller.kind is not PartyKind.INSTITUTION:
            raise PermissionDenied(
                "INSTITUTIONS_ONLY", "authorisations are granted to institutions"
            )
        today = self._clock.today()
        allowed = [
            meta_pb2.AllowedMethod(
                service=a.service,
                method=a.method or "*",
                destination=a.destination or "*",
                legal_contexts=sorted(a.legal_contexts),
                directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE
                if a.directory_check is DirectoryCheck.NONE
                else router_admin_pb2.DIRECTORY_CHECK_REQUIRED,
                deliberation=a.deliberation,
            )
            for a in self._config().authorisations.get(caller.id, [])
            if not a.revoked
            and a.valid_from <= today
            and (a.valid_to is None or today <= a.valid_to)
        ]
        allowed.sort(key=lambda m: (m.service, m.method, m.destination))
        return meta_pb2.ListAllowedMethodsResponse(allowed=allowed)

    def DescribeService(self, request, context):  # noqa: N802, ANN001, ANN201
        if not request.service:
            raise InvalidArgument.for_fields([FieldViolation("service", "required")])
        providers = self._config().providers.get(request.service, [])
        if not providers:
            raise NotFound(
                "UNKNOWN_SERVICE",
                "no such service on the network",
                metadata={"service": request.service},
            )
        return meta_pb2.DescribeServiceResponse(
            registrations=[
                mapping.provider_out(p, self._catalog_for(p))
                for p in sorted(providers, key=lambda p: p.provider)
            ]
        )
