"""The router's refusals: one reason per check, mirroring the CBSS return codes (brief §5).

Each refusal is a runtime ServiceError whose ErrorInfo carries the reason and, in its metadata,
`cbss_code`, the CBSS return code it mirrors. The check order is the router's own
(ARCHITECTURE.md): caller, authorisation, legal context, INSZ, person, directory, read mask — so a
caller refused at one of the first three never learns anything about the person.

A person signed in at the portal follows the self-service rule instead of checks (1)–(3) and (6)
(router.service.checks): NOT_AUTHORISED for any method not open to self-service, then
OWN_SUBJECT_REQUIRED / NOT_OWN_DATA before the register is asked, and RESPONSE_NOT_OWN_DATA when
the holder's answer names someone else. These have no CBSS return code: the CBSS's network has
no citizens as direct callers.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unavailable,
)

#: reason -> (error class, CBSS return code mirrored, message)
REFUSALS: dict[str, tuple[type[ServiceError], str, str]] = {
    # (1) caller
    "UNKNOWN_INSTITUTION": (
        PermissionDenied,
        "-300010",
        "the calling institution is not registered with the router",
    ),
    "INSTITUTION_SUSPENDED": (PermissionDenied, "-300010", "the calling institution is suspended"),
    # (2) authorisation for the service/method and destination
    "UNKNOWN_SERVICE": (NotFound, "-300010", "no such service or method on the network"),
    "UNKNOWN_DESTINATION": (NotFound, "-300010", "the named destination provides no such service"),
    "NOT_AUTHORISED": (
        PermissionDenied,
        "-300010",
        "no authorisation for this service, method and destination",
    ),
    "DESTINATION_REQUIRED": (
        FailedPrecondition,
        "-300010",
        "several providers offer this service and the request names no person: name one",
    ),
    # choosing the holder by the directory (after the person checks)
    "NO_HOLDER": (NotFound, "MSG00100", "no provider of this service holds the person's file"),
    "AMBIGUOUS_HOLDER": (
        FailedPrecondition,
        "-300010",
        "several providers hold the person's file: name a destination",
    ),
    # (3) legal context
    "LEGAL_CONTEXT_MISSING": (InvalidArgument, "MSG00013", "the cbss-legal-context is required"),
    "LEGAL_CONTEXT_INVALID": (
        InvalidArgument,
        "MSG00013",
        "the legal context is at most 64 printable characters",
    ),
    "LEGAL_CONTEXT_NOT_AUTHORISED": (
        PermissionDenied,
        "MSG00013",
        "the legal context is not authorised for this caller",
    ),
    "CUSTOMER_TICKET_INVALID": (
        InvalidArgument,
        "MSG00013",
        "the cbss-customer-ticket is at most 36 printable characters",
    ),
    # request format
    "MALFORMED_MESSAGE": (
        InvalidArgument,
        "MSG00011",
        "the request is not a valid message of this method's type",
    ),
    "REFERENCE_DATE_INVALID": (InvalidArgument, "MSG00011", "the reference date is not a date"),
    "TOO_MANY_SUBJECTS": (InvalidArgument, "MSG00011", "at most 1,000 persons per request"),
    # (4) INSZ
    "SUBJECT_MALFORMED": (InvalidArgument, "MSG00011", "the INSZ is not well-formed"),
    # (5) person
    "PERSON_NOT_FOUND": (NotFound, "MSG00005", "no person has this INSZ"),
    "PERSON_REPLACED": (FailedPrecondition, "MSG00006", "the INSZ was replaced by another"),
    "PERSON_DECEASED": (FailedPrecondition, "MSG00009", "the person is deceased"),
    # (6) reference directory
    "SUBJECT_NOT_INTEGRATED": (
        PermissionDenied,
        "MSG00012",
        "the caller has not integrated this person with an authorised capacity on that date",
    ),
    # (7) read mask
    "READ_MASK_EXCEEDS_CAP": (
        PermissionDenied,
        "-300030",
        "the read mask asks for information types beyond the cap",
    ),
    "READ_MASK_REQUIRED": (
        InvalidArgument,
        "-300030",
        "this authorisation caps the information types: send a read_mask",
    ),
    # several subjects refused at once
    "SUBJECTS_REFUSED": (
        FailedPrecondition,
        "MSG00012",
        "one or more persons of the request were refused",
    ),
    # the self-service rule (a person consulting their own data)
    "NOT_OWN_DATA": (
        PermissionDenied,
        "",
        "a person may consult only their own data: every INSZ of the request must be yours",
    ),
    "OWN_SUBJECT_REQUIRED": (
        PermissionDenied,
        "",
        "a self-service request names the person it is about: give your own INSZ",
    ),
    "RESPONSE_NOT_OWN_DATA": (
        PermissionDenied,
        "",
        "the answer names another person than you: it was withheld",
    ),
    # forwarding
    "HOLDER_UNAVAILABLE": (Unavailable, "", "the institution holding the data is unreachable"),
    "REGISTRY_UNAVAILABLE": (Unavailable, "", "the National Register is unreachable"),
}


def refusal(
    reason: str, metadata: Mapping[str, str] | None = None, **kwargs: object
) -> ServiceError:
    """The error for a refusal reason, with its CBSS code in the ErrorInfo metadata."""
    cls, cbss_code, message = REFUSALS[reason]
    meta = {"cbss_code": cbss_code} if cbss_code else {}
    meta.update(metadata or {})
    return cls(reason, message, metadata=meta, **kwargs)  # type: ignore[arg-type]
