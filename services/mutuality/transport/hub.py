"""The mutuality's link to its hub: the hub router's DirectoryService, called as the mutuality."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from mutuality.service.model import MEMBER_CODE, MEMBER_SECTOR, Affiliation
from mutuality.transport.servicer import date_out
from runtime.client import DEFAULT_TIMEOUT_SECONDS, failure
from runtime.errors import Unavailable

#: A batch of 1,000 entries is written at the hub and at the primary: give it time.
TIMEOUT_SECONDS = max(DEFAULT_TIMEOUT_SECONDS, 60.0)


class GrpcHubDirectory:
    """HubDirectory over the hub router's DirectoryService (capacity 11/1 from `since`)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)

    def register(self, affiliations: Sequence[Affiliation]) -> tuple[int, int]:
        request = directory_pb2.RegisterEntriesRequest(
            entries=[
                directory_pb2.DirectoryEntry(
                    insz=a.insz,
                    capacity=directory_pb2.Capacity(sector=MEMBER_SECTOR, code=MEMBER_CODE),
                    period=types_pb2.Period(
                        start_date=date_out(a.since), end_date=date_out(a.until)
                    ),
                )
                for a in affiliations
            ]
        )
        try:
            reply = self._stub.RegisterEntries(request, timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            info = failure(exc)
            raise Unavailable(
                "HUB_REFUSED_INTEGRATION",
                f"the hub did not take the integration: {info.code.name} {info.reason}",
                metadata={"code": info.code.name, "reason": info.reason},
            ) from None
        return reply.added, reply.unchanged
