"""`python -m router seed` by role, on SQLite and PostgreSQL: the primary and the hub of the
demonstration network, and a second run that writes only what is missing or moved."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import Settings
from router.seed import (
    DIMONA_QUARTER_SERVICE,
    DIMONA_SERVICE,
    DMFA_LEGAL_CONTEXT,
    DMFA_OWN_GRANTS,
    DMFA_SERVICE,
    DRS_CONSULTATION_SERVICE,
    DRS_SERVICE,
    MUTATION_STREAM_SERVICE,
    MUTUALITY_SERVICE,
    REGISTRY_SERVICE,
    SEED_ADMIN,
    seed_router,
)
from router.service.descriptors import ServiceCatalog
from router.storage.repository import SqlConfigSource
from runtime.db import Database
from tests.support.servers import service_env

pytestmark = pytest.mark.storage


def _snapshot(url: str):  # noqa: ANN202
    db = Database(url)
    try:
        return SqlConfigSource(db).snapshot()
    finally:
        db.dispose()


def _endpoints(snapshot) -> dict[tuple[str, str], tuple[str, str]]:  # noqa: ANN001
    return {
        (p.service, p.provider): (p.endpoint, p.via_router)
        for providers in snapshot.providers.values()
        for p in providers
    }


def test_primary_knows_the_hub_as_provider_via_router_when_seeded_with_a_hub(
    pki_dir: Path, database_url: str
) -> None:
    settings = Settings.from_env(service_env(pki_dir, "router", database_url))
    seed_router(settings, "localhost:50051", hub_endpoint="localhost:50053")
    snap = _snapshot(database_url)
    assert _endpoints(snap) == {
        (REGISTRY_SERVICE, "nr"): ("localhost:50051", ""),
        (MUTUALITY_SERVICE, "cin"): ("localhost:50053", "cin"),
        (DIMONA_SERVICE, "onss"): ("localhost:50056", ""),
        (DIMONA_QUARTER_SERVICE, "onss"): ("localhost:50056", ""),
        (DMFA_SERVICE, "onss"): ("localhost:50057", ""),
        (DRS_SERVICE, "onss"): ("localhost:50058", ""),
        (DRS_CONSULTATION_SERVICE, "onss"): ("localhost:50058", ""),
        (MUTATION_STREAM_SERVICE, "cbss"): ("localhost:50059", ""),
        # The research data warehouse's extractions, granted to its trusted third party only.
        ("cbss.registry.v1.RegistryResearchService", "nr"): ("localhost:50051", ""),
        ("cbss.dimona.v1.DimonaResearchService", "onss"): ("localhost:50056", ""),
        ("cbss.dmfa.v1.DmfaResearchService", "onss"): ("localhost:50057", ""),
    }
    research = {
        (a.requester, a.method, a.directory_check.value, tuple(a.legal_contexts))
        for grants in snap.authorisations.values()
        for a in grants
        if "Research" in a.service
    }
    assert research == {
        ("cbss-ttp", method, "NONE", ("research.labour-market",))
        for method in ("ExtractDemographics", "ExtractQuarterPeriods", "ExtractQuarterWorkers")
    }
    onem = {(a.service, a.method, a.directory_check.value) for a in snap.authorisations["onem"]}
    assert (MUTUALITY_SERVICE, "GetAffiliation", "REQUIRED") in onem
    # The DRS's consultations: open to persons (self-service), granted to no institution.
    assert not any(
        a.service == DRS_CONSULTATION_SERVICE
        for grants in snap.authorisations.values()
        for a in grants
    )
    (drs,) = snap.providers[DRS_CONSULTATION_SERVICE]
    catalog = ServiceCatalog.from_files(drs.files)
    method = catalog.method(f"/{DRS_CONSULTATION_SERVICE}/ListWorkerDeclarations")
    assert method is not None and method.self_service
    assert (DMFA_SERVICE, "GetWorkerQuarter", "REQUIRED") in onem
    # The DmfA's own cross-checks: the ONSS without a directory check, one legal context.
    onss = {
        (a.service, a.method, a.directory_check.value, tuple(a.legal_contexts))
        for a in snap.authorisations["onss"]
        if a.legal_contexts == {DMFA_LEGAL_CONTEXT}
    }
    assert onss == {
        (service, method, "NONE", (DMFA_LEGAL_CONTEXT,)) for service, method in DMFA_OWN_GRANTS
    }
    # Moved ports: the endpoints follow; nothing else is written again.
    version = snap.version
    seed_router(settings, "localhost:51051", hub_endpoint="localhost:51053")
    moved = _snapshot(database_url)
    assert _endpoints(moved)[(MUTUALITY_SERVICE, "cin")] == ("localhost:51053", "cin")
    # The register's two services (its consultations and its research extraction) and the hub.
    assert moved.version == version + 3
    assert len(moved.authorisations["onem"]) == len(snap.authorisations["onem"])


def test_a_revoked_seed_authorisation_stays_revoked_when_the_seed_runs_again(
    pki_dir: Path, database_url: str
) -> None:
    from router.service.admin import AdminService
    from router.service.descriptors import ServiceCatalog
    from router.storage.admin_store import SqlAdminStore
    from runtime.clock import SystemClock

    settings = Settings.from_env(service_env(pki_dir, "router", database_url))
    seed_router(settings, "localhost:50051", hub_endpoint="localhost:50053")
    grant = next(
        a for a in _snapshot(database_url).authorisations["onem"] if a.service == MUTUALITY_SERVICE
    )
    db = Database(database_url)
    try:
        clock = SystemClock()
        admin = AdminService(
            SqlAdminStore(db, clock), None, ServiceCatalog.from_files, lambda _a: None, clock.today
        )
        admin.revoke(SEED_ADMIN, f"authorisations/{grant.id}", "audit")
    finally:
        db.dispose()
    seed_router(settings, "localhost:50051", hub_endpoint="localhost:50053")
    mutuality = [
        a for a in _snapshot(database_url).authorisations["onem"] if a.service == MUTUALITY_SERVICE
    ]
    assert [a.revoked for a in mutuality] == [True]


def test_hub_knows_its_members_as_providers_and_grants_without_directory_check_when_seeded(
    pki_dir: Path, database_url: str
) -> None:
    settings = Settings.from_env(
        service_env(
            pki_dir,
            "hub-cin",
            database_url,
            ROUTER_NAME="cin",
            UPSTREAM_ROUTER_ADDR="localhost:50052",
        )
    )
    members = {"mut-100": "localhost:50054", "mut-200": "localhost:50055"}
    seed_router(settings, "", role="hub", members=members)
    snap = _snapshot(database_url)
    assert _endpoints(snap) == {
        (MUTUALITY_SERVICE, "mut-100"): ("localhost:50054", ""),
        (MUTUALITY_SERVICE, "mut-200"): ("localhost:50055", ""),
        # A member's request for a DRS declaration goes up, through the primary.
        (DRS_SERVICE, "onss"): ("localhost:50052", "cbss"),
    }
    for member in ("mut-100", "mut-200"):
        [grant] = [a for a in snap.authorisations[member] if a.service == DRS_SERVICE]
        assert (grant.method, grant.directory_check.value) == ("RequestDeclaration", "REQUIRED")
    assert {p.provider: {str(c) for c in p.holder_capacities}
            for p in snap.providers[MUTUALITY_SERVICE]} == {"mut-100": {"11/1"},
                                                           "mut-200": {"11/1"}}  # fmt: skip
    assert snap.institutions["mut-100"].hub == "cin"
    assert [a.directory_check.value for a in snap.authorisations["onem"]] == ["NONE"]
    assert "nr" not in snap.institutions  # the hub registers only its network
    with pytest.raises(ValueError, match="not a member"):
        seed_router(settings, "", role="hub", members={"mut-300": "localhost:1"})
