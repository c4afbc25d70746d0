"""A STREAM subscriber (Famiwal, which has no inbox) reads its notifications through the router:
each streamed person is logged by the router, acknowledgement moves its lag, a resumed stream
starts after the acknowledged one, re-reading gives the same ids; bad input is refused clearly."""

from __future__ import annotations

import datetime as dt
import time

import grpc
import pytest
import sqlalchemy as sa

from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from registry.seed.population import FIXED_WOMAN
from runtime.client import failure, party_tls, secure_channel, server_name
from runtime.db import Database
from runtime.identity import LEGAL_CONTEXT_HEADER
from runtime.server import ServiceHost
from tests.integration.inbox.conftest import Mesh
from tests.integration.mutation.conftest import Register

pytestmark = pytest.mark.integration

CONTEXT = [(LEGAL_CONTEXT_HEADER, "mutation.subscription")]
STREAM = "cbss.mutation.v1.NotificationStreamService"


def _routed(mesh: Mesh, party: str):  # noqa: ANN202
    channel = secure_channel(
        f"localhost:{mesh.port('router')}",
        party_tls(mesh.pki_dir, party),
        **server_name("spiffe://carrefour.local/router/cbss"),
    )
    return channel, mutation_pb2_grpc.NotificationStreamServiceStub(channel)


def _read(stub, after: int, wait: int, until_source: int = 0):  # noqa: ANN001, ANN202
    """Stream items until one with `until_source` arrives (or the stream ends)."""
    got = []
    stream = stub.StreamNotifications(
        mutation_pb2.StreamNotificationsRequest(after_sequence=after, max_wait_seconds=wait),
        timeout=wait + 20,
        metadata=CONTEXT,
    )
    for item in stream:
        got.append(item)
        if until_source and item.change.source_sequence == until_source:
            stream.cancel()
            break
    return got


def test_a_stream_subscriber_reads_acknowledges_and_resumes_through_the_router(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    sequence = Register(mesh).move(FIXED_WOMAN, dt.date.today() - dt.timedelta(days=4), "Rue Haute")
    channel, stub = _routed(mesh, "institution-famiwal")
    try:
        items = _read(stub, 0, 10, until_source=sequence)
        mine = [i for i in items if i.change.source_sequence == sequence]
        assert len(mine) == 1
        item = mine[0]
        assert (item.change.insz, item.change.event_type) == (FIXED_WOMAN, "person.address-changed")
        assert item.change.person.after.address.street == "Rue Haute"
        # Re-read from before it: the same notification, the same id.
        again = _read(stub, item.sequence - 1, 1)
        assert again[0].sequence == item.sequence and again[0].change.id == item.change.id
        reply = stub.AcknowledgeNotifications(
            mutation_pb2.AcknowledgeNotificationsRequest(up_to_sequence=item.sequence),
            timeout=10,
            metadata=CONTEXT,
        )
        assert reply.acknowledged_sequence == item.sequence
        assert reply.remaining == 0
        # From 0: after the acknowledged one, so nothing (the stream ends after its wait).
        begin = time.monotonic()
        assert _read(stub, 0, 1) == []
        assert time.monotonic() - begin >= 0.9
        # An earlier acknowledgement changes nothing.
        reply = stub.AcknowledgeNotifications(
            mutation_pb2.AcknowledgeNotificationsRequest(up_to_sequence=0),
            timeout=10,
            metadata=CONTEXT,
        )
        assert reply.acknowledged_sequence == item.sequence
    finally:
        channel.close()
    # The router logged the person the streamed notification names, requested by Famiwal.
    db = Database(mesh.urls["router"])
    try:
        with db.engine.connect() as conn:
            logged = conn.execute(
                sa.text(
                    "SELECT requester, outcome FROM message_log WHERE service = :s"
                    " AND method = 'StreamNotifications' AND subject = :i"
                ),
                {"s": STREAM, "i": FIXED_WOMAN},
            ).all()
    finally:
        db.dispose()
    assert ("spiffe://carrefour.local/institution/famiwal", "REVEALED") in logged
    # Operators see Famiwal as a stream subscriber with nothing left to acknowledge.
    admin = secure_channel(
        f"localhost:{fanout.port}",
        party_tls(mesh.pki_dir, "admin-ops"),
        **server_name("spiffe://carrefour.local/institution/cbss"),
    )
    try:
        lags = mutation_pb2_grpc.MutationAdminServiceStub(admin).ListInstitutionLags(
            mutation_pb2.ListInstitutionLagsRequest(), timeout=10
        )
    finally:
        admin.close()
    famiwal = [lag for lag in lags.lags if lag.institution == "famiwal"]
    assert len(famiwal) == 1
    assert famiwal[0].delivery == mutation_pb2.DELIVERY_MODE_STREAM
    assert (famiwal[0].pending, famiwal[0].acknowledged >= 1) == (0, True)


def _code(call, request, party_channel_stub) -> tuple[grpc.StatusCode, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as refused:
        result = call(request, timeout=10, metadata=CONTEXT)
        list(result) if hasattr(result, "__iter__") else None
    info = failure(refused.value)
    return info.code, info.reason


def test_stream_requests_are_refused_clearly_when_wrong(mesh: Mesh, fanout: ServiceHost) -> None:
    channel, stub = _routed(mesh, "institution-famiwal")
    try:
        bad = mutation_pb2.StreamNotificationsRequest(after_sequence=-1)
        assert _code(stub.StreamNotifications, bad, stub) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_AFTER_SEQUENCE",
        )
        bad = mutation_pb2.StreamNotificationsRequest(max_wait_seconds=301)
        assert _code(stub.StreamNotifications, bad, stub) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_MAX_WAIT",
        )
        beyond = mutation_pb2.AcknowledgeNotificationsRequest(up_to_sequence=10**9)
        assert _code(stub.AcknowledgeNotifications, beyond, stub) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_SEQUENCE",
        )
    finally:
        channel.close()
    # ONEM has no authorisation for the stream at the router (it receives in its inbox).
    channel, stub = _routed(mesh, "institution-onem")
    try:
        code, _ = _code(stub.StreamNotifications, mutation_pb2.StreamNotificationsRequest(), stub)
        assert code is grpc.StatusCode.PERMISSION_DENIED
    finally:
        channel.close()
    # Straight to the mutation service, not through a router: refused.
    direct = secure_channel(
        f"localhost:{fanout.port}",
        party_tls(mesh.pki_dir, "institution-famiwal"),
        **server_name("spiffe://carrefour.local/institution/cbss"),
    )
    try:
        stub = mutation_pb2_grpc.NotificationStreamServiceStub(direct)
        assert _code(stub.StreamNotifications, mutation_pb2.StreamNotificationsRequest(), stub) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "DIRECT_ACCESS_FORBIDDEN",
        )
    finally:
        direct.close()
