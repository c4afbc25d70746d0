"""RegistryService servicer: proto <-> domain mapping only; rules live in registry.service."""

from __future__ import annotations

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
from registry.service.masks import parse_read_mask
from registry.service.queries import RegistryQueries, SearchRequest
from registry.transport import mapping
from runtime.identity import current_caller


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    """Maps RegistryService RPCs onto the registry's queries and changes."""

    def __init__(self, queries: RegistryQueries, changes: RegistryChanges) -> None:
        self._queries, self._changes = queries, changes

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
