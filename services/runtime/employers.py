"""The development mesh's synthetic employer register (the ONSS's employer repertory), shared
by the seeds of the ONSS's services (DIMONA, the DmfA, the DRS), each of which loads a copy in
its own database — a service never reads another's.

The register: the employers the development PKI has certificates for, a
handful of named ones covering the worker types' joint committees, and generated ones — a mix of
joint committees and sizes, some with provisional ONSS numbers (usable only for Dimona until a
definitive number exists). Deterministic: the same list on every machine.

Mandates: the payroll bureau of the PKI (`bureau/0314595348`) is mandated by employer
000100006 and by some generated employers — not by employer 000935467, which declares itself.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from runtime.identifiers import make_enterprise_number, make_onss_number


@dataclass(frozen=True)
class Employer:
    """An employer of the synthetic register."""

    onss_number: str  # canonical (runtime.identifiers.parse_onss_number)
    enterprise_number: str  # KBO, 10 digits
    name: str
    provisional: bool
    #: Joint committees the employer's workers fall under (informative).
    joint_committees: tuple[str, ...] = ()
    #: Size class by number of workers, e.g. "1-4", ..., "1000+".
    size_class: str = ""


#: The payroll bureau of the development PKI (a KBO number).
BUREAU = "0314595348"
#: Employers with a certificate in the development PKI (runtime.pki.DEV_PARTIES).
STATE = "000935467"  # 0009354-67
RETAIL = "000100006"  # 0001000-06
MANDATE_FROM = dt.date(2020, 1, 1)

NAMED: tuple[Employer, ...] = (
    Employer(STATE, "0314595348", "Service public fédéral Économie", False, ("XXX",), "1000+"),
    Employer(RETAIL, "0203201340", "Supermarché Delhaize-Lion (synthetic)", False,
             ("202", "201", "118"), "200-499"),
    Employer(make_onss_number(1_234_567), make_enterprise_number(4_123_456),
             "Brasserie du Sablon", False, ("302",), "10-19"),
    Employer(make_onss_number(1_345_678), make_enterprise_number(4_234_567),
             "Bouw Vandamme", False, ("124",), "50-99"),
    Employer(make_onss_number(1_456_789), make_enterprise_number(4_345_678),
             "Tuinbouw De Serre", False, ("145", "144"), "20-49"),
    Employer(make_onss_number(123_456, provisional=True), make_enterprise_number(4_456_789),
             "Start-up Quantique (provisional number)", True, ("200",), "1-4"),
    Employer(make_onss_number(1_567_890), make_enterprise_number(4_567_890),
             "Interim Plus (temporary work agency)", False, ("322",), "100-199"),
)  # fmt: skip

_COMMITTEES = ("200", "302", "124", "118", "202", "140", "330", "319", "226", "209", "111", "322")
_SIZES = ("1-4", "5-9", "10-19", "20-49", "50-99", "100-199", "200-499", "500-999", "1000+")
_NAMES = ("Atelier", "Boulangerie", "Garage", "Clinique", "Logistics", "Transport", "Software",
          "Kapsalon", "Bakkerij", "Hôtel", "Drukkerij", "Brouwerij")  # fmt: skip
GENERATED = 40


def employers(count: int = GENERATED, seed: int = 6) -> list[Employer]:
    """The named employers and `count` generated ones (every tenth with a provisional number)."""
    rng = random.Random(seed)
    out = list(NAMED)
    used = {e.onss_number for e in out}
    i = 0
    while len(out) < len(NAMED) + count:
        i += 1
        provisional = i % 10 == 0
        number = (
            make_onss_number(rng.randrange(0, 1_000_000), provisional=True)
            if provisional
            else make_onss_number(rng.randrange(2_000, 1_999_999))
        )
        if number in used:
            continue
        used.add(number)
        committees = tuple(sorted(rng.sample(_COMMITTEES, rng.choice((1, 1, 2)))))
        out.append(
            Employer(
                number,
                make_enterprise_number(rng.randrange(0, 20_000_000)),
                f"{rng.choice(_NAMES)} {i:03d} (synthetic)",
                provisional,
                committees,
                rng.choice(_SIZES),
            )
        )
    return out


def mandates(register: list[Employer]) -> list[tuple[str, str, dt.date]]:
    """(employer, bureau, valid from): the bureau serves RETAIL, the horeca and construction
    employers and every third generated employer."""
    chosen = [RETAIL, NAMED[2].onss_number, NAMED[3].onss_number]
    chosen += [e.onss_number for e in register[len(NAMED) :: 3]]
    return [(employer, BUREAU, MANDATE_FROM) for employer in chosen]
