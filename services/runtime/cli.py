"""What every service's command-line client shares: consoles, the error line, the party's
certificate files, and one call with its failure turned into `CODE REASON: message` (exit 1)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import grpc
from google.protobuf.message import Message
from rich.console import Console

from runtime.client import DEFAULT_TIMEOUT_SECONDS, failure, party_tls
from runtime.config import TlsFiles

# Not a terminal (a pipe, a test): wide enough that tables are never cut.
out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)


def fail(code: str, reason: str, message: str) -> NoReturn:
    """Print `CODE REASON: message` on stderr and exit 1."""
    err.print(f"{code} {reason}: {message}", markup=False, highlight=False)
    sys.exit(1)


def party_files(pki: Path, party: str) -> TlsFiles:
    """The party's certificate, key and CA, or a clear error when the PKI lacks them."""
    files = party_tls(pki, party)
    for path in (files.cert, files.key, files.ca):
        if not path.is_file():
            fail("INVALID_ARGUMENT", "NO_SUCH_PARTY", f"{path} not found (make pki?)")
    return files


def invoke(
    method: Any,
    request: Message,
    *,
    metadata: Sequence[tuple[str, str]] = (),
    seen: Callable[[Any], None] | None = None,
) -> Any:
    """Call a unary stub method; `seen` gets the call (or the error) before anything else."""
    try:
        response, call = method.with_call(
            request, timeout=DEFAULT_TIMEOUT_SECONDS, metadata=metadata
        )
    except grpc.RpcError as exc:
        if seen is not None:
            seen(exc)
        info = failure(exc)
        fail(info.code.name, info.reason or "-", info.message)
    if seen is not None:
        seen(call)
    return response
