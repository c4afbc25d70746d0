"""`python -m drs.cli`: pre-fill, submit and read declarations of social risks over mTLS, as an
employer or bureau; ask an employer for a declaration through the router, as an institution.

    python -m drs.cli --as employer-000100006 prefill 85071412330 --scenario incapacity \
        --risk-date 2026-11-23
    python -m drs.cli --as employer-000100006 submit end-of-contract 85071412330 \
        --risk-date 2026-11-27 --reason dismissal --contract-end 2026-12-31 --indemnity 4200.00
    python -m drs.cli --as employer-000100006 submit temporary 85071412330 --risk-date 2026-12-01 \
        --type 001 --planned-end 2026-12-31
    python -m drs.cli --as employer-000100006 submit temporary-hours 85071412330 --month 2026-11 \
        --type 002 --hours 38 --days 5
    python -m drs.cli --as employer-000100006 submit incapacity 85071412330 \
        --risk-date 2026-11-23 --last-day-worked 2026-11-20 [--task employers/.../tasks/...]
    python -m drs.cli --as employer-000100006 submit resumption 85071412330 \
        --risk-date 2026-12-07 --part-time --weekly-hours 19
    python -m drs.cli --as employer-000100006 submit work-accident 85071412330 \
        --risk-date 2026-11-26 --place "Warehouse 3" --description "Fell from a ladder." \
        --insurer 0404.484.654 --policy AT/2026/0042
    python -m drs.cli --as employer-000100006 declarations
    python -m drs.cli --as employer-000100006 declaration c4-1   # with its attestation's status
    python -m drs.cli --as employer-000100006 tasks              # the to-do list
    python -m drs.cli --as institution-cin request 85071412330 --employer 000100006 \
        --risk-date 2026-11-23                                          # through the router

`submit` takes, for every scenario, `--reference` (default: a fresh one), `--quarter YYYYQn DAYS
HOURS EUROS` (repeatable: pay and working time of a reference quarter; a closed quarter the DmfA
holds otherwise is a PAY_CONTRADICTS_DMFA warning) and `--task NAME` (the to-do task answered).
Global options: `--target` (`$DRS_ADDR` or localhost:50058), `--router` (`$ROUTER_ADDR` or
localhost:50049), `--as` (a certificate file stem in `--pki`, default `var/pki`), `--employer`
(the ONSS number; default: the `--as` employer's own), `--legal-context` (for `request`; default
`drs.sickness-request`), `--json`. Errors: `CODE REASON: message` on stderr, exit status 1; a
REFUSED declaration is printed with its anomalies and exits with status 3.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2
from rich.table import Table

from cbss.drs.v1 import drs_pb2, drs_pb2_grpc
from runtime.cli import err, fail, invoke, out, party_files
from runtime.client import secure_channel, server_name
from runtime.identifiers import IdentifierError, normalize_insz
from runtime.identity import LEGAL_CONTEXT_HEADER, TRUST_DOMAIN, router_ticket

_SCENARIOS = {
    "end-of-contract": drs_pb2.SCENARIO_UNEMPLOYMENT_END_OF_CONTRACT,
    "temporary": drs_pb2.SCENARIO_TEMPORARY_UNEMPLOYMENT,
    "temporary-hours": drs_pb2.SCENARIO_TEMPORARY_UNEMPLOYMENT_HOURS,
    "incapacity": drs_pb2.SCENARIO_SICKNESS_INCAPACITY,
    "resumption": drs_pb2.SCENARIO_SICKNESS_RESUMPTION,
    "work-accident": drs_pb2.SCENARIO_WORK_ACCIDENT,
}
_SCENARIO_NAMES = {v: k for k, v in _SCENARIOS.items()}
_REASONS = {
    "dismissal": drs_pb2.END_REASON_DISMISSAL,
    "fixed-term-end": drs_pb2.END_REASON_FIXED_TERM_END,
    "resignation": drs_pb2.END_REASON_RESIGNATION,
    "mutual-agreement": drs_pb2.END_REASON_MUTUAL_AGREEMENT,
    "serious-misconduct": drs_pb2.END_REASON_SERIOUS_MISCONDUCT,
}
_STATUS = {
    drs_pb2.DECLARATION_STATUS_ACCEPTED: "ACCEPTED",
    drs_pb2.DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS: "ACCEPTED_WITH_WARNINGS",
    drs_pb2.DECLARATION_STATUS_REFUSED: "REFUSED",
}
_ATTESTATION = {
    drs_pb2.ATTESTATION_STATUS_PENDING: "PENDING",
    drs_pb2.ATTESTATION_STATUS_DELIVERED: "DELIVERED",
    drs_pb2.ATTESTATION_STATUS_ACKNOWLEDGED: "ACKNOWLEDGED",
    drs_pb2.ATTESTATION_STATUS_DEAD_LETTERED: "DEAD_LETTERED",
}


@dataclass(frozen=True)
class Client:
    target: str
    router: str
    party: str
    pki: Path
    employer: str
    legal_context: str
    as_json: bool

    def stub(self) -> drs_pb2_grpc.DrsServiceStub:
        return drs_pb2_grpc.DrsServiceStub(
            secure_channel(self.target, party_files(self.pki, self.party))
        )

    def employer_number(self) -> str:
        if self.employer:
            return self.employer
        if not self.party.startswith("employer-"):
            fail("INVALID_ARGUMENT", "EMPLOYER_REQUIRED", "--employer: the ONSS number")
        return self.party.removeprefix("employer-")

    def parent(self) -> str:
        return f"employers/{self.employer_number()}"

    def show(self, response: Message, render: Any) -> None:
        if self.as_json:
            data = json_format.MessageToDict(response, preserving_proto_field_name=True)
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            render(response)


def _insz(text: str) -> str:
    try:
        return normalize_insz(text)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)


def _pb(day: dt.date | None) -> date_pb2.Date | None:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day else None


def _fmt(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


def _hundredths(text: str, what: str) -> int:
    try:
        return int((Decimal(text) * 100).to_integral_value())
    except InvalidOperation:
        fail("INVALID_ARGUMENT", "INVALID_NUMBER", f"{what}: {text!r} is not a number")


def _quarter(spec: tuple[str, str, str, str]) -> drs_pb2.QuarterPay:
    name, days, hours, euros = spec
    if len(name) != 6 or name[4] != "Q" or not name[:4].isdigit() or name[5] not in "1234":
        fail("INVALID_ARGUMENT", "INVALID_QUARTER", f"--quarter {name!r}: expected YYYYQn")
    return drs_pb2.QuarterPay(
        year=int(name[:4]),
        quarter=int(name[5]),
        days=_hundredths(days, "days"),
        hours=_hundredths(hours, "hours"),
        pay=_hundredths(euros, "pay"),
    )


def _render(d: drs_pb2.Declaration) -> None:
    flags = " LATE" if d.late else ""
    line = f"{_STATUS.get(d.status, '?')}  {d.name}  {_SCENARIO_NAMES.get(d.scenario, '?')}"
    out.print(f"{line}{flags}", markup=False, highlight=False)
    out.print(
        f"  worker {d.insz}, risk date {_fmt(d.risk_date)}, deadline {_fmt(d.deadline)}",
        markup=False,
        highlight=False,
    )
    if d.attestation_id:
        out.print(
            f"  attestation {d.attestation_id} {d.attestation_kind} ->"
            f" {d.destination or 'the mutuality (by the directory)'}:"
            f" {_ATTESTATION.get(d.attestation_status, '?')}",
            markup=False,
            highlight=False,
        )
    if d.task:
        out.print(f"  answers {d.task}", markup=False, highlight=False)
    for a in d.anomalies:
        kind = "warning" if a.severity == 2 else "blocking"
        where = " ".join(x for x in (a.field, f"= {a.value}" if a.value else "") if x)
        out.print(
            f"  {kind}: {a.code}{f' [{where}]' if where else ''} {a.label}",
            markup=False,
            highlight=False,
        )


@click.group()
@click.option("--target", envvar="DRS_ADDR", default="localhost:50058", show_default=True)
@click.option("--router", envvar="ROUTER_ADDR", default="localhost:50049", show_default=True)
@click.option("--as", "party", default="employer-000100006", show_default=True,
              help="Certificate file stem in the PKI folder.")  # fmt: skip
@click.option("--pki", type=click.Path(path_type=Path), default=Path("var/pki"))
@click.option("--employer", default="", help="ONSS number declared for (bureaus, requests).")
@click.option("--legal-context", default="drs.sickness-request", show_default=True,
              help="For requests through the router.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """Declare social risks (DRS) and read declarations and the to-do list."""
    ctx.obj = Client(**options)


@cli.command()
@click.argument("worker")
@click.option("--scenario", type=click.Choice(list(_SCENARIOS)), required=True)
@click.option("--risk-date", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.pass_obj
def prefill(client: Client, worker: str, scenario: str, risk_date: dt.datetime) -> None:
    """What the network knows for a declaration: identity, employment, closed quarters."""
    reply = invoke(
        client.stub().PrefillDeclaration,
        drs_pb2.PrefillDeclarationRequest(
            parent=client.parent(),
            insz=_insz(worker),
            scenario=_SCENARIOS[scenario],
            risk_date=_pb(risk_date.date()),
        ),
    )

    def render(r: drs_pb2.PrefillDeclarationResponse) -> None:
        p = r.prefill
        w, e = p.worker, p.employment
        out.print(
            f"{w.insz}  deceased (the register withholds the identity)"
            if w.deceased
            else f"{w.insz}  {w.last_name}, {' '.join(w.first_names)}  born {_fmt(w.birth_date)}",
            markup=False,
            highlight=False,
        )
        out.print(
            f"Dimona period {e.period_id}: {e.worker_type}, joint committee"
            f" {e.joint_committee or '-'}, {_fmt(e.start_date)} .. {_fmt(e.end_date) or 'open'}",
            markup=False,
            highlight=False,
        )
        table = Table("quarter (DmfA)", "days", "hours", "pay")
        for q in p.quarters:
            table.add_row(
                f"{q.year}Q{q.quarter}", f"{q.days / 100:g}", f"{q.hours / 100:g}",
                f"€{q.pay / 100:,.2f}",
            )  # fmt: skip
        out.print(table)
        out.print(f"deadline {_fmt(p.deadline)}", markup=False, highlight=False)

    client.show(reply, render)


def _common(function: Any) -> Any:
    for option in reversed(
        (
            click.argument("worker"),
            click.option("--reference", default="", help="Declaration reference."),
            click.option(
                "--quarter",
                "quarters",
                type=(str, str, str, str),
                multiple=True,
                help="YYYYQn DAYS HOURS EUROS of a reference quarter (repeatable).",
            ),
            click.option("--task", default="", help="The to-do task answered (its name)."),
            click.pass_obj,
        )
    ):
        function = option(function)
    return function


def _send(client: Client, worker: str, reference: str, quarters: Any, task: str, **kw: Any) -> None:
    day = kw.pop("risk_date")
    insz = _insz(worker)
    request = drs_pb2.SubmitDeclarationRequest(
        parent=client.parent(),
        declaration_reference=reference or f"cli-{uuid.uuid4().hex[:16]}",
        insz=insz,
        risk_date=_pb(day),
        quarters=[_quarter(q) for q in quarters],
        task=task,
        **kw,
    )
    reply = invoke(client.stub().SubmitDeclaration, request)
    client.show(reply, lambda r: _render(r.declaration))
    if reply.declaration.status == drs_pb2.DECLARATION_STATUS_REFUSED:
        sys.exit(3)


_DATE = click.DateTime(["%Y-%m-%d"])


@cli.group()
def submit() -> None:
    """Submit a declaration of one scenario."""


@submit.command("end-of-contract")
@click.option("--risk-date", type=_DATE, required=True, help="The last day worked.")
@click.option("--reason", type=click.Choice(list(_REASONS)), required=True)
@click.option("--contract-end", type=_DATE, required=True)
@click.option("--indemnity", default="0", help="Notice indemnity in euros.")
@click.option("--company-supplement", is_flag=True)
@_common
def end_of_contract(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    risk_date: dt.datetime,
    reason: str,
    contract_end: dt.datetime,
    indemnity: str,
    company_supplement: bool,
) -> None:
    """ONEM scenario 1: end of contract, full unemployment (C4)."""
    _send(
        client, worker, reference, quarters, task,
        risk_date=risk_date.date(),
        end_of_contract=drs_pb2.EndOfContract(
            reason=_REASONS[reason], contract_end_date=_pb(contract_end.date()),
            notice_indemnity=_hundredths(indemnity, "indemnity"),
            company_supplement=company_supplement,
        ),
    )  # fmt: skip


@submit.command("temporary")
@click.option("--risk-date", type=_DATE, required=True, help="The first day.")
@click.option("--type", "kind", required=True, help="001 to 011.")
@click.option("--planned-end", type=_DATE)
@_common
def temporary(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    risk_date: dt.datetime,
    kind: str,
    planned_end: dt.datetime | None,
) -> None:
    """ONEM scenario 2: start of temporary unemployment or employee suspension."""
    message = drs_pb2.TemporaryUnemployment(type=kind)
    if planned_end is not None:
        message.planned_end_date.CopyFrom(_pb(planned_end.date()))
    _send(client, worker, reference, quarters, task, risk_date=risk_date.date(),
          temporary_unemployment=message)  # fmt: skip


@submit.command("temporary-hours")
@click.option("--month", type=click.DateTime(["%Y-%m"]), required=True)
@click.option("--type", "kind", required=True, help="001 to 011.")
@click.option("--hours", required=True, help="Hours of temporary unemployment in the month.")
@click.option("--days", type=int, required=True)
@_common
def temporary_hours(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    month: dt.datetime,
    kind: str,
    hours: str,
    days: int,
) -> None:
    """ONEM scenario 5: a month's hours of temporary unemployment."""
    _send(
        client, worker, reference, quarters, task, risk_date=month.date().replace(day=1),
        temporary_unemployment_hours=drs_pb2.TemporaryUnemploymentHours(
            type=kind, hours=_hundredths(hours, "hours"), days=days
        ),
    )  # fmt: skip


@submit.command("incapacity")
@click.option("--risk-date", type=_DATE, required=True, help="The first day of incapacity.")
@click.option("--last-day-worked", type=_DATE, required=True)
@click.option("--maternity", is_flag=True, help="Maternity protection.")
@click.option("--salary-end", type=_DATE, help="The guaranteed salary's last day.")
@_common
def incapacity(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    risk_date: dt.datetime,
    last_day_worked: dt.datetime,
    maternity: bool,
    salary_end: dt.datetime | None,
) -> None:
    """ZIMA 001: incapacity for work or maternity protection (to the worker's mutuality)."""
    message = drs_pb2.Incapacity(
        last_day_worked=_pb(last_day_worked.date()), maternity_protection=maternity
    )
    if salary_end is not None:
        message.guaranteed_salary_end.CopyFrom(_pb(salary_end.date()))
    _send(client, worker, reference, quarters, task, risk_date=risk_date.date(),
          incapacity=message)  # fmt: skip


@submit.command("resumption")
@click.option("--risk-date", type=_DATE, required=True, help="The first day worked again.")
@click.option("--part-time", is_flag=True)
@click.option("--weekly-hours", default="0", help="Hours a week (part-time).")
@_common
def resumption(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    risk_date: dt.datetime,
    part_time: bool,
    weekly_hours: str,
) -> None:
    """ZIMA 006: resumption of work (to the worker's mutuality)."""
    _send(
        client, worker, reference, quarters, task, risk_date=risk_date.date(),
        resumption=drs_pb2.Resumption(
            part_time=part_time, weekly_hours=_hundredths(weekly_hours, "weekly hours")
        ),
    )  # fmt: skip


@submit.command("work-accident")
@click.option("--risk-date", type=_DATE, required=True, help="The accident's day.")
@click.option("--place", required=True)
@click.option("--description", required=True)
@click.option("--insurer", default="", help="The insurer's KBO number (none: Fedris).")
@click.option("--policy", default="", help="The policy number at that insurer.")
@click.option("--on-the-way", is_flag=True, help="On the way to or from work.")
@_common
def work_accident(
    client: Client,
    worker: str,
    reference: str,
    quarters: Any,
    task: str,
    risk_date: dt.datetime,
    place: str,
    description: str,
    insurer: str,
    policy: str,
    on_the_way: bool,
) -> None:
    """A work accident (to the insurer, or Fedris)."""
    _send(
        client, worker, reference, quarters, task, risk_date=risk_date.date(),
        work_accident=drs_pb2.WorkAccident(
            insurer_kbo=insurer, policy_number=policy, place=place, description=description,
            on_the_way=on_the_way,
        ),
    )  # fmt: skip


@cli.command()
@click.pass_obj
def declarations(client: Client) -> None:
    """The employer's declarations, newest first, with their attestations' status."""
    found: list[drs_pb2.Declaration] = []
    token = ""
    while True:
        reply = invoke(
            client.stub().ListDeclarations,
            drs_pb2.ListDeclarationsRequest(
                parent=client.parent(), page_size=500, page_token=token
            ),
        )
        found += list(reply.declarations)
        token = reply.next_page_token
        if not token:
            break

    def render(r: drs_pb2.ListDeclarationsResponse) -> None:
        table = Table("reference", "scenario", "worker", "risk date", "status", "attestation",
                      "to", "anomalies")  # fmt: skip
        for d in r.declarations:
            table.add_row(
                d.declaration_reference, _SCENARIO_NAMES.get(d.scenario, "?"), d.insz,
                _fmt(d.risk_date), _STATUS.get(d.status, "?") + (" LATE" if d.late else ""),
                _ATTESTATION.get(d.attestation_status, "-"),
                d.destination or ("directory" if d.attestation_id else "-"),
                ", ".join(a.code for a in d.anomalies),
            )  # fmt: skip
        out.print(table)

    client.show(drs_pb2.ListDeclarationsResponse(declarations=found), render)


@cli.command()
@click.argument("reference")
@click.pass_obj
def declaration(client: Client, reference: str) -> None:
    """One declaration with its anomalies and its attestation's status (asked of the inbox)."""
    reply = invoke(
        client.stub().GetDeclaration,
        drs_pb2.GetDeclarationRequest(name=f"{client.parent()}/declarations/{reference}"),
    )
    client.show(reply, lambda r: _render(r.declaration))


@cli.command()
@click.pass_obj
def tasks(client: Client) -> None:
    """The to-do list: declarations institutions asked for, open ones first."""
    reply = invoke(
        client.stub().ListTasks, drs_pb2.ListTasksRequest(parent=client.parent(), page_size=500)
    )

    def render(r: drs_pb2.ListTasksResponse) -> None:
        table = Table("task", "scenario", "worker", "risk date", "asked by", "deadline", "state",
                      "declaration")  # fmt: skip
        for t in r.tasks:
            table.add_row(
                t.name, _SCENARIO_NAMES.get(t.scenario, "?"), t.insz, _fmt(t.risk_date),
                t.requested_by, _fmt(t.deadline), drs_pb2.TaskState.Name(t.state)[11:],
                t.declaration or "-",
            )  # fmt: skip
        out.print(table)

    client.show(reply, render)


def _ticket(call: Any) -> None:
    ticket = router_ticket(call)
    if ticket:
        err.print(f"router ticket {ticket}", markup=False, highlight=False)


@cli.command()
@click.argument("worker")
@click.option("--risk-date", type=_DATE, required=True, help="The first day of incapacity.")
@click.option("--request-id", default="", help="Your id for this request (default: fresh).")
@click.option(
    "--router-name",
    default="",
    help="The router --router names, checked in its certificate (router/<name>): cin for a "
    "member mutuality asking through its hub. Without it, any party of the mesh's CA at that "
    "address (the edge, by default).",
)
@click.pass_obj
def request(
    client: Client, worker: str, risk_date: dt.datetime, request_id: str, router_name: str
) -> None:
    """Ask an employer for a ZIMA 001, through the router: a member mutuality through its hub
    (`--router localhost:50053 --router-name cin`), or the mutualities' college."""
    if not client.employer:
        fail("INVALID_ARGUMENT", "EMPLOYER_REQUIRED", "--employer: the employer asked")
    pinned = server_name(f"spiffe://{TRUST_DOMAIN}/router/{router_name}") if router_name else {}
    channel = secure_channel(client.router, party_files(client.pki, client.party), **pinned)
    reply = invoke(
        drs_pb2_grpc.DrsRequestServiceStub(channel).RequestDeclaration,
        drs_pb2.RequestDeclarationRequest(
            request_id=request_id or str(uuid.uuid4()),
            employer=client.employer,
            insz=_insz(worker),
            scenario=drs_pb2.SCENARIO_SICKNESS_INCAPACITY,
            risk_date=_pb(risk_date.date()),
        ),
        metadata=[(LEGAL_CONTEXT_HEADER, client.legal_context)],
        seen=_ticket,
    )

    def render(r: drs_pb2.RequestDeclarationResponse) -> None:
        t = r.task
        out.print(
            f"{t.name}: {_SCENARIO_NAMES.get(t.scenario, '?')} for {t.insz} on"
            f" {_fmt(t.risk_date)}, due {_fmt(t.deadline)}, {drs_pb2.TaskState.Name(t.state)[11:]}",
            markup=False,
            highlight=False,
        )

    client.show(reply, render)


def main() -> None:
    cli(prog_name="python -m drs.cli")


if __name__ == "__main__":
    main()
