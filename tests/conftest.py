"""Shared fixtures: a memory store seeded with a small college, and a fixed clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore, SeededRandomSource
from ams_core.testing.builders import SmallCollege, seed_small_college

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Monday 2026-11-16, 09:00 in Asia/Kolkata: the start of alice's CS101 class.
CLASS_START = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def uow(store: MemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(CLASS_START)


@pytest.fixture
def random_source() -> SeededRandomSource:
    return SeededRandomSource(7)


@pytest.fixture
def college(uow: InMemoryUnitOfWork) -> SmallCollege:
    return seed_small_college(uow)
