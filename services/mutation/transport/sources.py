"""The sources' event logs, read through gRPC (never their databases), as changes.

- the National Register (`RegistryService.ListMutationEvents`): moves, deaths, name changes,
  replaced numbers; a BIS registration is nobody's change yet (no one holds the new number);
- DIMONA (`EmploymentEventService.ListEmploymentEvents`): employment started (the period's
  first day), ended (its last day), changed and cancelled (its first day);
- the DmfA (`DeclarationEventService.ListDeclarationEvents`): a declaration accepted or
  corrected, one change per worker over the quarter (the worker's notification names the
  worker only: the other workers' numbers are removed from the event).

Every read has a deadline; a failure becomes SourceUnavailable (retried by the runner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.dimona.v1 import dimona_pb2, dimona_pb2_grpc
from cbss.dmfa.v1 import dmfa_pb2, dmfa_pb2_grpc
from cbss.mutation.v1 import mutation_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from mutation.service.model import Change, Page
from mutation.service.ports import SourceUnavailable

TIMEOUT = 10.0

_REGISTRY_TYPES = {
    registry_pb2.MUTATION_KIND_ADDRESS_CHANGED: "person.address-changed",
    registry_pb2.MUTATION_KIND_DEATH_RECORDED: "person.death-recorded",
    registry_pb2.MUTATION_KIND_NAME_CHANGED: "person.name-changed",
    registry_pb2.MUTATION_KIND_INSZ_REPLACED: "person.insz-replaced",
}
_DIMONA_TYPES = {
    dimona_pb2.EMPLOYMENT_EVENT_KIND_STARTED: "employment.started",
    dimona_pb2.EMPLOYMENT_EVENT_KIND_ENDED: "employment.ended",
    dimona_pb2.EMPLOYMENT_EVENT_KIND_CHANGED: "employment.changed",
    dimona_pb2.EMPLOYMENT_EVENT_KIND_CANCELLED: "employment.cancelled",
}
_DMFA_TYPES = {
    dmfa_pb2.DECLARATION_EVENT_KIND_ACCEPTED: "wages.declared",
    dmfa_pb2.DECLARATION_EVENT_KIND_CORRECTED: "wages.corrected",
}


def _date(value: date_pb2.Date) -> dt.date | None:
    if not value.year:
        return None
    return dt.date(value.year, value.month, value.day)


def _pb_date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _renderer(
    template: mutation_pb2.PersonChange,
) -> Callable[[str], bytes]:
    def render(ident: str) -> bytes:
        msg = mutation_pb2.PersonChange()
        msg.CopyFrom(template)
        msg.id = ident
        return msg.SerializeToString(deterministic=True)

    return render


def _unavailable(what: str, exc: grpc.RpcError) -> SourceUnavailable:
    code = exc.code() if hasattr(exc, "code") else None  # type: ignore[attr-defined]
    return SourceUnavailable(what, code.name if code is not None else "UNKNOWN")


def _change(
    source: str, sequence: int, event_type: str, insz: str, start: dt.date, end: dt.date,
    record_time: timestamp_pb2.Timestamp, period: types_pb2.Period | None = None,
    new_insz: str = "", **detail: object,
) -> Change:  # fmt: skip
    template = mutation_pb2.PersonChange(
        event_type=event_type,
        insz=insz,
        period=period or types_pb2.Period(start_date=_pb_date(start), end_date=_pb_date(end)),
        source=source,
        source_sequence=sequence,
        record_time=record_time,
        **detail,  # type: ignore[arg-type]
    )
    return Change(source, sequence, event_type, insz, start, end, _renderer(template), new_insz)


class RegistrySource:
    name = "registry"

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = registry_pb2_grpc.RegistryServiceStub(channel)

    def read(self, after: int, limit: int) -> Page:
        try:
            reply = self._stub.ListMutationEvents(
                registry_pb2.ListMutationEventsRequest(after_sequence=after, page_size=limit),
                timeout=TIMEOUT,
            )
        except grpc.RpcError as exc:
            raise _unavailable("registry", exc) from None
        changes = []
        for e in reply.events:
            event_type = _REGISTRY_TYPES.get(e.kind)
            day = _date(e.effective_date)
            if event_type is None or day is None:
                continue
            new = e.after.insz.insz if e.kind == registry_pb2.MUTATION_KIND_INSZ_REPLACED else ""
            changes.append(
                _change(self.name, e.sequence, event_type, e.insz, day, day, e.recorded_at,
                        new_insz=new, person=e)
            )  # fmt: skip
        last = reply.events[-1].sequence if reply.events else after
        return Page(changes, last, reply.last_sequence)


class DimonaSource:
    name = "dimona"

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = dimona_pb2_grpc.EmploymentEventServiceStub(channel)

    def read(self, after: int, limit: int) -> Page:
        try:
            reply = self._stub.ListEmploymentEvents(
                dimona_pb2.ListEmploymentEventsRequest(after_sequence=after, page_size=limit),
                timeout=TIMEOUT,
            )
        except grpc.RpcError as exc:
            raise _unavailable("dimona", exc) from None
        changes = []
        for e in reply.events:
            event_type = _DIMONA_TYPES.get(e.kind)
            start, end = _date(e.period.start_date), _date(e.period.end_date)
            if event_type is None or start is None:
                continue
            day = end if e.kind == dimona_pb2.EMPLOYMENT_EVENT_KIND_ENDED and end else start
            changes.append(
                _change(self.name, e.sequence, event_type, e.period.worker_insz, day, day,
                        e.record_time, period=types_pb2.Period(
                            start_date=e.period.start_date, end_date=e.period.end_date),
                        employment=e)
            )  # fmt: skip
        last = reply.events[-1].sequence if reply.events else after
        return Page(changes, last, reply.last_sequence)


def _quarter(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, 3 * quarter - 2, 1)
    following = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, following - dt.timedelta(days=1)


class DmfaSource:
    name = "dmfa"

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = dmfa_pb2_grpc.DeclarationEventServiceStub(channel)

    def read(self, after: int, limit: int) -> Page:
        # A declaration carries up to 10,000 workers: a few events per page is plenty.
        try:
            reply = self._stub.ListDeclarationEvents(
                dmfa_pb2.ListDeclarationEventsRequest(
                    after_sequence=after, page_size=min(limit, 20)
                ),
                timeout=TIMEOUT,
            )
        except grpc.RpcError as exc:
            raise _unavailable("dmfa", exc) from None
        changes = []
        for e in reply.events:
            event_type = _DMFA_TYPES.get(e.kind)
            if event_type is None or not 1 <= e.quarter <= 4 or not 1 <= e.year <= 9998:
                continue
            start, end = _quarter(e.year, e.quarter)
            for insz in dict.fromkeys(e.worker_inszs):
                own = dmfa_pb2.DeclarationEvent()
                own.CopyFrom(e)
                del own.worker_inszs[:]
                own.worker_inszs.append(insz)
                changes.append(
                    _change(self.name, e.sequence, event_type, insz, start, end, e.record_time,
                            wages=own)
                )  # fmt: skip
        last = reply.events[-1].sequence if reply.events else after
        return Page(changes, last, reply.last_sequence)
