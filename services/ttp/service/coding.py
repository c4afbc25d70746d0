"""Pseudonymisation: a person's project code, and which key a project's codes are made with.

A code is `base32(HMAC-SHA256(key, INSZ)[:20])` (RFC 4648, no padding): 32 characters of A-Z and
2-7, 160 bits — no collision in any population (the birthday bound is 2^80), and, unlike hex,
never a run of 11 digits that would read as an INSZ in a scan of the warehouse. Keyed, so that
nobody without the key — the warehouse, a research centre — can compute a person's code from
their INSZ and look them up; the same key always gives the same code, so a person keeps theirs
from one quarter to the next.

Which key: a project that requires unlinkability has a key of its own (`project-<id>`): its codes
match no other project's, so two research centres cannot join their exports. Every other project
shares the TTP's common key (`common`): the same person has the same code in each of them, which
lets the standard tables and linkable projects follow persons across projects — the choice the
CBSS's committee makes per project (projects.toml), not the warehouse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ttp.service.projects import Project

#: Bytes of the MAC kept in a code (160 bits: 32 base32 characters, no padding).
CODE_BYTES = 20
KEY_BYTES = 32
COMMON_KEY = "common"


def key_name(project: Project) -> str:
    """The key a project's codes are made with."""
    return f"project-{project.id}" if project.unlinkable else COMMON_KEY


def key_id(key: bytes) -> str:
    """Names a key without revealing it (16 hex digits of a SHA-256 over a fixed label)."""
    return hashlib.sha256(b"carrefour-ttp-key-id:" + key).hexdigest()[:16]


class Coder:
    """Codes INSZs with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("a TTP key is 32 bytes")
        self._key = key
        self.key_id = key_id(key)

    def code(self, insz: str) -> str:
        mac = hmac.new(self._key, insz.encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(mac[:CODE_BYTES]).decode("ascii")
