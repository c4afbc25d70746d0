"""The DRS's development data: which employers file ZIMA 001 spontaneously (DestHa), and the
work-accident insurers the ONSS knows.

The employer register itself is the shared synthetic list (runtime.employers): the ONSS keeps one
register; in this development mesh DIMONA, the DmfA and the DRS each hold a copy in their own
database, loaded from the same list.

DestHa (UNCONFIRMED which employers): the federal public service (STATE, 000935467) and every
fourth generated employer file spontaneously; the retail employer (000100006) does not, so a
ZIMA 001 of its workers waits for a mutuality's request (its to-do list shows it).

Insurers: Ethias SA, KBO 0404.484.654 (its annual report 2010: "TVA BE 0404.484.654"; the
number passes the mod-97 check), institution `ethias` in the router's seed (its inbox receives
work-accident attestations). Other insurers have no inbox in this mesh yet; adding one is a row
here plus its inbox and authorisation in the router's seed.
"""

from __future__ import annotations

from collections.abc import Sequence

from drs.service.model import Insurer
from runtime.employers import STATE

ETHIAS_KBO = "0404484654"
INSURERS: tuple[Insurer, ...] = (Insurer(ETHIAS_KBO, "ethias", "Ethias SA"),)
SPONTANEOUS = frozenset({STATE})


def files_spontaneously(onss_number: str, index: int) -> bool:
    """DestHa for the named STATE employer and every fourth employer of the list after the
    named ones (index in runtime.employers.employers())."""
    return onss_number in SPONTANEOUS or (index >= 7 and index % 4 == 0)


def spontaneous(numbers: Sequence[str]) -> set[str]:
    return {n for i, n in enumerate(numbers) if files_spontaneously(n, i)}
