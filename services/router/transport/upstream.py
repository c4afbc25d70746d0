"""A hub's link to the primary router: the hub integrates its members' persons there, under its
own identity, so that the primary knows "this network holds the person" and routes to the hub."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from router.service.model import ConfigSnapshot, DirectoryEntry
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


class GrpcHubDirectories:
    """Hubs port: the DirectoryService of every hub registered as a provider (`via_router`),
    reached over the forwarder's channels (this router's certificate)."""

    def __init__(self, channels: Any, config: Callable[[], ConfigSnapshot]) -> None:
        self._channels, self._config = channels, config

    def move(self, old: str, new: str) -> int:
        hubs = {
            (p.endpoint, p.via_router)
            for providers in self._config().providers.values()
            for p in providers
            if p.via_router
        }
        moved = 0
        for endpoint, hub in sorted(hubs):
            stub = directory_pb2_grpc.DirectoryServiceStub(self._channels.get(endpoint, hub, hub))
            try:
                reply = stub.MoveSubjectEntries(
                    directory_pb2.MoveSubjectEntriesRequest(old_insz=old, new_insz=new),
                    timeout=TIMEOUT_SECONDS,
                )
            except grpc.RpcError as exc:
                info = failure(exc)
                raise Unavailable(
                    "HUB_UNAVAILABLE",
                    "a hub did not move its members' entries; ask again (moves are idempotent)",
                    metadata={"hub": hub, "code": info.code.name, "reason": info.reason},
                ) from None
            moved += reply.moved
        return moved
