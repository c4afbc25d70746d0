"""The register's changes reach, through the router (and the hub), the inboxes of exactly the
institutions that hold the person on the change's date, hold a grant for the event type and
chose it — once each, with a stable id."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from cbss.common.v1 import types_pb2
from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime.client import failure, party_tls, secure_channel, server_name
from runtime.server import ServiceHost
from tests.integration.inbox.conftest import Mesh
from tests.integration.mutation.conftest import Register, inbox_changes, wait_for

pytestmark = pytest.mark.integration

TODAY = dt.date.today()


def _ids(mesh: Mesh, institution: str, insz: str, event_type: str) -> list[str]:
    return [
        i
        for i, c in inbox_changes(mesh, institution)
        if c.insz == insz and c.event_type == event_type
    ]


def _mutation_stub(mesh: Mesh, host: ServiceHost, party: str, admin: bool = False):  # noqa: ANN202
    channel = secure_channel(
        f"localhost:{host.port}",
        party_tls(mesh.pki_dir, party),
        **server_name("spiffe://carrefour.local/institution/cbss"),
    )
    stub = (
        mutation_pb2_grpc.MutationAdminServiceStub
        if admin
        else mutation_pb2_grpc.SubscriptionServiceStub
    )
    return channel, stub(channel)


def test_a_move_reaches_onem_and_the_members_mutuality_through_the_hub_once_when_held(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    sequence = Register(mesh).move(FIXED_MAN, TODAY - dt.timedelta(days=3))

    def arrived() -> bool:
        return bool(_ids(mesh, "onem", FIXED_MAN, "person.address-changed")) and bool(
            _ids(mesh, "mut-100", FIXED_MAN, "person.address-changed")
        )

    wait_for(arrived)
    onem = [c for _, c in inbox_changes(mesh, "onem") if c.source_sequence == sequence]
    mut = [c for _, c in inbox_changes(mesh, "mut-100") if c.source_sequence == sequence]
    assert len(onem) == 1 and len(mut) == 1
    assert onem[0].person.after.address.street == "Rue Neuve"
    assert onem[0].source == "registry" and onem[0].insz == FIXED_MAN
    assert onem[0].id != mut[0].id  # one notification per institution, each its own id
    # The attestation's id is the notification's stable id.
    assert onem[0].id in _ids(mesh, "onem", FIXED_MAN, "person.address-changed")
    # Not the member that does not hold him, nor the institutions without an inbox grant.
    for other in ("mut-200", "fedris", "ethias"):
        assert all(c.source_sequence != sequence for _, c in inbox_changes(mesh, other))


def test_an_institution_de_integrated_before_the_date_is_not_notified(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    # ONEM ends its entry for FIXED_WOMAN (18/4 since 2024-09-01) ten days ago.
    end = TODAY - dt.timedelta(days=10)
    channel = secure_channel(
        f"localhost:{mesh.port('router')}",
        party_tls(mesh.pki_dir, "institution-onem"),
        **server_name("spiffe://carrefour.local/router/cbss"),
    )
    try:
        directory_pb2_grpc.DirectoryServiceStub(channel).UnregisterEntries(
            directory_pb2.UnregisterEntriesRequest(
                entries=[
                    directory_pb2.DirectoryEntry(
                        insz=FIXED_WOMAN,
                        capacity=directory_pb2.Capacity(sector=18, code=4),
                        period=types_pb2.Period(
                            start_date={"year": 2024, "month": 9, "day": 1},
                            end_date={"year": end.year, "month": end.month, "day": end.day},
                        ),
                    )
                ]
            ),
            timeout=10,
        )
    finally:
        channel.close()
    sequence = Register(mesh).move(FIXED_WOMAN, TODAY - dt.timedelta(days=2), "Rue Haute")
    wait_for(lambda: any(c.source_sequence == sequence for _, c in inbox_changes(mesh, "mut-200")))
    # The delivery to mut-200 is queued in the same transaction as any other recipient's: had
    # ONEM been one, its notification would be in the outbox by now.
    db = fanout.db  # type: ignore[attr-defined]
    with db.engine.connect() as conn:
        import sqlalchemy as sa

        destinations = set(
            conn.execute(
                sa.text("SELECT destination FROM outbox_attestation WHERE subject_insz = :i"),
                {"i": FIXED_WOMAN},
            ).scalars()
        )
    assert destinations == {"cin"}
    assert all(c.source_sequence != sequence for _, c in inbox_changes(mesh, "onem"))


def test_an_institution_chooses_its_event_types_within_its_grants(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    channel, stub = _mutation_stub(mesh, fanout, "institution-onem")
    try:
        current = stub.GetSubscription(mutation_pb2.GetSubscriptionRequest(), timeout=5)
        assert "person.address-changed" in current.subscription.event_types
        assert "person.address-changed" in current.subscription.granted_event_types
        with pytest.raises(grpc.RpcError) as refused:
            stub.UpdateSubscription(
                mutation_pb2.UpdateSubscriptionRequest(event_types=["person.no-such-thing"]),
                timeout=5,
            )
        info = failure(refused.value)
        assert (info.code, info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_EVENT_TYPE")
    finally:
        channel.close()
    # mut-100 holds no grant of its own (the college `cin` does): refused, nothing changed.
    channel, stub = _mutation_stub(mesh, fanout, "institution-mut-100")
    try:
        with pytest.raises(grpc.RpcError) as refused:
            stub.UpdateSubscription(
                mutation_pb2.UpdateSubscriptionRequest(event_types=["person.address-changed"]),
                timeout=5,
            )
        info = failure(refused.value)
        assert (info.code, info.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "EVENT_TYPE_NOT_GRANTED",
        )
    finally:
        channel.close()


def test_operators_see_lags_and_positions_and_institutions_may_not(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    Register(mesh).move(FIXED_MAN, TODAY - dt.timedelta(days=1), "Rue Basse")

    def settled() -> bool:
        channel, stub = _mutation_stub(mesh, fanout, "admin-ops", admin=True)
        try:
            lags = stub.ListInstitutionLags(mutation_pb2.ListInstitutionLagsRequest(), timeout=5)
        finally:
            channel.close()
        by = {lag.institution: lag for lag in lags.lags}
        return "onem" in by and by["onem"].pending == 0 and by["onem"].delivered >= 2

    wait_for(settled)
    channel, stub = _mutation_stub(mesh, fanout, "admin-ops", admin=True)
    try:
        positions = stub.ListSourcePositions(mutation_pb2.ListSourcePositionsRequest(), timeout=5)
        registry = {p.source: p for p in positions.positions}["registry"]
        assert registry.sequence == registry.source_last_sequence > 0
    finally:
        channel.close()
    channel, stub = _mutation_stub(mesh, fanout, "institution-onem", admin=True)
    try:
        with pytest.raises(grpc.RpcError) as refused:
            stub.ListInstitutionLags(mutation_pb2.ListInstitutionLagsRequest(), timeout=5)
        assert failure(refused.value).reason == "NOT_AUTHORISED"
    finally:
        channel.close()


def test_the_cli_shows_lags_to_operators_and_refuses_institutions(
    mesh: Mesh, fanout: ServiceHost
) -> None:
    from click.testing import CliRunner

    from mutation.cli import cli

    base = ["--target", f"localhost:{fanout.port}", "--pki", str(mesh.pki_dir)]
    shown = CliRunner().invoke(cli, [*base, "lags"])
    assert shown.exit_code == 0, shown.output
    assert "onem" in shown.output and "inbox" in shown.output
    refused = CliRunner().invoke(cli, [*base, "--as", "institution-onem", "lags"])
    assert refused.exit_code == 1
    assert "PERMISSION_DENIED NOT_AUTHORISED" in refused.output
    mine = CliRunner().invoke(cli, [*base, "--as", "institution-onem", "subscription"])
    assert mine.exit_code == 0 and "delivery: INBOX" in mine.output
