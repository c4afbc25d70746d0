"""Page tokens (AIP-158): opaque to callers, checked on the way back.

The URL-safe base64 (no padding) of `{"v": 1, "p": position, "h": hash}`,
`p` the keyset position of the page's last item and `h` a SHA-256 (first 128 bits) over the
query's filters *and* the position. A token used with other filters, altered, or not a token at
all is refused with INVALID_ARGUMENT `INVALID_PAGE_TOKEN`. No secret is needed: the filters are
re-applied to every page, so a forged position reveals nothing a direct query could not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from runtime.errors import FieldViolation, InvalidArgument

_VERSION = 1
_MAX_TOKEN = 1024

Scalar = str | int


def _hash(filters: Sequence[object], position: Sequence[Scalar]) -> str:
    payload = json.dumps([_VERSION, list(filters), list(position)], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def encode(filters: Sequence[object], position: Sequence[Scalar]) -> str:
    body = {"v": _VERSION, "p": list(position), "h": _hash(filters, position)}
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def invalid_page_token() -> InvalidArgument:
    return InvalidArgument.for_fields(
        [
            FieldViolation(
                "page_token",
                "not a token of this query; start again without a token",
                "INVALID_PAGE_TOKEN",
            )
        ]
    )


def decode(token: str, filters: Sequence[object], shape: Sequence[type]) -> list[Scalar]:
    """The position a token resumes from: its items have the types of `shape`."""
    try:
        if len(token) > _MAX_TOKEN or not token.isascii():
            raise ValueError("not a token")
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict) or set(body) != {"v", "p", "h"} or body["v"] != _VERSION:
            raise ValueError("not a token")
        position, digest = body["p"], body["h"]
        if (
            not isinstance(position, list)
            or len(position) != len(shape)
            or not all(
                isinstance(v, t) and not isinstance(v, bool)
                for v, t in zip(position, shape, strict=True)
            )
            or not isinstance(digest, str)
            or not hmac.compare_digest(digest, _hash(filters, position))
        ):
            raise ValueError("not this query's token")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise invalid_page_token() from None
    return position


def page_size(value: int, *, default: int, maximum: int) -> int:
    if value < 0:
        raise InvalidArgument.for_fields(
            [FieldViolation("page_size", "not negative", "INVALID_PAGE_SIZE")]
        )
    return min(value or default, maximum)
