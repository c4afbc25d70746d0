"""A hub's link to the primary router: the hub integrates its members' persons there, under its
own identity, so that the primary knows "this network holds the person" and routes to the hub."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

import grpc

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from router.service.model import Capacity, ConfigSnapshot, DirectoryEntry
from router.transport.mapping import from_date, to_date
from runtime.client import failure
from runtime.errors import InvalidArgument, Unavailable

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
#: A person waits for the hubs' answer when listing who holds a file: shorter.
MEMBERS_TIMEOUT_SECONDS = 3.0


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
    reached over the forwarder's channels (this router's certificate). Also the citizen's
    HubMembers port (router.service.citizen): a hub's name is its institution id here (it
    integrates its members' persons under `router/<name>`)."""

    def __init__(self, channels: Any, config: Callable[[], ConfigSnapshot]) -> None:
        self._channels, self._config = channels, config

    def _endpoints(self) -> set[tuple[str, str]]:
        return {
            (p.endpoint, p.via_router)
            for providers in self._config().providers.values()
            for p in providers
            if p.via_router
        }

    def hubs(self) -> set[str]:
        return {hub for _, hub in self._endpoints()}

    def member_entries(self, hub: str, insz: str) -> list[DirectoryEntry] | None:
        """The person's entries in the hub's directory (its members'), any period; None when
        the hub does not answer in time (the caller then shows the hub's own entry)."""
        endpoints = sorted(e for e, h in self._endpoints() if h == hub)
        if not endpoints:
            return None
        stub = directory_pb2_grpc.DirectoryServiceStub(self._channels.get(endpoints[0], hub, hub))
        request = directory_pb2.ListSubjectHoldersRequest(
            subjects=[
                directory_pb2.HolderQuery(
                    insz=insz,
                    period=types_pb2.Period(
                        start_date=from_date(dt.date.min), end_date=from_date(dt.date.max)
                    ),
                )
            ]
        )
        try:
            reply = stub.ListSubjectHolders(request, timeout=MEMBERS_TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            logger.warning("hub %s did not list its members' entries: %s", hub, failure(exc).reason)
            return None
        found = []
        try:
            for h in reply.holders:
                start = to_date(h.entry.period.start_date, "start_date", required=True)
                end = to_date(h.entry.period.end_date, "end_date", required=False)
                if h.entry.institution and start is not None:
                    capacity = Capacity(h.entry.capacity.sector, h.entry.capacity.code)
                    found.append(DirectoryEntry(insz, h.entry.institution, capacity, start, end))
        except InvalidArgument:
            logger.warning("hub %s answered an entry without a valid period", hub)
            return None
        return found

    def move(self, old: str, new: str) -> int:
        moved = 0
        for endpoint, hub in sorted(self._endpoints()):
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
