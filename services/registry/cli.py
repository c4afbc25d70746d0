"""`python -m registry.cli`: a command-line client of the registry, over mTLS like any party.

    python -m registry.cli --as institution-onem --legal-context unemployment.control \
        get 85.07.14-123.30 --mask identity,address
    python -m registry.cli --as onss --legal-context employment.identification search lefevre
    python -m registry.cli --as institution-nr change-address 85071412330 --street Meir ...
    python -m registry.cli --json events --after 0

Consultations (`get`, `search`) go through the router (`--router`, default `$ROUTER_ADDR` or
localhost:50049), which checks the caller's authorisation, legal context and the reference
directory, and answers with its ticket (printed on stderr). With a router's own certificate
(`--as router`) they go straight to the registry, as the router itself sends them (an operator's
debugging path; `--requester` names the party they are made for).
Global options: `--target` (default `$REGISTRY_ADDR` or localhost:50051), `--as` (the party: a
certificate file stem in the PKI folder, default `institution-cbss`), `--pki` (default
`var/pki`), `--json` (machine-readable output, `json_format.MessageToDict`). INSZ arguments may be
written formatted (`85.07.14-123.30`): the CLI normalises them, the server only accepts 11 digits.
Errors are printed on stderr as `CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from google.protobuf import field_mask_pb2, json_format
from google.protobuf.message import Message
from google.type import date_pb2
from rich.panel import Panel
from rich.table import Table

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from runtime.cli import err, fail, invoke, out, party_files
from runtime.client import secure_channel
from runtime.clock import SystemClock
from runtime.identifiers import IdentifierError, normalize_insz, parse_insz
from runtime.identity import (
    CAPACITY_HEADER,
    LEGAL_CONTEXT_HEADER,
    REQUESTER_HEADER,
    TICKET_HEADER,
    TRUST_DOMAIN,
    IdentityError,
    PartyKind,
    parse_spiffe_uri,
    router_ticket,
)

_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", re.ASCII)
_SEX = {
    "male": types_pb2.SEX_MALE,
    "female": types_pb2.SEX_FEMALE,
    "unknown": types_pb2.SEX_UNKNOWN,
}


@dataclass(frozen=True)
class Client:
    """The chosen party's channel to the registry, the routing metadata and the output mode."""

    target: str
    party: str
    pki: Path
    as_json: bool
    legal_context: str
    requester: str
    router: str = "localhost:50049"

    def call(self, method: str, request: Message, *, routed: bool = False) -> Any:
        files = party_files(self.pki, self.party)
        metadata = self._routing() if routed else ()
        via_router = routed and not self._is_router()
        target = self.router if via_router else self.target
        stub = registry_pb2_grpc.RegistryServiceStub(secure_channel(target, files))
        return invoke(getattr(stub, method), request, metadata=metadata, seen=self._ticket)

    def _is_router(self) -> bool:
        return self.party.startswith(("router", "hub-"))

    def _ticket(self, call: Any) -> None:
        """The router's ticket, so that the message log entry can be found."""
        ticket = router_ticket(call)
        if ticket and not self.as_json:
            err.print(f"router ticket {ticket}", markup=False, highlight=False)

    def _routing(self) -> tuple[tuple[str, str], ...]:
        headers = [(LEGAL_CONTEXT_HEADER, self.legal_context)]
        if self._is_router():  # a router's certificate: act as one
            try:
                requester = parse_spiffe_uri(f"spiffe://{TRUST_DOMAIN}/{self.requester}")
            except IdentityError as exc:
                fail("INVALID_ARGUMENT", "INVALID_REQUESTER", f"--requester: {exc}")
            if requester.kind in (PartyKind.GATEWAY, PartyKind.ROUTER):
                fail("INVALID_ARGUMENT", "INVALID_REQUESTER", "--requester: not a requester")
            headers += [
                (REQUESTER_HEADER, requester.uri),
                (TICKET_HEADER, str(uuid.uuid4())),
                (CAPACITY_HEADER, "none"),
            ]
        return tuple(headers)

    def show(self, response: Message, render: Callable[[Any], None]) -> None:
        if self.as_json:
            data = json_format.MessageToDict(response, preserving_proto_field_name=True)
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            render(response)


# -- argument parsing ----------------------------------------------------------------------------


def _insz(text: str) -> str:
    try:
        return normalize_insz(text)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)


def _date(text: str | None, option: str) -> date_pb2.Date | None:
    """YYYY-MM-DD, YYYY-MM or YYYY (month/day 00 allowed: unknown)."""
    if text is None:
        return None
    match = _DATE.fullmatch(text)
    if not match:
        fail("INVALID_ARGUMENT", "INVALID_DATE", f"{option}: expected YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = (int(g) if g else 0 for g in match.groups())
    return date_pb2.Date(year=year, month=month, day=day)


def _today() -> date_pb2.Date:
    today = SystemClock().today()
    return date_pb2.Date(year=today.year, month=today.month, day=today.day)


def _request_id(value: str | None) -> str:
    return value or f"cli-{uuid.uuid4().hex[:20]}"


def _address(
    street: str, number: str, box: str, postcode: str, municipality: str, country: str
) -> types_pb2.Address:
    return types_pb2.Address(
        street=street,
        house_number=number,
        box=box,
        postcode=postcode,
        municipality=municipality,
        country_code=country,
    )


def address_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option("--street", default="", help="Street name."),
            click.option("--number", default="", help="House number, e.g. 12A."),
            click.option("--box", default="", help="Box number."),
            click.option("--postcode", default="", help="Postcode (4 digits in Belgium)."),
            click.option("--municipality", default="", help="Municipality."),
            click.option("--country", default="BE", show_default=True, help="ISO country code."),
        ]
    ):
        func = decorator(func)
    return func


# -- rendering -----------------------------------------------------------------------------------


def _fmt_insz(value: str) -> str:
    try:
        return parse_insz(value).formatted()
    except IdentifierError:
        return value


def _fmt_date(value: date_pb2.Date) -> str:
    if not value.year:
        return ""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}".replace("-00", "-??")


def _fmt_address(a: types_pb2.Address) -> str:
    if not a.street and not a.municipality:
        return "-"
    box = f" box {a.box}" if a.box else ""
    return f"{a.street} {a.house_number}{box}, {a.postcode} {a.municipality} ({a.country_code})"


def _fmt_period(p: registry_pb2.AddressPeriod) -> str:
    if not p.HasField("address"):
        return "no address known"
    end = _fmt_date(p.period.end_date) if p.period.HasField("end_date") else "now"
    return f"{_fmt_address(p.address)}  [{_fmt_date(p.period.start_date)} .. {end}]"


def _enum(value: int, enum: Any) -> str:
    return enum.Name(value).split("_", 1)[1] if value else "-"


def _render_person(response: registry_pb2.GetPersonResponse) -> None:
    p = response.person
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("INSZ", _fmt_insz(p.insz))
    if p.HasField("identity"):
        table.add_row("Name", f"{p.identity.last_name}, {' '.join(p.identity.first_names)}")
        table.add_row("Sex", types_pb2.Sex.Name(p.identity.sex).removeprefix("SEX_"))
    if p.HasField("birth"):
        place = ", ".join(x for x in (p.birth.place, p.birth.country_code) if x)
        table.add_row("Born", f"{_fmt_date(p.birth.date)}  {place}")
    if p.HasField("address"):
        table.add_row("Address", _fmt_period(p.address))
    if p.HasField("address_history"):
        for i, period in enumerate(p.address_history.addresses):
            table.add_row("History" if i == 0 else "", _fmt_period(period))
    if p.HasField("nationality"):
        table.add_row("Nationality", p.nationality.country_code or "-")
    if p.HasField("civil_status"):
        table.add_row(
            "Civil status", registry_pb2.CivilState.Name(p.civil_status.state).split("STATE_")[1]
        )
    if p.HasField("death"):
        died = f"{_fmt_date(p.death.date)}  {p.death.place}" if p.death.date.year else "-"
        table.add_row("Death", died)
    if p.HasField("status"):
        s = p.status
        table.add_row("Kind", types_pb2.InszKind.Name(s.kind).removeprefix("INSZ_KIND_"))
        table.add_row("Deceased", "yes" if s.deceased else "no")
        if s.replaced_by:
            table.add_row("Replaced by", _fmt_insz(s.replaced_by))
        if s.replaces:
            table.add_row("Replaces", ", ".join(_fmt_insz(x) for x in s.replaces))
    out.print(Panel(table, title=p.name, expand=False))


def _render_search(response: registry_pb2.SearchPersonsResponse) -> None:
    table = Table("Last name", "First names", "Born", "Sex", "Deceased")
    table.add_column("INSZ", no_wrap=True, min_width=15)
    for p in response.persons:
        table.add_row(
            p.last_name,
            " ".join(p.first_names),
            _fmt_date(p.birth_date),
            types_pb2.Sex.Name(p.sex).removeprefix("SEX_"),
            "yes" if p.deceased else "",
            _fmt_insz(p.insz),
        )
    out.print(table)
    if response.next_page_token:
        out.print(
            f"next page: --page-token {response.next_page_token}", highlight=False, soft_wrap=True
        )


def _render_validation(response: registry_pb2.ValidateInszResponse) -> None:
    if not response.valid:
        out.print(f"[red]invalid[/red] {response.invalid_reason}: {response.description}")
        return
    d = response.details
    out.print(
        Panel(
            f"{response.description}\n"
            f"kind {types_pb2.InszKind.Name(d.kind).removeprefix('INSZ_KIND_')}, "
            f"sex {types_pb2.Sex.Name(d.sex).removeprefix('SEX_')}, "
            f"born {_fmt_date(d.birth_date)}"
            f" ({'from 2000' if d.born_after_1999 else 'before 2000'} rule)",
            title=_fmt_insz(d.insz),
            expand=False,
        )
    )


def _fmt_values(values: registry_pb2.MutationValues) -> str:
    which = values.WhichOneof("value")
    if which == "address":
        return _fmt_address(values.address)
    if which == "name":
        return f"{values.name.last_name}, {' '.join(values.name.first_names)}"
    if which == "death":
        return f"died {_fmt_date(values.death.date)} {values.death.place}".strip()
    if which == "insz":
        return _fmt_insz(values.insz.insz)
    return "-"


def _events_table(events: list[registry_pb2.MutationEvent]) -> Table:
    table = Table("Seq")
    for title in ("Kind", "INSZ", "Effective", "Recorded (UTC)"):
        table.add_column(title, no_wrap=True)
    table.add_column("Before")
    table.add_column("After")
    for e in events:
        table.add_row(
            str(e.sequence),
            _enum(e.kind, registry_pb2.MutationKind).removeprefix("KIND_"),
            _fmt_insz(e.insz),
            _fmt_date(e.effective_date),
            e.recorded_at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
            _fmt_values(e.before),
            _fmt_values(e.after),
        )
    return table


def _render_event(response: Any) -> None:
    out.print(_events_table([response.event]))


# -- commands ------------------------------------------------------------------------------------


@click.group()
@click.option(
    "--target",
    envvar="REGISTRY_ADDR",
    default="localhost:50051",
    show_default=True,
    help="host:port of the registry (env REGISTRY_ADDR).",
)
@click.option(
    "--as",
    "party",
    default="institution-cbss",
    show_default=True,
    help="Party to call as: a certificate file stem in the PKI folder.",
)
@click.option(
    "--pki",
    default="var/pki",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the development PKI.",
)
@click.option(
    "--router",
    envvar="ROUTER_ADDR",
    default="localhost:50049",
    show_default=True,
    help="host:port of the router, for consultations (env ROUTER_ADDR).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.option(
    "--legal-context",
    default="registry.cli.lookup",
    show_default=True,
    help="Legal context of consultations (get, search), at most 64 characters.",
)
@click.option(
    "--requester",
    default="institution/cbss",
    show_default=True,
    help="With --as router: the party a consultation is made for, e.g. institution/onem.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    target: str,
    party: str,
    pki: Path,
    as_json: bool,
    legal_context: str,
    requester: str,
    router: str,
) -> None:
    """A client of the National Register / BIS registry."""
    ctx.obj = Client(target, party, pki, as_json, legal_context, requester, router)


@cli.command()
@click.argument("insz")
@click.option(
    "--mask", default="*", show_default=True, help="Information types, comma-separated, or *."
)
@click.option("--on", "reference", help="Reference date YYYY-MM-DD (the address on that day).")
@click.pass_obj
def get(client: Client, insz: str, mask: str, reference: str | None) -> None:
    """Read a person."""
    request = registry_pb2.GetPersonRequest(
        insz=_insz(insz),
        read_mask=field_mask_pb2.FieldMask(paths=[p.strip() for p in mask.split(",") if p.strip()]),
    )
    ref = _date(reference, "--on")
    if ref is not None:
        request.reference_date.CopyFrom(ref)
    client.show(client.call("GetPerson", request, routed=True), _render_person)


@cli.command()
@click.argument("last")
@click.option("--first", default="", help="Prefix of a first name.")
@click.option("--born", help="Birth date YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option("--born-from", type=int, default=0, help="First birth year.")
@click.option("--born-to", type=int, default=0, help="Last birth year.")
@click.option("--page-size", type=int, default=0, help="Results per page (default 50).")
@click.option("--page-token", default="", help="Token of the next page.")
@click.pass_obj
def search(
    client: Client,
    last: str,
    first: str,
    born: str | None,
    born_from: int,
    born_to: int,
    page_size: int,
    page_token: str,
) -> None:
    """Search persons by name prefix (case and accents ignored)."""
    request = registry_pb2.SearchPersonsRequest(
        last_name=last,
        first_name=first,
        birth_year_from=born_from,
        birth_year_to=born_to,
        page_size=page_size,
        page_token=page_token,
    )
    birth = _date(born, "--born")
    if birth is not None:
        request.birth_date.CopyFrom(birth)
    client.show(client.call("SearchPersons", request, routed=True), _render_search)


@cli.command()
@click.argument("insz")
@click.pass_obj
def validate(client: Client, insz: str) -> None:
    """Check an INSZ (separators . - and spaces are removed first)."""
    compact = insz.strip().translate(str.maketrans("", "", " .-")) or insz
    request = registry_pb2.ValidateInszRequest(insz=compact)
    client.show(client.call("ValidateInsz", request), _render_validation)


@cli.command("register-bis")
@click.option("--last", required=True, help="Last name.")
@click.option("--first", "firsts", multiple=True, help="A first name (repeat for several).")
@click.option("--sex", type=click.Choice(sorted(_SEX)), required=True)
@click.option("--born", required=True, help="Birth date YYYY-MM-DD, YYYY-MM or YYYY.")
@click.option("--birth-place", default="")
@click.option("--nationality", default="", help="ISO country code, e.g. FR.")
@address_options
@click.option("--force-new", is_flag=True, help="Issue a number even if the person seems known.")
@click.option("--request-id", help="Idempotency key (default: a fresh one).")
@click.pass_obj
def register_bis(
    client: Client,
    last: str,
    firsts: tuple[str, ...],
    sex: str,
    born: str,
    birth_place: str,
    nationality: str,
    street: str,
    number: str,
    box: str,
    postcode: str,
    municipality: str,
    country: str,
    force_new: bool,
    request_id: str | None,
) -> None:
    """Issue a BIS number (the CBSS or an admin)."""
    request = registry_pb2.RegisterBisNumberRequest(
        request_id=_request_id(request_id),
        last_name=last,
        first_names=firsts,
        sex=_SEX[sex],
        birth_date=_date(born, "--born"),
        birth_place=birth_place,
        nationality=nationality,
        force_new=force_new,
    )
    if street or municipality:
        request.address.CopyFrom(_address(street, number, box, postcode, municipality, country))

    def render(response: registry_pb2.RegisterBisNumberResponse) -> None:
        outcome = registry_pb2.RegisterBisNumberResponse.Outcome.Name(response.outcome)
        out.print(f"{_fmt_insz(response.insz)}  {outcome.removeprefix('OUTCOME_').lower()}")

    client.show(client.call("RegisterBisNumber", request), render)


@cli.command("change-address")
@click.argument("insz")
@address_options
@click.option("--effective", help="First day at the new address (default today).")
@click.option("--request-id", help="Idempotency key (default: a fresh one).")
@click.pass_obj
def change_address(
    client: Client,
    insz: str,
    street: str,
    number: str,
    box: str,
    postcode: str,
    municipality: str,
    country: str,
    effective: str | None,
    request_id: str | None,
) -> None:
    """Record a move."""
    request = registry_pb2.ChangeAddressRequest(
        insz=_insz(insz),
        request_id=_request_id(request_id),
        address=_address(street, number, box, postcode, municipality, country),
        effective_date=_date(effective, "--effective") or _today(),
    )
    client.show(client.call("ChangeAddress", request), _render_event)


@cli.command("record-death")
@click.argument("insz")
@click.option("--date", "day", help="Date of death (default today).")
@click.option("--place", default="", help="Place of death.")
@click.option("--request-id", help="Idempotency key (default: a fresh one).")
@click.pass_obj
def record_death(
    client: Client, insz: str, day: str | None, place: str, request_id: str | None
) -> None:
    """Record a death."""
    request = registry_pb2.RecordDeathRequest(
        insz=_insz(insz),
        request_id=_request_id(request_id),
        date_of_death=_date(day, "--date") or _today(),
        place=place,
    )
    client.show(client.call("RecordDeath", request), _render_event)


@cli.command("change-name")
@click.argument("insz")
@click.option("--last", required=True, help="New last name.")
@click.option("--first", "firsts", multiple=True, help="A first name (repeat for several).")
@click.option("--effective", help="First day of the new name (default today).")
@click.option("--request-id", help="Idempotency key (default: a fresh one).")
@click.pass_obj
def change_name(
    client: Client,
    insz: str,
    last: str,
    firsts: tuple[str, ...],
    effective: str | None,
    request_id: str | None,
) -> None:
    """Record a change of name."""
    request = registry_pb2.ChangeNameRequest(
        insz=_insz(insz),
        request_id=_request_id(request_id),
        last_name=last,
        first_names=firsts,
        effective_date=_date(effective, "--effective") or _today(),
    )
    client.show(client.call("ChangeName", request), _render_event)


@cli.command()
@click.argument("old")
@click.argument("new")
@click.option("--effective", help="From when the new number holds (default today).")
@click.option("--request-id", help="Idempotency key (default: a fresh one).")
@click.pass_obj
def replace(
    client: Client, old: str, new: str, effective: str | None, request_id: str | None
) -> None:
    """Replace a person's number by a new one."""
    request = registry_pb2.ReplaceInszRequest(
        old_insz=_insz(old),
        new_insz=_insz(new),
        request_id=_request_id(request_id),
        effective_date=_date(effective, "--effective") or _today(),
    )
    client.show(client.call("ReplaceInsz", request), _render_event)


@cli.command()
@click.option("--after", type=int, default=0, show_default=True, help="Last sequence seen.")
@click.option("--page-size", type=int, default=0, help="Events per page (default 100).")
@click.pass_obj
def events(client: Client, after: int, page_size: int) -> None:
    """List mutation events after a sequence number."""
    request = registry_pb2.ListMutationEventsRequest(after_sequence=after, page_size=page_size)

    def render(response: registry_pb2.ListMutationEventsResponse) -> None:
        out.print(_events_table(list(response.events)))
        out.print(f"last sequence: {response.last_sequence}")

    client.show(client.call("ListMutationEvents", request), render)


def main() -> None:
    cli(prog_name="python -m registry.cli")


if __name__ == "__main__":
    main()
