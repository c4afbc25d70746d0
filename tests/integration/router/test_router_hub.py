"""A secondary network behind a hub: the primary router forwards to the mutualities' hub (the
same router program), which applies its own checks and directory and forwards to the member
mutuality that holds the person. Both log the end institution."""

from __future__ import annotations

import datetime as dt
import textwrap
import threading

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import descriptor_pb2

from cbss.router.v1 import directory_pb2, router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from router.config import Settings as RouterSettings
from router.seed import contract_files
from router.server import create_server as create_router
from runtime.client import failure
from runtime.db import Database
from runtime.identity import current_caller
from tests.integration.router.conftest import Network, date, integrate, routed
from tests.support.databases import fresh_database_url
from tests.support.protos import compiled
from tests.support.servers import channel_as, holder_host, running, service_env

pytestmark = pytest.mark.integration

SERVICE = "be.mutualities.insurability.v1.InsurabilityService"
PROTO = textwrap.dedent(
    """
    syntax = "proto3";
    // Whether a mutuality insures a person.
    package be.mutualities.insurability.v1;
    import "cbss/common/v1/options.proto";
    service InsurabilityService {
      rpc GetInsurability(GetInsurabilityRequest) returns (GetInsurabilityResponse) {
        option (cbss.common.v1.access) = ACCESS_ROUTED;
      }
    }
    message GetInsurabilityRequest { string insz = 1 [(cbss.common.v1.subject) = true]; }
    message GetInsurabilityResponse {
      string mutuality = 1;
      string insz = 2 [(cbss.common.v1.response_subject) = true];
    }
    """
)
LEGAL = "unemployment.control"


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory):
    with compiled(
        tmp_path_factory.mktemp("ins"), "be/mutualities/insurability/v1/ins.proto", PROTO
    ) as modules:
        yield modules


def _admin(port: int, network: Network):  # noqa: ANN202
    return channel_as(network.pki_dir, "admin-ops", port)


def _grant(admin, requester: str, check: int, capacities: list) -> None:  # noqa: ANN001
    admin.GrantAuthorisation(
        router_admin_pb2.GrantAuthorisationRequest(
            authorisation=router_admin_pb2.Authorisation(
                deliberation="ISC/26/012",
                requester=requester,
                service=SERVICE,
                legal_contexts=[LEGAL],
                directory_check=check,
                capacities=capacities,
                valid_from=date(dt.date(2020, 1, 1)),
            )
        ),
        timeout=10,
    )


@pytest.fixture(scope="module")
def hub_network(contract, network: Network, tmp_path_factory: pytest.TempPathFactory):
    pb2, grpc_mod = contract
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    members = {}
    for mut in ("mut-100", "mut-200"):

        class Insurability(grpc_mod.InsurabilityServiceServicer):
            name = mut

            def GetInsurability(self, request, context):  # noqa: N802, ANN001, ANN201
                with lock:
                    seen.append((self.name, current_caller().uri))
                return pb2.GetInsurabilityResponse(mutuality=self.name, insz=request.insz)

        members[mut] = holder_host(
            network.pki_dir,
            f"institution-{mut}",
            tmp_path_factory.mktemp(mut),
            grpc_mod.add_InsurabilityServiceServicer_to_server,
            Insurability(),
            SERVICE,
        )
    with (
        fresh_database_url(tmp_path_factory.mktemp("hub"), "hub") as hub_db,
        running(members["mut-100"]),
        running(members["mut-200"]),
    ):
        hub = create_router(
            RouterSettings.from_env(
                service_env(
                    network.pki_dir,
                    "hub-cin",
                    hub_db,
                    ROUTER_NAME="cin",
                    REGISTRY_ADDR=f"localhost:{network.registry.port}",
                    UPSTREAM_ROUTER_ADDR=f"localhost:{network.router.port}",
                )
            )
        )
        with running(hub):
            files = descriptor_pb2.FileDescriptorSet(
                file=[
                    descriptor_pb2.FileDescriptorProto.FromString(f)
                    for f in contract_files(pb2.DESCRIPTOR)
                ]
            ).SerializeToString()
            with _admin(network.router.port, network) as channel:  # the primary
                admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
                admin.RegisterInstitution(
                    router_admin_pb2.RegisterInstitutionRequest(
                        institution=router_admin_pb2.Institution(
                            id="cin", display_name="Collège intermutualiste", sectors=[11]
                        )
                    ),
                    timeout=10,
                )
                admin.RegisterService(  # the hub serves the contract for its members
                    router_admin_pb2.RegisterServiceRequest(
                        registration=router_admin_pb2.ServiceRegistration(
                            service=SERVICE,
                            provider="cin",
                            endpoint=f"localhost:{hub.port}",
                            via_router="cin",
                            holder_capacities=[directory_pb2.Capacity(sector=11, code=1)],
                        ),
                        file_descriptor_set=files,
                    ),
                    timeout=10,
                )
                _grant(
                    admin,
                    "onem",
                    router_admin_pb2.DIRECTORY_CHECK_REQUIRED,
                    [directory_pb2.Capacity(sector=18, code=1)],
                )
            with _admin(hub.port, network) as channel:  # the hub
                admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
                for iid, sectors in (("onem", []), ("mut-100", [11]), ("mut-200", [11])):
                    admin.RegisterInstitution(
                        router_admin_pb2.RegisterInstitutionRequest(
                            institution=router_admin_pb2.Institution(
                                id=iid, display_name=iid, sectors=sectors
                            )
                        ),
                        timeout=10,
                    )
                for mut, host in members.items():
                    admin.RegisterService(  # learned from the member's reflection
                        router_admin_pb2.RegisterServiceRequest(
                            registration=router_admin_pb2.ServiceRegistration(
                                service=SERVICE,
                                provider=mut,
                                endpoint=f"localhost:{host.port}",
                                holder_capacities=[directory_pb2.Capacity(sector=11, code=1)],
                            )
                        ),
                        timeout=10,
                    )
                # The primary has checked the requester's directory; the hub picks the member.
                _grant(admin, "onem", router_admin_pb2.DIRECTORY_CHECK_NONE, [])
            integrate(network, "institution-onem", [FIXED_MAN, FIXED_WOMAN], 18, 1)
            # A member integrates at its hub; the hub integrates at the primary as "cin".
            hub_net = Network(
                hub, network.holder, network.seen, network.pki_dir, hub_db, network.registry
            )
            integrate(hub_net, "institution-mut-200", [FIXED_MAN], 11, 1)
            yield {"hub": hub, "hub_db": hub_db, "seen": seen}


def _ask(network: Network, contract, insz: str):  # noqa: ANN001, ANN202
    pb2, grpc_mod = contract
    with network.channel("institution-onem") as channel:
        return grpc_mod.InsurabilityServiceStub(channel).GetInsurability.with_call(
            pb2.GetInsurabilityRequest(insz=insz), metadata=routed(LEGAL), timeout=10
        )


def _rows(url: str, subject: str) -> list[tuple[str, str, str]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT requester, destination, outcome FROM message_log"
                        " WHERE subject = :s AND service = :svc ORDER BY occurred_at"
                    ),
                    {"s": subject, "svc": SERVICE},
                )
            ]
    finally:
        db.dispose()


def test_request_reaches_the_member_holding_the_person_through_the_hub(
    hub_network, network: Network, contract
) -> None:
    reply, _ = _ask(network, contract, FIXED_MAN)
    assert reply.mutuality == "mut-200"
    onem = "spiffe://carrefour.local/institution/onem"
    assert hub_network["seen"][-1] == ("mut-200", onem)  # the member sees the end institution
    assert (onem, "cin", "FORWARDED") in _rows(network.router_db, FIXED_MAN)
    assert (onem, "mut-200", "FORWARDED") in _rows(hub_network["hub_db"], FIXED_MAN)


def test_member_integration_reaches_the_primary_under_the_hub_identity(
    hub_network, network: Network
) -> None:
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            holders = (
                conn.execute(
                    sa.text(
                        "SELECT institution FROM directory_entry WHERE insz = :i AND sector = 11"
                    ),
                    {"i": FIXED_MAN},
                )
                .scalars()
                .all()
            )
    finally:
        db.dispose()
    assert holders == ["cin"]


def test_no_holder_at_the_primary_when_no_member_integrated_the_person(
    hub_network, network: Network, contract
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _ask(network, contract, FIXED_WOMAN)
    assert failure(err.value).reason == "NO_HOLDER"


def test_both_levels_answer_who_consulted_the_person_when_an_administrator_asks(
    hub_network, network: Network, contract
) -> None:
    from cbss.router.v1 import message_log_pb2, message_log_pb2_grpc

    _ask(network, contract, FIXED_MAN)
    found = {}
    for name, port in (("primary", network.router.port), ("hub", hub_network["hub"].port)):
        with _admin(port, network) as channel:
            reply = message_log_pb2_grpc.MessageLogServiceStub(channel).ListMessages(
                message_log_pb2.ListMessagesRequest(subject=FIXED_MAN), timeout=10
            )
        found[name] = {
            (m.requester, m.destination)
            for m in reply.messages
            if m.service == SERVICE and m.outcome == "FORWARDED"
        }
    onem = "spiffe://carrefour.local/institution/onem"
    assert found == {"primary": {(onem, "cin")}, "hub": {(onem, "mut-200")}}


def test_hub_refuses_calls_forwarded_by_a_router_other_than_its_upstream(
    hub_network, network: Network, contract
) -> None:
    """Routing headers are trusted from the hub's upstream router only: another router of the
    mesh (a valid certificate of the same CA) naming ONEM as requester gets nothing."""
    from runtime import identity, pki

    cert, key = pki.issue(
        pki.load_or_create_ca(network.pki_dir), f"spiffe://{identity.TRUST_DOMAIN}/router/rogue"
    )
    (network.pki_dir / "router-rogue.pem").write_bytes(cert)
    (network.pki_dir / "router-rogue.key").write_bytes(key)
    pb2, grpc_mod = contract
    before = len(hub_network["seen"])
    headers = [
        (identity.REQUESTER_HEADER, f"spiffe://{identity.TRUST_DOMAIN}/institution/onem"),
        (identity.LEGAL_CONTEXT_HEADER, LEGAL),
        (identity.TICKET_HEADER, "7d0c2d4e-2f3a-4a53-9a58-0f1f3a2b9c11"),
        (identity.CAPACITY_HEADER, "none"),
    ]
    with channel_as(network.pki_dir, "router-rogue", hub_network["hub"].port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            grpc_mod.InsurabilityServiceStub(channel).GetInsurability(
                pb2.GetInsurabilityRequest(insz=FIXED_MAN), metadata=headers, timeout=10
            )
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert failure(err.value).reason == "UNKNOWN_INSTITUTION"
    assert len(hub_network["seen"]) == before  # no member received anything
    reply, _ = _ask(network, contract, FIXED_MAN)  # the real upstream still gets through
    assert reply.mutuality == "mut-200"
