"""A service the router's code has never seen: a regional agency's contract, written here, is
compiled at test time, served, registered through the admin API (descriptors learned by server
reflection), authorised, and consulted through the router with its nested subjects checked."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import grpc
import pytest

from cbss.router.v1 import directory_pb2, router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN, FIXED_WOMAN_2006
from runtime import pki
from runtime.client import failure
from tests.integration.router.conftest import Network, date, integrate, routed
from tests.support.protos import compiled
from tests.support.servers import holder_host, running

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SERVICE = "be.flanders.housing.v1.HousingAllowanceService"
PROTO = textwrap.dedent(
    """
    syntax = "proto3";
    // A regional agency's service, unknown to the router's code.
    package be.flanders.housing.v1;
    import "cbss/common/v1/options.proto";
    import "google/type/date.proto";
    service HousingAllowanceService {
      rpc GetEntitlement(GetEntitlementRequest) returns (GetEntitlementResponse) {
        option (cbss.common.v1.access) = ACCESS_ROUTED;
      }
    }
    message Household {
      string head_insz = 1 [(cbss.common.v1.subject) = true];
      repeated string member_inszs = 2 [(cbss.common.v1.subject) = true];
    }
    message GetEntitlementRequest {
      Household household = 1 [(cbss.common.v1.subject) = true];
      google.type.Date reference_date = 2 [(cbss.common.v1.reference_date) = true];
    }
    message GetEntitlementResponse {
      int64 monthly_amount_cents = 1;
      string beneficiary_insz = 2 [(cbss.common.v1.response_subject) = true];
    }
    """
)


@pytest.fixture(scope="module")
def housing(tmp_path_factory: pytest.TempPathFactory):
    """The agency's generated code, compiled here and importable for this module only."""
    with compiled(
        tmp_path_factory.mktemp("agency"), "be/flanders/housing/v1/housing.proto", PROTO
    ) as modules:
        yield modules


@pytest.fixture(scope="module")
def agency(housing, network: Network, tmp_path_factory: pytest.TempPathFactory):
    pb2, grpc_mod = housing

    class Housing(grpc_mod.HousingAllowanceServiceServicer):
        def GetEntitlement(self, request, context):  # noqa: N802, ANN001, ANN201
            return pb2.GetEntitlementResponse(
                monthly_amount_cents=12_345, beneficiary_insz=request.household.head_insz
            )

    db = tmp_path_factory.mktemp("agency-db") / "a.sqlite3"
    # The agency's own certificate: the router checks the endpoint is that institution.
    pki.ensure_party(
        network.pki_dir,
        pki.load_or_create_ca(network.pki_dir),
        pki.Party("institution-vlaams-wonen", "institution/vlaams-wonen"),
    )
    host = holder_host(
        network.pki_dir,
        "institution-vlaams-wonen",
        db.parent,
        grpc_mod.add_HousingAllowanceServiceServicer_to_server,
        Housing(),
        SERVICE,
    )
    with running(host):
        with network.channel("admin-ops") as channel:
            admin = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
            admin.RegisterInstitution(
                router_admin_pb2.RegisterInstitutionRequest(
                    institution=router_admin_pb2.Institution(
                        id="vlaams-wonen", display_name="Wonen in Vlaanderen"
                    )
                ),
                timeout=10,
            )
            registered = admin.RegisterService(
                router_admin_pb2.RegisterServiceRequest(
                    registration=router_admin_pb2.ServiceRegistration(
                        service=SERVICE, provider="vlaams-wonen", endpoint=f"localhost:{host.port}"
                    )
                ),
                timeout=10,
            ).registration
            admin.GrantAuthorisation(
                router_admin_pb2.GrantAuthorisationRequest(
                    authorisation=router_admin_pb2.Authorisation(
                        deliberation="ISC/26/099",
                        requester="famiwal",
                        service=SERVICE,
                        legal_contexts=["family-allowances.housing-supplement"],
                        capacities=[directory_pb2.Capacity(sector=7, code=101)],
                        valid_from=date(dt.date(2026, 1, 1)),
                    )
                ),
                timeout=10,
            )
        integrate(network, "institution-famiwal", [FIXED_MAN, FIXED_WOMAN], 7, 101)
        yield registered


def _ask(network: Network, housing, head: str, members: list[str]):  # noqa: ANN001, ANN202
    pb2, grpc_mod = housing
    with network.channel("institution-famiwal") as channel:
        return grpc_mod.HousingAllowanceServiceStub(channel).GetEntitlement(
            pb2.GetEntitlementRequest(
                household=pb2.Household(head_insz=head, member_inszs=members)
            ),
            metadata=routed("family-allowances.housing-supplement"),
            timeout=10,
        )


def test_router_learns_nested_subjects_when_service_is_registered_by_reflection(agency) -> None:
    (method,) = agency.methods
    assert method.path == f"/{SERVICE}/GetEntitlement"
    assert set(method.subject_fields) == {"household.head_insz", "household.member_inszs[]"}
    assert method.reference_date_field == "reference_date"
    assert list(method.response_subject_fields) == ["beneficiary_insz"]


def test_new_service_is_consulted_through_the_router_when_every_subject_passes(
    agency, network: Network, housing
) -> None:
    reply = _ask(network, housing, FIXED_MAN, [FIXED_WOMAN])
    assert reply.monthly_amount_cents == 12_345 and reply.beneficiary_insz == FIXED_MAN


def test_nested_subject_not_integrated_is_refused_when_one_member_is_unknown_to_the_caller(
    agency, network: Network, housing
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _ask(network, housing, FIXED_MAN, [FIXED_WOMAN, FIXED_WOMAN_2006])
    info = failure(err.value)
    assert info.reason == "SUBJECTS_REFUSED"
    assert [(t, s) for t, s, _ in info.preconditions] == [
        ("SUBJECT_NOT_INTEGRATED", "household.member_inszs[1]")
    ]
