"""What every memory repository shares: the transaction, and the keyed-table mechanics."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from ams_adapters.memory.store import MemoryStore, TenantData
from ams_adapters.memory.transaction import MemoryTransaction, UndoLog
from ams_core.domain import ConcurrencyError, ConflictError, NotFoundError, PermissionDeniedError
from ams_core.ports.persistence import Slice

K = TypeVar("K")
E = TypeVar("E")


def page_of(items: Sequence[E], limit: int, offset: int) -> Slice[E]:
    """``limit`` items after ``offset`` of the ordered ``items``, with how many there are
    (a limit of 0 or less gives none; a negative offset counts from the start).
    """
    if limit <= 0:
        return Slice((), len(items))
    start = max(offset, 0)
    return Slice(tuple(items[start : start + limit]), len(items))


class MemoryRepository:
    """Base of every repository: reaches the store through the open transaction."""

    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx

    @property
    def _store(self) -> MemoryStore:
        return self._tx.store

    @property
    def _log(self) -> UndoLog:
        return self._tx.active_log()

    @property
    def _data(self) -> TenantData:
        return self._tx.tenant_data()

    def _require(self, table: Mapping[Any, Any], key: object, kind: str) -> None:
        """Refuse a reference to a row that does not exist (the analogue of a foreign key)."""
        if key not in table:
            raise NotFoundError(kind, key)

    def _own(self, entity: Any) -> None:
        """Refuse to write another institution's row (the memory analogue of RLS)."""
        if entity.institution_id != self._tx.tenant():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )


def in_use(what: str, key: object, reason: str) -> ConflictError:
    """The error for removing a row other rows still refer to."""
    return ConflictError(f"{what} {key} {reason}", code="in_use")


class KeyedRepository(MemoryRepository, Generic[K, E]):
    """find/get/add/update over one dict, with version checks and optional unique keys."""

    kind = "object"

    def _table(self) -> dict[K, E]:
        raise NotImplementedError

    def _key(self, entity: E) -> K:
        raise NotImplementedError

    def _check_unique(self, new: E, old: E | None) -> None:
        """Raise ConflictError when ``new`` takes a unique value held by another row."""

    def _reindex(self, old: E | None, new: E) -> None:
        """Keep secondary indexes in step."""

    def _check_references(self, entity: E) -> None:
        """Raise NotFoundError when ``entity`` points at a missing row (like a foreign key)."""

    def _check_unused(self, entity: E) -> None:
        """Raise ConflictError ``in_use`` when other rows refer to ``entity`` (like a
        foreign key with ON DELETE RESTRICT)."""

    def _unindex(self, old: E) -> None:
        """Take a removed row out of the secondary indexes."""

    def find(self, key: K) -> E | None:
        return self._table().get(key)

    def get(self, key: K) -> E:
        entity = self.find(key)
        if entity is None:
            raise NotFoundError(self.kind, key)
        return entity

    def add(self, entity: E) -> None:
        self._own(entity)
        table = self._table()
        key = self._key(entity)
        if key in table:
            raise ConflictError(f"{self.kind} {key} already exists", code=f"{self.kind}_exists")
        self._check_references(entity)
        self._check_unique(entity, None)
        self._log.set(table, key, entity)
        self._reindex(None, entity)

    def update(self, entity: E) -> E:
        self._own(entity)
        table = self._table()
        key = self._key(entity)
        old = table.get(key)
        if old is None:
            raise NotFoundError(self.kind, key)
        if getattr(old, "version") != getattr(entity, "version"):  # noqa: B009
            raise ConcurrencyError(f"{self.kind} {key} was changed by someone else; reload it")
        new: E = dataclasses.replace(entity, version=getattr(entity, "version") + 1)  # type: ignore[type-var]  # noqa: B009
        self._check_references(new)
        self._check_unique(new, old)
        self._log.set(table, key, new)
        self._reindex(old, new)
        return new

    def _remove(self, key: K) -> bool:
        """Delete the row under ``key`` (undoably); False if there is none."""
        table = self._table()
        old = table.get(key)
        if old is None:
            return False
        self._check_unused(old)
        self._log.delete(table, key)
        self._unindex(old)
        return True

    def _index_move(
        self,
        index: dict[Any, set[Any]],
        old_key: object,
        new_key: object,
        member: object,
    ) -> None:
        if old_key == new_key:
            return
        if old_key is not None and old_key in index:
            self._log.discard(index[old_key], member)
        if new_key is not None:
            self._log.add(index.setdefault(new_key, set()), member)


__all__ = ["E", "K", "KeyedRepository", "MemoryRepository", "in_use"]
