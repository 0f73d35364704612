"""Statements sent straight to psycopg, past SQLAlchemy (ADR 0013).

On PostgreSQL a transaction's connection stays in autocommit mode until its first write.
Until then each ``SELECT`` goes to the driver in one pipeline after the scope, which
PostgreSQL runs as one implicit transaction: the scope holds for the statement and ends
with it. :class:`DirectRead` is such a statement, compiled once with SQLAlchemy's own value
processors; a statement is compiled only on its second sighting, so statements built
afresh for each call keep SQLAlchemy's cache. The first write sends ``BEGIN`` and the scope
together (:func:`begin_with_scope`) — in the same pipeline as the write itself when that
write compiles once (:func:`run_directly` with ``begin``, ADR 0020), so a check-in's write
costs one round trip and its commit another. After it, every statement that compiles once
runs on the driver inside the open transaction (:func:`run_in_transaction`); a write
without ``RETURNING`` answers its row count (:class:`Written`). A write whose answer
nobody reads can be held back (:class:`Deferred`) and sent in one pipeline with the next
statement or with ``COMMIT`` (:func:`send_deferred`): a round trip saved per such write.

A direct statement is kept with PostgreSQL's own ``$1`` placeholders and runs on a
``psycopg.RawCursor``, which sends it as it is: psycopg's usual cursor parses every
statement's ``%(name)s`` placeholders on each execution, and caches the result only for
statements under 4 KB (a teacher's dashboard is 5.5 KB), so converting once here saves a
dashboard ~0.1 ms of CPU and every other direct statement the cache lookup. One such cursor
is kept with each pooled connection for the connection's life (:func:`kept_cursor`) and runs
the scope and the statements alike: a new cursor would build its adapters map and a loader
for every result column again on each statement.

A statement built with ``.execution_options(**GENERIC_PLAN)`` runs on the generic plan of
its prepared statement (``plan_cache_mode`` set with the scope, for the transaction it runs
in): PostgreSQL otherwise plans some statements anew on every execution, when it estimates
a plan for the given values cheaper than the generic one. A teacher's dashboard was such a
statement: 0.7 ms of planning for 0.6 ms of execution, on every request (ADR 0020).

Only :class:`~ams_adapters.sql.transaction.SqlTransaction` uses this module (and the
repositories, for :data:`GENERIC_PLAN`).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from psycopg import RawCursor
from sqlalchemy.engine import Engine
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator

from ams_core.domain import AmsError

#: what runs directly: a SELECT, or an INSERT/UPDATE/DELETE
DirectStatement = Select[Any] | UpdateBase

# Transaction-local (is_local = true): cleared at COMMIT/ROLLBACK, so a pooled connection
# never carries one institution's scope into the next transaction.
SET_SCOPE = "SELECT set_config('app.institution_id', $1, true), set_config('app.scope', $2, true)"
#: the scope, and the generic plans of prepared statements until the transaction ends
SET_SCOPE_GENERIC_PLAN = (
    "SELECT set_config('app.institution_id', $1, true), set_config('app.scope', $2, true), "
    "set_config('plan_cache_mode', 'force_generic_plan', true)"
)
#: the execution option that marks a statement to run on its generic plan
_GENERIC_PLAN_OPTION = "ams_generic_plan"
#: execution options of a statement that runs on its generic plan (see the module's doc)
GENERIC_PLAN = {_GENERIC_PLAN_OPTION: True}
#: where a pooled connection's record keeps its cursor (``PoolProxiedConnection.info``)
_KEPT_CURSOR = "ams.direct.cursor"
#: a ``%(name)s`` placeholder or an escaped ``%`` in SQLAlchemy's psycopg (pyformat) SQL
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


def native_placeholders(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with PostgreSQL's ``$n`` placeholders instead of ``%(name)s`` (a name used
    twice is one parameter), and the parameters' names in ``$n`` order."""
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PYFORMAT.sub(placeholder, sql), tuple(names)


def kept_cursor(info: dict[Any, Any], raw: Any) -> RawCursor[Any]:
    """The ``RawCursor`` kept in ``info`` (a pooled connection's, which lives as long as the
    connection and is emptied when the pool replaces it) for the psycopg connection ``raw``;
    made on first use. One statement runs on it at a time: the transaction holding the
    connection is its only user."""
    cursor = info.get(_KEPT_CURSOR)
    if cursor is None or cursor.closed or cursor.connection is not raw:
        cursor = info[_KEPT_CURSOR] = RawCursor(raw)
    return cursor


class DriverSide(Protocol):
    """What a direct statement needs of the transaction it runs in."""

    def driver(self) -> Any:
        """The psycopg connection the transaction holds."""

    def cursor(self) -> RawCursor[Any]:
        """The ``RawCursor`` kept with that connection (:func:`kept_cursor`)."""

    def announce(self, cursor: Any, sql: str, parameters: Any) -> None:
        """Tell the engine's ``before_cursor_execute`` listeners about a statement."""

    def driver_failed(self, error: Exception, statement: str, kind: str) -> AmsError:
        """The core error for a failed statement (a broken connection is invalidated)."""


def begin_with_scope(side: DriverSide, scope: tuple[str, str]) -> None:
    """``BEGIN`` and the scope (institution, scope name) in one round trip (pipeline)."""
    raw, cursor = side.driver(), side.cursor()
    try:
        with raw.pipeline():
            side.announce(cursor, "BEGIN", ())
            cursor.execute("BEGIN")
            side.announce(cursor, SET_SCOPE, scope)
            cursor.execute(SET_SCOPE, scope, prepare=True)
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        raise side.driver_failed(error, SET_SCOPE, "scope") from None


@dataclasses.dataclass(frozen=True, slots=True)
class DirectRead:
    """A statement compiled once for psycopg, with SQLAlchemy's own value processors: a
    SELECT, or an INSERT, UPDATE or DELETE (with or without ``RETURNING``)."""

    #: with ``$n`` placeholders, for a ``RawCursor``
    sql: str
    #: the parameters' names, in ``$n`` order
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    bind: Mapping[str, Callable[[Any], Any]]
    keys: tuple[str, ...]
    #: (column position, processor) of the columns SQLAlchemy converts
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    #: the scope sent with it: ``SET_SCOPE``, or ``SET_SCOPE_GENERIC_PLAN`` when the
    #: statement was built with :data:`GENERIC_PLAN`
    scope_sql: str
    #: the result's column names, built once per statement (results only read it)
    metadata: SimpleResultMetaData = dataclasses.field(compare=False)
    #: a SELECT, or a write with RETURNING; a write without answers its row count
    returns_rows: bool = True
    #: picks the values of ``$1``, ``$2``, … from a mapping of all the values, as a tuple
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] = dataclasses.field(
        default=lambda values: (), compare=False
    )

    @classmethod
    def compile(cls, statement: DirectStatement, engine: Engine) -> DirectRead | None:
        """None when the statement needs per-call compilation (expanding ``IN`` lists)."""
        dialect = engine.dialect
        compiled: Any = statement.compile(dialect=dialect)
        if any(b.expanding for b in compiled.binds.values()):
            return None
        if compiled.insert_prefetch or compiled.update_prefetch:
            return None  # Python-side column defaults: SQLAlchemy's execution computes them
        columns = (
            statement.selected_columns
            if isinstance(statement, Select)
            else statement.exported_columns
        )
        processors = ((i, _result_processor(c.type, dialect)) for i, c in enumerate(columns))
        keys = tuple(map(str, columns.keys()))
        binds = {bind.key: bind.type for bind in compiled.binds.values()}
        sql, names = native_placeholders(str(compiled))
        return cls(
            sql=sql,
            names=names,
            defaults=dict(compiled.params),
            bind={
                name: _bind_processor(binds.get(name), dialect) or process
                for name, process in compiled._bind_processors.items()
            },
            keys=keys,
            results=tuple((i, p) for i, p in processors if p is not None),
            scope_sql=SET_SCOPE_GENERIC_PLAN
            if statement.get_execution_options().get(_GENERIC_PLAN_OPTION)
            else SET_SCOPE,
            metadata=SimpleResultMetaData(keys),
            returns_rows=isinstance(statement, Select) or bool(statement._returning),
            pick=_picker(names),
        )

    def parameters(self, given: Mapping[str, Any] | None) -> tuple[Any, ...]:
        """The values of ``$1``, ``$2``, … (given, else the statement's own)."""
        values = {**self.defaults, **(given or {})}
        for name, process in self.bind.items():
            if name in values:
                values[name] = process(values[name])
        return self.pick(values)

    def converted(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``rows`` as the driver gave them, with SQLAlchemy's result processors applied
        (a NULL stays None without a call: every processor here maps None to None)."""
        if not self.results:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for i, process in self.results:
                value = values[i]
                if value is not None:
                    values[i] = process(value)
            converted.append(tuple(values))
        return converted

    def result(self, rows: list[tuple[Any, ...]]) -> Any:
        """Converted ``rows`` as SQLAlchemy's result, what ``Connection.execute`` answers."""
        return IteratorResult(self.metadata, iter(rows))


def _result_processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """SQLAlchemy's result processor for a column of ``type_``; for one of our
    ``TypeDecorator`` types over a type the driver converts itself, its
    ``process_result_value`` called straight (the same call, one Python frame less)."""
    if (
        isinstance(type_, TypeDecorator)
        and type(type_).process_result_value is not TypeDecorator.process_result_value
        and type_.impl_instance._cached_result_processor(dialect, None) is None
    ):
        return functools.partial(type_.process_result_value, dialect=dialect)
    return type_._cached_result_processor(dialect, None)  # type: ignore[no-any-return]


def _bind_processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """As :func:`_result_processor`, for a parameter: ``process_bind_param`` called
    straight, or None to keep SQLAlchemy's own processor."""
    if (
        isinstance(type_, TypeDecorator)
        and type(type_).process_bind_param is not TypeDecorator.process_bind_param
        and type_.impl_instance._cached_bind_processor(dialect) is None
    ):
        return functools.partial(type_.process_bind_param, dialect=dialect)
    return None


def _picker(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """One C-level pick of the named values, as a tuple (``itemgetter`` of one name answers
    the value itself)."""
    if len(names) > 1:
        return operator.itemgetter(*names)
    if names:
        (name,) = names
        return lambda values: (values[name],)
    return lambda values: ()


@dataclasses.dataclass(frozen=True, slots=True)
class Written:
    """What a write without RETURNING answers: how many rows it changed."""

    rowcount: int


# statements seen once, then compiled on their second run: statements built afresh for
# each call are never compiled here (SQLAlchemy's own cache serves them better)
_SIGHTINGS: weakref.WeakKeyDictionary[DirectStatement, object] = weakref.WeakKeyDictionary()
_NEVER_SEEN = object()
_SEEN_ONCE = object()
_SIGHTINGS_LOCK = threading.Lock()


def direct_read_of(statement: DirectStatement, engine: Engine) -> DirectRead | None:
    """The statement compiled to run directly, from its second sighting on; None on its
    first sighting and for statements that cannot run directly."""
    direct = _SIGHTINGS.get(statement)
    if not isinstance(direct, DirectRead):
        with _SIGHTINGS_LOCK:  # the first two sightings of a statement only
            direct = _SIGHTINGS.get(statement, _NEVER_SEEN)
            if direct is _NEVER_SEEN:
                _SIGHTINGS[statement] = _SEEN_ONCE
                return None
            if direct is _SEEN_ONCE:
                direct = _SIGHTINGS[statement] = DirectRead.compile(statement, engine)
        if not isinstance(direct, DirectRead):
            return None
    return direct


def run_directly(
    side: DriverSide,
    direct: DirectRead,
    scope: tuple[str, str],
    parameters: Mapping[str, Any] | None,
    kind: str,
    *,
    begin: bool,
) -> Any:
    """The scope and the statement in one pipeline: one round trip. Answers the converted
    rows (:meth:`DirectRead.converted`), or :class:`Written` for a write without RETURNING.

    Without ``begin`` (a SELECT before any write), PostgreSQL runs the pipeline as one
    implicit transaction, so the scope holds for the statement and ends with it. With
    ``begin`` (the first write), ``BEGIN`` goes first and the transaction stays open.
    """
    raw, cursor = side.driver(), side.cursor()
    try:
        values = direct.parameters(parameters)
        if begin:
            side.announce(cursor, "BEGIN", ())
        side.announce(cursor, direct.scope_sql, scope)
        side.announce(cursor, direct.sql, values)
        with raw.pipeline():
            if begin:
                cursor.execute("BEGIN")
            cursor.execute(direct.scope_sql, scope, prepare=True)
            # the cursor answers the last statement it ran: this one
            cursor.execute(direct.sql, values, prepare=True)
        answer = _answer(cursor, direct)
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        raise side.driver_failed(error, direct.sql, kind) from None
    return answer if isinstance(answer, Written) else direct.converted(answer)


@dataclasses.dataclass(frozen=True, slots=True)
class Deferred:
    """A write whose answer nobody reads, held back to go with the next statement."""

    direct: DirectRead
    values: tuple[Any, ...]
    kind: str


def run_in_transaction(
    side: DriverSide,
    direct: DirectRead,
    parameters: Mapping[str, Any] | None,
    kind: str,
    deferred: Sequence[Deferred] = (),
) -> Any:
    """The statement, inside the transaction already begun (BEGIN and the scope were sent
    with its first write), after the ``deferred`` writes in the same pipeline: one round
    trip, without SQLAlchemy's execution around it. Answers as :func:`run_directly`."""
    raw, cursor = side.driver(), side.cursor()
    try:
        values = direct.parameters(parameters)
        if deferred:
            with raw.pipeline():
                _send(side, cursor, deferred)
                side.announce(cursor, direct.sql, values)
                cursor.execute(direct.sql, values, prepare=True)
        else:
            side.announce(cursor, direct.sql, values)
            cursor.execute(direct.sql, values, prepare=True)
        answer = _answer(cursor, direct)
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        raise side.driver_failed(error, direct.sql, _kinds(deferred, kind)) from None
    return answer if isinstance(answer, Written) else direct.converted(answer)


def send_deferred(side: DriverSide, deferred: Sequence[Deferred], *, commit: bool) -> None:
    """The ``deferred`` writes in one pipeline, with ``COMMIT`` after them if asked: one
    round trip. A write that fails aborts the rest (the COMMIT included)."""
    raw, cursor = side.driver(), side.cursor()
    try:
        with raw.pipeline():
            _send(side, cursor, deferred)
            if commit:
                side.announce(cursor, "COMMIT", ())
                cursor.execute("COMMIT")
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        statement = "COMMIT" if commit else deferred[-1].direct.sql
        raise side.driver_failed(error, statement, _kinds(deferred, "row")) from None


def _send(side: DriverSide, cursor: Any, deferred: Sequence[Deferred]) -> None:
    for write in deferred:
        side.announce(cursor, write.direct.sql, write.values)
        cursor.execute(write.direct.sql, write.values, prepare=True)


def _kinds(deferred: Sequence[Deferred], kind: str) -> str:
    """The noun for an error of one statement of a pipeline (which one is not known)."""
    return " or ".join(dict.fromkeys([*(d.kind for d in deferred), kind]))


def _answer(cursor: Any, direct: DirectRead) -> list[tuple[Any, ...]] | Written:
    """The rows the statement returned, or its row count when it returns none."""
    return cursor.fetchall() if direct.returns_rows else Written(cursor.rowcount)


__all__ = [
    "SET_SCOPE",
    "Deferred",
    "DirectRead",
    "DirectStatement",
    "DriverSide",
    "Written",
    "begin_with_scope",
    "direct_read_of",
    "kept_cursor",
    "run_directly",
    "run_in_transaction",
    "send_deferred",
]
