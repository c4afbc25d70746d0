"""A fan-out consultation: the person is known to two mutualities, the router asks both and
streams both answers; with one of them down, the reply says it is partial."""

from __future__ import annotations

import textwrap

import pytest

from cbss.router.v1 import directory_pb2, router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import FIXED_MAN
from runtime.client import party_tls, secure_channel
from tests.integration.router.conftest import Network, date, integrate, routed
from tests.support.protos import compiled
from tests.support.servers import holder_host, running

pytestmark = pytest.mark.integration

SERVICE = "be.mutualities.periods.v1.IncapacityPeriodService"
PROTO = textwrap.dedent(
    """
    syntax = "proto3";
    // Periods of incapacity for work a mutuality knows of.
    package be.mutualities.periods.v1;
    import "cbss/common/v1/options.proto";
    service IncapacityPeriodService {
      rpc ListPeriods(ListPeriodsRequest) returns (stream Period) {
        option (cbss.common.v1.access) = ACCESS_ROUTED;
        option (cbss.common.v1.fan_out) = true;
      }
    }
    message ListPeriodsRequest { string insz = 1 [(cbss.common.v1.subject) = true]; }
    message Period {
      string mutuality = 1;
      string insz = 2 [(cbss.common.v1.response_subject) = true];
    }
    """
)


@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory):
    with compiled(
        tmp_path_factory.mktemp("periods"), "be/mutualities/periods/v1/periods.proto", PROTO
    ) as modules:
        yield modules


@pytest.fixture(scope="module")
def mutualities(periods, network: Network, tmp_path_factory: pytest.TempPathFactory):
    pb2, grpc_mod = periods
    hosts = {}
    for mut in ("mut-100", "mut-200"):

        class Periods(grpc_mod.IncapacityPeriodServiceServicer):
            name = mut

            def ListPeriods(self, request, context):  # noqa: N802, ANN001, ANN201
                for _ in range(2):
                    yield pb2.Period(mutuality=self.name, insz=request.insz)

        hosts[mut] = holder_host(
            network.pki_dir,
            f"institution-{mut}",
            tmp_path_factory.mktemp(mut),
            grpc_mod.add_IncapacityPeriodServiceServicer_to_server,
            Periods(),
            SERVICE,
        )
    with running(hosts["mut-100"]), running(hosts["mut-200"]):
        with network.channel("admin-ops") as channel:
            admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
            for mut, host in hosts.items():
                admin.RegisterInstitution(
                    router_admin_pb2.RegisterInstitutionRequest(
                        institution=router_admin_pb2.Institution(
                            id=mut, display_name=mut, sectors=[11]
                        )
                    ),
                    timeout=10,
                )
                admin.RegisterService(
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
            admin.GrantAuthorisation(
                router_admin_pb2.GrantAuthorisationRequest(
                    authorisation=router_admin_pb2.Authorisation(
                        deliberation="ISC/26/011",
                        requester="onem",
                        service=SERVICE,
                        legal_contexts=["unemployment.control"],
                        capacities=[directory_pb2.Capacity(sector=18, code=1)],
                        valid_from=date(__import__("datetime").date(2020, 1, 1)),
                    )
                ),
                timeout=10,
            )
        integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
        integrate(network, "institution-mut-100", [FIXED_MAN], 11, 1)
        integrate(network, "institution-mut-200", [FIXED_MAN], 11, 1)
        yield hosts


def _list(network: Network, periods):  # noqa: ANN001, ANN202
    pb2, grpc_mod = periods
    files = party_tls(network.pki_dir, "institution-onem")
    with secure_channel(f"localhost:{network.router.port}", files) as channel:
        call = grpc_mod.IncapacityPeriodServiceStub(channel).ListPeriods(
            pb2.ListPeriodsRequest(insz=FIXED_MAN), metadata=routed(), timeout=10
        )
        replies = [p.mutuality for p in call]
        return replies, dict(call.trailing_metadata() or ())


def test_every_holder_answers_when_method_declares_fan_out(
    mutualities, network: Network, periods
) -> None:
    replies, trailers = _list(network, periods)
    assert sorted(replies) == ["mut-100", "mut-100", "mut-200", "mut-200"]
    assert "cbss-partial" not in trailers


def test_reply_is_flagged_partial_when_a_holder_is_down(
    mutualities, network: Network, periods
) -> None:
    mutualities["mut-100"].stop(grace=0)
    replies, trailers = _list(network, periods)
    assert replies == ["mut-200", "mut-200"]
    assert trailers["cbss-partial"] == "true"
    assert trailers["cbss-failed-holders"] == "mut-100"
    assert trailers["cbss-ticket"], "the ticket stays beside the partial flag"
