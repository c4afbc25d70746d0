"""The shared runtime, exercised through the echo service on real ports over mTLS."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from cbss.echo.v1 import echo_pb2, echo_pb2_grpc
from echo.config import Settings
from echo.server import create_server
from runtime import pki
from runtime.client import failure, party_tls
from runtime.config import TlsFiles
from runtime.server import Registration, ServiceHost
from tests.support.databases import postgres_url
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def echo(pki_dir: Path, database_url: str):
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    with running(host):
        yield host


def _echo(channel: grpc.Channel, **kw) -> echo_pb2.EchoResponse:
    return echo_pb2_grpc.EchoServiceStub(channel).Echo(echo_pb2.EchoRequest(**kw), timeout=5)


def _health(channel: grpc.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_caller_is_read_from_certificate_when_mtls(echo: ServiceHost, pki_dir: Path) -> None:
    with channel_as(pki_dir, "institution-onem", echo.port) as channel:
        reply = _echo(channel, payload=b"ping")
    assert reply.payload == b"ping"
    assert reply.caller == "spiffe://carrefour.local/institution/onem"


def test_call_is_refused_when_client_presents_no_certificate(
    echo: ServiceHost, pki_dir: Path
) -> None:
    creds = grpc.ssl_channel_credentials(root_certificates=(pki_dir / "ca.pem").read_bytes())
    with grpc.secure_channel(f"localhost:{echo.port}", creds) as channel:
        with pytest.raises(grpc.RpcError) as err:
            _echo(channel, payload=b"x")
    # gRPC reports a refused handshake as UNAVAILABLE (see VERIFIED.md).
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE


def test_call_is_refused_when_certificate_comes_from_another_ca(
    echo: ServiceHost, pki_dir: Path, tmp_path: Path
) -> None:
    foreign = pki.create_ca("Not the mesh's CA")
    pem, key = pki.issue(foreign, "spiffe://carrefour.local/admin/ops")
    (tmp_path / "x.pem").write_bytes(pem)
    (tmp_path / "x.key").write_bytes(key)
    files = TlsFiles(tmp_path / "x.pem", tmp_path / "x.key", pki_dir / "ca.pem")
    from runtime.client import secure_channel

    with secure_channel(f"localhost:{echo.port}", files) as channel:
        with pytest.raises(grpc.RpcError) as err:
            _echo(channel, payload=b"x")
    assert err.value.code() is grpc.StatusCode.UNAVAILABLE


def test_call_is_unauthenticated_when_certificate_names_no_party(
    echo: ServiceHost, pki_dir: Path, tmp_path: Path
) -> None:
    ca = pki.load_or_create_ca(pki_dir)
    pem, key = pki.issue(ca, "spiffe://elsewhere.example/institution/onem")
    (tmp_path / "x.pem").write_bytes(pem)
    (tmp_path / "x.key").write_bytes(key)
    from runtime.client import secure_channel

    files = TlsFiles(tmp_path / "x.pem", tmp_path / "x.key", pki_dir / "ca.pem")
    with secure_channel(f"localhost:{echo.port}", files) as channel:
        with pytest.raises(grpc.RpcError) as err:
            _echo(channel, payload=b"x")
    assert failure(err.value).code is grpc.StatusCode.UNAUTHENTICATED
    assert failure(err.value).reason == "UNKNOWN_PARTY"


@pytest.mark.parametrize(
    "header",
    [
        "x-forwarded-client-cert",
        "x-caller",
        "x-spiffe-id",
    ],
)
def test_identity_claimed_in_metadata_is_ignored_when_peer_is_not_the_gateway(
    echo: ServiceHost, pki_dir: Path, header: str
) -> None:
    forged = 'Hash=abc;URI=spiffe://carrefour.local/admin/ops;Subject="CN=ops"'
    with channel_as(pki_dir, "institution-onem", echo.port) as channel:
        reply = echo_pb2_grpc.EchoServiceStub(channel).Echo(
            echo_pb2.EchoRequest(payload=b"x"), metadata=[(header, forged)], timeout=5
        )
    assert reply.caller == "spiffe://carrefour.local/institution/onem"


def test_forwarded_identity_is_used_when_peer_is_the_gateway(
    echo: ServiceHost, pki_dir: Path
) -> None:
    xfcc = 'Hash=abc;Subject="CN=x, O=\\"a;b\\"";URI=spiffe://carrefour.local/employer/000935467'
    with channel_as(pki_dir, "gateway", echo.port) as channel:
        stub = echo_pb2_grpc.EchoServiceStub(channel)
        forwarded = stub.Echo(
            echo_pb2.EchoRequest(), metadata=[("x-forwarded-client-cert", xfcc)], timeout=5
        )
        direct = stub.Echo(echo_pb2.EchoRequest(), timeout=5)
    assert forwarded.caller == "spiffe://carrefour.local/employer/000935467"
    assert direct.caller == "spiffe://carrefour.local/gateway"


def test_gateway_call_is_unauthenticated_when_forwarded_identity_is_invalid(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "gateway", echo.port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            echo_pb2_grpc.EchoServiceStub(channel).Echo(
                echo_pb2.EchoRequest(),
                metadata=[
                    ("x-forwarded-client-cert", "Hash=abc;URI=spiffe://carrefour.local/gateway")
                ],
                timeout=5,
            )
    assert failure(err.value).reason == "UNKNOWN_PARTY"


def test_health_and_reflection_are_served_when_database_answers(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "admin-ops", echo.port) as channel:
        assert _health(channel) == SERVING
        assert _health(channel, "cbss.echo.v1.EchoService") == SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5
        )
        names = {s.name for r in replies for s in r.list_services_response.service}
    assert {"cbss.echo.v1.EchoService", "grpc.health.v1.Health"} <= names


def test_health_goes_not_serving_when_database_becomes_unreachable(
    pki_dir: Path, database_url: str
) -> None:
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    with running(host), channel_as(pki_dir, "admin-ops", host.port) as channel:
        assert _health(channel) == SERVING
        _make_database_unreachable(database_url)
        statuses = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="cbss.echo.v1.EchoService"), timeout=10
        )
        for reply in statuses:  # Watch streams changes: no sleeping and hoping
            if reply.status == NOT_SERVING:
                break
        assert _health(channel) == NOT_SERVING


def _make_database_unreachable(url: str) -> None:
    if postgres_url() is None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = sa.create_engine(postgres_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def test_health_is_not_serving_when_database_never_answers(pki_dir: Path, tmp_path: Path) -> None:
    settings = Settings.from_env(service_env(pki_dir, "echo", f"sqlite:///{tmp_path}/x.db"))
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[],
        readiness=lambda: False,
    )
    with running(host), channel_as(pki_dir, "admin-ops", host.port) as channel:
        assert _health(channel) == NOT_SERVING


def test_unexpected_exception_is_internal_without_details_when_handler_fails(
    pki_dir: Path, tmp_path: Path
) -> None:
    def boom(request: bytes, context: grpc.ServicerContext) -> bytes:
        raise RuntimeError("secret detail 85071412330")

    handler = grpc.method_handlers_generic_handler(
        "test.Boom", {"Boom": grpc.unary_unary_rpc_method_handler(boom)}
    )
    settings = Settings.from_env(service_env(pki_dir, "echo", f"sqlite:///{tmp_path}/x.db"))
    host = ServiceHost(
        settings=settings.runtime,
        registrations=[
            Registration(
                lambda _s, server: server.add_generic_rpc_handlers([handler]),
                None,
                "test.Boom",
                access="DIRECT",
            )
        ],
    )
    with running(host), channel_as(pki_dir, "admin-ops", host.port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            channel.unary_unary("/test.Boom/Boom")(b"", timeout=5)
    info = failure(err.value)
    assert info.code is grpc.StatusCode.INTERNAL
    assert info.reason == "INTERNAL"
    assert "secret" not in info.message and "85071412330" not in info.message


def test_service_errors_carry_reason_and_field_violations(echo: ServiceHost, pki_dir: Path) -> None:
    with channel_as(pki_dir, "institution-onem", echo.port) as channel:
        stub = echo_pb2_grpc.EchoServiceStub(channel)
        with pytest.raises(grpc.RpcError) as bad:
            stub.CreateNote(echo_pb2.CreateNoteRequest(request_id="no spaces"), timeout=5)
        with pytest.raises(grpc.RpcError) as missing:
            stub.GetNote(echo_pb2.GetNoteRequest(name="notes/" + "a" * 32), timeout=5)
        with pytest.raises(grpc.RpcError) as garbage:
            channel.unary_unary("/cbss.echo.v1.EchoService/CreateNote")(b"\x0a\xff", timeout=5)
    assert failure(bad.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert set(failure(bad.value).field_violations) == {"request_id", "note.text"}
    assert failure(bad.value).domain == "echo.cbss"
    assert failure(missing.value).code is grpc.StatusCode.NOT_FOUND
    assert failure(missing.value).reason == "NOTE_NOT_FOUND"
    assert failure(garbage.value).code is grpc.StatusCode.INVALID_ARGUMENT
    assert failure(garbage.value).reason == "MALFORMED_MESSAGE"


def test_idempotency_key_reuse_is_already_exists_when_content_differs(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "institution-onem", echo.port) as channel:
        stub = echo_pb2_grpc.EchoServiceStub(channel)

        def create(text: str) -> echo_pb2.CreateNoteResponse:
            return stub.CreateNote(
                echo_pb2.CreateNoteRequest(request_id="k-1", note=echo_pb2.Note(text=text)),
                timeout=5,
            )

        first, again = create("hello"), create("hello")
        with pytest.raises(grpc.RpcError) as err:
            create("other")
        fetched = stub.GetNote(echo_pb2.GetNoteRequest(name=first.note.name), timeout=5)
    assert again.note == first.note
    assert fetched.note.text == "hello"
    assert failure(err.value).code is grpc.StatusCode.ALREADY_EXISTS
    assert failure(err.value).reason == "IDEMPOTENCY_KEY_REUSED"


def test_idempotent_create_stores_one_note_when_called_concurrently(
    echo: ServiceHost, pki_dir: Path
) -> None:
    names: list[str] = []
    errors: list[Exception] = []

    def create() -> None:
        try:
            with channel_as(pki_dir, "institution-inami", echo.port) as channel:
                reply = echo_pb2_grpc.EchoServiceStub(channel).CreateNote(
                    echo_pb2.CreateNoteRequest(request_id="same", note=echo_pb2.Note(text="t")),
                    timeout=10,
                )
            names.append(reply.note.name)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(names)) == 1 and len(names) == 8


def test_deadline_is_exceeded_when_call_outlives_it(echo: ServiceHost, pki_dir: Path) -> None:
    with channel_as(pki_dir, "institution-onem", echo.port) as channel:
        with pytest.raises(grpc.RpcError) as err:
            echo_pb2_grpc.EchoServiceStub(channel).Echo(
                echo_pb2.EchoRequest(delay_ms=2000), timeout=0.2
            )
    assert err.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED


def test_party_tls_points_at_the_named_files(pki_dir: Path) -> None:
    files = party_tls(pki_dir, "institution-onem")
    assert files.cert.is_file() and files.key.is_file() and files.ca.is_file()
    assert os.stat(files.key).st_mode & 0o077 == 0  # private keys are not world-readable


def test_probe_port_serves_only_health_in_plaintext(pki_dir: Path, database_url: str) -> None:
    """Kubernetes' native gRPC probe has no client certificate: PROBE_PORT answers it the
    service's health, and nothing else."""
    host = create_server(
        Settings.from_env(service_env(pki_dir, "echo", database_url, PROBE_PORT="0"))
    )
    assert host.probe_port == 0  # PROBE_PORT=0: no probe server
    from tests.support.edge import free_port

    host = create_server(
        Settings.from_env(service_env(pki_dir, "echo", database_url, PROBE_PORT=str(free_port())))
    )
    with running(host), grpc.insecure_channel(f"127.0.0.1:{host.probe_port}") as channel:
        assert _health(channel) == SERVING
        assert _health(channel, "cbss.echo.v1.EchoService") == SERVING
        with pytest.raises(grpc.RpcError) as caught:
            _echo(channel, payload=b"x")
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
