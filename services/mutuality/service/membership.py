"""Who is a member of which demonstration mutuality: a deterministic rule over the register's
seeded population (the mutualities' own data, made up for `make run` and the tests).

Every person of the list is a member of at most one demonstration mutuality, so the sets are
disjoint and the routers always find one holder or none: 45 % of the persons are members of
`mut-100`, 45 % of `mut-200`, 10 % of neither, chosen by a SHA-256 of the INSZ (the same on every
machine, whatever the order or the size of the list). The persons the README and the tests name
(the registry's fixed persons, runtime.identifiers' worked examples) are placed by hand. Persons
under 18 on `REFERENCE_DATE` are dependents, insured from birth; 3 % of the members have their
rights suspended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from mutuality.service.model import Affiliation, Insurability, Role
from runtime import identifiers

DEMO_MUTUALITIES = ("mut-100", "mut-200")
#: The day the demonstration data describes (the register's synthetic population's day).
REFERENCE_DATE = dt.date(2025, 1, 1)
MEMBER_PERCENT = 45  # per mutuality; the rest is nobody's member
SUSPENDED_PERCENT = 3
EARLIEST_START = dt.date(1990, 1, 1)

#: The registry's fixed persons: (mutuality or None, member since). The start dates are those
#: the primary router's seed integrates for the college (`cin`) directly.
FIXED: dict[str, tuple[str | None, dt.date | None]] = {
    "85071412330": ("mut-100", dt.date(2003, 9, 1)),  # Jan Peeters
    "03020100274": ("mut-200", dt.date(2021, 2, 1)),  # Marie Dubois
    "06070500252": (None, None),  # Lotte Janssens: nobody's member (NO_HOLDER in the README)
}


def _digest(insz: str) -> bytes:
    return hashlib.sha256(f"carrefour-mutuality/{insz}".encode()).digest()


def mutuality_of(insz: str) -> str | None:
    """The demonstration mutuality `insz` is a member of, or None."""
    if insz in FIXED:
        return FIXED[insz][0]
    bucket = int.from_bytes(_digest(insz)[:4], "big") % 100
    index = bucket // MEMBER_PERCENT
    return DEMO_MUTUALITIES[index] if index < len(DEMO_MUTUALITIES) else None


def affiliation(mutuality: str, insz: str) -> Affiliation:
    """The demonstration affiliation of a member (`mutuality_of(insz) == mutuality`)."""
    digest = _digest(insz)
    parsed = identifiers.parse_insz(insz)
    birth = parsed.birth_date
    minor = birth is not None and birth > REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 18)
    if insz in FIXED and FIXED[insz][1] is not None:
        since = FIXED[insz][1]
    elif minor and birth is not None:
        since = birth
    else:
        start = max(birth or EARLIEST_START, EARLIEST_START)
        span = max((REFERENCE_DATE - start).days, 1)
        since = start + dt.timedelta(days=int.from_bytes(digest[4:8], "big") % span)
    suspended = insz not in FIXED and digest[8] % 100 < SUSPENDED_PERCENT
    return Affiliation(
        mutuality=mutuality,
        insz=insz,
        since=since,
        until=None,
        role=Role.DEPENDENT if minor else Role.HOLDER,
        insurability=Insurability.SUSPENDED if suspended else Insurability.INSURED,
    )


def members(mutuality: str, population: Iterable[str]) -> list[Affiliation]:
    """The affiliations of `mutuality`'s members among `population` (INSZs), in INSZ order."""
    if mutuality not in DEMO_MUTUALITIES:
        raise ValueError(
            f"{mutuality} is not a demonstration mutuality ({', '.join(DEMO_MUTUALITIES)})"
        )
    chosen = sorted({i for i in population if mutuality_of(i) == mutuality})
    return [affiliation(mutuality, insz) for insz in chosen]
