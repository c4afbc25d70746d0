"""`python -m router seed`: the demonstration network `make run` starts with.

Acts through the router's own administrative rules (AdminService), as the administrator
`admin/seed`, so that every act is validated and written in the message log like any other. The
National Register's service is registered from its published contract (an uploaded descriptor
set), so the seed needs no running registry. Idempotent: does nothing once institutions exist.

The directory entries integrate persons that the registry's deterministic seed always creates
(runtime.identifiers' worked examples), so the README's routed consultation works at once.

DIMONA (the ONSS's service) is registered the same way: its consultation contract
(`cbss.dimona.v1.DimonaConsultationService`, provider `onss`), with authorisations for ONEM and
INAMI to list a worker's periods and for Famiwal to read a student's balance. The ONSS's own
identification authorisation (directory check NONE) covers the registry methods DIMONA calls:
GetPersonStatuses and RegisterBisNumber (no read mask, no cap), SearchPersons, and GetPerson
under a read-mask cap.
"""

from __future__ import annotations

import datetime as dt
import logging

from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pb2

from router.config import Settings
from router.service.admin import AdminAct, AdminService, admin_act_entry
from router.service.descriptors import ServiceCatalog
from router.service.model import (
    Authorisation,
    Capacity,
    DeceasedPolicy,
    DirectoryCheck,
    DirectoryEntry,
    Institution,
    Network,
    ServiceProvider,
)
from router.storage import MIGRATIONS
from router.storage.admin_store import SqlAdminStore
from router.storage.message_log import LogWriter
from router.storage.repository import SqlConfigSource, SqlDirectory
from runtime.clock import SystemClock
from runtime.db import Database
from runtime.identity import Caller, PartyKind

logger = logging.getLogger(__name__)

SEED_ADMIN = Caller(PartyKind.ADMIN, "seed")
REGISTRY_SERVICE = "cbss.registry.v1.RegistryService"
DIMONA_SERVICE = "cbss.dimona.v1.DimonaConsultationService"

INSTITUTIONS = (
    Institution("nr", "Registre national / Rijksregister", sectors=frozenset()),
    Institution("cbss", "Banque Carrefour de la sécurité sociale", sectors=frozenset()),
    Institution("onss", "Office national de sécurité sociale", sectors=frozenset({1})),
    Institution("onem", "Office national de l'emploi", sectors=frozenset({18})),
    Institution(
        "inami", "Institut national d'assurance maladie-invalidité", sectors=frozenset({11})
    ),
    Institution("cin", "Collège intermutualiste national", sectors=frozenset({11})),
    Institution("mut-100", "Mutualité 100", Network.SECONDARY, hub="cin", sectors=frozenset({11})),
    Institution("mut-200", "Mutualité 200", Network.SECONDARY, hub="cin", sectors=frozenset({11})),
    Institution("fedris", "Fedris — risques professionnels", sectors=frozenset({24})),
    Institution("famiwal", "Famiwal — allocations familiales", sectors=frozenset({7})),
)

#: (requester, deliberation, legal contexts, check, capacities, read-mask cap, method)
AUTHORISATIONS = (
    (
        "onem",
        "ISC/18/001",
        {"unemployment.control"},
        DirectoryCheck.REQUIRED,
        {Capacity(18, 1), Capacity(18, 4)},
        {"identity", "address", "status"},
        "GetPerson",
    ),
    (
        "cin",
        "ISC/19/042",
        {"health-insurance.insurability"},
        DirectoryCheck.REQUIRED,
        {Capacity(11, 1), Capacity(11, 2)},
        {"identity", "birth", "address", "status"},
        "GetPerson",
    ),
    (
        "famiwal",
        "ISC/20/017",
        {"family-allowances.entitlement"},
        DirectoryCheck.REQUIRED,
        {Capacity(7, 101), Capacity(7, 104)},
        {"identity", "address", "civil_status"},
        "GetPerson",
    ),
    # Identification flow: ONSS identifies workers it does not know yet (directory check NONE).
    # One grant per method: a read-mask cap applies to GetPerson only (the other methods have
    # no read mask, and a cap would refuse them with READ_MASK_REQUIRED).
    (
        "onss",
        "ISC/05/003",
        {"employment.identification"},
        DirectoryCheck.NONE,
        set(),
        {"identity", "birth", "status"},
        "GetPerson",
    ),
    *(
        (
            "onss",
            "ISC/05/003",
            {"employment.identification"},
            DirectoryCheck.NONE,
            set(),
            set(),
            method,
        )
        for method in ("GetPersonStatuses", "SearchPersons", "RegisterBisNumber")
    ),
)

#: DIMONA consultations: (requester, deliberation, legal contexts, capacities, method).
DIMONA_AUTHORISATIONS = (
    ("onem", "ISC/18/002", {"unemployment.control"}, {Capacity(18, 1), Capacity(18, 4)},
     "ListWorkerPeriods"),
    ("inami", "ISC/19/051", {"health-insurance.incapacity"}, {Capacity(11, 2)},
     "ListWorkerPeriods"),
    ("famiwal", "ISC/20/018", {"family-allowances.entitlement"}, {Capacity(7, 104)},
     "GetWorkerStudentBalance"),
)  # fmt: skip

#: Persons the registry's seed always has (see runtime.identifiers' worked examples).
DIRECTORY = (
    ("onem", "85071412330", Capacity(18, 1), dt.date(2024, 1, 1)),
    ("cin", "85071412330", Capacity(11, 1), dt.date(2003, 9, 1)),
    ("cin", "03020100274", Capacity(11, 1), dt.date(2021, 2, 1)),
    ("famiwal", "03020100274", Capacity(7, 104), dt.date(2003, 2, 1)),
    ("inami", "85071412330", Capacity(11, 2), dt.date(2025, 1, 1)),
)


def contract_files(file: _descriptor.FileDescriptor) -> list[bytes]:
    """A generated contract's file and its dependencies, serialized (an uploaded set)."""
    seen: dict[str, bytes] = {}

    def visit(f: _descriptor.FileDescriptor) -> None:
        if f.name in seen:
            return
        for dep in f.dependencies:
            visit(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        f.CopyToProto(proto)
        seen[f.name] = proto.SerializeToString()

    visit(file)
    return list(seen.values())


def seed_router(
    settings: Settings, registry_endpoint: str, dimona_endpoint: str = "localhost:50053"
) -> int:
    from cbss.dimona.v1 import dimona_pb2
    from cbss.registry.v1 import registry_pb2

    clock = SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
    if SqlConfigSource(db).snapshot().institutions:
        logger.info("router already seeded")
        return 0
    log = LogWriter(
        db,
        name=f"router-{settings.name}-seed",
        cert_path=settings.runtime.tls.cert,
        key_path=settings.runtime.tls.key,
        clock=clock,
    )
    log.start()

    def record(act: AdminAct) -> None:
        log.submit([admin_act_entry(act, clock.now())]).result()

    class NoReflection:
        def fetch(
            self, endpoint: str, service: str, provider: str, via_router: str = ""
        ) -> list[bytes]:
            raise RuntimeError("the seed uploads descriptors")

    admin = AdminService(
        SqlAdminStore(db, clock), NoReflection(), ServiceCatalog.from_files, record, clock.today
    )
    try:
        for institution in INSTITUTIONS:
            admin.register_institution(SEED_ADMIN, institution)
        admin.register_service(
            SEED_ADMIN,
            ServiceProvider(REGISTRY_SERVICE, "nr", registry_endpoint, DeceasedPolicy.REFUSE),
            contract_files(registry_pb2.DESCRIPTOR),
        )
        for requester, ref, contexts, check, capacities, cap, method in AUTHORISATIONS:
            admin.grant(
                SEED_ADMIN,
                Authorisation(
                    id="",
                    deliberation=ref,
                    requester=requester,
                    service=REGISTRY_SERVICE,
                    method=method,
                    destination="",
                    legal_contexts=frozenset(contexts),
                    directory_check=check,
                    capacities=frozenset(capacities),
                    read_mask_cap=frozenset(cap),
                    valid_from=dt.date(2020, 1, 1),
                    valid_to=None,
                ),
            )
        admin.register_service(
            SEED_ADMIN,
            ServiceProvider(DIMONA_SERVICE, "onss", dimona_endpoint, DeceasedPolicy.PASS_WITH_FLAG),
            contract_files(dimona_pb2.DESCRIPTOR),
        )
        for requester, ref, contexts, capacities, method in DIMONA_AUTHORISATIONS:
            admin.grant(
                SEED_ADMIN,
                Authorisation(
                    id="",
                    deliberation=ref,
                    requester=requester,
                    service=DIMONA_SERVICE,
                    method=method,
                    destination="",
                    legal_contexts=frozenset(contexts),
                    directory_check=DirectoryCheck.REQUIRED,
                    capacities=frozenset(capacities),
                    read_mask_cap=frozenset(),
                    valid_from=dt.date(2020, 1, 1),
                    valid_to=None,
                ),
            )
        directory = SqlDirectory(db)
        for institution, insz, capacity, start in DIRECTORY:
            directory.register([DirectoryEntry(insz, institution, capacity, start)])
    finally:
        log.close()
        db.dispose()
    logger.info(
        "router seeded: %d institutions, %d authorisations, %d directory entries",
        len(INSTITUTIONS),
        len(AUTHORISATIONS) + len(DIMONA_AUTHORISATIONS),
        len(DIRECTORY),
    )
    return 0
