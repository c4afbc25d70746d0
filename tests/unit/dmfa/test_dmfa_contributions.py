"""Contributions from the real tables (tables.toml): the issue's examples worked by hand, several
schemes in one declaration, the student quota split between employers and records, half-up
rounding of each line, totals as sums of rounded lines, NO_RATE, pay not subject."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dmfa.service.checks import Judgement, judge
from dmfa.service.contributions import (
    ContributionCalculator,
    hours_to_minutes,
    percent_of,
    round_half_up,
)
from dmfa.service.model import (
    Anomaly,
    BlockKey,
    Party,
    Person,
    Quarter,
    RemunerationLine,
    Severity,
    Status,
    StudentBalance,
    Totals,
)
from tests.unit.dmfa.builders import (
    FLEXI,
    FRESH_STUDENT,
    MANUAL,
    OTHER,
    STUDENT,
    TODAY,
    WORKER,
    covered,
    occupation,
    person,
    record,
    submission,
)
from tests.unit.dmfa.fakes import TABLES

W, E = Party.WORKER, Party.EMPLOYER

Line = tuple[Party, str, int, str, int]  # party, kind, basis, rate, amount


def judged(*persons: Person, students: dict[str, StudentBalance] | None = None) -> Judgement:
    """Judged on time, everyone covered by Dimona: only contributions can go wrong."""
    return judge(submission(*persons), covered(*persons, students=students), TABLES, TODAY)


def lines(judgement: Judgement, insz: str, index: int = 0) -> list[Line]:
    (worker,) = [w for w in judgement.workers if w.insz == insz]
    return [
        (x.party, x.kind, x.basis, x.rate_percent, x.amount)
        for x in worker.records[index].contributions
    ]


def computed(p: Person, quarter: Quarter, student: StudentBalance | None = None):  # noqa: ANN201
    """The calculator alone (no date checks): (lines of each record, NO_RATE findings)."""
    found: list[Anomaly] = []
    worker = ContributionCalculator(TABLES).worker(p, quarter, student, found)
    return [
        [(x.party, x.kind, x.basis, x.rate_percent, x.amount) for x in c.contributions]
        for c in worker.records
    ], found


# -- the examples ---------------------------------------------------------------------


def test_employee_pays_13_07_and_employer_25_percent_when_worker_code_is_495() -> None:
    result = judged(person(WORKER, record("495", pay=300_000)))
    assert result.status is Status.ACCEPTED, result.anomalies
    # 300,000 x 13.07 % = 39,210.00; 300,000 x 25 % = 75,000
    assert lines(result, WORKER) == [
        (W, "ORDINARY", 300_000, "13.07", 39_210),
        (E, "ORDINARY_ALL_IN", 300_000, "25.00", 75_000),
    ]
    assert result.totals == Totals(1, 300_000, 39_210, 75_000)
    assert result.totals.total_contributions == 114_210


def test_manual_worker_pays_on_108_percent_when_worker_code_is_015() -> None:
    result = judged(person(MANUAL, record("015", pay=300_000)))
    assert result.status is Status.ACCEPTED, result.anomalies
    # basis 300,000 x 108 % = 324,000; x 13.07 % = 42,346.8 -> 42,347; x 25 % = 81,000
    assert lines(result, MANUAL) == [
        (W, "ORDINARY", 324_000, "13.07", 42_347),
        (E, "ORDINARY_ALL_IN", 324_000, "25.00", 81_000),
    ]
    assert result.totals.remuneration == 300_000  # the pay declared, not the basis


def test_student_pays_solidarity_rates_when_hours_are_within_quota() -> None:
    student = person(STUDENT, record("841", pay=100_000, hours=4_000))  # 40 h = 2,400 min
    result = judged(student, students={STUDENT: FRESH_STUDENT})
    assert result.status is Status.ACCEPTED, result.anomalies
    # 100,000 x 2.71 % = 2,710; x 5.42 % = 5,420
    assert lines(result, STUDENT) == [
        (W, "STUDENT_SOLIDARITY", 100_000, "2.71", 2_710),
        (E, "STUDENT_SOLIDARITY", 100_000, "5.42", 5_420),
    ]


@pytest.mark.parametrize(
    ("quarter", "rate", "amount"),
    [
        (Quarter(2018, 1), "25.00", 37_500),  # 150,000 x 25 %
        (Quarter(2023, 4), "25.00", 37_500),
        (Quarter(2024, 1), "28.00", 42_000),  # 150,000 x 28 %
        (Quarter(2026, 1), "28.00", 42_000),
    ],
)
def test_flexi_job_has_only_employer_line_at_rate_of_its_quarter_when_code_is_496(
    quarter: Quarter, rate: str, amount: int
) -> None:
    found, anomalies = computed(person(FLEXI, record("496", pay=150_000)), quarter)
    assert found == [[(E, "FLEXI_SPECIAL", 150_000, rate, amount)]]
    assert anomalies == []


def test_flexi_job_is_judged_with_28_percent_when_declared_for_2026() -> None:
    result = judged(person(FLEXI, record("496", pay=150_000)))
    assert result.status is Status.ACCEPTED, result.anomalies
    assert lines(result, FLEXI) == [(E, "FLEXI_SPECIAL", 150_000, "28.00", 42_000)]
    assert result.totals.worker_contributions == 0


def test_totals_add_every_scheme_when_one_declaration_has_several_rates() -> None:
    result = judged(
        person(WORKER, record("495", pay=300_000)),
        person(MANUAL, record("015", pay=300_000)),
        person(STUDENT, record("841", pay=100_000, hours=4_000)),
        person(FLEXI, record("496", pay=150_000)),
        students={STUDENT: FRESH_STUDENT},
    )
    assert result.status is Status.ACCEPTED, result.anomalies
    # workers: 39,210 + 42,347 + 2,710 + 0 = 84,267
    # employer: 75,000 + 81,000 + 5,420 + 42,000 = 203,420
    # pay: 300,000 + 300,000 + 100,000 + 150,000 = 850,000
    assert result.totals == Totals(4, 850_000, 84_267, 203_420)
    assert result.totals.total_contributions == 287_687


def test_totals_are_sums_of_rounded_lines_when_each_line_rounds_up() -> None:
    # Each employee earns 2 cents: 2 x 25 % = 0.5 -> 1 cent each (2 in all, where 25 % of the
    # summed 4 cents would be 1); 2 x 13.07 % = 0.2614 -> 0.
    other = person(OTHER, record("495", pay=2))
    result = judged(person(WORKER, record("495", pay=2)), other)
    assert result.totals == Totals(2, 4, 0, 2)


def test_employer_and_worker_lines_round_half_up_when_exactly_half_a_cent() -> None:
    result = judged(person(WORKER, record("495", pay=10)), person(OTHER, record("495", pay=5_000)))
    # 10 x 25 % = 2.5 -> 3 (half-even would give 2); 10 x 13.07 % = 1.307 -> 1
    assert [x[4] for x in lines(result, WORKER)] == [1, 3]
    # 5,000 x 13.07 % = 653.5 -> 654 (half-even would also give 654: the employer's 1,250 exact)
    assert [x[4] for x in lines(result, OTHER)] == [654, 1_250]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("2.5001", 3), ("0.4999", 0)],
)
def test_round_half_up_goes_up_only_from_half_when_rounding_to_cent(
    value: str, rounded: int
) -> None:
    assert round_half_up(Decimal(value)) == rounded


def test_percent_of_rounds_the_product_once_when_rate_has_decimals() -> None:
    # 333 x 108 % = 359.64 -> 360; 5,000 x 13.07 % = 653.5 -> 654; 1 x 25 % = 0.25 -> 0
    assert percent_of(333, Decimal("108")) == 360
    assert percent_of(5_000, Decimal("13.07")) == 654
    assert percent_of(1, Decimal("25")) == 0


@pytest.mark.parametrize(("hundredths", "minutes"), [(150, 90), (1, 1), (0, 0), (4_000, 2_400)])
def test_hours_become_minutes_half_up_when_in_hundredths(hundredths: int, minutes: int) -> None:
    # 1.50 h = 90 min; 0.01 h = 0.6 min -> 1; 40 h = 2,400 min
    assert hours_to_minutes(hundredths) == minutes


# -- the student quota ----------------------------------------------------------------------


def test_student_pay_is_split_in_proportion_when_other_employers_used_most_of_quota() -> None:
    # Quota 650 h = 39,000 min; used 38,700 of which this employer's quarter 300 (its previous
    # figure, not counted twice): others 38,400, so 600 min are left for this quarter.
    balance = StudentBalance(
        quota_minutes=39_000, used_minutes=38_700, employer_quarter_minutes=300
    )
    assert balance.available_minutes == 600
    # 40 h = 2,400 min declared: 600 within, 1,800 beyond.
    student = person(STUDENT, record("840", pay=50_002, hours=4_000))
    result = judged(student, students={STUDENT: balance})
    assert result.status is Status.ACCEPTED, result.anomalies
    # within: 50,002 x 600 / 2,400 = 12,500.5 -> 12,501; beyond: 50,002 - 12,501 = 37,501
    # within at 100 %: 12,501 x 2.71 % = 338.7771 -> 339; x 5.42 % = 677.5542 -> 678
    # beyond at 108 % (840): 37,501 x 1.08 = 40,501.08 -> 40,501;
    #   x 13.07 % = 5,293.4807 -> 5,293; x 25 % = 10,125.25 -> 10,125
    assert lines(result, STUDENT) == [
        (W, "STUDENT_SOLIDARITY", 12_501, "2.71", 339),
        (E, "STUDENT_SOLIDARITY", 12_501, "5.42", 678),
        (W, "ORDINARY", 40_501, "13.07", 5_293),
        (E, "ORDINARY_ALL_IN", 40_501, "25.00", 10_125),
    ]
    # 339 + 5,293 = 5,632; 678 + 10,125 = 10,803
    assert result.totals == Totals(1, 50_002, 5_632, 10_803)


def test_student_pays_ordinary_rates_on_everything_when_quota_is_used_up() -> None:
    spent = StudentBalance(quota_minutes=39_000, used_minutes=39_000, employer_quarter_minutes=0)
    found, _ = computed(
        person(STUDENT, record("841", pay=100_000, hours=4_000)), Quarter(2026, 1), spent
    )
    # 841 is on 100 %: 100,000 x 13.07 % = 13,070; x 25 % = 25,000
    assert found == [
        [
            (W, "ORDINARY", 100_000, "13.07", 13_070),
            (E, "ORDINARY_ALL_IN", 100_000, "25.00", 25_000),
        ]
    ]


def test_balance_available_never_negative_when_others_used_more_than_quota() -> None:
    assert StudentBalance(39_000, 45_000, 0).available_minutes == 0
    assert StudentBalance(39_000, 45_000, 7_000).available_minutes == 1_000  # 39,000 - 38,000


def test_student_records_draw_on_one_allowance_in_order_declared_when_a_worker_has_two() -> None:
    balance = StudentBalance(quota_minutes=39_000, used_minutes=38_400, employer_quarter_minutes=0)
    # 600 min left. First record 841: 6 h = 360 min, all within; 240 min left.
    # Second record 840: 8 h = 480 min: 240 within, 240 beyond.
    student = person(
        STUDENT, record("841", pay=6_000, hours=600), record("840", pay=8_000, hours=800)
    )
    result = judged(student, students={STUDENT: balance})
    assert result.status is Status.ACCEPTED, result.anomalies
    # 6,000 x 2.71 % = 162.6 -> 163; x 5.42 % = 325.2 -> 325
    assert lines(result, STUDENT, 0) == [
        (W, "STUDENT_SOLIDARITY", 6_000, "2.71", 163),
        (E, "STUDENT_SOLIDARITY", 6_000, "5.42", 325),
    ]
    # within 8,000 x 240 / 480 = 4,000: 108.4 -> 108, 216.8 -> 217
    # beyond 4,000 x 108 % = 4,320: x 13.07 % = 564.624 -> 565; x 25 % = 1,080
    assert lines(result, STUDENT, 1) == [
        (W, "STUDENT_SOLIDARITY", 4_000, "2.71", 108),
        (E, "STUDENT_SOLIDARITY", 4_000, "5.42", 217),
        (W, "ORDINARY", 4_320, "13.07", 565),
        (E, "ORDINARY_ALL_IN", 4_320, "25.00", 1_080),
    ]


def test_first_declared_record_gets_the_allowance_when_order_is_reversed() -> None:
    balance = StudentBalance(quota_minutes=39_000, used_minutes=38_400, employer_quarter_minutes=0)
    student = person(
        STUDENT, record("840", pay=8_000, hours=800), record("841", pay=6_000, hours=600)
    )
    found, _ = computed(student, Quarter(2026, 1), balance)
    # 840 first: 480 of 600 min, all within: 8,000 x 2.71 % = 216.8 -> 217; x 5.42 % = 433.6 -> 434
    assert found[0] == [
        (W, "STUDENT_SOLIDARITY", 8_000, "2.71", 217),
        (E, "STUDENT_SOLIDARITY", 8_000, "5.42", 434),
    ]
    # 841: 360 min with 120 left: within 6,000 x 120 / 360 = 2,000 (54.2 -> 54, 108.4 -> 108);
    # beyond 4,000 at 100 %: 13.07 % = 522.8 -> 523; 25 % = 1,000
    assert found[1] == [
        (W, "STUDENT_SOLIDARITY", 2_000, "2.71", 54),
        (E, "STUDENT_SOLIDARITY", 2_000, "5.42", 108),
        (W, "ORDINARY", 4_000, "13.07", 523),
        (E, "ORDINARY_ALL_IN", 4_000, "25.00", 1_000),
    ]


def test_student_without_balance_pays_ordinary_rates_when_network_had_no_counter() -> None:
    found, _ = computed(person(STUDENT, record("841", pay=10_000, hours=1_000)), Quarter(2026, 1))
    # no allowance: 10,000 x 13.07 % = 1,307; x 25 % = 2,500
    assert found == [
        [(W, "ORDINARY", 10_000, "13.07", 1_307), (E, "ORDINARY_ALL_IN", 10_000, "25.00", 2_500)]
    ]


# -- no rate, pay not subject --------------------------------------------------------------


def test_no_rate_refuses_record_without_lines_when_employer_category_has_none() -> None:
    result = judged(person(WORKER, record("495", pay=300_000, category=2)))
    assert result.status is Status.REFUSED
    assert result.anomalies == [
        Anomaly(
            "NO_RATE",
            Severity.BLOCKING,
            BlockKey(WORKER, "495"),
            "ORDINARY/2/2026Q1",
            "no contribution rate for this worker code, employer category and quarter",
        )
    ]
    assert lines(result, WORKER) == []
    assert result.totals == Totals(1, 300_000, 0, 0)


def test_no_rate_names_student_scheme_when_category_has_no_student_rate() -> None:
    found, anomalies = computed(
        person(STUDENT, record("841", pay=10_000, hours=1_000, category=2)),
        Quarter(2026, 1),
        FRESH_STUDENT,
    )
    assert found == [[]]
    assert [(a.code, a.block, a.value) for a in anomalies] == [
        ("NO_RATE", BlockKey(STUDENT, "841"), "STUDENT/2/2026Q1")
    ]


def test_no_rate_when_quarter_is_before_table_starts_for_flexi() -> None:
    found, anomalies = computed(person(FLEXI, record("496", pay=150_000)), Quarter(2010, 1))
    assert found == [[]]
    assert [(a.code, a.severity, a.value) for a in anomalies] == [
        ("NO_RATE", Severity.BLOCKING, "FLEXI/1/2010Q1")
    ]


def test_pay_not_subject_is_left_out_of_basis_when_code_is_007() -> None:
    job = occupation(
        remunerations=[RemunerationLine("001", 300_000), RemunerationLine("007", 50_000)]
    )
    result = judged(person(WORKER, record("495", job)))
    assert result.status is Status.ACCEPTED, result.anomalies
    # basis 300,000 (the 500 EUR of code 007 excluded): 39,210 and 75,000
    assert lines(result, WORKER) == [
        (W, "ORDINARY", 300_000, "13.07", 39_210),
        (E, "ORDINARY_ALL_IN", 300_000, "25.00", 75_000),
    ]
    assert result.totals.remuneration == 350_000  # the sum of the remuneration lines


def test_no_line_when_pay_is_zero() -> None:
    found, anomalies = computed(person(WORKER, record("495", pay=0)), Quarter(2026, 1))
    assert found == [[]] and anomalies == []


def test_unknown_worker_code_gets_no_lines_when_contributions_computed() -> None:
    found, anomalies = computed(person(WORKER, record("999", pay=300_000)), Quarter(2026, 1))
    assert found == [[]] and anomalies == []  # UNKNOWN_WORKER_CODE is the checks' business
