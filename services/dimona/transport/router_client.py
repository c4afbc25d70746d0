"""DIMONA's calls to the router, as the ONSS (`institution/onss`): the worker's identity (the
registry's GetPersonStatuses and RegisterBisNumber, under the identification authorisation,
legal context `employment.identification`, directory check NONE) and ONSS's entries in the
reference directory (DirectoryService).

Identity checks are batched: each declaration's INSZ joins a queue, and a sender thread asks
the router about everything queued in one GetPersonStatuses call (at most 200 persons).
Nothing waits for a batch to fill — the sender takes what is there as soon as it is free — so
one declaration in flight costs one call, and 50 in flight cost a few calls that carry many
persons each: the router's checks and its durable log write are then paid per batch,
not per declaration (measured with `make bench`). Every person is still checked by the router
and logged there, one log row each.

The router refuses a request naming a person that does not exist, was replaced or died, with the
reason (and for several persons `SUBJECTS_REFUSED` with one PreconditionFailure violation per
refused person, `subject` naming the field `inszs[i]`): that refusal *is* the answer for those
persons, and every other person of the batch passed the checks. A replaced person's new number
comes in the metadata `replaced_by` when asked alone; within a batch it is asked again alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future

import grpc
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from cbss.router.v1 import directory_pb2, directory_pb2_grpc
from dimona.service.calendar import ONE_DAY
from dimona.service.model import Identification, Sex
from dimona.service.ports import (
    DirectoryInterval,
    IdentificationRefused,
    PersonCheck,
    PersonOutcome,
)
from runtime import identity
from runtime.client import failure, refused_subjects
from runtime.errors import Unavailable

logger = logging.getLogger(__name__)

LEGAL_CONTEXT = "employment.identification"
#: The institution that answers for the National Register and BIS register.
REGISTER = "nr"
#: The ONSS employment capacity in the directory (router.service.model: 1/1, UNCONFIRMED code).
CAPACITY = directory_pb2.Capacity(sector=1, code=1)
MAX_BATCH = 200
_SEX = {Sex.MALE: types_pb2.SEX_MALE, Sex.FEMALE: types_pb2.SEX_FEMALE}
_PERSON_REASONS = {
    "PERSON_NOT_FOUND": PersonOutcome.NOT_FOUND,
    "PERSON_REPLACED": PersonOutcome.REPLACED,
    "PERSON_DECEASED": PersonOutcome.DECEASED,
}


def identity_unavailable() -> Unavailable:
    return Unavailable(
        "IDENTITY_UNAVAILABLE",
        "the worker's identity cannot be checked now; retry with the same reference",
    )


class RouterIdentity:
    """WorkerIdentity through the router (dimona.service.ports)."""

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        timeout: float = 10.0,
        senders: int = 1,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._stub = registry_pb2_grpc.RegistryServiceStub(channel)
        self._timeout, self._max_batch = timeout, max_batch
        # The register is named: the router does not have to choose among providers of the
        # registry's contract (a hub may offer it too).
        self._metadata = (
            (identity.LEGAL_CONTEXT_HEADER, LEGAL_CONTEXT),
            (identity.DESTINATION_HEADER, REGISTER),
        )
        self._queue: list[tuple[str, Future[PersonCheck]]] = []
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"dimona-identity-{i}", daemon=True)
            for i in range(senders)
        ]
        for t in self._threads:
            t.start()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    # -- WorkerIdentity ------------------------------------------------------------------------

    def check(self, insz: str) -> PersonCheck:
        future: Future[PersonCheck] = Future()
        with self._ready:
            if self._closed:
                raise identity_unavailable()
            self._queue.append((insz, future))
            self._ready.notify()
        try:
            return future.result(timeout=self._timeout + 1)
        except TimeoutError:
            raise identity_unavailable() from None

    def identify(self, person: Identification, request_id: str) -> str:
        request = registry_pb2.RegisterBisNumberRequest(
            request_id=request_id,
            last_name=person.last_name,
            first_names=list(person.first_names),
            sex=_SEX.get(person.sex, types_pb2.SEX_UNKNOWN),
            birth_date=date_pb2.Date(
                year=person.birth_date.year,
                month=person.birth_date.month,
                day=person.birth_date.day,
            ),
            birth_place=person.birth_place,
            nationality=person.nationality,
            address=types_pb2.Address(
                street=person.street,
                house_number=person.house_number,
                box=person.box,
                postcode=person.postcode,
                municipality=person.municipality,
                country_code=person.country_code,
            ),
        )
        try:
            reply = self._stub.RegisterBisNumber(
                request, metadata=self._metadata, timeout=self._timeout
            )
        except grpc.RpcError as exc:
            info = failure(exc)
            if info.code in (
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.ALREADY_EXISTS,
            ):
                raise IdentificationRefused(info.reason or info.code.name) from None
            logger.warning("BIS registration through the router failed: %s", info.reason)
            raise identity_unavailable() from None
        return reply.insz

    # -- batching ------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed:
                    for _insz, future in self._queue:
                        future.set_exception(identity_unavailable())
                    self._queue.clear()
                    return
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            try:
                results = self._ask(list(dict.fromkeys(insz for insz, _ in batch)))
            except Exception as exc:  # every waiter gets the failure, never a hang
                for _insz, future in batch:
                    future.set_exception(
                        exc if isinstance(exc, Unavailable) else identity_unavailable()
                    )
                continue
            for insz, future in batch:
                future.set_result(results[insz])

    def _ask(self, inszs: list[str]) -> dict[str, PersonCheck]:
        try:
            reply = self._stub.GetPersonStatuses(
                registry_pb2.GetPersonStatusesRequest(inszs=inszs),
                metadata=self._metadata,
                timeout=self._timeout,
            )
        except grpc.RpcError as exc:
            return self._refused(inszs, exc)
        found: dict[str, PersonCheck] = {}
        for status in reply.statuses:
            if not status.exists:
                found[status.insz] = PersonCheck(PersonOutcome.NOT_FOUND)
            elif status.replaced_by:
                found[status.insz] = PersonCheck(PersonOutcome.REPLACED, status.replaced_by)
            elif status.deceased:
                found[status.insz] = PersonCheck(PersonOutcome.DECEASED)
            else:
                found[status.insz] = PersonCheck(PersonOutcome.ACTIVE)
        for insz in inszs:
            found.setdefault(insz, PersonCheck(PersonOutcome.NOT_FOUND))
        return found

    def _refused(self, inszs: list[str], exc: grpc.RpcError) -> dict[str, PersonCheck]:
        info = failure(exc)
        if info.reason in _PERSON_REASONS and len(inszs) == 1:
            return {
                inszs[0]: PersonCheck(
                    _PERSON_REASONS[info.reason], info.metadata.get("replaced_by", "")
                )
            }
        refusals = refused_subjects(info)
        if refusals is not None:
            found = {insz: PersonCheck(PersonOutcome.ACTIVE) for insz in inszs}
            for index, reason in refusals:
                outcome = _PERSON_REASONS.get(reason)
                if outcome is None or index >= len(inszs):
                    raise identity_unavailable()
                if outcome is PersonOutcome.REPLACED:
                    found[inszs[index]] = self._ask([inszs[index]])[inszs[index]]
                else:
                    found[inszs[index]] = PersonCheck(outcome)
            return found
        logger.warning(
            "identity check through the router failed: %s %s", info.code.name, info.reason
        )
        raise identity_unavailable()


class RouterDirectory:
    """DirectoryPort through the router's DirectoryService (ONSS's own entries)."""

    def __init__(self, channel: grpc.Channel, *, timeout: float = 30.0) -> None:
        self._stub = directory_pb2_grpc.DirectoryServiceStub(channel)
        self._timeout = timeout

    def withdraw(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        # An end the day before the start: the entry never applied (the router removes it).
        self._unregister([(w, DirectoryInterval(i.start, i.start - ONE_DAY)) for w, i in entries])

    def end(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        self._unregister(entries)

    def register(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        if not entries:
            return
        self._call(
            self._stub.RegisterEntries,
            directory_pb2.RegisterEntriesRequest(entries=[_entry(w, i) for w, i in entries]),
        )

    def _unregister(self, entries: Sequence[tuple[str, DirectoryInterval]]) -> None:
        if not entries:
            return
        self._call(
            self._stub.UnregisterEntries,
            directory_pb2.UnregisterEntriesRequest(entries=[_entry(w, i) for w, i in entries]),
        )

    def _call(self, method, request) -> None:  # noqa: ANN001
        try:
            method(request, timeout=self._timeout)
        except grpc.RpcError as exc:
            info = failure(exc)
            raise Unavailable(
                "DIRECTORY_UNAVAILABLE",
                f"the router did not take the directory entries: {info.code.name} {info.reason}",
            ) from None


def _date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)


def _entry(insz: str, interval: DirectoryInterval) -> directory_pb2.DirectoryEntry:
    period = types_pb2.Period(start_date=_date(interval.start))
    if interval.end is not None:
        period.end_date.CopyFrom(_date(interval.end))
    return directory_pb2.DirectoryEntry(insz=insz, capacity=CAPACITY, period=period)
