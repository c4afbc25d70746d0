"""An employer's declaration through the edge (the real Envoy) is the certificate's employer's.

DIMONA is behind the edge like the router: the runtime takes the identity Envoy forwards only
from the gateway's certificate, and a client's own XFCC header never survives the edge.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import grpc
import pytest

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime.client import failure
from tests.integration.dimona.conftest import Network
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.support.edge import Edge, running_edge
from tests.support.servers import channel_as

pytestmark = pytest.mark.integration

RETAIL = "000100006"
STATE = "000935467"
FORGED = ("x-forwarded-client-cert", f"URI=spiffe://carrefour.local/employer/{RETAIL}")


@pytest.fixture(scope="module")
def edge(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    folder = tmp_path_factory.mktemp("edge")
    ports = {"router": network.router.port, "dimona": network.dimona.port}
    with running_edge(network.pki_dir, folder, ports) as running:
        yield running


def _submit(port: int, network: Network, party: str, request, metadata=()):  # noqa: ANN001, ANN202
    with channel_as(network.pki_dir, party, port) as channel:
        stub = dimona_pb2_grpc.DimonaServiceStub(channel)
        return stub.SubmitDeclaration(request, metadata=list(metadata), timeout=20).declaration


def test_an_employers_declaration_through_the_edge_is_accepted_as_that_employer(
    network: Network, edge: Edge
) -> None:
    declared = _submit(
        edge.port,
        network,
        f"employer-{RETAIL}",
        submit_in(RETAIL, "edge-in-1", dimona_in(FIXED_MAN)),
    )
    assert declared.status == dimona_pb2.DECLARATION_STATUS_ACCEPTED


@pytest.mark.parametrize("through_edge", [True, False])
def test_another_employer_claiming_to_be_it_in_a_header_is_refused(
    network: Network, edge: Edge, through_edge: bool
) -> None:
    """The State employer sends a forged XFCC naming the retail employer, through the edge
    (replaced there) and straight to DIMONA (ignored: its peer is not the gateway)."""
    port = edge.port if through_edge else network.dimona.port
    request = submit_in(RETAIL, f"edge-forged-{through_edge}", dimona_in(FIXED_WOMAN))
    with pytest.raises(grpc.RpcError) as caught:
        _submit(port, network, f"employer-{STATE}", request, [FORGED])
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert failure(caught.value).reason == "NOT_OWN_EMPLOYER"


# --- REST/JSON at the edge (the gRPC-JSON transcoder) ------------------------------------------


def _rest(
    network: Network, edge: Edge, party: str, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict]:
    """An HTTP/1.1 JSON request over mTLS with `party`'s certificate."""
    import http.client
    import json
    import ssl

    context = ssl.create_default_context(cafile=str(network.pki_dir / "ca.pem"))
    context.load_cert_chain(network.pki_dir / f"{party}.pem", network.pki_dir / f"{party}.key")
    connection = http.client.HTTPSConnection("localhost", edge.port, context=context, timeout=20)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        text = reply.read().decode()
        return reply.status, json.loads(text) if text.strip().startswith("{") else {"raw": text}
    finally:
        connection.close()


def test_an_employer_declares_and_lists_its_periods_as_rest_json(
    network: Network, edge: Edge
) -> None:
    import json

    from google.protobuf import json_format

    body = json_format.MessageToDict(
        submit_in(RETAIL, "edge-rest-1", dimona_in(FIXED_WOMAN, start=dt.date(2025, 9, 1))),
        preserving_proto_field_name=True,
    )
    del body["parent"]  # in the path
    status, declared = _rest(
        network, edge, f"employer-{RETAIL}", "POST", f"/dimona/v1/employers/{RETAIL}/declarations",
        json.dumps(body).encode(),
    )  # fmt: skip
    assert status == 200, declared
    assert declared["declaration"]["status"] == "DECLARATION_STATUS_ACCEPTED"
    period = declared["declaration"]["period_id"]
    status, listed = _rest(
        network, edge, f"employer-{RETAIL}", "GET",
        f"/dimona/v1/employers/{RETAIL}/periods?worker_insz={FIXED_WOMAN}",
    )  # fmt: skip
    assert status == 200, listed
    assert str(period) in {str(p["period_id"]) for p in listed["periods"]}
    status, one = _rest(
        network,
        edge,
        f"employer-{RETAIL}",
        "GET",
        f"/dimona/v1/employers/{RETAIL}/periods/{period}",
    )
    assert status == 200 and one["period"]["worker_insz"] == FIXED_WOMAN
    # The access log names the gRPC method the request became, never the REST path's query
    # (the worker's INSZ was in it).
    deadline = time.monotonic() + 10  # Envoy flushes its access log every second
    while "DimonaService/GetPeriod" not in (text := edge.access_log.read_text()):
        assert time.monotonic() < deadline, text
        time.sleep(0.2)
    assert "/cbss.dimona.v1.DimonaService/ListPeriods" in text
    assert FIXED_WOMAN not in text


def test_rest_errors_are_json_with_the_status_and_reason(network: Network, edge: Edge) -> None:
    # Another employer's periods: PERMISSION_DENIED -> 403, the reason in the details.
    status, error = _rest(
        network, edge, f"employer-{STATE}", "GET", f"/dimona/v1/employers/{RETAIL}/periods"
    )
    assert status == 403
    assert "NOT_OWN_EMPLOYER" in json.dumps(error)
    # Bad JSON: 400, nothing reaches DIMONA.
    status, _ = _rest(
        network, edge, f"employer-{RETAIL}", "POST", f"/dimona/v1/employers/{RETAIL}/declarations",
        b"{not json",
    )  # fmt: skip
    assert status == 400
    # A path that maps to no method: 404.
    status, _ = _rest(network, edge, f"employer-{RETAIL}", "GET", "/v1/nowhere")
    assert status == 404
