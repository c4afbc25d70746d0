"""Trace context crosses gRPC: the server span continues the caller's trace."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from echo.config import Settings
from echo.server import create_server
from runtime.client import party_tls
from runtime.tls import channel_credentials
from tests.support.servers import channel_as, running, service_env
from tests.support.tracing import memory_spans

pytestmark = pytest.mark.integration

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    exporter = memory_spans()  # once per process; the runtime's tracer follows it
    exporter.clear()
    return exporter


def test_server_span_continues_caller_trace_when_traceparent_is_sent(
    spans: InMemorySpanExporter, pki_dir: Path, database_url: str
) -> None:
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    traceparent = ("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01")
    # A plain grpc channel, as a foreign client that propagates its own trace context would use.
    creds = channel_credentials(party_tls(pki_dir, "institution-onem"))
    with running(host), grpc.secure_channel(f"localhost:{host.port}", creds) as channel:
        stub = echo_pb2_grpc.EchoServiceStub(channel)
        stub.Echo(echo_pb2.EchoRequest(payload=b"x"), metadata=[traceparent], timeout=5)
        with pytest.raises(grpc.RpcError):
            stub.GetNote(echo_pb2.GetNoteRequest(name="bad"), metadata=[traceparent], timeout=5)
    by_name = {s.name: s for s in spans.get_finished_spans()}
    echo_span = by_name["cbss.echo.v1.EchoService/Echo"]
    assert format(echo_span.context.trace_id, "032x") == TRACE_ID
    assert format(echo_span.parent.span_id, "016x") == PARENT_ID
    assert echo_span.kind is trace.SpanKind.SERVER
    failed = by_name["cbss.echo.v1.EchoService/GetNote"]
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["rpc.grpc.status_code"] == "INVALID_ARGUMENT"


def test_trace_context_is_sent_when_calling_from_inside_a_span(
    spans: InMemorySpanExporter, pki_dir: Path, database_url: str
) -> None:
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    tracer = trace.get_tracer("test")
    with running(host), channel_as(pki_dir, "institution-onem", host.port) as channel:
        with tracer.start_as_current_span("cbss.test.caller") as caller_span:
            echo_pb2_grpc.EchoServiceStub(channel).Echo(echo_pb2.EchoRequest(), timeout=5)
    server = [
        s
        for s in spans.get_finished_spans()
        if s.name == "cbss.echo.v1.EchoService/Echo"
        and s.context.trace_id == caller_span.get_span_context().trace_id
    ]
    assert len(server) == 1
