"""`python -m mutation.cli`: subscribing to the changes, and watching the fan-out.

    python -m mutation.cli --as institution-onem subscription
    python -m mutation.cli --as institution-onem subscribe person.address-changed \\
        person.death-recorded
    python -m mutation.cli grant onem person.address-changed --capacity 18/1 \\
        --deliberation ISC/09/071
    python -m mutation.cli grants [--institution onem]
    python -m mutation.cli lags
    python -m mutation.cli positions
    python -m mutation.cli --as institution-famiwal follow [--after N] [--wait 10] [--ack]
    python -m mutation.cli --as institution-famiwal ack 42

`follow` and `ack` go through the router (`--router`, default `$ROUTER_ADDR` or
localhost:50052) under the legal context `mutation.subscription`, like any routed call.

`subscription` and `subscribe` run as the institution (`--as institution-<id>`); the others as an
operator (`--as admin-ops`, the default). Global options: `--target` (default `$MUTATION_ADDR`
or localhost:50059), `--as`, `--pki` (default var/pki), `--json`. Errors are printed on stderr as
`CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from google.type import date_pb2
from rich.table import Table

from cbss.mutation.v1 import mutation_pb2, mutation_pb2_grpc
from runtime.cli import fail, invoke, out, party_files
from runtime.client import failure, secure_channel, server_name
from runtime.identity import LEGAL_CONTEXT_HEADER, TRUST_DOMAIN

STREAM_CONTEXT = "mutation.subscription"


@dataclass(frozen=True)
class Client:
    target: str
    party: str
    pki: Path
    as_json: bool
    router: str = "localhost:50052"

    def routed(self) -> Any:
        files = party_files(self.pki, self.party)
        name = server_name(f"spiffe://{TRUST_DOMAIN}/router/cbss")
        return secure_channel(self.router, files, **name)

    def call(self, stub_class: Any, method: str, request: Message) -> Any:
        files = party_files(self.pki, self.party)
        name = server_name(f"spiffe://{TRUST_DOMAIN}/institution/cbss")
        with secure_channel(self.target, files, **name) as channel:
            return invoke(getattr(stub_class(channel), method), request)

    def show(self, message: Message) -> bool:
        """Print as JSON when asked; True when printed."""
        if self.as_json:
            click.echo(json.dumps(json_format.MessageToDict(message), indent=2))
        return self.as_json


def _when(ts: Any) -> str:
    if not ts.seconds and not ts.nanos:
        return ""
    return ts.ToDatetime(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _day(value: str | None, option: str) -> date_pb2.Date | None:
    if not value:
        return None
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_DATE", f"{option}: expected YYYY-MM-DD")
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


@click.group()
@click.option("--target", default=lambda: os.environ.get("MUTATION_ADDR", "localhost:50059"))
@click.option("--as", "party", default="admin-ops", show_default=True)
@click.option("--pki", default="var/pki", show_default=True, type=click.Path(path_type=Path))
@click.option("--router", default=lambda: os.environ.get("ROUTER_ADDR", "localhost:50052"))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def cli(ctx: click.Context, target: str, party: str, pki: Path, router: str, as_json: bool) -> None:
    """The mutation service: subscriptions, grants, lags, positions, the stream."""
    ctx.obj = Client(target, party, pki, as_json, router)


def _print_subscription(client: Client, s: mutation_pb2.Subscription) -> None:
    if client.show(s):
        return
    out.print(f"{s.institution} receives: {', '.join(s.event_types) or '(nothing)'}")
    out.print(f"granted today: {', '.join(s.granted_event_types) or '(nothing)'}")
    out.print(
        f"delivery: {mutation_pb2.DeliveryMode.Name(s.delivery).removeprefix('DELIVERY_MODE_')}"
    )


@cli.command()
@click.pass_obj
def subscription(client: Client) -> None:
    """The calling institution's chosen and granted event types."""
    reply = client.call(
        mutation_pb2_grpc.SubscriptionServiceStub,
        "GetSubscription",
        mutation_pb2.GetSubscriptionRequest(),
    )
    _print_subscription(client, reply.subscription)


_MODES = {"inbox": mutation_pb2.DELIVERY_MODE_INBOX, "stream": mutation_pb2.DELIVERY_MODE_STREAM}


@cli.command()
@click.argument("event_types", nargs=-1)
@click.option("--delivery", type=click.Choice(sorted(_MODES)), default="inbox", show_default=True)
@click.pass_obj
def subscribe(client: Client, event_types: tuple[str, ...], delivery: str) -> None:
    """Choose the event types to receive (none: stop receiving), and how."""
    reply = client.call(
        mutation_pb2_grpc.SubscriptionServiceStub,
        "UpdateSubscription",
        mutation_pb2.UpdateSubscriptionRequest(
            event_types=list(event_types), delivery=_MODES[delivery]
        ),
    )
    _print_subscription(client, reply.subscription)


@cli.command()
@click.argument("institution")
@click.argument("event_type")
@click.option("--capacity", "capacities", multiple=True, required=True, help="e.g. 11/1")
@click.option("--deliberation", required=True)
@click.option("--from", "valid_from", default=None, help="YYYY-MM-DD (default today)")
@click.option("--to", "valid_to", default=None, help="YYYY-MM-DD (default open-ended)")
@click.pass_obj
def grant(
    client: Client,
    institution: str,
    event_type: str,
    capacities: tuple[str, ...],
    deliberation: str,
    valid_from: str | None,
    valid_to: str | None,
) -> None:
    """Grant an institution an event type (an ISC deliberation)."""
    start = _day(valid_from or dt.date.today().isoformat(), "--from")
    request = mutation_pb2.GrantEventTypeRequest(
        grant=mutation_pb2.EventTypeGrant(
            institution=institution,
            event_type=event_type,
            capacities=list(capacities),
            deliberation=deliberation,
            valid_from=start,
            valid_to=_day(valid_to, "--to"),
        )
    )
    reply = client.call(mutation_pb2_grpc.MutationAdminServiceStub, "GrantEventType", request)
    if not client.show(reply.grant):
        out.print(f"granted: {reply.grant.name}")


@cli.command()
@click.option("--institution", default="")
@click.pass_obj
def grants(client: Client, institution: str) -> None:
    """The event-type grants."""
    reply = client.call(
        mutation_pb2_grpc.MutationAdminServiceStub,
        "ListEventTypeGrants",
        mutation_pb2.ListEventTypeGrantsRequest(institution=institution),
    )
    if client.show(reply):
        return
    table = Table(title=f"{len(reply.grants)} grant(s)")
    for column in ("institution", "event type", "capacities", "deliberation", "from", "to"):
        table.add_column(column)
    for g in reply.grants:
        table.add_row(
            g.institution,
            g.event_type,
            ",".join(g.capacities),
            g.deliberation,
            f"{g.valid_from.year:04d}-{g.valid_from.month:02d}-{g.valid_from.day:02d}",
            f"{g.valid_to.year:04d}-{g.valid_to.month:02d}-{g.valid_to.day:02d}"
            if g.valid_to.year
            else "",
        )
    out.print(table)


@cli.command()
@click.pass_obj
def lags(client: Client) -> None:
    """Each institution's notifications not yet acknowledged."""
    reply = client.call(
        mutation_pb2_grpc.MutationAdminServiceStub,
        "ListInstitutionLags",
        mutation_pb2.ListInstitutionLagsRequest(),
    )
    if client.show(reply):
        return
    table = Table(title="lag per institution")
    columns = ("institution", "delivery", "pending", "delivered", "acknowledged", "dead", "oldest")
    for column in columns:
        table.add_column(column)
    for lag in reply.lags:
        table.add_row(
            lag.institution,
            mutation_pb2.DeliveryMode.Name(lag.delivery).removeprefix("DELIVERY_MODE_").lower(),
            str(lag.pending),
            str(lag.delivered),
            str(lag.acknowledged),
            str(lag.dead_lettered),
            _when(lag.oldest_unacknowledged_time),
        )
    out.print(table)


@cli.command()
@click.pass_obj
def positions(client: Client) -> None:
    """Where the fan-out stands in each source's event log."""
    reply = client.call(
        mutation_pb2_grpc.MutationAdminServiceStub,
        "ListSourcePositions",
        mutation_pb2.ListSourcePositionsRequest(),
    )
    if client.show(reply):
        return
    table = Table(title="source positions")
    for column in ("source", "taken up to", "source's last", "moved at"):
        table.add_column(column)
    for p in reply.positions:
        table.add_row(p.source, str(p.sequence), str(p.source_last_sequence), _when(p.update_time))
    out.print(table)


@cli.command()
@click.option("--after", default=0, show_default=True, help="0: after the last acknowledged")
@click.option("--wait", default=5, show_default=True, help="seconds to wait for new ones")
@click.option("--ack", is_flag=True, help="acknowledge what was received")
@click.pass_obj
def follow(client: Client, after: int, wait: int, ack: bool) -> None:
    """Read the caller's notifications as a stream, through the router."""
    from google.protobuf import json_format

    last = 0
    with client.routed() as channel:
        stub = mutation_pb2_grpc.NotificationStreamServiceStub(channel)
        stream = stub.StreamNotifications(
            mutation_pb2.StreamNotificationsRequest(after_sequence=after, max_wait_seconds=wait),
            timeout=wait + 30,
            metadata=[(LEGAL_CONTEXT_HEADER, STREAM_CONTEXT)],
        )
        try:
            for item in stream:
                last = item.sequence
                c = item.change
                if client.as_json:
                    click.echo(json.dumps(json_format.MessageToDict(item)))
                else:
                    out.print(
                        f"{item.sequence:>6} {c.event_type:<24} {c.insz} {c.source}#"
                        f"{c.source_sequence} id {c.id}",
                        markup=False,
                        highlight=False,
                    )
        except grpc.RpcError as exc:
            info = failure(exc)
            fail(info.code.name, info.reason or "-", info.message)
        if ack and last:
            _acknowledge(stub, last)


def _acknowledge(stub: Any, up_to: int) -> None:
    reply = invoke(
        stub.AcknowledgeNotifications,
        mutation_pb2.AcknowledgeNotificationsRequest(up_to_sequence=up_to),
        metadata=[(LEGAL_CONTEXT_HEADER, STREAM_CONTEXT)],
    )
    out.print(f"acknowledged up to {reply.acknowledged_sequence}; {reply.remaining} after it")


@cli.command()
@click.argument("up_to", type=int)
@click.pass_obj
def ack(client: Client, up_to: int) -> None:
    """Acknowledge the caller's notifications up to a sequence, through the router."""
    with client.routed() as channel:
        _acknowledge(mutation_pb2_grpc.NotificationStreamServiceStub(channel), up_to)


if __name__ == "__main__":
    cli()
