"""Several providers of one service: the router forwards to the one the directory names."""

from __future__ import annotations

import grpc
import pytest

from cbss.registry.v1 import registry_pb2_grpc
from cbss.router.v1 import directory_pb2, router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import FIXED_BIS, FIXED_MAN, FIXED_WOMAN
from runtime.client import failure
from runtime.identity import router_ticket
from tests.integration.router.conftest import REGISTRY, CountingHolder, Network, integrate, routed
from tests.integration.router.test_router_routing import _get, _log_rows
from tests.support.servers import holder_host, running

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def mutualities(network: Network, tmp_path_factory: pytest.TempPathFactory):
    """Two mutualities, each its own holder of the registry's contract (with its own
    certificate); ONEM has integrated three persons."""
    hosts = []
    for mut in ("mut-100", "mut-200"):
        hosts.append(
            holder_host(
                network.pki_dir,
                f"institution-{mut}",
                tmp_path_factory.mktemp(mut),
                registry_pb2_grpc.add_RegistryServiceServicer_to_server,
                CountingHolder(network.seen),
                REGISTRY,
            )
        )
    with running(hosts[0]), running(hosts[1]):
        with network.channel("admin-ops") as channel:
            admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
            for mut, host in zip(("mut-100", "mut-200"), hosts, strict=True):
                admin.RegisterInstitution(
                    router_admin_pb2.RegisterInstitutionRequest(
                        institution=router_admin_pb2.Institution(
                            id=mut,
                            display_name=mut,
                            network=router_admin_pb2.NETWORK_SECONDARY,
                            hub="cin",
                            sectors=[11],
                        )
                    ),
                    timeout=10,
                )
                admin.RegisterService(
                    router_admin_pb2.RegisterServiceRequest(
                        registration=router_admin_pb2.ServiceRegistration(
                            service=REGISTRY,
                            provider=mut,
                            endpoint=f"localhost:{host.port}",
                            holder_capacities=[directory_pb2.Capacity(sector=11, code=1)],
                        )
                    ),
                    timeout=10,
                )
        integrate(network, "institution-onem", [FIXED_MAN, FIXED_WOMAN, FIXED_BIS], 18, 1)
        integrate(network, "institution-mut-200", [FIXED_MAN, FIXED_BIS], 11, 1)
        integrate(network, "institution-mut-100", [FIXED_BIS], 11, 1)
        yield


def test_request_reaches_the_holder_the_directory_names_when_caller_names_none(
    network: Network,
) -> None:
    reply, call = _get(network, "institution-onem", FIXED_MAN, routed())
    assert reply.person.insz == FIXED_MAN
    rows = _log_rows(network, router_ticket(call))
    assert rows[0].destination == "mut-200" and rows[0].outcome == "FORWARDED"


@pytest.mark.parametrize(
    ("insz", "code", "reason"),
    [
        (FIXED_WOMAN, grpc.StatusCode.NOT_FOUND, "NO_HOLDER"),
        (FIXED_BIS, grpc.StatusCode.FAILED_PRECONDITION, "AMBIGUOUS_HOLDER"),
    ],
)
def test_holder_refusals_when_directory_names_none_or_several(
    network: Network, insz: str, code: grpc.StatusCode, reason: str
) -> None:
    before = network.seen.calls
    with pytest.raises(grpc.RpcError) as err:
        _get(network, "institution-onem", insz, routed())
    assert failure(err.value).code is code and failure(err.value).reason == reason
    assert network.seen.calls == before


def test_named_destination_wins_when_caller_names_one(network: Network) -> None:
    _, call = _get(
        network, "institution-onem", FIXED_BIS, routed(**{"cbss-destination": "mut-100"})
    )
    rows = _log_rows(network, router_ticket(call))
    assert rows[0].destination == "mut-100"
