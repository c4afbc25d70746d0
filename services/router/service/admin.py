"""Administration: institutions, services and authorisations — validated here, stored by a port.

Only administrators (`admin/<id>` certificates) may act; every act is written in the message log
with the administrator's identity once it is committed, before the reply leaves.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from router.service.descriptors import CatalogError
from router.service.message_log import LogEntry
from router.service.model import (
    CAPACITY_CODES,
    Authorisation,
    DirectoryCheck,
    Institution,
    Network,
    ServiceProvider,
)
from runtime.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from runtime.identity import Caller, PartyKind

T = TypeVar("T")

ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$", re.ASCII)
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.[A-Z][A-Za-z0-9]*$", re.ASCII)
ENDPOINT = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", re.ASCII)
METHOD = re.compile(r"^[A-Z][A-Za-z0-9]*$", re.ASCII)


class AdminStore(Protocol):
    def upsert_institution(self, institution: Institution) -> Institution: ...
    def set_active(self, institution_id: str, active: bool) -> Institution | None: ...
    def list_institutions(self, after: str, limit: int) -> list[Institution]: ...
    def put_provider(self, provider: ServiceProvider) -> None: ...
    def list_providers(
        self, after: tuple[str, str] | None, limit: int
    ) -> list[ServiceProvider]: ...
    def add_authorisation(self, authorisation: Authorisation) -> None: ...
    def revoke(self, authorisation_id: str) -> Authorisation | None: ...
    def list_authorisations(
        self, requester: str, after: str, limit: int
    ) -> list[Authorisation]: ...
    def institution(self, institution_id: str) -> Institution | None: ...


class DescriptorSource(Protocol):
    def fetch(
        self, endpoint: str, service: str, provider: str, via_router: str = ""
    ) -> list[bytes]:
        """The service's serialized FileDescriptorProtos, from the provider's reflection (the
        endpoint must present the provider institution's certificate)."""
        ...


class CatalogBuilder(Protocol):
    def __call__(self, files: Sequence[bytes]) -> object: ...


@dataclass(frozen=True)
class AdminAct:
    """What the message log records of an administrative act."""

    admin: str
    method: str
    target: str
    detail: str = ""


def admin_act_entry(act: AdminAct, at: dt.datetime) -> LogEntry:
    """The message-log row of an administrative act (the target resource in `destination`)."""
    return LogEntry(
        ticket=str(uuid.uuid4()),
        occurred_at=at,
        requester=act.admin,
        service="cbss.router.v1.RouterAdminService",
        method=act.method,
        legal_context="cbss.router.administration",
        subject="",
        capacity="",
        destination=act.target[:200],
        outcome="ADMIN_ACT",
        reason="",
        latency_us=0,
        trace_id="",
        request_digest="",
        response_digest="",
    )


class AdminService:
    """Rules of the administrative acts."""

    def __init__(
        self,
        store: AdminStore,
        descriptors: DescriptorSource,
        build_catalog: Callable[[Sequence[bytes]], object],
        record: Callable[[AdminAct], None],
        today: Callable[[], dt.date],
    ) -> None:
        self._store, self._descriptors = store, descriptors
        self._build_catalog, self._record, self._today = build_catalog, record, today

    @staticmethod
    def require_admin(caller: Caller) -> None:
        if caller.kind is not PartyKind.ADMIN:
            raise PermissionDenied("ADMIN_ONLY", "only an administrator may do this")

    def rebuild_person_index(self, caller: Caller, rebuild: Callable[[], T]) -> T:
        """An administrator has the person-status index rebuilt; the act is logged."""
        self.require_admin(caller)
        result = rebuild()
        self._record(AdminAct(caller.uri, "RebuildPersonIndex", "person-index"))
        return result

    def list_institutions(self, caller: Caller, after: str, limit: int) -> list[Institution]:
        self.require_admin(caller)
        return self._store.list_institutions(after, limit)

    def list_providers(
        self, caller: Caller, after: tuple[str, str] | None, limit: int
    ) -> list[ServiceProvider]:
        self.require_admin(caller)
        return self._store.list_providers(after, limit)

    def list_authorisations(
        self, caller: Caller, requester: str, after: str, limit: int
    ) -> list[Authorisation]:
        self.require_admin(caller)
        return self._store.list_authorisations(requester, after, limit)

    def register_institution(self, caller: Caller, institution: Institution) -> Institution:
        self.require_admin(caller)
        problems = []
        if not ID.match(institution.id):
            problems.append(FieldViolation("institution.id", "lower-case letters, digits, dashes"))
        if not 1 <= len(institution.display_name.strip()) <= 200:
            problems.append(FieldViolation("institution.display_name", "1 to 200 characters"))
        if institution.network is Network.SECONDARY and not ID.match(institution.hub):
            problems.append(FieldViolation("institution.hub", "a secondary member names its hub"))
        if institution.network is Network.PRIMARY and institution.hub:
            problems.append(FieldViolation("institution.hub", "only secondary members have a hub"))
        known_sectors = {c.sector for c in CAPACITY_CODES}
        for s in institution.sectors:
            if s not in known_sectors:
                problems.append(FieldViolation("institution.sectors", f"unknown sector {s}"))
        if problems:
            raise InvalidArgument.for_fields(problems, "INVALID_INSTITUTION")
        stored = self._store.upsert_institution(institution)
        self._record(AdminAct(caller.uri, "RegisterInstitution", f"institutions/{stored.id}"))
        return stored

    def set_active(self, caller: Caller, name: str, active: bool, reason: str) -> Institution:
        self.require_admin(caller)
        institution_id = _name_id(name, "institutions/")
        if not active and not 1 <= len(reason.strip()) <= 200:
            raise InvalidArgument.for_fields([FieldViolation("reason", "1 to 200 characters")])
        stored = self._store.set_active(institution_id, active)
        if stored is None:
            raise NotFound("INSTITUTION_NOT_FOUND", "no such institution", metadata={"name": name})
        method = "ReactivateInstitution" if active else "SuspendInstitution"
        self._record(AdminAct(caller.uri, method, name, reason))
        return stored

    def register_service(
        self, caller: Caller, provider: ServiceProvider, uploaded: Sequence[bytes]
    ) -> tuple[ServiceProvider, object]:
        """Learn the service's descriptors (reflection or upload) and store the provider."""
        self.require_admin(caller)
        problems = []
        if not SERVICE_NAME.match(provider.service):
            problems.append(FieldViolation("registration.service", "a full service name"))
        if not ID.match(provider.provider):
            problems.append(FieldViolation("registration.provider", "an institution id"))
        if not ENDPOINT.match(provider.endpoint):
            problems.append(FieldViolation("registration.endpoint", "host:port"))
        if provider.via_router and not ID.match(provider.via_router):
            problems.append(FieldViolation("registration.via_router", "a router name"))
        if problems:
            raise InvalidArgument.for_fields(problems, "INVALID_SERVICE_REGISTRATION")
        if self._store.institution(provider.provider) is None:
            raise FailedPrecondition(
                "PROVIDER_NOT_REGISTERED", "register the providing institution first"
            )
        files = list(uploaded) or self._descriptors.fetch(
            provider.endpoint, provider.service, provider.provider, provider.via_router
        )
        try:
            catalog = self._build_catalog(files)
        except CatalogError as exc:
            raise InvalidArgument.for_fields(
                [FieldViolation("file_descriptor_set", str(exc)[:200], "INVALID_DESCRIPTORS")],
                "INVALID_DESCRIPTORS",
            ) from None
        if provider.service not in catalog.services():  # type: ignore[attr-defined]
            raise FailedPrecondition(
                "SERVICE_NOT_IN_DESCRIPTORS", "the descriptors do not define this service"
            )
        unknown = [str(c) for c in provider.holder_capacities if c not in CAPACITY_CODES]
        if unknown:
            raise InvalidArgument.for_fields(
                [FieldViolation("registration.holder_capacities", f"unknown {', '.join(unknown)}")],
                "INVALID_SERVICE_REGISTRATION",
            )
        stored = ServiceProvider(
            provider.service,
            provider.provider,
            provider.endpoint,
            provider.deceased_policy,
            tuple(files),
            provider.holder_capacities,
            provider.via_router,
        )
        self._store.put_provider(stored)
        self._record(
            AdminAct(
                caller.uri,
                "RegisterService",
                f"services/{stored.service}/providers/{stored.provider}",
            )
        )
        return stored, catalog

    def grant(self, caller: Caller, a: Authorisation) -> Authorisation:
        self.require_admin(caller)
        problems = []
        if not 1 <= len(a.deliberation) <= 100:
            problems.append(FieldViolation("authorisation.deliberation", "1 to 100 characters"))
        if not SERVICE_NAME.match(a.service):
            problems.append(FieldViolation("authorisation.service", "a full service name"))
        if a.method and not METHOD.match(a.method):
            problems.append(FieldViolation("authorisation.method", "a method name, or empty"))
        if a.destination and not ID.match(a.destination):
            problems.append(FieldViolation("authorisation.destination", "an institution id"))
        if not a.legal_contexts or any(not 1 <= len(c) <= 64 for c in a.legal_contexts):
            problems.append(
                FieldViolation("authorisation.legal_contexts", "one or more, 1 to 64 characters")
            )
        if a.directory_check is DirectoryCheck.REQUIRED:
            if not a.capacities:
                problems.append(
                    FieldViolation("authorisation.capacities", "REQUIRED names capacities")
                )
            for c in a.capacities:
                if c not in CAPACITY_CODES:
                    problems.append(
                        FieldViolation("authorisation.capacities", f"unknown capacity {c}")
                    )
        elif a.capacities:
            problems.append(FieldViolation("authorisation.capacities", "NONE takes no capacities"))
        if a.valid_to is not None and a.valid_to < a.valid_from:
            problems.append(FieldViolation("authorisation.valid_to", "before valid_from"))
        if problems:
            raise InvalidArgument.for_fields(problems, "INVALID_AUTHORISATION")
        if self._store.institution(a.requester) is None:
            raise FailedPrecondition(
                "REQUESTER_NOT_REGISTERED", "register the requesting institution first"
            )
        stored = Authorisation(**{**a.__dict__, "id": uuid.uuid4().hex, "revoked": False})
        self._store.add_authorisation(stored)
        self._record(
            AdminAct(
                caller.uri, "GrantAuthorisation", f"authorisations/{stored.id}", a.deliberation
            )
        )
        return stored

    def revoke(self, caller: Caller, name: str, reason: str) -> Authorisation:
        self.require_admin(caller)
        if not 1 <= len(reason.strip()) <= 200:
            raise InvalidArgument.for_fields([FieldViolation("reason", "1 to 200 characters")])
        stored = self._store.revoke(_name_id(name, "authorisations/"))
        if stored is None:
            raise NotFound(
                "AUTHORISATION_NOT_FOUND", "no such authorisation", metadata={"name": name}
            )
        self._record(AdminAct(caller.uri, "RevokeAuthorisation", name, reason))
        return stored


def _name_id(name: str, prefix: str) -> str:
    if not name.startswith(prefix) or not name[len(prefix) :]:
        raise InvalidArgument.for_fields(
            [FieldViolation("name", f"expected {prefix}{{id}}")], "INVALID_NAME"
        )
    return name[len(prefix) :]
