"""The pooled connection an event loop's thread keeps between its transactions.

A process runs its short use cases on its event loop's thread, one after another (ADR 0020).
Taking the connection from SQLAlchemy's pool and giving it back around each one costs a
check-in about 3 % of its instructions (the pool's queue, lock, reset and bookkeeping). So a
transaction ending on such a thread in autocommit and outside any transaction keeps its
connection for the thread's next one (:meth:`HeldConnections.keep`), which takes it back
straight away (:meth:`HeldConnections.take`). The pool still counts it as checked out:
a process holds at most one this way per loop thread.

A held connection goes back to the pool (out of autocommit, as the pool expects):

- after ``HOLD_SECONDS``, so the pool's recycling and pre-ping apply to it again.

It is closed instead, its place in the pool freed for a new one:

- when it broke, or belongs to a pool ``engine.dispose()`` replaced (at the next take);
- when its thread ends (a test client's portal thread, say) or its engine is collected,
  and when the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from ams_adapters.sql.per_engine import PerEngine

#: the longest a thread keeps one pooled connection between transactions before handing it
#: back to the pool
HOLD_SECONDS = 60.0


def hand_back(pooled: PoolProxiedConnection, close: Callable[[], None] | None = None) -> None:
    """Return a connection to the pool as it expects one: out of autocommit (a connection
    in an unknown state is invalidated rather than handed on). ``close`` returns it: by
    default the pooled connection's own, else that of SQLAlchemy's connection over it."""
    if pooled.is_valid:
        try:
            pooled.driver_connection.autocommit = False  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - psycopg refuses while a transaction is open
            pooled.invalidate()
    (pooled.close if close is None else close)()


def _close(pooled: PoolProxiedConnection) -> None:
    """Close a held connection nobody will take again, and free its place in the pool."""
    with contextlib.suppress(Exception):  # the pool or the process is going away
        pooled.invalidate()
        pooled.close()


def _release(box: list[Any]) -> None:
    pooled, box[0] = box[0], None
    if pooled is not None:
        _close(pooled)


class _Slot:
    """One thread's place for its held connection: ``box`` is [connection or None, when it
    was taken from the pool]. When the thread ends, its thread-local slot goes, and the
    connection in it is closed (as it is at exit)."""

    __slots__ = ("__weakref__", "box")

    def __init__(self) -> None:
        self.box: list[Any] = [None, 0.0]
        weakref.finalize(self, _release, self.box)


class HeldConnections:
    """The connections one engine's loop threads hold between their transactions."""

    def __init__(self) -> None:
        self._local = threading.local()

    def take(self, engine: Engine) -> tuple[PoolProxiedConnection, float] | None:
        """This thread's held connection and when it was taken from the pool, if it is
        still good to use; else None (and it goes back to the pool)."""
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is None or slot.box[0] is None:
            return None
        box = slot.box
        pooled, since = box
        box[0] = None
        if not pooled.is_valid or getattr(pooled, "_pool", None) is not engine.pool:
            _close(pooled)  # broken, or of a pool engine.dispose() replaced
            return None
        if time.monotonic() - since >= HOLD_SECONDS:
            hand_back(pooled)
            return None
        return pooled, since

    def keep(self, pooled: PoolProxiedConnection, since: float) -> bool:
        """Hold ``pooled`` (idle, in autocommit) for this thread's next transaction, if an
        event loop runs on this thread and it holds none yet (an inner unit of work's
        connection goes back to the pool); whether it was kept."""
        if asyncio._get_running_loop() is None:
            return False
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is None:
            slot = self._local.slot = _Slot()
        box = slot.box
        if box[0] is not None:
            return False
        box[0], box[1] = pooled, since
        return True


#: the engine's held connections (one registry per engine)
held_for = PerEngine(HeldConnections)


__all__ = ["HOLD_SECONDS", "HeldConnections", "hand_back", "held_for"]
