"""The DmfA in the network: a declaration's life (refused, accepted, corrected) checked against
DIMONA and the register through the router, its contributions, the worker's quarter consulted
through the router, students' actual hours sent back to DIMONA's quota counter, and the
refusals of malformed or unauthorised submissions."""

from __future__ import annotations

import datetime as dt
import json
import time

import grpc
import pytest

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from registry.seed.population import FIXED_BIS, FIXED_MAN, FIXED_WOMAN, FIXED_WOMAN_2006
from runtime import identity
from runtime.client import failure
from tests.integration.dimona.protos import dimona_in, submit_in
from tests.integration.dmfa.conftest import Q2_END, RETAIL, STATE, Network
from tests.integration.dmfa.protos import chunks, date, occupation, worker

pytestmark = pytest.mark.integration

JUNE_3 = dt.date(2025, 6, 3)
JUNE_20 = dt.date(2025, 6, 20)
VERSIONS = f"employers/{RETAIL}/declarations/2025Q2"


def _workers(*, woman_2006_until: dt.date, man_pay: int = 300000, student: bool = True):
    out = [
        # Employee, EUR 3,000.00: worker 13.07 % = 392.10, employer 25 % = 750.00.
        worker(FIXED_MAN, "495", JUNE_3, Q2_END, occupation(JUNE_3, pay=man_pay)),
        # 14 working days from 3 to 20 June; EUR 1,400.00.
        worker(
            FIXED_WOMAN_2006,
            "495",
            JUNE_3,
            JUNE_20,
            occupation(JUNE_3, woman_2006_until, days=1400, hours=10640, pay=140000),
        ),
    ]
    if student:
        # Student, 80 h actually worked (DIMONA planned 100 h), EUR 1,000.00, within the quota:
        # 2.71 % = 27.10 and 5.42 % = 54.20.
        out.append(
            worker(
                FIXED_WOMAN,
                "841",
                JUNE_3,
                Q2_END,
                occupation(JUNE_3, Q2_END, days=2000, hours=8000, pay=100000),
            )
        )
    return out


def _codes(version: dmfa_pb2.DeclarationVersion) -> set[tuple[str, str, str]]:
    return {(a.code, a.block.insz, a.value) for a in version.anomalies}


def _worker_quarter(network: Network, party: str, context: str, insz: str):  # noqa: ANN202
    with network.via_router(party) as channel:
        return dmfa_pb2_grpc.DmfaConsultationServiceStub(channel).GetWorkerQuarter(
            dmfa_pb2.GetWorkerQuarterRequest(insz=insz, year=2025, quarter=2),
            metadata=((identity.LEGAL_CONTEXT_HEADER, context),),
            timeout=20,
        )


def _student_used_minutes(network: Network) -> int:
    with network.dimona_channel(f"employer-{RETAIL}") as channel:
        return (
            dimona_pb2_grpc.DimonaServiceStub(channel)
            .GetStudentBalance(
                dimona_pb2.GetStudentBalanceRequest(
                    parent=f"employers/{RETAIL}", insz=FIXED_WOMAN, year=2025
                ),
                timeout=10,
            )
            .balance.used_minutes
        )


def _wait_for_minutes(network: Network, expected: int) -> None:
    deadline = time.monotonic() + 15
    while _student_used_minutes(network) != expected:
        assert time.monotonic() < deadline, "the quota update did not reach DIMONA"
        time.sleep(0.1)


def test_a_declaration_is_refused_accepted_and_corrected(network: Network) -> None:
    # 1. FIXED_WOMAN_2006's Dimona period ends on 20 June; an occupation to 30 June is not
    #    covered from the 21st: refused, stored, not current.
    refused = network.submit(chunks(RETAIL, 2025, 2, "q2-a", _workers(woman_2006_until=Q2_END)))
    assert refused.status == dmfa_pb2.VERSION_STATUS_REFUSED
    assert refused.version == 1 and not refused.current
    assert ("OCCUPATION_NOT_COVERED", FIXED_WOMAN_2006, "2025-06-21") in _codes(refused)
    not_covered = next(a for a in refused.anomalies if a.code == "OCCUPATION_NOT_COVERED")
    assert not_covered.block.worker_code == "495" and not_covered.block.occupation_number == 1
    assert not_covered.path == (
        f"workers[insz={FIXED_WOMAN_2006}]/records[worker_code=495]/occupations[1]"
    )

    # 2. Fixed: accepted, with the worker DIMONA knows and the declaration forgot (a warning).
    accepted = network.submit(
        chunks(RETAIL, 2025, 2, "q2-b", _workers(woman_2006_until=JUNE_20), per_chunk=1)
    )
    assert accepted.status == dmfa_pb2.VERSION_STATUS_ACCEPTED_WITH_ANOMALIES
    assert accepted.version == 2 and accepted.current and not accepted.late
    assert {a.code for a in accepted.anomalies} == {"MISSING_WORKER"}
    assert accepted.anomalies[0].block.insz == FIXED_BIS
    assert accepted.anomalies[0].severity == 2  # warning
    # 392.10 + 182.98 (13.07 % of 1,400.00 = 182.98) + 27.10 worker;
    # 750.00 + 350.00 + 54.20 employer.
    assert accepted.totals.remuneration == 300000 + 140000 + 100000
    assert accepted.totals.worker_contributions == 39210 + 18298 + 2710
    assert accepted.totals.employer_contributions == 75000 + 35000 + 5420
    assert accepted.deadline.month == 7 and accepted.deadline.day == 31

    with network.dmfa_channel(f"employer-{RETAIL}") as channel:
        stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
        workers = stub.ListVersionWorkers(
            dmfa_pb2.ListVersionWorkersRequest(name=accepted.name), timeout=10
        ).workers
        by_insz = {w.insz: w for w in workers}
        student = by_insz[FIXED_WOMAN].records[0].contributions
        assert [(c.kind, c.basis, c.rate_percent, c.amount) for c in student] == [
            ("STUDENT_SOLIDARITY", 100000, "2.71", 2710),
            ("STUDENT_SOLIDARITY", 100000, "5.42", 5420),
        ]
        history = stub.ListDeclarationVersions(
            dmfa_pb2.ListDeclarationVersionsRequest(parent=VERSIONS), timeout=10
        ).versions
        assert [(v.version, v.status, v.current) for v in history] == [
            (1, dmfa_pb2.VERSION_STATUS_REFUSED, False),
            (2, dmfa_pb2.VERSION_STATUS_ACCEPTED_WITH_ANOMALIES, True),
        ]

    # 3. The worker's quarter, through the router, for ONEM (which follows him).
    quarter = _worker_quarter(network, "institution-onem", "unemployment.control", FIXED_MAN)
    [employer] = quarter.quarter.employers
    assert employer.employer == RETAIL and employer.version == accepted.name
    [record] = employer.records
    assert (record.worker_code, record.days, record.hours) == ("495", 2000, 15200)
    assert [(r.remuneration_code, r.amount) for r in record.remunerations] == [("001", 300000)]
    # ... refused to an institution without authorisation.
    with pytest.raises(grpc.RpcError) as refused_call:
        _worker_quarter(network, "institution-famiwal", "family-allowances.entitlement", FIXED_MAN)
    assert refused_call.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # 4. The student's actual 80 hours replace DIMONA's planned 100 in the quota counter.
    _wait_for_minutes(network, 80 * 60)

    # 5. A correction: the man's pay changes, the student is gone (her hours count 0 now).
    corrected = network.submit(
        chunks(
            RETAIL,
            2025,
            2,
            "q2-c",
            _workers(woman_2006_until=JUNE_20, man_pay=310000, student=False),
            corrects=accepted.name,
        )
    )
    assert corrected.version == 3 and corrected.current
    assert corrected.corrects == accepted.name
    assert ("MISSING_WORKER", FIXED_WOMAN, "") not in _codes(corrected)
    assert any(
        a.code == "MISSING_WORKER" and a.block.insz == FIXED_WOMAN for a in corrected.anomalies
    )
    _wait_for_minutes(network, 0)
    quarter = _worker_quarter(network, "institution-onem", "unemployment.control", FIXED_MAN)
    assert quarter.quarter.employers[0].records[0].remunerations[0].amount == 310000

    with network.dmfa_channel(f"employer-{RETAIL}") as channel:
        stub = dmfa_pb2_grpc.DmfaServiceStub(channel)
        previous = stub.GetDeclarationVersion(
            dmfa_pb2.GetDeclarationVersionRequest(name=accepted.name), timeout=10
        ).version
        assert not previous.current and previous.superseded_by == corrected.name
    with network.dmfa_channel("onss") as channel:
        events = (
            dmfa_pb2_grpc.DeclarationEventServiceStub(channel)
            .ListDeclarationEvents(dmfa_pb2.ListDeclarationEventsRequest(), timeout=10)
            .events
        )
    mine = [e for e in events if e.employer == RETAIL]
    assert [(e.kind, e.version, e.superseded) for e in mine] == [
        (dmfa_pb2.DECLARATION_EVENT_KIND_ACCEPTED, accepted.name, ""),
        (dmfa_pb2.DECLARATION_EVENT_KIND_CORRECTED, corrected.name, accepted.name),
    ]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert FIXED_MAN in mine[1].worker_inszs

    # 6. Another original, or a correction of a superseded version: refused, nothing stored.
    for request, reason in (
        (chunks(RETAIL, 2025, 2, "q2-d", _workers(woman_2006_until=JUNE_20)), "DECLARATION_EXISTS"),
        (
            chunks(
                RETAIL, 2025, 2, "q2-e", _workers(woman_2006_until=JUNE_20), corrects=accepted.name
            ),
            "VERSION_SUPERSEDED",
        ),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            network.submit(request)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert failure(caught.value).reason == reason

    # 7. The same submission again (same reference, same content): the stored answer.
    again = network.submit(
        chunks(RETAIL, 2025, 2, "q2-b", _workers(woman_2006_until=JUNE_20), per_chunk=2)
    )
    assert (again.name, again.status) == (accepted.name, accepted.status)

    # 8. The DRS's pre-fill source: the closed quarters before a risk date, through the router
    #    as the ONSS (legal context social-risks.declaration, the risk date as reference date).
    with network.via_router("onss") as channel:
        reply = dmfa_pb2_grpc.DmfaConsultationServiceStub(channel).ListWorkerQuarters(
            dmfa_pb2.ListWorkerQuartersRequest(
                insz=FIXED_MAN, employer=RETAIL, reference_date=date(dt.date(2025, 7, 15))
            ),
            metadata=((identity.LEGAL_CONTEXT_HEADER, "social-risks.declaration"),),
            timeout=20,
        )
    assert [(q.year, q.quarter, q.version) for q in reply.quarters] == [(2025, 2, corrected.name)]
    assert reply.quarters[0].records[0].remunerations[0].amount == 310000
    # A risk date inside 2025Q2: that quarter is not closed yet for the DRS.
    with network.via_router("onss") as channel:
        reply = dmfa_pb2_grpc.DmfaConsultationServiceStub(channel).ListWorkerQuarters(
            dmfa_pb2.ListWorkerQuartersRequest(
                insz=FIXED_MAN, employer=RETAIL, reference_date=date(dt.date(2025, 6, 10))
            ),
            metadata=((identity.LEGAL_CONTEXT_HEADER, "social-risks.declaration"),),
            timeout=20,
        )
    assert list(reply.quarters) == []


def _employment(network: Network, employer: str, day: dt.date):  # noqa: ANN202
    with network.via_router("onss") as channel:
        return dimona_pb2_grpc.DimonaConsultationServiceStub(channel).GetEmploymentOnDate(
            dimona_pb2.GetEmploymentOnDateRequest(
                insz=FIXED_MAN, employer=employer, date=date(day)
            ),
            metadata=((identity.LEGAL_CONTEXT_HEADER, "social-risks.declaration"),),
            timeout=20,
        )


def test_dimona_tells_the_drs_who_employed_the_worker_on_a_risk_date(network: Network) -> None:
    found = _employment(network, RETAIL, dt.date(2025, 6, 10)).period
    assert (found.employer, found.worker_insz, found.joint_committee) == (RETAIL, FIXED_MAN, "202")
    assert (found.start_date.month, found.start_date.day) == (6, 3)
    # Another employer on that day: not the worker's employer.
    with pytest.raises(grpc.RpcError) as caught:
        _employment(network, STATE, dt.date(2025, 6, 10))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert failure(caught.value).reason == "NO_EMPLOYMENT"
    # Before his period the ONSS does not hold him in the directory: the router refuses.
    with pytest.raises(grpc.RpcError) as caught:
        _employment(network, RETAIL, dt.date(2025, 5, 1))
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_malformed_input_is_invalid_argument_and_stores_nothing(network: Network) -> None:
    bad = worker(FIXED_MAN, "495", JUNE_3, Q2_END, occupation(JUNE_3, pay=-1))
    bad.records[0].occupations[0].ClearField("start_date")
    with pytest.raises(grpc.RpcError) as caught:
        network.submit(chunks(STATE, 2025, 2, "bad-1", [bad]), party=f"employer-{STATE}")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = failure(caught.value)
    assert info.field_violations.keys() == {
        "workers[0].records[0].occupations[0].start_date",
        "workers[0].records[0].occupations[0].remunerations[0].amount",
    }
    with network.dmfa_channel(f"employer-{STATE}") as channel:
        listed = dmfa_pb2_grpc.DmfaServiceStub(channel).ListDeclarations(
            dmfa_pb2.ListDeclarationsRequest(parent=f"employers/{STATE}"), timeout=10
        )
    assert list(listed.declarations) == []


@pytest.mark.parametrize(
    ("party", "employer", "code", "reason"),
    [
        (f"employer-{STATE}", RETAIL, grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER"),
        ("bureau-0314595348", STATE, grpc.StatusCode.PERMISSION_DENIED, "NO_MANDATE"),
        ("institution-onem", STATE, grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED"),
    ],
)
def test_only_the_employer_or_its_bureau_declares(
    network: Network, party: str, employer: str, code: grpc.StatusCode, reason: str
) -> None:
    request = chunks(
        employer, 2025, 2, "who", [worker(FIXED_MAN, "495", JUNE_3, Q2_END, occupation(JUNE_3))]
    )
    with pytest.raises(grpc.RpcError) as caught:
        network.submit(request, party=party)
    assert caught.value.code() == code
    assert failure(caught.value).reason == reason


def test_the_quarter_is_consulted_only_through_the_router(network: Network) -> None:
    with network.dmfa_channel("institution-onem") as channel:
        with pytest.raises(grpc.RpcError) as caught:
            dmfa_pb2_grpc.DmfaConsultationServiceStub(channel).GetWorkerQuarter(
                dmfa_pb2.GetWorkerQuarterRequest(insz=FIXED_MAN, year=2025, quarter=2),
                timeout=10,
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_cli_drafts_submits_and_reads_when_pointed_at_the_mesh(
    network: Network, tmp_path
) -> None:  # noqa: ANN001
    """The CLI an employer and an institution use: a draft pre-filled from the employer's own
    Dimona periods (DIMONA, directly), submitted, read back, and the worker's quarter through
    the router. STATE declares 2025Q2 here (no other test does)."""
    from click.testing import CliRunner

    from dmfa.cli import cli

    base = [
        "--target", f"localhost:{network.dmfa.port}",
        "--dimona", f"localhost:{network.dimona.port}",
        "--router", f"localhost:{network.router.port}",
        "--pki", str(network.pki_dir),
    ]  # fmt: skip

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, [*base, *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    # DIMONA: one open period of STATE's for FIXED_MAN from 2 June (the clock's 'tomorrow').
    with network.dimona_channel(f"employer-{STATE}") as channel:
        reply = dimona_pb2_grpc.DimonaServiceStub(channel).SubmitDeclaration(
            submit_in(STATE, "cli-in", dimona_in(FIXED_MAN, jc="XXX", start=JUNE_3)), timeout=30
        )
    assert reply.declaration.status != dimona_pb2.DECLARATION_STATUS_REFUSED
    draft = run("--as", f"employer-{STATE}", "draft", "2025Q2", "--reference", "cli-q2")
    path = tmp_path / "q2.json"
    path.write_text(draft)
    assert json.loads(draft)["workers"][0]["insz"] == FIXED_MAN
    shown = run("--as", f"employer-{STATE}", "submit", str(path))
    assert f"employers/{STATE}/declarations/2025Q2/versions/1 current" in shown
    assert "ACCEPTED" in shown and "REFUSED" not in shown
    assert "2025Q2" in run("--as", f"employer-{STATE}", "declarations")
    assert "ORDINARY" in run("--as", f"employer-{STATE}", "workers", "2025Q2", "1")
    # The wrong worker in a correction: refused (exit status 3), stored in the history.
    path.write_text(draft.replace(FIXED_MAN, FIXED_WOMAN_2006))
    refused = run(
        "--as", f"employer-{STATE}", "submit", str(path), "--corrects", "1",
        "--reference", "cli-fix", code=3,
    )  # fmt: skip
    assert "OCCUPATION_NOT_COVERED" in refused and "MISSING_WORKER" in refused
    history = run("--as", f"employer-{STATE}", "versions", "2025Q2")
    assert "versions/1 current" in history and "REFUSED" in history
    # A malformed file is refused before anything is sent.
    path.write_text("{not json")
    malformed = CliRunner().invoke(cli, [*base, "--as", f"employer-{STATE}", "submit", str(path)])
    assert malformed.exit_code == 1 and "INVALID_FILE" in malformed.output
    quarter = run(
        "--as", "institution-onem", "--legal-context", "unemployment.control",
        "worker-quarter", FIXED_MAN, "2025Q2",
    )  # fmt: skip
    assert STATE in quarter and "495" in quarter


def test_the_drs_sources_refuse_bad_input_with_a_reason(network: Network) -> None:
    """GetEmploymentOnDate and ListWorkerQuarters: malformed input is INVALID_ARGUMENT with the
    field and its reason (the router forwards it; the date is its reference date)."""
    context = ((identity.LEGAL_CONTEXT_HEADER, "social-risks.declaration"),)
    with network.via_router("onss") as channel:
        dimona = dimona_pb2_grpc.DimonaConsultationServiceStub(channel)
        dmfa = dmfa_pb2_grpc.DmfaConsultationServiceStub(channel)
        day = date(dt.date(2025, 6, 10))
        cases = [
            (
                lambda: dimona.GetEmploymentOnDate(
                    dimona_pb2.GetEmploymentOnDateRequest(insz=FIXED_MAN, employer="123", date=day),
                    metadata=context,
                    timeout=20,
                ),
                "INVALID_EMPLOYER",
            ),
            (
                lambda: dmfa.ListWorkerQuarters(
                    dmfa_pb2.ListWorkerQuartersRequest(
                        insz=FIXED_MAN, employer=RETAIL, reference_date=day, max_quarters=9
                    ),
                    metadata=context,
                    timeout=20,
                ),
                "INVALID_MAX_QUARTERS",
            ),
            (
                lambda: dmfa.ListWorkerQuarters(
                    dmfa_pb2.ListWorkerQuartersRequest(
                        insz=FIXED_MAN, employer="not-a-number", reference_date=day
                    ),
                    metadata=context,
                    timeout=20,
                ),
                "INVALID_EMPLOYER",
            ),
        ]
        for call, reason in cases:
            with pytest.raises(grpc.RpcError) as caught:
                call()
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, reason
            assert failure(caught.value).reason == reason
