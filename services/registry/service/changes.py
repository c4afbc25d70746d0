"""Changing the registry: BIS registration, moves, deaths, names, number replacements.

Every change runs in one unit of work that, in this order,
1. takes its lock (the person's row; for a BIS registration the event counter, which serialises
   allocations),
2. looks up the idempotency key (caller, request_id): the same content returns the first answer,
   other content is refused with ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`,
3. checks the business rules (FAILED_PRECONDITION on a break),
4. writes the change, the numbered mutation event and the idempotency record.
Any exception rolls the whole unit back: a refused change leaves no row, no event and no key,
and the event sequence has no gap (the counter row is updated in the same transaction).
Permission (who may change what, see `permissions`) and input are checked before the unit starts.
After the commit, a death or a replacement answers only once every router holding a lease on the
event log has applied it, or its lease has run out (`leases`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from registry.service import bis, permissions
from registry.service.leases import STATUS_KINDS, Leases
from registry.service.model import (
    Address,
    AddressPeriod,
    CivilState,
    DeathValues,
    InszValues,
    MutationEvent,
    MutationKind,
    MutationValues,
    NameValues,
    Outcome,
    PartialDate,
    PersonRecord,
    Sex,
)
from registry.service.names import normalise_first_names, normalise_name
from registry.service.ports import ConflictError, IdempotencyRecord, RegistryUnit, UnitFactory
from registry.service.queries import person_not_found
from registry.service.validation import Problems
from runtime import faults
from runtime.clock import Clock
from runtime.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    idempotency_key_reused,
)
from runtime.identity import Caller

logger = logging.getLogger(__name__)

#: A unit of work that lost a race on a unique key is run again (it then sees the winner).
MAX_ATTEMPTS = 5

T = TypeVar("T")


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BisRegistration:
    """A RegisterBisNumber request as the caller sent it (validated by `register_bis`)."""

    request_id: str
    last_name: str
    first_names: tuple[str, ...]
    sex: Sex | None
    birth_date: PartialDate | None
    birth_place: str = ""
    nationality: str = ""
    address: Address | None = None
    force_new: bool = False


@dataclass(frozen=True)
class BisResult:
    """The number issued, or the likely existing person's number."""

    insz: str
    outcome: Outcome


@dataclass(frozen=True)
class AddressChange:
    """A ChangeAddress request as the caller sent it."""

    insz: str
    request_id: str
    address: Address | None
    effective_date: PartialDate | None


@dataclass(frozen=True)
class DeathRecord:
    """A RecordDeath request as the caller sent it."""

    insz: str
    request_id: str
    date_of_death: PartialDate | None
    place: str = ""


@dataclass(frozen=True)
class NameChange:
    """A ChangeName request as the caller sent it."""

    insz: str
    request_id: str
    last_name: str
    first_names: tuple[str, ...]
    effective_date: PartialDate | None


@dataclass(frozen=True)
class InszReplacement:
    """A ReplaceInsz request as the caller sent it."""

    old_insz: str
    new_insz: str
    request_id: str
    effective_date: PartialDate | None


@dataclass(frozen=True)
class EventDraft:
    """A mutation event before it has its sequence number and timestamp."""

    insz: str
    kind: MutationKind
    effective_date: dt.date
    before: MutationValues
    after: MutationValues


# -- helpers -----------------------------------------------------------------------------------


def fingerprint(operation: str, *parts: object) -> str:
    """A stable digest of a request's content, to tell a retry from a reused key."""

    def encode(value: object) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.asdict(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, enum.Enum):
            return value.value
        raise TypeError(type(value).__name__)

    payload = json.dumps([operation, *parts], default=encode, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _precondition(reason: str, message: str) -> FailedPrecondition:
    return FailedPrecondition(reason, message)


def _require_active(person: PersonRecord) -> None:
    if person.replaced_by is not None:
        raise _precondition(
            "PERSON_REPLACED", "this number was replaced; change the person under its new number"
        )
    if person.deceased:
        raise _precondition("PERSON_DECEASED", "the person is deceased")


def _require_after_birth(person: PersonRecord, day: dt.date) -> None:
    if day < person.birth_date.earliest():
        raise _precondition("DATE_BEFORE_BIRTH", "the date is before the person's birth")


def _out_of_order(message: str) -> FailedPrecondition:
    return _precondition("EFFECTIVE_DATE_OUT_OF_ORDER", message)


class RegistryChanges:
    """The write side of the registry."""

    def __init__(self, unit: UnitFactory, clock: Clock, leases: Leases | None = None) -> None:
        """`leases`: the routers' leases on the event log (registry.service.leases); a change
        answers only once they allow it."""
        self._unit, self._clock, self._leases = unit, clock, leases

    # -- BIS registration ------------------------------------------------------------------

    def register_bis(self, caller: Caller, command: BisRegistration) -> BisResult:
        """Issue a BIS number, or return a likely existing person's number (see `force_new`)."""
        permissions.require_bis_registrar(caller)
        today = self._clock.today()
        problems = Problems()
        problems.request_id(command.request_id)
        last = problems.last_name(command.last_name)
        firsts = problems.first_names(command.first_names)
        if command.sex is None:
            problems.add("sex", "SEX_MALE, SEX_FEMALE or SEX_UNKNOWN", "INVALID_SEX")
        birth = problems.birth_date(command.birth_date, "birth_date", today=today)
        place = problems.place(command.birth_place, "birth_place")
        nationality = problems.country(command.nationality, "nationality", required=False)
        address = (
            problems.address(command.address, "address") if command.address is not None else None
        )
        problems.raise_if_any()
        assert command.sex is not None and birth is not None
        sex = command.sex
        operation = "RegisterBisNumber"
        digest = fingerprint(
            operation, last, firsts, sex, birth, place, nationality, address, command.force_new
        )

        recorded: list[int] = []  # the event's sequence, once committed

        def work(unit: RegistryUnit) -> tuple[BisResult, bool]:
            unit.events.lock()
            stored = self._stored(unit, caller, command.request_id, digest)
            if stored is not None:
                return BisResult(stored["insz"], Outcome(stored["outcome"])), False
            if not command.force_new and birth.is_full:
                existing = unit.persons.find_likely(
                    normalise_name(last), normalise_first_names(firsts), birth
                )
                if existing is not None:
                    result = BisResult(existing, Outcome.EXISTING_PERSON)
                    self._remember(unit, caller, command.request_id, operation, digest, result)
                    return result, False
            used = bis.used_serials(
                unit.persons.numbers_with_prefix(bis.number_prefix(birth, sex)), birth.year
            )
            serial = bis.next_free_serial(used, sex)
            if serial is None:
                raise _precondition(
                    "BIS_SERIALS_EXHAUSTED",
                    "no BIS serial is left for this birth date and sex",
                )
            insz = bis.bis_number(birth, sex, serial)
            person = PersonRecord(
                insz=insz,
                kind=bis.bis_kind(sex),
                last_name=last,
                first_names=firsts,
                sex=sex,
                birth_date=birth,
                birth_place=place,
                nationality=nationality,
                civil_state=CivilState.UNKNOWN,
            )
            unit.persons.add(person, [AddressPeriod(address, today)] if address else [])
            event = self._record(
                unit,
                caller,
                EventDraft(insz, MutationKind.BIS_REGISTERED, today, None, InszValues(insz)),
            )
            recorded.append(event.sequence)
            result = BisResult(insz, Outcome.CREATED)
            self._remember(unit, caller, command.request_id, operation, digest, result)
            return result, True

        result, created = self._retrying(work)
        if created:
            logger.info("BIS number issued")
            if self._leases is not None:
                # Wakes the routers' streams; a new number is not a status a lease covers.
                self._leases.recorded(recorded[-1], MutationKind.BIS_REGISTERED)
        return result

    # -- changes to a person ---------------------------------------------------------------

    def change_address(self, caller: Caller, command: AddressChange) -> MutationEvent:
        """The current address ends the day before the effective date; the new one starts."""
        permissions.require_changer(caller)
        problems = Problems()
        insz = problems.insz("insz", command.insz)
        problems.request_id(command.request_id)
        address = problems.address(command.address, "address")
        effective = self._effective(problems, command.effective_date, "effective_date")
        problems.raise_if_any()
        assert insz is not None and address is not None and effective is not None
        permissions.require_may_change(caller, insz.kind)

        def apply(unit: RegistryUnit, person: PersonRecord) -> EventDraft:
            _require_active(person)
            _require_after_birth(person, effective)
            current = unit.persons.current_address(person.insz)
            if current is not None:
                if effective <= current.start:
                    raise _out_of_order("the move must be after the current address's first day")
                if current.address == address:
                    raise _precondition("ADDRESS_UNCHANGED", "this is the current address")
                unit.persons.end_current_address(person.insz, effective - dt.timedelta(days=1))
            unit.persons.add_address(person.insz, AddressPeriod(address, effective))
            before = current.address if current else None
            return EventDraft(person.insz, MutationKind.ADDRESS_CHANGED, effective, before, address)

        digest = fingerprint("ChangeAddress", insz.value, address, effective)
        return self._change(caller, command.request_id, "ChangeAddress", digest, insz.value, apply)

    def record_death(self, caller: Caller, command: DeathRecord) -> MutationEvent:
        """Record the person's death (once)."""
        permissions.require_changer(caller)
        problems = Problems()
        insz = problems.insz("insz", command.insz)
        problems.request_id(command.request_id)
        day = self._effective(problems, command.date_of_death, "date_of_death")
        place = problems.place(command.place, "place")
        problems.raise_if_any()
        assert insz is not None and day is not None
        permissions.require_may_change(caller, insz.kind)

        def apply(unit: RegistryUnit, person: PersonRecord) -> EventDraft:
            _require_active(person)
            _require_after_birth(person, day)
            current = unit.persons.current_address(person.insz)
            if current is not None and day < current.start:
                raise _out_of_order("the death precedes the current address's first day")
            if person.name_since is not None and day < person.name_since:
                raise _out_of_order("the death precedes the current name's first day")
            unit.persons.set_death(person.insz, day, place)
            return EventDraft(
                person.insz, MutationKind.DEATH_RECORDED, day, None, DeathValues(day, place)
            )

        digest = fingerprint("RecordDeath", insz.value, day, place)
        return self._change(caller, command.request_id, "RecordDeath", digest, insz.value, apply)

    def change_name(self, caller: Caller, command: NameChange) -> MutationEvent:
        """Replace the last name and first names from the effective date on."""
        permissions.require_changer(caller)
        problems = Problems()
        insz = problems.insz("insz", command.insz)
        problems.request_id(command.request_id)
        last = problems.last_name(command.last_name)
        firsts = problems.first_names(command.first_names)
        effective = self._effective(problems, command.effective_date, "effective_date")
        problems.raise_if_any()
        assert insz is not None and effective is not None
        permissions.require_may_change(caller, insz.kind)

        def apply(unit: RegistryUnit, person: PersonRecord) -> EventDraft:
            _require_active(person)
            _require_after_birth(person, effective)
            if person.name_since is not None and effective < person.name_since:
                raise _out_of_order("the new name must not start before the current one")
            if (person.last_name, person.first_names) == (last, firsts):
                raise _precondition("NAME_UNCHANGED", "this is the current name")
            unit.persons.set_name(person.insz, last, firsts, effective)
            return EventDraft(
                person.insz,
                MutationKind.NAME_CHANGED,
                effective,
                NameValues(person.last_name, person.first_names),
                NameValues(last, firsts),
            )

        digest = fingerprint("ChangeName", insz.value, last, firsts, effective)
        return self._change(caller, command.request_id, "ChangeName", digest, insz.value, apply)

    def replace_insz(self, caller: Caller, command: InszReplacement) -> MutationEvent:
        """Move the person to a new, never used number; the old one points to it."""
        permissions.require_changer(caller)
        problems = Problems()
        old = problems.insz("old_insz", command.old_insz)
        new = problems.insz("new_insz", command.new_insz)
        problems.request_id(command.request_id)
        effective = self._effective(problems, command.effective_date, "effective_date")
        if old is not None and new is not None:
            if old.value == new.value:
                problems.add("new_insz", "must differ from old_insz", "SAME_INSZ")
            elif not old.is_bis and new.is_bis:
                problems.add(
                    "new_insz",
                    "a National Register number cannot be replaced by a BIS number",
                    "INVALID_REPLACEMENT_KIND",
                )
        problems.raise_if_any()
        assert old is not None and new is not None and effective is not None
        # The register that takes the person over decides (BIS -> NR: the National Register).
        permissions.require_may_change(caller, new.kind)

        def apply(unit: RegistryUnit, person: PersonRecord) -> EventDraft:
            if person.replaced_by is not None:
                raise _precondition("PERSON_REPLACED", "this number was already replaced")
            _require_after_birth(person, effective)
            if unit.persons.exists(new.value):
                raise AlreadyExists("INSZ_IN_USE", "the new number is already in use")
            unit.persons.replace(person.insz, new.value, new.kind)
            return EventDraft(
                person.insz,
                MutationKind.INSZ_REPLACED,
                effective,
                InszValues(person.insz),
                InszValues(new.value),
            )

        digest = fingerprint("ReplaceInsz", old.value, new.value, effective)
        return self._change(caller, command.request_id, "ReplaceInsz", digest, old.value, apply)

    # -- the common machinery --------------------------------------------------------------

    def _effective(
        self, problems: Problems, value: PartialDate | None, field: str
    ) -> dt.date | None:
        return problems.full_date(
            value, field, today=self._clock.today(), required_reason=f"{field.upper()}_REQUIRED"
        )

    def _change(
        self,
        caller: Caller,
        request_id: str,
        operation: str,
        digest: str,
        insz: str,
        apply: Callable[[RegistryUnit, PersonRecord], EventDraft],
    ) -> MutationEvent:
        def work(unit: RegistryUnit) -> tuple[MutationEvent, bool]:
            person = unit.persons.lock(insz)
            if person is None:
                raise person_not_found()
            stored = self._stored(unit, caller, request_id, digest)
            if stored is not None:
                event = unit.events.get(int(stored["sequence"]))
                if event is None:  # the record and its event are written together
                    raise RuntimeError("idempotency record without its event")
                return event, False
            event = self._record(unit, caller, apply(unit, person))
            self._remember(unit, caller, request_id, operation, digest, event)
            return event, True

        event, created = self._retrying(work)
        if created:
            logger.info("mutation event %d recorded (%s)", event.sequence, event.kind.value)
        if self._leases is not None:
            self._leases.recorded(event.sequence, event.kind)
            if event.kind in STATUS_KINDS:
                # Also for a replayed request: its first answer may have been lost before this.
                self._leases.await_applied(event.sequence)
        faults.check("registry.after_commit")  # recorded, the reply lost
        return event

    def _retrying(self, work: Callable[[RegistryUnit], T]) -> T:
        for _attempt in range(MAX_ATTEMPTS):
            try:
                with self._unit() as unit:
                    return work(unit)
            except ConflictError:
                # Another transaction committed the same key first; the next attempt sees it.
                continue
        raise Aborted("CONCURRENT_UPDATE", "too many concurrent changes; retry the request")

    def _record(self, unit: RegistryUnit, caller: Caller, draft: EventDraft) -> MutationEvent:
        event = MutationEvent(
            sequence=unit.events.next_sequence(),
            insz=draft.insz,
            kind=draft.kind,
            effective_date=draft.effective_date,
            recorded_at=self._clock.now(),
            before=draft.before,
            after=draft.after,
            recorded_by=caller.uri,
        )
        unit.events.add(event)
        return event

    @staticmethod
    def _stored(
        unit: RegistryUnit, caller: Caller, request_id: str, digest: str
    ) -> dict[str, Any] | None:
        record = unit.idempotency.get(caller.uri, request_id)
        if record is None:
            return None
        if record.fingerprint != digest:
            raise idempotency_key_reused()
        return record.result

    def _remember(
        self,
        unit: RegistryUnit,
        caller: Caller,
        request_id: str,
        operation: str,
        digest: str,
        answer: BisResult | MutationEvent,
    ) -> None:
        if isinstance(answer, BisResult):
            result: dict[str, Any] = {"insz": answer.insz, "outcome": answer.outcome.value}
        else:
            result = {"sequence": answer.sequence}
        unit.idempotency.add(
            IdempotencyRecord(caller.uri, request_id, operation, digest, result, self._clock.now())
        )
