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

A direct statement is kept with PostgreSQL's own ``$1`` placeholders and goes to libpq as
it is, through a :class:`Wire`: psycopg's usual cursor parses every statement's
``%(name)s`` placeholders on each execution, and caches the result only for statements
under 4 KB (a teacher's dashboard is 5.5 KB), so converting once here saves a dashboard
~0.1 ms of CPU. The wire sends each pipeline's statements through libpq's own pipeline
calls, prepares each statement once per connection under a name of its own, and dumps
values and loads rows with psycopg's ``Transformer`` (its C code), as a ``RawCursor`` does:
a cursor's Python around each statement (its prepared-statement cache, query conversion,
result bookkeeping) cost a check-in as much as the rest of this adapter. One wire is kept
with each pooled connection for the connection's life (:func:`kept_wire`). psycopg itself
prepares nothing on these connections (``prepare_threshold=None``, ``engine.py``): its
cache sends ``DEALLOCATE ALL`` on every rollback, which would drop the wire's statements
too. A session that lost them anyway (a pooler, a tool) prepares them again; a pipeline
that began outside a transaction is sent again at once (ADR 0013, session 25).

A statement built with ``.execution_options(**GENERIC_PLAN)`` runs on the generic plan of
its prepared statement (``plan_cache_mode`` set with the scope, for the transaction it runs
in): PostgreSQL otherwise plans some statements anew on every execution, when it estimates
a plan for the given values cheaper than the generic one. A teacher's dashboard was such a
statement: 0.7 ms of planning for 0.6 ms of execution, on every request (ADR 0020).

Only :class:`~ams_adapters.sql.transaction.SqlTransaction` uses this module (and the
repositories, for :data:`GENERIC_PLAN`).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import operator
import re
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, pipeline_communicate
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
#: where a pooled connection's record keeps its wire (``PoolProxiedConnection.info``)
_KEPT_WIRE = "ams.direct.wire"
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


_FATAL_ERROR = pq.ExecStatus.FATAL_ERROR
_PIPELINE_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_PIPELINE_SYNC = pq.ExecStatus.PIPELINE_SYNC
_COMMAND_OK = pq.ExecStatus.COMMAND_OK
_TEXT = pq.Format.TEXT
_BAD = pq.ConnStatus.BAD
_IDLE = pq.TransactionStatus.IDLE
_INERROR = pq.TransactionStatus.INERROR
#: a statement to send: its SQL, and its values (None: a statement without parameters,
#: ``BEGIN`` or ``COMMIT``, sent unprepared)
Outgoing = tuple[bytes, tuple[Any, ...] | None]


class Wire:
    """A psycopg connection driven through libpq in pipeline mode, past psycopg's cursors.

    Each pipeline sends its statements and one ``Sync``, and answers each statement's
    result: one round trip. A statement with parameters is prepared on its first use on
    the connection (named ``ams_<n>``; psycopg's own prepared statements are ``_pg3_<n>``)
    and executed by name from then on; values are dumped and rows loaded by a psycopg
    ``Transformer``, as a ``RawCursor`` does. A cursor spends about as much Python on
    each statement as the rest of a check-in's SQL adapter (its prepared-statement cache,
    query conversion, result bookkeeping), so this does the same work with less.
    """

    __slots__ = ("_names", "_prepared", "_transformer", "encoding", "pgconn", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.pgconn = raw.pgconn
        self.encoding: str = raw.info.encoding
        self._transformer = Transformer(raw)
        #: (SQL, parameter types) → name of the statement prepared on this connection
        self._names: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        #: statements prepared so far (each name is used once, even if its PREPARE failed)
        self._prepared = 0

    def pipeline(
        self, statements: Sequence[Outgoing], *, retry: bool = True
    ) -> list[pq.abc.PGresult]:
        """Send ``statements`` in one pipeline; their results, in order. Raises psycopg's
        error for the first statement that failed (the ones after it did not run)."""
        pgconn, transformer, names = self.pgconn, self._transformer, self._names
        commands: collections.deque[Callable[[], None]] = collections.deque()
        # per command sent: (key, name) of a statement being prepared, or None
        prepares: list[tuple[tuple[bytes, tuple[int, ...]], bytes] | None] = []
        preparing: dict[tuple[bytes, tuple[int, ...]], bytes] = {}
        for sql, values in statements:
            if values is None:
                commands.append(functools.partial(pgconn.send_query_params, sql, None))
                prepares.append(None)
                continue
            dumped = transformer.dump_sequence(values, [PyFormat.AUTO] * len(values))
            types, formats = transformer.types or (), transformer.formats
            key = (sql, types)
            name = names.get(key) or preparing.get(key)
            if name is None:
                self._prepared += 1
                name = preparing[key] = b"ams_%d" % self._prepared
                commands.append(
                    functools.partial(pgconn.send_prepare, name, sql, param_types=types)
                )
                prepares.append((key, name))
            commands.append(
                functools.partial(
                    pgconn.send_query_prepared,
                    name,
                    dumped,
                    param_formats=formats,
                    result_format=_TEXT,
                )
            )
            prepares.append(None)
        commands.append(pgconn.pipeline_sync)
        idle = pgconn.transaction_status == _IDLE
        fetched = self._exchange(commands)
        results, failure = [], None
        for (result, *_), prepared in zip(fetched, prepares, strict=True):
            status = result.status
            if status == _FATAL_ERROR:
                failure = failure or errors.error_from_result(result, encoding=self.encoding)
            elif status == _PIPELINE_ABORTED:
                failure = failure or errors.PipelineAborted("pipeline aborted")
            elif prepared is not None:
                if status == _COMMAND_OK:  # prepared: executed by name from now on
                    names[prepared[0]] = prepared[1]
            else:
                results.append(result)
        if failure is None:
            return results
        if isinstance(failure, errors.InvalidSqlStatementName):
            # the session lost its prepared statements (``DEALLOCATE ALL`` or ``DISCARD
            # ALL`` sent by someone else): prepared again from the next pipeline on, and
            # this one sent again if it began outside a transaction (nothing it did stays)
            names.clear()
            if idle and retry:
                if pgconn.transaction_status == _INERROR:
                    self._exchange(
                        collections.deque(
                            (
                                functools.partial(pgconn.send_query_params, b"ROLLBACK", None),
                                pgconn.pipeline_sync,
                            )
                        )
                    )
                return self.pipeline(statements, retry=False)
        raise failure

    def rows(self, result: pq.abc.PGresult) -> list[tuple[Any, ...]]:
        """The rows of ``result`` as tuples, loaded as a ``RawCursor`` loads them."""
        transformer = self._transformer
        transformer.set_pgresult(result)
        rows: list[tuple[Any, ...]] = transformer.load_rows(0, result.ntuples, tuple)
        transformer.set_pgresult(None)
        return rows

    def _exchange(self, commands: collections.deque[Callable[[], None]]) -> list[Any]:
        """Run ``commands`` (ending with a ``Sync``) in pipeline mode; the result sets of the
        commands before the ``Sync``, in order."""
        raw, pgconn = self.raw, self.pgconn
        pgconn.enter_pipeline_mode()
        try:
            fetched: list[Any] = raw.wait(pipeline_communicate(pgconn, commands))
            while not fetched or fetched[-1][0].status != _PIPELINE_SYNC:
                if not (more := raw.wait(fetch_many(pgconn))):
                    raise errors.OperationalError("the pipeline's results ended before its Sync")
                fetched.append(more)
        except BaseException:
            self._leave_pipeline(failed=True)
            raise
        self._leave_pipeline(failed=False)
        return fetched[:-1]

    def _leave_pipeline(self, *, failed: bool) -> None:
        if self.pgconn.status == _BAD:
            return
        try:
            self.pgconn.exit_pipeline_mode()
        except errors.OperationalError:
            # results left unread (an interrupted exchange): the connection is unusable,
            # so it is closed, and the pool replaces it (``driver_failed``)
            self.raw.close()
            if not failed:
                raise


def kept_wire(info: dict[Any, Any], raw: Any) -> Wire:
    """The :class:`Wire` kept in ``info`` (a pooled connection's, which lives as long as the
    connection and is emptied when the pool replaces it) for the psycopg connection ``raw``;
    made on first use. One statement runs on it at a time: the transaction holding the
    connection is its only user."""
    wire = info.get(_KEPT_WIRE)
    if wire is None or wire.raw is not raw:
        wire = info[_KEPT_WIRE] = Wire(raw)
    return wire


class DriverSide(Protocol):
    """What a direct statement needs of the transaction it runs in."""

    def wire(self) -> Wire:
        """The :class:`Wire` kept with the transaction's connection (:func:`kept_wire`)."""

    def announce(self, sql: str, parameters: Any) -> None:
        """Tell the engine's ``before_cursor_execute`` listeners about a statement."""

    def driver_failed(self, error: Exception, statement: str, kind: str) -> AmsError:
        """The core error for a failed statement (a broken connection is invalidated)."""


_BEGIN, _COMMIT, _SET_SCOPE_WIRE = b"BEGIN", b"COMMIT", SET_SCOPE.encode()


def begin_with_scope(side: DriverSide, scope: tuple[str, str]) -> None:
    """``BEGIN`` and the scope (institution, scope name) in one round trip (pipeline)."""
    try:
        side.announce("BEGIN", ())
        side.announce(SET_SCOPE, scope)
        side.wire().pipeline(((_BEGIN, None), (_SET_SCOPE_WIRE, scope)))
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        raise side.driver_failed(error, SET_SCOPE, "scope") from None


@dataclasses.dataclass(frozen=True, slots=True)
class DirectRead:
    """A statement compiled once for psycopg, with SQLAlchemy's own value processors: a
    SELECT, or an INSERT, UPDATE or DELETE (with or without ``RETURNING``)."""

    #: with ``$n`` placeholders, as :class:`Wire` sends it
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
    #: ``sql`` and ``scope_sql`` encoded, as libpq takes them
    wire_sql: bytes = dataclasses.field(default=b"", compare=False)
    wire_scope: bytes = dataclasses.field(default=b"", compare=False)

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
        generic = statement.get_execution_options().get(_GENERIC_PLAN_OPTION)
        scope_sql = SET_SCOPE_GENERIC_PLAN if generic else SET_SCOPE
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
            scope_sql=scope_sql,
            metadata=SimpleResultMetaData(keys),
            returns_rows=isinstance(statement, Select) or bool(statement._returning),
            pick=_picker(names),
            wire_sql=sql.encode(),
            wire_scope=scope_sql.encode(),
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
    try:
        values = direct.parameters(parameters)
        outgoing: list[Outgoing] = [(direct.wire_scope, scope), (direct.wire_sql, values)]
        if begin:
            side.announce("BEGIN", ())
            outgoing.insert(0, (_BEGIN, None))
        side.announce(direct.scope_sql, scope)
        side.announce(direct.sql, values)
        wire = side.wire()
        answer = _answer(wire, wire.pipeline(outgoing)[-1], direct)
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
    try:
        values = direct.parameters(parameters)
        outgoing = _announced(side, deferred)
        side.announce(direct.sql, values)
        outgoing.append((direct.wire_sql, values))
        wire = side.wire()
        answer = _answer(wire, wire.pipeline(outgoing)[-1], direct)
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        raise side.driver_failed(error, direct.sql, _kinds(deferred, kind)) from None
    return answer if isinstance(answer, Written) else direct.converted(answer)


def send_deferred(side: DriverSide, deferred: Sequence[Deferred], *, commit: bool) -> None:
    """The ``deferred`` writes in one pipeline, with ``COMMIT`` after them if asked: one
    round trip. A write that fails aborts the rest (the COMMIT included)."""
    try:
        outgoing = _announced(side, deferred)
        if commit:
            side.announce("COMMIT", ())
            outgoing.append((_COMMIT, None))
        side.wire().pipeline(outgoing)
    except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
        statement = "COMMIT" if commit else deferred[-1].direct.sql
        raise side.driver_failed(error, statement, _kinds(deferred, "row")) from None


def _announced(side: DriverSide, deferred: Sequence[Deferred]) -> list[Outgoing]:
    """The ``deferred`` writes to send, each told to the listeners."""
    outgoing: list[Outgoing] = []
    for write in deferred:
        side.announce(write.direct.sql, write.values)
        outgoing.append((write.direct.wire_sql, write.values))
    return outgoing


def _kinds(deferred: Sequence[Deferred], kind: str) -> str:
    """The noun for an error of one statement of a pipeline (which one is not known)."""
    return " or ".join(dict.fromkeys([*(d.kind for d in deferred), kind]))


def _answer(wire: Wire, result: Any, direct: DirectRead) -> list[tuple[Any, ...]] | Written:
    """The rows the statement returned, or its row count when it returns none."""
    if direct.returns_rows:
        return wire.rows(result)
    count = result.command_tuples
    return Written(-1 if count is None else count)


__all__ = [
    "SET_SCOPE",
    "Deferred",
    "DirectRead",
    "DirectStatement",
    "DriverSide",
    "Wire",
    "Written",
    "begin_with_scope",
    "direct_read_of",
    "kept_wire",
    "run_directly",
    "run_in_transaction",
    "send_deferred",
]
