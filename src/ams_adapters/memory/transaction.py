"""An undo log: every write to the store records how to take it back."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator, MutableMapping, MutableSet
from typing import Any

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
