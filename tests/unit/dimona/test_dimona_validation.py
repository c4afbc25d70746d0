"""Malformed input is INVALID_ARGUMENT with every bad field, and nothing else ever escapes the
validators (property tests on the parsers)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dimona.service.commands import CancelForm, InForm, OutForm, Submission, ValidIn
from dimona.service.model import FlexiContract, WorkerType
from dimona.service.validation import validate_submission
from runtime.errors import InvalidArgument
from runtime.identifiers import make_insz
from tests.unit.dimona.builders import din, dupdate, identification, submission

raw_dates = st.one_of(st.none(), st.tuples(st.integers(-5, 3000), st.integers(-2, 14),
                                           st.integers(-2, 33)))  # fmt: skip
raw_times = st.one_of(st.none(), st.tuples(st.integers(-1, 25), st.integers(-1, 61),
                                           st.integers(0, 2), st.integers(0, 2)))  # fmt: skip
text = st.text(max_size=20)


@st.composite
def in_forms(draw: st.DrawFn) -> InForm:
    return InForm(
        insz=draw(st.one_of(st.none(), text, st.from_regex(r"[0-9]{11}", fullmatch=True))),
        identification=None,
        worker_type=draw(st.one_of(st.none(), st.sampled_from(WorkerType))),
        joint_committee=draw(st.one_of(text, st.sampled_from(["302", "140.03", "XXX", "3020"]))),
        start_date=draw(raw_dates),
        start_time=draw(raw_times),
        end_date=draw(raw_dates),
        end_time=draw(raw_times),
        planned_hours=draw(st.integers(-10, 3000)),
        flexi_contract=draw(st.one_of(st.none(), st.sampled_from(FlexiContract))),
        sub_entity=draw(text),
        using_employer=draw(st.one_of(text, st.just("0203201340"))),
    )


forms = st.one_of(
    in_forms(),
    st.builds(OutForm, st.integers(-2, 10**13), raw_dates, raw_times, text),
    st.builds(CancelForm, st.integers(-2, 10**13)),
    st.none(),
)


@given(parent=text, reference=text, form=forms)
def test_validation_raises_only_invalid_argument_when_input_is_arbitrary(
    parent: str, reference: str, form: object
) -> None:
    try:
        validate_submission(Submission(parent, reference, form))  # type: ignore[arg-type]
    except InvalidArgument as exc:
        assert exc.violations and all(v.reason for v in exc.violations)


@given(
    st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2010, 12, 31)),
    st.integers(1, 998),
)
def test_valid_insz_is_kept_when_parsed(born: dt.date, serial: int) -> None:
    insz = make_insz(
        birth_year=born.year, birth_month=born.month, birth_day=born.day, serial=serial
    )
    valid = validate_submission(submission(din(insz=insz)))
    assert isinstance(valid.form, ValidIn) and valid.form.insz == insz


def fields(exc: pytest.ExceptionInfo[InvalidArgument]) -> dict[str, str]:
    return {v.field: v.reason for v in exc.value.violations}


def test_every_bad_field_is_reported_together_when_several_are_malformed() -> None:
    form = din(insz="85071412331", worker_type=None, jc="30", start=None, hours=-1)
    with pytest.raises(InvalidArgument) as err:
        validate_submission(Submission("employers/12", "", form))
    assert fields(err) == {
        "parent": "INVALID_PARENT",
        "declaration_reference": "INVALID_DECLARATION_REFERENCE",
        "dimona_in.worker.insz": "INSZ_CHECK_DIGITS",
        "dimona_in.worker_type": "INVALID_WORKER_TYPE",
        "dimona_in.joint_committee": "INVALID_JOINT_COMMITTEE",
        "dimona_in.start_date": "DATE_REQUIRED",
        "dimona_in.planned_hours": "INVALID_HOURS",
    }


def test_impossible_date_and_time_are_malformed_when_sent() -> None:
    form = InForm(
        "85071412330", None, WorkerType.OTH, "200", (2025, 2, 30), (24, 0, 0, 0),
        None, (10, 0, 30, 0), 0, None, "", "",
    )  # fmt: skip
    with pytest.raises(InvalidArgument) as err:
        validate_submission(submission(form))
    assert fields(err) == {
        "dimona_in.start_date": "INVALID_DATE",
        "dimona_in.start_time": "INVALID_TIME",
        "dimona_in.end_time": "INVALID_TIME",
    }


def test_form_is_required_when_none_is_set() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_submission(submission(None))
    assert fields(err) == {"form": "FORM_REQUIRED"}


def test_update_without_a_change_is_malformed_when_sent() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_submission(submission(dupdate(5)))
    assert fields(err) == {"dimona_update": "NOTHING_TO_UPDATE"}


def test_period_id_beyond_12_digits_is_malformed_when_sent() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_submission(submission(CancelForm(10**12)))
    assert fields(err) == {"dimona_cancel.period_id": "INVALID_PERIOD_ID"}


def test_identification_fields_are_checked_when_worker_has_no_insz() -> None:
    bad = identification(last_name="", first_names=(), sex=None, nationality="Polish")
    with pytest.raises(InvalidArgument) as err:
        validate_submission(submission(din(identification=bad)))
    assert set(fields(err)) == {
        "dimona_in.worker.identification.last_name",
        "dimona_in.worker.identification.first_names",
        "dimona_in.worker.identification.sex",
        "dimona_in.worker.identification.nationality",
    }
    ok = validate_submission(submission(din(identification=identification())))
    assert isinstance(ok.form, ValidIn) and ok.form.insz is None and ok.form.identification


def test_provisional_onss_number_is_a_valid_parent_when_well_formed() -> None:
    from runtime.identifiers import make_onss_number

    number = make_onss_number(123_456, provisional=True)
    assert validate_submission(submission(din(), employer=number)).employer == number
