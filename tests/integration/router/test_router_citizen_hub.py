"""Who holds a file about me, behind a hub: the primary shows the member mutuality that holds the
person (asked of the hub's own directory), and the hub itself when the hub does not answer."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from google.protobuf import descriptor_pb2

from cbss.router.v1 import directory_pb2, router_admin_pb2, router_admin_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from router.seed import contract_files
from runtime import identity, pki
from tests.integration.router.conftest import Network, integrate
from tests.integration.router.test_router_citizen import _Citizen, as_person
from tests.integration.router.test_router_hub import SERVICE, contract, hub_network  # noqa: F401

pytestmark = pytest.mark.integration


def _register_institution(network: Network, iid: str, name: str) -> None:
    with network.channel("admin-ops") as channel:
        router_admin_pb2_grpc.RouterAdminServiceStub(channel).RegisterInstitution(
            router_admin_pb2.RegisterInstitutionRequest(
                institution=router_admin_pb2.Institution(id=iid, display_name=name, sectors=[11])
            ),
            timeout=10,
        )


def _holders(network: Network, insz: str) -> list[tuple]:
    reply = _Citizen(network, "gateway", as_person(insz)).holders()
    return [
        (h.institution, h.institution_name, h.sector, h.capacity, h.start_date.year)
        for h in reply.holders
    ]


def test_member_behind_the_hub_is_shown_when_the_hub_answers(
    hub_network,  # noqa: ANN001, F811
    network: Network,
) -> None:
    _register_institution(network, "mut-200", "Mutualité 200")
    # At the primary the person is held by `cin` (the hub integrated them for mut-200) ...
    # ... and the person sees mut-200, from the hub's own directory.
    assert ("mut-200", "Mutualité 200", 11, 1, 2024) in _holders(network, FIXED_MAN)
    assert all(h[0] != "cin" for h in _holders(network, FIXED_MAN))


def test_hub_is_shown_with_its_name_when_it_does_not_answer(
    hub_network,  # noqa: ANN001, F811
    contract,  # noqa: ANN001, F811
    network: Network,
) -> None:
    """A second network whose hub is down: its entry at the primary is shown as it is."""
    cert, key = pki.issue(
        pki.load_or_create_ca(network.pki_dir),
        f"spiffe://{identity.TRUST_DOMAIN}/institution/cin2",
    )
    (network.pki_dir / "institution-cin2.pem").write_bytes(cert)
    (network.pki_dir / "institution-cin2.key").write_bytes(key)
    _register_institution(network, "cin2", "Second college")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("localhost", 0))
        dead = s.getsockname()[1]
    pb2, _ = contract
    files = descriptor_pb2.FileDescriptorSet(
        file=[
            descriptor_pb2.FileDescriptorProto.FromString(f) for f in contract_files(pb2.DESCRIPTOR)
        ]
    ).SerializeToString()
    with network.channel("admin-ops") as channel:
        router_admin_pb2_grpc.RouterAdminServiceStub(channel).RegisterService(
            router_admin_pb2.RegisterServiceRequest(
                registration=router_admin_pb2.ServiceRegistration(
                    service=SERVICE,
                    provider="cin2",
                    endpoint=f"localhost:{dead}",
                    via_router="cin2",
                    holder_capacities=[directory_pb2.Capacity(sector=11, code=1)],
                ),
                file_descriptor_set=files,
            ),
            timeout=10,
        )
    integrate(network, "institution-cin2", [FIXED_WOMAN], 11, 1)
    started = dt.datetime.now(dt.UTC)
    assert ("cin2", "Second college", 11, 1, 2024) in _holders(network, FIXED_WOMAN)
    assert dt.datetime.now(dt.UTC) - started < dt.timedelta(seconds=8)
    # The reachable hub still resolves its members for the other person.
    assert any(h[0] == "mut-200" for h in _holders(network, FIXED_MAN))
