"""Belgian regions by postcode.

Belgian postcodes are four digits, 1000-9999, allocated by province, so the region follows from
the number:

| Postcodes | Region                                                                  |
|-----------|-------------------------------------------------------------------------|
| 1000-1299 | Brussels-Capital                                                        |
| 1300-1499 | Wallonia (Walloon Brabant)                                              |
| 1500-3999 | Flanders (Flemish Brabant, Antwerp, Limburg)                            |
| 4000-7999 | Wallonia (Liège with the German-speaking area, Namur, Luxembourg, Hainaut) |
| 8000-9999 | Flanders (West and East Flanders)                                       |

Later issues use this to pick regional institutions (e.g. family-allowance funds). The
municipalities of the German-speaking Community (Eupen to Burg-Reuland, 4700-4791) lie in the
Walloon Region, which is what this helper answers; a community-level helper would need its own
table.
"""

from __future__ import annotations

import enum
import re

_BELGIAN_POSTCODE = re.compile(r"[1-9][0-9]{3}", re.ASCII)


class Region(enum.Enum):
    """The three regions of Belgium."""

    BRUSSELS = "BRUSSELS"
    FLANDERS = "FLANDERS"
    WALLONIA = "WALLONIA"


def is_belgian_postcode(postcode: str) -> bool:
    """Four ASCII digits, 1000 to 9999."""
    return bool(_BELGIAN_POSTCODE.fullmatch(postcode))


def region_for_postcode(postcode: str, country_code: str = "BE") -> Region | None:
    """The region of a Belgian postcode; None for a foreign address or a malformed postcode."""
    if country_code != "BE" or not is_belgian_postcode(postcode):
        return None
    number = int(postcode)
    if number <= 1299:
        return Region.BRUSSELS
    if number <= 1499:
        return Region.WALLONIA
    if number <= 3999:
        return Region.FLANDERS
    if number <= 7999:
        return Region.WALLONIA
    return Region.FLANDERS
