"""Name normalisation for search and duplicate detection.

`normalise_name` makes names comparable whatever the accents, case and spacing: Unicode NFKD
(compatibility decomposition: "ﬁ" -> "fi", "é" -> "e" + combining acute), combining marks
removed, case-folded ("ß" -> "ss", "Ç" -> "c"), decomposed and stripped once more (case folding
can produce new combining marks, e.g. "İ"), then runs of whitespace collapsed to one space.
The result is what the register stores in its `*_norm` columns and compares against, so
"Lefèvre", "LEFEVRE" and "lefevre" are equal. Letters without a decomposition stay as they are
("ø", "æ", "œ", "ł"): folding them to ASCII would need a transliteration table, which the brief
does not ask for.

Pure and cached: the seeder normalises a million names drawn from small lists.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    """The comparable form of a name: no accents, case-folded, single spaces, trimmed."""
    folded = _strip_marks(_strip_marks(text).casefold())
    return " ".join(folded.split())


def normalise_first_names(first_names: Iterable[str]) -> str:
    """First names normalised one by one and joined by single spaces (registered order)."""
    return " ".join(n for n in (normalise_name(f) for f in first_names) if n)


def clean_display_name(text: str) -> str:
    """A name as it is stored and shown: trimmed, inner whitespace runs collapsed to one space."""
    return " ".join(text.split())
