"""Finding national numbers in text: every run of 11 digits (not part of a longer run) that is a
valid INSZ (runtime.identifiers: check digits, a possible birth date)."""

from __future__ import annotations

import re

from runtime import identifiers

_RUN = re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])")


def inszs_in(text: str) -> list[str]:
    found = []
    for run in _RUN.findall(text):
        try:
            identifiers.parse_insz(run)
        except identifiers.IdentifierError:
            continue
        found.append(run)
    return found
