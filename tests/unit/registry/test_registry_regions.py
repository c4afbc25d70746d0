"""Belgian postcodes tell the region."""

from __future__ import annotations

import pytest

from registry.service.regions import Region, is_belgian_postcode, region_for_postcode


@pytest.mark.parametrize(
    ("postcode", "region"),
    [
        ("1000", Region.BRUSSELS),
        ("1299", Region.BRUSSELS),
        ("1300", Region.WALLONIA),
        ("1499", Region.WALLONIA),
        ("1500", Region.FLANDERS),
        ("2000", Region.FLANDERS),
        ("3999", Region.FLANDERS),
        ("4000", Region.WALLONIA),
        ("4700", Region.WALLONIA),
        ("7999", Region.WALLONIA),
        ("8000", Region.FLANDERS),
        ("9999", Region.FLANDERS),
    ],
)
def test_region_follows_postcode_when_address_is_belgian(postcode: str, region: Region) -> None:
    assert region_for_postcode(postcode) is region


@pytest.mark.parametrize("postcode", ["0999", "999", "10000", "1 000", "", "١٠٠٠", "abcd"])
def test_region_is_none_when_postcode_is_not_belgian(postcode: str) -> None:
    assert not is_belgian_postcode(postcode)
    assert region_for_postcode(postcode) is None


def test_region_is_none_when_address_is_abroad() -> None:
    assert region_for_postcode("2000", "NL") is None
