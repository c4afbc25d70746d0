"""Read masks: which information types of a person a caller asks for.

A read mask names whole information types (the top-level fields of `Person`), or `*` for all of
them. An empty mask is refused (`READ_MASK_REQUIRED`): a caller must say what it needs, so that
what it receives is what it was authorised for and nothing more. Sub-paths (`identity.sex`) are
not information types and are refused like unknown names (`UNKNOWN_INFORMATION_TYPE`).

The result is a `frozenset[InfoType]`, the same currency as an authorisation's cap in later
issues: the caller of `RegistryQueries.get_person` may intersect or compare it with what the
caller is allowed to see before asking.
"""

from __future__ import annotations

from collections.abc import Sequence

from registry.service.model import ALL_INFO_TYPES, InfoType
from runtime.errors import FieldViolation, InvalidArgument

WILDCARD = "*"
_BY_NAME = {t.value: t for t in InfoType}
_NAMES = ", ".join(t.value for t in InfoType)


def parse_read_mask(paths: Sequence[str], field: str = "read_mask") -> frozenset[InfoType]:
    """The information types named by the mask's paths (all of them for `*`)."""
    if not paths:
        raise InvalidArgument(
            "READ_MASK_REQUIRED",
            f"{field}: name the information types you need ({_NAMES}, or *)",
            violations=[FieldViolation(field, "required", "READ_MASK_REQUIRED")],
        )
    wanted: set[InfoType] = set()
    unknown: list[FieldViolation] = []
    for i, path in enumerate(paths):
        if path == WILDCARD:
            wanted.update(ALL_INFO_TYPES)
        elif path in _BY_NAME:
            wanted.add(_BY_NAME[path])
        else:
            unknown.append(
                FieldViolation(
                    f"{field}.paths[{i}]",
                    f"not an information type; expected one of {_NAMES}, or *",
                    "UNKNOWN_INFORMATION_TYPE",
                )
            )
    if unknown:
        raise InvalidArgument.for_fields(unknown)
    return frozenset(wanted)
