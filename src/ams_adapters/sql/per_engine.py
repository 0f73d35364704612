"""One object per SQLAlchemy engine, made on first use and dropped with the engine."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.engine import Engine

T = TypeVar("T")


class PerEngine(Generic[T]):
    """``registry(engine)``: the engine's ``T``, made by ``make`` the first time (once, even
    when threads ask together); later lookups take no lock."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._by_engine: weakref.WeakKeyDictionary[Engine, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, engine: Engine) -> T:
        found = self._by_engine.get(engine)
        if found is None:
            with self._lock:
                found = self._by_engine.get(engine)
                if found is None:
                    found = self._by_engine[engine] = self._make()
        return found


__all__ = ["PerEngine"]
