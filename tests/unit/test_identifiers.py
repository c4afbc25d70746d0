"""Tests of runtime.identifiers: worked examples, strict parsing, and error-detection properties.

The error-detection properties (every single-digit change and every adjacent transposition of a
valid number is rejected) are checked exhaustively on each generated number. For INSZ numbers the
two century rules differ by 2*10^9 mod 97, so a change that shifts the mod-97 residue by exactly
that amount can land on a number valid under the *other* rule; the tests derive where that can
happen from the digit weights instead of special-casing observed results.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.identifiers import (
    EnterpriseNumber,
    IdentifierError,
    Insz,
    InszKind,
    OnssNumber,
    Sex,
    insz_check_digits,
    make_enterprise_number,
    make_insz,
    make_onss_number,
    normalize_insz,
    parse_enterprise_number,
    parse_insz,
    parse_onss_number,
)

FAST = settings(max_examples=150, deadline=None)
MUTATIONS = settings(max_examples=200, deadline=None)

# Prefixing "2" to the 9 leading digits adds 2*10^9 before taking the residue mod 97.
CENTURY_SHIFT = 2_000_000_000 % 97
OTHER_RULE_SHIFTS = {CENTURY_SHIFT, (-CENTURY_SHIFT) % 97}

ARABIC_INDIC = "".join(chr(0x0660 + int(c)) for c in "85071412330")
FULLWIDTH = "".join(chr(0xFF10 + int(c)) for c in "85071412330")


# --------------------------------------------------------------------------------------------------
# Helpers, written independently of the module under test
# --------------------------------------------------------------------------------------------------


def single_digit_changes(value: str) -> list[tuple[int, int, str]]:
    """(index, new digit - old digit, mutated string) for every change of one digit."""
    out = []
    for i, old in enumerate(value):
        for new in "0123456789":
            if new != old:
                out.append((i, int(new) - int(old), value[:i] + new + value[i + 1 :]))
    return out


def adjacent_transpositions(value: str) -> list[tuple[int, int, str]]:
    """(index, right digit - left digit, mutated string) for every swap of two different digits."""
    out = []
    for i in range(len(value) - 1):
        a, b = value[i], value[i + 1]
        if a != b:
            out.append((i, int(b) - int(a), value[:i] + b + a + value[i + 2 :]))
    return out


def insz_weight(index: int) -> int:
    """Weight of digit `index` in (9-digit base + 2-digit check), the sum each rule tests mod 97."""
    return 10 ** (8 - index) if index < 9 else 10 ** (10 - index)


def insz_residue_shift_of_change(index: int, delta: int) -> int:
    return (delta * insz_weight(index)) % 97


def insz_residue_shift_of_swap(index: int, diff: int) -> int:
    # Left digit a -> b and right digit b -> a, with diff = b - a.
    return (diff * insz_weight(index) - diff * insz_weight(index + 1)) % 97


def reference_insz_check(base9: str, born_after_1999: bool) -> int:
    return 97 - int(("2" if born_after_1999 else "") + base9) % 97


def reference_onss_check(leading: str) -> int:
    return 96 - (int(leading) * 100) % 97


def assert_rejected_or_other_century(original: Insz, mutant: str, could_flip: bool) -> None:
    """A mutant must fail unless the arithmetic allows the other rule; then it flips the century."""
    if not could_flip:
        with pytest.raises(IdentifierError):
            parse_insz(mutant)
        return
    try:
        parsed = parse_insz(mutant)
    except IdentifierError:
        return
    # Never valid under the same rule: the century must be the other one.
    assert parsed.born_after_1999 is not original.born_after_1999


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------


@st.composite
def insz_components(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(InszKind))
    year = draw(st.integers(1900, 2099))
    month = draw(st.integers(0, 12))
    day = 0 if month == 0 else draw(st.integers(0, calendar.monthrange(year, month)[1]))
    serial = draw(st.integers(1, 998))
    return {
        "birth_year": year,
        "birth_month": month,
        "birth_day": day,
        "serial": serial,
        "kind": kind,
    }


valid_insz = insz_components().map(lambda c: make_insz(**c))
enterprise_sequences = st.integers(0, 19_999_999)
valid_enterprise_numbers = enterprise_sequences.map(make_enterprise_number)
definitive_onss_sequences = st.integers(1_000, 1_999_999)
provisional_onss_sequences = st.integers(0, 999_999)
valid_onss_numbers = st.one_of(
    definitive_onss_sequences.map(make_onss_number),
    provisional_onss_sequences.map(lambda s: make_onss_number(s, provisional=True)),
)


# --------------------------------------------------------------------------------------------------
# INSZ: worked examples
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "sex", "year", "month", "day", "serial", "after_1999"),
    [
        ("85071412330", InszKind.NATIONAL_REGISTER, Sex.MALE, 1985, 7, 14, 123, False),
        ("03020100274", InszKind.NATIONAL_REGISTER, Sex.FEMALE, 2003, 2, 1, 2, True),
        ("06070500252", InszKind.NATIONAL_REGISTER, Sex.FEMALE, 2006, 7, 5, 2, True),
        ("85493000163", InszKind.BIS_SEX_KNOWN, Sex.MALE, 1985, 9, 30, 1, False),
        ("72230000222", InszKind.BIS_SEX_UNKNOWN, Sex.UNKNOWN, 1972, 3, 0, 2, False),
        ("03020100245", InszKind.NATIONAL_REGISTER, Sex.FEMALE, 1903, 2, 1, 2, False),
    ],
)
def test_parse_insz_reports_components_when_brief_example(
    value: str,
    kind: InszKind,
    sex: Sex,
    year: int,
    month: int,
    day: int,
    serial: int,
    after_1999: bool,
) -> None:
    insz = parse_insz(value)
    assert insz.value == value
    assert insz.kind is kind
    assert insz.sex is sex
    assert (insz.birth_year, insz.birth_month, insz.birth_day) == (year, month, day)
    assert insz.serial == serial
    assert insz.born_after_1999 is after_1999
    assert insz.is_bis is (kind is not InszKind.NATIONAL_REGISTER)
    expected_date = dt.date(year, month, day) if month and day else None
    assert insz.birth_date == expected_date
    assert (
        make_insz(birth_year=year, birth_month=month, birth_day=day, serial=serial, kind=kind)
        == value
    )


def test_insz_check_digits_match_brief_when_either_century_rule() -> None:
    assert insz_check_digits("850714123", born_after_1999=False) == "30"
    assert insz_check_digits("030201002", born_after_1999=True) == "74"
    assert insz_check_digits("030201002", born_after_1999=False) == "45"


def test_insz_check_digits_rejects_base_when_not_nine_ascii_digits() -> None:
    for bad in ("85071412", "8507141230", "85071412a", ARABIC_INDIC[:9], " 85071412"):
        with pytest.raises(IdentifierError) as err:
            insz_check_digits(bad, born_after_1999=False)
        assert err.value.reason == "INSZ_MALFORMED"


def test_formatted_insz_uses_dots_and_dash_when_printed() -> None:
    assert parse_insz("85071412330").formatted() == "85.07.14-123.30"


def test_birth_date_handles_leap_years_when_century_differs() -> None:
    # 29 February exists in 2000 (leap) but not in 1900 (not leap): same 9 digits, other rule.
    base = "000229001"
    valid_2000 = base + insz_check_digits(base, born_after_1999=True)
    assert parse_insz(valid_2000).birth_date == dt.date(2000, 2, 29)
    invalid_1900 = base + insz_check_digits(base, born_after_1999=False)
    with pytest.raises(IdentifierError) as err:
        parse_insz(invalid_1900)
    assert err.value.reason == "INSZ_INVALID_DATE"


# --------------------------------------------------------------------------------------------------
# INSZ: strict parsing and reasons
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "8507141233",
        "850714123300",
        "8507141233a",
        "85.07.14-123.30",
        " 85071412330",
        "85071412330 ",
        "85071412330\n",
        "\t85071412330",
        ARABIC_INDIC,
        FULLWIDTH,
        "+5071412330",
    ],
)
def test_parse_insz_rejects_as_malformed_when_not_exactly_eleven_ascii_digits(value: str) -> None:
    with pytest.raises(IdentifierError) as err:
        parse_insz(value)
    assert err.value.reason == "INSZ_MALFORMED"


@pytest.mark.parametrize("value", [None, 85071412330, b"85071412330"])
def test_parse_insz_rejects_as_malformed_when_not_a_string(value: object) -> None:
    with pytest.raises(IdentifierError) as err:
        parse_insz(value)  # type: ignore[arg-type]
    assert err.value.reason == "INSZ_MALFORMED"


def test_parse_insz_rejects_check_digits_when_no_century_rule_matches() -> None:
    with pytest.raises(IdentifierError) as err:
        parse_insz("85071412331")
    assert err.value.reason == "INSZ_CHECK_DIGITS"


@pytest.mark.parametrize(
    "base9",
    [
        "851314123",  # month 13
        "853314123",  # month 33: between BIS ranges
        "855314123",  # month 53
        "859914123",  # month 99
        "850732123",  # day 32
        "850431123",  # 31 April
        "850001123",  # NR: day known but month unknown
        "852001123",  # BIS sex unknown: day known but month unknown
        "854001123",  # BIS sex known: day known but month unknown
        "852431123",  # BIS: 31 April
    ],
)
def test_parse_insz_rejects_date_when_month_or_day_impossible(base9: str) -> None:
    for after_1999 in (False, True):
        value = base9 + insz_check_digits(base9, born_after_1999=after_1999)
        with pytest.raises(IdentifierError) as err:
            parse_insz(value)
        assert err.value.reason == "INSZ_INVALID_DATE"


@pytest.mark.parametrize("base9", ["850714000", "850714999", "854930000", "852300999"])
def test_parse_insz_rejects_serial_when_000_or_999(base9: str) -> None:
    value = base9 + insz_check_digits(base9, born_after_1999=False)
    with pytest.raises(IdentifierError) as err:
        parse_insz(value)
    assert err.value.reason == "INSZ_INVALID_SERIAL"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85.07.14-123.30", "85071412330"),
        (" 85 07 14 123 30 ", "85071412330"),
        ("85071412330", "85071412330"),
        ("72.23.00-002.22", "72230000222"),
    ],
)
def test_normalize_insz_strips_separators_when_typed_by_a_human(text: str, expected: str) -> None:
    assert normalize_insz(text) == expected


@pytest.mark.parametrize("text", ["85/07/14 123 30", ARABIC_INDIC, "85.07.14-123.31", ""])
def test_normalize_insz_rejects_when_still_invalid_after_stripping(text: str) -> None:
    with pytest.raises(IdentifierError):
        normalize_insz(text)


@FAST
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_insz_error_never_echoes_number_when_rejected(value: str) -> None:
    try:
        parse_insz(value)
    except IdentifierError as err:
        assert value not in str(err)
        assert value not in err.description
        assert err.reason.startswith("INSZ_")


def test_identifier_error_is_value_error_when_caught_generically() -> None:
    with pytest.raises(ValueError):
        parse_insz("x")


# --------------------------------------------------------------------------------------------------
# INSZ: make_insz
# --------------------------------------------------------------------------------------------------


@FAST
@given(insz_components())
def test_parse_insz_round_trips_when_number_built_by_make_insz(components: dict) -> None:
    value = make_insz(**components)
    insz = parse_insz(value)
    kind, year = components["kind"], components["birth_year"]
    month, day, serial = components["birth_month"], components["birth_day"], components["serial"]

    assert insz.value == value
    assert insz.kind is kind
    assert insz.birth_year == year
    assert insz.born_after_1999 is (year >= 2000)
    assert (insz.birth_month, insz.birth_day, insz.serial) == (month, day, serial)
    if kind is InszKind.BIS_SEX_UNKNOWN:
        assert insz.sex is Sex.UNKNOWN
    else:
        assert insz.sex is (Sex.MALE if serial % 2 == 1 else Sex.FEMALE)
    assert insz.birth_date == (dt.date(year, month, day) if month and day else None)
    # The layout and check digits agree with an independent reading of the rules.
    offset = {InszKind.NATIONAL_REGISTER: 0, InszKind.BIS_SEX_UNKNOWN: 20}.get(kind, 40)
    assert value[:9] == f"{year % 100:02d}{month + offset:02d}{day:02d}{serial:03d}"
    assert int(value[9:]) == reference_insz_check(value[:9], year >= 2000)
    assert normalize_insz(insz.formatted()) == value


@pytest.mark.parametrize(
    "components",
    [
        {"birth_year": 1899, "birth_month": 1, "birth_day": 1, "serial": 1},
        {"birth_year": 2100, "birth_month": 1, "birth_day": 1, "serial": 1},
        {"birth_year": 1985, "birth_month": 13, "birth_day": 1, "serial": 1},
        {"birth_year": 1985, "birth_month": -1, "birth_day": 1, "serial": 1},
        {"birth_year": 1985, "birth_month": 4, "birth_day": 31, "serial": 1},
        {"birth_year": 1985, "birth_month": 1, "birth_day": 32, "serial": 1},
        {"birth_year": 1985, "birth_month": 0, "birth_day": 5, "serial": 1},
        {"birth_year": 1900, "birth_month": 2, "birth_day": 29, "serial": 1},
        {"birth_year": 1985, "birth_month": 1, "birth_day": 1, "serial": 0},
        {"birth_year": 1985, "birth_month": 1, "birth_day": 1, "serial": 999},
        {"birth_year": 1985.0, "birth_month": 1, "birth_day": 1, "serial": 1},
        {"birth_year": 1985, "birth_month": 1, "birth_day": 1, "serial": True},
        {
            "birth_year": 1985,
            "birth_month": 0,
            "birth_day": 3,
            "serial": 1,
            "kind": InszKind.BIS_SEX_KNOWN,
        },
    ],
)
def test_make_insz_rejects_components_when_no_valid_number_encodes_them(components: dict) -> None:
    with pytest.raises(IdentifierError) as err:
        make_insz(**components)
    assert err.value.reason == "INSZ_INVALID_COMPONENTS"


def test_make_insz_accepts_leap_day_when_year_is_2000() -> None:
    value = make_insz(birth_year=2000, birth_month=2, birth_day=29, serial=1)
    assert parse_insz(value).birth_date == dt.date(2000, 2, 29)


# --------------------------------------------------------------------------------------------------
# INSZ: error detection
# --------------------------------------------------------------------------------------------------


def test_only_second_year_digit_by_six_can_reach_other_century_when_one_digit_changes() -> None:
    # The brief's claim, derived from the digit weights: a change at index i by delta moves the
    # mod-97 residue by delta * weight(i); only a move of +-CENTURY_SHIFT can satisfy the other
    # rule (a move of 0 would be needed for the same rule, and 97 is prime, so never).
    flips = {
        (i, delta)
        for i in range(11)
        for delta in [*range(-9, 0), *range(1, 10)]
        if insz_residue_shift_of_change(i, delta) in OTHER_RULE_SHIFTS
    }
    assert flips == {(1, 6), (1, -6)}
    assert all(
        insz_residue_shift_of_change(i, delta) != 0
        for i in range(11)
        for delta in [*range(-9, 0), *range(1, 10)]
    )


def test_month_and_day_swaps_can_reach_other_century_when_adjacent_digits_transposed() -> None:
    # Same derivation for swaps: (b - a) * (weight(i) - weight(i + 1)). Contrary to the brief's
    # "every transposition fails", swapping the month digits when they differ by 2 (02<->20,
    # 24<->42) moves the residue by +-CENTURY_SHIFT; swapping the day digits when they differ by 6
    # does too, but one of the two days is then always > 31, so that one never validates.
    flips = {
        (i, diff)
        for i in range(10)
        for diff in [*range(-9, 0), *range(1, 10)]
        if insz_residue_shift_of_swap(i, diff) in OTHER_RULE_SHIFTS
    }
    assert flips == {(2, 2), (2, -2), (4, 6), (4, -6)}
    assert all(
        insz_residue_shift_of_swap(i, diff) != 0
        for i in range(10)
        for diff in [*range(-9, 0), *range(1, 10)]
    )


@pytest.mark.parametrize(
    ("original", "mutant", "kind", "year", "month"),
    [
        # Second year digit +6: a woman born 01-02-2003 becomes one born 01-02-1909.
        ("03020100274", "09020100274", InszKind.NATIONAL_REGISTER, 1909, 2),
        # Month digits swapped (24 -> 42): BIS sex unknown April 2010 -> BIS male February 1910.
        ("10241500153", "10421500153", InszKind.BIS_SEX_KNOWN, 1910, 2),
        # Month digits swapped (20 -> 02): BIS month unknown 1985 -> NR February 2085, day unknown.
        ("85200012356", "85020012356", InszKind.NATIONAL_REGISTER, 2085, 2),
        # Month digits swapped (02 -> 20): NR February 2003, day unknown -> BIS 1903.
        ("03020000207", "03200000207", InszKind.BIS_SEX_UNKNOWN, 1903, 0),
    ],
)
def test_mutant_reports_other_century_when_it_satisfies_other_rule(
    original: str, mutant: str, kind: InszKind, year: int, month: int
) -> None:
    before, after = parse_insz(original), parse_insz(mutant)
    assert after.born_after_1999 is not before.born_after_1999
    assert (after.kind, after.birth_year, after.birth_month) == (kind, year, month)


@MUTATIONS
@given(valid_insz)
def test_insz_rejected_or_other_century_when_one_digit_changed(value: str) -> None:
    original = parse_insz(value)
    for index, delta, mutant in single_digit_changes(value):
        could_flip = insz_residue_shift_of_change(index, delta) in OTHER_RULE_SHIFTS
        assert_rejected_or_other_century(original, mutant, could_flip)


@MUTATIONS
@given(valid_insz)
def test_insz_rejected_or_other_century_when_adjacent_digits_transposed(value: str) -> None:
    original = parse_insz(value)
    for index, diff, mutant in adjacent_transpositions(value):
        could_flip = insz_residue_shift_of_swap(index, diff) in OTHER_RULE_SHIFTS
        assert_rejected_or_other_century(original, mutant, could_flip)


# --------------------------------------------------------------------------------------------------
# KBO/BCE enterprise numbers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("0314595348", "0314595348"),
        ("0203201340", "0203201340"),
        ("0314.595.348", "0314595348"),
        ("314595348", "0314595348"),
    ],
)
def test_parse_enterprise_number_returns_canonical_when_valid(value: str, canonical: str) -> None:
    number = parse_enterprise_number(value)
    assert number == EnterpriseNumber(canonical)
    assert number.formatted() == f"{canonical[:4]}.{canonical[4:7]}.{canonical[7:]}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0314595349", "ENTERPRISE_NUMBER_CHECK_DIGITS"),
        ("", "ENTERPRISE_NUMBER_MALFORMED"),
        ("03145953", "ENTERPRISE_NUMBER_MALFORMED"),
        ("03145953480", "ENTERPRISE_NUMBER_MALFORMED"),
        ("0314.595348", "ENTERPRISE_NUMBER_MALFORMED"),
        ("0314 595 348", "ENTERPRISE_NUMBER_MALFORMED"),
        ("BE0314595348", "ENTERPRISE_NUMBER_MALFORMED"),
        (" 0314595348", "ENTERPRISE_NUMBER_MALFORMED"),
        ("0314595348\n", "ENTERPRISE_NUMBER_MALFORMED"),
        ("".join(chr(0x0660 + int(c)) for c in "0314595348"), "ENTERPRISE_NUMBER_MALFORMED"),
        (None, "ENTERPRISE_NUMBER_MALFORMED"),
    ],
)
def test_parse_enterprise_number_rejects_with_reason_when_invalid(value: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as err:
        parse_enterprise_number(value)
    assert err.value.reason == reason


@pytest.mark.parametrize("first_digit", "2345678")
def test_parse_enterprise_number_rejects_establishment_unit_when_first_digit_2_to_8(
    first_digit: str,
) -> None:
    leading = first_digit + "1234567"
    value = leading + f"{97 - int(leading) % 97:02d}"
    with pytest.raises(IdentifierError) as err:
        parse_enterprise_number(value)
    assert err.value.reason == "ENTERPRISE_NUMBER_IS_ESTABLISHMENT_UNIT"


def test_parse_enterprise_number_rejects_as_malformed_when_first_digit_is_9() -> None:
    leading = "91234567"
    with pytest.raises(IdentifierError) as err:
        parse_enterprise_number(leading + f"{97 - int(leading) % 97:02d}")
    assert err.value.reason == "ENTERPRISE_NUMBER_MALFORMED"


@FAST
@given(enterprise_sequences)
def test_parse_enterprise_number_round_trips_when_built_by_make(sequence8: int) -> None:
    value = make_enterprise_number(sequence8)
    assert len(value) == 10 and value[0] in "01"
    assert int(value[8:]) == 97 - sequence8 % 97
    assert parse_enterprise_number(value).value == value
    assert parse_enterprise_number(parse_enterprise_number(value).formatted()).value == value


@pytest.mark.parametrize("sequence8", [-1, 20_000_000, 99_999_999, True])
def test_make_enterprise_number_rejects_when_sequence_cannot_start_with_0_or_1(
    sequence8: int,
) -> None:
    with pytest.raises(IdentifierError) as err:
        make_enterprise_number(sequence8)
    assert err.value.reason == "ENTERPRISE_NUMBER_MALFORMED"


@MUTATIONS
@given(valid_enterprise_numbers)
def test_enterprise_number_rejected_when_one_digit_changed(value: str) -> None:
    for _, _, mutant in single_digit_changes(value):
        with pytest.raises(IdentifierError):
            parse_enterprise_number(mutant)


@MUTATIONS
@given(valid_enterprise_numbers)
def test_enterprise_number_rejected_when_adjacent_digits_transposed(value: str) -> None:
    for _, _, mutant in adjacent_transpositions(value):
        with pytest.raises(IdentifierError):
            parse_enterprise_number(mutant)


# --------------------------------------------------------------------------------------------------
# ONSS numbers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0009354-67", "000935467", "0000935467"])
def test_parse_onss_number_gives_same_canonical_when_written_in_any_accepted_form(
    value: str,
) -> None:
    number = parse_onss_number(value)
    assert number == OnssNumber("000935467", provisional=False)
    assert number.formatted() == "0009354-67"


@pytest.mark.parametrize(("sequence", "check"), [(9_354, "67"), (1_000, "06"), (1_999_999, "34")])
def test_make_onss_number_reproduces_published_check_digits_when_definitive(
    sequence: int, check: str
) -> None:
    assert make_onss_number(sequence) == f"{sequence:07d}{check}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("000935468", "ONSS_NUMBER_CHECK_DIGITS"),
        ("0009354-68", "ONSS_NUMBER_CHECK_DIGITS"),
        ("", "ONSS_NUMBER_MALFORMED"),
        ("00093546", "ONSS_NUMBER_MALFORMED"),
        ("1000935467", "ONSS_NUMBER_MALFORMED"),  # 10 digits must start with 0 or 51
        ("5200000000", "ONSS_NUMBER_MALFORMED"),
        ("00000935467", "ONSS_NUMBER_MALFORMED"),
        ("0009354 67", "ONSS_NUMBER_MALFORMED"),
        ("0009354--67", "ONSS_NUMBER_MALFORMED"),
        ("00093-5467", "ONSS_NUMBER_MALFORMED"),
        ("00-0009354-67", "ONSS_NUMBER_MALFORMED"),
        (" 000935467", "ONSS_NUMBER_MALFORMED"),
        ("000935467\n", "ONSS_NUMBER_MALFORMED"),
        ("".join(chr(0x0660 + int(c)) for c in "000935467"), "ONSS_NUMBER_MALFORMED"),
        (None, "ONSS_NUMBER_MALFORMED"),
    ],
)
def test_parse_onss_number_rejects_with_reason_when_invalid(value: str, reason: str) -> None:
    with pytest.raises(IdentifierError) as err:
        parse_onss_number(value)
    assert err.value.reason == reason


@pytest.mark.parametrize("sequence", ["0000000", "0000999", "2000000", "9999999"])
def test_parse_onss_number_rejects_out_of_range_when_sequence_outside_1000_to_1999999(
    sequence: str,
) -> None:
    value = sequence + f"{reference_onss_check(sequence):02d}"
    with pytest.raises(IdentifierError) as err:
        parse_onss_number(value)
    assert err.value.reason == "ONSS_NUMBER_OUT_OF_RANGE"


@pytest.mark.parametrize(
    ("sequence", "provisional"), [(999, False), (2_000_000, False), (-1, True), (1_000_000, True)]
)
def test_make_onss_number_rejects_when_sequence_out_of_range(
    sequence: int, provisional: bool
) -> None:
    with pytest.raises(IdentifierError) as err:
        make_onss_number(sequence, provisional=provisional)
    assert err.value.reason == "ONSS_NUMBER_OUT_OF_RANGE"


@FAST
@given(definitive_onss_sequences)
def test_parse_onss_number_round_trips_when_definitive(sequence: int) -> None:
    value = make_onss_number(sequence)
    assert len(value) == 9
    assert int(value[7:]) == reference_onss_check(value[:7])
    for written in (value, "0" + value, f"{value[:7]}-{value[7:]}"):
        number = parse_onss_number(written)
        assert number == OnssNumber(value, provisional=False)
    assert parse_onss_number(value).formatted() == f"{value[:7]}-{value[7:]}"


@FAST
@given(provisional_onss_sequences)
def test_parse_onss_number_round_trips_when_provisional(sequence: int) -> None:
    value = make_onss_number(sequence, provisional=True)
    assert len(value) == 10 and value.startswith("51")
    assert int(value[2:8]) == sequence
    assert int(value[8:]) == reference_onss_check(value[:8])
    number = parse_onss_number(value)
    assert number == OnssNumber(value, provisional=True)
    assert number.formatted() == value


@MUTATIONS
@given(valid_onss_numbers)
def test_onss_number_rejected_when_one_digit_changed(value: str) -> None:
    forms = [value] if len(value) == 10 else [value, "0" + value]  # also the DIMONA 10-digit form
    for written in forms:
        for _, _, mutant in single_digit_changes(written):
            with pytest.raises(IdentifierError):
                parse_onss_number(mutant)


@MUTATIONS
@given(valid_onss_numbers)
def test_onss_number_rejected_when_adjacent_digits_transposed(value: str) -> None:
    forms = [value] if len(value) == 10 else [value, "0" + value]
    for written in forms:
        for _, _, mutant in adjacent_transpositions(written):
            with pytest.raises(IdentifierError):
                parse_onss_number(mutant)
