"""Who may do what at the warehouse.

- Operators (`admin/*`) build quarters; nobody else (`NOT_AUTHORISED`).
- A public project's tables (the standard tables) are read by any party of the mesh; a research
  project's by operators and the research centres holding a grant valid today.
- Exports: only a research centre (`institution/{id}`) holding a grant for the project valid
  today; the positions (micro-data) only when that grant allows micro-data.
A research centre without a grant hears `NO_PROJECT_GRANT` whether or not the project exists.
"""

from __future__ import annotations

import datetime as dt

from runtime.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from runtime.identity import Caller, PartyKind
from warehouse.service.model import PROJECT_ID, Grant, Project
from warehouse.service.ports import WarehouseStore


def require_operator(caller: Caller) -> None:
    if caller.kind is not PartyKind.ADMIN:
        raise PermissionDenied("NOT_AUTHORISED", "only operators build the warehouse")


def valid_project_id(project_id: str, field: str = "project") -> str:
    if not PROJECT_ID.match(project_id):
        raise InvalidArgument.for_fields(
            [FieldViolation(field, "a project id: lower-case letters, digits, dashes",
                            "INVALID_PROJECT")]
        )  # fmt: skip
    return project_id


def no_grant(project_id: str) -> PermissionDenied:
    return PermissionDenied(
        "NO_PROJECT_GRANT",
        "the caller holds no grant for this research project",
        metadata={"project": project_id},
    )


def unknown_project(project_id: str) -> NotFound:
    return NotFound("UNKNOWN_PROJECT", "no such project", metadata={"project": project_id})


def valid_grant(store: WarehouseStore, caller: Caller, project_id: str, today: dt.date) -> Grant:
    """The caller's grant for the project valid today (an export's condition)."""
    if caller.kind is PartyKind.INSTITUTION:
        for grant in store.grants(project_id, caller.id):
            if grant.valid_on(today):
                return grant
    raise no_grant(project_id)


def readable_project(
    store: WarehouseStore, caller: Caller, project_id: str, today: dt.date
) -> Project:
    """The project, when the caller may read its tables."""
    project = store.project(project_id)
    if project is not None and project.public:
        return project
    if caller.kind is PartyKind.ADMIN:
        if project is None:
            raise unknown_project(project_id)
        return project
    valid_grant(store, caller, project_id, today)
    if project is None:  # a grant for a project that is gone: still nothing to read
        raise unknown_project(project_id)
    return project
