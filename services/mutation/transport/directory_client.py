"""The router's reference directory, through the router's gRPC (DirectoryService)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import grpc
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from mutation.service.model import Holder
from mutation.service.ports import SourceUnavailable

TIMEOUT = 15.0


def _pb(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _date(value: date_pb2.Date) -> dt.date | None:
    return dt.date(value.year, value.month, value.day) if value.year else None


class RouterDirectory:
    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)

    def holders(self, queries: Sequence[tuple[str, dt.date, dt.date]]) -> list[tuple[int, Holder]]:
        request = directory_pb2.ListSubjectHoldersRequest(
            subjects=[
                directory_pb2.HolderQuery(
                    insz=insz, period=types_pb2.Period(start_date=_pb(start), end_date=_pb(end))
                )
                for insz, start, end in queries
            ]
        )
        try:
            reply = self._stub.ListSubjectHolders(request, timeout=TIMEOUT)
        except grpc.RpcError as exc:
            raise SourceUnavailable("router directory", exc.code().name) from None  # type: ignore[attr-defined]
        found = []
        for h in reply.holders:
            e = h.entry
            start = _date(e.period.start_date)
            assert start is not None
            capacity = f"{e.capacity.sector}/{e.capacity.code}"
            found.append(
                (h.subject_index, Holder(e.institution, capacity, start, _date(e.period.end_date)))
            )
        return found

    def move(self, old_insz: str, new_insz: str) -> int:
        try:
            reply = self._stub.MoveSubjectEntries(
                directory_pb2.MoveSubjectEntriesRequest(old_insz=old_insz, new_insz=new_insz),
                timeout=TIMEOUT,
            )
        except grpc.RpcError as exc:
            raise SourceUnavailable("router directory", exc.code().name) from None  # type: ignore[attr-defined]
        return reply.moved
