"""Search page tokens: round trip, bound to their search, and garbage never crashes."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.service.model import PartialDate
from registry.service.tokens import SearchFilters, decode_page_token, encode_page_token
from runtime.errors import InvalidArgument

FILTERS = SearchFilters("lefevre", "marie", None, 1950, 1990)
POSITION = ("lefevre", "marie noelle", "85071412330")


def _reason(token: str, filters: SearchFilters = FILTERS) -> str:
    with pytest.raises(InvalidArgument) as err:
        decode_page_token(token, filters)
    assert [v.field for v in err.value.violations] == ["page_token"]
    return err.value.reason


def test_token_gives_its_position_back_when_filters_are_the_same() -> None:
    token = encode_page_token(FILTERS, POSITION)
    assert token.isascii() and "=" not in token
    assert decode_page_token(token, SearchFilters("lefevre", "marie", None, 1950, 1990)) == POSITION


@pytest.mark.parametrize(
    "other",
    [
        SearchFilters("lefevr", "marie", None, 1950, 1990),
        SearchFilters("lefevre", "", None, 1950, 1990),
        SearchFilters("lefevre", "marie", None, 1950, 1991),
        SearchFilters("lefevre", "marie", PartialDate(1985, 7, 0), 0, 0),
    ],
)
def test_token_is_refused_when_used_with_other_filters(other: SearchFilters) -> None:
    assert _reason(encode_page_token(FILTERS, POSITION), other) == "INVALID_PAGE_TOKEN"


def test_token_is_refused_when_its_position_is_altered() -> None:
    token = encode_page_token(FILTERS, POSITION)
    body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    body["p"][2] = "85071412331"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert _reason(forged) == "INVALID_PAGE_TOKEN"


def test_token_is_refused_when_a_character_is_changed() -> None:
    token = encode_page_token(FILTERS, POSITION)
    for i in range(0, len(token), 7):
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert _reason(changed) == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize(
    "token",
    ["x", "====", "e30", "bnVsbA", "W10", "eyJ2IjoxfQ", "a" * 5000, "é", "eyJ2Ijox\x00fQ"],
)
def test_token_is_refused_when_it_is_garbage(token: str) -> None:
    assert _reason(token) == "INVALID_PAGE_TOKEN"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_garbage_text_never_crashes_when_parsed_as_token(token: str) -> None:
    assert _reason(token) == "INVALID_PAGE_TOKEN"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"v": st.just(1), "p": st.lists(st.text(max_size=12), max_size=4), "h": st.text()}
        ),
    )
)
def test_well_encoded_json_never_crashes_when_it_is_not_a_token(body: object) -> None:
    token = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    assert _reason(token) == "INVALID_PAGE_TOKEN"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_when_base64_encoded_as_token(raw: bytes) -> None:
    assert _reason(base64.urlsafe_b64encode(raw).decode()) == "INVALID_PAGE_TOKEN"


@settings(max_examples=200, deadline=None)
@given(
    st.text(min_size=2, max_size=30),
    st.text(max_size=30),
    st.from_regex(r"[0-9]{11}", fullmatch=True),
)
def test_any_position_round_trips_when_encoded(last: str, first: str, insz: str) -> None:
    filters = SearchFilters(last)
    assert decode_page_token(encode_page_token(filters, (last, first, insz)), filters) == (
        last,
        first,
        insz,
    )
