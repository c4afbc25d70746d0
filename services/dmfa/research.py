"""Wiring of DmfaResearchService (the research data warehouse's extraction) for server.py."""

from __future__ import annotations

from cbss.dmfa.v1 import research_pb2, research_pb2_grpc
from dmfa.service.research import DmfaResearch
from dmfa.storage.research import SqlResearchWorkers
from dmfa.transport.research_servicer import DmfaResearchServicer
from runtime.db import Database
from runtime.server import Registration


def research_registration(db: Database) -> Registration:
    """The servicer of DmfaResearchService over the DmfA's database."""
    return Registration(
        research_pb2_grpc.add_DmfaResearchServiceServicer_to_server,
        DmfaResearchServicer(DmfaResearch(SqlResearchWorkers(db))),
        research_pb2.DESCRIPTOR.services_by_name["DmfaResearchService"].full_name,
    )
