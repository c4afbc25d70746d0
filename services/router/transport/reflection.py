"""Fetching a service's file descriptors from its provider over gRPC server reflection (v1alpha).

When a service is registered, the router asks the provider for the file defining the service and
every file it imports, transitively, and stores the serialized `FileDescriptorProto`s: the
descriptor catalog (`router.service.descriptors`) is later rebuilt from the stored bytes without
contacting the provider again.

One `ServerReflectionInfo` stream is used per fetch. It asks for the file containing the service
symbol, then, by file name, for every import not yet received: a Python provider answers with the
whole closure at once, while others (Go, Java) send only files not already sent on the stream, so
the missing ones are asked for explicitly. An import the provider does not know is tolerated
only for Google's shared files (google/protobuf, google/type, google/api, google/rpc), which the
catalog fills in from the router's own copies; any other gap is a `ReflectionError`.

Both a blocking (`fetch_service_files`) and a grpc.aio (`fetch_service_files_async`) version are
given; they share the bookkeeping in `_Fetch`. Nothing here logs descriptor contents.
"""

from __future__ import annotations

import queue
import re
from collections.abc import Iterator

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from router.service.descriptors import DescriptorError, dependency_order

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "ReflectionError",
    "fetch_service_files",
    "fetch_service_files_async",
    "list_services",
]

#: Deadline of one whole fetch (every request on the stream).
DEFAULT_TIMEOUT_SECONDS = 10.0

#: Imports the provider may lack: the catalog takes them from the router's default pool.
_SHARED_FILE = re.compile(r"google/(?:protobuf|type|api|rpc)/[a-z0-9_/]+\.proto")

_Request = reflection_pb2.ServerReflectionRequest
_Response = reflection_pb2.ServerReflectionResponse


class ReflectionError(Exception):
    """The provider's descriptors could not be fetched: unreachable, unknown service, bad reply."""


class _Fetch:
    """The bookkeeping of one fetch, independent of how the stream is driven."""

    def __init__(self, service: str) -> None:
        if not service or "/" in service:
            raise ReflectionError(f"not a full service name: {service!r}")
        self.service = service
        self._files: dict[str, bytes] = {}
        self._imports: dict[str, list[str]] = {}
        self._asked: set[str] = set()
        self._outstanding = 0

    @property
    def done(self) -> bool:
        return self._outstanding == 0

    def first(self) -> _Request:
        self._outstanding = 1
        return _Request(file_containing_symbol=self.service)

    def feed(self, response: _Response) -> list[_Request]:
        """Take one response; returns the requests for the imports still missing."""
        if self._outstanding == 0:
            raise ReflectionError("provider sent a reply that was not asked for")
        self._outstanding -= 1
        kind = response.WhichOneof("message_response")
        original = response.original_request
        if kind == "error_response":
            asked_file = original.WhichOneof("message_request") == "file_by_filename"
            if asked_file and _SHARED_FILE.fullmatch(original.file_by_filename):
                return []  # the catalog fills it in from the router's own copy
            what = original.file_by_filename if asked_file else self.service
            code = _code_name(response.error_response.error_code)
            raise ReflectionError(f"provider answered {code} for {what}")
        if kind != "file_descriptor_response":
            raise ReflectionError(f"unexpected reflection reply {kind!r}")
        for data in response.file_descriptor_response.file_descriptor_proto:
            self._add(data)
        wanted = [
            name
            for imports in self._imports.values()
            for name in imports
            if name not in self._files and name not in self._asked
        ]
        requests = []
        for name in dict.fromkeys(wanted):
            self._asked.add(name)
            requests.append(_Request(file_by_filename=name))
        self._outstanding += len(requests)
        return requests

    def _add(self, data: bytes) -> None:
        try:
            proto = descriptor_pb2.FileDescriptorProto.FromString(data)
        except DecodeError:
            raise ReflectionError(
                "provider sent a file that is not a FileDescriptorProto"
            ) from None
        known = self._files.get(proto.name)
        if known is None:
            self._files[proto.name] = data
            self._imports[proto.name] = list(proto.dependency)
        elif known != data and descriptor_pb2.FileDescriptorProto.FromString(known) != proto:
            raise ReflectionError(f"provider sent two versions of {proto.name}")

    def result(self) -> list[bytes]:
        """The files, dependencies first, after checking that they define the service."""
        package, _, name = self.service.rpartition(".")
        defines = any(
            proto.package == package and any(s.name == name for s in proto.service)
            for proto in map(descriptor_pb2.FileDescriptorProto.FromString, self._files.values())
        )
        if not defines:
            raise ReflectionError(f"no file sent by the provider defines {self.service}")
        try:
            return dependency_order(list(self._files.values()))
        except DescriptorError as exc:
            raise ReflectionError(f"provider sent inconsistent files: {exc}") from exc


def _code_name(number: int) -> str:
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code.name
    return f"status {number}"


def _rpc_failure(exc: grpc.RpcError, service: str) -> ReflectionError:
    code = exc.code() if isinstance(exc, grpc.Call) else None
    name = code.name if code is not None else "an error"
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return ReflectionError(f"provider of {service} does not serve reflection v1alpha")
    return ReflectionError(f"reflection call for {service} failed with {name}")


def fetch_service_files(
    channel: grpc.Channel, service: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> list[bytes]:
    """The serialized files of `service` and all its imports, dependencies first.

    `channel` reaches the provider (mTLS, presenting the router's certificate). Raises
    `ReflectionError` when the call fails, the provider does not know the service, or its
    answer is incomplete or inconsistent.
    """
    fetch = _Fetch(service)
    # The request stream is consumed by gRPC on its own thread: a queue lets requests for missing
    # imports be sent on the same stream once the answers naming them arrive.
    outbox: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
    outbox.put(fetch.first())

    def requests() -> Iterator[_Request]:
        while (request := outbox.get()) is not None:
            yield request

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(requests(), timeout=timeout)
    completed = False
    try:
        for response in responses:
            for request in fetch.feed(response):
                outbox.put(request)
            if fetch.done:
                outbox.put(None)  # half-close: the provider then ends the stream with OK
        completed = fetch.done
    except grpc.RpcError as exc:
        raise _rpc_failure(exc, service) from exc
    finally:
        if not completed:
            outbox.put(None)
            responses.cancel()
    if not completed:
        raise ReflectionError(f"reflection stream for {service} ended early")
    return fetch.result()


async def fetch_service_files_async(
    channel: grpc.aio.Channel, service: str, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> list[bytes]:
    """As `fetch_service_files`, on a grpc.aio channel."""
    fetch = _Fetch(service)
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(timeout=timeout)
    completed = False
    try:
        await call.write(fetch.first())
        while not fetch.done:
            response = await call.read()
            if response is grpc.aio.EOF:
                raise ReflectionError(f"reflection stream for {service} ended early")
            for request in fetch.feed(response):
                await call.write(request)
        await call.done_writing()
        if await call.read() is not grpc.aio.EOF:
            raise ReflectionError("provider sent a reply that was not asked for")
        completed = True
    except grpc.RpcError as exc:
        raise _rpc_failure(exc, service) from exc
    finally:
        if not completed:
            call.cancel()
    return fetch.result()


def list_services(channel: grpc.Channel, *, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> list[str]:
    """The service names a provider lists over reflection (its own, health, reflection), sorted."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    try:
        responses = list(
            stub.ServerReflectionInfo(iter([_Request(list_services="")]), timeout=timeout)
        )
    except grpc.RpcError as exc:
        raise _rpc_failure(exc, "list_services") from exc
    return sorted(s.name for r in responses for s in r.list_services_response.service)
