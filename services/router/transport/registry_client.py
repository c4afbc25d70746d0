"""The router's person checks against the National Register, through its gRPC service.

The router asks as itself (`router/<name>` is both the TLS peer and the requester), under the
legal context `cbss.router.person-check`, with the ticket of the message being checked, so that
the register's own logs tie its answer to the router's message log.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from router.service.model import PersonStatus
from router.service.refusals import refusal
from runtime import identity
from runtime.client import trace_headers

LEGAL_CONTEXT = "cbss.router.person-check"
TIMEOUT_SECONDS = 5.0


class GrpcPersonRegistry:
    """PersonRegistry port over RegistryService.GetPersonStatuses."""

    def __init__(self, channel: grpc.Channel, router_uri: str) -> None:
        self._stub = registry_pb2_grpc.RegistryServiceStub(channel)
        self._router_uri = router_uri

    def statuses(self, inszs: Iterable[str], ticket: str) -> dict[str, PersonStatus]:
        request = registry_pb2.GetPersonStatusesRequest(inszs=list(inszs))
        metadata = [
            (identity.REQUESTER_HEADER, self._router_uri),
            (identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT),
            (identity.TICKET_HEADER, ticket),
            (identity.CAPACITY_HEADER, "none"),
            *trace_headers(),
        ]
        try:
            reply = self._stub.GetPersonStatuses(
                request, metadata=metadata, timeout=TIMEOUT_SECONDS
            )
        except grpc.RpcError as exc:
            raise refusal("REGISTRY_UNAVAILABLE", {"code": exc.code().name}) from None  # type: ignore[attr-defined]
        return {
            s.insz: PersonStatus(exists=s.exists, deceased=s.deceased, replaced_by=s.replaced_by)
            for s in reply.statuses
        }
