"""Fetching descriptors over server reflection from real services on port 0 over mTLS."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from echo.config import Settings
from echo.server import create_server
from router.service.descriptors import ServiceCatalog
from router.transport.reflection import (
    ReflectionError,
    fetch_service_files,
    fetch_service_files_async,
    list_services,
)
from runtime.client import party_tls
from runtime.server import ServiceHost
from runtime.tls import channel_credentials, server_credentials
from tests.support.servers import channel_as, running, service_env

pytestmark = pytest.mark.integration

ECHO = "cbss.echo.v1.EchoService"
REGISTRY = "cbss.registry.v1.RegistryService"


@pytest.fixture
def echo(pki_dir: Path, database_url: str) -> Iterator[ServiceHost]:
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    with running(host):
        yield host


def _names(files: list[bytes]) -> list[str]:
    return [descriptor_pb2.FileDescriptorProto.FromString(f).name for f in files]


def test_catalog_finds_echo_method_when_descriptors_are_fetched_over_reflection(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "router", echo.port) as channel:
        files = fetch_service_files(channel, ECHO, timeout=5)
    # The service's file last, each import before its importer; nothing fetched twice.
    names = _names(files)
    assert names[-1] == "cbss/echo/v1/echo.proto"
    assert len(names) == len(set(names))
    if "cbss/common/v1/options.proto" in names:
        assert names.index("google/protobuf/descriptor.proto") < names.index(
            "cbss/common/v1/options.proto"
        )
    catalog = ServiceCatalog.from_files(files)
    assert catalog.services() == [ECHO]
    info = catalog.method("/cbss.echo.v1.EchoService/Echo")
    assert info is not None
    assert info.subject_paths == () and not info.client_streaming and not info.server_streaming
    assert info.parse_request(b"\x0a\x04ping").payload == b"ping"


def test_stored_files_rebuild_the_catalog_when_the_provider_is_gone(
    pki_dir: Path, database_url: str
) -> None:
    host = create_server(Settings.from_env(service_env(pki_dir, "echo", database_url)))
    with running(host), channel_as(pki_dir, "router", host.port) as channel:
        stored = [bytes(f) for f in fetch_service_files(channel, ECHO, timeout=5)]
    catalog = ServiceCatalog.from_files(stored)
    assert [m.name for m in catalog.methods(ECHO)] == ["Echo", "CreateNote", "GetNote"]


def test_async_fetch_gives_the_same_files_when_run_on_an_aio_channel(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "router", echo.port) as channel:
        expected = fetch_service_files(channel, ECHO, timeout=5)

    async def fetch() -> list[bytes]:
        credentials = channel_credentials(party_tls(pki_dir, "router"))
        async with grpc.aio.secure_channel(f"localhost:{echo.port}", credentials) as channel:
            return await fetch_service_files_async(channel, ECHO, timeout=5)

    assert asyncio.run(fetch()) == expected


def test_reflection_error_when_provider_does_not_know_the_service(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "router", echo.port) as channel:
        with pytest.raises(ReflectionError, match="NOT_FOUND"):
            fetch_service_files(channel, "cbss.nothing.v1.NothingService", timeout=5)


def test_reflection_error_when_provider_is_unreachable(echo: ServiceHost, pki_dir: Path) -> None:
    port = echo.port
    echo.stop(grace=0)
    with channel_as(pki_dir, "router", port) as channel:
        with pytest.raises(ReflectionError, match="UNAVAILABLE"):
            fetch_service_files(channel, ECHO, timeout=2)


def test_list_services_names_the_service_when_provider_serves_reflection(
    echo: ServiceHost, pki_dir: Path
) -> None:
    with channel_as(pki_dir, "router", echo.port) as channel:
        assert ECHO in list_services(channel, timeout=5)


def test_registry_descriptors_carry_the_marks_when_fetched_over_reflection(
    pki_dir: Path, database_url: str
) -> None:
    server = pytest.importorskip("registry.server")
    config = pytest.importorskip("registry.config")
    env = service_env(pki_dir, "registry", database_url)
    host = server.create_server(config.Settings.from_env(env))
    with running(host), channel_as(pki_dir, "router", host.port) as channel:
        files = fetch_service_files(channel, REGISTRY, timeout=5)
    names = _names(files)
    assert names[-1] == "cbss/registry/v1/registry.proto"
    assert names.index("google/protobuf/descriptor.proto") < names.index(
        "cbss/common/v1/options.proto"
    )
    assert {"google/type/date.proto", "google/protobuf/field_mask.proto"} <= set(names)
    get = ServiceCatalog.from_files(files).method(f"/{REGISTRY}/GetPerson")
    assert get is not None
    assert [str(p) for p in get.subject_paths] == ["insz"]
    assert str(get.reference_date_path) == "reference_date"
    assert str(get.read_mask_path) == "read_mask"
    assert "person.insz" in [str(p) for p in get.response_subject_paths]


class _OneFileReflection(reflection_pb2_grpc.ServerReflectionServicer):
    """Reflection as Go and Java servers do it: only the file asked for, never its imports."""

    def __init__(self, lacking: set[str]) -> None:
        self.lacking = lacking
        self.asked: list[str] = []

    def ServerReflectionInfo(
        self, requests: Iterable[reflection_pb2.ServerReflectionRequest], context: object
    ) -> Iterator[reflection_pb2.ServerReflectionResponse]:
        pool = descriptor_pool.Default()
        for request in requests:
            kind = request.WhichOneof("message_request")
            self.asked.append(kind)
            try:
                if kind == "file_containing_symbol":
                    file = pool.FindFileContainingSymbol(request.file_containing_symbol)
                elif request.file_by_filename in self.lacking:
                    raise KeyError(request.file_by_filename)
                else:
                    file = pool.FindFileByName(request.file_by_filename)
            except KeyError:
                yield reflection_pb2.ServerReflectionResponse(
                    original_request=request,
                    error_response=reflection_pb2.ErrorResponse(
                        error_code=grpc.StatusCode.NOT_FOUND.value[0], error_message="not found"
                    ),
                )
                continue
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            yield reflection_pb2.ServerReflectionResponse(
                original_request=request,
                file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                    file_descriptor_proto=[proto.SerializeToString()]
                ),
            )


@contextmanager
def _one_file_provider(
    pki_dir: Path, lacking: set[str]
) -> Iterator[tuple[int, _OneFileReflection]]:
    servicer = _OneFileReflection(lacking)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    port = server.add_secure_port("localhost:0", server_credentials(party_tls(pki_dir, "echo")))
    server.start()
    try:
        yield port, servicer
    finally:
        server.stop(0)


def test_imports_are_asked_for_one_by_one_when_provider_sends_only_the_file_asked(
    pki_dir: Path,
) -> None:
    from cbss.echo.v1 import echo_pb2

    with _one_file_provider(pki_dir, set()) as (port, servicer):
        with channel_as(pki_dir, "router", port) as channel:
            files = fetch_service_files(channel, ECHO, timeout=5)
    expected = [f.name for f in echo_pb2.DESCRIPTOR.dependencies]
    assert servicer.asked == ["file_containing_symbol"] + ["file_by_filename"] * (
        len(_names(files)) - 1
    )
    assert _names(files)[-1] == "cbss/echo/v1/echo.proto"
    assert set(expected) <= set(_names(files))
    assert ServiceCatalog.from_files(files).method("/cbss.echo.v1.EchoService/Echo") is not None


def test_shared_google_file_is_left_to_the_catalog_when_provider_lacks_it(pki_dir: Path) -> None:
    lacking = {"google/protobuf/descriptor.proto"}
    with _one_file_provider(pki_dir, lacking) as (port, _):
        with channel_as(pki_dir, "router", port) as channel:
            files = fetch_service_files(channel, ECHO, timeout=5)
    assert "google/protobuf/descriptor.proto" not in _names(files)
    catalog = ServiceCatalog.from_files(files)
    assert "google/protobuf/descriptor.proto" in _names(list(catalog.files))
    assert catalog.method("/cbss.echo.v1.EchoService/Echo") is not None


def test_reflection_error_when_provider_lacks_an_import_of_its_own(pki_dir: Path) -> None:
    from cbss.echo.v1 import echo_pb2

    own = {f.name for f in echo_pb2.DESCRIPTOR.dependencies if f.name.startswith("cbss/")}
    if not own:
        pytest.skip("echo.proto imports no Carrefour file")
    with _one_file_provider(pki_dir, own) as (port, _):
        with channel_as(pki_dir, "router", port) as channel:
            with pytest.raises(ReflectionError, match="NOT_FOUND for cbss/"):
                fetch_service_files(channel, ECHO, timeout=5)
