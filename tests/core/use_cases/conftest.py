"""Fixtures of the use-case tests."""

from __future__ import annotations

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.testing.builders import SmallCollege
from tests.core.use_cases.helpers import App


@pytest.fixture
def app(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    random_source: SeededRandomSource,
    college: SmallCollege,
) -> App:
    """Every use case over the small college, with the test week generated."""
    app = App(uow, clock, random_source, college)
    app.generate()
    return app
