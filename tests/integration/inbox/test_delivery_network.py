"""Attestations delivered through real routers to real inboxes: to a named institution, to the
mutuality the directory finds at both router levels (primary -> hub -> member), refused for good
when no authorisation covers them, dead-lettered after the horizon when no holder appears, and
acknowledged back to the sender."""

from __future__ import annotations

import time

import grpc
import pytest
import sqlalchemy as sa

from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN, FIXED_WOMAN_2006
from runtime.client import failure
from runtime.db import Database
from runtime.outbox import DeliveryStatus, RetryPolicy, RouterTransport
from tests.integration.inbox.conftest import DAY, Mesh, Sender

pytestmark = pytest.mark.integration

INBOX = "cbss.inbox.v1.InboxService"


def _settle(sender: Sender, ids: list[str], dispatcher, timeout: float = 20.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dispatcher.run_once()
        entries = [sender.demo.outbox.status(sender.db, i) for i in ids]
        if all(e.status is not DeliveryStatus.PENDING for e in entries):
            return entries
        time.sleep(0.05)
    raise AssertionError("attestations still pending")


def _inbox_ids(mesh: Mesh, institution: str) -> list[str]:
    db = mesh.inbox_db(institution)
    try:
        with db.engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT id FROM attestation ORDER BY seq")).scalars())
    finally:
        db.dispose()


def _log(url: str, subject: str) -> list[tuple[str, str, str]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT requester, destination, outcome FROM message_log"
                    " WHERE subject = :s AND service = :svc"
                ),
                {"s": subject, "svc": INBOX},
            )
            return [tuple(r) for r in rows]
    finally:
        db.dispose()


def test_reaches_the_named_institution_when_the_sender_names_it(mesh: Mesh, sender: Sender) -> None:
    ids = [
        sender.demo.declare("unemployment.c4", FIXED_MAN, DAY, b'{"last_day": "2026-11-01"}'),
        sender.demo.declare("work-accident.declaration", FIXED_WOMAN, DAY),
        # The employer named its insurer (DRS will check the policy against the insurer list).
        sender.demo.declare("work-accident.declaration", FIXED_MAN, DAY, destination="ethias"),
    ]
    entries = _settle(sender, ids, sender.dispatcher())
    assert [e.status for e in entries] == [DeliveryStatus.DELIVERED] * 3
    assert [e.delivered_to.split("/attestations/")[0] for e in entries] == [
        "inboxes/onem",
        "inboxes/fedris",
        "inboxes/ethias",
    ]
    assert ids[0] in _inbox_ids(mesh, "onem") and ids[1] in _inbox_ids(mesh, "fedris")
    onss = "spiffe://carrefour.local/institution/onss"
    assert (onss, "onem", "FORWARDED") in _log(mesh.urls["router"], FIXED_MAN)


def test_reaches_the_members_mutuality_when_the_directory_chooses_at_both_levels(
    mesh: Mesh, sender: Sender
) -> None:
    man = sender.demo.declare("sickness.zima-001", FIXED_MAN, DAY, b"{}")
    woman = sender.demo.declare("sickness.zima-001", FIXED_WOMAN, DAY, b"{}")
    entries = _settle(sender, [man, woman], sender.dispatcher())
    assert [e.delivered_to for e in entries] == [
        f"inboxes/mut-100/attestations/{man}",
        f"inboxes/mut-200/attestations/{woman}",
    ]
    assert man in _inbox_ids(mesh, "mut-100") and man not in _inbox_ids(mesh, "mut-200")
    assert woman in _inbox_ids(mesh, "mut-200")
    onss = "spiffe://carrefour.local/institution/onss"
    assert (onss, "cin", "FORWARDED") in _log(mesh.urls["router"], FIXED_MAN)  # the primary
    assert (onss, "mut-100", "FORWARDED") in _log(mesh.urls["hub"], FIXED_MAN)  # the hub


def test_dead_lettered_at_once_when_no_authorisation_covers_the_delivery(
    mesh: Mesh, sender: Sender
) -> None:
    # onss may send unemployment attestations to ONEM only.
    misrouted = sender.demo.declare("unemployment.c4", FIXED_MAN, DAY, destination="fedris")
    entries = _settle(sender, [misrouted], sender.dispatcher())
    # A sender with no authorisation at all for the inbox contract.
    with mesh.router_channel("institution-famiwal") as channel:
        stranger = sender.demo.declare("unemployment.c4", FIXED_MAN, DAY)
        dispatcher = sender.dispatcher()
        dispatcher.transport = RouterTransport(channel)
        entries += _settle(sender, [stranger], dispatcher)
    assert [(e.status, e.attempts) for e in entries] == [(DeliveryStatus.DEAD_LETTERED, 1)] * 2
    assert [e.last_error for e in entries] == [
        "PERMISSION_DENIED LEGAL_CONTEXT_NOT_AUTHORISED",
        "PERMISSION_DENIED NOT_AUTHORISED",
    ]
    assert misrouted not in _inbox_ids(mesh, "fedris")


def test_dead_lettered_after_the_horizon_when_no_mutuality_holds_the_person(
    mesh: Mesh, sender: Sender
) -> None:
    orphan = sender.demo.declare("sickness.zima-001", FIXED_WOMAN_2006, DAY)
    policy = RetryPolicy(base_seconds=0.1, max_delay_seconds=0.2, horizon_seconds=1.0)
    [entry] = _settle(sender, [orphan], sender.dispatcher(policy))
    assert entry.status is DeliveryStatus.DEAD_LETTERED
    assert entry.last_error == "NOT_FOUND NO_HOLDER" and entry.attempts > 2
    assert (entry.dead_lettered_at - entry.created_at).total_seconds() >= 1.0


def test_the_sender_learns_the_acknowledgement_when_the_institution_acknowledges(
    mesh: Mesh, sender: Sender
) -> None:
    att = sender.demo.declare("sickness.zima-006", FIXED_WOMAN, DAY, b"{}")
    dispatcher = sender.dispatcher()
    [entry] = _settle(sender, [att], dispatcher)
    assert dispatcher.refresh([att]) == 0  # not acknowledged yet
    with mesh.inbox_channel("mut-200") as channel:
        stub = inbox_pb2_grpc.InboxServiceStub(channel)
        stub.AcknowledgeAttestation(
            inbox_pb2.AcknowledgeAttestationRequest(name=entry.delivered_to), timeout=5
        )
    assert dispatcher.refresh([att]) == 1
    done = sender.demo.outbox.status(sender.db, att)
    assert done.status is DeliveryStatus.ACKNOWLEDGED and done.acknowledged_at is not None


def test_the_same_id_with_other_content_is_refused_for_good_when_redelivered(
    mesh: Mesh, sender: Sender
) -> None:
    att = sender.demo.declare("unemployment.c4", FIXED_MAN, DAY, b'{"v": 1}')
    dispatcher = sender.dispatcher()
    [entry] = _settle(sender, [att], dispatcher)
    again = sender.transport.deliver(entry, "onss")  # same content: answered as the first time
    assert again.inbox_name == entry.delivered_to
    from dataclasses import replace

    from runtime.outbox import DeliveryFailed

    with pytest.raises(DeliveryFailed) as err:
        sender.transport.deliver(replace(entry, payload=b'{"v": 2}'), "onss")
    assert (err.value.code, err.value.reason, err.value.permanent) == (
        "ALREADY_EXISTS",
        "IDEMPOTENCY_KEY_REUSED",
        True,
    )


def test_the_inbox_answers_only_routers_and_its_owner_when_called_directly(mesh: Mesh) -> None:
    with mesh.inbox_channel("onem", "onss") as channel:
        stub = inbox_pb2_grpc.InboxServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.DeliverAttestation(inbox_pb2.DeliverAttestationRequest(), timeout=5)
        assert failure(err.value).reason == "DIRECT_ACCESS_FORBIDDEN"
        with pytest.raises(grpc.RpcError) as err:
            stub.ListAttestations(
                inbox_pb2.ListAttestationsRequest(parent="inboxes/onem"), timeout=5
            )
        assert (failure(err.value).code, failure(err.value).reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_INBOX_OWNER",
        )
    with mesh.inbox_channel("onem") as channel:
        stub = inbox_pb2_grpc.InboxServiceStub(channel)
        reply = stub.ListAttestations(
            inbox_pb2.ListAttestationsRequest(parent="inboxes/onem", page_size=1), timeout=5
        )
        assert len(reply.attestations) <= 1
        with pytest.raises(grpc.RpcError) as err:
            stub.ListAttestations(
                inbox_pb2.ListAttestationsRequest(parent="inboxes/onem", page_token="x"),
                timeout=5,
            )
        assert failure(err.value).reason == "INVALID_PAGE_TOKEN"
