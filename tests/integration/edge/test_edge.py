"""The real Envoy at the edge, in front of a real router, registry and holder.

An institution is who its certificate says, also through the edge: Envoy forwards the verified
certificate in `x-forwarded-client-cert` (SANITIZE_SET), the runtime believes that header only
from the gateway's certificate, and a client's own XFCC header never survives the edge.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import router_admin_pb2, router_admin_pb2_grpc
from edge.__main__ import validate
from registry.seed.population import FIXED_MAN
from runtime import pki
from runtime.client import failure
from runtime.config import TlsFiles
from runtime.db import Database
from runtime.identity import router_ticket
from tests.integration.router.conftest import Network, integrate, routed
from tests.support.edge import Edge, running_edge
from tests.support.servers import channel_as

pytestmark = pytest.mark.integration

MASK = field_mask_pb2.FieldMask(paths=["identity"])
XFCC = "x-forwarded-client-cert"


@pytest.fixture(scope="module")
def edge(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
    folder = tmp_path_factory.mktemp("edge")
    with running_edge(network.pki_dir, folder, {"router": network.router.port}) as running:
        yield running


def _get_person(channel: grpc.Channel, metadata: list[tuple[str, str]]):  # noqa: ANN202
    stub = registry_pb2_grpc.RegistryServiceStub(channel)
    return stub.GetPerson.with_call(
        registry_pb2.GetPersonRequest(insz=FIXED_MAN, read_mask=MASK), metadata=metadata, timeout=10
    )


def _logged_requesters(network: Network, ticket: str) -> list[str]:
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT requester FROM message_log WHERE ticket = :t"), {"t": ticket}
            )
            return [r[0] for r in rows]
    finally:
        db.dispose()


def _ticket(call: grpc.Call) -> str:
    return router_ticket(call)


def test_rendered_configuration_is_valid_for_envoy(edge: Edge) -> None:
    done = validate(edge.config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


def test_consultation_through_the_edge_is_checked_as_the_client_certificate(
    network: Network, edge: Edge
) -> None:
    with channel_as(network.pki_dir, "institution-onem", edge.port) as channel:
        reply, call = _get_person(channel, routed())
    assert reply.person.insz == FIXED_MAN
    assert _logged_requesters(network, _ticket(call)) == [
        "spiffe://carrefour.local/institution/onem"
    ]


def test_forged_identity_header_is_replaced_by_the_edge(network: Network, edge: Edge) -> None:
    """Famiwal claims to be ONEM in its own XFCC header: Envoy replaces it with Famiwal's
    certificate, so the router refuses Famiwal (not authorised) and logs Famiwal."""
    forged = [*routed(), (XFCC, "URI=spiffe://carrefour.local/institution/onem")]
    with channel_as(network.pki_dir, "institution-famiwal", edge.port) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _get_person(channel, forged)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert failure(caught.value).reason == "NOT_AUTHORISED"
    ticket = router_ticket(caught.value)
    assert set(_logged_requesters(network, ticket)) == {
        "spiffe://carrefour.local/institution/famiwal"
    }


def test_forged_identity_header_sent_directly_is_ignored(network: Network) -> None:
    """Straight to the router (its peer is not the gateway), the header counts for nothing:
    Famiwal is still Famiwal — and a direct mTLS caller keeps working."""
    forged = [*routed(), (XFCC, "URI=spiffe://carrefour.local/institution/onem")]
    with channel_as(network.pki_dir, "institution-famiwal", network.router.port) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _get_person(channel, forged)
    assert failure(caught.value).reason == "NOT_AUTHORISED"
    with channel_as(network.pki_dir, "institution-onem", network.router.port) as channel:
        reply, _ = _get_person(channel, routed())
    assert reply.person.insz == FIXED_MAN


def test_admin_api_through_the_edge_is_for_admin_identities_only(
    network: Network, edge: Edge
) -> None:
    request = router_admin_pb2.ListInstitutionsRequest()
    with channel_as(network.pki_dir, "institution-onem", edge.port) as channel:
        stub = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListInstitutions(request, timeout=10)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with channel_as(network.pki_dir, "admin-ops", edge.port) as channel:
        stub = router_admin_pb2_grpc.RouterAdminServiceStub(channel)
        names = [i.id for i in stub.ListInstitutions(request, timeout=10).institutions]
    assert "onem" in names


def test_method_the_edge_does_not_expose_is_unimplemented(network: Network, edge: Edge) -> None:
    """The register's own mutations stay inside the mesh."""
    with channel_as(network.pki_dir, "institution-nr", edge.port) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.RecordDeath(registry_pb2.RecordDeathRequest(insz=FIXED_MAN), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_client_without_a_certificate_of_the_mesh_gets_no_stream(
    network: Network, edge: Edge, tmp_path: Path
) -> None:
    other = pki.create_ca("another CA")
    cert, key = pki.issue(other, "spiffe://carrefour.local/institution/onem")
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "c.key").write_bytes(key)
    files = TlsFiles(cert=tmp_path / "c.pem", key=tmp_path / "c.key", ca=network.pki_dir / "ca.pem")
    from runtime.client import secure_channel

    with secure_channel(f"localhost:{edge.port}", files) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            _get_person(channel, routed())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_access_log_names_method_status_and_client_without_payload(
    network: Network, edge: Edge
) -> None:
    with channel_as(network.pki_dir, "institution-onem", edge.port) as channel:
        _get_person(channel, routed())
    deadline = time.monotonic() + 10  # Envoy flushes its access log every second
    while "RegistryService/GetPerson" not in (text := edge.access_log.read_text()):
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    assert "/cbss.registry.v1.RegistryService/GetPerson grpc-status=0" in text
    assert "client=spiffe://carrefour.local/institution/onem" in text
    assert FIXED_MAN not in text


def test_rate_limit_is_per_institution_and_answers_resource_exhausted(
    network: Network, edge: Edge, tmp_path: Path
) -> None:
    with running_edge(
        network.pki_dir,
        tmp_path,
        {"router": network.router.port},
        EDGE_RATE_PER_INSTITUTION="1",
        EDGE_BURST_PER_INSTITUTION="3",
    ) as limited:
        codes = []
        with channel_as(network.pki_dir, "institution-onem", limited.port) as channel:
            for _ in range(6):
                try:
                    _get_person(channel, routed())
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    codes.append(exc.code())
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes
        assert codes[0] is grpc.StatusCode.OK
        # Another institution has its own bucket (famiwal is refused by the router, not the edge).
        with channel_as(network.pki_dir, "institution-famiwal", limited.port) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                _get_person(channel, routed())
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"},
        {"EDGE_RATE_PER_INSTITUTION": "1", "EDGE_BURST_PER_INSTITUTION": "1", "GRPC_PORT": "0"},
    ],
    ids=["default", "tracing", "tight-rate"],
)
def test_every_rendered_variant_passes_envoy_validate(
    network: Network, tmp_path: Path, variant: dict[str, str]
) -> None:
    """`envoy --mode validate` on each configuration the renderer makes (`python -m edge
    validate`, as an operator runs it)."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "PKI_DIR": str(network.pki_dir),
        "VAR_DIR": str(tmp_path),
        "ROUTER_ADDR": f"localhost:{network.router.port}",
        **variant,
    }
    done = subprocess.run(
        [sys.executable, "-m", "edge", "validate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
