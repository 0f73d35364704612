"""A small in-process cache of reference data (institutions, terms, subjects, teachers).

Every use case reads its institution, and most read subject and teacher names; these rows
change a few times a term. Caching them saves several round trips per request. Writes
through this process invalidate at once; writes by other processes show after ``ttl``
seconds at most. Only data read by transactions that wrote nothing is cached, so a
rolled-back write never lingers. Keys carry the institution, and reads happen only inside
that institution's scope, so the cache cannot leak across tenants.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class ReferenceCache:
    """Values by key, each kept for ``ttl`` seconds."""

    def __init__(self, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any | None:
        """The live value of ``key``, or ``None``."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` for ``ttl`` seconds."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl, value)

    def invalidate(self, key: Hashable) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
