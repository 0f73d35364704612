"""The contracts of :class:`~ams_core.ports.Clock` and :class:`~ams_core.ports.RandomSource`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from ams_core.ports import Clock, RandomSource


class ClockContract:
    """What every :class:`~ams_core.ports.Clock` must do.

    Subclass it (with a ``Test`` prefix) and override the ``clock`` fixture::

        class TestSystemClock(ClockContract):
            @pytest.fixture
            def clock(self) -> Clock:
                return SystemClock()
    """

    @pytest.fixture
    def clock(self) -> Clock:
        """Override: return the clock under test."""
        raise NotImplementedError("subclasses of ClockContract must define clock")

    def test_now_is_an_aware_instant_in_utc(self, clock: Clock) -> None:
        now = clock.now()
        assert isinstance(now, datetime)
        assert now.tzinfo is not None
        assert now.utcoffset() == timedelta(0)

    def test_now_never_goes_backwards(self, clock: Clock) -> None:
        readings = [clock.now() for _ in range(1000)]
        assert readings == sorted(readings)


class RandomSourceContract:
    """What every :class:`~ams_core.ports.RandomSource` must do.

    Subclass it (with a ``Test`` prefix) and override the ``random_source`` fixture::

        class TestSystemRandomSource(RandomSourceContract):
            @pytest.fixture
            def random_source(self) -> RandomSource:
                return SystemRandomSource()
    """

    @pytest.fixture
    def random_source(self) -> RandomSource:
        """Override: return the random source under test."""
        raise NotImplementedError("subclasses of RandomSourceContract must define random_source")

    def test_a_secret_has_32_bytes_by_default(self, random_source: RandomSource) -> None:
        secret = random_source.secret()
        assert isinstance(secret, bytes)
        assert len(secret) == 32

    @pytest.mark.parametrize("nbytes", [1, 16, 20, 64, 256])
    def test_a_secret_has_the_requested_length(
        self, random_source: RandomSource, nbytes: int
    ) -> None:
        secret = random_source.secret(nbytes)
        assert isinstance(secret, bytes)
        assert len(secret) == nbytes

    def test_secrets_differ(self, random_source: RandomSource) -> None:
        secrets = {random_source.secret() for _ in range(100)}
        assert len(secrets) == 100

    def test_ids_are_unique_canonical_uuids(self, random_source: RandomSource) -> None:
        ids = [random_source.new_id() for _ in range(1000)]
        assert len(set(ids)) == len(ids)
        for text in ids:
            assert isinstance(text, str)
            assert str(uuid.UUID(text)) == text
