"""SQL implementation of the administrative acts; each bumps the config version it changes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from google.protobuf import descriptor_pb2

from router.service.model import Authorisation, Institution, ServiceProvider
from router.storage.models import AuthorisationRow, InstitutionRow, ServiceProviderRow
from router.storage.repository import (
    bump_version,
    to_authorisation,
    to_institution,
    to_provider,
)
from runtime.clock import Clock
from runtime.db import Database


class SqlAdminStore:
    """Institutions, providers and authorisations in the router's database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def _now(self) -> dt.datetime:
        return self._clock.now()

    def institution(self, institution_id: str) -> Institution | None:
        with self._db.unit_of_work(write=False) as s:
            row = s.get(InstitutionRow, institution_id)
            return to_institution(row) if row else None

    def upsert_institution(self, institution: Institution) -> Institution:
        with self._db.unit_of_work() as s:
            row = s.get(InstitutionRow, institution.id)
            if row is None:
                row = InstitutionRow(id=institution.id, active=True)
                s.add(row)
            row.display_name = institution.display_name
            row.network = institution.network.value
            row.hub = institution.hub
            row.sectors = sorted(institution.sectors)
            row.updated_at = self._now()
            bump_version(s)
            s.flush()
            return to_institution(row)

    def set_active(self, institution_id: str, active: bool) -> Institution | None:
        with self._db.unit_of_work() as s:
            row = s.get(InstitutionRow, institution_id)
            if row is None:
                return None
            row.active = active
            row.updated_at = self._now()
            bump_version(s)
            s.flush()
            return to_institution(row)

    def list_institutions(self, after: str, limit: int) -> list[Institution]:
        with self._db.unit_of_work(write=False) as s:
            rows = s.scalars(
                sa.select(InstitutionRow)
                .where(InstitutionRow.id > after)
                .order_by(InstitutionRow.id)
                .limit(limit)
            )
            return [to_institution(r) for r in rows]

    def put_provider(self, provider: ServiceProvider) -> None:
        fds = descriptor_pb2.FileDescriptorSet(
            file=[descriptor_pb2.FileDescriptorProto.FromString(f) for f in provider.files]
        )
        with self._db.unit_of_work() as s:
            row = s.get(ServiceProviderRow, (provider.service, provider.provider))
            if row is None:
                row = ServiceProviderRow(service=provider.service, provider=provider.provider)
                s.add(row)
            row.endpoint = provider.endpoint
            row.deceased_policy = provider.deceased_policy.value
            row.descriptor_set = fds.SerializeToString()
            row.holder_capacities = [str(c) for c in sorted(provider.holder_capacities)]
            row.via_router = provider.via_router
            row.updated_at = self._now()
            bump_version(s)

    def list_providers(self, after: tuple[str, str] | None, limit: int) -> list[ServiceProvider]:
        t = ServiceProviderRow
        query = sa.select(t).order_by(t.service, t.provider).limit(limit)
        if after is not None:
            query = query.where(sa.tuple_(t.service, t.provider) > sa.tuple_(*after))
        with self._db.unit_of_work(write=False) as s:
            return [to_provider(r) for r in s.scalars(query)]

    def add_authorisation(self, a: Authorisation) -> None:
        with self._db.unit_of_work() as s:
            s.add(
                AuthorisationRow(
                    id=a.id,
                    deliberation=a.deliberation,
                    requester=a.requester,
                    service=a.service,
                    method=a.method,
                    destination=a.destination,
                    legal_contexts=sorted(a.legal_contexts),
                    directory_check=a.directory_check.value,
                    capacities=[str(c) for c in sorted(a.capacities)],
                    read_mask_cap=sorted(a.read_mask_cap),
                    valid_from=a.valid_from,
                    valid_to=a.valid_to,
                    revoked=False,
                    created_at=self._now(),
                )
            )
            bump_version(s)

    def revoke(self, authorisation_id: str) -> Authorisation | None:
        with self._db.unit_of_work() as s:
            row = s.get(AuthorisationRow, authorisation_id)
            if row is None:
                return None
            row.revoked = True
            bump_version(s)
            s.flush()
            return to_authorisation(row)

    def list_authorisations(self, requester: str, after: str, limit: int) -> list[Authorisation]:
        t = AuthorisationRow
        query = sa.select(t).where(t.id > after).order_by(t.id).limit(limit)
        if requester:
            query = query.where(t.requester == requester)
        with self._db.unit_of_work(write=False) as s:
            return [to_authorisation(r) for r in s.scalars(query)]
