"""Proto <-> domain mapping for the router's own services."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cbss.common.v1 import types_pb2
from cbss.router.v1 import directory_pb2, router_admin_pb2
from router.service.model import (
    Authorisation,
    Capacity,
    DeceasedPolicy,
    DirectoryCheck,
    DirectoryEntry,
    Institution,
    Network,
    ServiceProvider,
)
from runtime.errors import FieldViolation, InvalidArgument
from runtime.identity import TRUST_DOMAIN

_NETWORK = {
    router_admin_pb2.NETWORK_UNSPECIFIED: Network.PRIMARY,
    router_admin_pb2.NETWORK_PRIMARY: Network.PRIMARY,
    router_admin_pb2.NETWORK_SECONDARY: Network.SECONDARY,
}
_DECEASED = {
    router_admin_pb2.DECEASED_POLICY_UNSPECIFIED: DeceasedPolicy.REFUSE,
    router_admin_pb2.DECEASED_POLICY_REFUSE: DeceasedPolicy.REFUSE,
    router_admin_pb2.DECEASED_POLICY_PASS_WITH_FLAG: DeceasedPolicy.PASS_WITH_FLAG,
}
_CHECK = {
    router_admin_pb2.DIRECTORY_CHECK_UNSPECIFIED: DirectoryCheck.REQUIRED,
    router_admin_pb2.DIRECTORY_CHECK_REQUIRED: DirectoryCheck.REQUIRED,
    router_admin_pb2.DIRECTORY_CHECK_NONE: DirectoryCheck.NONE,
}


def to_date(value: date_pb2.Date, field: str, *, required: bool) -> dt.date | None:
    if value.year == 0 and value.month == 0 and value.day == 0:
        if required:
            raise InvalidArgument.for_fields([FieldViolation(field, "required")], "MISSING_DATE")
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidArgument.for_fields(
            [FieldViolation(field, "not a calendar date")], "INVALID_DATE"
        ) from None


def from_date(value: dt.date | None) -> date_pb2.Date | None:
    return (
        None if value is None else date_pb2.Date(year=value.year, month=value.month, day=value.day)
    )


def institution_in(msg: router_admin_pb2.Institution) -> Institution:
    if msg.network not in _NETWORK:
        raise InvalidArgument.for_fields([FieldViolation("institution.network", "unknown")])
    return Institution(
        id=msg.id,
        display_name=msg.display_name,
        network=_NETWORK[msg.network],
        hub=msg.hub,
        sectors=frozenset(msg.sectors),
    )


def institution_out(i: Institution) -> router_admin_pb2.Institution:
    return router_admin_pb2.Institution(
        name=f"institutions/{i.id}",
        id=i.id,
        display_name=i.display_name,
        network=router_admin_pb2.NETWORK_SECONDARY
        if i.network is Network.SECONDARY
        else router_admin_pb2.NETWORK_PRIMARY,
        hub=i.hub,
        certificate_uri=f"spiffe://{TRUST_DOMAIN}/institution/{i.id}",
        state=router_admin_pb2.INSTITUTION_STATE_ACTIVE
        if i.active
        else router_admin_pb2.INSTITUTION_STATE_SUSPENDED,
        sectors=sorted(i.sectors),
    )


def provider_in(msg: router_admin_pb2.ServiceRegistration) -> ServiceProvider:
    if msg.deceased_policy not in _DECEASED:
        raise InvalidArgument.for_fields(
            [FieldViolation("registration.deceased_policy", "unknown")]
        )
    return ServiceProvider(
        msg.service,
        msg.provider,
        msg.endpoint,
        _DECEASED[msg.deceased_policy],
        holder_capacities=frozenset(Capacity(c.sector, c.code) for c in msg.holder_capacities),
        via_router=msg.via_router,
    )


def provider_out(
    p: ServiceProvider, catalog: object | None
) -> router_admin_pb2.ServiceRegistration:
    out = router_admin_pb2.ServiceRegistration(
        name=f"services/{p.service}/providers/{p.provider}",
        service=p.service,
        provider=p.provider,
        endpoint=p.endpoint,
        deceased_policy=router_admin_pb2.DECEASED_POLICY_PASS_WITH_FLAG
        if p.deceased_policy is DeceasedPolicy.PASS_WITH_FLAG
        else router_admin_pb2.DECEASED_POLICY_REFUSE,
        holder_capacities=[
            directory_pb2.Capacity(sector=c.sector, code=c.code)
            for c in sorted(p.holder_capacities)
        ],
        via_router=p.via_router,
    )
    if catalog is not None:
        for m in catalog.methods(p.service):  # type: ignore[attr-defined]
            out.methods.add(
                path=m.path,
                subject_fields=[str(f) for f in m.subject_paths],
                reference_date_field=str(m.reference_date_path or ""),
                response_subject_fields=[str(f) for f in m.response_subject_paths],
                idempotent=m.idempotent,
                server_streaming=m.server_streaming,
            )
    return out


def authorisation_in(msg: router_admin_pb2.Authorisation) -> Authorisation:
    if msg.directory_check not in _CHECK:
        raise InvalidArgument.for_fields(
            [FieldViolation("authorisation.directory_check", "unknown")]
        )
    valid_from = to_date(msg.valid_from, "authorisation.valid_from", required=True)
    assert valid_from is not None
    return Authorisation(
        id="",
        deliberation=msg.deliberation,
        requester=msg.requester,
        service=msg.service,
        method=msg.method,
        destination=msg.destination,
        legal_contexts=frozenset(msg.legal_contexts),
        directory_check=_CHECK[msg.directory_check],
        capacities=frozenset(Capacity(c.sector, c.code) for c in msg.capacities),
        read_mask_cap=frozenset(msg.read_mask_cap),
        valid_from=valid_from,
        valid_to=to_date(msg.valid_to, "authorisation.valid_to", required=False),
    )


def authorisation_out(a: Authorisation) -> router_admin_pb2.Authorisation:
    return router_admin_pb2.Authorisation(
        name=f"authorisations/{a.id}",
        deliberation=a.deliberation,
        requester=a.requester,
        service=a.service,
        method=a.method,
        destination=a.destination,
        legal_contexts=sorted(a.legal_contexts),
        directory_check=router_admin_pb2.DIRECTORY_CHECK_NONE
        if a.directory_check is DirectoryCheck.NONE
        else router_admin_pb2.DIRECTORY_CHECK_REQUIRED,
        capacities=[
            directory_pb2.Capacity(sector=c.sector, code=c.code) for c in sorted(a.capacities)
        ],
        read_mask_cap=sorted(a.read_mask_cap),
        valid_from=from_date(a.valid_from),
        valid_to=from_date(a.valid_to),
        state=router_admin_pb2.AUTHORISATION_STATE_REVOKED
        if a.revoked
        else router_admin_pb2.AUTHORISATION_STATE_ACTIVE,
    )


def entry_in(msg: directory_pb2.DirectoryEntry, i: int) -> DirectoryEntry:
    start = to_date(msg.period.start_date, f"entries[{i}].period.start_date", required=True)
    assert start is not None
    return DirectoryEntry(
        insz=msg.insz,
        institution="",
        capacity=Capacity(msg.capacity.sector, msg.capacity.code),
        start=start,
        end=to_date(msg.period.end_date, f"entries[{i}].period.end_date", required=False),
    )


def entry_out(e: DirectoryEntry) -> directory_pb2.DirectoryEntry:
    return directory_pb2.DirectoryEntry(
        insz=e.insz,
        capacity=directory_pb2.Capacity(sector=e.capacity.sector, code=e.capacity.code),
        period=types_pb2.Period(start_date=from_date(e.start), end_date=from_date(e.end)),
        institution=e.institution,
    )
