"""`python -m router.cli`: onboarding and operating the network from the command line.

    python -m router.cli institution register vlaams-wonen --name "Wonen in Vlaanderen"
    python -m router.cli service register be.flanders.housing.v1.HousingAllowanceService \\
        --provider vlaams-wonen --endpoint localhost:50060
    python -m router.cli grant --deliberation ISC/26/099 --requester famiwal \\
        --service be.flanders.housing.v1.HousingAllowanceService \\
        --legal-context family-allowances.housing-supplement --capacity 7/101 --from 2026-01-01
    python -m router.cli --as institution-famiwal directory register 85071412330 \\
        --capacity 7/101 --from 2026-01-01
    python -m router.cli person-index rebuild

Administrative commands run as an administrator (`--as admin-ops`, the default); directory
commands as the institution whose entries they are. Global options: `--target` (default
`$ROUTER_ADDR` or localhost:50049), `--as`, `--pki` (default var/pki), `--json`. Errors are
printed on stderr as `CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2
from rich.table import Table

from cbss.common.v1 import types_pb2
from cbss.router.v1 import (
    directory_pb2,
    directory_pb2_grpc,
    message_log_pb2,
    message_log_pb2_grpc,
    router_admin_pb2,
    router_admin_pb2_grpc,
)
from runtime.cli import fail, invoke, out, party_files
from runtime.client import secure_channel


@dataclass(frozen=True)
class Client:
    target: str
    party: str
    pki: Path
    as_json: bool

    def call(self, stub_class: Any, method: str, request: Message) -> Any:
        files = party_files(self.pki, self.party)
        with secure_channel(self.target, files) as channel:
            return invoke(getattr(stub_class(channel), method), request)

    def admin(self, method: str, request: Message) -> Any:
        return self.call(router_admin_pb2_grpc.RouterAdminServiceStub, method, request)

    def directory(self, method: str, request: Message) -> Any:
        return self.call(directory_pb2_grpc.DirectoryServiceStub, method, request)

    def show(self, message: Message, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> None:
        if self.as_json:
            data = json_format.MessageToDict(message, preserving_proto_field_name=True)
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        table = Table(*columns)
        for row in rows:
            table.add_row(*row)
        out.print(table)


def _date(text: str | None, option: str) -> date_pb2.Date | None:
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_DATE", f"{option}: expected YYYY-MM-DD")
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _capacity(text: str) -> directory_pb2.Capacity:
    sector, _, code = text.partition("/")
    if not (sector.isdigit() and code.isdigit()):
        fail("INVALID_ARGUMENT", "INVALID_CAPACITY", f"{text}: expected <sector>/<code>")
    return directory_pb2.Capacity(sector=int(sector), code=int(code))


def _fmt_date(d: date_pb2.Date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


@click.group()
@click.option("--target", envvar="ROUTER_ADDR", default="localhost:50049", show_default=True)
@click.option("--as", "party", default="admin-ops", show_default=True, help="PKI file stem.")
@click.option("--pki", default="var/pki", show_default=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the response as JSON.")
@click.pass_context
def cli(ctx: click.Context, target: str, party: str, pki: Path, as_json: bool) -> None:
    """Operate the crossroads: institutions, services, authorisations, directory."""
    ctx.obj = Client(target, party, pki, as_json)


pass_client = click.make_pass_decorator(Client)


def _institution_row(i: router_admin_pb2.Institution) -> tuple[str, ...]:
    state = router_admin_pb2.InstitutionState.Name(i.state).removeprefix("INSTITUTION_STATE_")
    network = router_admin_pb2.Network.Name(i.network).removeprefix("NETWORK_")
    return (i.id, i.display_name, network, i.hub, state, ",".join(map(str, i.sectors)))


INSTITUTION_COLUMNS = ("id", "name", "network", "hub", "state", "sectors")


@cli.group()
def institution() -> None:
    """Institutions of the network."""


@institution.command("register")
@click.argument("institution_id")
@click.option("--name", required=True)
@click.option("--sector", "sectors", type=int, multiple=True, help="May integrate in sector N.")
@click.option("--hub", default="", help="For a secondary-network member: its hub.")
@pass_client
def institution_register(
    client: Client, institution_id: str, name: str, sectors: tuple[int, ...], hub: str
) -> None:
    """Register (or update) an institution."""
    reply = client.admin(
        "RegisterInstitution",
        router_admin_pb2.RegisterInstitutionRequest(
            institution=router_admin_pb2.Institution(
                id=institution_id,
                display_name=name,
                sectors=sectors,
                hub=hub,
                network=router_admin_pb2.NETWORK_SECONDARY
                if hub
                else router_admin_pb2.NETWORK_PRIMARY,
            )
        ),
    )
    client.show(reply, [_institution_row(reply.institution)], INSTITUTION_COLUMNS)


@institution.command("suspend")
@click.argument("institution_id")
@click.option("--reason", required=True)
@pass_client
def institution_suspend(client: Client, institution_id: str, reason: str) -> None:
    """Suspend an institution: its next call is refused."""
    reply = client.admin(
        "SuspendInstitution",
        router_admin_pb2.SuspendInstitutionRequest(
            name=f"institutions/{institution_id}", reason=reason
        ),
    )
    client.show(reply, [_institution_row(reply.institution)], INSTITUTION_COLUMNS)


@institution.command("reactivate")
@click.argument("institution_id")
@pass_client
def institution_reactivate(client: Client, institution_id: str) -> None:
    """Reactivate a suspended institution."""
    reply = client.admin(
        "ReactivateInstitution",
        router_admin_pb2.ReactivateInstitutionRequest(name=f"institutions/{institution_id}"),
    )
    client.show(reply, [_institution_row(reply.institution)], INSTITUTION_COLUMNS)


@institution.command("list")
@pass_client
def institution_list(client: Client) -> None:
    """List the institutions."""
    reply = client.admin(
        "ListInstitutions", router_admin_pb2.ListInstitutionsRequest(page_size=500)
    )
    client.show(reply, [_institution_row(i) for i in reply.institutions], INSTITUTION_COLUMNS)


@cli.group()
def service() -> None:
    """Services and their providers."""


@service.command("register")
@click.argument("service_name")
@click.option("--provider", required=True, help="The providing institution's id.")
@click.option("--endpoint", required=True, help="host:port where it serves.")
@click.option("--holder-capacity", "holder", multiple=True, help="e.g. 11/1 (several providers).")
@click.option(
    "--descriptor-set",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A FileDescriptorSet file; without it the router asks the provider's reflection.",
)
@pass_client
def service_register(
    client: Client,
    service_name: str,
    provider: str,
    endpoint: str,
    holder: tuple[str, ...],
    descriptor_set: Path | None,
) -> None:
    """Register a provider of a service; prints the methods the router learned."""
    reply = client.admin(
        "RegisterService",
        router_admin_pb2.RegisterServiceRequest(
            registration=router_admin_pb2.ServiceRegistration(
                service=service_name,
                provider=provider,
                endpoint=endpoint,
                holder_capacities=[_capacity(c) for c in holder],
            ),
            file_descriptor_set=descriptor_set.read_bytes() if descriptor_set else b"",
        ),
    )
    client.show(
        reply,
        [
            (m.path, ", ".join(m.subject_fields), m.reference_date_field,
             ", ".join(m.response_subject_fields))
            for m in reply.registration.methods
        ],
        ("method", "subjects", "reference date", "reveals"),
    )  # fmt: skip


@service.command("list")
@pass_client
def service_list(client: Client) -> None:
    """List registered services and providers."""
    reply = client.admin("ListServices", router_admin_pb2.ListServicesRequest(page_size=500))
    client.show(
        reply,
        [(r.service, r.provider, r.endpoint, str(len(r.methods))) for r in reply.registrations],
        ("service", "provider", "endpoint", "methods"),
    )


def _auth_row(a: router_admin_pb2.Authorisation) -> tuple[str, ...]:
    check = router_admin_pb2.DirectoryCheck.Name(a.directory_check).removeprefix("DIRECTORY_CHECK_")
    state = router_admin_pb2.AuthorisationState.Name(a.state).removeprefix("AUTHORISATION_STATE_")
    return (
        a.name, a.deliberation, a.requester, f"{a.service}/{a.method or '*'}",
        ",".join(a.legal_contexts), check,
        ",".join(f"{c.sector}/{c.code}" for c in a.capacities), state,
    )  # fmt: skip


AUTH_COLUMNS = ("name", "deliberation", "requester", "service/method", "legal contexts", "check",
                "capacities", "state")  # fmt: skip


@cli.command()
@click.option("--deliberation", required=True)
@click.option("--requester", required=True)
@click.option("--service", "service_name", required=True)
@click.option("--method", default="", help="One method; all methods when omitted.")
@click.option("--destination", default="", help="One provider; any when omitted.")
@click.option("--legal-context", "contexts", multiple=True, required=True)
@click.option("--capacity", "capacities", multiple=True, help="e.g. 18/1 (directory check).")
@click.option("--no-directory-check", is_flag=True, help="Identification flows only.")
@click.option("--read-mask-cap", "cap", multiple=True, help="An information type it may see.")
@click.option("--from", "valid_from", required=True, help="YYYY-MM-DD")
@click.option("--to", "valid_to", default=None, help="YYYY-MM-DD")
@pass_client
def grant(
    client: Client,
    deliberation: str,
    requester: str,
    service_name: str,
    method: str,
    destination: str,
    contexts: tuple[str, ...],
    capacities: tuple[str, ...],
    no_directory_check: bool,
    cap: tuple[str, ...],
    valid_from: str,
    valid_to: str | None,
) -> None:
    """Grant an authorisation (a deliberation of the Information Security Committee)."""
    reply = client.admin(
        "GrantAuthorisation",
        router_admin_pb2.GrantAuthorisationRequest(
            authorisation=router_admin_pb2.Authorisation(
                deliberation=deliberation,
                requester=requester,
                service=service_name,
                method=method,
                destination=destination,
                legal_contexts=contexts,
                directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE
                if no_directory_check
                else router_admin_pb2.DIRECTORY_CHECK_REQUIRED,
                capacities=[_capacity(c) for c in capacities],
                read_mask_cap=cap,
                valid_from=_date(valid_from, "--from"),
                valid_to=_date(valid_to, "--to"),
            )
        ),
    )
    client.show(reply, [_auth_row(reply.authorisation)], AUTH_COLUMNS)


_WINDOW_UNITS = {"m": 60, "h": 3600, "d": 86400}


@cli.command()
@click.option("--last", default="1h", show_default=True, help="The window: 15m, 1h, 2d...")
@pass_client
def traffic(client: Client, last: str) -> None:
    """The router's traffic per requesting institution over the last window: messages,
    refusals by reason, latency percentiles (operators)."""
    unit = _WINDOW_UNITS.get(last[-1:])
    if unit is None or not last[:-1].isdigit() or int(last[:-1]) == 0:
        fail("INVALID_ARGUMENT", "INVALID_PERIOD", "--last: a number and m, h or d, e.g. 1h")
    request = message_log_pb2.GetTrafficStatisticsRequest()
    request.start_time.FromDatetime(
        dt.datetime.now(dt.UTC) - dt.timedelta(seconds=int(last[:-1]) * unit)
    )
    reply = client.call(message_log_pb2_grpc.MessageLogServiceStub, "GetTrafficStatistics", request)
    rows = [
        (
            t.requester.removeprefix("spiffe://carrefour.local/"),
            str(t.messages),
            str(t.forwarded),
            str(t.refused),
            str(t.failed),
            ", ".join(f"{k} {v}" for k, v in sorted(t.refusals_by_reason.items())),
            f"{t.latency_p50_ms:.1f}",
            f"{t.latency_p95_ms:.1f}",
            f"{t.latency_p99_ms:.1f}",
        )
        for t in reply.institutions
    ]
    client.show(reply, rows, TRAFFIC_COLUMNS)


@cli.command()
@click.option("--subject", default="", help="A person's INSZ: who consulted their data.")
@click.option("--requester", default="", help="An institution id: what it asked.")
@click.option("--citizen-view", is_flag=True, help="Hide crossings under confidential contexts.")
@pass_client
def messages(client: Client, subject: str, requester: str, citizen_view: bool) -> None:
    """The message log: the crossings about a person, or made by an institution, newest first
    (operators; an institution only its own requests). The query is itself logged."""
    reply = client.call(
        message_log_pb2_grpc.MessageLogServiceStub,
        "ListMessages",
        message_log_pb2.ListMessagesRequest(
            subject=subject, requester=requester, citizen_view=citizen_view, page_size=100
        ),
    )
    rows = [
        (
            m.occurred_at.ToDatetime(tzinfo=dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            m.requester.removeprefix("spiffe://carrefour.local/"),
            f"{m.service.rsplit('.', 1)[-1]}/{m.method}",
            m.legal_context,
            m.destination,
            m.capacity,
            m.outcome + (f" {m.reason}" if m.reason else ""),
        )
        for m in reply.messages
    ]
    client.show(reply, rows, MESSAGE_COLUMNS)


MESSAGE_COLUMNS = ("when (UTC)", "requester", "method", "legal context", "destination",
                   "capacity", "outcome")  # fmt: skip
TRAFFIC_COLUMNS = ("requester", "messages", "forwarded", "refused", "failed",
                   "refusals by reason", "p50 ms", "p95 ms", "p99 ms")  # fmt: skip


@cli.command()
@click.argument("name")
@click.option("--reason", required=True)
@pass_client
def revoke(client: Client, name: str, reason: str) -> None:
    """Revoke an authorisation (authorisations/{id}): it stops applying on the next call."""
    reply = client.admin(
        "RevokeAuthorisation", router_admin_pb2.RevokeAuthorisationRequest(name=name, reason=reason)
    )
    client.show(reply, [_auth_row(reply.authorisation)], AUTH_COLUMNS)


@cli.command()
@click.option("--requester", default="")
@pass_client
def authorisations(client: Client, requester: str) -> None:
    """List authorisations."""
    reply = client.admin(
        "ListAuthorisations",
        router_admin_pb2.ListAuthorisationsRequest(requester=requester, page_size=500),
    )
    client.show(reply, [_auth_row(a) for a in reply.authorisations], AUTH_COLUMNS)


@cli.group("person-index")
def person_index() -> None:
    """The router's person-status index (what its person checks read)."""


@person_index.command("rebuild")
@pass_client
def person_index_rebuild(client: Client) -> None:
    """Rebuild the index from a fresh snapshot of the National Register."""
    reply = client.admin("RebuildPersonIndex", router_admin_pb2.RebuildPersonIndexRequest())
    client.show(reply, [(str(reply.numbers), str(reply.sequence))], ("numbers", "sequence"))


@cli.group()
def directory() -> None:
    """The calling institution's entries in the reference directory."""


@directory.command("register")
@click.argument("inszs", nargs=-1, required=True)
@click.option("--capacity", required=True, help="e.g. 18/1")
@click.option("--from", "start", required=True, help="YYYY-MM-DD")
@pass_client
def directory_register(client: Client, inszs: tuple[str, ...], capacity: str, start: str) -> None:
    """Integrate persons (as the institution `--as` names)."""
    reply = client.directory(
        "RegisterEntries",
        directory_pb2.RegisterEntriesRequest(
            entries=[
                directory_pb2.DirectoryEntry(
                    insz=i,
                    capacity=_capacity(capacity),
                    period=types_pb2.Period(start_date=_date(start, "--from")),
                )
                for i in inszs
            ]
        ),
    )
    client.show(reply, [(str(reply.added), str(reply.unchanged))], ("added", "unchanged"))


@directory.command("list")
@click.option("--insz", default="")
@pass_client
def directory_list(client: Client, insz: str) -> None:
    """List the calling institution's entries."""
    reply = client.directory(
        "ListEntries", directory_pb2.ListEntriesRequest(insz=insz, page_size=1000)
    )
    client.show(
        reply,
        [
            (e.insz, f"{e.capacity.sector}/{e.capacity.code}", _fmt_date(e.period.start_date),
             _fmt_date(e.period.end_date))
            for e in reply.entries
        ],
        ("insz", "capacity", "from", "to"),
    )  # fmt: skip


if __name__ == "__main__":
    cli()
