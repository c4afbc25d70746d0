"""One trace per routed call, from the edge (Envoy) through the router to the holder.

Envoy exports its span to an OTLP collector — here a real gRPC server standing in for the
operators' collector (outside the system) — and passes W3C `traceparent` upstream; the router
and the holder (in-process) continue that trace, and the router's message log carries its id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.seed.population import FIXED_MAN
from runtime.db import Database
from runtime.identity import router_ticket
from tests.integration.router.conftest import Network, integrate, routed
from tests.support.edge import Edge, running_edge
from tests.support.servers import channel_as
from tests.support.tracing import memory_spans

pytestmark = pytest.mark.integration


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """Receives OTLP spans: (trace id hex, span name, service name)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def Export(self, request, context):  # noqa: N802, ANN001, ANN201
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    (
                        a.value.string_value
                        for a in resource_spans.resource.attributes
                        if a.key == "service.name"
                    ),
                    "",
                )
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append((span.trace_id.hex(), span.name, service))
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[Collector, int]]:
    servicer = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(0)


@pytest.fixture(scope="module")
def traced_edge(
    network: Network,
    collector: tuple[Collector, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Edge]:
    integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
    folder = tmp_path_factory.mktemp("edge-traced")
    with running_edge(
        network.pki_dir,
        folder,
        {"router": network.router.port},
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector[1]}",
    ) as edge:
        yield edge


def test_spans_of_a_routed_call_share_one_trace_edge_included(
    network: Network, traced_edge: Edge, collector: tuple[Collector, int]
) -> None:
    spans = memory_spans()
    spans.clear()
    with channel_as(network.pki_dir, "institution-onem", traced_edge.port) as channel:
        _, call = registry_pb2_grpc.RegistryServiceStub(channel).GetPerson.with_call(
            registry_pb2.GetPersonRequest(
                insz=FIXED_MAN, read_mask=field_mask_pb2.FieldMask(paths=["identity"])
            ),
            metadata=routed(),
            timeout=10,
        )
    ticket = router_ticket(call)
    method = "cbss.registry.v1.RegistryService/GetPerson"
    by_scope = {
        s.instrumentation_scope.name: format(s.context.trace_id, "032x")
        for s in spans.get_finished_spans()
        if s.name == method
    }
    # The router's server span and the holder's (the registry's runtime) in one trace.
    assert set(by_scope) >= {"cbss.router", "cbss.registry"}
    trace_id = by_scope["cbss.router"]
    assert by_scope["cbss.registry"] == trace_id
    # Envoy's span, exported to the collector, in the same trace.
    servicer = collector[0]
    deadline = time.monotonic() + 10
    while not any(t == trace_id for t, _, _ in servicer.spans):
        assert time.monotonic() < deadline, f"no edge span in trace {trace_id}: {servicer.spans}"
        time.sleep(0.1)
    assert any(t == trace_id and svc == "cbss.edge" for t, _, svc in servicer.spans)
    # The router's message log names the trace beside its ticket.
    db = Database(network.router_db)
    try:
        with db.engine.connect() as conn:
            logged = (
                conn.execute(
                    sa.text("SELECT DISTINCT trace_id FROM message_log WHERE ticket = :t"),
                    {"t": ticket},
                )
                .scalars()
                .all()
            )
    finally:
        db.dispose()
    assert logged == [trace_id]
