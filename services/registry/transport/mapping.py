"""Proto <-> domain mapping of the registry; no rules here.

Absent message fields (dates, addresses) become None so that the service layer can tell
"missing" from "given but wrong"; unknown enum numbers (a newer client) map like UNSPECIFIED.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.registry.v1 import registry_pb2
from registry.service.changes import BisResult
from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    DeathValues,
    InfoType,
    InszKind,
    InszValues,
    MutationEvent,
    MutationKind,
    MutationValues,
    NameValues,
    Outcome,
    PartialDate,
    PersonSummary,
    PersonView,
    Sex,
)
from runtime.identifiers import Insz

SEX_TO_PROTO = {
    Sex.MALE: types_pb2.SEX_MALE,
    Sex.FEMALE: types_pb2.SEX_FEMALE,
    Sex.UNKNOWN: types_pb2.SEX_UNKNOWN,
}
SEX_FROM_PROTO = {number: sex for sex, number in SEX_TO_PROTO.items()}
KIND_TO_PROTO = {
    InszKind.NATIONAL_REGISTER: types_pb2.INSZ_KIND_NATIONAL_REGISTER,
    InszKind.BIS_SEX_KNOWN: types_pb2.INSZ_KIND_BIS_SEX_KNOWN,
    InszKind.BIS_SEX_UNKNOWN: types_pb2.INSZ_KIND_BIS_SEX_UNKNOWN,
}
CIVIL_TO_PROTO = {
    CivilState.SINGLE: registry_pb2.CIVIL_STATE_SINGLE,
    CivilState.MARRIED: registry_pb2.CIVIL_STATE_MARRIED,
    CivilState.WIDOWED: registry_pb2.CIVIL_STATE_WIDOWED,
    CivilState.DIVORCED: registry_pb2.CIVIL_STATE_DIVORCED,
    CivilState.SEPARATED: registry_pb2.CIVIL_STATE_SEPARATED,
    CivilState.UNKNOWN: registry_pb2.CIVIL_STATE_UNKNOWN,
}
MUTATION_KIND_TO_PROTO = {
    MutationKind.ADDRESS_CHANGED: registry_pb2.MUTATION_KIND_ADDRESS_CHANGED,
    MutationKind.DEATH_RECORDED: registry_pb2.MUTATION_KIND_DEATH_RECORDED,
    MutationKind.NAME_CHANGED: registry_pb2.MUTATION_KIND_NAME_CHANGED,
    MutationKind.INSZ_REPLACED: registry_pb2.MUTATION_KIND_INSZ_REPLACED,
    MutationKind.BIS_REGISTERED: registry_pb2.MUTATION_KIND_BIS_REGISTERED,
}
OUTCOME_TO_PROTO = {
    Outcome.CREATED: registry_pb2.RegisterBisNumberResponse.OUTCOME_CREATED,
    Outcome.EXISTING_PERSON: registry_pb2.RegisterBisNumberResponse.OUTCOME_EXISTING_PERSON,
}


# -- from proto ----------------------------------------------------------------------------------


def optional_date(message: object, field: str) -> PartialDate | None:
    """The date in `message.field`, or None when the field is absent."""
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    value: date_pb2.Date = getattr(message, field)
    return PartialDate(value.year, value.month, value.day)


def address_from_proto(value: types_pb2.Address) -> Address:
    return Address(
        street=value.street,
        house_number=value.house_number,
        box=value.box,
        postcode=value.postcode,
        municipality=value.municipality,
        country_code=value.country_code,
    )


def optional_address(message: object, field: str) -> Address | None:
    if not message.HasField(field):  # type: ignore[attr-defined]
        return None
    return address_from_proto(getattr(message, field))


# -- to proto ------------------------------------------------------------------------------------


def date_to_proto(value: PartialDate | dt.date) -> date_pb2.Date:
    if isinstance(value, dt.date):
        return date_pb2.Date(year=value.year, month=value.month, day=value.day)
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp_to_proto(value: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def address_to_proto(value: Address) -> types_pb2.Address:
    return types_pb2.Address(
        street=value.street,
        house_number=value.house_number,
        box=value.box,
        postcode=value.postcode,
        municipality=value.municipality,
        country_code=value.country_code,
    )


def period_to_proto(value: AddressPeriod) -> registry_pb2.AddressPeriod:
    period = types_pb2.Period(start_date=date_to_proto(value.start))
    if value.end is not None:
        period.end_date.CopyFrom(date_to_proto(value.end))
    return registry_pb2.AddressPeriod(address=address_to_proto(value.address), period=period)


def insz_details(value: Insz) -> types_pb2.InszDetails:
    return types_pb2.InszDetails(
        insz=value.value,
        kind=KIND_TO_PROTO[value.kind],
        sex=SEX_TO_PROTO[value.sex],
        birth_date=date_pb2.Date(
            year=value.birth_year, month=value.birth_month, day=value.birth_day
        ),
        born_after_1999=value.born_after_1999,
    )


def person_to_proto(view: PersonView) -> registry_pb2.Person:
    """`name`, `insz`, and exactly the information types of the view (present even if empty)."""
    record, types = view.record, view.types
    person = registry_pb2.Person(name=record.name, insz=record.insz)
    if InfoType.IDENTITY in types:
        person.identity.CopyFrom(
            registry_pb2.Identity(
                last_name=record.last_name,
                first_names=record.first_names,
                sex=SEX_TO_PROTO[record.sex],
            )
        )
    if InfoType.BIRTH in types:
        person.birth.CopyFrom(
            registry_pb2.Birth(
                date=date_to_proto(record.birth_date),
                place=record.birth_place,
                country_code=record.birth_country,
            )
        )
    if InfoType.ADDRESS in types:
        person.address.SetInParent()
        if view.address is not None:
            person.address.CopyFrom(period_to_proto(view.address))
    if InfoType.ADDRESS_HISTORY in types:
        person.address_history.SetInParent()
        person.address_history.addresses.extend(period_to_proto(p) for p in view.address_history)
    if InfoType.NATIONALITY in types:
        person.nationality.SetInParent()
        person.nationality.country_code = record.nationality
    if InfoType.CIVIL_STATUS in types:
        person.civil_status.SetInParent()
        person.civil_status.state = CIVIL_TO_PROTO[record.civil_state]
    if InfoType.DEATH in types:
        person.death.SetInParent()
        if record.death_date is not None:
            person.death.date.CopyFrom(date_to_proto(record.death_date))
            person.death.place = record.death_place
    if InfoType.STATUS in types:
        person.status.CopyFrom(
            registry_pb2.PersonStatus(
                deceased=record.deceased,
                kind=KIND_TO_PROTO[record.kind],
                replaced_by=record.replaced_by or "",
                replaces=view.replaces,
            )
        )
    return person


def summary_to_proto(value: PersonSummary) -> registry_pb2.PersonSummary:
    return registry_pb2.PersonSummary(
        insz=value.insz,
        last_name=value.last_name,
        first_names=value.first_names,
        birth_date=date_to_proto(value.birth_date),
        sex=SEX_TO_PROTO[value.sex],
        deceased=value.deceased,
    )


def values_to_proto(value: MutationValues) -> registry_pb2.MutationValues:
    if value is None:
        return registry_pb2.MutationValues()
    if isinstance(value, Address):
        return registry_pb2.MutationValues(address=address_to_proto(value))
    if isinstance(value, NameValues):
        return registry_pb2.MutationValues(
            name=registry_pb2.NameValues(last_name=value.last_name, first_names=value.first_names)
        )
    if isinstance(value, DeathValues):
        return registry_pb2.MutationValues(
            death=registry_pb2.Death(date=date_to_proto(value.date), place=value.place)
        )
    assert isinstance(value, InszValues)
    return registry_pb2.MutationValues(insz=registry_pb2.InszValues(insz=value.insz))


def event_to_proto(event: MutationEvent) -> registry_pb2.MutationEvent:
    return registry_pb2.MutationEvent(
        sequence=event.sequence,
        insz=event.insz,
        kind=MUTATION_KIND_TO_PROTO[event.kind],
        effective_date=date_to_proto(event.effective_date),
        recorded_at=timestamp_to_proto(event.recorded_at),
        before=values_to_proto(event.before),
        after=values_to_proto(event.after),
    )


def bis_result_to_proto(result: BisResult) -> registry_pb2.RegisterBisNumberResponse:
    return registry_pb2.RegisterBisNumberResponse(
        insz=result.insz, outcome=OUTCOME_TO_PROTO[result.outcome]
    )
