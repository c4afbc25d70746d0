"""`python -m mutuality.cli`: ask the mutualities' network about a person, through the router.

    python -m mutuality.cli --as institution-onem \\
        --legal-context unemployment.incapacity-check get 85.07.14-123.30

The call goes to the primary router (`--router`, default `$ROUTER_ADDR` or localhost:50049)
with no destination: the primary forwards it to the mutualities' hub, which forwards it to the
member mutuality that holds the person (both by the reference directory). The primary router's
ticket is printed on stderr. `--destination` names a provider (e.g. `cin`) instead.
Global options: `--as` (a certificate file stem in the PKI folder), `--pki` (default `var/pki`),
`--json`. INSZ arguments may be written formatted. Errors are printed on stderr as
`CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from google.protobuf import json_format
from google.type import date_pb2
from rich.panel import Panel
from rich.table import Table

from cbss.mutuality.v1 import mutuality_pb2, mutuality_pb2_grpc
from runtime.cli import err, fail, invoke, out, party_files
from runtime.client import secure_channel
from runtime.identifiers import IdentifierError, normalize_insz
from runtime.identity import DESTINATION_HEADER, LEGAL_CONTEXT_HEADER, router_ticket


@dataclass(frozen=True)
class Client:
    router: str
    party: str
    pki: Path
    legal_context: str
    destination: str
    as_json: bool

    def get_affiliation(self, request: mutuality_pb2.GetAffiliationRequest) -> Any:
        metadata = [(LEGAL_CONTEXT_HEADER, self.legal_context)]
        if self.destination:
            metadata.append((DESTINATION_HEADER, self.destination))
        with secure_channel(self.router, party_files(self.pki, self.party)) as channel:
            stub = mutuality_pb2_grpc.MutualityServiceStub(channel)
            return invoke(stub.GetAffiliation, request, metadata=metadata, seen=self._ticket)

    def _ticket(self, call: Any) -> None:
        ticket = router_ticket(call)
        if ticket and not self.as_json:
            err.print(f"router ticket {ticket}", markup=False, highlight=False)


def _fmt_date(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


@click.group()
@click.option("--router", envvar="ROUTER_ADDR", default="localhost:50049", show_default=True)
@click.option("--as", "party", default="institution-onem", show_default=True)
@click.option("--pki", default="var/pki", show_default=True, type=click.Path(path_type=Path))
@click.option(
    "--legal-context",
    default="unemployment.incapacity-check",
    show_default=True,
    help="At most 64 characters; must be one the caller's authorisation allows.",
)
@click.option("--destination", default="", help="A provider id; the directory decides if absent.")
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.pass_context
def cli(
    ctx: click.Context,
    router: str,
    party: str,
    pki: Path,
    legal_context: str,
    destination: str,
    as_json: bool,
) -> None:
    """Ask a person's mutuality, through the router."""
    ctx.obj = Client(router, party, pki, legal_context, destination, as_json)


@cli.command()
@click.argument("insz")
@click.option("--on", "reference", help="Reference date YYYY-MM-DD (default today).")
@click.pass_obj
def get(client: Client, insz: str, reference: str | None) -> None:
    """The person's affiliation: which mutuality, since when, holder or dependent, rights."""
    try:
        number = normalize_insz(insz)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)
    request = mutuality_pb2.GetAffiliationRequest(insz=number)
    if reference:
        try:
            day = dt.date.fromisoformat(reference)
        except ValueError:
            fail("INVALID_ARGUMENT", "INVALID_DATE", "--on: expected YYYY-MM-DD")
        request.reference_date.CopyFrom(date_pb2.Date(year=day.year, month=day.month, day=day.day))
    reply = client.get_affiliation(request)
    if client.as_json:
        data = json_format.MessageToDict(reply, preserving_proto_field_name=True)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    a = reply.affiliation
    table = Table.grid(padding=(0, 2))
    table.add_row("Mutuality", a.mutuality)
    table.add_row("Member", f"{_fmt_date(a.member_since)} .. {_fmt_date(a.member_until) or 'now'}")
    table.add_row("Role", mutuality_pb2.MemberRole.Name(a.role).removeprefix("MEMBER_ROLE_"))
    table.add_row(
        "Rights",
        mutuality_pb2.InsurabilityStatus.Name(a.insurability).removeprefix("INSURABILITY_STATUS_"),
    )
    out.print(Panel(table, title=a.name, expand=False))


if __name__ == "__main__":
    cli()
