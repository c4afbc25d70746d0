"""`python -m router seed`: the demonstration network `make run` starts with.

Two roles, one program (`--role`, by default `hub` when UPSTREAM_ROUTER_ADDR is set, else
`primary`):

- **primary** (the CBSS, `router/cbss`): the institutions, the National Register's service and
  the authorisations to consult it, directory entries; with `--hub-endpoint`, also the
  mutualities' network: the mutuality contract served by provider `cin` through its hub
  (`via_router`), chosen by the directory (holder capacity 11/1), and ONEM's authorisation to
  ask it (directory check REQUIRED: ONEM must hold the person as unemployed or job seeker).
- **hub** (the mutualities' college, `router/cin`): the member mutualities (`--member
  mut-100=localhost:50054`, repeatable) as providers of the mutuality contract with holder
  capacity 11/1, the institutions that may call through the primary, and their authorisations
  with directory check NONE (the primary has checked the requester's directory; the hub picks
  the member by its own directory, which the members fill: `python -m mutuality integrate`).

Acts through the router's own administrative rules (AdminService), as the administrator
`admin/seed`, so that every act is validated and written in the message log like any other.
Contracts are registered from their published descriptors (an uploaded descriptor set), so the
seed needs no running provider. Convergent: each run writes only what is missing or different
(`_Seeder`), so a database seeded by an older seed, or on other ports, is brought up to date.

The directory entries integrate persons that the registry's deterministic seed always creates
(runtime.identifiers' worked examples), so the README's routed consultations work at once.

DIMONA (the ONSS's service) is registered the same way: its consultation contract
(`cbss.dimona.v1.DimonaConsultationService`, provider `onss`), with authorisations for ONEM and
INAMI to list a worker's periods and for Famiwal to read a student's balance. The ONSS's own
identification authorisation (directory check NONE) covers the registry methods DIMONA calls:
GetPersonStatuses and RegisterBisNumber (no read mask, no cap), SearchPersons, and GetPerson
under a read-mask cap.

The DmfA (the ONSS's too): DIMONA's quarter service (`cbss.dimona.v1.DimonaQuarterService`,
provider `onss` at DIMONA's endpoint) and the register's GetPersonStatuses for the ONSS under
legal context `social-security.contributions`, directory check NONE (the DmfA's own
cross-checks), and the worker quarters it serves (`cbss.dmfa.v1.DmfaConsultationService`) to
ONEM and INAMI with directory check REQUIRED.

The DRS (the ONSS's): its pre-fill grants (the register's identity, DIMONA's employment on the
risk date, the DmfA's closed quarters; legal context `social-risks.declaration`, directory check
REQUIRED with the ONSS's employment capacity on the risk date) and its request service
(`cbss.drs.v1.DrsRequestService`, provider `onss`), which the mutualities' college may call; and
its consultation service (`cbss.drs.v1.DrsConsultationService`, provider `onss`, the same
endpoint), granted to no institution: persons read their own declarations through it at the
portal (the self-service rule, router.service.checks). The attestations themselves already
reach ONEM, the mutualities, Fedris and the insurers in their inboxes; a grant to read a
worker's declarations would be a new deliberation, not a demonstration default.

The research data warehouse (router.research_seed): its trusted third party `cbss-ttp` and the
holders' bulk research extractions granted to it alone (legal context `research.labour-market`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pb2

from router.config import Settings
from router.research_seed import seed_research
from router.service.admin import AdminAct, AdminService, admin_act_entry
from router.service.descriptors import ServiceCatalog
from router.service.model import (
    Authorisation,
    Capacity,
    ConfigSnapshot,
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
MUTUALITY_SERVICE = "cbss.mutuality.v1.MutualityService"
#: The mutualities' hub: the college's institution id, and its router's name.
HUB = "cin"
#: ONEM checks whether an unemployed person is insured, or on incapacity benefits instead.
MUTUALITY_LEGAL_CONTEXT = "unemployment.incapacity-check"
DIMONA_SERVICE = "cbss.dimona.v1.DimonaConsultationService"
#: What the ONSS's DmfA reads from and records in DIMONA (provider `onss` at DIMONA's endpoint).
DIMONA_QUARTER_SERVICE = "cbss.dimona.v1.DimonaQuarterService"
DMFA_SERVICE = "cbss.dmfa.v1.DmfaConsultationService"
#: The DmfA's own calls (as `onss`): the register's statuses and DIMONA's quarter, directory
#: check NONE (the ONSS checks its own declarations, it does not consult a person's file).
DMFA_LEGAL_CONTEXT = "social-security.contributions"
DMFA_OWN_GRANTS = (
    (REGISTRY_SERVICE, "GetPersonStatuses"),
    (DIMONA_QUARTER_SERVICE, "ListEmployerQuarterPeriods"),
    (DIMONA_QUARTER_SERVICE, "BatchGetStudentQuarterBalances"),
    (DIMONA_QUARTER_SERVICE, "RecordStudentActualHours"),
)

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

#: The DRS's pre-fill (as the ONSS, legal context `social-risks.declaration`): the register's
#: identity, DIMONA's employment on the risk date and the DmfA's closed quarters. Directory check
#: REQUIRED with the ONSS's employment capacity: the ONSS may look only at a worker it holds on
#: the risk date (a Dimona period integrated him); the risk date is every call's reference date.
DRS_SERVICE = "cbss.drs.v1.DrsRequestService"
#: The DRS's consultations of a worker's declarations: self-service only (no grant).
DRS_CONSULTATION_SERVICE = "cbss.drs.v1.DrsConsultationService"
DRS_LEGAL_CONTEXT = "social-risks.declaration"
ONSS_EMPLOYMENT = Capacity(1, 1)
#: (service, method, read-mask cap)
DRS_PREFILL_GRANTS = (
    (REGISTRY_SERVICE, "GetPerson", {"identity", "birth"}),
    (DIMONA_SERVICE, "GetEmploymentOnDate", set()),
    ("cbss.dmfa.v1.DmfaConsultationService", "ListWorkerQuarters", set()),
)
#: Who may ask an employer for a declaration (the to-do list): the mutualities' college, which
#: holds its members' persons at the primary (capacity 11/1), relaying a member's request for a
#: ZIMA 001. (requester, deliberation, legal context, capacities)
DRS_REQUEST_GRANTS = (
    ("cin", "ISC/07/065", "drs.sickness-request", {Capacity(11, 1)}),
    # The members themselves, their calls relayed up by their hub: at the primary the
    # directory check asks the hub's holdings (members integrate there as `cin`); at the hub,
    # their own (see _seed_hub).
    ("mut-100", "ISC/07/066", "drs.sickness-request", {Capacity(11, 1)}),
    ("mut-200", "ISC/07/066", "drs.sickness-request", {Capacity(11, 1)}),
)

#: Worker quarters (DmfA): (requester, deliberation, legal contexts, capacities).
DMFA_AUTHORISATIONS = (
    ("onem", "ISC/18/003", {"unemployment.control"}, {Capacity(18, 1), Capacity(18, 4)}),
    ("inami", "ISC/19/052", {"health-insurance.incapacity"}, {Capacity(11, 2)}),
)

#: Persons the registry's seed always has (see runtime.identifiers' worked examples).
DIRECTORY = (
    ("onem", "85071412330", Capacity(18, 1), dt.date(2024, 1, 1)),
    ("cin", "85071412330", Capacity(11, 1), dt.date(2003, 9, 1)),
    ("cin", "03020100274", Capacity(11, 1), dt.date(2021, 2, 1)),
    ("famiwal", "03020100274", Capacity(7, 104), dt.date(2003, 2, 1)),
    # Job seekers ONEM follows: a member of mut-200 and a person of no mutuality (NO_HOLDER).
    ("onem", "03020100274", Capacity(18, 4), dt.date(2024, 9, 1)),
    ("onem", "06070500252", Capacity(18, 4), dt.date(2024, 9, 1)),
    ("inami", "85071412330", Capacity(11, 2), dt.date(2025, 1, 1)),
)

#: The mutualities' network, on both routers: who may ask a mutuality (requester,
#: deliberation, method, directory capacities at the primary).
MUTUALITY_AUTHORISATIONS = (
    ("onem", "ISC/21/031", "GetAffiliation", {Capacity(18, 1), Capacity(18, 4)}),
)

#: The hub's own institutions: its members, and the requesters the primary forwards.
HUB_INSTITUTIONS = (
    Institution("onem", "Office national de l'emploi", sectors=frozenset()),
    Institution("mut-100", "Mutualité 100", Network.SECONDARY, hub=HUB, sectors=frozenset({11})),
    Institution("mut-200", "Mutualité 200", Network.SECONDARY, hub=HUB, sectors=frozenset({11})),
)
MEMBER_CAPACITY = Capacity(11, 1)

#: Institution inboxes (services/inbox): electronic attestations sent by ONSS's DRS (and the
#: demonstration sender, inbox.sender, whose KINDS mirror this) to the competent institution.
#: One authorisation per legal context (attestation kind family), each limited to its
#: destination: ONEM for unemployment, the person's mutuality (provider `cin`, then the member
#: chosen by the hub's directory) for sickness, Fedris for work accidents. Directory check NONE:
#: the sender declares for employers, it does not hold the person's file. Both the delivery and
#: the sender's status question are granted.
INBOX_SERVICE = "cbss.inbox.v1.InboxService"
#: A work-accident insurer: registered at the primary when its inbox is seeded (`--inbox`).
INSURER = "ethias"
INBOX_SENDER = "onss"
INBOX_METHODS = ("DeliverAttestation", "GetAttestationStatus")
#: (legal context, deliberation, destination at the primary)
INBOX_AUTHORISATIONS = (
    ("drs.unemployment", "ISC/07/061", "onem"),
    ("drs.sickness", "ISC/07/062", HUB),
    ("drs.work-accident", "ISC/07/063", "fedris"),
    ("drs.work-accident", "ISC/07/064", INSURER),
)
#: The CBSS's mutation service (services/mutation) delivers the changes it fans out to the
#: inboxes as the CBSS, under one legal context per family of event types; directory check
#: NONE: the fan-out chose the recipients by the directory already (the router's
#: ListSubjectHolders). Limited to each institution granted event types in the demonstration
#: (mutation.seed.data); the hub routes the mutualities' to the member holding the person.
MUTATION_SENDER = "cbss"
MUTATION_CONTEXTS = ("mutation.person", "mutation.employment", "mutation.wages")
#: (deliberation, destination at the primary)
MUTATION_AUTHORISATIONS = (("ISC/09/070", "onem"), ("ISC/09/073", HUB))


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


def _authorisation(
    requester: str,
    deliberation: str,
    service: str,
    method: str,
    contexts: set[str],
    check: DirectoryCheck,
    capacities: set[Capacity],
    cap: set[str],
) -> Authorisation:
    return Authorisation(
        id="",
        deliberation=deliberation,
        requester=requester,
        service=service,
        method=method,
        destination="",
        legal_contexts=frozenset(contexts),
        directory_check=check,
        capacities=frozenset(capacities),
        read_mask_cap=frozenset(cap),
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
    )


class _Seeder:
    """Writes what is missing or different, as `admin/seed`; leaves the rest alone.

    An institution, or an authorisation with the same deliberation, requester, service and
    method, that exists already is kept as it is (even suspended or revoked: an operator's act
    wins over the seed). A provider is registered again when its endpoint changed (a moved
    CARREFOUR_PORT_BASE): endpoints are this machine's wiring, not policy.
    """

    def __init__(self, admin: AdminService, snapshot: ConfigSnapshot) -> None:
        self.admin, self.snapshot, self.acts = admin, snapshot, 0

    def institution(self, institution: Institution) -> None:
        if institution.id not in self.snapshot.institutions:
            self.admin.register_institution(SEED_ADMIN, institution)
            self.acts += 1

    def provider(self, provider: ServiceProvider, files: list[bytes]) -> None:
        for known in self.snapshot.providers.get(provider.service, []):
            if known.provider == provider.provider and (known.endpoint, known.via_router) == (
                provider.endpoint,
                provider.via_router,
            ):
                return
        self.admin.register_service(SEED_ADMIN, provider, files)
        self.acts += 1

    def grant(self, a: Authorisation) -> None:
        for known in self.snapshot.authorisations.get(a.requester, []):
            if (known.deliberation, known.service, known.method) == (
                a.deliberation,
                a.service,
                a.method,
            ):
                return
        self.admin.grant(SEED_ADMIN, a)
        self.acts += 1


def _seed_primary(
    seeder: _Seeder,
    directory: SqlDirectory,
    registry_endpoint: str,
    hub_endpoint: str,
    dimona_endpoint: str,
    dmfa_endpoint: str,
    drs_endpoint: str,
) -> str:
    from cbss.dimona.v1 import dimona_pb2
    from cbss.registry.v1 import registry_pb2

    for institution in INSTITUTIONS:
        seeder.institution(institution)
    seeder.provider(
        ServiceProvider(REGISTRY_SERVICE, "nr", registry_endpoint, DeceasedPolicy.REFUSE),
        contract_files(registry_pb2.DESCRIPTOR),
    )
    for requester, ref, contexts, check, capacities, cap, method in AUTHORISATIONS:
        seeder.grant(
            _authorisation(
                requester, ref, REGISTRY_SERVICE, method, contexts, check, capacities, cap
            )
        )
    seeder.provider(
        ServiceProvider(DIMONA_SERVICE, "onss", dimona_endpoint, DeceasedPolicy.PASS_WITH_FLAG),
        contract_files(dimona_pb2.DESCRIPTOR),
    )
    for requester, ref, contexts, capacities, method in DIMONA_AUTHORISATIONS:
        seeder.grant(
            _authorisation(
                requester,
                ref,
                DIMONA_SERVICE,
                method,
                contexts,
                DirectoryCheck.REQUIRED,
                capacities,
                set(),
            )
        )
    _seed_dmfa(seeder, dimona_endpoint, dmfa_endpoint)
    _seed_drs(seeder, drs_endpoint)
    added = 0
    for institution, insz, capacity, start in DIRECTORY:
        added += directory.register([DirectoryEntry(insz, institution, capacity, start)])[0]
    if not hub_endpoint:
        return f"{seeder.acts} administrative acts, {added} directory entries added"
    from cbss.mutuality.v1 import mutuality_pb2

    seeder.provider(
        ServiceProvider(
            MUTUALITY_SERVICE,
            HUB,
            hub_endpoint,
            holder_capacities=frozenset({MEMBER_CAPACITY}),
            via_router=HUB,
        ),
        contract_files(mutuality_pb2.DESCRIPTOR),
    )
    for requester, ref, method, capacities in MUTUALITY_AUTHORISATIONS:
        seeder.grant(
            _authorisation(
                requester,
                ref,
                MUTUALITY_SERVICE,
                method,
                {MUTUALITY_LEGAL_CONTEXT},
                DirectoryCheck.REQUIRED,
                capacities,
                set(),
            )
        )
    return (
        f"{seeder.acts} administrative acts, {added} directory entries added;"
        f" the mutualities' network behind {HUB} at {hub_endpoint}"
    )


#: The mutation service's notification stream (services/mutation), for institutions that read
#: their notifications as a stream instead of receiving them in an inbox (Famiwal in the
#: demonstration: it has no inbox). Provided by the CBSS itself; no subject in the requests
#: (directory check NONE): the router logs every person each streamed notification names.
MUTATION_STREAM_SERVICE = "cbss.mutation.v1.NotificationStreamService"
MUTATION_STREAM_CONTEXT = "mutation.subscription"
MUTATION_STREAM_GRANTS = (("famiwal", "ISC/09/074"),)


def _seed_mutation_streams(seeder: _Seeder, endpoint: str) -> None:
    from cbss.mutation.v1 import mutation_pb2

    seeder.provider(
        ServiceProvider(
            MUTATION_STREAM_SERVICE, MUTATION_SENDER, endpoint, DeceasedPolicy.PASS_WITH_FLAG
        ),
        contract_files(mutation_pb2.DESCRIPTOR),
    )
    for requester, ref in MUTATION_STREAM_GRANTS:
        for method in ("StreamNotifications", "AcknowledgeNotifications"):
            seeder.grant(
                _authorisation(
                    requester,
                    ref,
                    MUTATION_STREAM_SERVICE,
                    method,
                    {MUTATION_STREAM_CONTEXT},
                    DirectoryCheck.NONE,
                    set(),
                    set(),
                )
            )


def _seed_dmfa(seeder: _Seeder, dimona_endpoint: str, dmfa_endpoint: str) -> None:
    """The DmfA: DIMONA's quarter service and the register for the ONSS's own cross-checks,
    and the worker quarters it serves to ONEM and INAMI (directory check REQUIRED)."""
    from cbss.dimona.v1 import dimona_pb2
    from cbss.dmfa.v1 import dmfa_pb2

    seeder.provider(
        ServiceProvider(
            DIMONA_QUARTER_SERVICE, "onss", dimona_endpoint, DeceasedPolicy.PASS_WITH_FLAG
        ),
        contract_files(dimona_pb2.DESCRIPTOR),
    )
    for service, method in DMFA_OWN_GRANTS:
        seeder.grant(
            _authorisation(
                "onss",
                "ISC/05/004",
                service,
                method,
                {DMFA_LEGAL_CONTEXT},
                DirectoryCheck.NONE,
                set(),
                set(),
            )
        )
    seeder.provider(
        ServiceProvider(DMFA_SERVICE, "onss", dmfa_endpoint, DeceasedPolicy.PASS_WITH_FLAG),
        contract_files(dmfa_pb2.DESCRIPTOR),
    )
    for requester, ref, contexts, capacities in DMFA_AUTHORISATIONS:
        seeder.grant(
            _authorisation(
                requester,
                ref,
                DMFA_SERVICE,
                "GetWorkerQuarter",
                contexts,
                DirectoryCheck.REQUIRED,
                capacities,
                set(),
            )
        )


def _seed_drs(seeder: _Seeder, drs_endpoint: str) -> None:
    """The DRS: the ONSS's pre-fill grants, and the declaration requests it takes."""
    from cbss.drs.v1 import drs_pb2

    for service, method, cap in DRS_PREFILL_GRANTS:
        seeder.grant(
            _authorisation(
                "onss",
                "ISC/07/060",
                service,
                method,
                {DRS_LEGAL_CONTEXT},
                DirectoryCheck.REQUIRED,
                {ONSS_EMPLOYMENT},
                cap,
            )
        )
    for service in (DRS_SERVICE, DRS_CONSULTATION_SERVICE):
        seeder.provider(
            ServiceProvider(service, "onss", drs_endpoint, DeceasedPolicy.PASS_WITH_FLAG),
            contract_files(drs_pb2.DESCRIPTOR),
        )
    for requester, ref, context, capacities in DRS_REQUEST_GRANTS:
        seeder.grant(
            _authorisation(
                requester,
                ref,
                DRS_SERVICE,
                "RequestDeclaration",
                {context},
                DirectoryCheck.REQUIRED,
                capacities,
                set(),
            )
        )


def _inbox_grants(seeder: _Seeder, at_hub: bool) -> None:
    for legal, ref, destination in INBOX_AUTHORISATIONS:
        if at_hub and destination != HUB:
            continue
        for method in INBOX_METHODS:
            grant = _authorisation(
                INBOX_SENDER,
                ref,
                INBOX_SERVICE,
                method,
                {legal},
                DirectoryCheck.NONE,
                set(),
                set(),
            )
            seeder.grant(grant if at_hub else replace(grant, destination=destination))
    for ref, destination in MUTATION_AUTHORISATIONS:
        if at_hub and destination != HUB:
            continue
        for method in INBOX_METHODS:
            grant = _authorisation(
                MUTATION_SENDER,
                ref,
                INBOX_SERVICE,
                method,
                set(MUTATION_CONTEXTS),
                DirectoryCheck.NONE,
                set(),
                set(),
            )
            seeder.grant(grant if at_hub else replace(grant, destination=destination))


def _seed_inboxes(seeder: _Seeder, inboxes: dict[str, str], hub_endpoint: str, role: str) -> str:
    """The inbox contract's providers and the sender's authorisations, for either role."""
    from cbss.inbox.v1 import inbox_pb2

    files = contract_files(inbox_pb2.DESCRIPTOR)
    members = {i.id for i in HUB_INSTITUTIONS if i.hub == HUB}
    if role == "hub":
        seeder.institution(Institution(INBOX_SENDER, "Office national de sécurité sociale"))
        seeder.institution(Institution(MUTATION_SENDER, "Banque Carrefour de la sécurité sociale"))
    elif INSURER in inboxes:
        seeder.institution(
            Institution(INSURER, "Ethias — accidents du travail", sectors=frozenset({24}))
        )
    for provider, endpoint in inboxes.items():
        if (provider in members) != (role == "hub"):
            raise ValueError(f"--inbox {provider}: not a provider of the {role} router")
        seeder.provider(
            ServiceProvider(
                INBOX_SERVICE,
                provider,
                endpoint,
                DeceasedPolicy.PASS_WITH_FLAG,
                holder_capacities=frozenset({MEMBER_CAPACITY}) if role == "hub" else frozenset(),
            ),
            files,
        )
    if role == "primary" and hub_endpoint:
        seeder.provider(
            ServiceProvider(
                INBOX_SERVICE,
                HUB,
                hub_endpoint,
                DeceasedPolicy.PASS_WITH_FLAG,
                holder_capacities=frozenset({MEMBER_CAPACITY}),
                via_router=HUB,
            ),
            files,
        )
    _inbox_grants(seeder, role == "hub")
    return f"; inboxes {', '.join(sorted(inboxes))}"


def _seed_hub(
    seeder: _Seeder, members: dict[str, str], upstream: str = "", upstream_name: str = "cbss"
) -> str:
    """The hub's members and their mutuality contract; with `upstream` (the primary router's
    endpoint), the DRS's request service reached through the primary (`via_router` cbss), so
    that a member's own request for a declaration travels member -> hub -> primary -> DRS."""
    from cbss.drs.v1 import drs_pb2
    from cbss.mutuality.v1 import mutuality_pb2

    known = {i.id for i in HUB_INSTITUTIONS if i.hub == HUB}
    for member in members:
        if member not in known:
            raise ValueError(f"--member {member}: not a member of this hub ({', '.join(known)})")
    for institution in HUB_INSTITUTIONS:
        seeder.institution(institution)
    files = contract_files(mutuality_pb2.DESCRIPTOR)
    for member, endpoint in members.items():
        seeder.provider(
            ServiceProvider(
                MUTUALITY_SERVICE,
                member,
                endpoint,
                holder_capacities=frozenset({MEMBER_CAPACITY}),
            ),
            files,
        )
    for requester, ref, method, _capacities in MUTUALITY_AUTHORISATIONS:
        seeder.grant(
            _authorisation(
                requester,
                ref,
                MUTUALITY_SERVICE,
                method,
                {MUTUALITY_LEGAL_CONTEXT},
                DirectoryCheck.NONE,
                set(),
                set(),
            )
        )
    if upstream:
        seeder.institution(Institution("onss", "Office national de sécurité sociale"))
        seeder.provider(
            ServiceProvider(
                DRS_SERVICE,
                "onss",
                upstream,
                DeceasedPolicy.PASS_WITH_FLAG,
                via_router=upstream_name,
            ),
            contract_files(drs_pb2.DESCRIPTOR),
        )
        for requester, ref, context, capacities in DRS_REQUEST_GRANTS:
            if requester in known:
                seeder.grant(
                    _authorisation(
                        requester,
                        ref,
                        DRS_SERVICE,
                        "RequestDeclaration",
                        {context},
                        DirectoryCheck.REQUIRED,
                        capacities,
                        set(),
                    )
                )
    return f"{seeder.acts} administrative acts ({len(members)} member providers)"


def seed_router(
    settings: Settings,
    registry_endpoint: str,
    *,
    role: str = "primary",
    hub_endpoint: str = "",
    members: dict[str, str] | None = None,
    dimona_endpoint: str = "localhost:50056",
    dmfa_endpoint: str = "localhost:50057",
    drs_endpoint: str = "localhost:50058",
    mutation_endpoint: str = "localhost:50059",
    inboxes: dict[str, str] | None = None,
) -> int:
    """Bring this router's database to the demonstration network of its role (`primary` or
    `hub`): convergent, see `_Seeder` and the module doc."""
    clock = SystemClock()
    db = Database(settings.runtime.database_url)
    db.migrate(MIGRATIONS)
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
    seeder = _Seeder(admin, SqlConfigSource(db).snapshot())
    try:
        if role == "hub":
            summary = _seed_hub(
                seeder, members or {}, settings.upstream_addr, settings.upstream_name
            )
        else:
            summary = _seed_primary(
                seeder,
                SqlDirectory(db),
                registry_endpoint,
                hub_endpoint,
                dimona_endpoint,
                dmfa_endpoint,
                drs_endpoint,
            )
            if mutation_endpoint:
                _seed_mutation_streams(seeder, mutation_endpoint)
            seed_research(seeder, contract_files, registry_endpoint, dimona_endpoint, dmfa_endpoint)
        if inboxes is not None:
            summary += _seed_inboxes(seeder, inboxes, hub_endpoint, role)
    finally:
        log.close()
        db.dispose()
    logger.info("router %s seeded as %s: %s", settings.name, role, summary)
    return 0
