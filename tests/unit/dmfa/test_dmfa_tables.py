"""The code and rate tables: the packaged file loads, a table passed in text drives the
contributions (a rate change between quarters, without touching tables.toml), and every
inconsistency stops the load with TableError."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dmfa.service.contributions import ContributionCalculator
from dmfa.service.model import Anomaly, Party, Quarter
from dmfa.service.tables import TableError, Tables
from tests.unit.dmfa.builders import WORKER, person, record
from tests.unit.dmfa.fakes import TABLES

#: A small valid table: one worker code, a worker rate that changes on 1 April 2026.
SMALL = """
[worker_codes."495"]
label = "employee"
scheme = "ORDINARY"
basis_percent = "100"
dimona_types = ["OTH"]

[service_codes."001"]
label = "work"
paid = true

[remuneration_codes."001"]
label = "pay"
subject = true

[dimona]
exempt_types = ["DWD"]

[[rates]]
scheme = "ORDINARY"
employer_category = 1
from = "2025Q1"
to = "2026Q1"
lines = [
  { party = "WORKER", kind = "ORDINARY", rate = "13.07" },
  { party = "EMPLOYER", kind = "ORDINARY_ALL_IN", rate = "25.00" },
]

[[rates]]
scheme = "ORDINARY"
employer_category = 1
from = "2026Q2"
to = ""
lines = [
  { party = "WORKER", kind = "ORDINARY", rate = "14.5" },
  { party = "EMPLOYER", kind = "ORDINARY_ALL_IN", rate = "24.00" },
]
"""


def test_packaged_tables_know_the_issue_codes_when_loaded() -> None:
    assert {"015", "495", "840", "841", "016", "496"} <= set(TABLES.worker_codes)
    assert TABLES.worker_codes["015"].basis_percent == Decimal("108")
    assert TABLES.worker_codes["840"].scheme == "STUDENT"
    assert TABLES.remuneration_codes["001"] is True and TABLES.remuneration_codes["007"] is False
    assert TABLES.exempt_dimona_types == {"DWD", "A17", "STG"}


def test_rate_lines_follow_quarter_when_rate_changes_between_quarters() -> None:
    tables = Tables.parse(SMALL)
    assert tables.rate_lines("ORDINARY", 1, Quarter(2024, 4)) is None  # before the table
    first = tables.rate_lines("ORDINARY", 1, Quarter(2026, 1))
    then = tables.rate_lines("ORDINARY", 1, Quarter(2031, 3))  # open end
    assert first is not None and [(x.party, x.rate) for x in first] == [
        (Party.WORKER, Decimal("13.07")),
        (Party.EMPLOYER, Decimal("25.00")),
    ]
    assert then is not None and [x.rate for x in then] == [Decimal("14.5"), Decimal("24.00")]


@pytest.mark.parametrize(
    ("quarter", "worker", "employer", "rate"),
    [
        (Quarter(2026, 1), 39_210, 75_000, "13.07"),  # 300,000 x 13.07 %, x 25 %
        (Quarter(2026, 2), 43_500, 72_000, "14.50"),  # 300,000 x 14.5 %, x 24 %
    ],
)
def test_contributions_use_custom_table_when_quarter_changes(
    quarter: Quarter, worker: int, employer: int, rate: str
) -> None:
    found: list[Anomaly] = []
    result = ContributionCalculator(Tables.parse(SMALL)).worker(
        person(WORKER, record("495", pay=300_000)), quarter, None, found
    )
    assert found == []
    assert [(x.rate_percent, x.amount) for x in result.records[0].contributions] == [
        (rate, worker),
        (_other(rate), employer),
    ]


def _other(worker_rate: str) -> str:
    return "25.00" if worker_rate == "13.07" else "24.00"


def test_no_rate_from_custom_table_when_quarter_is_before_it() -> None:
    found: list[Anomaly] = []
    ContributionCalculator(Tables.parse(SMALL)).worker(
        person(WORKER, record("495", pay=300_000)), Quarter(2024, 4), None, found
    )
    assert [(a.code, a.value) for a in found] == [("NO_RATE", "ORDINARY/1/2024Q4")]


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [
        ('from = "2026Q2"', 'from = "2026Q1"', "overlap"),  # both lines cover 2026Q1
        ('to = "2026Q1"', 'to = ""', "overlap"),  # the first is open-ended too
        ('scheme = "ORDINARY"\nbasis', 'scheme = "SALARIED"\nbasis', "unknown scheme"),
        ('scheme = "ORDINARY"\nemployer_category = 1\nfrom = "2025Q1"',
         'scheme = "BONUS"\nemployer_category = 1\nfrom = "2025Q1"', "unknown scheme"),
        ('rate = "13.07"', 'rate = "13,07"', "is not a decimal"),
        ('rate = "13.07"', 'rate = "NaN"', "out of range"),
        ('rate = "13.07"', 'rate = "-1"', "out of range"),
        ('rate = "13.07"', 'rate = "200.01"', "out of range"),
        ('basis_percent = "100"', 'basis_percent = "cent"', "is not a decimal"),
        ('[worker_codes."495"]', '[worker_codes."49"]', "not 3 digits"),
        ('[service_codes."001"]', '[service_codes."0a1"]', "not 3 digits"),
        ('[remuneration_codes."001"]', '[remuneration_codes."0001"]', "not 3 digits"),
        ('to = "2026Q1"', 'to = "2024Q4"', "before"),
        ('from = "2025Q1"', 'from = "2025-01"', "is not a quarter"),
        ('from = "2025Q1"', 'from = ""', "from is required"),
        ('party = "WORKER"', 'party = "STATE"', "STATE"),
        ('kind = "ORDINARY",', 'kind = "ordinary",', "UPPER_SNAKE_CASE"),
        ('exempt_types = ["DWD"]', "", "exempt_types"),
        ('[dimona]\nexempt_types = ["DWD"]', "", "dimona"),  # a section missing
        ("lines = [", "lines = [[", "DmfA tables"),  # not TOML any more
        # a wrong type is an error, not a silent conversion: bool("false") is True, and a
        # string is a set of letters
        ("paid = true", 'paid = "false"', "true or false"),
        ("subject = true", 'subject = "no"', "true or false"),
        ("subject = true", "subject = 0", "true or false"),
        ('dimona_types = ["OTH"]', 'dimona_types = "OTH"', "list of strings"),
        ('dimona_types = ["OTH"]', "dimona_types = [1]", "list of strings"),
        ('exempt_types = ["DWD"]', 'exempt_types = "DWD"', "list of strings"),
        ("employer_category = 1", 'employer_category = "1"', "whole number"),
        ("employer_category = 1", "employer_category = true", "whole number"),
    ],
)  # fmt: skip
def test_parse_raises_table_error_when_table_is_broken(old: str, new: str, what: str) -> None:
    assert old in SMALL
    with pytest.raises(TableError, match=what):
        Tables.parse(SMALL.replace(old, new, 1))


def test_parse_raises_table_error_when_section_is_not_a_table() -> None:
    text = "dimona = 3\n" + SMALL.replace('[dimona]\nexempt_types = ["DWD"]', "")
    with pytest.raises(TableError, match="dimona must be a table"):
        Tables.parse(text)


def test_parse_accepts_small_table_when_consistent() -> None:
    tables = Tables.parse(SMALL)
    assert set(tables.worker_codes) == {"495"} and len(tables.rates) == 2
