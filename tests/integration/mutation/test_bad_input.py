"""Bad input to the mutation service's and the router's new fan-out RPCs: a clear status with a
machine-readable reason, never INTERNAL, and nothing written."""

from __future__ import annotations

import grpc
import pytest

from cbss.common.v1 import types_pb2
from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from registry.seed.population import FIXED_MAN
from runtime.client import failure, party_tls, secure_channel, server_name
from runtime.server import ServiceHost
from tests.integration.inbox.conftest import Mesh

pytestmark = pytest.mark.integration

DAY = {"year": 2026, "month": 5, "day": 4}


def _directory(mesh: Mesh, party: str):  # noqa: ANN202
    channel = secure_channel(
        f"localhost:{mesh.port('router')}",
        party_tls(mesh.pki_dir, party),
        **server_name("spiffe://carrefour.local/router/cbss"),
    )
    return channel, directory_pb2_grpc.DirectoryServiceStub(channel)


def _refused(call, request) -> tuple[grpc.StatusCode, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as refused:
        call(request, timeout=10)
    info = failure(refused.value)
    return info.code, info.reason


def _query(insz: str, start: dict | None = DAY, end: dict | None = DAY):  # noqa: ANN202
    return directory_pb2.HolderQuery(
        insz=insz, period=types_pb2.Period(start_date=start, end_date=end)
    )


def test_only_the_mutation_service_may_ask_holders_or_move_entries(mesh: Mesh) -> None:
    channel, stub = _directory(mesh, "institution-onem")
    try:
        request = directory_pb2.ListSubjectHoldersRequest(subjects=[_query(FIXED_MAN)])
        assert _refused(stub.ListSubjectHolders, request) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_AUTHORISED",
        )
        move = directory_pb2.MoveSubjectEntriesRequest(old_insz=FIXED_MAN, new_insz="85071412429")
        assert _refused(stub.MoveSubjectEntries, move) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_AUTHORISED",
        )
    finally:
        channel.close()


@pytest.mark.parametrize(
    ("subjects", "reason"),
    [
        ([], "INVALID_BATCH"),
        ([_query("85071412331")], "INSZ_CHECK_DIGITS"),
        ([_query(FIXED_MAN, end=None)], "INVALID_PERIOD"),
        ([_query(FIXED_MAN, start={"year": 2026, "month": 6, "day": 1})], "INVALID_PERIOD"),
        ([_query(FIXED_MAN, start={"year": 2026, "month": 2, "day": 30})], ""),
    ],
)
def test_holder_queries_are_checked_when_malformed(mesh: Mesh, subjects: list, reason: str) -> None:
    channel, stub = _directory(mesh, "institution-cbss")
    try:
        request = directory_pb2.ListSubjectHoldersRequest(subjects=subjects)
        code, got = _refused(stub.ListSubjectHolders, request)
        assert code is grpc.StatusCode.INVALID_ARGUMENT
        assert got == reason if reason else got
    finally:
        channel.close()


def test_the_mutation_service_sees_every_holder_over_the_period(mesh: Mesh) -> None:
    channel, stub = _directory(mesh, "institution-cbss")
    try:
        reply = stub.ListSubjectHolders(
            directory_pb2.ListSubjectHoldersRequest(subjects=[_query(FIXED_MAN)]), timeout=10
        )
    finally:
        channel.close()
    held = {(h.entry.institution, h.entry.capacity.sector) for h in reply.holders}
    assert {("onem", 18), ("cin", 11), ("inami", 11)} <= held
    assert {h.subject_index for h in reply.holders} == {0}


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (FIXED_MAN, FIXED_MAN, "SAME_INSZ"),
        ("123", FIXED_MAN, "INSZ_MALFORMED"),
        (FIXED_MAN, "85071412331", "INSZ_CHECK_DIGITS"),
    ],
)
def test_a_move_of_entries_is_checked_when_malformed(
    mesh: Mesh, old: str, new: str, reason: str
) -> None:
    channel, stub = _directory(mesh, "institution-cbss")
    try:
        move = directory_pb2.MoveSubjectEntriesRequest(old_insz=old, new_insz=new)
        assert _refused(stub.MoveSubjectEntries, move) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            reason,
        )
    finally:
        channel.close()


@pytest.mark.parametrize(
    ("grant", "reason"),
    [
        (dict(event_type="person.nothing"), "UNKNOWN_EVENT_TYPE"),
        (dict(capacities=["eleven"]), "INVALID_CAPACITY"),
        (dict(capacities=[]), "INVALID_CAPACITY"),
        (dict(institution="Not An Id"), "INVALID_INSTITUTION"),
        (dict(deliberation=" "), "DELIBERATION_REQUIRED"),
        (dict(valid_to={"year": 2019, "month": 1, "day": 1}), "INVALID_VALIDITY"),
        (dict(valid_from={"year": 2026, "month": 2, "day": 30}), "INVALID_VALIDITY"),
        (dict(valid_from=None), "INVALID_VALIDITY"),
    ],
)
def test_a_grant_is_refused_whole_when_malformed(
    mesh: Mesh, fanout: ServiceHost, grant: dict, reason: str
) -> None:
    fields = {
        "institution": "inami",
        "event_type": "person.address-changed",
        "capacities": ["11/2"],
        "deliberation": "ISC/26/100",
        "valid_from": {"year": 2020, "month": 1, "day": 1},
        **grant,
    }
    channel = secure_channel(
        f"localhost:{fanout.port}",
        party_tls(mesh.pki_dir, "admin-ops"),
        **server_name("spiffe://carrefour.local/institution/cbss"),
    )
    stub = mutation_pb2_grpc.MutationAdminServiceStub(channel)
    try:
        request = mutation_pb2.GrantEventTypeRequest(grant=mutation_pb2.EventTypeGrant(**fields))
        assert _refused(stub.GrantEventType, request) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
        listed = stub.ListEventTypeGrants(
            mutation_pb2.ListEventTypeGrantsRequest(institution="inami"), timeout=10
        )
        assert list(listed.grants) == []  # nothing written
    finally:
        channel.close()
