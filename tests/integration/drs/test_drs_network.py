"""The DRS in the network: the pre-fill gathered through the router from the real register,
DIMONA and DmfA; the refusal of an employer that is not the worker's on the risk date; a
mutuality's request (its own, relayed up by its hub, or the college `cin`'s) in the employer's
to-do list and
answered by a ZIMA 001 that reaches the member mutuality's inbox through the directory behind
the hub; attestations reaching ONEM (scenario 1), Ethias (an insured accident) and Fedris (an
uninsured one), with their status back in the declaration; pay contradicting the DmfA; and the
refusals of malformed or unauthorised requests."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import grpc
import pytest

from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from registry.seed.population import FIXED_MAN, FIXED_WOMAN
from runtime import identity
from runtime.client import failure, party_tls, secure_channel, server_name
from tests.integration.drs.conftest import DMFA_Q2, RETAIL, STATE, Mesh
from tests.support.servers import channel_as
from tests.unit.drs import protos as p

pytestmark = pytest.mark.integration

RISK = dt.date(2025, 9, 15)  # a Monday; the DRS's clock says 16 September
ETHIAS_KBO = "0404484654"


def _refusal(call) -> tuple[grpc.StatusCode, str, str]:  # noqa: ANN001
    with pytest.raises(grpc.RpcError) as caught:
        call()
    info = failure(caught.value)
    return info.code, info.reason, info.domain


def _prefill(mesh: Mesh, employer: str, insz: str, scenario: int, day: dt.date):  # noqa: ANN202
    return (
        mesh.drs(f"employer-{employer}")
        .PrefillDeclaration(
            drs_pb2.PrefillDeclarationRequest(
                parent=f"employers/{employer}", insz=insz, scenario=scenario, risk_date=p.pb(day)
            ),
            timeout=30,
        )
        .prefill
    )


def _submit(mesh: Mesh, request: drs_pb2.SubmitDeclarationRequest) -> drs_pb2.Declaration:
    return mesh.drs().SubmitDeclaration(request, timeout=30).declaration


def test_prefill_gathers_identity_employment_and_the_dmfas_closed_quarter(mesh: Mesh) -> None:
    found = _prefill(mesh, RETAIL, FIXED_MAN, drs_pb2.SCENARIO_UNEMPLOYMENT_END_OF_CONTRACT, RISK)
    assert found.worker.insz == FIXED_MAN
    assert (found.worker.last_name, list(found.worker.first_names)) == ("Peeters", ["Jan", "Frans"])
    assert (found.worker.birth_date.year, found.worker.birth_date.month) == (1985, 7)
    e = found.employment
    assert (e.worker_type, e.joint_committee) == ("OTH", "202") and e.period_id > 0
    assert (e.start_date.month, e.start_date.day) == (6, 3) and not e.HasField("end_date")
    # 2025Q3 holds the risk date: only 2025Q2 is closed, and the DmfA holds it.
    days, hours, pay = DMFA_Q2[FIXED_MAN]
    assert [(q.year, q.quarter, q.days, q.hours, q.pay) for q in found.quarters] == [
        (2025, 2, days, hours, pay)
    ]
    assert (found.deadline.month, found.deadline.day) == (9, 16)
    # Inside 2025Q2 no quarter is closed yet: the employer enters its own figures.
    early = _prefill(mesh, RETAIL, FIXED_MAN, drs_pb2.SCENARIO_WORK_ACCIDENT, dt.date(2025, 6, 10))
    assert list(early.quarters) == [] and early.employment.period_id == e.period_id


def test_an_employer_that_is_not_the_workers_on_the_risk_date_is_refused(mesh: Mesh) -> None:
    # STATE never employed him (the ONSS holds him through RETAIL's period: DIMONA answers).
    code, reason, domain = _refusal(
        lambda: _prefill(mesh, STATE, FIXED_MAN, drs_pb2.SCENARIO_WORK_ACCIDENT, RISK)
    )
    assert (code, reason, domain) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_WORKERS_EMPLOYER",
        "drs.cbss",
    )
    # Before his first day nobody employed him (the router's directory check refuses).
    code, reason, _ = _refusal(
        lambda: _prefill(
            mesh, RETAIL, FIXED_MAN, drs_pb2.SCENARIO_WORK_ACCIDENT, dt.date(2025, 5, 2)
        )
    )
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_WORKERS_EMPLOYER")
    # Submitting is refused the same way, and stores nothing.
    request = p.submit(STATE, "not-mine", FIXED_MAN, RISK, **p.work_accident())
    code, reason, _ = _refusal(
        lambda: mesh.drs(f"employer-{STATE}").SubmitDeclaration(request, timeout=30)
    )
    assert reason == "NOT_WORKERS_EMPLOYER"
    code, reason, _ = _refusal(
        lambda: mesh.drs(f"employer-{STATE}").GetDeclaration(
            drs_pb2.GetDeclarationRequest(name=f"employers/{STATE}/declarations/not-mine"),
            timeout=10,
        )
    )
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "DECLARATION_NOT_FOUND")


def test_end_of_contract_reaches_onem_with_the_dmfas_quarter_and_its_status(mesh: Mesh) -> None:
    days, hours, pay = DMFA_Q2[FIXED_MAN]
    declared = _submit(
        mesh,
        p.submit(
            RETAIL,
            "c4-man",
            FIXED_MAN,
            RISK,
            quarters=[
                p.quarter(2025, 3, 1100, 8360, 165000),  # the current quarter: the employer's
                p.quarter(2025, 2, days, hours, pay + 1),  # contradicts the DmfA
            ],
            **p.end_of_contract(RISK + dt.timedelta(days=14)),
        ),
    )
    assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS
    assert [(a.code, a.field, a.value) for a in declared.anomalies] == [
        ("PAY_CONTRADICTS_DMFA", "quarters[1].pay", str(pay))
    ]
    assert (declared.attestation_kind, declared.destination) == ("unemployment.c4", "onem")
    assert declared.submitted_by == f"spiffe://carrefour.local/employer/{RETAIL}"
    row = mesh.wait_for("onem", declared.attestation_id)
    assert (row.kind, row.subject_insz, row.sender) == ("unemployment.c4", FIXED_MAN, "onss")
    body = json.loads(row.payload)
    assert body["declaration"] == f"employers/{RETAIL}/declarations/c4-man"
    assert [(q["year"], q["quarter"], q["pay"], q["source"]) for q in body["quarters"]] == [
        (2025, 3, 165000, "EMPLOYER"),
        (2025, 2, pay, "DMFA"),
    ]
    # The employer sees it delivered, then acknowledged once ONEM takes it in hand.
    name = f"employers/{RETAIL}/declarations/c4-man"
    stub = mesh.drs()
    _wait_status(stub, name, drs_pb2.ATTESTATION_STATUS_DELIVERED)
    with secure_channel(
        f"localhost:{mesh.port('onem')}",
        party_tls(mesh.pki_dir, "institution-onem"),
        **server_name("spiffe://carrefour.local/institution/onem"),
    ) as channel:
        inbox_pb2_grpc.InboxServiceStub(channel).AcknowledgeAttestation(
            inbox_pb2.AcknowledgeAttestationRequest(
                name=f"inboxes/onem/attestations/{declared.attestation_id}"
            ),
            timeout=10,
        )
    shown = stub.GetDeclaration(drs_pb2.GetDeclarationRequest(name=name), timeout=20).declaration
    assert shown.attestation_status == drs_pb2.ATTESTATION_STATUS_ACKNOWLEDGED
    listed = stub.ListDeclarations(
        drs_pb2.ListDeclarationsRequest(parent=f"employers/{RETAIL}"), timeout=10
    ).declarations
    assert name in [d.name for d in listed]


def _wait_status(stub: drs_pb2_grpc.DrsServiceStub, name: str, status: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        shown = stub.GetDeclaration(drs_pb2.GetDeclarationRequest(name=name), timeout=20)
        if shown.declaration.attestation_status == status:
            return
        assert time.monotonic() < deadline, shown
        time.sleep(0.1)


def _request(mesh: Mesh, party: str, insz: str, channel=None):  # noqa: ANN001, ANN202
    stub = drs_pb2_grpc.DrsRequestServiceStub(channel or mesh.via_router(party))
    return stub.RequestDeclaration(
        drs_pb2.RequestDeclarationRequest(
            request_id=str(uuid.uuid4()),
            employer=RETAIL,
            insz=insz,
            scenario=drs_pb2.SCENARIO_SICKNESS_INCAPACITY,
            risk_date=p.pb(RISK),
        ),
        metadata=((identity.LEGAL_CONTEXT_HEADER, "drs.sickness-request"),),
        timeout=20,
    ).task


def test_a_mutualitys_request_is_in_the_to_do_list_and_its_zima_001_reaches_the_member(
    mesh: Mesh,
) -> None:
    incapacity = p.incapacity(RISK - dt.timedelta(days=1))
    # Unasked, RETAIL (not a spontaneous filer) is refused.
    refused = _submit(mesh, p.submit(RETAIL, "zima-unasked", FIXED_MAN, RISK, **incapacity))
    assert refused.status == drs_pb2.DECLARATION_STATUS_REFUSED
    assert [a.code for a in refused.anomalies] == ["NO_REQUEST"] and not refused.attestation_id

    # The college relays its member's request (the router checks `cin` holds the person).
    task = _request(mesh, "institution-cin", FIXED_MAN)
    assert (task.requested_by, task.state) == ("cin", drs_pb2.TASK_STATE_OPEN)
    assert (task.deadline.month, task.deadline.day) == (10, 1)  # Wednesday 1 October
    todo = mesh.drs().ListTasks(drs_pb2.ListTasksRequest(parent=f"employers/{RETAIL}"), timeout=10)
    assert todo.tasks[0].name == task.name and todo.tasks[0].insz == FIXED_MAN

    declared = _submit(
        mesh, p.submit(RETAIL, "zima-man", FIXED_MAN, RISK, task=task.name, **incapacity)
    )
    assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED, declared.anomalies
    assert (declared.attestation_kind, declared.destination) == ("sickness.zima-001", "")
    assert declared.task == task.name
    # The primary routes to the hub (`cin` holds him), the hub to his mutuality.
    row = mesh.wait_for("mut-100", declared.attestation_id)
    assert (row.kind, row.subject_insz) == ("sickness.zima-001", FIXED_MAN)
    assert json.loads(row.payload)["task"] == task.name
    assert declared.attestation_id not in [r.id for r in mesh.inbox("mut-200")]
    todo = mesh.drs().ListTasks(drs_pb2.ListTasksRequest(parent=f"employers/{RETAIL}"), timeout=10)
    done = next(t for t in todo.tasks if t.name == task.name)
    assert done.state == drs_pb2.TASK_STATE_DONE
    assert done.declaration == f"employers/{RETAIL}/declarations/zima-man"


def test_a_member_mutuality_asks_through_its_hub_and_only_about_its_members(
    mesh: Mesh,
) -> None:
    # mut-100 through its hub: the hub checks that mut-100 holds him (its own directory), then
    # relays the call up to the primary, which checks that the hub's member may ask and that
    # the hub holds him there; the task names the member.
    task = _request(mesh, "institution-mut-100", FIXED_MAN, mesh.via_hub("institution-mut-100"))
    assert (task.requested_by, task.state) == ("mut-100", drs_pb2.TASK_STATE_OPEN)
    # mut-200 asking about mut-100's member: refused at the hub by the directory.
    code, reason, _ = _refusal(
        lambda: _request(
            mesh, "institution-mut-200", FIXED_MAN, mesh.via_hub("institution-mut-200")
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "SUBJECT_NOT_INTEGRATED")
    # mut-100 directly at the primary: it holds nobody there (its members are the hub's).
    code, reason, _ = _refusal(lambda: _request(mesh, "institution-mut-100", FIXED_MAN))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "SUBJECT_NOT_INTEGRATED")
    # The college may ask only about a person it holds on the risk date (directory REQUIRED,
    # capacity 11/1): a person of no mutuality is refused.
    code, reason, _ = _refusal(lambda: _request(mesh, "institution-cin", "06070500252"))
    assert code == grpc.StatusCode.PERMISSION_DENIED


def _relayed(mesh: Mesh, router_party: str, requester: str) -> tuple[grpc.StatusCode, str]:
    """A call forwarded to the primary by `router_party`, naming `requester` in the routing
    headers (as a hub relaying a member's call does)."""
    headers = (
        (identity.REQUESTER_HEADER, f"spiffe://{identity.TRUST_DOMAIN}/institution/{requester}"),
        (identity.LEGAL_CONTEXT_HEADER, "drs.sickness-request"),
        (identity.TICKET_HEADER, str(uuid.uuid4())),
        (identity.CAPACITY_HEADER, "11/1"),
    )
    with channel_as(mesh.pki_dir, router_party, mesh.port("router")) as channel:
        with pytest.raises(grpc.RpcError) as err:
            drs_pb2_grpc.DrsRequestServiceStub(channel).RequestDeclaration(
                drs_pb2.RequestDeclarationRequest(
                    request_id=str(uuid.uuid4()),
                    employer=RETAIL,
                    insz=FIXED_MAN,
                    scenario=drs_pb2.SCENARIO_SICKNESS_INCAPACITY,
                    risk_date=p.pb(RISK),
                ),
                metadata=headers,
                timeout=20,
            )
    return err.value.code(), failure(err.value).reason


def test_the_primary_trusts_a_relayed_call_only_from_the_members_own_hub(mesh: Mesh) -> None:
    """Routing headers from a router are trusted at the primary only from the hub of the
    member institutions registered there, and only naming one of *its* members."""
    from runtime import pki

    # The real hub naming a primary-network institution (not its member): refused.
    assert _relayed(mesh, "hub-cin", "onem") == (
        grpc.StatusCode.PERMISSION_DENIED,
        "UNKNOWN_INSTITUTION",
    )
    # Another router of the mesh (a valid certificate of the same CA) naming a member.
    cert, key = pki.issue(
        pki.load_or_create_ca(mesh.pki_dir), f"spiffe://{identity.TRUST_DOMAIN}/router/rogue"
    )
    (mesh.pki_dir / "router-rogue.pem").write_bytes(cert)
    (mesh.pki_dir / "router-rogue.key").write_bytes(key)
    assert _relayed(mesh, "router-rogue", "mut-100") == (
        grpc.StatusCode.PERMISSION_DENIED,
        "UNKNOWN_INSTITUTION",
    )


@pytest.mark.parametrize(
    ("insurer", "policy", "inbox", "reference"),
    [(ETHIAS_KBO, "AT/2025/0042", "ethias", "wa-insured"), ("", "", "fedris", "wa-uninsured")],
)
def test_a_work_accident_reaches_the_insurer_or_fedris(
    mesh: Mesh, insurer: str, policy: str, inbox: str, reference: str
) -> None:
    accident = RISK - dt.timedelta(days=3)
    declared = _submit(
        mesh,
        p.submit(
            RETAIL,
            reference,
            FIXED_WOMAN,
            accident,
            **p.work_accident(insurer, policy, on_the_way=True),
        ),
    )
    assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED, declared.anomalies
    assert declared.destination == inbox
    assert (declared.deadline.month, declared.deadline.day) == (9, 20)
    row = mesh.wait_for(inbox, declared.attestation_id)
    body = json.loads(row.payload)
    assert body["risk"]["insurer_kbo"] == insurer and body["risk"]["on_the_way"] is True


def test_an_unknown_insurer_is_refused_and_nothing_is_sent(mesh: Mesh) -> None:
    declared = _submit(
        mesh,
        p.submit(RETAIL, "wa-unknown", FIXED_WOMAN, RISK, **p.work_accident("0203201340", "P-1")),
    )
    assert declared.status == drs_pb2.DECLARATION_STATUS_REFUSED
    assert [(a.code, a.severity) for a in declared.anomalies] == [("UNKNOWN_INSURER", 1)]
    assert declared.attestation_status == drs_pb2.ATTESTATION_STATUS_UNSPECIFIED


def test_malformed_and_unauthorised_requests_are_refused_with_their_reasons(mesh: Mesh) -> None:
    bad = p.submit(RETAIL, "bad ref", FIXED_MAN, None, **p.temporary("012"))
    with pytest.raises(grpc.RpcError) as caught:
        mesh.drs().SubmitDeclaration(bad, timeout=10)
    info = failure(caught.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT and info.domain == "drs.cbss"
    assert set(info.field_violations) == {
        "declaration_reference",
        "risk_date",
        "temporary_unemployment.type",
    }
    # Another employer's declarations; an institution calling directly.
    code, reason, _ = _refusal(
        lambda: mesh.drs(f"employer-{STATE}").ListDeclarations(
            drs_pb2.ListDeclarationsRequest(parent=f"employers/{RETAIL}"), timeout=10
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_OWN_EMPLOYER")
    code, reason, _ = _refusal(
        lambda: mesh.drs("institution-onem").ListTasks(
            drs_pb2.ListTasksRequest(parent=f"employers/{RETAIL}"), timeout=10
        )
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_AUTHORISED")
    # The request service answers only a router.
    code, reason, _ = _refusal(
        lambda: _request(mesh, "cin", FIXED_MAN, mesh.drs_channel("institution-cin"))
    )
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "DIRECT_ACCESS_FORBIDDEN")


def test_the_cli_prefills_submits_reads_and_requests_when_pointed_at_the_mesh(mesh: Mesh) -> None:
    from click.testing import CliRunner

    from drs.cli import cli

    base = [
        "--target", f"localhost:{mesh.port('drs')}",
        "--router", f"localhost:{mesh.port('router')}",
        "--pki", str(mesh.pki_dir),
    ]  # fmt: skip

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, [*base, *args])
        assert result.exit_code == code, (result.output, result.exception)
        return result.output

    shown = run("prefill", FIXED_WOMAN, "--scenario", "resumption", "--risk-date", "2025-09-15")
    assert "Dimona period" in shown and "2025Q2" in shown and "2025-09-23" in shown
    shown = run(
        "submit", "work-accident", FIXED_WOMAN, "--risk-date", "2025-09-15",
        "--place", "Dock 2", "--description", "Slipped.", "--insurer", "0404.484.654",
        "--policy", "AT-7", "--reference", "cli-wa", "--quarter", "2025Q2", "18", "136.8", "2700",
    )  # fmt: skip
    assert "ACCEPTED" in shown and "-> ethias" in shown
    shown = run(
        "submit", "resumption", FIXED_WOMAN, "--risk-date", "2025-09-15", "--part-time",
        "--weekly-hours", "19", "--reference", "cli-back",
    )  # fmt: skip
    assert "ACCEPTED" in shown and "the mutuality (by the directory)" in shown
    too_long = CliRunner().invoke(
        cli,
        [*base, "submit", "resumption", FIXED_WOMAN, "--risk-date", "2025-09-15",
         "--part-time", "--weekly-hours", "60"],
    )  # fmt: skip
    assert too_long.exit_code == 1 and "INVALID_QUANTITY" in too_long.output
    refused = run(
        "submit", "incapacity", FIXED_WOMAN, "--risk-date", "2025-09-15",
        "--last-day-worked", "2025-09-12", "--reference", "cli-zima", code=3,
    )  # fmt: skip
    assert "REFUSED" in refused and "NO_REQUEST" in refused
    assert "cli-wa" in run("declarations") and "work-accident" in run("declaration", "cli-wa")
    asked = run(
        "--as", "institution-cin", "--employer", RETAIL, "request", FIXED_WOMAN,
        "--risk-date", "2025-09-15",
    )  # fmt: skip
    assert "OPEN" in asked and "incapacity" in asked
    assert "cin" in run("tasks")
    malformed = CliRunner().invoke(
        cli,
        [*base, "submit", "temporary", FIXED_WOMAN, "--risk-date", "2025-09-15", "--type", "12"],
    )
    assert malformed.exit_code == 1


def test_a_fatal_work_accident_is_prefilled_and_declared_without_the_identity(
    mesh: Mesh,
) -> None:
    """The register refuses a deceased person's identity (its policy at the router): the
    pre-fill says the worker died, with his employment, and the accident is declared. Runs last
    in this module: the worker it declares dead is used by no other test."""
    from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
    from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
    from registry.seed.population import FIXED_BIS
    from tests.integration.dimona.protos import dimona_in, submit_in

    with channel_as(mesh.pki_dir, f"employer-{RETAIL}", mesh.port("dimona")) as channel:
        reply = dimona_pb2_grpc.DimonaServiceStub(channel).SubmitDeclaration(
            submit_in(RETAIL, "fatal-in", dimona_in(FIXED_BIS, jc="202")), timeout=30
        )
    assert reply.declaration.status != dimona_pb2.DECLARATION_STATUS_REFUSED
    accident = RISK - dt.timedelta(days=3)
    deadline = time.monotonic() + 20
    while True:  # until DIMONA's outbox has integrated him (the ONSS holds him from 3 June)
        try:
            alive = _prefill(mesh, RETAIL, FIXED_BIS, drs_pb2.SCENARIO_WORK_ACCIDENT, accident)
            break
        except grpc.RpcError:
            assert time.monotonic() < deadline, "the worker was never integrated"
            time.sleep(0.1)
    assert not alive.worker.deceased and alive.worker.last_name
    with channel_as(mesh.pki_dir, "institution-cbss", mesh.port("registry")) as channel:
        registry_pb2_grpc.RegistryServiceStub(channel).RecordDeath(
            registry_pb2.RecordDeathRequest(
                insz=FIXED_BIS, request_id="fatal-1", date_of_death=p.pb(accident)
            ),
            timeout=20,
        )
    found = _prefill(mesh, RETAIL, FIXED_BIS, drs_pb2.SCENARIO_WORK_ACCIDENT, accident)
    assert found.worker.deceased and found.worker.insz == FIXED_BIS
    assert (found.worker.last_name, list(found.worker.first_names)) == ("", [])
    assert found.employment.worker_type == "OTH" and found.employment.joint_committee == "202"
    declared = _submit(mesh, p.submit(RETAIL, "wa-fatal", FIXED_BIS, accident, **p.work_accident()))
    assert declared.status == drs_pb2.DECLARATION_STATUS_ACCEPTED, declared.anomalies
    assert declared.destination == "fedris"
    assert mesh.wait_for("fedris", declared.attestation_id).subject_insz == FIXED_BIS
