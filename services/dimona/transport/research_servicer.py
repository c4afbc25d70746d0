"""DimonaResearchService's servicer: proto <-> domain mapping only (dimona.service.research)."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cbss.dimona.v1 import dimona_pb2, research_pb2, research_pb2_grpc
from dimona.service.research import DimonaResearch, ResearchPeriod
from runtime.identity import current_consultation


def _date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def research_period(p: ResearchPeriod) -> research_pb2.ResearchPeriod:
    message = research_pb2.ResearchPeriod(
        insz=p.insz,
        employer=p.employer,
        worker_type=dimona_pb2.WorkerType.Value(f"WORKER_TYPE_{p.worker_type}"),
        joint_committee=p.joint_committee,
        start_date=_date(p.start),
    )
    if p.end is not None:
        message.end_date.CopyFrom(_date(p.end))
    return message


class DimonaResearchServicer(research_pb2_grpc.DimonaResearchServiceServicer):
    """Answered only to a router forwarding the TTP (the runtime and the rules check it)."""

    def __init__(self, research: DimonaResearch) -> None:
        self._research = research

    def ExtractQuarterPeriods(self, request, context):  # noqa: N802, ANN001, ANN201
        pages = self._research.extract_quarter_periods(
            current_consultation(), request.year, request.quarter
        )
        for page in pages:
            yield research_pb2.ExtractQuarterPeriodsResponse(
                periods=[research_period(p) for p in page]
            )
