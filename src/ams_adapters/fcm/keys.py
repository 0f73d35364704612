"""Remembering which idempotency keys this process already delivered."""

from __future__ import annotations

import threading
from collections import OrderedDict


class RecentKeys:
    """The last ``capacity`` delivered keys, and the keys being delivered right now.

    Thread-safe. A second sender of a key that is in flight waits for the first one, so two
    threads never push the same notification at once.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._done: OrderedDict[str, None] = OrderedDict()
        self._in_flight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def begin(self, key: str) -> bool:
        """Claim ``key``: ``True`` when the caller must deliver it (and then call :meth:`end`),
        ``False`` when it was already delivered."""
        while True:
            with self._lock:
                if key in self._done:
                    self._done.move_to_end(key)
                    return False
                running = self._in_flight.get(key)
                if running is None:
                    self._in_flight[key] = threading.Event()
                    return True
            running.wait()

    def end(self, key: str, *, delivered: bool) -> None:
        """Release ``key``; remember it when ``delivered``."""
        with self._lock:
            running = self._in_flight.pop(key, None)
            if delivered:
                self._done[key] = None
                self._done.move_to_end(key)
                while len(self._done) > self._capacity:
                    self._done.popitem(last=False)
        if running is not None:
            running.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._done)
