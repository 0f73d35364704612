"""The memory adapter's transactions: an undo log, and the transaction the repositories use.

Every write to the store records how to take it back (:class:`UndoLog`). A
:class:`MemoryTransaction` holds the store's lock, the scope (institution or platform) and
the undo log of the open transaction; the repositories take one, and the unit of work is a
``MemoryTransaction`` with the repositories attached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator, MutableMapping, MutableSet
from types import TracebackType
from typing import Any, Self

from ams_adapters.memory.store import MemoryStore, TenantData
from ams_adapters.scope import NO_TRANSACTION, ScopedTransaction
from ams_core.domain import InstitutionId, PermissionDeniedError

_MISSING: Any = object()


class UndoLog:
    """Writes applied directly to the store, with their inverses kept until commit."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def set(self, mapping: MutableMapping[Any, Any], key: Hashable, value: object) -> None:
        """``mapping[key] = value``, undoably."""
        old = mapping.get(key, _MISSING)
        mapping[key] = value
        if old is _MISSING:
            self._undo.append(lambda: mapping.pop(key, None))
        else:
            self._undo.append(lambda: mapping.__setitem__(key, old))

    def delete(self, mapping: MutableMapping[Any, Any], key: Hashable) -> None:
        """``del mapping[key]`` if present, undoably."""
        if key in mapping:
            old = mapping.pop(key)
            self._undo.append(lambda: mapping.__setitem__(key, old))

    def add(self, members: MutableSet[Any], member: Hashable) -> None:
        """``members.add(member)``, undoably."""
        if member not in members:
            members.add(member)
            self._undo.append(lambda: members.discard(member))

    def discard(self, members: MutableSet[Any], member: Hashable) -> None:
        """``members.discard(member)``, undoably."""
        if member in members:
            members.discard(member)
            self._undo.append(lambda: members.add(member))

    def append(self, items: list[Any], item: object) -> None:
        """``items.append(item)``, undoably."""
        items.append(item)
        self._undo.append(items.pop)

    def rollback(self) -> None:
        """Undo every write, newest first."""
        self.rollback_to(0)

    def savepoint(self) -> int:
        """Mark the current point, to undo only the writes after it (see ``rollback_to``)."""
        return len(self._undo)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Undo the enclosed writes if they raise; the transaction goes on (all or nothing)."""
        savepoint = self.savepoint()
        try:
            yield
        except BaseException:
            self.rollback_to(savepoint)
            raise

    def rollback_to(self, savepoint: int) -> None:
        """Undo the writes made after ``savepoint``, newest first."""
        while len(self._undo) > savepoint:
            self._undo.pop()()

    def clear(self) -> None:
        """Forget the inverses (the writes are committed)."""
        self._undo.clear()


class MemoryTransaction(ScopedTransaction[InstitutionId]):
    """A transaction over a :class:`MemoryStore`.

    Writes go straight to the store with an undo log, under the store's lock, so a
    transaction sees its own writes, others see them only after ``commit()``, and leaving
    the block without committing puts everything back. Use one object per thread.
    """

    scope_error = PermissionDeniedError

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self._init_scope()
        self._log: UndoLog | None = None

    def _in_transaction(self) -> bool:
        return self._log is not None

    def __enter__(self) -> Self:
        self._require_scope_chosen()
        self._require_idle()
        self.store.lock.acquire()
        self._log = UndoLog()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._log is not None:
                self._log.rollback()
        finally:
            self._log = None
            self._end_scope()
            self.store.lock.release()

    def commit(self) -> None:
        self.active_log().clear()

    def rollback(self) -> None:
        self.active_log().rollback()

    # -- used by the repositories ---------------------------------------------------------
    def active_log(self) -> UndoLog:
        """The undo log of the open transaction (repositories work only inside one)."""
        if self._log is None:
            raise RuntimeError(NO_TRANSACTION)
        return self._log

    def tenant_data(self) -> TenantData:
        """The data of the open transaction's institution."""
        return self.store.tenant(self.tenant())
