"""RegistryResearchService's servicer: proto <-> domain mapping only (registry.service.research)."""

from __future__ import annotations

import datetime as dt

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import research_pb2, research_pb2_grpc
from registry.service.research import RegistryResearch, ResearchPerson
from runtime.identity import current_consultation


def research_person(p: ResearchPerson) -> research_pb2.ResearchPerson:
    message = research_pb2.ResearchPerson(
        insz=p.insz,
        sex=types_pb2.Sex.Value(f"SEX_{p.sex}"),
        postcode=p.postcode,
        country_code=p.country_code,
    )
    if p.age is not None:
        message.age = p.age
    return message


def _day(request: research_pb2.ExtractDemographicsRequest) -> dt.date | None:
    try:
        return dt.date(request.day.year, request.day.month, request.day.day)
    except ValueError:
        return None


class RegistryResearchServicer(research_pb2_grpc.RegistryResearchServiceServicer):
    """Answered only to a router forwarding the TTP (the runtime and the rules check it)."""

    def __init__(self, research: RegistryResearch) -> None:
        self._research = research

    def ExtractDemographics(self, request, context):  # noqa: N802, ANN001, ANN201
        pages = self._research.extract_demographics(current_consultation(), _day(request))
        for page in pages:
            yield research_pb2.ExtractDemographicsResponse(
                persons=[research_person(p) for p in page]
            )
