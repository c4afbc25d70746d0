"""Search page tokens: opaque to callers, checked on the way back.

A token is the URL-safe base64 (no padding) of a small JSON object
`{"v": 1, "p": [last_name_norm, first_names_norm, insz], "h": hash}`: `p` is the keyset position
(the sort key of the last person of the page) and `h` a SHA-256 (first 128 bits, hex) over the
search's filters *and* the position. A token used with other filters, or altered in any way, no
longer matches its hash and is refused with INVALID_ARGUMENT `INVALID_PAGE_TOKEN`; so is anything
that does not parse. No secret key is needed: the hash is a consistency check, not a protection —
a position only says where to resume, and the filters are re-applied to every page, so a forged
token can reveal nothing a direct query could not.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from registry.service.model import PartialDate
from runtime.errors import FieldViolation, InvalidArgument

#: (normalised last name, normalised first names, insz): the search order.
Position = tuple[str, str, str]

_VERSION = 1
_MAX_TOKEN = 2048
_INSZ = re.compile(r"[0-9]{11}", re.ASCII)
_HASH = re.compile(r"[0-9a-f]{32}", re.ASCII)


@dataclass(frozen=True)
class SearchFilters:
    """A search's filters after validation and normalisation."""

    last_name: str
    first_name: str = ""
    birth_date: PartialDate | None = None
    birth_year_from: int = 0
    birth_year_to: int = 0

    def canonical(self) -> list[object]:
        birth = self.birth_date.as_list() if self.birth_date else None
        return [self.last_name, self.first_name, birth, self.birth_year_from, self.birth_year_to]


def _hash(filters: SearchFilters, position: Position) -> str:
    payload = json.dumps([_VERSION, filters.canonical(), list(position)], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def encode_page_token(filters: SearchFilters, position: Position) -> str:
    """The token of the page that starts after `position`."""
    body = {"v": _VERSION, "p": list(position), "h": _hash(filters, position)}
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def invalid_page_token() -> InvalidArgument:
    return InvalidArgument.for_fields(
        [
            FieldViolation(
                "page_token",
                "not a token of this search; start again without a token",
                "INVALID_PAGE_TOKEN",
            )
        ]
    )


def decode_page_token(token: str, filters: SearchFilters) -> Position:
    """The position a token resumes from; INVALID_PAGE_TOKEN for anything but a genuine token
    of a search with these filters."""
    try:
        if not isinstance(token, str) or len(token) > _MAX_TOKEN or not token.isascii():
            raise ValueError("not a token")
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict) or set(body) != {"v", "p", "h"} or body["v"] != _VERSION:
            raise ValueError("not a token")
        position, digest = body["p"], body["h"]
        if (
            not isinstance(position, list)
            or len(position) != 3
            or not all(isinstance(part, str) for part in position)
            or not _INSZ.fullmatch(position[2])
            or not isinstance(digest, str)
            or not _HASH.fullmatch(digest)
        ):
            raise ValueError("not a token")
        result: Position = (position[0], position[1], position[2])
        if not hmac.compare_digest(digest, _hash(filters, result)):
            raise ValueError("not this search's token")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        # json.JSONDecodeError is a ValueError; RecursionError for absurdly nested JSON.
        raise invalid_page_token() from None
    return result
