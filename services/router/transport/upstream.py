"""A hub's link to the primary router: the hub integrates its members' persons there, under its
own identity, so that the primary knows "this network holds the person" and routes to the hub."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from router.service.model import DirectoryEntry
from router.transport.mapping import from_date
from runtime.client import failure
from runtime.errors import Unavailable

TIMEOUT_SECONDS = 10.0


class GrpcUpstreamDirectory:
    """Upstream port over the primary router's DirectoryService."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)

    @staticmethod
    def _entries(entries: Sequence[DirectoryEntry]) -> list[directory_pb2.DirectoryEntry]:
        return [
            directory_pb2.DirectoryEntry(
                insz=e.insz,
                capacity=directory_pb2.Capacity(sector=e.capacity.sector, code=e.capacity.code),
                period=types_pb2.Period(start_date=from_date(e.start), end_date=from_date(e.end)),
            )
            for e in entries
        ]

    def register(self, entries: Sequence[DirectoryEntry]) -> None:
        self._call(
            "RegisterEntries", directory_pb2.RegisterEntriesRequest(entries=self._entries(entries))
        )

    def unregister(self, entries: Sequence[DirectoryEntry]) -> None:
        self._call(
            "UnregisterEntries",
            directory_pb2.UnregisterEntriesRequest(entries=self._entries(entries)),
        )

    def _call(self, method: str, request: object) -> None:
        try:
            getattr(self._stub, method)(request, timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            info = failure(exc)
            raise Unavailable(
                "UPSTREAM_UNAVAILABLE",
                "the primary router did not take the integration; nothing was stored",
                metadata={"code": info.code.name, "reason": info.reason},
            ) from None
