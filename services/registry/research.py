"""Wiring of RegistryResearchService (the research data warehouse's extraction) for server.py."""

from __future__ import annotations

from cbss.registry.v1 import research_pb2, research_pb2_grpc
from registry.service.research import RegistryResearch
from registry.storage.research import SqlPopulation
from registry.transport.research_servicer import RegistryResearchServicer
from runtime.db import Database
from runtime.server import Registration


def research_registration(db: Database) -> Registration:
    """The servicer of RegistryResearchService over the register's database."""
    return Registration(
        research_pb2_grpc.add_RegistryResearchServiceServicer_to_server,
        RegistryResearchServicer(RegistryResearch(SqlPopulation(db))),
        research_pb2.DESCRIPTOR.services_by_name["RegistryResearchService"].full_name,
    )
