"""Clocks and random sources."""

from __future__ import annotations

import random
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta

from ams_core.ports import Clock, RandomSource


class SystemClock(Clock):
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock that stands still until told to move (tests, demos, simulations)."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to ``now``."""
        with self._lock:
            self._now = now.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` (or ``timedelta(**kwargs)``) and return the new time."""
        with self._lock:
            self._now += delta if delta is not None else timedelta(**kwargs)
            return self._now


class SystemRandomSource(RandomSource):
    """Secrets from the operating system's CSPRNG; random UUIDs."""

    def secret(self, nbytes: int = 32) -> bytes:
        return secrets.token_bytes(nbytes)

    def new_id(self) -> str:
        return str(uuid.uuid4())


class SeededRandomSource(RandomSource):
    """Reproducible bytes and ids for tests and benchmarks. Never use it in production."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)  # noqa: S311 - deliberately predictable test double
        self._lock = threading.Lock()

    def secret(self, nbytes: int = 32) -> bytes:
        with self._lock:
            return self._random.randbytes(nbytes)

    def new_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
