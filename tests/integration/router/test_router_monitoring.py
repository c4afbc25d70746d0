"""The router's operational monitoring: traffic per institution, read from its message log."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from click.testing import CliRunner
from google.protobuf import field_mask_pb2

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import message_log_pb2, message_log_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from router.cli import cli
from runtime.client import failure
from tests.integration.router.conftest import Network, integrate, routed

pytestmark = pytest.mark.integration

ONEM = "spiffe://carrefour.local/institution/onem"


def _request(minutes: int = 60) -> message_log_pb2.GetTrafficStatisticsRequest:
    request = message_log_pb2.GetTrafficStatisticsRequest()
    request.start_time.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes))
    return request


def _onem(network: Network) -> message_log_pb2.InstitutionTraffic:
    with network.channel("admin-ops") as channel:
        reply = message_log_pb2_grpc.MessageLogServiceStub(channel).GetTrafficStatistics(
            _request(), timeout=10
        )
    return next(t for t in reply.institutions if t.requester == ONEM)


def test_traffic_counts_an_institutions_messages_refusals_and_latency(network: Network) -> None:
    integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
    before = _onem(network) if _has_onem(network) else message_log_pb2.InstitutionTraffic()
    mask = field_mask_pb2.FieldMask(paths=["identity"])
    with network.channel("institution-onem") as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        for _ in range(3):
            stub.GetPerson(
                registry_pb2.GetPersonRequest(insz=FIXED_MAN, read_mask=mask),
                metadata=routed(),
                timeout=10,
            )
        with pytest.raises(grpc.RpcError):  # ONEM does not hold this person
            stub.GetPerson(
                registry_pb2.GetPersonRequest(insz=FIXED_WOMAN, read_mask=mask),
                metadata=routed(),
                timeout=10,
            )
    after = _onem(network)
    assert after.forwarded - before.forwarded == 3
    assert after.refused - before.refused == 1
    assert after.messages == after.forwarded + after.refused + after.failed
    assert sum(after.refusals_by_reason.values()) == after.refused
    assert after.refusals_by_reason["SUBJECT_NOT_INTEGRATED"] >= 1
    assert 0 < after.latency_p50_ms <= after.latency_p99_ms


def _has_onem(network: Network) -> bool:
    with network.channel("admin-ops") as channel:
        reply = message_log_pb2_grpc.MessageLogServiceStub(channel).GetTrafficStatistics(
            _request(), timeout=10
        )
    return any(t.requester == ONEM for t in reply.institutions)


def test_an_institution_may_not_read_the_routers_monitoring(network: Network) -> None:
    with network.channel("institution-onem") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            message_log_pb2_grpc.MessageLogServiceStub(channel).GetTrafficStatistics(
                _request(), timeout=10
            )
    assert (failure(caught.value).code, failure(caught.value).reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_AUTHORISED",
    )


def test_a_window_over_a_week_is_invalid_argument(network: Network) -> None:
    with network.channel("admin-ops") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            message_log_pb2_grpc.MessageLogServiceStub(channel).GetTrafficStatistics(
                _request(minutes=8 * 24 * 60), timeout=10
            )
    assert failure(caught.value).reason == "WINDOW_TOO_LONG"


def test_the_cli_prints_the_traffic_as_a_table(network: Network) -> None:
    integrate(network, "institution-onem", [FIXED_MAN], 18, 1)
    with network.channel("institution-onem") as channel:
        registry_pb2_grpc.RegistryServiceStub(channel).GetPerson(
            registry_pb2.GetPersonRequest(
                insz=FIXED_MAN, read_mask=field_mask_pb2.FieldMask(paths=["identity"])
            ),
            metadata=routed(),
            timeout=10,
        )
    target = ["--target", f"localhost:{network.router.port}", "--pki", str(network.pki_dir)]
    result = CliRunner().invoke(cli, [*target, "traffic", "--last", "1h"])
    assert result.exit_code == 0, result.output
    assert "institution/onem" in result.output
    assert "p99 ms" in result.output
    assert FIXED_MAN not in result.output
    bad = CliRunner().invoke(cli, [*target, "traffic", "--last", "soon"])
    assert bad.exit_code != 0
    assert "INVALID_PERIOD" in bad.output
