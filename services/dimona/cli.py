"""`python -m dimona.cli`: declare and read Dimona periods over mTLS, as an employer or bureau.

    python -m dimona.cli --as employer-000100006 in 85.07.14-123.30 --type OTH --jc 202 \
        --start 2026-03-02
    python -m dimona.cli --as employer-000100006 in 03.02.01-002.74 --type STU --jc 202 \
        --start 2026-07-01 --end 2026-07-31 --hours 700
    python -m dimona.cli --as bureau-0314595348 --employer 000100006 out 12 --end 2026-03-31
    python -m dimona.cli --as employer-000100006 update 12 --end 2026-04-30
    python -m dimona.cli --as employer-000100006 cancel 12
    python -m dimona.cli --as employer-000100006 periods [--worker INSZ]
    python -m dimona.cli --as employer-000100006 balance 03020100274 --year 2026
    python -m dimona.cli --as institution-onem --legal-context unemployment.control \
        worker-periods 85071412330           # through the router
    python -m dimona.cli --as onss events --after 0

Global options: `--target` (default `$DIMONA_ADDR` or localhost:50056), `--router` (default
`$ROUTER_ADDR` or localhost:50049), `--as` (a certificate file stem in `--pki`, default
`var/pki`), `--employer` (the ONSS number declared for; default: the `--as` employer's own),
`--reference` (the declaration reference, the idempotency key; default a fresh one), `--json`.
INSZ arguments may be formatted (`85.07.14-123.30`). Errors: `CODE REASON: message` on stderr,
exit status 1; a REFUSED declaration is printed with its anomalies and exits with status 3.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2, timeofday_pb2
from rich.table import Table

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from runtime.cli import err, fail, invoke, out, party_files
from runtime.client import secure_channel
from runtime.identifiers import IdentifierError, normalize_insz
from runtime.identity import LEGAL_CONTEXT_HEADER, router_ticket

_TYPES = {t.removeprefix("WORKER_TYPE_"): v for t, v in dimona_pb2.WorkerType.items() if v}
_STATUS = {
    dimona_pb2.DECLARATION_STATUS_ACCEPTED: "ACCEPTED",
    dimona_pb2.DECLARATION_STATUS_ACCEPTED_WITH_WARNINGS: "ACCEPTED_WITH_WARNINGS",
    dimona_pb2.DECLARATION_STATUS_REFUSED: "REFUSED",
}


@dataclass(frozen=True)
class Client:
    target: str
    router: str
    party: str
    pki: Path
    employer: str
    reference: str
    legal_context: str
    as_json: bool

    def stub(self, kind: Any, *, routed: bool = False) -> Any:
        files = party_files(self.pki, self.party)
        return kind(secure_channel(self.router if routed else self.target, files))

    def parent(self) -> str:
        employer = self.employer
        if not employer:
            if not self.party.startswith("employer-"):
                fail("INVALID_ARGUMENT", "EMPLOYER_REQUIRED", "--employer: the ONSS number")
            employer = self.party.removeprefix("employer-")
        return f"employers/{employer}"

    def show(self, response: Message, render: Any) -> None:
        if self.as_json:
            data = json_format.MessageToDict(response, preserving_proto_field_name=True)
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            render(response)

    def submit(self, **form: Message) -> None:
        request = dimona_pb2.SubmitDeclarationRequest(
            parent=self.parent(),
            declaration_reference=self.reference or f"cli-{uuid.uuid4().hex[:16]}",
            **form,
        )
        reply = invoke(self.stub(dimona_pb2_grpc.DimonaServiceStub).SubmitDeclaration, request)
        self.show(reply, lambda r: _render_declaration(r.declaration))
        if reply.declaration.status == dimona_pb2.DECLARATION_STATUS_REFUSED:
            sys.exit(3)


# -- parsing and rendering ---------------------------------------------------------------------


def _insz(text: str) -> str:
    try:
        return normalize_insz(text)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)


def _date(text: str | None) -> date_pb2.Date | None:
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_DATE", f"{text!r}: expected YYYY-MM-DD")
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _time(text: str | None) -> timeofday_pb2.TimeOfDay | None:
    if text is None:
        return None
    try:
        hours, minutes = (int(x) for x in text.split(":"))
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_TIME", f"{text!r}: expected HH:MM")
    return timeofday_pb2.TimeOfDay(hours=hours, minutes=minutes)


def _fmt_date(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


def _fmt_time(t: timeofday_pb2.TimeOfDay) -> str:
    return f" {t.hours:02d}:{t.minutes:02d}"


def _fmt_span(p: dimona_pb2.Period) -> str:
    start = _fmt_date(p.start_date) + (_fmt_time(p.start_time) if p.HasField("start_time") else "")
    end = _fmt_date(p.end_date) if p.HasField("end_date") else "…"
    end += _fmt_time(p.end_time) if p.HasField("end_time") else ""
    return f"{start} .. {end}"


def _type(value: int) -> str:
    return dimona_pb2.WorkerType.Name(value).removeprefix("WORKER_TYPE_")


def _render_declaration(d: dimona_pb2.Declaration) -> None:
    out.print(
        f"{_STATUS.get(d.status, '?')}  {dimona_pb2.DeclarationAction.Name(d.action)[19:]}"
        f"  {d.name}",
        markup=False,
        highlight=False,
    )
    if d.period_id:
        p = d.period
        out.print(
            f"period {p.period_id}  worker {d.worker_insz}  {_type(p.worker_type)}"
            f"  JC {p.joint_committee or '-'}  {_fmt_span(p)}"
            + (f"  planned {p.planned_hours} h" if p.planned_hours else "")
            + ("  CANCELLED" if p.state == dimona_pb2.PERIOD_STATE_CANCELLED else ""),
            markup=False,
            highlight=False,
        )
    elif d.worker_insz:
        out.print(f"worker {d.worker_insz}", markup=False, highlight=False)
    for a in d.anomalies:
        kind = "warning" if a.severity == 2 else "refused"
        value = f" = {a.value}" if a.value else ""
        out.print(f"  {kind}: {a.code} [{a.field}{value}] {a.label}", markup=False, highlight=False)


def _periods_table(periods: list[dimona_pb2.Period]) -> Table:
    table = Table("period", "employer", "worker", "type", "JC", "days", "state")
    for p in periods:
        state = "cancelled" if p.state == dimona_pb2.PERIOD_STATE_CANCELLED else "active"
        table.add_row(
            str(p.period_id), p.employer, p.worker_insz, _type(p.worker_type),
            p.joint_committee or "-", _fmt_span(p), state + (" (late)" if p.late else ""),
        )  # fmt: skip
    return table


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".") + " h"


def _render_balance(b: dimona_pb2.StudentBalance) -> None:
    quarters = ", ".join(f"Q{i + 1} {_hours(m)}" for i, m in enumerate(b.quarter_minutes))
    out.print(
        f"student {b.insz} in {b.year}: quota {b.quota_hours} h, used {_hours(b.used_minutes)}, "
        f"remaining {_hours(b.remaining_minutes)}, beyond {_hours(b.exceeding_minutes)}"
        f"\n  {quarters}",
        markup=False,
        highlight=False,
    )


# -- commands ----------------------------------------------------------------------------------


@click.group()
@click.option("--target", envvar="DIMONA_ADDR", default="localhost:50056", show_default=True)
@click.option("--router", envvar="ROUTER_ADDR", default="localhost:50049", show_default=True)
@click.option("--as", "party", default="employer-000100006", show_default=True,
              help="Certificate file stem in the PKI folder.")  # fmt: skip
@click.option("--pki", type=click.Path(path_type=Path), default=Path("var/pki"))
@click.option("--employer", default="", help="ONSS number declared for (bureaus).")
@click.option("--reference", default="", help="Declaration reference (idempotency key).")
@click.option("--legal-context", default="", help="For consultations through the router.")
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """Declare employment (DIMONA) and read Dimona periods."""
    ctx.obj = Client(**options)


@cli.command("in")
@click.argument("worker")
@click.option("--type", "worker_type", type=click.Choice(sorted(_TYPES)), default="OTH")
@click.option("--jc", default="", help="Joint committee, e.g. 302 or 140.03.")
@click.option("--start", required=True, help="First day YYYY-MM-DD.")
@click.option("--start-time", help="HH:MM")
@click.option("--end", help="Last day YYYY-MM-DD.")
@click.option("--end-time", help="HH:MM")
@click.option("--hours", type=int, default=0, help="Planned hours (STU).")
@click.option("--flexi", type=click.Choice(["written", "oral"]))
@click.pass_obj
def declare_in(client: Client, worker: str, worker_type: str, jc: str, start: str,
               start_time: str | None, end: str | None, end_time: str | None, hours: int,
               flexi: str | None) -> None:  # fmt: skip
    """Declare the start of an employment (opens a period)."""
    form = dimona_pb2.DimonaIn(
        worker=dimona_pb2.Worker(insz=_insz(worker)),
        worker_type=_TYPES[worker_type],
        joint_committee=jc,
        start_date=_date(start),
        start_time=_time(start_time),
        end_date=_date(end),
        end_time=_time(end_time),
        planned_hours=hours,
        flexi_contract={"written": 1, "oral": 2}.get(flexi or "", 0),
    )
    client.submit(dimona_in=form)


@cli.command("out")
@click.argument("period_id", type=int)
@click.option("--end", required=True, help="Last day YYYY-MM-DD.")
@click.option("--end-time", help="HH:MM")
@click.pass_obj
def declare_out(client: Client, period_id: int, end: str, end_time: str | None) -> None:
    """Declare the end of an open period."""
    client.submit(
        dimona_out=dimona_pb2.DimonaOut(
            period_id=period_id, end_date=_date(end), end_time=_time(end_time)
        )
    )


@cli.command("update")
@click.argument("period_id", type=int)
@click.option("--start", help="New first day.")
@click.option("--end", help="New last day.")
@click.option("--hours", type=int, help="New planned hours (STU).")
@click.option("--jc", help="Joint committee (a change is refused: OUT + new IN).")
@click.pass_obj
def declare_update(client: Client, period_id: int, start: str | None, end: str | None,
                   hours: int | None, jc: str | None) -> None:  # fmt: skip
    """Change a period's dates or planned hours."""
    update = dimona_pb2.DimonaUpdate(
        period_id=period_id, start_date=_date(start), end_date=_date(end)
    )
    if hours is not None:
        update.planned_hours = hours
    if jc is not None:
        update.joint_committee = jc
    client.submit(dimona_update=update)


@cli.command("cancel")
@click.argument("period_id", type=int)
@click.pass_obj
def declare_cancel(client: Client, period_id: int) -> None:
    """Cancel a period."""
    client.submit(dimona_cancel=dimona_pb2.DimonaCancel(period_id=period_id))


@cli.command()
@click.option("--worker", default="", help="Only this worker's periods.")
@click.option("--page-size", type=int, default=0)
@click.pass_obj
def periods(client: Client, worker: str, page_size: int) -> None:
    """List the employer's periods (every page)."""
    stub = client.stub(dimona_pb2_grpc.DimonaServiceStub)
    found: list[dimona_pb2.Period] = []
    token = ""
    while True:
        reply = invoke(
            stub.ListPeriods,
            dimona_pb2.ListPeriodsRequest(
                parent=client.parent(),
                worker_insz=_insz(worker) if worker else "",
                page_size=page_size,
                page_token=token,
            ),
        )
        found += list(reply.periods)
        token = reply.next_page_token
        if not token:
            break
    client.show(
        dimona_pb2.ListPeriodsResponse(periods=found), lambda r: out.print(_periods_table(found))
    )


@cli.command()
@click.argument("worker")
@click.option("--year", type=int, required=True)
@click.pass_obj
def balance(client: Client, worker: str, year: int) -> None:
    """A student's hours against the yearly quota (for one of his employers)."""
    reply = invoke(
        client.stub(dimona_pb2_grpc.DimonaServiceStub).GetStudentBalance,
        dimona_pb2.GetStudentBalanceRequest(parent=client.parent(), insz=_insz(worker), year=year),
    )
    client.show(reply, lambda r: _render_balance(r.balance))


def _ticket(call: Any) -> None:
    ticket = router_ticket(call)
    if ticket:
        err.print(f"router ticket {ticket}", markup=False, highlight=False)


@cli.command("worker-periods")
@click.argument("worker")
@click.option("--from", "from_date", help="First day of the range.")
@click.option("--to", "to_date", help="Last day of the range.")
@click.pass_obj
def worker_periods(client: Client, worker: str, from_date: str | None, to_date: str | None) -> None:
    """A worker's periods with every employer, through the router (institutions)."""
    reply = invoke(
        client.stub(dimona_pb2_grpc.DimonaConsultationServiceStub, routed=True).ListWorkerPeriods,
        dimona_pb2.ListWorkerPeriodsRequest(
            insz=_insz(worker), from_date=_date(from_date), to_date=_date(to_date)
        ),
        metadata=[(LEGAL_CONTEXT_HEADER, client.legal_context)],
        seen=_ticket,
    )
    client.show(reply, lambda r: out.print(_periods_table(list(r.periods))))


@cli.command("worker-balance")
@click.argument("worker")
@click.option("--year", type=int, required=True)
@click.pass_obj
def worker_balance(client: Client, worker: str, year: int) -> None:
    """A student's balance through the router (institutions)."""
    reply = invoke(
        client.stub(
            dimona_pb2_grpc.DimonaConsultationServiceStub, routed=True
        ).GetWorkerStudentBalance,
        dimona_pb2.GetWorkerStudentBalanceRequest(insz=_insz(worker), year=year),
        metadata=[(LEGAL_CONTEXT_HEADER, client.legal_context)],
        seen=_ticket,
    )
    client.show(reply, lambda r: _render_balance(r.balance))


@cli.command()
@click.option("--after", type=int, default=0, show_default=True)
@click.option("--page-size", type=int, default=0)
@click.pass_obj
def events(client: Client, after: int, page_size: int) -> None:
    """List employment events after a sequence number (ONSS, routers, operators)."""
    reply = invoke(
        client.stub(dimona_pb2_grpc.EmploymentEventServiceStub).ListEmploymentEvents,
        dimona_pb2.ListEmploymentEventsRequest(after_sequence=after, page_size=page_size),
    )

    def render(r: dimona_pb2.ListEmploymentEventsResponse) -> None:
        table = Table("seq", "kind", "period", "employer", "worker", "days", "declaration")
        for e in r.events:
            kind = dimona_pb2.EmploymentEventKind.Name(e.kind).removeprefix(
                "EMPLOYMENT_EVENT_KIND_"
            )
            p = e.period
            table.add_row(
                str(e.sequence), kind, str(p.period_id), p.employer, p.worker_insz,
                _fmt_span(p), e.declaration,
            )  # fmt: skip
        out.print(table)
        out.print(f"last sequence: {r.last_sequence}")

    client.show(reply, render)


def main() -> None:
    cli(prog_name="python -m dimona.cli")


if __name__ == "__main__":
    main()
