"""Grants (operators), subscriptions (institutions), lags and positions (operators)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from mutation.service.model import (
    EVENT_TYPES,
    Delivery,
    Grant,
    Lag,
    Position,
    valid_capacity,
    valid_institution,
)
from mutation.service.ports import UnitFactory
from runtime.clock import Clock
from runtime.errors import FieldViolation, InvalidArgument, PermissionDenied
from runtime.identity import Caller, PartyKind


def _not_authorised() -> PermissionDenied:
    return PermissionDenied("NOT_AUTHORISED", "the caller may not use this method")


def require_admin(caller: Caller) -> None:
    if caller.kind is not PartyKind.ADMIN:
        raise _not_authorised()


def require_institution(caller: Caller) -> str:
    if caller.kind is not PartyKind.INSTITUTION:
        raise _not_authorised()
    return caller.id


@dataclass(frozen=True)
class Subscription:
    institution: str
    event_types: list[str]
    granted: list[str]
    delivery: Delivery


class Management:
    def __init__(self, units: UnitFactory, clock: Clock) -> None:
        self._units, self._clock = units, clock

    # -- operators -------------------------------------------------------------------------
    def grant(self, caller: Caller, grant: Grant) -> Grant:
        require_admin(caller)
        problems: list[FieldViolation] = []
        if not valid_institution(grant.institution):
            problems.append(
                FieldViolation("grant.institution", "an institution id", "INVALID_INSTITUTION")
            )
        if grant.event_type not in EVENT_TYPES:
            problems.append(
                FieldViolation("grant.event_type", "not an event type", "UNKNOWN_EVENT_TYPE")
            )
        bad = [c for c in grant.capacities if not valid_capacity(c)]
        if not grant.capacities or bad:
            problems.append(
                FieldViolation("grant.capacities", "one or more 'sector/code'", "INVALID_CAPACITY")
            )
        if not grant.deliberation.strip() or len(grant.deliberation) > 100:
            problems.append(
                FieldViolation("grant.deliberation", "1 to 100 characters", "DELIBERATION_REQUIRED")
            )
        if grant.valid_to is not None and grant.valid_to < grant.valid_from:
            problems.append(
                FieldViolation("grant.valid_to", "before valid_from", "INVALID_VALIDITY")
            )
        if problems:
            raise InvalidArgument.for_fields(problems)
        stored = Grant(
            id=uuid.uuid4().hex,
            institution=grant.institution,
            event_type=grant.event_type,
            capacities=frozenset(grant.capacities),
            deliberation=grant.deliberation.strip(),
            valid_from=grant.valid_from,
            valid_to=grant.valid_to,
        )
        with self._units() as unit:
            unit.add_grant(stored)
        return stored

    def grants(self, caller: Caller, institution: str = "") -> list[Grant]:
        require_admin(caller)
        with self._units(write=False) as unit:
            return unit.grants(institution or None)

    def lags(self, caller: Caller) -> list[Lag]:
        require_admin(caller)
        with self._units(write=False) as unit:
            return unit.lags()

    def positions(self, caller: Caller) -> list[Position]:
        require_admin(caller)
        with self._units(write=False) as unit:
            return unit.positions()

    # -- institutions ----------------------------------------------------------------------
    def subscription(self, caller: Caller) -> Subscription:
        institution = require_institution(caller)
        with self._units(write=False) as unit:
            chosen = unit.subscriptions().get(institution, frozenset())
            granted = self._granted(unit.grants(institution))
            delivery = unit.deliveries().get(institution, Delivery.INBOX)
        return Subscription(institution, sorted(chosen), granted, delivery)

    def subscribe(
        self, caller: Caller, event_types: Sequence[str], delivery: Delivery = Delivery.INBOX
    ) -> Subscription:
        institution = require_institution(caller)
        unknown = [
            FieldViolation(f"event_types[{i}]", "not an event type", "UNKNOWN_EVENT_TYPE")
            for i, t in enumerate(event_types)
            if t not in EVENT_TYPES
        ]
        if unknown:
            raise InvalidArgument.for_fields(unknown)
        wanted = sorted(set(event_types))
        with self._units() as unit:
            granted = self._granted(unit.grants(institution))
            refused = [t for t in wanted if t not in granted]
            if refused:
                raise PermissionDenied(
                    "EVENT_TYPE_NOT_GRANTED",
                    "no valid ISC grant for these event types",
                    metadata={"event_types": ",".join(refused)},
                )
            unit.set_subscription(institution, wanted)
            unit.set_delivery(institution, delivery)
        return Subscription(institution, wanted, granted, delivery)

    def _granted(self, grants: list[Grant]) -> list[str]:
        today = self._clock.today()
        return sorted({g.event_type for g in grants if g.covers(today, today)})
