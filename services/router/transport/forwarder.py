"""The crossroads itself: a catch-all gRPC handler that checks, forwards and logs consultations.

A caller uses the ordinary generated stub of the target service on a channel to the router and
adds metadata: `cbss-legal-context` (required), `cbss-customer-ticket` and `cbss-destination`
(optional). The router forwards the request bytes to the holder and the reply bytes back — no
per-service code: what a message is about is read from the descriptors learned at registration.

Only the router's own routing headers travel to the holder (the caller's metadata is not copied,
so a caller can never forge `cbss-requester`), with the trace context as W3C headers. The
caller always gets the router's ticket (`cbss-ticket`), on success and on refusal, in the
trailing metadata (a stream's caller also in the initial metadata; runtime.identity.router_ticket
reads it). Every message and every refusal is in the message log, durably, before the reply
leaves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from opentelemetry import trace

from router.service.checks import (
    SELF_SERVICE_LEGAL_CONTEXT,
    Authorised,
    Decision,
    Refused,
    RouteChecker,
    RouteRequest,
)
from router.service.descriptors import MessageDecodeError
from router.service.message_log import LogEntry
from router.service.refusals import refusal
from runtime import faults, identity
from runtime.client import secure_channel, server_name, trace_headers
from runtime.config import TlsFiles
from runtime.errors import ServiceError
from runtime.identity import TRUST_DOMAIN

logger = logging.getLogger(__name__)

DECEASED_HEADER = "cbss-subject-deceased"
PARTIAL_HEADER = "cbss-partial"  # a fan-out reply missing some holders' answers
FAILED_HOLDERS_HEADER = "cbss-failed-holders"
_OWN_PREFIXES = ("/cbss.router.v1.", "/grpc.")
_PASS_TRAILERS = ("grpc-status-details-bin",)


#: A unary call that came without a deadline (a REST request the edge transcoded, a client that
#: sets none) still never holds a router thread forever: the holder gets this long, the edge's
#: longest route timeout.
NO_DEADLINE_UNARY_SECONDS = 60.0
#: grpc reports "no deadline" as a remaining time of about 9.2e18 s, which no channel accepts
#: as a timeout (the call fails at once with DEADLINE_EXCEEDED): anything beyond a day is none.
_NO_DEADLINE = 86_400.0


def holder_timeout(context: grpc.ServicerContext, *, stream: bool = False) -> float | None:
    """The caller's deadline, passed on to the holder. Without one: a unary call gets
    NO_DEADLINE_UNARY_SECONDS, a stream none (it lasts as long as its caller keeps it)."""
    remaining = context.time_remaining()
    if remaining is None or remaining > _NO_DEADLINE:
        return None if stream else NO_DEADLINE_UNARY_SECONDS
    return remaining


def _add_trailers(context: grpc.ServicerContext, *pairs: tuple[str, str]) -> None:
    """Add to the call's trailing metadata (grpc's setter replaces it: the ticket set on
    arrival must stay)."""
    kept = context.trailing_metadata() or ()  # type: ignore[attr-defined]
    context.set_trailing_metadata([*kept, *pairs])


class ChannelPool:
    """One mTLS channel per holder, made on first use and kept.

    The handshake requires the holder's certificate to name the provider institution (see
    runtime.client.server_name): an endpoint registered for `mut-100` that answers with another
    party's certificate gets nothing.
    """

    def __init__(self, tls: TlsFiles) -> None:
        self._tls = tls
        self._channels: dict[tuple[str, str], grpc.Channel] = {}
        self._lock = threading.Lock()

    def get(self, endpoint: str, provider: str, via_router: str = "") -> grpc.Channel:
        """The channel to `provider` at `endpoint`; `via_router`: the provider is a network
        reached through its hub, whose certificate is `router/<via_router>`."""
        key = (endpoint, provider)
        channel = self._channels.get(key)
        if channel is None:
            with self._lock:
                channel = self._channels.get(key)
                if channel is None:
                    channel = secure_channel(
                        endpoint,
                        self._tls,
                        traced=False,
                        **server_name(
                            f"spiffe://{TRUST_DOMAIN}/router/{via_router}"
                            if via_router
                            else f"spiffe://{TRUST_DOMAIN}/institution/{provider}"
                        ),
                    )
                    self._channels[key] = channel
        return channel

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()


class InFlight:
    """How many routed messages are between arrival and reply (the message log's group commit
    waits for its siblings only when there are some)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def count(self) -> int:
        return self._count

    def __enter__(self) -> None:
        with self._lock:
            self._count += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._count -= 1


class Forwarder(grpc.GenericRpcHandler):
    """Answers every method of every registered service by checking and forwarding it."""

    def __init__(
        self,
        checker: RouteChecker,
        submit_log: Callable[[list[LogEntry]], Any],
        channels: ChannelPool,
        streaming: Callable[[str], bool | None],
        now: Callable[[], dt.datetime],
        upstream: str = "",
        in_flight: InFlight | None = None,
    ) -> None:
        """`upstream`: for a hub, the name of the router whose forwarded calls it accepts
        (`router/<upstream>`); a router without one accepts no forwarded calls."""
        self._checker, self._submit, self._channels = checker, submit_log, channels
        self._streaming, self._now, self._upstream = streaming, now, upstream
        # Counting costs a lock per message: only when someone reads the count.
        self._in_flight = in_flight if in_flight is not None else contextlib.nullcontext()

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        path = details.method
        if not path.startswith("/") or path.startswith(_OWN_PREFIXES):
            return None
        if self._streaming(path):
            return grpc.unary_stream_rpc_method_handler(
                lambda raw, ctx: self._stream(path, raw, ctx)
            )
        return grpc.unary_unary_rpc_method_handler(lambda raw, ctx: self._counted(path, raw, ctx))

    def _counted(self, path: str, raw: bytes, context: grpc.ServicerContext) -> bytes:
        with self._in_flight:
            return self._unary(path, raw, context)

    # -- checks shared by both call kinds -----------------------------------------------------
    def _admit(
        self, path: str, raw: bytes, context: grpc.ServicerContext, *, stream: bool = False
    ) -> tuple[RouteRequest, Decision, float]:
        start = time.perf_counter()
        ticket = str(uuid.uuid4())
        # The ticket rides in the trailing metadata, which leaves with the status (a refusal
        # keeps it: runtime.interceptors). Initial metadata sent on its own is one more write
        # and completion per message (≈ 7 % of the router's CPU): only a stream, whose caller
        # may read for a long time before the status, gets the ticket up front as well.
        context.set_trailing_metadata([(identity.TICKET_HEADER, ticket)])
        if stream:
            context.send_initial_metadata([(identity.TICKET_HEADER, ticket)])
        md: dict[str, str] = {}
        for key, value in context.invocation_metadata() or ():
            md.setdefault(key, value)
        caller = identity.current_caller()
        via_hub = ""
        if caller.kind is identity.PartyKind.ROUTER:
            # Forwarded by another router: the end institution travels in the routing headers,
            # trusted only from (a) this hub's upstream router, calling down, or (b) the hub of
            # member institutions registered here, relaying one of *its members'* own calls up
            # (the checks refuse any other requester it names). Any other router of the mesh
            # is refused. The end institution is the caller for this router's own checks and
            # logs; an unusable header set is refused.
            downward = bool(self._upstream) and caller.id == self._upstream
            if not downward:
                if not self._checker.is_hub(caller.id):
                    raise refusal("UNKNOWN_INSTITUTION")
                via_hub = caller.id
            try:
                caller = identity.consultation_from_metadata(caller, md.items()).requester
            except identity.IdentityError:
                raise refusal("UNKNOWN_INSTITUTION") from None
        legal_context = md.get(identity.LEGAL_CONTEXT_HEADER)
        if caller.kind is identity.PartyKind.PERSON:
            # The self-service rule: a person's legal context is always SELF_SERVICE, whatever
            # header the client sent (logged so from the first row, refusals included).
            legal_context = SELF_SERVICE_LEGAL_CONTEXT
        req = RouteRequest(
            caller=caller,
            path=path,
            legal_context=legal_context,
            customer_ticket=md.get(identity.CUSTOMER_TICKET_HEADER),
            destination=md.get(identity.DESTINATION_HEADER) or None,
            ticket=ticket,
            via_hub=via_hub,
        )
        digest = hashlib.sha256(raw).hexdigest()
        auth: Authorised | None = None
        try:
            auth = self._checker.authorise(req)
            try:
                request = auth.method.parse_request(raw)
            except (MessageDecodeError, ValueError):
                raise Refused(refusal("MALFORMED_MESSAGE")) from None
            decision = self._checker.check(auth, request)
            req = decision.authorised.request
        except Refused as refused:
            self._log_refusal(req, auth, refused.error, refused.subjects, start, digest)
            raise refused.error from None
        except ServiceError as error:
            named = [(i, "") for i in self._checker.subjects_for_log(path, raw)]
            self._log_refusal(req, auth, error, named, start, digest)
            raise
        return req, decision, start

    def _headers(self, req: RouteRequest, decision: Decision) -> list[tuple[str, str]]:
        headers = [
            (identity.REQUESTER_HEADER, req.caller.uri),
            (identity.LEGAL_CONTEXT_HEADER, req.legal_context or ""),
            (identity.TICKET_HEADER, req.ticket),
            (identity.CAPACITY_HEADER, decision.capacity),
        ]
        if req.customer_ticket:
            headers.append((identity.CUSTOMER_TICKET_HEADER, req.customer_ticket))
        return headers + trace_headers()

    # -- unary ------------------------------------------------------------------------------
    def _unary(self, path: str, raw: bytes, context: grpc.ServicerContext) -> bytes:
        req, decision, start = self._admit(path, raw, context)
        auth = decision.authorised
        if decision.deceased:
            _add_trailers(context, (DECEASED_HEADER, "true"))
        provider = decision.provider
        call = self._channels.get(
            provider.endpoint, provider.provider, provider.via_router
        ).unary_unary(path)
        attempts = 2 if auth.method.idempotent else 1
        for attempt in range(attempts):
            try:
                response = call(
                    raw, metadata=self._headers(req, decision), timeout=holder_timeout(context)
                )
                break
            except grpc.RpcError as exc:
                code = exc.code()  # type: ignore[attr-defined]
                if code is grpc.StatusCode.UNAVAILABLE and attempt + 1 < attempts:
                    continue
                self._pass_failure(req, decision, exc, start, raw, context)
        faults.check("router.after_forward")  # the holder answered; the reply is lost
        revealed = auth.method.response_subjects(response)  # type: ignore[attr-defined]
        self._withhold_foreign(req, decision, start, raw, response, revealed)
        self._log_forwarded(req, decision, start, raw, response, revealed, "")
        return response

    def _withhold_foreign(
        self,
        req: RouteRequest,
        decision: Decision,
        start: float,
        raw: bytes,
        response: bytes,
        revealed: list[str],
    ) -> None:
        """A self-service answer that names anyone but the person is withheld whole (never
        trimmed: the router does not rewrite a holder's messages) and logged REFUSED; the
        other persons were not revealed to anyone, so no REVEALED row names them."""
        if not revealed or not decision.authorised.self_service:
            return
        if not self._checker.foreign_revealed(decision.authorised, revealed, req.ticket):
            return
        self._log_forwarded(
            req, decision, start, raw, response, [], "RESPONSE_NOT_OWN_DATA", "REFUSED"
        )
        raise refusal("RESPONSE_NOT_OWN_DATA")

    def _pass_failure(
        self,
        req: RouteRequest,
        decision: Decision,
        exc: grpc.RpcError,
        start: float,
        raw: bytes,
        context: grpc.ServicerContext,
    ) -> None:
        """The holder failed: log it, then answer as the holder did (or UNAVAILABLE if down)."""
        code = exc.code()  # type: ignore[attr-defined]
        holder = decision.provider.provider
        if code is grpc.StatusCode.UNAVAILABLE:
            self._log_forwarded(req, decision, start, raw, b"", [], "HOLDER_UNAVAILABLE", "FAILED")
            raise refusal("HOLDER_UNAVAILABLE", {"holder": holder})
        self._log_forwarded(req, decision, start, raw, b"", [], f"HOLDER_{code.name}")
        trailers = [
            (k, v)
            for k, v in (exc.trailing_metadata() or ())
            if k in _PASS_TRAILERS  # type: ignore[attr-defined]
        ]
        _add_trailers(context, *trailers)
        context.abort(code, exc.details())  # type: ignore[attr-defined]

    # -- server streaming ---------------------------------------------------------------------
    def _stream(self, path: str, raw: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        req, decision, start = self._admit(path, raw, context, stream=True)
        auth = decision.authorised
        fan_out = len(decision.providers) > 1
        failed: list[str] = []
        for provider in decision.providers:
            call = self._channels.get(
                provider.endpoint, provider.provider, provider.via_router
            ).unary_stream(path)
            responses = call(
                raw,
                metadata=self._headers(req, decision),
                timeout=holder_timeout(context, stream=True),
            )
            holder = dataclasses.replace(decision, providers=[provider])
            logged = False
            try:
                for message in responses:
                    revealed = auth.method.response_subjects(message)
                    try:
                        self._withhold_foreign(req, holder, start, raw, message, revealed)
                    except ServiceError:
                        responses.cancel()  # type: ignore[attr-defined]
                        raise
                    if not logged or revealed:
                        # Durable before this message leaves: the subjects with a holder's first
                        # message, then every person a later message reveals.
                        self._log_forwarded(
                            req, holder if not logged else None, start, raw, message, revealed, ""
                        )
                        logged = True
                    yield message
            except grpc.RpcError as exc:
                if not fan_out:
                    self._pass_failure(req, holder, exc, start, raw, context)
                failed.append(provider.provider)
                self._log_forwarded(
                    req,
                    holder,
                    start,
                    raw,
                    b"",
                    [],
                    f"HOLDER_{exc.code().name}",
                    "FAILED",  # type: ignore[attr-defined]
                )
                continue
            if not logged:  # an empty stream from this holder: still log the consultation
                self._log_forwarded(req, holder, start, raw, b"", [], "")
        if failed:
            _add_trailers(
                context, (PARTIAL_HEADER, "true"), (FAILED_HOLDERS_HEADER, ",".join(failed))
            )

    # -- the message log ---------------------------------------------------------------------
    def _entry(
        self,
        req: RouteRequest,
        destination: str,
        subject: str,
        capacity: str,
        outcome: str,
        reason: str,
        start: float,
        request_digest: str,
        response_digest: str,
    ) -> LogEntry:
        span = trace.get_current_span().get_span_context()
        service, _, method = req.path[1:].partition("/")
        return LogEntry(
            ticket=req.ticket,
            occurred_at=self._now(),
            requester=req.caller.uri,
            service=service,
            method=method,
            legal_context=(req.legal_context or "")[:64],
            subject=subject,
            capacity=capacity,
            destination=destination,
            outcome=outcome,
            reason=reason,
            latency_us=int((time.perf_counter() - start) * 1e6),
            trace_id=format(span.trace_id, "032x") if span.is_valid else "",
            request_digest=request_digest,
            response_digest=response_digest,
        )

    def _log_refusal(
        self,
        req: RouteRequest,
        auth: Authorised | None,
        error: ServiceError,
        subjects: list[tuple[str, str]],
        start: float,
        request_digest: str,
    ) -> None:
        destination = (
            auth.providers[0].provider
            if auth and len(auth.providers) == 1
            else req.destination or ""
        )
        rows = [
            self._entry(
                req,
                destination,
                s,
                "",
                "REFUSED",
                reason or error.reason,
                start,
                request_digest,
                "",
            )
            for s, reason in (subjects or [("", "")])
        ]
        self._submit(rows).result()

    def _log_forwarded(
        self,
        req: RouteRequest,
        decision: Decision | None,
        start: float,
        raw: bytes,
        response: bytes,
        revealed: list[str],
        reason: str,
        outcome: str = "FORWARDED",
    ) -> None:
        request_digest = hashlib.sha256(raw).hexdigest()
        response_digest = hashlib.sha256(response).hexdigest() if response else ""
        rows: list[LogEntry] = []
        destination = ""
        if decision is not None:
            destination = decision.provider.provider
            subjects = decision.subjects or []
            rows = [
                self._entry(
                    req,
                    destination,
                    s.insz,
                    s.capacity,
                    outcome,
                    reason,
                    start,
                    request_digest,
                    response_digest,
                )
                for s in subjects
            ] or [
                self._entry(
                    req,
                    destination,
                    "",
                    "",
                    outcome,
                    reason,
                    start,
                    request_digest,
                    response_digest,
                )
            ]
        # A person the reply reveals is logged once: not again when it is a subject already.
        named = {s.insz for s in decision.subjects} if decision is not None else set()
        rows += [
            self._entry(
                req, destination, insz, "", "REVEALED", "", start, request_digest, response_digest
            )
            for insz in dict.fromkeys(revealed)
            if insz not in named
        ]
        if rows:
            self._submit(rows).result()
