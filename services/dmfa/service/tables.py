"""The DmfA's code and rate tables (tables.toml), loaded and checked once.

`Tables.load()` reads the packaged file; `Tables.parse(text)` any other (tests pass their own, to
test a rate change without touching the real table). Every inconsistency — an unknown scheme, a
rate that is not a decimal, two lines for one scheme, category and quarter — raises `TableError`
at load time, never later during a declaration.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dmfa.service.model import Party, Quarter

TABLES_FILE = Path(__file__).with_name("tables.toml")
SCHEMES = ("ORDINARY", "STUDENT", "FLEXI")
_CODE = re.compile(r"\d{3}")
_KIND = re.compile(r"[A-Z][A-Z0-9_]*")


class TableError(ValueError):
    """The tables file is inconsistent."""


@dataclass(frozen=True)
class WorkerCode:
    code: str
    label: str
    scheme: str
    basis_percent: Decimal
    dimona_types: frozenset[str]


@dataclass(frozen=True)
class RateLine:
    party: Party
    kind: str
    rate: Decimal  # percent


@dataclass(frozen=True)
class RateEntry:
    scheme: str
    employer_category: int
    first: Quarter
    last: Quarter | None
    lines: tuple[RateLine, ...]

    def covers(self, quarter: Quarter) -> bool:
        return self.first <= quarter and (self.last is None or quarter <= self.last)


@dataclass(frozen=True)
class Tables:
    worker_codes: dict[str, WorkerCode]
    service_codes: dict[str, bool]  # code -> paid
    remuneration_codes: dict[str, bool]  # code -> subject to contributions
    exempt_dimona_types: frozenset[str]
    rates: tuple[RateEntry, ...]

    def rate_lines(
        self, scheme: str, employer_category: int, quarter: Quarter
    ) -> tuple[RateLine, ...] | None:
        for entry in self.rates:
            if (
                entry.scheme == scheme
                and entry.employer_category == employer_category
                and entry.covers(quarter)
            ):
                return entry.lines
        return None

    @classmethod
    def load(cls, path: Path = TABLES_FILE) -> Tables:
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> Tables:
        try:
            raw = tomllib.loads(text)
            tables = cls(
                worker_codes={
                    code: _worker_code(code, body)
                    for code, body in _table(raw, "worker_codes").items()
                },
                service_codes={
                    _code(code): _bool(body["paid"], f"service code {code} paid")
                    for code, body in _table(raw, "service_codes").items()
                },
                remuneration_codes={
                    _code(code): _bool(body["subject"], f"remuneration code {code} subject")
                    for code, body in _table(raw, "remuneration_codes").items()
                },
                exempt_dimona_types=_strings(
                    _table(raw, "dimona")["exempt_types"], "dimona.exempt_types"
                ),
                rates=tuple(_rate(entry) for entry in raw.get("rates", [])),
            )
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise TableError(f"DmfA tables: {exc}") from exc
        _check_overlaps(tables.rates)
        return tables


def _table(raw: dict, name: str) -> dict:
    value = raw[name]
    if not isinstance(value, dict):
        raise TableError(f"{name} must be a table")
    return value


def _code(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise TableError(f"code {code!r} is not 3 digits")
    return code


def _bool(value: object, what: str) -> bool:
    """A TOML boolean (`bool("false")` would be True)."""
    if not isinstance(value, bool):
        raise TableError(f"{what}: {value!r} is not true or false")
    return value


def _strings(value: object, what: str) -> frozenset[str]:
    """A list of strings (a bare string would become a set of its letters)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TableError(f"{what}: {value!r} is not a list of strings")
    return frozenset(value)


def _decimal(text: object, what: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise TableError(f"{what}: {text!r} is not a decimal") from None
    if not value.is_finite() or value < 0 or value > 200:
        raise TableError(f"{what}: {text!r} is out of range")
    return value


def _worker_code(code: str, body: dict) -> WorkerCode:
    scheme = body["scheme"]
    if scheme not in SCHEMES:
        raise TableError(f"worker code {code}: unknown scheme {scheme!r}")
    return WorkerCode(
        _code(code),
        str(body["label"]),
        scheme,
        _decimal(body["basis_percent"], f"worker code {code} basis"),
        _strings(body["dimona_types"], f"worker code {code} dimona_types"),
    )


def _quarter(text: str, what: str) -> Quarter | None:
    if text == "":
        return None
    quarter = Quarter.parse(text)
    if quarter is None:
        raise TableError(f"{what}: {text!r} is not a quarter like 2024Q1")
    return quarter


def _rate(entry: dict) -> RateEntry:
    scheme = entry["scheme"]
    if scheme not in SCHEMES:
        raise TableError(f"rates: unknown scheme {scheme!r}")
    first = _quarter(entry["from"], "rates.from")
    if first is None:
        raise TableError("rates.from is required")
    last = _quarter(entry["to"], "rates.to")
    if last is not None and last < first:
        raise TableError(f"rates: {last} before {first}")
    lines = []
    for line in entry["lines"]:
        if not _KIND.fullmatch(line["kind"]):
            raise TableError(f"rates: kind {line['kind']!r} is not UPPER_SNAKE_CASE")
        lines.append(
            RateLine(Party(line["party"]), line["kind"], _decimal(line["rate"], "rates.rate"))
        )
    category = entry["employer_category"]
    if not isinstance(category, int) or isinstance(category, bool):
        raise TableError(f"rates: employer_category {category!r} is not a whole number")
    return RateEntry(scheme, category, first, last, tuple(lines))


def _check_overlaps(rates: tuple[RateEntry, ...]) -> None:
    for i, a in enumerate(rates):
        for b in rates[i + 1 :]:
            if (a.scheme, a.employer_category) != (b.scheme, b.employer_category):
                continue
            a_last = a.last or Quarter(9999, 4)
            b_last = b.last or Quarter(9999, 4)
            if a.first <= b_last and b.first <= a_last:
                raise TableError(
                    f"rates: two lines for {a.scheme} category {a.employer_category}"
                    f" overlap ({a.first}..{a.last or 'open'} and {b.first}..{b.last or 'open'})"
                )
