"""`python -m inbox.cli`: read an institution's inbox, and send attestations as the demo sender.

    python -m inbox.cli list --as institution-onem --target localhost:50060 [--kind K]
        [--state received|acknowledged] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--page-size N]
    python -m inbox.cli ack --as institution-onem --target localhost:50060 NAME... | --all
    python -m inbox.cli send --router localhost:50052 --kind unemployment.c4 INSZ [--on DATE]
        [--destination ID] [--count N] [--payload JSON]
    python -m inbox.cli status [--refresh] [--deliver] [ID...]
    python -m inbox.cli requeue ID...

`list` and `ack` call the inbox directly with the owning institution's certificate (`--as`, a
file stem in `--pki`); the server must present that institution's certificate too. `send` is the
demonstration sender (inbox.sender): it records each attestation in its own database
(`--db`, default `var/db/sender-demo.sqlite3`) in the same transaction as its declaration, then
runs the shared outbox's dispatcher, as `onss`, until every attestation it sent is delivered or
dead-lettered (or `--wait` seconds pass), and prints their statuses. `status` prints the demo
sender's outbox; `--refresh` first asks the inboxes, through the router, which were acknowledged,
and `--deliver` runs one dispatcher pass first. `requeue` gives dead letters another chance.
Errors are printed on stderr as `CODE REASON: message`, with exit status 1.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import click
from google.type import date_pb2
from rich.table import Table

from cbss.inbox.v1 import inbox_pb2, inbox_pb2_grpc
from runtime.cli import fail, invoke, out, party_files
from runtime.client import secure_channel, server_name
from runtime.identifiers import IdentifierError, normalize_insz
from runtime.identity import TRUST_DOMAIN

_STATES = {
    "received": inbox_pb2.ATTESTATION_STATE_RECEIVED,
    "acknowledged": inbox_pb2.ATTESTATION_STATE_ACKNOWLEDGED,
}


def _day(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_DATE", f"{option}: expected YYYY-MM-DD")


def _date(day: dt.date | None) -> date_pb2.Date | None:
    return None if day is None else date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _institution(party: str) -> str:
    if not party.startswith("institution-"):
        fail("INVALID_ARGUMENT", "NOT_AN_INSTITUTION", "--as: an institution-<id> certificate")
    return party.removeprefix("institution-")


def _inbox_channel(target: str, pki: Path, party: str):  # noqa: ANN202
    uri = f"spiffe://{TRUST_DOMAIN}/institution/{_institution(party)}"
    return secure_channel(target, party_files(pki, party), **server_name(uri))


def _when(ts) -> str:  # noqa: ANN001
    if not ts.seconds and not ts.nanos:
        return ""
    return ts.ToDatetime(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@click.group()
def cli() -> None:
    """An institution's inbox, and the demonstration sender."""


_as = click.option("--as", "party", default="institution-onem", show_default=True)
_target = click.option("--target", default="localhost:50060", show_default=True)
_pki = click.option("--pki", default="var/pki", show_default=True, type=click.Path(path_type=Path))


@cli.command("list")
@_as
@_target
@_pki
@click.option("--kind", default="")
@click.option("--state", type=click.Choice(sorted(_STATES)))
@click.option("--from", "date_from", help="reference date on or after, YYYY-MM-DD")
@click.option("--to", "date_to", help="reference date on or before, YYYY-MM-DD")
@click.option("--page-size", default=100, show_default=True)
@click.option("--all", "every", is_flag=True, help="follow next_page_token to the end")
@click.option("--json", "as_json", is_flag=True)
def list_(
    party: str,
    target: str,
    pki: Path,
    kind: str,
    state: str | None,
    date_from: str | None,
    date_to: str | None,
    page_size: int,
    every: bool,
    as_json: bool,
) -> None:
    """List the inbox's attestations, oldest received first."""
    institution = _institution(party)
    request = inbox_pb2.ListAttestationsRequest(
        parent=f"inboxes/{institution}",
        page_size=page_size,
        kind=kind,
        state=_STATES.get(state or "", inbox_pb2.ATTESTATION_STATE_UNSPECIFIED),
        reference_date_from=_date(_day(date_from, "--from")),
        reference_date_to=_date(_day(date_to, "--to")),
    )
    found: list[inbox_pb2.Attestation] = []
    with _inbox_channel(target, pki, party) as channel:
        stub = inbox_pb2_grpc.InboxServiceStub(channel)
        while True:
            reply = invoke(stub.ListAttestations, request)
            found.extend(reply.attestations)
            if not (every and reply.next_page_token):
                break
            request.page_token = reply.next_page_token
    if as_json:
        from google.protobuf import json_format

        rows = [json_format.MessageToDict(a, preserving_proto_field_name=True) for a in found]
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"inboxes/{institution}: {len(found)} attestation(s)")
    for column in ("id", "kind", "subject", "reference", "sender", "received", "state"):
        table.add_column(column)
    for a in found:
        d = a.reference_date
        table.add_row(
            a.id,
            a.kind,
            a.subject_insz,
            f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
            a.sender,
            _when(a.receive_time),
            inbox_pb2.AttestationState.Name(a.state).removeprefix("ATTESTATION_STATE_"),
        )
    out.print(table)
    if reply.next_page_token and not every:
        out.print("more: --all, or page with the API's next_page_token")


@cli.command()
@_as
@_target
@_pki
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="acknowledge every RECEIVED attestation")
def ack(party: str, target: str, pki: Path, names: tuple[str, ...], every: bool) -> None:
    """Acknowledge attestations (by name or id) as the inbox's owner."""
    institution = _institution(party)
    with _inbox_channel(target, pki, party) as channel:
        stub = inbox_pb2_grpc.InboxServiceStub(channel)
        todo = [
            n if n.startswith("inboxes/") else f"inboxes/{institution}/attestations/{n}"
            for n in names
        ]
        if every:
            request = inbox_pb2.ListAttestationsRequest(
                parent=f"inboxes/{institution}",
                page_size=1000,
                state=inbox_pb2.ATTESTATION_STATE_RECEIVED,
            )
            todo += [a.name for a in invoke(stub.ListAttestations, request).attestations]
        for name in todo:
            reply = invoke(
                stub.AcknowledgeAttestation, inbox_pb2.AcknowledgeAttestationRequest(name=name)
            )
            out.print(f"{name} acknowledged {_when(reply.attestation.acknowledge_time)}")


def _sender_db(path: Path):  # noqa: ANN202
    from inbox.sender import MIGRATIONS
    from runtime.db import Database

    db = Database(f"sqlite:///{path}")
    db.migrate(MIGRATIONS)
    return db


def _print_entries(entries) -> None:  # noqa: ANN001
    table = Table(title="demo sender's outbox")
    for column in ("id", "kind", "status", "attempts", "delivered to", "router ticket", "error"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.id,
            e.kind,
            e.status.value,
            str(e.attempts),
            e.delivered_to.split("/attestations/")[0],
            e.router_ticket,
            e.last_error,
        )
    out.print(table)


def _dispatcher(db, router: str, pki: Path, party: str, horizon: float):  # noqa: ANN001, ANN202
    from inbox.sender import DemoSender
    from runtime.outbox import Dispatcher, RetryPolicy, RouterTransport

    channel = secure_channel(
        router, party_files(pki, party), **server_name(f"spiffe://{TRUST_DOMAIN}/router/cbss")
    )
    sender = DemoSender(db)
    policy = RetryPolicy(base_seconds=0.2, max_delay_seconds=5.0, horizon_seconds=horizon)
    return sender, channel, Dispatcher(db, sender.outbox, RouterTransport(channel), policy=policy)


_router = click.option(
    "--router", envvar="ROUTER_ADDR", default="localhost:50052", show_default=True
)


def _faults(command):  # noqa: ANN001, ANN202
    """Seeded fault points for tests (runtime.faults), from CARREFOUR_FAULTS/_SEED only."""
    command = click.option("--faults", envvar="CARREFOUR_FAULTS", default="", hidden=True)(command)
    return click.option("--fault-seed", envvar="CARREFOUR_FAULT_SEED", default="0", hidden=True)(
        command
    )


_db = click.option(
    "--db",
    "db_path",
    default="var/db/sender-demo.sqlite3",
    show_default=True,
    type=click.Path(path_type=Path),
)


@cli.command()
@_router
@click.option("--as", "party", default="onss", show_default=True, help="the sender's certificate")
@_pki
@_db
@click.option("--kind", required=True, help="e.g. unemployment.c4, sickness.zima-001")
@click.option("--on", "reference", help="reference (risk) date YYYY-MM-DD; default today")
@click.option("--destination", default=None, help="a provider id; default: the kind's")
@click.option("--count", default=1, show_default=True)
@click.option("--payload", default='{"demo": true}', show_default=True, help="JSON")
@click.option("--wait", default=30.0, show_default=True, help="seconds to wait for the outcome")
@click.option("--horizon", default=3600.0, show_default=True, help="dead-letter after (seconds)")
@click.argument("insz")
@_faults
def send(
    router: str,
    party: str,
    pki: Path,
    db_path: Path,
    kind: str,
    reference: str | None,
    destination: str | None,
    count: int,
    payload: str,
    wait: float,
    horizon: float,
    insz: str,
    faults: str,
    fault_seed: str,
) -> None:
    """Declare attestations about a person and deliver them through the router."""
    from runtime import faults as fault_points

    fault_points.install_from(faults, fault_seed)
    from inbox.sender import KINDS
    from runtime.outbox import DeliveryStatus

    if kind not in KINDS:
        fail("INVALID_ARGUMENT", "UNKNOWN_KIND", f"--kind: one of {', '.join(KINDS)}")
    try:
        subject = normalize_insz(insz)
    except IdentifierError as exc:
        fail("INVALID_ARGUMENT", exc.reason, exc.description)
    try:
        body = json.dumps(json.loads(payload)).encode()
    except ValueError:
        fail("INVALID_ARGUMENT", "INVALID_PAYLOAD", "--payload: not JSON")
    day = _day(reference, "--on") or dt.date.today()
    db = _sender_db(db_path)
    sender, channel, dispatcher = _dispatcher(db, router, pki, party, horizon)
    ids = [sender.declare(kind, subject, day, body, destination=destination) for _ in range(count)]
    dispatcher.start()
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline:
            entries = [sender.outbox.status(db, i) for i in ids]
            if all(e is not None and e.status is not DeliveryStatus.PENDING for e in entries):
                break
            time.sleep(0.05)
    finally:
        dispatcher.stop()
        channel.close()
    _print_entries([sender.outbox.status(db, i) for i in ids])
    db.dispose()


@cli.command()
@_router
@click.option("--as", "party", default="onss", show_default=True, help="the sender's certificate")
@_pki
@_db
@click.option("--refresh", is_flag=True, help="ask the inboxes which were acknowledged")
@click.option("--deliver", is_flag=True, help="also run the dispatcher once (pending rows)")
@click.argument("ids", nargs=-1)
def status(
    router: str,
    party: str,
    pki: Path,
    db_path: Path,
    refresh: bool,
    deliver: bool,
    ids: tuple[str, ...],
) -> None:
    """The demo sender's outbox: each attestation's status."""
    db = _sender_db(db_path)
    sender, channel, dispatcher = _dispatcher(db, router, pki, party, 3600.0)
    try:
        if deliver:
            dispatcher.run_once()
        if refresh:
            dispatcher.refresh(list(ids) or None)
    finally:
        dispatcher.stop()
        channel.close()
    entries = [sender.outbox.status(db, i) for i in ids] if ids else sender.outbox.entries(db)
    _print_entries([e for e in entries if e is not None])
    db.dispose()


@cli.command()
@_db
@click.argument("ids", nargs=-1, required=True)
def requeue(db_path: Path, ids: tuple[str, ...]) -> None:
    """Give dead-lettered attestations another chance (a fresh horizon from now); the next
    `send` or `status --deliver` delivers them."""
    from inbox.sender import DemoSender

    db = _sender_db(db_path)
    sender = DemoSender(db)
    out.print(f"{sender.outbox.requeue(db, list(ids))} attestation(s) pending again")
    db.dispose()


if __name__ == "__main__":
    cli()
