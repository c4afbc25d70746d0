"""Read masks name information types; nothing else is accepted."""

from __future__ import annotations

import pytest

from registry.service.masks import parse_read_mask
from registry.service.model import ALL_INFO_TYPES, InfoType
from runtime.errors import InvalidArgument


def test_mask_is_every_type_when_wildcard_is_given() -> None:
    assert parse_read_mask(["*"]) == ALL_INFO_TYPES
    assert parse_read_mask(["identity", "*"]) == ALL_INFO_TYPES


def test_mask_is_exactly_the_named_types_when_paths_are_known() -> None:
    assert parse_read_mask(["identity", "address", "identity"]) == {
        InfoType.IDENTITY,
        InfoType.ADDRESS,
    }


@pytest.mark.parametrize("info", list(InfoType))
def test_mask_accepts_each_type_when_named_alone(info: InfoType) -> None:
    assert parse_read_mask([info.value]) == {info}


def test_mask_is_refused_when_empty() -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_read_mask([])
    assert err.value.reason == "READ_MASK_REQUIRED"
    assert err.value.violations[0].field == "read_mask"


@pytest.mark.parametrize(
    "path", ["identity.last_name", "IDENTITY", "name", "insz", "", " identity", "**"]
)
def test_mask_is_refused_when_a_path_is_not_an_information_type(path: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_read_mask(["birth", path])
    assert err.value.reason == "UNKNOWN_INFORMATION_TYPE"
    assert [v.field for v in err.value.violations] == ["read_mask.paths[1]"]
