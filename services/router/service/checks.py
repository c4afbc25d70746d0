"""The router's checks, in order: no personal data is looked at before the caller is authorised.

An institution (`RouteChecker.authorise` = 1–3, `check` = 4–7):
(1) caller known and active, by its certificate; (2) authorised for this service/method and
destination; (3) legal context authorised; (4) INSZ well-formed; (5) person exists / replaced
(refused, the new INSZ in the details) / deceased (per service: refused, or passed with a flag);
(6) subject integrated by the caller as the authorisation requires, on the reference date (the
request's `reference_date` field, else today in Europe/Brussels); (7) read mask within the cap.

A caller refused at (1)–(3) learns nothing about the person: the registry is not even asked.
Requests about several persons (a repeated subject field, at most 1,000) are checked per person;
if any fails, the whole request is refused with SUBJECTS_REFUSED and a PreconditionFailure listing
each failing field and its reason. Pure logic: the ports give it the configuration, the
directory and the register.

A person signed in at the portal (`Caller(PERSON, insz, via_gateway=True)`: the edge's verified
token) follows **the self-service rule** instead, all of it in the section "the self-service
rule" below:
(S1) a person, reached through the gateway — never relayed by a router (a hub never relays a
person); (S2) the service/method known, and declaring `(cbss.common.v1.self_service) = true`,
else NOT_AUTHORISED (what an institution without an authorisation hears: a person learns nothing
else); no institution authorisation, and the legal context is always `SELF_SERVICE` (a
`cbss-legal-context` the client sent is ignored); (S3) the request names at least one person
(else OWN_SUBJECT_REQUIRED) and every subject is the caller's own INSZ (else NOT_OWN_DATA, the
whole request refused) — both before the register is asked; then (4)–(5) as for institutions;
no directory check (6), no read-mask cap (7). Capacity `self`; the holder is chosen as for an
institution, but never behind a hub. After forwarding, `foreign_revealed` tells the forwarder
whether the holder's answer names anyone but the person (an earlier number of the person, which
the register says was replaced by theirs, is theirs): such an answer is withheld
(RESPONSE_NOT_OWN_DATA), never passed on in part.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from router.service.descriptors import InvalidReferenceDate, MessageDecodeError
from router.service.model import (
    Authorisation,
    Capacity,
    ConfigSnapshot,
    DeceasedPolicy,
    DirectoryCheck,
    Institution,
    Network,
    ServiceProvider,
)
from router.service.ports import ConfigSource, DirectoryReader, HolderDirectory, PersonRegistry
from router.service.refusals import refusal
from runtime import identifiers
from runtime.clock import Clock
from runtime.errors import PreconditionViolation, ServiceError
from runtime.identity import Caller, PartyKind

MAX_SUBJECTS = 1000
#: The legal context of every self-service consultation (the person's own right of access).
SELF_SERVICE_LEGAL_CONTEXT = "SELF_SERVICE"
#: The capacity logged and sent to the holder for a person's own consultation.
SELF_CAPACITY = "self"
_PRINTABLE = set(string.printable) - set("\r\n\t\x0b\x0c")


class MethodCatalog(Protocol):
    """What the checks need of a method learned from descriptors (router.service.descriptors)."""

    path: str
    server_streaming: bool
    idempotent: bool
    self_service: bool

    def parse_request(self, data: bytes) -> Any: ...
    def subjects(self, request: Any) -> list[Any]: ...
    def reference_date(self, request: Any) -> dt.date | None: ...
    def read_mask(self, request: Any) -> tuple[str, ...] | None: ...


class CatalogLookup(Protocol):
    def method(self, provider: ServiceProvider, path: str) -> MethodCatalog | None: ...


@dataclass(frozen=True)
class RouteRequest:
    """What the transport knows of a call before looking at its body."""

    caller: Caller
    path: str  # "/cbss.registry.v1.RegistryService/GetPerson"
    legal_context: str | None
    customer_ticket: str | None
    destination: str | None
    ticket: str
    #: The hub router that relayed a member institution's own call up to this router (empty
    #: for a direct caller): the member's persons are held in this router's directory under
    #: that hub's id (members integrate at their hub, the hub here), so the directory check
    #: asks the hub's holdings.
    via_hub: str = ""


@dataclass
class Authorised:
    """The outcome of checks (1)–(3): who, what, where, under which authorisations."""

    request: RouteRequest
    institution: Institution | None  # None for a person (self-service)
    providers: list[ServiceProvider]  # the destination named, or every provider of the service
    method: MethodCatalog
    authorisations: list[Authorisation]  # covering some provider, with the legal context
    #: The self-service rule applies: the caller is a person consulting their own data (no
    #: authorisations; the request's legal context is SELF_SERVICE).
    self_service: bool = False


@dataclass(frozen=True)
class CheckedSubject:
    insz: str
    field: str
    capacity: str  # "11/1", or "none" when the directory check is NONE


@dataclass
class Decision:
    """A request cleared for forwarding."""

    authorised: Authorised
    subjects: list[CheckedSubject]
    reference_date: dt.date
    #: The holder(s) the request goes to: one, or several for a fan-out method.
    providers: list[ServiceProvider]
    deceased: list[str] = field(default_factory=list)  # INSZs passed with the deceased flag

    @property
    def provider(self) -> ServiceProvider:
        return self.providers[0]

    @property
    def capacity(self) -> str:
        """The capacity header sent to the holder: the capacities used, comma-separated."""
        return ",".join(sorted({s.capacity for s in self.subjects}))


@dataclass
class Refused(Exception):
    """A refusal, with the subjects the request named (for the message log)."""

    error: ServiceError
    subjects: list[tuple[str, str]] = field(default_factory=list)  # (insz or "", reason)


def _printable(text: str, limit: int) -> bool:
    return 0 < len(text) <= limit and all(c in _PRINTABLE for c in text)


class RouteChecker:
    """Applies the seven checks to one call."""

    def __init__(
        self,
        config: ConfigSource,
        catalogs: CatalogLookup,
        directory: DirectoryReader,
        persons: PersonRegistry,
        clock: Clock,
        holders: HolderDirectory | None = None,
    ) -> None:
        self._config, self._catalogs = config, catalogs
        self._directory, self._persons, self._clock = directory, persons, clock
        self._holders: HolderDirectory = holders or directory  # type: ignore[assignment]

    # -- (1)–(3): the caller, its authorisation, its legal context ---------------------------
    def authorise(self, req: RouteRequest) -> Authorised:
        snap = self._config.snapshot()
        caller = req.caller
        if caller.kind is PartyKind.PERSON:
            return self._authorise_person(snap, req)
        institution = (
            snap.institutions.get(caller.id) if caller.kind is PartyKind.INSTITUTION else None
        )
        if institution is None:
            raise refusal("UNKNOWN_INSTITUTION")
        if req.via_hub and (
            institution.hub != req.via_hub or institution.network is not Network.SECONDARY
        ):
            # A hub relays only its own members: it cannot speak for anyone else.
            raise refusal("UNKNOWN_INSTITUTION")
        if not institution.active:
            raise refusal("INSTITUTION_SUSPENDED")

        service, method_name, providers, method = self._target(snap, req)
        today = self._clock.today()
        covering = [
            a
            for a in snap.authorisations.get(institution.id, [])
            if any(a.covers(service, method_name, p.provider, today) for p in providers)
        ]
        if not covering:
            raise refusal("NOT_AUTHORISED", {"service": service, "method": method_name})

        if req.legal_context is None or req.legal_context == "":
            raise refusal("LEGAL_CONTEXT_MISSING")
        if not _printable(req.legal_context, 64):
            raise refusal("LEGAL_CONTEXT_INVALID")
        if req.customer_ticket is not None and not _printable(req.customer_ticket, 36):
            raise refusal("CUSTOMER_TICKET_INVALID")
        with_context = [a for a in covering if req.legal_context in a.legal_contexts]
        if not with_context:
            raise refusal("LEGAL_CONTEXT_NOT_AUTHORISED")
        return Authorised(req, institution, providers, method, with_context)

    def _target(
        self, snap: ConfigSnapshot, req: RouteRequest
    ) -> tuple[str, str, list[ServiceProvider], MethodCatalog]:
        """(2), first half: the service, method and providers a call names (no person yet)."""
        service, _, method_name = req.path[1:].partition("/")
        providers = snap.providers.get(service, [])
        if req.destination:
            providers = [p for p in providers if p.provider == req.destination]
            if not providers:
                raise refusal("UNKNOWN_DESTINATION", {"destination": req.destination})
        if not providers:
            raise refusal("UNKNOWN_SERVICE", {"service": service})
        # Several providers and no destination: the holder is chosen by the directory once the
        # persons are checked (every provider registered the same contract, so any one's
        # descriptors read the request).
        method = self._catalogs.method(providers[0], req.path)
        if method is None:
            raise refusal("UNKNOWN_SERVICE", {"service": service, "method": method_name})
        return service, method_name, providers, method

    def is_hub(self, name: str) -> bool:
        """Is `name` (a router's name) the hub of member institutions registered here?"""
        return any(
            i.hub == name and i.network is Network.SECONDARY
            for i in self._config.snapshot().institutions.values()
        )

    def subjects_for_log(self, path: str, raw: bytes) -> list[str]:
        """The well-formed INSZs a refused request names, for the message log only.

        A request refused at checks 1–3 is still logged per person it names (who tried to
        consult whom); the caller is told nothing about them.
        """
        service = path[1:].partition("/")[0]
        for provider in self._config.snapshot().providers.get(service, []):
            method = self._catalogs.method(provider, path)
            if method is None:
                continue
            try:
                subjects = method.subjects(method.parse_request(raw))
            except (MessageDecodeError, ValueError):
                return []
            return list(dict.fromkeys(s.value for s in subjects if _looks_like_insz(s.value)))
        return []

    # -- (4)–(7): the persons and what is asked of them --------------------------------------
    def check(self, auth: Authorised, request: Any) -> Decision:
        if auth.self_service:
            return self._check_person(auth, request)
        method = auth.method
        try:
            subjects = [s for s in method.subjects(request) if s.value != ""]
        except (MessageDecodeError, ValueError):
            raise Refused(refusal("MALFORMED_MESSAGE")) from None
        named = [(s.value if _looks_like_insz(s.value) else "", "") for s in subjects]
        try:
            reference_date = method.reference_date(request) or self._clock.today()
        except (InvalidReferenceDate, ValueError):
            raise Refused(refusal("REFERENCE_DATE_INVALID"), named) from None
        if len(subjects) > MAX_SUBJECTS:
            raise Refused(refusal("TOO_MANY_SUBJECTS"), named)

        failures: dict[int, tuple[str, dict[str, str]]] = {}
        # (4) well-formed
        for i, s in enumerate(subjects):
            try:
                identifiers.parse_insz(s.value)
            except identifiers.IdentifierError as exc:
                failures[i] = ("SUBJECT_MALFORMED", {"detail": exc.reason})
        # (5) exists / replaced / deceased — one call to the register for all of them
        valid = sorted({s.value for i, s in enumerate(subjects) if i not in failures})
        statuses = self._persons.statuses(valid, auth.request.ticket) if valid else {}
        deceased: list[str] = []
        for i, s in enumerate(subjects):
            if i in failures:
                continue
            status = statuses.get(s.value)
            if status is None or not status.exists:
                failures[i] = ("PERSON_NOT_FOUND", {})
            elif status.replaced_by:
                failures[i] = ("PERSON_REPLACED", {"replaced_by": status.replaced_by})
            elif status.deceased:
                if auth.providers[0].deceased_policy is DeceasedPolicy.REFUSE:
                    failures[i] = ("PERSON_DECEASED", {})
                else:
                    deceased.append(s.value)
        # (6) the directory, on the reference date
        checked: dict[int, CheckedSubject] = {}
        used: dict[int, Authorisation] = {}
        open_auth = next(
            (a for a in auth.authorisations if a.directory_check is DirectoryCheck.NONE), None
        )
        pending = [i for i in range(len(subjects)) if i not in failures]
        if open_auth is not None:
            for i in pending:
                checked[i] = CheckedSubject(subjects[i].value, subjects[i].field, "none")
                used[i] = open_auth
        elif pending:
            holdings = self._directory.holdings(
                auth.request.via_hub or auth.institution.id,
                sorted({subjects[i].value for i in pending}),
                reference_date,
            )
            for i in pending:
                held = holdings.get(subjects[i].value, set())
                match = _first_match(auth.authorisations, held)
                if match is None:
                    failures[i] = (
                        "SUBJECT_NOT_INTEGRATED",
                        {"reference_date": str(reference_date)},
                    )
                else:
                    a, capacity = match
                    checked[i] = CheckedSubject(subjects[i].value, subjects[i].field, str(capacity))
                    used[i] = a

        if failures:
            logged = [
                (
                    subjects[i].value if _looks_like_insz(subjects[i].value) else "",
                    failures[i][0] if i in failures else "",
                )
                for i in range(len(subjects))
            ]
            if len(subjects) == 1:
                reason, meta = failures[0]
                raise Refused(refusal(reason, meta), logged)
            violations = [
                PreconditionViolation(
                    type=reason,
                    subject=subjects[i].field,
                    description=_describe(reason, meta),
                )
                for i, (reason, meta) in sorted(failures.items())
            ]
            raise Refused(
                refusal(
                    "SUBJECTS_REFUSED", {"refused": str(len(failures))}, preconditions=violations
                ),
                logged,
            )

        # (7) the read mask within the cap of every authorisation used
        applied = list(used.values()) or auth.authorisations[:1]
        caps = [a.read_mask_cap for a in applied if a.read_mask_cap]
        if caps:
            mask = method.read_mask(request)
            cap = frozenset.intersection(*caps)
            named_ok = [(c.insz, "") for c in checked.values()]
            if mask is None or len(mask) == 0:
                raise Refused(
                    refusal("READ_MASK_REQUIRED", {"cap": ",".join(sorted(cap))}), named_ok
                )
            beyond = sorted(p for p in mask if p == "*" or p.split(".")[0] not in cap)
            if beyond:
                raise Refused(
                    refusal("READ_MASK_EXCEEDS_CAP", {"beyond": ",".join(beyond)}), named_ok
                )
        cleared = [checked[i] for i in sorted(checked)]
        providers = self._holders_for(auth, cleared, reference_date)
        return Decision(auth, cleared, reference_date, providers, deceased)

    def _holders_for(
        self, auth: Authorised, subjects: list[CheckedSubject], on: dt.date
    ) -> list[ServiceProvider]:
        """The provider(s) the request goes to: the only one, the one the directory names, or —
        for a fan-out method — every one the directory names."""
        providers = auth.providers
        fan_out = bool(getattr(auth.method, "fan_out", False))
        # Chosen by the directory when the caller named no destination and the providers say
        # which capacities make them the holder (even a single one: the person must be there).
        by_directory = not auth.request.destination and (
            len(providers) > 1 or (bool(providers[0].holder_capacities) and bool(subjects))
        )
        if by_directory:
            if not subjects:
                raise Refused(refusal("DESTINATION_REQUIRED"))
            named = [(s.insz, "") for s in subjects]
            holders = self._holders.holders(sorted({s.insz for s in subjects}), on)
            chosen: set[str] | None = None
            for s in subjects:
                held = {
                    p.provider
                    for p in providers
                    if any(
                        institution == p.provider and capacity in p.holder_capacities
                        for institution, capacity in holders.get(s.insz, set())
                    )
                }
                if not held:
                    raise Refused(refusal("NO_HOLDER", {"reference_date": str(on)}), named)
                if not fan_out and (len(held) > 1 or (chosen is not None and held != chosen)):
                    raise Refused(refusal("AMBIGUOUS_HOLDER"), named)
                chosen = held if chosen is None else chosen | held
            providers = [p for p in providers if p.provider in (chosen or set())]
        if auth.self_service:
            return providers  # no authorisation to cover them: the self-service rule applies
        today = self._clock.today()
        service, _, method = auth.request.path[1:].partition("/")
        allowed = [
            p
            for p in providers
            if any(a.covers(service, method, p.provider, today) for a in auth.authorisations)
        ]
        if len(allowed) < len(providers) and not (fan_out and allowed):
            raise Refused(refusal("NOT_AUTHORISED"), [(s.insz, "") for s in subjects])
        return allowed

    # -- the self-service rule: a person consulting their own data -------------------------
    def _authorise_person(self, snap: ConfigSnapshot, req: RouteRequest) -> Authorised:
        """(S1)–(S2): a person through the gateway, a method open to self-service."""
        if not req.caller.via_gateway or req.via_hub:
            # A person has no certificate: only the edge's verified token names one. A router
            # naming a person in its routing headers is refused (hubs never relay persons).
            raise refusal("UNKNOWN_INSTITUTION")
        service, method_name, providers, method = self._target(snap, req)
        # A hub checks the calls it forwards against its own authorisations: a person has none
        # there, so a provider behind a hub is never the holder of a self-service call.
        providers = [p for p in providers if not p.via_router]
        if not providers or not method.self_service:
            raise refusal("NOT_AUTHORISED", {"service": service, "method": method_name})
        if req.customer_ticket is not None and not _printable(req.customer_ticket, 36):
            raise refusal("CUSTOMER_TICKET_INVALID")
        fixed = replace(req, legal_context=SELF_SERVICE_LEGAL_CONTEXT)
        return Authorised(fixed, None, providers, method, [], self_service=True)

    def _check_person(self, auth: Authorised, request: Any) -> Decision:
        """(S3), then (4)–(5): every subject is the caller's own INSZ, and the person exists."""
        method, person = auth.method, auth.request.caller.id
        try:
            subjects = [s for s in method.subjects(request) if s.value != ""]
        except (MessageDecodeError, ValueError):
            raise Refused(refusal("MALFORMED_MESSAGE")) from None
        if not subjects:
            raise Refused(refusal("OWN_SUBJECT_REQUIRED"))
        others = [s.field for s in subjects if s.value != person]
        if others:
            # Before the register is asked: the request is refused whole, and the person
            # learns nothing about the other numbers (not even whether they exist). The log
            # still names whom the request was about.
            raise Refused(
                refusal("NOT_OWN_DATA", {"fields": ",".join(others[:20])}),
                [
                    (
                        s.value if _looks_like_insz(s.value) else "",
                        "" if s.value == person else "NOT_OWN_DATA",
                    )
                    for s in subjects
                ],
            )
        logged = [(person, "")]
        if len(subjects) > MAX_SUBJECTS:
            raise Refused(refusal("TOO_MANY_SUBJECTS"), logged)
        try:
            reference_date = method.reference_date(request) or self._clock.today()
        except (InvalidReferenceDate, ValueError):
            raise Refused(refusal("REFERENCE_DATE_INVALID"), logged) from None
        # (4) holds already: the caller's INSZ came out of the identity's parser. (5):
        status = self._persons.statuses([person], auth.request.ticket).get(person)
        deceased: list[str] = []
        if status is None or not status.exists:
            raise Refused(refusal("PERSON_NOT_FOUND"), logged)
        if status.replaced_by:
            raise Refused(refusal("PERSON_REPLACED", {"replaced_by": status.replaced_by}), logged)
        if status.deceased:
            if auth.providers[0].deceased_policy is DeceasedPolicy.REFUSE:
                raise Refused(refusal("PERSON_DECEASED"), logged)
            deceased.append(person)
        # No (6), no (7): the person is entitled to their own data, whatever the mask.
        cleared = [CheckedSubject(person, s.field, SELF_CAPACITY) for s in subjects]
        providers = self._holders_for(auth, cleared, reference_date)
        return Decision(auth, cleared, reference_date, providers, deceased)

    def foreign_revealed(self, auth: Authorised, revealed: list[str], ticket: str) -> list[str]:
        """The INSZs a self-service answer reveals that are not the caller's: empty when the
        answer may go to the person. An earlier number of the person (the register says it was
        replaced by the person's) is theirs; anything else is someone else's."""
        if not auth.self_service:
            return []
        person = auth.request.caller.id
        others = sorted({i for i in revealed if i != person})
        if not others:
            return []
        statuses = self._persons.statuses([i for i in others if _looks_like_insz(i)], ticket)
        return [
            i for i in others if (status := statuses.get(i)) is None or status.replaced_by != person
        ]


def _first_match(
    authorisations: list[Authorisation], held: set[Capacity]
) -> tuple[Authorisation, Capacity] | None:
    for a in authorisations:
        for capacity in sorted(a.capacities & held):
            return a, capacity
    return None


def _looks_like_insz(value: str) -> bool:
    return len(value) == 11 and value.isascii() and value.isdigit()


def _describe(reason: str, meta: dict[str, str]) -> str:
    if reason == "PERSON_REPLACED":
        return f"replaced by {meta['replaced_by']}"
    if reason == "SUBJECT_MALFORMED":
        return meta.get("detail", "malformed")
    return reason.replace("_", " ").lower()
