"""JSON logs: the fields every line carries, and no INSZ ever."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider

from runtime.telemetry import RedactingFilter, setup_logging


def _capture(service: str = "t") -> io.StringIO:
    setup_logging(service, "DEBUG")
    buffer = io.StringIO()
    logging.getLogger().handlers[0].setStream(buffer)
    return buffer


def test_log_line_is_json_with_trace_ids_when_inside_a_span() -> None:
    buffer = _capture("registry")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("x") as span:
        logging.getLogger("a.b").info("hello %s", "world")
        trace_id = format(span.get_span_context().trace_id, "032x")
    record = json.loads(buffer.getvalue().splitlines()[-1])
    assert record["message"] == "hello world"
    assert record["severity"] == "INFO" and record["logger"] == "a.b"
    assert record["service"] == "registry"
    assert record["trace_id"] == trace_id and len(record["span_id"]) == 16
    assert "timestamp" in record


def test_insz_is_masked_when_code_logs_one_by_mistake() -> None:
    buffer = _capture()
    logging.getLogger("x").warning("person %s moved", "85071412330")
    logging.getLogger("x").warning("inline 03020100274 too")
    text = buffer.getvalue()
    assert "85071412330" not in text and "03020100274" not in text
    assert text.count("***********") == 2


def test_insz_is_masked_when_an_exception_traceback_quotes_one() -> None:
    buffer = _capture()
    try:
        raise ValueError("bad person 85071412330")
    except ValueError:
        logging.getLogger("x").exception("failed")
    record = json.loads(buffer.getvalue().splitlines()[-1])
    assert "ValueError" in record["exc_info"]
    assert "85071412330" not in buffer.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 -./abc", max_size=60))
def test_no_eleven_digit_run_survives_when_message_is_arbitrary(message: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (message,), None)
    RedactingFilter("t").filter(record)
    rendered = record.getMessage()
    import re

    assert not re.search(r"(?<![0-9])[0-9]{11}(?![0-9])", rendered)
