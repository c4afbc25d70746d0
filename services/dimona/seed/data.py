"""DIMONA's copy of the synthetic employer register (runtime.employers, shared by the ONSS's
services' seeds), as DIMONA's own model."""

from __future__ import annotations

from dimona.service.model import Employer
from runtime import employers as register
from runtime.employers import BUREAU, GENERATED, MANDATE_FROM, RETAIL, STATE, mandates

__all__ = [
    "BUREAU",
    "GENERATED",
    "MANDATE_FROM",
    "NAMED",
    "RETAIL",
    "STATE",
    "employers",
    "mandates",
]


def _own(e: register.Employer) -> Employer:
    return Employer(
        e.onss_number, e.enterprise_number, e.name, e.provisional, e.joint_committees, e.size_class
    )


NAMED: tuple[Employer, ...] = tuple(_own(e) for e in register.NAMED)


def employers(count: int = GENERATED, seed: int = 6) -> list[Employer]:
    """The named employers and `count` generated ones (runtime.employers.employers)."""
    return [_own(e) for e in register.employers(count, seed)]
