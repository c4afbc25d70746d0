"""The research data warehouse's part of the primary router's seed (router.seed calls it).

The trusted third party of the warehouse (`cbss-ttp`, the CBSS's pseudonymisation service) is
the only institution granted the holders' bulk research extractions: DIMONA's quarter periods
(provider `onss` at DIMONA's endpoint), the DmfA's worker quarters (`onss` at the DmfA's) and
the register's demographics (`nr` at the registry's), each under the legal context
`research.labour-market`, directory check NONE (an extraction names no person: the router logs
one message per extraction). The warehouse itself (`cbss-dwh`) never calls the router: it asks
the TTP, which codes every INSZ before anything reaches it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from router.service.model import (
    Authorisation,
    DeceasedPolicy,
    DirectoryCheck,
    Institution,
    ServiceProvider,
)

TTP = "cbss-ttp"
RESEARCH_LEGAL_CONTEXT = "research.labour-market"
#: The founding opinion of the data warehouse's committee (6 February 2001).
DELIBERATION = "ISC/01/006"
#: (service, method, provider, which endpoint)
EXTRACTIONS = (
    ("cbss.registry.v1.RegistryResearchService", "ExtractDemographics", "nr", "registry"),
    ("cbss.dimona.v1.DimonaResearchService", "ExtractQuarterPeriods", "onss", "dimona"),
    ("cbss.dmfa.v1.DmfaResearchService", "ExtractQuarterWorkers", "onss", "dmfa"),
)


def seed_research(
    seeder: Any,
    contract_files: Any,
    registry_endpoint: str,
    dimona_endpoint: str,
    dmfa_endpoint: str,
) -> None:
    """The TTP, the three extraction services and the TTP's grants (convergent, as the seed)."""
    from cbss.dimona.v1 import research_pb2 as dimona_research
    from cbss.dmfa.v1 import research_pb2 as dmfa_research
    from cbss.registry.v1 import research_pb2 as registry_research

    seeder.institution(
        Institution(TTP, "Banque Carrefour — tiers de confiance (recherche)", sectors=frozenset())
    )
    endpoints = {"registry": registry_endpoint, "dimona": dimona_endpoint, "dmfa": dmfa_endpoint}
    files = {
        "registry": registry_research.DESCRIPTOR,
        "dimona": dimona_research.DESCRIPTOR,
        "dmfa": dmfa_research.DESCRIPTOR,
    }
    for service, method, provider, where in EXTRACTIONS:
        seeder.provider(
            ServiceProvider(service, provider, endpoints[where], DeceasedPolicy.PASS_WITH_FLAG),
            contract_files(files[where]),
        )
        seeder.grant(
            Authorisation(
                id="",
                deliberation=DELIBERATION,
                requester=TTP,
                service=service,
                method=method,
                destination="",
                legal_contexts=frozenset({RESEARCH_LEGAL_CONTEXT}),
                directory_check=DirectoryCheck.NONE,
                capacities=frozenset(),
                read_mask_cap=frozenset(),
                valid_from=dt.date(2020, 1, 1),
                valid_to=None,
            )
        )
