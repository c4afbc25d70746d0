"""Whatever arrives at any registry method, the answer is a clear status, never INTERNAL."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from registry_rpc import routing

from cbss.registry.v1 import registry_pb2
from runtime.client import failure
from runtime.server import ServiceHost
from tests.support.servers import channel_as

pytestmark = pytest.mark.integration

METHODS = [
    f"/{s.full_name}/{m.name}"
    for s in registry_pb2.DESCRIPTOR.services_by_name.values()
    for m in s.methods
]


@pytest.mark.parametrize("path", METHODS)
@pytest.mark.parametrize("payload", [b"", b"\x0a\xff\xff\xff", b"\x12\x03abc\x08\x01"])
@pytest.mark.parametrize("party", ["router", "admin-ops", "institution-onem"])
def test_any_input_gets_a_reasoned_status_when_sent_to_any_method(
    registry: ServiceHost, pki_dir: Path, path: str, payload: bytes, party: str
) -> None:
    with channel_as(pki_dir, party, registry.port) as channel:
        try:
            channel.unary_unary(path)(payload, metadata=routing(), timeout=10)
        except grpc.RpcError as exc:
            info = failure(exc)
            assert info.code is not grpc.StatusCode.INTERNAL, info
            assert info.reason
