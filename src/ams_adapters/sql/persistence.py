"""The SQL unit of work: one connection and transaction per ``with`` block."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Executable, Select

from ams_adapters.sql.cache import ReferenceCache
from ams_adapters.sql.errors import translate, translate_driver_error
from ams_adapters.sql.repositories import (
    SqlAssignmentRepository,
    SqlAuditRepository,
    SqlCheckInAttemptRepository,
    SqlCoverAssignmentRepository,
    SqlDeviceBindingRepository,
    SqlFacultyRepository,
    SqlHolidayRepository,
    SqlInstitutionRepository,
    SqlMarkRepository,
    SqlOperatorSignInRepository,
    SqlOutboxRepository,
    SqlPasswordCredentialRepository,
    SqlPushTokenRepository,
    SqlSectionRepository,
    SqlSecurityEventRepository,
    SqlSessionRepository,
    SqlSignInRepository,
    SqlSlotRepository,
    SqlStudentRepository,
    SqlSubjectRepository,
    SqlTermRepository,
)
from ams_core.domain import AmsError, InstitutionId, PermissionDeniedError
from ams_core.ports import UnitOfWork

# Transaction-local (is_local = true): cleared at COMMIT/ROLLBACK, so a pooled connection
# never carries one institution's scope into the next transaction.
_SET_SCOPE = "SELECT set_config('app.institution_id', %s, true), set_config('app.scope', %s, true)"


@dataclasses.dataclass(frozen=True, slots=True)
class _DirectRead:
    """A SELECT compiled once for psycopg, with SQLAlchemy's own value processors."""

    sql: str
    defaults: Mapping[str, Any]
    bind: Mapping[str, Callable[[Any], Any]]
    keys: tuple[str, ...]
    #: (column position, processor) of the columns SQLAlchemy converts
    results: tuple[tuple[int, Callable[[Any], Any]], ...]

    @classmethod
    def compile(cls, statement: Select[Any], engine: Engine) -> _DirectRead | None:
        """None when the statement needs per-call compilation (expanding ``IN`` lists)."""
        dialect = engine.dialect
        compiled: Any = statement.compile(dialect=dialect)
        if any(b.expanding for b in compiled.binds.values()):
            return None
        processors = (
            (i, c.type._cached_result_processor(dialect, None))
            for i, c in enumerate(statement.selected_columns)
        )
        return cls(
            sql=str(compiled),
            defaults=dict(compiled.params),
            bind=dict(compiled._bind_processors),
            keys=tuple(statement.selected_columns.keys()),
            results=tuple((i, p) for i, p in processors if p is not None),
        )

    def parameters(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        values = {**self.defaults, **(given or {})}
        for name, process in self.bind.items():
            if name in values:
                values[name] = process(values[name])
        return values

    def result(self, rows: list[tuple[Any, ...]]) -> Any:
        if self.results:
            converted = []
            for row in rows:
                values = list(row)
                for i, process in self.results:
                    values[i] = process(values[i])
                converted.append(tuple(values))
            rows = converted
        return IteratorResult(SimpleResultMetaData(self.keys), iter(rows))


# statements seen once, then compiled on their second run: statements built afresh for
# each call are never compiled here (SQLAlchemy's own cache serves them better)
_SEEN: weakref.WeakKeyDictionary[Select[Any], object] = weakref.WeakKeyDictionary()
_UNSEEN = object()
_ONCE = object()
_SEEN_LOCK = threading.Lock()


_CACHES: weakref.WeakKeyDictionary[Engine, ReferenceCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache_for(engine: Engine) -> ReferenceCache:
    """One reference cache per engine, shared by all its units of work."""
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = ReferenceCache()
        return cache


class _Scope(enum.Enum):
    UNSET = "unset"
    PLATFORM = "platform"


class SqlUnitOfWork(UnitOfWork):
    """A unit of work over a SQLAlchemy engine (PostgreSQL or SQLite).

    The connection is taken from the pool on ``__enter__`` and returned on exit. On
    PostgreSQL every transaction first sets ``app.institution_id`` and ``app.scope`` with
    ``set_config(..., true)``, which the row-level security policies read. Repositories
    also filter by institution themselves, so SQLite (no RLS) is isolated the same way.
    """

    def __init__(self, engine: Engine, cache: ReferenceCache | None = None) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        self.cache = cache if cache is not None else _cache_for(engine)
        self.written = False
        self._scope: InstitutionId | _Scope = _Scope.UNSET
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._scope_pending = False
        self.institutions = SqlInstitutionRepository(self)
        self.sections = SqlSectionRepository(self)
        self.students = SqlStudentRepository(self)
        self.faculty = SqlFacultyRepository(self)
        self.subjects = SqlSubjectRepository(self)
        self.assignments = SqlAssignmentRepository(self)
        self.slots = SqlSlotRepository(self)
        self.terms = SqlTermRepository(self)
        self.holidays = SqlHolidayRepository(self)
        self.sessions = SqlSessionRepository(self)
        self.marks = SqlMarkRepository(self)
        self.audit = SqlAuditRepository(self)
        self.devices = SqlDeviceBindingRepository(self)
        self.attempts = SqlCheckInAttemptRepository(self)
        self.security_events = SqlSecurityEventRepository(self)
        self.covers = SqlCoverAssignmentRepository(self)
        self.outbox = SqlOutboxRepository(self)
        self.sign_ins = SqlSignInRepository(self)
        self.operator_sign_ins = SqlOperatorSignInRepository(self)
        self.passwords = SqlPasswordCredentialRepository(self)
        self.push_tokens = SqlPushTokenRepository(self)

    # -- scope and transaction ------------------------------------------------------------
    def for_institution(self, institution_id: InstitutionId) -> Self:
        self._require_idle()
        self._scope = institution_id
        return self

    def for_platform(self) -> Self:
        self._require_idle()
        self._scope = _Scope.PLATFORM
        return self

    def __enter__(self) -> Self:
        if self._scope is _Scope.UNSET:
            raise RuntimeError("call for_institution() or for_platform() before entering")
        self._require_idle()
        try:
            self._conn = self.engine.connect()
            if self.is_postgres:
                # reads before the first write run in one round trip each, scope included
                # (see execute); the unit of work sends BEGIN itself when it first needs one
                self._driver(self._conn).autocommit = True
        except sa_exc.SQLAlchemyError as error:
            self._scope = _Scope.UNSET
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
        self._scope = _Scope.UNSET
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
                self._driver(conn).autocommit = False
            except Exception:  # noqa: BLE001 - psycopg refuses while a transaction is open
                conn.invalidate()  # never hand the pool a connection in an unknown state
        conn.close()

    @staticmethod
    def _announce(conn: Connection, cursor: Any, sql: str, parameters: Any) -> None:
        """Tell the engine's ``before_cursor_execute`` listeners (statement spies, tracing)
        about a statement sent on the driver connection, as SQLAlchemy does for its own."""
        if conn._has_events or conn.engine._has_events:
            conn.dispatch.before_cursor_execute(conn, cursor, sql, parameters, None, False)

    @staticmethod
    def _driver(conn: Connection) -> Any:
        return conn.connection.driver_connection

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

    def _require_idle(self) -> None:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already in a transaction")

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
            raise RuntimeError("use the repositories inside `with uow.for_institution(...)`")
        if self._scope_pending:
            self._scope_pending = False
            self._set_scope(self._conn)
        return self._conn

    def _scope_values(self) -> tuple[str, str]:
        tenant = "" if isinstance(self._scope, _Scope) else self._scope
        return tenant, "platform" if self._scope is _Scope.PLATFORM else "tenant"

    def _set_scope(self, conn: Connection) -> None:
        """``BEGIN`` and the scope in one round trip (pipeline mode)."""
        raw = self._driver(conn)
        try:
            with raw.cursor() as cursor, raw.pipeline():
                self._announce(conn, cursor, "BEGIN", ())
                cursor.execute("BEGIN")
                scope = self._scope_values()
                self._announce(conn, cursor, _SET_SCOPE, scope)
                cursor.execute(_SET_SCOPE, scope, prepare=True)
        except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
            raise self._driver_failed(conn, error, _SET_SCOPE, "scope") from None

    def _direct_read(
        self, statement: Select[Any], parameters: Mapping[str, Any] | None, kind: str
    ) -> Any | None:
        """Run a SELECT outside any transaction: the scope and the statement go in one
        pipeline, which PostgreSQL runs as one implicit transaction (so the scope holds
        for the statement and ends with it). None when the statement is not eligible."""
        direct = _SEEN.get(statement)
        if not isinstance(direct, _DirectRead):
            with _SEEN_LOCK:  # the first two sightings of a statement only
                direct = _SEEN.get(statement, _UNSEEN)
                if direct is _UNSEEN:
                    _SEEN[statement] = _ONCE
                    return None
                if direct is _ONCE:
                    direct = _SEEN[statement] = _DirectRead.compile(statement, self.engine)
            if not isinstance(direct, _DirectRead):
                return None
        assert self._conn is not None  # noqa: S101 - only called inside a with block
        raw = self._driver(self._conn)
        try:
            with raw.cursor() as scoping, raw.cursor() as reading:
                scope, values = self._scope_values(), direct.parameters(parameters)
                self._announce(self._conn, scoping, _SET_SCOPE, scope)
                self._announce(self._conn, reading, direct.sql, values)
                with raw.pipeline():
                    scoping.execute(_SET_SCOPE, scope, prepare=True)
                    reading.execute(direct.sql, values, prepare=True)
                rows = reading.fetchall()
        except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
            raise self._driver_failed(self._conn, error, direct.sql, kind) from None
        return direct.result(rows)

    def _driver_failed(
        self, conn: Connection, error: Exception, statement: str, kind: str
    ) -> AmsError:
        """The core error for a statement sent on the driver connection; a connection the
        failure broke is invalidated, as SQLAlchemy does on a disconnect it sees."""
        raw = self._driver(conn)
        if raw.closed or raw.broken:
            conn.invalidate()
        return translate_driver_error(error, statement, kind)

    def execute(
        self,
        statement: Executable,
        parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        kind: str = "row",
    ) -> Any:
        """Run a statement, turning database errors into core errors (a CursorResult)."""
        if not isinstance(statement, Select):
            self.written = True
        elif self._scope_pending and (parameters is None or isinstance(parameters, Mapping)):
            result = self._direct_read(statement, parameters, kind)
            if result is not None:
                return result
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

    def tenant(self) -> InstitutionId:
        """The institution of the open transaction."""
        if self._conn is None:
            raise RuntimeError("use the repositories inside `with uow.for_institution(...)`")
        if isinstance(self._scope, _Scope):
            raise PermissionDeniedError(
                "this repository works only inside an institution", code="tenant_required"
            )
        return self._scope

    def is_platform(self) -> bool:
        """Whether the open transaction is platform-wide."""
        if self._conn is None:
            raise RuntimeError("use the repositories inside `with uow.for_institution(...)`")
        return self._scope is _Scope.PLATFORM

    def require_platform(self) -> None:
        """Refuse a platform-only repository inside an institution scope."""
        if not self.is_platform():
            raise PermissionDeniedError(
                "this repository works only in the platform scope", code="platform_required"
            )


__all__ = ["AmsError", "SqlUnitOfWork"]
