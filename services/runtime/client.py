"""Calling a Carrefour service: mTLS channels, deadlines, and reading rich error details."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from opentelemetry import propagate

from runtime import tls
from runtime.config import TlsFiles

#: Every outgoing call has a deadline; this one unless the caller has a better reason.
DEFAULT_TIMEOUT_SECONDS = 10.0


def party_tls(pki_dir: Path | str, name: str) -> TlsFiles:
    """The TLS files of a party of the development PKI, by file stem (e.g. `institution-onem`)."""
    pki = Path(pki_dir)
    return TlsFiles(cert=pki / f"{name}.pem", key=pki / f"{name}.key", ca=pki / "ca.pem")


def server_name(party_uri: str) -> dict[str, str]:
    """Channel options that make the TLS handshake fail unless the server is `party_uri`.

    Every certificate of the mesh carries its party's name as a DNS SAN (runtime.pki); using it
    as the target name turns gRPC's hostname check into a check of the server's identity.
    """
    from runtime.pki import party_host

    return {"grpc.ssl_target_name_override": party_host(party_uri)}


class _CallDetails(
    collections.namedtuple(
        "_CallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class TracePropagation(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the current trace context (W3C headers, from the OpenTelemetry propagator) to
    every call, so that the callee's server span joins the caller's trace.

    Not the opentelemetry-instrumentation-grpc client interceptor: that one goes through its
    own channel wrapper, which turns server-streaming calls into plain generators (no
    `trailing_metadata()`, no `cancel()`), and it costs more CPU per call than a forward.
    """

    @staticmethod
    def _details(details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        headers = trace_headers()
        if not headers:
            return details
        return _CallDetails(
            details.method,
            details.timeout,
            [*(details.metadata or ()), *headers],
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation, details, request):  # noqa: ANN001, ANN201
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # noqa: ANN001, ANN201
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):  # noqa: ANN001, ANN201
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):  # noqa: ANN001, ANN201
        return continuation(self._details(details), requests)


def secure_channel(
    target: str, files: TlsFiles, *, traced: bool = True, **options: object
) -> grpc.Channel:
    """An mTLS channel to `target` (host:port) presenting the party's certificate.

    Calls made on it carry the current trace context (`TracePropagation`). `traced=False` gives
    a plain channel for hot paths that add the headers themselves with `trace_headers()`.
    """
    opts = [("grpc.max_receive_message_length", 16 * 1024 * 1024), *options.items()]
    channel = grpc.secure_channel(target, tls.channel_credentials(files), options=opts)
    if not traced:
        return channel
    return grpc.intercept_channel(channel, TracePropagation())


def trace_headers() -> list[tuple[str, str]]:
    """The current trace context as gRPC metadata (W3C traceparent / tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return list(carrier.items())


@dataclass(frozen=True)
class RpcFailure:
    """A failed call as a program reads it: code, ErrorInfo reason, metadata, bad fields."""

    code: grpc.StatusCode
    message: str
    reason: str
    domain: str
    metadata: dict[str, str]
    field_violations: dict[str, str]
    #: PreconditionFailure violations as (type, subject, description).
    preconditions: tuple[tuple[str, str, str], ...] = ()


def failure(error: grpc.RpcError) -> RpcFailure:
    """Unpack a grpc.RpcError's `google.rpc.Status` details."""
    call: grpc.Call = error  # type: ignore[assignment]
    reason, domain, metadata, fields = "", "", {}, {}
    preconditions: tuple[tuple[str, str, str], ...] = ()
    status = rpc_status.from_call(call)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields = {v.field: v.description for v in bad.field_violations}
            elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
                pre = error_details_pb2.PreconditionFailure()
                detail.Unpack(pre)
                preconditions = tuple((v.type, v.subject, v.description) for v in pre.violations)
    return RpcFailure(
        call.code(), call.details() or "", reason, domain, metadata, fields, preconditions
    )


def refused_subjects(info: RpcFailure, field: str = "inszs") -> list[tuple[int, str]] | None:
    """The router's per-person refusals of a batch (`SUBJECTS_REFUSED`): (index in the request's
    repeated `field`, reason) for each PreconditionFailure violation whose subject is
    `field[i]`. None when the failure is not such a refusal, or names a subject it should not
    (the caller then treats the whole call as failed)."""
    if info.reason != "SUBJECTS_REFUSED":
        return None
    prefix = f"{field}["
    found = []
    for reason, subject, _description in info.preconditions:
        digits = subject[len(prefix) : -1]
        if not (subject.startswith(prefix) and subject.endswith("]") and digits.isdigit()):
            return None
        found.append((int(digits), reason))
    return found
