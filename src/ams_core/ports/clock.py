"""Time and randomness: the core never calls ``datetime.now()`` or ``secrets`` itself."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current instant."""

    @abstractmethod
    def now(self) -> datetime:
        """Return the current instant, timezone-aware, in UTC."""


class RandomSource(Protocol):
    """Unpredictable bytes and fresh identifiers."""

    @abstractmethod
    def secret(self, nbytes: int = 32) -> bytes:
        """Return ``nbytes`` bytes from a cryptographically secure generator."""

    @abstractmethod
    def new_id(self) -> str:
        """Return a new globally unique identifier (a UUID in canonical text form)."""
