"""The SQL transaction: one connection and transaction per ``with`` block, in one scope.

Everything the repositories need from the database sits here: the engine, the scope
(one institution or the platform), the connection, ``execute`` (with ADR 0013's direct
reads before the first write, :mod:`.direct`), savepoints, the reference cache, the
``written`` flag and the translation of database errors into core errors. The unit of work
(:mod:`.persistence`) is this class with the repositories attached.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from psycopg.pq import TransactionStatus
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase

from ams_adapters.scope import NO_TRANSACTION, ScopedTransaction
from ams_adapters.sql.cache import ReferenceCache
from ams_adapters.sql.direct import (
    Deferred,
    DirectRead,
    Wire,
    Written,
    begin_with_scope,
    direct_read_of,
    kept_wire,
    run_directly,
    run_in_transaction,
    send_deferred,
)
from ams_adapters.sql.errors import translate, translate_driver_error
from ams_adapters.sql.held import hand_back, held_for
from ams_adapters.sql.per_engine import PerEngine
from ams_core.domain import AmsError, InstitutionId, PermissionDeniedError

_IDLE = TransactionStatus.IDLE
#: the statements that may run directly (ADR 13)
_DIRECT_KINDS = (Select, UpdateBase)
_COMMIT_OUTSIDE = "use the unit of work inside `with uow.for_institution(...)`"

#: one reference cache per engine, shared by all its units of work
_cache_for = PerEngine(ReferenceCache)


class SqlTransaction(ScopedTransaction[InstitutionId]):
    """Transactions over a SQLAlchemy engine (PostgreSQL or SQLite), one at a time.

    The connection is taken from the pool on ``__enter__`` and returned on exit. On
    PostgreSQL every transaction first sets ``app.institution_id`` and ``app.scope`` with
    ``set_config(..., true)``, which the row-level security policies read. Repositories
    also filter by institution themselves, so SQLite (no RLS) is isolated the same way.

    On PostgreSQL the transaction holds the pool's connection itself and ends it through
    psycopg: a unit of work whose statements all run directly (:mod:`.direct`) — a
    check-in — never builds SQLAlchemy's connection and transaction objects around them;
    the first statement that needs SQLAlchemy builds its connection over the same pooled
    one (:meth:`connection`). On SQLite SQLAlchemy runs the transaction throughout.

    The scope (``for_institution``/``for_platform``, ``tenant()``, ``is_platform()``) is
    the adapters' shared :class:`~ams_adapters.scope.ScopedTransaction`.
    """

    scope_error = PermissionDeniedError

    def __init__(self, engine: Engine, cache: ReferenceCache | None = None) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.cache = cache if cache is not None else _cache_for(engine)
        #: where a loop thread keeps its connection between transactions (:mod:`.held`);
        #: not with pre-ping on, which asks for every transaction's connection to be tested
        self._held = None if getattr(engine.pool, "_pre_ping", False) else held_for(engine)
        #: whether this transaction has sent a write
        self.written = False
        #: what this transaction knows of rows it wrote (cleared when it ends); a row it
        #: updated stays locked by it, so what it wrote at a version holds till the end
        self.wrote: dict[Any, Any] = {}
        self._init_scope()
        #: PostgreSQL: the pool's connection, and psycopg's under it
        self._pooled: PoolProxiedConnection | None = None
        self._driver: Any = None
        #: SQLAlchemy's connection: on SQLite from the start, on PostgreSQL when first needed
        self._conn: Connection | None = None
        #: SQLite: SQLAlchemy's transaction (PostgreSQL's is ended through psycopg)
        self._tx: RootTransaction | None = None
        #: on PostgreSQL: BEGIN and the scope are still to be sent
        self._scope_pending = False
        #: on PostgreSQL: writes held back to go with the next statement (execute_later)
        self._deferred: list[Deferred] = []
        #: the wire kept with that connection, once a direct statement asked for it
        self._wire: Wire | None = None
        #: when the connection of the open transaction was taken from the pool
        self._since = 0.0
        #: attribute names of what was attached to this object for the transaction's
        #: length (:meth:`attach`)
        self._attached: list[str] = []

    def attach(self, name: str, value: object) -> None:
        """Keep ``value`` as this object's attribute ``name`` until the transaction ends.

        What is attached (a unit of work's repositories) points back at the transaction: let
        go of when it ends, the two are freed as soon as the request drops them, where the
        cycle would wait for the garbage collector, whose passes stall the event loop.
        """
        self.__dict__[name] = value
        self._attached.append(name)

    def _let_go(self) -> None:
        attached = self._attached
        if attached:
            instance = self.__dict__
            for name in attached:
                instance.pop(name, None)
            attached.clear()

    # -- scope and transaction ------------------------------------------------------------
    def _in_transaction(self) -> bool:
        return self._pooled is not None or self._conn is not None

    def __enter__(self) -> Self:
        self._require_scope_chosen()
        self._require_idle()
        try:
            if self.is_postgres:
                self._pooled, self._driver = self._checkout()
            else:
                self._conn = self.engine.connect()
                self._tx = self._conn.begin()
        except sa_exc.SQLAlchemyError as error:
            self._end_scope()
            raise translate(error) from None
        except Exception as error:  # noqa: BLE001 - the pool passes on psycopg's own errors
            self._end_scope()
            raise translate_driver_error(error, "connect", "connection") from None
        self._fresh()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._let_go()
        if self.is_postgres:
            self._exit_postgres(ok=exc_type is None)
            return
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        self._end_scope()
        try:
            if tx is not None and tx.is_active:
                if exc_type is None and not self.written:
                    tx.commit()
                else:
                    tx.rollback()
        except sa_exc.SQLAlchemyError:
            pass  # the connection is gone; closing it below returns it to the pool as invalid
        finally:
            if conn is not None:
                conn.close()

    def _checkout(self) -> tuple[PoolProxiedConnection, Any]:
        """A pooled connection in autocommit mode: reads before the first write run in one
        round trip each, scope included (see execute); BEGIN is sent when first needed. On
        an event loop's thread, the one its last transaction kept (:mod:`.held`)."""
        taken = None if self._held is None else self._held.take(self.engine)
        if taken is not None:
            pooled, self._since = taken
            return pooled, pooled.driver_connection
        self._since = time.monotonic()
        pooled = self.engine.raw_connection()
        driver: Any = pooled.driver_connection
        try:
            driver.autocommit = True
        except Exception:
            pooled.invalidate()
            pooled.close()
            raise
        return pooled, driver

    def _exit_postgres(self, *, ok: bool) -> None:
        pooled, driver, conn = self._pooled, self._driver, self._conn
        self._pooled = self._driver = self._conn = self._wire = None
        self._deferred.clear()  # never sent: the transaction ends without them
        self._end_scope()
        if pooled is None:
            return
        try:
            if driver.pgconn.transaction_status != _IDLE:
                if ok and not self.written:
                    # nothing to undo: ending a read-only transaction with COMMIT keeps
                    # psycopg's prepared statements, which a ROLLBACK throws away
                    driver.commit()
                else:
                    driver.rollback()
        except Exception:  # noqa: BLE001, S110 - the connection is gone; invalidated below
            pass
        if conn is None:  # only direct statements ran: the connection may be kept
            idle = pooled.is_valid and driver.pgconn.transaction_status == _IDLE
            held = self._held
            if not (idle and held is not None and held.keep(pooled, self._since)):
                hand_back(pooled)
            return
        hand_back(pooled, conn.close)  # SQLAlchemy's connection returns the pooled one

    def commit(self) -> None:
        self._end(commit=True)

    def rollback(self) -> None:
        self._end(commit=False)

    def _end(self, *, commit: bool) -> None:
        """COMMIT or ROLLBACK; the next transaction begins at once (on PostgreSQL its BEGIN
        waits for the first statement that needs it)."""
        if self.is_postgres:
            driver = self._driver
            if driver is None:
                raise RuntimeError(_COMMIT_OUTSIDE)
            deferred, self._deferred = self._deferred, []
            if commit and deferred:
                send_deferred(self, deferred, commit=True)  # the writes and COMMIT: one trip
                self._fresh()
                return
            try:
                driver.commit() if commit else driver.rollback()
            except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
                command = "COMMIT" if commit else "ROLLBACK"
                raise self.driver_failed(error, command, "row") from None
        else:
            tx = self._active_tx()
            try:
                tx.commit() if commit else tx.rollback()
            except sa_exc.SQLAlchemyError as error:
                raise translate(error) from None
            self._tx = self._require_conn().begin()
        self._fresh()

    def _fresh(self) -> None:
        """A new transaction begins: on PostgreSQL, BEGIN and the scope wait for the first
        statement that needs them."""
        self._scope_pending = self.is_postgres
        self.written = False
        self.wrote.clear()
        self._deferred.clear()

    def _active_tx(self) -> RootTransaction:
        if self._tx is None:
            raise RuntimeError(_COMMIT_OUTSIDE)
        return self._tx

    def _require_conn(self) -> Connection:
        """SQLAlchemy's connection (on PostgreSQL made over the pooled one on first use)."""
        if self._conn is None:
            if self._pooled is None:
                raise RuntimeError(NO_TRANSACTION)
            self._conn = Connection(self.engine, connection=self._pooled)
        return self._conn

    # -- what the direct statements need (direct.DriverSide) ------------------------------
    def driver(self) -> Any:
        """The psycopg connection of the open transaction (PostgreSQL)."""
        if self._driver is None:
            raise RuntimeError(NO_TRANSACTION)
        return self._driver

    def wire(self) -> Wire:
        """The :class:`~ams_adapters.sql.direct.Wire` kept with the pooled connection
        (direct statements)."""
        wire = self._wire
        if wire is None:
            if self._pooled is None:
                raise RuntimeError(NO_TRANSACTION)
            wire = self._wire = kept_wire(self._pooled.info, self._driver)
        return wire

    def announce(self, sql: str, parameters: Any) -> None:
        """Tell the engine's ``before_cursor_execute`` listeners (statement spies, tracing)
        about a statement sent on the driver connection, as SQLAlchemy does for its own
        (with no DB-API cursor: the statement goes through libpq, past psycopg's)."""
        if self.engine._has_events:
            conn = self._require_conn()
            conn.dispatch.before_cursor_execute(conn, None, sql, parameters, None, False)

    def driver_failed(self, error: Exception, statement: str, kind: str) -> AmsError:
        """The core error for a statement sent on the driver connection; a connection the
        failure broke is invalidated, as SQLAlchemy does on a disconnect it sees."""
        driver, pooled = self._driver, self._pooled
        if pooled is not None and (driver.closed or driver.broken):
            pooled.invalidate()
        return translate_driver_error(error, statement, kind)

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
            self._send_deferred()  # writes held back inside belong to the savepoint
        except BaseException:
            self.wrote.clear()  # undone with the savepoint
            self._deferred.clear()
            with contextlib.suppress(sa_exc.SQLAlchemyError):
                nested.rollback()
            raise
        try:
            nested.commit()
        except sa_exc.SQLAlchemyError as error:
            raise translate(error) from None

    def connection(self) -> Connection:
        """SQLAlchemy's connection, with BEGIN and the scope sent on PostgreSQL (and the
        writes held back, so that what runs next sees them)."""
        conn = self._require_conn()
        if self._scope_pending:
            self._scope_pending = False
            begin_with_scope(self, self._scope_values())
        self._send_deferred()
        return conn

    def _send_deferred(self) -> None:
        if self._deferred:
            deferred, self._deferred = self._deferred, []
            send_deferred(self, deferred, commit=False)

    def execute_later(
        self, statement: UpdateBase, parameters: Mapping[str, Any], kind: str = "row"
    ) -> None:
        """Run a write whose answer nobody reads; on PostgreSQL, inside a transaction its
        first write began, it goes in one pipeline with the next statement or the COMMIT:
        a round trip saved. Its failure surfaces there (the transaction is then undone
        whole, as for any failed statement); elsewhere it runs at once."""
        self.written = True
        if self.is_postgres and not self._scope_pending and self._pooled is not None:
            direct = direct_read_of(statement, self.engine)
            if direct is not None:
                self._deferred.append(Deferred(direct, direct.parameters(parameters), kind))
                return
        self.execute(statement, parameters, kind)

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
        *,
        write: bool | None = None,
    ) -> Any:
        """Run a statement, turning database errors into core errors (a CursorResult);
        ``kind`` is the noun the error messages use for the row. ``write``: whether the
        statement writes, where its type does not say (a SELECT over an INSERT's RETURNING
        in a CTE writes, and must run inside the transaction)."""
        direct, answer = self._send(statement, parameters, kind, write)
        if direct is None or isinstance(answer, Written):
            return answer
        return direct.result(answer)

    def rows(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, kind: str = "row"
    ) -> Sequence[Sequence[Any]]:
        """The rows of a SELECT, or of a write's RETURNING, as tuples in column order: for
        the hottest statements, a direct one's rows without SQLAlchemy's result objects
        around them (otherwise as :meth:`execute`)."""
        direct, answer = self._send(statement, parameters, kind, None)
        return answer.all() if direct is None else answer  # type: ignore[no-any-return]

    def mappings(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None, kind: str = "row"
    ) -> Sequence[Mapping[str, Any]]:
        """The rows as :meth:`rows` does, each a mapping from column name to value."""
        direct, answer = self._send(statement, parameters, kind, None)
        if direct is None:
            return answer.mappings().all()  # type: ignore[no-any-return]
        keys = direct.keys
        return [dict(zip(keys, row, strict=True)) for row in answer]

    def _send(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        kind: str,
        write: bool | None,
    ) -> tuple[DirectRead | None, Any]:
        """Run a statement: (the direct statement, its converted rows or :class:`Written`)
        where it runs directly, else (None, SQLAlchemy's result)."""
        reads = isinstance(statement, Select) if write is None else not write
        if not reads:
            self.written = True
        if not (self.is_postgres and isinstance(statement, _DIRECT_KINDS)):
            return None, self._run(self.connection(), statement, parameters, kind)
        if not (parameters is None or type(parameters) is dict or isinstance(parameters, Mapping)):
            return None, self._run(self.connection(), statement, parameters, kind)
        direct = direct_read_of(statement, self.engine)
        if direct is None:
            return None, self._run(self.connection(), statement, parameters, kind)
        if not self._scope_pending:  # inside the transaction its first write began
            deferred, self._deferred = self._deferred, []
            return direct, run_in_transaction(self, direct, parameters, kind, deferred)
        scope = self._scope_values()
        if reads:
            return direct, run_directly(self, direct, scope, parameters, kind, begin=False)
        # the first write: BEGIN, the scope and the write in one round trip
        self._scope_pending = False
        return direct, run_directly(self, direct, scope, parameters, kind, begin=True)

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


__all__ = ["SqlTransaction"]
