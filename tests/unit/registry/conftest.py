"""Fixtures of the registry's service-layer tests: in-memory fakes, a fixed clock, callers."""

from __future__ import annotations

import pytest
from registry_fakes import NOW, FakeRegistry

from registry.service.changes import RegistryChanges
from registry.service.queries import RegistryQueries
from runtime.clock import FixedClock


@pytest.fixture
def fake() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def queries(fake: FakeRegistry, clock: FixedClock) -> RegistryQueries:
    return RegistryQueries(fake.unit, clock)


@pytest.fixture
def changes(fake: FakeRegistry, clock: FixedClock) -> RegistryChanges:
    return RegistryChanges(fake.unit, clock)
