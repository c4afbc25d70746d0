"""Malformed input (validation.py through the transport's stream reader, mapping.submission):
INVALID_ARGUMENT with every bad field and its path; the digest that makes a submission
idempotent whatever its chunks; the resource names. Property tests: nothing but
InvalidArgument ever escapes the readers."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from cbss.dmfa.v1 import dmfa_pb2
from dmfa.service import validation
from dmfa.service.model import Header, Quarter, Submission
from dmfa.transport import mapping
from runtime.errors import InvalidArgument
from runtime.identifiers import make_onss_number
from tests.unit.dmfa.builders import (
    EMPLOYER,
    FLEXI,
    MANUAL,
    OTHER,
    OTHER_EMPLOYER,
    PROVISIONAL,
    STUDENT,
    WORKER,
    Q,
    chunks,
    occupation,
    pb_header,
    pb_person,
    person,
    record,
)

FIVE = [WORKER, MANUAL, STUDENT, FLEXI, OTHER]


def read(stream: list[dmfa_pb2.SubmitDeclarationRequest]) -> Submission:
    return mapping.submission(stream)


def refused(stream: list[dmfa_pb2.SubmitDeclarationRequest]) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        read(stream)
    assert err.value.code == "INVALID_ARGUMENT"
    return err.value


def fields(err: InvalidArgument) -> list[tuple[str, str]]:
    return [(v.field, v.reason) for v in err.violations]


def workers(n: int = 1) -> list[dmfa_pb2.NaturalPerson]:
    return [pb_person(person(FIVE[i % 5])) for i in range(n)]


def one_worker() -> tuple[dmfa_pb2.NaturalPerson, dmfa_pb2.WorkerRecord, dmfa_pb2.Occupation]:
    """A valid worker message and its first record and occupation, to break in place."""
    message = pb_person(person())
    return message, message.records[0], message.records[0].occupations[0]


# -- a valid stream -------------------------------------------------------------------------


def test_stream_becomes_domain_submission_when_well_formed() -> None:
    declared = [person(WORKER), person(STUDENT, record("841", pay=1_000, hours=1_000))]
    result = read(chunks([pb_person(x) for x in declared], sizes=(1,)))
    assert result.header == Header(EMPLOYER, Q, "ref-1", None)
    assert result.persons == tuple(declared)
    assert len(result.digest) == 64


def test_open_occupation_has_no_end_when_end_date_is_absent() -> None:
    result = read(chunks([pb_person(person(WORKER, record("495", occupation(end=None))))]))
    assert result.persons[0].records[0].occupations[0].end is None


def test_employer_is_canonical_when_given_with_leading_zero() -> None:
    result = read(chunks(workers(), header=pb_header(employer="0" + EMPLOYER)))
    assert result.header.employer == EMPLOYER


def test_provisional_employer_is_well_formed_when_read() -> None:
    # a provisional number is a business matter (FAILED_PRECONDITION later), not malformed input
    assert read(chunks(workers(), header=pb_header(employer=PROVISIONAL))).header.employer == (
        PROVISIONAL
    )


@pytest.mark.parametrize(
    ("employer", "named"),
    [(EMPLOYER, EMPLOYER), (EMPLOYER, "0" + EMPLOYER), ("0" + EMPLOYER, EMPLOYER)],
)
def test_correction_names_version_number_when_corrects_is_a_version_of_this_declaration(
    employer: str, named: str
) -> None:
    # the employer's 10-digit spelling names the same employer, in the header as in `corrects`
    # (as GetDeclarationVersion reads it)
    corrects = f"employers/{named}/declarations/2026Q1/versions/3"
    header = pb_header(employer=employer, corrects=corrects)
    assert read(chunks(workers(), header=header)).header.corrects == 3


# -- the stream and the header ----------------------------------------------------------------


def test_header_is_required_when_stream_is_empty() -> None:
    err = refused([])
    assert fields(err) == [("header", "HEADER_REQUIRED")] and err.reason == "HEADER_REQUIRED"


def test_header_is_required_when_first_chunk_has_only_workers() -> None:
    stream = [dmfa_pb2.SubmitDeclarationRequest(workers=workers())] + chunks(workers())
    assert fields(refused(stream)) == [("header", "HEADER_REQUIRED")]


def test_header_is_refused_when_repeated_in_a_later_chunk() -> None:
    stream = chunks(workers(3), sizes=(1, 1))
    stream[2].header.CopyFrom(pb_header())
    assert fields(refused(stream)) == [("chunks[2].header", "HEADER_REPEATED")]


@pytest.mark.parametrize("employer", ["", "123", "000100007", "000100006 ", "51001234xx"])
def test_employer_is_invalid_when_not_an_onss_number(employer: str) -> None:
    err = refused(chunks(workers(), header=pb_header(employer=employer)))
    assert fields(err) == [("header.employer", "INVALID_EMPLOYER")]


@pytest.mark.parametrize(("year", "number"), [(2002, 4), (2101, 1), (2026, 0), (2026, 5), (0, 0)])
def test_quarter_is_invalid_when_out_of_range(year: int, number: int) -> None:
    err = refused(chunks(workers(), header=pb_header(year=year, quarter=number)))
    assert fields(err) == [("header.year", "INVALID_QUARTER")]


@pytest.mark.parametrize(("year", "number"), [(2003, 1), (2100, 4)])
def test_quarter_is_accepted_when_at_bounds(year: int, number: int) -> None:
    result = read(chunks(workers(), header=pb_header(year=year, quarter=number)))
    assert result.header.quarter == Quarter(year, number)


@pytest.mark.parametrize("reference", ["", "a b", "x" * 65, "réf", "ref/1", "ref\n"])
def test_reference_is_invalid_when_not_1_to_64_safe_characters(reference: str) -> None:
    err = refused(chunks(workers(), header=pb_header(reference=reference)))
    assert fields(err) == [("header.submission_reference", "INVALID_SUBMISSION_REFERENCE")]


@pytest.mark.parametrize("reference", ["x" * 64, "A.b_c:d-9", "1"])
def test_reference_is_kept_when_1_to_64_safe_characters(reference: str) -> None:
    result = read(chunks(workers(), header=pb_header(reference=reference)))
    assert result.header.submission_reference == reference


@pytest.mark.parametrize(
    "corrects",
    [
        f"employers/{OTHER_EMPLOYER}/declarations/2026Q1/versions/1",  # another employer's
        f"employers/{EMPLOYER}/declarations/2025Q4/versions/1",  # another quarter's
        f"employers/{EMPLOYER}/declarations/2026Q1/versions/0",
        f"employers/{EMPLOYER}/declarations/2026Q1",
        "employers/000100007/declarations/2026Q1/versions/1",  # not an ONSS number
        "versions/1",
        "1",
    ],
)
def test_corrects_is_invalid_when_not_a_version_of_this_declaration(corrects: str) -> None:
    err = refused(chunks(workers(), header=pb_header(corrects=corrects)))
    assert fields(err) == [("header.corrects", "INVALID_CORRECTS")]


def test_every_header_error_is_reported_when_several_fields_are_bad() -> None:
    header = pb_header(employer="x", year=1999, reference="")
    assert fields(refused(chunks(workers(), header=header))) == [
        ("header.employer", "INVALID_EMPLOYER"),
        ("header.year", "INVALID_QUARTER"),
        ("header.submission_reference", "INVALID_SUBMISSION_REFERENCE"),
    ]


def test_no_workers_is_refused_when_chunks_carry_none() -> None:
    assert fields(refused(chunks([]))) == [("workers", "NO_WORKERS")]
    stream = chunks([]) + [dmfa_pb2.SubmitDeclarationRequest()]
    assert fields(refused(stream)) == [("workers", "NO_WORKERS")]


def test_chunk_is_too_large_when_it_carries_1001_workers() -> None:
    many = workers(1_001)
    assert fields(refused(chunks(many))) == [("chunks[0].workers", "CHUNK_TOO_LARGE")]
    assert fields(refused(chunks(many, sizes=(0,)))) == [("chunks[1].workers", "CHUNK_TOO_LARGE")]
    assert len(read(chunks(many[:1_000])).persons) == 1_000  # 1,000 is allowed


def test_too_many_workers_is_refused_when_chunks_add_up_beyond_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(validation, "MAX_WORKERS", 3)  # 50,000 in production
    assert len(read(chunks(workers(3), sizes=(2,))).persons) == 3
    assert fields(refused(chunks(workers(4), sizes=(2,)))) == [("workers", "TOO_MANY_WORKERS")]


# -- the structure -------------------------------------------------------------------------


def test_missing_date_is_reported_with_global_worker_index_when_in_a_later_chunk() -> None:
    four = workers(4)
    four[3].records[0].occupations[0].ClearField("start_date")
    err = refused(chunks(four, sizes=(2,)))
    assert fields(err) == [("workers[3].records[0].occupations[0].start_date", "FIELD_REQUIRED")]
    assert err.reason == "FIELD_REQUIRED"


def test_impossible_date_is_invalid_when_30_february() -> None:
    message, r, _ = one_worker()
    r.end_date.CopyFrom(date_pb2.Date(year=2026, month=2, day=30))
    assert fields(refused(chunks([message]))) == [
        ("workers[0].records[0].end_date", "INVALID_DATE")
    ]


def test_partial_date_is_invalid_when_day_or_year_is_zero() -> None:
    message, r, o = one_worker()
    r.start_date.CopyFrom(date_pb2.Date(year=2026, month=1, day=0))
    o.end_date.CopyFrom(date_pb2.Date(year=0, month=3, day=31))
    assert fields(refused(chunks([message]))) == [
        ("workers[0].records[0].start_date", "INVALID_DATE"),
        ("workers[0].records[0].occupations[0].end_date", "INVALID_DATE"),
    ]


def test_extreme_possible_dates_are_kept_when_they_equal_the_sentinels_values() -> None:
    # 9999-12-31 ("no end") and 0001-01-01 are possible dates: outside the quarter at worst,
    # which is a business rule (REFUSED), not malformed input
    message, r, o = one_worker()
    o.end_date.CopyFrom(date_pb2.Date(year=9999, month=12, day=31))
    r.start_date.CopyFrom(date_pb2.Date(year=1, month=1, day=1))
    (read_back,) = read(chunks([message])).persons
    assert read_back.records[0].start == dt.date(1, 1, 1)
    assert read_back.records[0].occupations[0].end == dt.date(9999, 12, 31)


@pytest.mark.parametrize("amount", [-1, validation.MAX_AMOUNT + 1])
def test_amount_is_invalid_when_outside_0_to_a_billion_euros(amount: int) -> None:
    message, _, o = one_worker()
    o.remunerations[0].amount = amount
    assert fields(refused(chunks([message]))) == [
        ("workers[0].records[0].occupations[0].remunerations[0].amount", "INVALID_AMOUNT")
    ]


@pytest.mark.parametrize("amount", [0, validation.MAX_AMOUNT])
def test_amount_is_kept_when_at_bounds(amount: int) -> None:
    message, _, o = one_worker()
    o.remunerations[0].amount = amount
    assert read(chunks([message])).persons[0].records[0].pay == amount


def test_records_are_too_many_when_eleven() -> None:
    message = pb_person(person(WORKER, *[record("495")] * 11))
    assert fields(refused(chunks([message]))) == [("workers[0].records", "TOO_MANY_ITEMS")]
    assert len(read(chunks([pb_person(person(WORKER, *[record("495")] * 10))])).persons) == 1


def test_counts_are_checked_when_lists_are_empty_or_too_long() -> None:
    message, r, o = one_worker()
    o.services.extend([dmfa_pb2.ServiceLine(service_code="001")] * 30)  # 31
    o.remunerations.extend([dmfa_pb2.RemunerationLine(remuneration_code="001")] * 30)
    empty = dmfa_pb2.NaturalPerson(insz=MANUAL)
    no_jobs = pb_person(person(STUDENT))
    del no_jobs.records[0].occupations[:]
    many_jobs = pb_person(person(FLEXI))
    many_jobs.records[0].occupations.extend([many_jobs.records[0].occupations[0]] * 20)  # 21
    assert fields(refused(chunks([message, empty, no_jobs, many_jobs]))) == [
        ("workers[0].records[0].occupations[0].services", "TOO_MANY_ITEMS"),
        ("workers[0].records[0].occupations[0].remunerations", "TOO_MANY_ITEMS"),
        ("workers[1].records", "TOO_MANY_ITEMS"),
        ("workers[2].records[0].occupations", "TOO_MANY_ITEMS"),
        ("workers[3].records[0].occupations", "TOO_MANY_ITEMS"),
    ]


@pytest.mark.parametrize(
    ("where", "field", "value", "path"),
    [
        ("record", "employer_category", 0, "records[0].employer_category"),
        ("record", "employer_category", 1000, "records[0].employer_category"),
        ("occupation", "number", 0, "records[0].occupations[0].number"),
        ("occupation", "number", 100, "records[0].occupations[0].number"),
        ("occupation", "working_days_system", 0, "records[0].occupations[0].working_days_system"),
        ("occupation", "working_days_system", 701, "records[0].occupations[0].working_days_system"),
        ("occupation", "mean_working_hours", 5001, "records[0].occupations[0].mean_working_hours"),
        ("occupation", "reference_working_hours", 0,
         "records[0].occupations[0].reference_working_hours"),
        ("service", "days", -1, "records[0].occupations[0].services[0].days"),
        ("service", "days", 9201, "records[0].occupations[0].services[0].days"),
        ("service", "hours", 220_801, "records[0].occupations[0].services[0].hours"),
    ],
)  # fmt: skip
def test_quantity_is_invalid_when_out_of_range(
    where: str, field: str, value: int, path: str
) -> None:
    message, r, o = one_worker()
    target = {"record": r, "occupation": o, "service": o.services[0]}[where]
    setattr(target, field, value)
    assert fields(refused(chunks([message]))) == [(f"workers[0].{path}", "INVALID_QUANTITY")]


def test_every_bad_field_of_a_worker_is_reported_when_several_are_malformed() -> None:
    message, r, o = one_worker()
    message.insz = "123"
    r.worker_code = "15"
    r.ClearField("start_date")
    o.joint_committee = ""
    o.services[0].service_code = "1"
    o.remunerations[0].remuneration_code = ""
    blank = dmfa_pb2.NaturalPerson(records=[r])
    assert fields(refused(chunks([message, blank]))) == [
        ("workers[0].insz", "INVALID_INSZ"),
        ("workers[0].records[0].worker_code", "INVALID_CODE"),
        ("workers[0].records[0].start_date", "FIELD_REQUIRED"),
        ("workers[0].records[0].occupations[0].joint_committee", "FIELD_REQUIRED"),
        ("workers[0].records[0].occupations[0].services[0].service_code", "INVALID_CODE"),
        ("workers[0].records[0].occupations[0].remunerations[0].remuneration_code", "INVALID_CODE"),
        ("workers[1].insz", "FIELD_REQUIRED"),
        ("workers[1].records[0].worker_code", "INVALID_CODE"),
        ("workers[1].records[0].start_date", "FIELD_REQUIRED"),
        ("workers[1].records[0].occupations[0].joint_committee", "FIELD_REQUIRED"),
        ("workers[1].records[0].occupations[0].services[0].service_code", "INVALID_CODE"),
        ("workers[1].records[0].occupations[0].remunerations[0].remuneration_code", "INVALID_CODE"),
    ]


def test_business_rules_are_not_malformed_input_when_structure_is_sound() -> None:
    # wrong check digits, an unknown code, a date outside the quarter: checks' business (REFUSED)
    bad = WORKER[:-1] + str((int(WORKER[-1]) + 1) % 10)
    odd = person(bad, record("999", occupation(start=dt.date(2019, 1, 1)), end=dt.date(2027, 1, 1)))
    assert read(chunks([pb_person(odd)])).persons == (odd,)


def test_at_most_100_violations_are_reported_when_many_fields_are_bad() -> None:
    many = [dmfa_pb2.NaturalPerson(insz="x", records=[pb_person(person()).records[0]])] * 150
    err = refused(chunks(many))
    assert len(err.violations) == validation.MAX_VIOLATIONS == 100
    assert err.violations[-1].field == "workers[99].insz"


# -- the digest --------------------------------------------------------------------------------

cuts = st.lists(st.integers(0, 6), max_size=6)


@settings(max_examples=100, deadline=None)
@given(cuts)
def test_digest_is_the_same_when_same_workers_are_cut_into_other_chunks(sizes: list[int]) -> None:
    declared = workers(7)
    assert read(chunks(declared, sizes=sizes)).digest == read(chunks(declared)).digest


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.sampled_from([-1, 1]), cuts)
def test_digest_differs_when_one_amount_changes_by_a_cent(
    index: int, delta: int, sizes: list[int]
) -> None:
    declared = workers(7)
    changed = [dmfa_pb2.NaturalPerson.FromString(w.SerializeToString()) for w in declared]
    changed[index].records[0].occupations[0].remunerations[0].amount += delta
    assert read(chunks(changed, sizes=sizes)).digest != read(chunks(declared)).digest


@pytest.mark.parametrize(
    "header",
    [
        pb_header(reference="ref-2"),
        pb_header(corrects=f"employers/{EMPLOYER}/declarations/2026Q1/versions/1"),
        pb_header(year=2026, quarter=2),
    ],
)
def test_digest_differs_when_header_changes(header: dmfa_pb2.DeclarationHeader) -> None:
    assert read(chunks(workers(), header=header)).digest != read(chunks(workers())).digest


# -- names -------------------------------------------------------------------------------------


def test_names_parse_when_valid() -> None:
    assert validation.version_name(f"employers/{EMPLOYER}/declarations/2026Q1/versions/12") == (
        EMPLOYER,
        Q,
        12,
    )
    assert validation.version_name(f"employers/0{EMPLOYER}/declarations/2003Q1/versions/1") == (
        EMPLOYER,
        Quarter(2003, 1),
        1,
    )
    assert validation.declaration_name(f"employers/{EMPLOYER}/declarations/2100Q4") == (
        EMPLOYER,
        Quarter(2100, 4),
    )
    assert validation.employer_name(f"employers/{EMPLOYER}") == EMPLOYER


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (f"employers/{EMPLOYER}/declarations/2026Q1/versions/0", "INVALID_NAME"),
        (f"employers/{EMPLOYER}/declarations/2026Q1/versions/1234567", "INVALID_NAME"),
        (f"employers/{EMPLOYER}/declarations/2026Q5/versions/1", "INVALID_NAME"),
        (f"employers/{EMPLOYER}/declarations/2002Q4/versions/1", "INVALID_NAME"),
        (f"employers/{EMPLOYER}/declarations/2026Q1/versions/1/", "INVALID_NAME"),
        (f"employers/{EMPLOYER}/declarations/2026Q1", "INVALID_NAME"),
        ("employers/000100007/declarations/2026Q1/versions/1", "INVALID_EMPLOYER"),
    ],
)
def test_version_name_is_refused_when_invalid(name: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validation.version_name(name)
    assert fields(err.value) == [("name", reason)]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (f"employers/{EMPLOYER}/declarations/2026q1", "INVALID_PARENT"),
        (f"employers/{EMPLOYER}/declarations/2101Q1", "INVALID_PARENT"),
        (f"employers/{EMPLOYER}", "INVALID_PARENT"),
        ("employers/000100007/declarations/2026Q1", "INVALID_EMPLOYER"),
    ],
)
def test_declaration_name_is_refused_when_invalid(name: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validation.declaration_name(name)
    assert fields(err.value) == [("parent", reason)]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("employers/", "INVALID_PARENT"),
        (EMPLOYER, "INVALID_PARENT"),
        (f"employers/{EMPLOYER}/", "INVALID_PARENT"),
        ("employers/000100007", "INVALID_EMPLOYER"),
    ],
)
def test_employer_name_is_refused_when_invalid(name: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validation.employer_name(name)
    assert fields(err.value) == [("parent", reason)]


def test_insz_is_checked_with_identifier_reason_when_parsed() -> None:
    assert validation.insz(WORKER) == WORKER
    with pytest.raises(InvalidArgument) as err:
        validation.insz(WORKER[:-1] + str((int(WORKER[-1]) + 1) % 10))
    assert fields(err.value) == [("insz", "INSZ_CHECK_DIGITS")]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1_000, 1_999_999),
    st.integers(2003, 2100),
    st.integers(1, 4),
    st.integers(1, 999_999),
)
def test_version_name_round_trips_when_parts_are_valid(
    sequence: int, year: int, number: int, version: int
) -> None:
    employer = make_onss_number(sequence)
    name = f"employers/{employer}/declarations/{year}Q{number}/versions/{version}"
    assert validation.version_name(name) == (employer, Quarter(year, number), version)
    assert validation.declaration_name(name.rsplit("/versions/", 1)[0]) == (
        employer,
        Quarter(year, number),
    )
    assert validation.employer_name(f"employers/{employer}") == employer


name_like = st.one_of(
    st.text(max_size=80),
    st.from_regex(
        r"employers/[0-9]{8,11}(/declarations/[0-9]{4}Q[0-9](/versions/[0-9]{1,7})?)?/?",
        fullmatch=True,
    ),
)


@settings(max_examples=300, deadline=None)
@given(name_like)
def test_name_parsers_raise_only_invalid_argument_when_text_is_arbitrary(text: str) -> None:
    """...and what they accept is canonical: its name, printed again, parses the same."""
    printers = {
        validation.version_name: lambda e, q, n: f"employers/{e}/declarations/{q}/versions/{n}",
        validation.declaration_name: lambda e, q: f"employers/{e}/declarations/{q}",
        validation.employer_name: lambda e: f"employers/{e}",
    }
    for parse, printed in printers.items():
        try:
            parsed = parse(text)
        except InvalidArgument as exc:
            assert exc.violations and exc.violations[0].reason
        else:
            parts = (parsed,) if isinstance(parsed, str) else parsed
            assert parse(printed(*parts)) == parsed


# -- the whole stream, fuzzed --------------------------------------------------------------

int32 = st.integers(-(2**31), 2**31 - 1)
small = st.one_of(st.integers(-2, 10_000), int32)
codes = st.one_of(st.sampled_from(["001", "495", "007", "15", ""]), st.text(max_size=4))
dates = st.one_of(
    st.none(),
    st.builds(date_pb2.Date, year=st.integers(0, 10_000), month=st.integers(0, 13),
              day=st.integers(0, 32)),
)  # fmt: skip


@st.composite
def natural_persons(draw: st.DrawFn) -> dmfa_pb2.NaturalPerson:
    def occupation_message() -> dmfa_pb2.Occupation:
        return dmfa_pb2.Occupation(
            number=draw(small),
            start_date=draw(dates),
            end_date=draw(dates),
            joint_committee=draw(st.sampled_from(["200", "", "x"])),
            working_days_system=draw(small),
            mean_working_hours=draw(small),
            reference_working_hours=draw(small),
            services=[
                dmfa_pb2.ServiceLine(service_code=draw(codes), days=draw(small), hours=draw(small))
                for _ in range(draw(st.integers(0, 2)))
            ],
            remunerations=[
                dmfa_pb2.RemunerationLine(
                    remuneration_code=draw(codes),
                    amount=draw(st.integers(-(2**63), 2**63 - 1)),
                )
                for _ in range(draw(st.integers(0, 2)))
            ],
        )

    return dmfa_pb2.NaturalPerson(
        insz=draw(st.one_of(st.sampled_from(FIVE), st.text(max_size=12))),
        records=[
            dmfa_pb2.WorkerRecord(
                employer_category=draw(small),
                worker_code=draw(codes),
                start_date=draw(dates),
                end_date=draw(dates),
                occupations=[occupation_message() for _ in range(draw(st.integers(0, 2)))],
            )
            for _ in range(draw(st.integers(0, 2)))
        ],
    )


headers = st.builds(
    pb_header,
    employer=st.one_of(st.just(EMPLOYER), st.text(max_size=11)),
    year=st.one_of(st.just(2026), int32),
    quarter=st.one_of(st.just(1), int32),
    reference=st.one_of(st.just("ref-1"), st.text(max_size=66)),
    corrects=st.one_of(st.just(""), st.text(max_size=10)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(natural_persons(), max_size=4), cuts, st.one_of(st.none(), headers))
def test_stream_reader_raises_only_invalid_argument_when_input_is_arbitrary(
    people: list[dmfa_pb2.NaturalPerson], sizes: list[int], header: object
) -> None:
    stream = chunks(people, sizes=sizes, header=header)  # type: ignore[arg-type]
    try:
        result = read(stream)
    except InvalidArgument as exc:
        assert exc.violations and all(v.field and v.reason for v in exc.violations)
    else:
        assert len(result.persons) == len(people)
