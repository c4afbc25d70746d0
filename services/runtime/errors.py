"""Domain errors: what a service layer raises when a request cannot be honoured.

Free of grpc so that service code stays transport-agnostic. The transport maps each class to its
gRPC status code in one place (`runtime.interceptors`), with a `google.rpc.ErrorInfo` carrying the
UPPER_SNAKE `reason`, `BadRequest` field violations for input errors and `PreconditionFailure`
violations where several parts of a request fail a precondition each.

Messages are short English sentences for the caller: never a stack trace, SQL or personal data
(no INSZ, no name). Variable parts that a program may need go in `metadata`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

_REASON = re.compile(r"^[A-Z][A-Z0-9_]{0,62}[A-Z0-9]$")


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its path (e.g. `note.text`) and what is wrong with it."""

    field: str
    description: str
    reason: str = ""


@dataclass(frozen=True)
class PreconditionViolation:
    """One failed precondition of a request: its type (a reason), subject (what) and why."""

    type: str
    subject: str
    description: str


class ConflictError(Exception):
    """A concurrent transaction won (a unique key written first, a serialization failure or a
    deadlock): nothing of this unit of work was written, and the operation may be retried.

    Raised by runtime.db's units of work, caught by service layers (which retry or answer as the
    winner did); never sent to a caller as such.
    """


class ServiceError(Exception):
    """Base of every error a service reports to its caller on purpose."""

    #: Name of the gRPC status code (grpc.StatusCode member name) the transport answers with.
    code: ClassVar[str] = "UNKNOWN"

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
        preconditions: Sequence[PreconditionViolation] = (),
    ) -> None:
        if not _REASON.match(reason):
            raise ValueError(f"error reason must be UPPER_SNAKE_CASE, got {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.violations = tuple(violations)
        self.preconditions = tuple(preconditions)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"


class InvalidArgument(ServiceError):
    """The request is malformed, whatever the state of the system."""

    code = "INVALID_ARGUMENT"

    @classmethod
    def for_fields(cls, violations: Sequence[FieldViolation], reason: str = "") -> InvalidArgument:
        """An error for one or more bad fields; the reason defaults to the first field's."""
        if not violations:
            raise ValueError("for_fields needs at least one violation")
        first = violations[0]
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        return cls(reason or first.reason or "INVALID_FIELD", message, violations=violations)


class NotFound(ServiceError):
    """The resource named by the request does not exist."""

    code = "NOT_FOUND"


class AlreadyExists(ServiceError):
    """The resource (or the idempotency key) already exists with other content."""

    code = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    """The request is well-formed but the system is not in a state to honour it."""

    code = "FAILED_PRECONDITION"


class PermissionDenied(ServiceError):
    """The caller is known but not allowed to do this."""

    code = "PERMISSION_DENIED"


class Unauthenticated(ServiceError):
    """The caller could not be identified."""

    code = "UNAUTHENTICATED"


class ResourceExhausted(ServiceError):
    """A quota or rate limit is exhausted."""

    code = "RESOURCE_EXHAUSTED"


class Aborted(ServiceError):
    """A concurrency conflict: the caller may retry the whole operation."""

    code = "ABORTED"


class Unavailable(ServiceError):
    """A dependency is unreachable; the caller may retry later."""

    code = "UNAVAILABLE"


def idempotency_key_reused(key_field: str = "request_id") -> AlreadyExists:
    """The error every service answers when an idempotency key comes back with other content."""
    return AlreadyExists(
        "IDEMPOTENCY_KEY_REUSED",
        f"{key_field} was already used for a different request",
        metadata={"field": key_field},
    )
