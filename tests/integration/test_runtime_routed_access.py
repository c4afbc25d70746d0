"""Consultations (ACCESS_ROUTED methods) are answered only to a router, with its metadata."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from echo.config import Settings
from runtime.client import failure
from runtime.identity import current_caller, current_consultation
from runtime.server import Registration, ServiceHost, method_access
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration


def _who(request: bytes, context: grpc.ServicerContext) -> bytes:
    consultation = current_consultation()
    return json.dumps(
        {
            "caller": current_caller().uri,
            "router": consultation.router.uri if consultation else None,
            "legal_context": consultation.legal_context if consultation else None,
            "ticket": consultation.ticket if consultation else None,
            "capacity": consultation.capacity if consultation else None,
        }
    ).encode()


def _host(pki_dir: Path, tmp_path: Path, access: str) -> ServiceHost:
    handler = grpc.method_handlers_generic_handler(
        "test.Who", {"Who": grpc.unary_unary_rpc_method_handler(_who)}
    )
    settings = Settings.from_env(service_env(pki_dir, "registry", f"sqlite:///{tmp_path}/x.db"))
    return ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                lambda _s, server: server.add_generic_rpc_handlers([handler]),
                None,
                "test.Who",
                access=access,
            )
        ],
    )


ROUTING = [
    ("cbss-requester", "spiffe://carrefour.local/institution/onem"),
    ("cbss-legal-context", "unemployment.control"),
    ("cbss-ticket", "6f1c2a1e-0000-4000-8000-000000000001"),
    ("cbss-capacity", "18/1"),
]


@pytest.fixture
def routed(pki_dir: Path, tmp_path: Path):
    # A generic test service whose one method is a consultation; the access map is built by hand
    # because it has no generated descriptor.
    host = _host(pki_dir, tmp_path, "ROUTED")
    with running(host):
        yield host


def _who_call(channel: grpc.Channel, metadata=()) -> dict:
    return json.loads(channel.unary_unary("/test.Who/Who")(b"", metadata=metadata, timeout=5))


def test_consultation_is_refused_when_caller_is_not_a_router(routed: ServiceHost, pki_dir) -> None:
    for party in ("institution-onem", "admin-ops", "gateway"):
        with channel_as(pki_dir, party, routed.port) as channel:
            with pytest.raises(grpc.RpcError) as err:
                _who_call(channel, ROUTING)  # forged routing headers change nothing
        assert failure(err.value).code is grpc.StatusCode.PERMISSION_DENIED
        assert failure(err.value).reason == "DIRECT_ACCESS_FORBIDDEN"


def test_requester_named_by_router_is_the_caller_when_router_forwards(
    routed: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "router", routed.port) as channel:
        seen = _who_call(channel, ROUTING)
    assert seen == {
        "caller": "spiffe://carrefour.local/institution/onem",
        "router": "spiffe://carrefour.local/router/cbss",
        "legal_context": "unemployment.control",
        "ticket": "6f1c2a1e-0000-4000-8000-000000000001",
        "capacity": "18/1",
    }


@pytest.mark.parametrize("drop", ["cbss-requester", "cbss-legal-context", "cbss-ticket", None])
def test_router_call_is_failed_precondition_when_routing_metadata_is_incomplete(
    routed: ServiceHost, pki_dir: Path, drop: str | None
) -> None:
    metadata = [(k, v) for k, v in ROUTING if k != drop]
    if drop is None:  # a requester that names no party
        metadata = [("cbss-requester", "spiffe://carrefour.local/nobody/x"), *metadata[1:]]
    with channel_as(pki_dir, "router", routed.port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            _who_call(channel, metadata)
    assert failure(err.value).code is grpc.StatusCode.FAILED_PRECONDITION
    assert failure(err.value).reason == "ROUTING_METADATA_INVALID"


def test_routing_headers_are_ignored_when_method_is_direct(pki_dir: Path, tmp_path: Path) -> None:
    host = _host(pki_dir, tmp_path, "DIRECT")
    with running(host):
        for party, uri in (
            ("institution-inami", "spiffe://carrefour.local/institution/inami"),
            ("router", "spiffe://carrefour.local/router/cbss"),
        ):
            with channel_as(pki_dir, party, host.port) as channel:
                seen = _who_call(channel, ROUTING)
            assert seen["caller"] == uri and seen["router"] is None


def test_service_refuses_to_start_when_a_method_does_not_declare_access() -> None:
    from cbss.common.v1 import types_pb2  # noqa: F401 - a file with no service

    with pytest.raises(ValueError, match="no descriptor"):
        method_access([Registration(lambda *_: None, None, "test.Undeclared")])


def test_access_is_read_from_the_proto_when_service_is_generated() -> None:
    from cbss.echo.v1 import echo_pb2_grpc

    access = method_access(
        [
            Registration(
                echo_pb2_grpc.add_EchoServiceServicer_to_server, None, "cbss.echo.v1.EchoService"
            )
        ]
    )
    assert access == {
        "/cbss.echo.v1.EchoService/Echo": "DIRECT",
        "/cbss.echo.v1.EchoService/CreateNote": "DIRECT",
        "/cbss.echo.v1.EchoService/GetNote": "DIRECT",
    }
