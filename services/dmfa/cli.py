"""`python -m dmfa.cli`: draft, submit and read DmfA declarations over mTLS, as an employer or
bureau; consult a worker's quarter through the router, as an institution.

    python -m dmfa.cli --as employer-000100006 draft 2026Q4 > q4.json   # from DIMONA's periods
    python -m dmfa.cli --as employer-000100006 versions previous      # or current, or 2026Q3
    python -m dmfa.cli --as employer-000100006 submit q4.json
    python -m dmfa.cli --as employer-000100006 submit q4.json --corrects 1 --reference fix-1
    python -m dmfa.cli --as employer-000100006 declarations
    python -m dmfa.cli --as employer-000100006 versions 2026Q4
    python -m dmfa.cli --as employer-000100006 version 2026Q4 1
    python -m dmfa.cli --as employer-000100006 workers 2026Q4 1
    python -m dmfa.cli --as institution-onem --legal-context unemployment.control \
        worker-quarter 85071412330 2026Q4                              # through the router
    python -m dmfa.cli --as onss events --after 0

Global options: `--target` (default `$DMFA_ADDR` or localhost:50057), `--dimona` (for `draft`:
`$DIMONA_ADDR` or localhost:50056), `--router` (`$ROUTER_ADDR` or localhost:50049), `--as` (a
certificate file stem in `--pki`, default `var/pki`), `--employer` (the ONSS number; default:
the `--as` employer's own), `--json`. A declaration file is a `SubmitDeclarationRequest` in
protobuf JSON (`header` and `workers`): `draft` writes one, `submit` sends it in chunks of 1,000
workers. Errors: `CODE REASON: message` on stderr, exit status 1; a REFUSED version is printed
with its anomalies and exits with status 3.
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
import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2
from rich.table import Table

from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from dmfa.service.model import DimonaPeriod, Quarter
from dmfa.service.prefill import prefill, previous_quarter
from dmfa.transport.mapping import person_message
from runtime.cli import err, fail, invoke, out, party_files
from runtime.client import DEFAULT_TIMEOUT_SECONDS, failure, secure_channel
from runtime.clock import SystemClock
from runtime.identifiers import IdentifierError, normalize_insz
from runtime.identity import LEGAL_CONTEXT_HEADER, router_ticket

_STATUS = {
    dmfa_pb2.VERSION_STATUS_ACCEPTED: "ACCEPTED",
    dmfa_pb2.VERSION_STATUS_ACCEPTED_WITH_ANOMALIES: "ACCEPTED_WITH_ANOMALIES",
    dmfa_pb2.VERSION_STATUS_REFUSED: "REFUSED",
}
_CHUNK = 1000


@dataclass(frozen=True)
class Client:
    target: str
    dimona: str
    router: str
    party: str
    pki: Path
    employer: str
    legal_context: str
    as_json: bool

    def channel(self, target: str) -> grpc.Channel:
        return secure_channel(target, party_files(self.pki, self.party))

    def employer_number(self) -> str:
        if self.employer:
            return self.employer
        if not self.party.startswith("employer-"):
            fail("INVALID_ARGUMENT", "EMPLOYER_REQUIRED", "--employer: the ONSS number")
        return self.party.removeprefix("employer-")

    def declaration(self, quarter: Quarter) -> str:
        return f"employers/{self.employer_number()}/declarations/{quarter}"

    def show(self, response: Message, render: Any) -> None:
        if self.as_json:
            data = json_format.MessageToDict(response, preserving_proto_field_name=True)
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            render(response)


def _quarter(text: str) -> Quarter:
    """`2026Q3`, or `current` / `previous` (the calendar quarter of today in Brussels, or the
    one before)."""
    today = SystemClock().today()
    if text in ("current", "previous"):
        current = Quarter(today.year, (today.month - 1) // 3 + 1)
        return current if text == "current" else previous_quarter(today)
    quarter = Quarter.parse(text)
    if quarter is None:
        fail(
            "INVALID_ARGUMENT",
            "INVALID_QUARTER",
            f"{text!r}: expected YYYYQn (e.g. 2026Q3), current or previous",
        )
    return quarter


def _insz(text: str) -> str:
    try:
        return normalize_insz(text)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)


def _fmt_date(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


def _euro(cents: int) -> str:
    return f"€{cents / 100:,.2f}"


def _render_version(v: dmfa_pb2.DeclarationVersion) -> None:
    flags = " current" if v.current else ""
    flags += f" superseded by {v.superseded_by}" if v.superseded_by else ""
    flags += " LATE" if v.late else ""
    out.print(f"{_STATUS.get(v.status, '?')}  {v.name}{flags}", markup=False, highlight=False)
    t = v.totals
    out.print(
        f"  {t.workers} workers, pay {_euro(t.remuneration)}; contributions: workers"
        f" {_euro(t.worker_contributions)}, employer {_euro(t.employer_contributions)},"
        f" total {_euro(t.total_contributions)}; deadline {_fmt_date(v.deadline)}",
        markup=False,
        highlight=False,
    )
    for a in v.anomalies:
        kind = "warning" if a.severity == 2 else "blocking"
        where = " ".join(x for x in (a.path, f"= {a.value}" if a.value else "") if x)
        out.print(
            f"  {kind}: {a.code}{f' [{where}]' if where else ''} {a.label}",
            markup=False,
            highlight=False,
        )


@click.group()
@click.option("--target", envvar="DMFA_ADDR", default="localhost:50057", show_default=True)
@click.option("--dimona", envvar="DIMONA_ADDR", default="localhost:50056", show_default=True)
@click.option("--router", envvar="ROUTER_ADDR", default="localhost:50049", show_default=True)
@click.option("--as", "party", default="employer-000100006", show_default=True,
              help="Certificate file stem in the PKI folder.")  # fmt: skip
@click.option("--pki", type=click.Path(path_type=Path), default=Path("var/pki"))
@click.option("--employer", default="", help="ONSS number declared for (bureaus).")
@click.option("--legal-context", default="", help="For consultations through the router.")
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """Declare wages and working time (DmfA) and read declarations."""
    ctx.obj = Client(**options)


@cli.command()
@click.argument("quarter")
@click.option("--reference", default="", help="Submission reference (default: a fresh one).")
@click.pass_obj
def draft(client: Client, quarter: str, reference: str) -> None:
    """Write a declaration pre-filled from the employer's Dimona periods (JSON on stdout)."""
    q = _quarter(quarter)
    employer = client.employer_number()
    stub = dimona_pb2_grpc.DimonaServiceStub(client.channel(client.dimona))
    periods: list[DimonaPeriod] = []
    committee = ""
    token = ""
    while True:
        reply = invoke(
            stub.ListPeriods,
            dimona_pb2.ListPeriodsRequest(
                parent=f"employers/{employer}", page_size=500, page_token=token
            ),
        )
        for p in reply.periods:
            start = _date(p.start_date)
            end = _date(p.end_date) if p.HasField("end_date") else None
            active = p.state == dimona_pb2.PERIOD_STATE_ACTIVE
            if active and start <= q.last_day and (end is None or end >= q.first_day):
                kind = dimona_pb2.WorkerType.Name(p.worker_type).removeprefix("WORKER_TYPE_")
                periods.append(DimonaPeriod(p.period_id, p.worker_insz, kind, start, end))
                committee = committee or p.joint_committee
        token = reply.next_page_token
        if not token:
            break
    request = dmfa_pb2.SubmitDeclarationRequest(
        header=dmfa_pb2.DeclarationHeader(
            employer=employer,
            year=q.year,
            quarter=q.quarter,
            submission_reference=reference or f"cli-{uuid.uuid4().hex[:16]}",
        ),
        workers=[person_message(p) for p in prefill(committee or "XXX", q, periods)],
    )
    data = json_format.MessageToDict(request, preserving_proto_field_name=True)
    click.echo(json.dumps(data, ensure_ascii=False, indent=1))


def _date(d: date_pb2.Date) -> dt.date:
    return dt.date(d.year, d.month, d.day)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--corrects", type=int, default=0, help="The version this one corrects.")
@click.option("--reference", default="", help="Replace the file's submission reference.")
@click.pass_obj
def submit(client: Client, file: Path, corrects: int, reference: str) -> None:
    """Submit a declaration file (an original, or with --corrects N a correction)."""
    try:
        request = json_format.Parse(
            file.read_text(encoding="utf-8"), dmfa_pb2.SubmitDeclarationRequest()
        )
    except (json_format.ParseError, UnicodeDecodeError) as exc:
        fail("INVALID_ARGUMENT", "INVALID_FILE", f"{file}: {exc}")
    header = request.header
    if reference:
        header.submission_reference = reference
    if corrects:
        quarter = Quarter(header.year, header.quarter)
        header.corrects = f"employers/{header.employer}/declarations/{quarter}/versions/{corrects}"
    workers = list(request.workers)
    chunks = [dmfa_pb2.SubmitDeclarationRequest(header=header, workers=workers[:_CHUNK])]
    chunks += [
        dmfa_pb2.SubmitDeclarationRequest(workers=workers[i : i + _CHUNK])
        for i in range(_CHUNK, len(workers), _CHUNK)
    ]
    stub = dmfa_pb2_grpc.DmfaServiceStub(client.channel(client.target))
    try:
        reply = stub.SubmitDeclaration(iter(chunks), timeout=max(DEFAULT_TIMEOUT_SECONDS, 120))
    except grpc.RpcError as exc:
        info = failure(exc)
        fail(info.code.name, info.reason or "-", info.message)
    client.show(reply, lambda r: _render_version(r.version))
    if reply.version.status == dmfa_pb2.VERSION_STATUS_REFUSED:
        sys.exit(3)


@cli.command()
@click.pass_obj
def declarations(client: Client) -> None:
    """The employer's declarations, newest quarter first, with their current versions."""
    stub = dmfa_pb2_grpc.DmfaServiceStub(client.channel(client.target))
    reply = invoke(
        stub.ListDeclarations,
        dmfa_pb2.ListDeclarationsRequest(parent=f"employers/{client.employer_number()}"),
    )

    def render(r: dmfa_pb2.ListDeclarationsResponse) -> None:
        table = Table("quarter", "versions", "current", "status", "workers", "contributions")
        for d in r.declarations:
            c = d.current
            table.add_row(
                f"{d.year}Q{d.quarter}", str(d.version_count),
                str(c.version) if d.HasField("current") else "-",
                _STATUS.get(c.status, "-") if d.HasField("current") else "all refused",
                str(c.totals.workers), _euro(c.totals.total_contributions),
            )  # fmt: skip
        out.print(table)

    client.show(reply, render)


@cli.command()
@click.argument("quarter")
@click.pass_obj
def versions(client: Client, quarter: str) -> None:
    """A declaration's history: every version, refused ones included."""
    stub = dmfa_pb2_grpc.DmfaServiceStub(client.channel(client.target))
    reply = invoke(
        stub.ListDeclarationVersions,
        dmfa_pb2.ListDeclarationVersionsRequest(parent=client.declaration(_quarter(quarter))),
    )
    client.show(reply, lambda r: [_render_version(v) for v in r.versions])


@cli.command()
@click.argument("quarter")
@click.argument("number", type=int)
@click.pass_obj
def version(client: Client, quarter: str, number: int) -> None:
    """One version with its anomalies and totals."""
    stub = dmfa_pb2_grpc.DmfaServiceStub(client.channel(client.target))
    name = f"{client.declaration(_quarter(quarter))}/versions/{number}"
    reply = invoke(stub.GetDeclarationVersion, dmfa_pb2.GetDeclarationVersionRequest(name=name))
    client.show(reply, lambda r: _render_version(r.version))


@cli.command()
@click.argument("quarter")
@click.argument("number", type=int)
@click.pass_obj
def workers(client: Client, quarter: str, number: int) -> None:
    """A version's workers with their contribution lines (every page)."""
    stub = dmfa_pb2_grpc.DmfaServiceStub(client.channel(client.target))
    name = f"{client.declaration(_quarter(quarter))}/versions/{number}"
    found: list[dmfa_pb2.DeclaredWorker] = []
    token = ""
    while True:
        reply = invoke(
            stub.ListVersionWorkers,
            dmfa_pb2.ListVersionWorkersRequest(name=name, page_size=1000, page_token=token),
        )
        found += list(reply.workers)
        token = reply.next_page_token
        if not token:
            break

    def render(r: dmfa_pb2.ListVersionWorkersResponse) -> None:
        table = Table("worker", "code", "pay", "contribution", "basis", "rate", "amount")
        for w in r.workers:
            for c in w.records:
                pay = sum(m.amount for o in c.record.occupations for m in o.remunerations)
                for i, line in enumerate(c.contributions or [None]):
                    table.add_row(
                        w.insz if i == 0 else "", c.record.worker_code if i == 0 else "",
                        _euro(pay) if i == 0 else "",
                        f"{dmfa_pb2.ContributionParty.Name(line.party)[19:].lower()}"
                        f" {line.kind}" if line else "-",
                        _euro(line.basis) if line else "", f"{line.rate_percent} %" if line else "",
                        _euro(line.amount) if line else "",
                    )  # fmt: skip
        out.print(table)

    client.show(dmfa_pb2.ListVersionWorkersResponse(workers=found), render)


def _ticket(call: Any) -> None:
    ticket = router_ticket(call)
    if ticket:
        err.print(f"router ticket {ticket}", markup=False, highlight=False)


@cli.command("worker-quarter")
@click.argument("worker")
@click.argument("quarter")
@click.pass_obj
def worker_quarter(client: Client, worker: str, quarter: str) -> None:
    """A worker's quarter with every employer, through the router (institutions)."""
    q = _quarter(quarter)
    stub = dmfa_pb2_grpc.DmfaConsultationServiceStub(client.channel(client.router))
    reply = invoke(
        stub.GetWorkerQuarter,
        dmfa_pb2.GetWorkerQuarterRequest(insz=_insz(worker), year=q.year, quarter=q.quarter),
        metadata=[(LEGAL_CONTEXT_HEADER, client.legal_context)],
        seen=_ticket,
    )

    def render(r: dmfa_pb2.GetWorkerQuarterResponse) -> None:
        wq = r.quarter
        out.print(f"worker {wq.insz} in {wq.year}Q{wq.quarter}", markup=False, highlight=False)
        table = Table("employer", "code", "days", "hours", "pay per remuneration code", "version")
        for e in wq.employers:
            for rec in e.records:
                pay = ", ".join(
                    f"{m.remuneration_code}: {_euro(m.amount)}" for m in rec.remunerations
                )
                table.add_row(
                    e.employer, rec.worker_code, f"{rec.days / 100:g}", f"{rec.hours / 100:g}",
                    pay, e.version,
                )  # fmt: skip
        out.print(table)

    client.show(reply, render)


@cli.command()
@click.option("--after", type=int, default=0, show_default=True)
@click.option("--page-size", type=int, default=0)
@click.pass_obj
def events(client: Client, after: int, page_size: int) -> None:
    """Declaration events after a sequence number (ONSS, routers, operators)."""
    stub = dmfa_pb2_grpc.DeclarationEventServiceStub(client.channel(client.target))
    reply = invoke(
        stub.ListDeclarationEvents,
        dmfa_pb2.ListDeclarationEventsRequest(after_sequence=after, page_size=page_size),
    )

    def render(r: dmfa_pb2.ListDeclarationEventsResponse) -> None:
        table = Table("seq", "kind", "version", "supersedes", "workers")
        for e in r.events:
            kind = dmfa_pb2.DeclarationEventKind.Name(e.kind).removeprefix(
                "DECLARATION_EVENT_KIND_"
            )
            table.add_row(
                str(e.sequence), kind, e.version, e.superseded or "-", str(len(e.worker_inszs))
            )
        out.print(table)
        out.print(f"last sequence: {r.last_sequence}")

    client.show(reply, render)


def main() -> None:
    cli(prog_name="python -m dmfa.cli")


if __name__ == "__main__":
    main()
