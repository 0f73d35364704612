"""The SQL transaction: one connection and transaction per ``with`` block, in one scope.

Everything the repositories need from the database sits here: the engine, the scope
(one institution or the platform), the connection, ``execute`` (with ADR 0013's direct
reads before the first write, :mod:`.direct`), savepoints, the reference cache, the
``written`` flag and the translation of database errors into core errors. The unit of work
(:mod:`.persistence`) is this class with the repositories attached.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeGuard

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase

from ams_adapters.scope import NO_TRANSACTION, ScopedTransaction
from ams_adapters.sql.cache import ReferenceCache
from ams_adapters.sql.direct import (
    begin_with_scope,
    direct_read_of,
    driver_connection,
    run_directly,
)
from ams_adapters.sql.errors import translate
from ams_core.domain import InstitutionId, PermissionDeniedError

_CACHES: weakref.WeakKeyDictionary[Engine, ReferenceCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_for(engine: Engine) -> ReferenceCache:
    """One reference cache per engine, shared by all its units of work."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = ReferenceCache()
        return cache


class SqlTransaction(ScopedTransaction[InstitutionId]):
    """Transactions over a SQLAlchemy engine (PostgreSQL or SQLite), one at a time.

    The connection is taken from the pool on ``__enter__`` and returned on exit. On
    PostgreSQL every transaction first sets ``app.institution_id`` and ``app.scope`` with
    ``set_config(..., true)``, which the row-level security policies read. Repositories
    also filter by institution themselves, so SQLite (no RLS) is isolated the same way.

    The scope (``for_institution``/``for_platform``, ``tenant()``, ``is_platform()``) is
    the adapters' shared :class:`~ams_adapters.scope.ScopedTransaction`.
    """

    scope_error = PermissionDeniedError

    def __init__(self, engine: Engine, cache: ReferenceCache | None = None) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.cache = cache if cache is not None else _cache_for(engine)
        #: whether this transaction has sent a write
        self.written = False
        self._init_scope()
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        #: on PostgreSQL: BEGIN and the scope are still to be sent
        self._scope_pending = False

    # -- scope and transaction ------------------------------------------------------------
    def _in_transaction(self) -> bool:
        return self._conn is not None

    def __enter__(self) -> Self:
        self._require_scope_chosen()
        self._require_idle()
        try:
            self._conn = self.engine.connect()
            if self.is_postgres:
                # reads before the first write run in one round trip each, scope included
                # (see execute); the unit of work sends BEGIN itself when it first needs one
                driver_connection(self._conn).autocommit = True
        except sa_exc.SQLAlchemyError as error:
            self._end_scope()
            raise translate(error) from None
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        self._end_scope()
        try:
            if tx is not None and tx.is_active:
                if exc_type is None and not self.written:
                    # nothing to undo: ending a read-only transaction with COMMIT keeps
                    # psycopg's prepared statements, which a ROLLBACK throws away
                    tx.commit()
                else:
                    tx.rollback()
        except sa_exc.SQLAlchemyError:
            pass  # the connection is gone; closing it below returns it to the pool as invalid
        finally:
            if conn is not None:
                self._release(conn)

    def _release(self, conn: Connection) -> None:
        if self.is_postgres and not conn.invalidated:
            try:
                driver_connection(conn).autocommit = False
            except Exception:  # noqa: BLE001 - psycopg refuses while a transaction is open
                conn.invalidate()  # never hand the pool a connection in an unknown state
        conn.close()

    def commit(self) -> None:
        tx = self._active_tx()
        try:
            tx.commit()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from None
        self._begin()

    def rollback(self) -> None:
        tx = self._active_tx()
        try:
            tx.rollback()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from None
        self._begin()

    def _begin(self) -> None:
        assert self._conn is not None  # noqa: S101 - only called inside a with block
        self._tx = self._conn.begin()
        self._scope_pending = self.is_postgres
        self.written = False

    def _active_tx(self) -> RootTransaction:
        if self._tx is None:
            raise RuntimeError("use the unit of work inside `with uow.for_institution(...)`")
        return self._tx

    # -- used by the repositories -----------------------------------------------------------
    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undo only the enclosed statements if they fail; the transaction goes on."""
        try:
            nested = self.connection().begin_nested()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from None
        try:
            yield
        except BaseException:
            with contextlib.suppress(sa_exc.SQLAlchemyError):
                nested.rollback()
            raise
        try:
            nested.commit()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from None

    def connection(self) -> Connection:
        """The open connection, with the scope set on PostgreSQL."""
        if self._conn is None:
            raise RuntimeError(NO_TRANSACTION)
        if self._scope_pending:
            self._scope_pending = False
            begin_with_scope(self._conn, self._scope_values())
        return self._conn

    def _scope_values(self) -> tuple[str, str]:
        """(institution, scope name) for ``set_config``; only inside a transaction."""
        institution = self.scoped_institution
        tenant = "" if institution is None else institution
        return tenant, "platform" if self.is_platform() else "tenant"

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        kind: str = "row",
    ) -> Any:
        """Run a statement, turning database errors into core errors (a CursorResult);
        ``kind`` is the noun the error messages use for the row."""
        if not isinstance(statement, Select):
            self.written = True
        if not self._scope_pending or not (parameters is None or isinstance(parameters, Mapping)):
            return self._run(self.connection(), statement, parameters, kind)
        if isinstance(statement, Select):
            direct = direct_read_of(statement, self.engine)
            if direct is not None:
                assert self._conn is not None  # noqa: S101 - only called inside a with block
                scope = self._scope_values()
                return run_directly(self._conn, direct, scope, parameters, kind, begin=False)
        elif _returns_rows(statement):
            direct = direct_read_of(statement, self.engine)
            if direct is not None:  # BEGIN, the scope and the write in one round trip
                assert self._conn is not None  # noqa: S101 - only called inside a with block
                self._scope_pending = False
                scope = self._scope_values()
                return run_directly(self._conn, direct, scope, parameters, kind, begin=True)
        return self._run(self.connection(), statement, parameters, kind)

    @staticmethod
    def _run(
        conn: Connection,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        kind: str,
    ) -> Any:
        try:
            if parameters is None:
                return conn.execute(statement)
            return conn.execute(statement, parameters)
        except sa_exc.SQLAlchemyError as error:
            raise translate(error, kind) from None


def _returns_rows(statement: Executable) -> TypeGuard[UpdateBase]:
    """An INSERT, UPDATE or DELETE with RETURNING (its result reads like a SELECT's)."""
    return isinstance(statement, UpdateBase) and bool(statement._returning)


__all__ = ["SqlTransaction"]
