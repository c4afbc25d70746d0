"""Wiring of DimonaResearchService (the research data warehouse's extraction) for server.py."""

from __future__ import annotations

from cbss.dimona.v1 import research_pb2, research_pb2_grpc
from dimona.service.research import DimonaResearch
from dimona.storage.research import SqlResearchPeriods
from dimona.transport.research_servicer import DimonaResearchServicer
from runtime.db import Database
from runtime.server import Registration


def research_registration(db: Database) -> Registration:
    """The servicer of DimonaResearchService over DIMONA's database."""
    return Registration(
        research_pb2_grpc.add_DimonaResearchServiceServicer_to_server,
        DimonaResearchServicer(DimonaResearch(SqlResearchPeriods(db))),
        research_pb2.DESCRIPTOR.services_by_name["DimonaResearchService"].full_name,
    )
