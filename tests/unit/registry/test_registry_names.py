"""Name normalisation: accents, case and spacing never matter; the result is a fixed point."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.service.names import clean_display_name, normalise_first_names, normalise_name

# Latin letters with the diacritics Belgian and European names carry, and their base letter.
ACCENTED = {
    "a": "àáâãäå",
    "c": "çćč",
    "e": "èéêëę",
    "i": "ìíîï",
    "n": "ñń",
    "o": "òóôõö",
    "s": "śšş",
    "u": "ùúûü",
    "y": "ýÿ",
    "z": "źżž",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Lefèvre", "lefevre"),
        ("LEFEVRE", "lefevre"),
        ("Noël", "noel"),
        ("Çelik", "celik"),
        ("  Van   den\tBossche ", "van den bossche"),
        ("D'Hondt", "d'hondt"),
        ("Straße", "strasse"),
        ("İstanbul", "istanbul"),
        ("Wiśniewski", "wisniewski"),
        ("ﬁlip", "filip"),  # the "fi" ligature is a compatibility character
        ("Crèvecœur", "crevecœur"),  # œ has no decomposition: kept as a letter
        ("", ""),
    ],
)
def test_name_is_normalised_when_it_has_accents_case_or_spaces(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_first_names_are_normalised_one_by_one_when_joined() -> None:
    assert normalise_first_names(["Marie-Noëlle", "  ", "ANAÏS"]) == "marie-noelle anais"


def test_display_name_keeps_accents_and_case_when_cleaned() -> None:
    assert clean_display_name("  Anne   Sophie ") == "Anne Sophie"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalised_name_is_a_fixed_point_when_normalised_again(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalised_name_has_no_marks_and_no_case_when_any_text_is_given(text: str) -> None:
    result = normalise_name(text)
    assert not any(unicodedata.combining(c) for c in result)
    assert result == result.casefold()
    assert result == result.strip() and "  " not in result


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(sorted(ACCENTED)), st.booleans(), st.booleans()), min_size=1)
)
def test_accented_name_matches_its_plain_form_when_normalised(
    letters: list[tuple[str, bool, bool]],
) -> None:
    plain = "".join(base for base, _, _ in letters)
    accented = "".join(
        (ACCENTED[base][len(plain) % len(ACCENTED[base])] if accent else base).upper()
        if upper
        else (ACCENTED[base][0] if accent else base)
        for base, accent, upper in letters
    )
    assert normalise_name(accented) == plain
