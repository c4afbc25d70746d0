"""Logging and tracing, set up once per process.

Logs: stdlib `logging`, one JSON object per line on stdout with `timestamp`, `severity`, `logger`,
`message`, `service`, `trace_id`, `span_id`. A last-line-of-defence filter masks any run of 11
digits (an INSZ shape) in log messages: code must never log one, and if it does by mistake the
number still does not reach the log.

Tracing: the OpenTelemetry SDK; the exporter is chosen by the standard `OTEL_TRACES_EXPORTER`
(`none` by default: spans are made, so trace ids reach the logs and propagate across gRPC, but
nothing is exported); the OTLP exporter reads its own standard `OTEL_EXPORTER_OTLP_*` variables.

Metrics: the OpenTelemetry SDK with its Prometheus reader; `METRICS_PORT` opens the scrape
endpoint (prometheus_client's HTTP server on the service's host). The runtime's interceptor
records every call in `rpc.server.duration` (ms; by service, method and gRPC status): the
histogram's count is the request count. Never a payload, an INSZ or a caller in a label.
"""

from __future__ import annotations

import logging
import re
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from pythonjsonlogger.json import JsonFormatter

_INSZ_SHAPE = re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])")
_MASK = "***********"


class RedactingFilter(logging.Filter):
    """Masks 11-digit runs in the rendered message, and adds trace and service fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _INSZ_SHAPE.search(message):
            record.msg, record.args = _INSZ_SHAPE.sub(_MASK, message), None
        span = trace.get_current_span().get_span_context()
        record.trace_id = format(span.trace_id, "032x") if span.is_valid else ""
        record.span_id = format(span.span_id, "016x") if span.is_valid else ""
        record.service = self.service
        return True


class _MaskingJsonFormatter(JsonFormatter):
    """JSON lines whose tracebacks are masked too (an exception message may quote input)."""

    def formatException(self, ei):  # type: ignore[no-untyped-def]  # noqa: N802 - stdlib name
        return _INSZ_SHAPE.sub(_MASK, super().formatException(ei))

    def formatStack(self, stack_info):  # type: ignore[no-untyped-def]  # noqa: N802
        return _INSZ_SHAPE.sub(_MASK, super().formatStack(stack_info))


def setup_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout for the whole process (idempotent)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RedactingFilter(service))
    handler.setFormatter(
        _MaskingJsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{trace_id}{span_id}",
            style="{",
            rename_fields={"asctime": "timestamp", "levelname": "severity", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


_provider: TracerProvider | None = None


def setup_tracing(service: str, exporter: str = "none") -> TracerProvider:
    """Install the process's tracer provider (once; later calls return the first)."""
    global _provider
    if _provider is not None:
        return _provider
    provider = TracerProvider(resource=Resource.create({"service.name": f"cbss.{service}"}))
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


_metrics_started = False


def setup_metrics(service: str, host: str, port: int) -> None:
    """Serve this process's metrics for Prometheus at http://host:port/metrics (once)."""
    global _metrics_started
    if _metrics_started or not port:
        return
    from opentelemetry import metrics
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from prometheus_client import start_http_server

    reader = PrometheusMetricReader()
    metrics.set_meter_provider(
        MeterProvider(
            resource=Resource.create({"service.name": f"cbss.{service}"}), metric_readers=[reader]
        )
    )
    start_http_server(port, addr=host)
    _metrics_started = True


def shutdown_tracing() -> None:
    """Flush and stop exporting (called on graceful shutdown)."""
    if _provider is not None:
        _provider.shutdown()
