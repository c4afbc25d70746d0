"""The TTP's extractions through the router: the holders' routed, server-streaming research
methods, called as `institution/cbss-ttp` with the research legal context.

The router's ticket comes back in the call's initial metadata. A failure becomes a domain error
for the warehouse: the router or holder unreachable (UNAVAILABLE, DEADLINE_EXCEEDED) is
UNAVAILABLE `SOURCE_UNAVAILABLE`; any other failure (a refusal of the router, an error of the
holder) is FAILED_PRECONDITION `EXTRACTION_REFUSED`, with the source's code and reason in the
metadata (never its message, which could name a field's value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.type import date_pb2

from cbss.dimona.v1 import research_pb2 as dimona_research
from cbss.dimona.v1 import research_pb2_grpc as dimona_research_grpc
from cbss.dmfa.v1 import research_pb2 as dmfa_research
from cbss.dmfa.v1 import research_pb2_grpc as dmfa_research_grpc
from cbss.registry.v1 import research_pb2 as registry_research
from cbss.registry.v1 import research_pb2_grpc as registry_research_grpc
from runtime import identity
from runtime.client import failure
from runtime.errors import FailedPrecondition, Unavailable
from ttp.service.extractions import Source

_UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class RoutedExtraction:
    """One extraction: started when its batches are read."""

    def __init__(
        self,
        source: Source,
        start: Callable[[], Any],
        records: Callable[[Any], list[Any]],
    ) -> None:
        self.source, self._start, self._records = source, start, records
        self.ticket = ""

    def batches(self) -> Iterator[list[tuple[str, Any]]]:
        call = self._start()
        try:
            self.ticket = identity.router_ticket(call)
            for message in call:
                yield [(record.insz, record) for record in self._records(message)]
        except grpc.RpcError as exc:
            info = failure(exc)
            metadata = {"source": self.source.value, "code": info.code.name}
            if info.reason:
                metadata["reason"] = info.reason
            if self.ticket:
                metadata["router_ticket"] = self.ticket
            if info.code in _UNREACHABLE:
                raise Unavailable(
                    "SOURCE_UNAVAILABLE", "the source could not be reached", metadata=metadata
                ) from None
            raise FailedPrecondition(
                "EXTRACTION_REFUSED", "the source refused the extraction", metadata=metadata
            ) from None
        finally:
            call.cancel()  # a no-op once the stream ended; frees the call when abandoned


class RouterSources:
    """The three sources, through one channel to the router."""

    def __init__(self, channel: grpc.Channel, legal_context: str, timeout: float) -> None:
        self._dimona = dimona_research_grpc.DimonaResearchServiceStub(channel)
        self._dmfa = dmfa_research_grpc.DmfaResearchServiceStub(channel)
        self._registry = registry_research_grpc.RegistryResearchServiceStub(channel)
        self._metadata = ((identity.LEGAL_CONTEXT_HEADER, legal_context),)
        self._timeout = timeout

    def open(self, source: Source, year: int, quarter: int, last_day: dt.date) -> RoutedExtraction:
        options = {"metadata": self._metadata, "timeout": self._timeout}
        if source is Source.DIMONA_PERIODS:
            request = dimona_research.ExtractQuarterPeriodsRequest(year=year, quarter=quarter)
            return RoutedExtraction(
                source,
                lambda: self._dimona.ExtractQuarterPeriods(request, **options),
                lambda m: m.periods,
            )
        if source is Source.DMFA_WORKER_QUARTERS:
            request = dmfa_research.ExtractQuarterWorkersRequest(year=year, quarter=quarter)
            return RoutedExtraction(
                source,
                lambda: self._dmfa.ExtractQuarterWorkers(request, **options),
                lambda m: m.workers,
            )
        day = date_pb2.Date(year=last_day.year, month=last_day.month, day=last_day.day)
        request = registry_research.ExtractDemographicsRequest(day=day)
        return RoutedExtraction(
            source,
            lambda: self._registry.ExtractDemographics(request, **options),
            lambda m: m.persons,
        )
