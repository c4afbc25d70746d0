"""RegistryService servicer: proto <-> domain mapping only; rules live in registry.service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import grpc

from cbss.registry.v1 import registry_pb2, registry_pb2_grpc
from registry.service.changes import (
    AddressChange,
    BisRegistration,
    DeathRecord,
    InszReplacement,
    NameChange,
    RegistryChanges,
)
from registry.service.leases import Leases
from registry.service.masks import parse_read_mask
from registry.service.queries import RegistryQueries, SearchRequest
from registry.transport import mapping
from runtime.errors import ServiceError
from runtime.identity import current_caller

logger = logging.getLogger(__name__)

#: Events per message on a WatchMutationEvents stream.
WATCH_PAGE = 1000


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    """Maps RegistryService RPCs onto the registry's queries and changes."""

    def __init__(
        self, queries: RegistryQueries, changes: RegistryChanges, leases: Leases | None = None
    ) -> None:
        self._queries, self._changes, self._leases = queries, changes, leases

    def ValidateInsz(
        self, request: registry_pb2.ValidateInszRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ValidateInszResponse:
        verdict = self._queries.validate_insz(request.insz)
        response = registry_pb2.ValidateInszResponse(
            valid=verdict.valid, invalid_reason=verdict.reason, description=verdict.description
        )
        if verdict.details is not None:
            response.details.CopyFrom(mapping.insz_details(verdict.details))
        return response

    def GetPerson(
        self, request: registry_pb2.GetPersonRequest, context: grpc.ServicerContext
    ) -> registry_pb2.GetPersonResponse:
        requested = parse_read_mask(list(request.read_mask.paths))
        view = self._queries.get_person(
            request.insz, requested, mapping.optional_date(request, "reference_date")
        )
        return registry_pb2.GetPersonResponse(person=mapping.person_to_proto(view))

    def GetPersonStatuses(
        self, request: registry_pb2.GetPersonStatusesRequest, context: grpc.ServicerContext
    ) -> registry_pb2.GetPersonStatusesResponse:
        return registry_pb2.GetPersonStatusesResponse(
            statuses=[
                registry_pb2.PersonStatusEntry(
                    insz=insz,
                    exists=record is not None,
                    deceased=record is not None and record.death_date is not None,
                    replaced_by=(record.replaced_by or "") if record is not None else "",
                )
                for insz, record in self._queries.person_statuses(list(request.inszs))
            ]
        )

    def SearchPersons(
        self, request: registry_pb2.SearchPersonsRequest, context: grpc.ServicerContext
    ) -> registry_pb2.SearchPersonsResponse:
        page = self._queries.search_persons(
            SearchRequest(
                last_name=request.last_name,
                first_name=request.first_name,
                birth_date=mapping.optional_date(request, "birth_date"),
                birth_year_from=request.birth_year_from,
                birth_year_to=request.birth_year_to,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        )
        return registry_pb2.SearchPersonsResponse(
            persons=[mapping.summary_to_proto(p) for p in page.persons],
            next_page_token=page.next_page_token,
        )

    def RegisterBisNumber(
        self, request: registry_pb2.RegisterBisNumberRequest, context: grpc.ServicerContext
    ) -> registry_pb2.RegisterBisNumberResponse:
        result = self._changes.register_bis(
            current_caller(),
            BisRegistration(
                request_id=request.request_id,
                last_name=request.last_name,
                first_names=tuple(request.first_names),
                sex=mapping.SEX_FROM_PROTO.get(request.sex),
                birth_date=mapping.optional_date(request, "birth_date"),
                birth_place=request.birth_place,
                nationality=request.nationality,
                address=mapping.optional_address(request, "address"),
                force_new=request.force_new,
            ),
        )
        return mapping.bis_result_to_proto(result)

    def ChangeAddress(
        self, request: registry_pb2.ChangeAddressRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ChangeAddressResponse:
        event = self._changes.change_address(
            current_caller(),
            AddressChange(
                insz=request.insz,
                request_id=request.request_id,
                address=mapping.optional_address(request, "address"),
                effective_date=mapping.optional_date(request, "effective_date"),
            ),
        )
        return registry_pb2.ChangeAddressResponse(event=mapping.event_to_proto(event))

    def RecordDeath(
        self, request: registry_pb2.RecordDeathRequest, context: grpc.ServicerContext
    ) -> registry_pb2.RecordDeathResponse:
        event = self._changes.record_death(
            current_caller(),
            DeathRecord(
                insz=request.insz,
                request_id=request.request_id,
                date_of_death=mapping.optional_date(request, "date_of_death"),
                place=request.place,
            ),
        )
        return registry_pb2.RecordDeathResponse(event=mapping.event_to_proto(event))

    def ChangeName(
        self, request: registry_pb2.ChangeNameRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ChangeNameResponse:
        event = self._changes.change_name(
            current_caller(),
            NameChange(
                insz=request.insz,
                request_id=request.request_id,
                last_name=request.last_name,
                first_names=tuple(request.first_names),
                effective_date=mapping.optional_date(request, "effective_date"),
            ),
        )
        return registry_pb2.ChangeNameResponse(event=mapping.event_to_proto(event))

    def ReplaceInsz(
        self, request: registry_pb2.ReplaceInszRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ReplaceInszResponse:
        event = self._changes.replace_insz(
            current_caller(),
            InszReplacement(
                old_insz=request.old_insz,
                new_insz=request.new_insz,
                request_id=request.request_id,
                effective_date=mapping.optional_date(request, "effective_date"),
            ),
        )
        return registry_pb2.ReplaceInszResponse(event=mapping.event_to_proto(event))

    def ListMutationEvents(
        self, request: registry_pb2.ListMutationEventsRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ListMutationEventsResponse:
        page = self._queries.list_events(
            current_caller(), request.after_sequence, request.page_size
        )
        return registry_pb2.ListMutationEventsResponse(
            events=[mapping.event_to_proto(e) for e in page.events],
            last_sequence=page.last_sequence,
        )

    def WatchMutationEvents(
        self,
        request_iterator: Iterator[registry_pb2.WatchMutationEventsRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[registry_pb2.WatchMutationEventsResponse]:
        """Events as they are recorded, and answers to renewals (registry.service.leases). The
        router's messages are read on a thread of their own, so that an acknowledgement is
        taken while this one waits for events."""
        leases = self._leases
        if leases is None:  # a register built without leases (tests of other parts)
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "this register grants no leases")
        caller = current_caller()
        first = next(request_iterator, None)
        if first is None:
            return
        watcher = leases.open(caller, first.after_sequence, first.applied_sequence)

        def read() -> None:
            error: ServiceError | None = None
            try:
                for request in request_iterator:
                    leases.receive(watcher, request.applied_sequence, request.renewal)
            except ServiceError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - the stream was cancelled or cut
                logger.debug("watch %d: the router's side ended (%s)", watcher.id, type(exc))
            finally:
                leases.end(watcher, error)

        context.add_callback(lambda: leases.end(watcher))
        reader = threading.Thread(target=read, name=f"watch-{watcher.id}", daemon=True)
        try:
            leases.receive(watcher, first.applied_sequence, first.renewal)
            reader.start()
            sent = first.after_sequence
            poll = leases.lease_seconds / 4
            while True:
                _, answers = leases.wait_for_news(watcher, sent, poll)
                if watcher.error is not None:
                    raise watcher.error
                if watcher.ended:
                    return
                # Every `poll` too: a change written by another process reaches the router.
                page = self._queries.list_events(caller, sent, WATCH_PAGE)
                events = [mapping.event_to_proto(e) for e in page.events]
                if events:
                    sent = page.events[-1].sequence
                if not events and not answers:
                    continue
                renewal, lease = answers.pop(0) if answers else (0, 0)
                yield registry_pb2.WatchMutationEventsResponse(
                    events=events,
                    last_sequence=page.last_sequence,
                    renewal=renewal,
                    lease_millis=lease,
                )
                for renewal, lease in answers:
                    yield registry_pb2.WatchMutationEventsResponse(
                        last_sequence=page.last_sequence, renewal=renewal, lease_millis=lease
                    )
        finally:
            leases.leave(watcher)

    def ListPersonStatuses(
        self, request: registry_pb2.ListPersonStatusesRequest, context: grpc.ServicerContext
    ) -> registry_pb2.ListPersonStatusesResponse:
        page = self._queries.list_statuses(current_caller(), request.page_size, request.page_token)
        return registry_pb2.ListPersonStatusesResponse(
            statuses=[
                registry_pb2.ListedPersonStatus(
                    insz=s.insz,
                    kind=mapping.KIND_TO_PROTO[s.kind],
                    deceased=s.deceased,
                    replaced_by=s.replaced_by or "",
                )
                for s in page.statuses
            ],
            next_page_token=page.next_page_token,
            last_sequence=page.last_sequence,
        )
