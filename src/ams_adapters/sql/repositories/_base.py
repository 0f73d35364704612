"""What every SQL repository shares: prebuilt statements, the institution parameter,
``IN`` lists, joined reads, and the two repository base classes."""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    String,
    Table,
    any_,
    bindparam,
    delete,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import BindParameter, ColumnElement

from ams_adapters.sql.errors import translate_driver_error
from ams_adapters.sql.transaction import SqlTransaction
from ams_core.domain import (
    ConcurrencyError,
    ConflictError,
    InstitutionId,
    NotFoundError,
    PermissionDeniedError,
)

K = TypeVar("K")
E = TypeVar("E")

# below this many rows one multi-row INSERT beats COPY through a staging table
_COPY_FROM = 1000

_PREBUILT: dict[tuple[str, ...], Any] = {}


def insert_from_arrays(
    table: str,
    columns: Sequence[str],
    array_types: Mapping[str, str],
    rows: Sequence[Mapping[str, Any]],
    tail: str = "",
) -> tuple[Any, dict[str, Any]]:
    """One ``INSERT INTO table (columns) SELECT … FROM unnest(…) tail`` of every row
    (PostgreSQL), and its parameters: a fixed statement the server prepares once, where
    executemany sends a statement per row.

    A column whose value is the same in every row goes as one scalar, the others as
    arrays: psycopg turns arrays into text element by element in Python, so a
    completion's absences — alike but for the student — send one array instead of a dozen
    (that conversion was a sixth of a completion's time). Columns not in ``array_types``
    are ``varchar[]``; parameter ``c<i>`` holds column ``i``.
    """
    values = [[row[column] for row in rows] for column in columns]
    varying = {i for i, column in enumerate(values) if any(v != column[0] for v in column)}
    if not varying and len(rows) > 1:
        varying = {len(columns) - 1}  # at least one array, so that n alike rows stay n rows
    params: dict[str, Any] = {}
    picks: list[str] = []
    arrays: list[str] = []
    for i, column in enumerate(columns):
        array_type = array_types.get(column, "varchar[]")
        if i in varying:
            params[f"c{i}"] = values[i]
            picks.append(f"u.v{i}")
            arrays.append(f"CAST(:c{i} AS {array_type})")
        else:
            params[f"c{i}"] = values[i][0]
            picks.append(f"CAST(:c{i} AS {array_type.removesuffix('[]')})")
    names = ", ".join(f"v{i}" for i in sorted(varying))
    source = f" FROM unnest({', '.join(arrays)}) AS u({names})" if arrays else ""
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(picks)}{source} {tail}"
    ).rstrip()
    return prebuilt(("arrays", sql), lambda: text(sql)), params


def prebuilt(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """A statement built once per process: building and hashing SQLAlchemy constructs costs
    more than running a simple indexed query, so hot paths reuse them with bound values."""
    statement = _PREBUILT.get(key)
    if statement is None:
        statement = _PREBUILT[key] = build()
    return statement


#: the ``:iid`` parameter of prebuilt statements: the institution of the open transaction
INSTITUTION_ID: BindParameter[str] = bindparam("iid", type_=String())


def one_of(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN (:ids)``: one array parameter on PostgreSQL (a fixed statement the server
    prepares once and the unit of work can run directly), an expanding list elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(String())))
    return column.in_(bindparam("ids", expanding=True))


@dataclasses.dataclass(frozen=True)
class JoinedEntity:
    """One table's entity in a joined read: its columns labelled ``prefix + name`` (an
    empty prefix keeps the names, so the mapper reads the row as it is), and the entity
    read back from a row of the join."""

    prefix: str
    table: Table
    #: a column that is NULL exactly when the join found no row
    key: str
    from_row: Callable[[Any], Any]

    def columns(self, source: Any = None) -> list[Any]:
        """The labelled columns, of ``source`` (an alias or lateral of the table) if given."""
        columns = (self.table if source is None else source).c
        return [c.label(self.prefix + c.name) for c in columns]

    @functools.cached_property
    def _names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.c)

    @functools.cached_property
    def _labelled(self) -> Callable[[Any], tuple[Any, ...]]:
        # one C-level lookup of every label instead of one Python-level lookup each
        return operator.itemgetter(*(self.prefix + c.name for c in self.table.c))

    def entity(self, row: Any) -> Any:
        """The part's entity in ``row``, or None where the join found none."""
        if row[self.prefix + self.key] is None:
            return None
        if not self.prefix:
            return self.from_row(row)
        return self.from_row(dict(zip(self._names, self._labelled(row), strict=True)))


class SqlRepository:
    """Base of every repository: statements run through the transaction, in its scope."""

    def __init__(self, transaction: SqlTransaction) -> None:
        self._transaction = transaction

    def _institution_id(self) -> InstitutionId:
        """The institution of the open transaction (refused in the platform scope)."""
        return self._transaction.tenant()

    @property
    def _dialect(self) -> str:
        return self._transaction.engine.dialect.name

    def _check_owned(self, entity: Any) -> None:
        """Refuse an entity of another institution than the transaction's."""
        if entity.institution_id != self._institution_id():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def _owned_rows(
        self, entities: Iterable[E], to_row: Callable[[E], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The rows of ``entities``, refusing any that belongs to another institution."""
        rows = []
        for entity in entities:
            self._check_owned(entity)
            rows.append(to_row(entity))
        return rows

    def _insert(self, table: Table) -> Any:
        """An INSERT of the dialect (for ``ON CONFLICT``)."""
        module = postgresql if self._transaction.is_postgres else sqlite
        return module.insert(table)

    def _bulk_insert(self, table: Table, rows: Sequence[Mapping[str, Any]], kind: str) -> None:
        """Insert many rows, all or none: executemany on SQLite; on PostgreSQL COPY into a
        temporary staging table, then one INSERT ... SELECT (COPY cannot write into a table
        under row-level security, and the INSERT is still checked by the policies)."""
        if not rows:
            return
        # a savepoint keeps a failed batch from poisoning the rest of the transaction
        with self._transaction.savepoint():
            if self._transaction.is_postgres and len(rows) >= _COPY_FROM:
                self._copy_insert(table, rows, kind)
            else:
                self._transaction.execute(table.insert(), rows, kind)

    def _copy_insert(self, table: Table, rows: Sequence[Mapping[str, Any]], kind: str) -> None:
        names = ", ".join(rows[0])
        self._through_stage(
            table,
            rows,
            kind,
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {{stage}}",  # noqa: S608
        )

    def _through_stage(
        self, table: Table, rows: Sequence[Mapping[str, Any]], kind: str, statement: str
    ) -> list[tuple[Any, ...]]:
        """COPY ``rows`` into a temporary table like ``table``, run ``statement`` (with
        ``{stage}`` naming that table) and return its rows. PostgreSQL only."""
        self._transaction.written = True
        columns = list(rows[0])
        names = ", ".join(columns)
        stage = f"ams_stage_{table.name}_{len(columns)}"
        raw = self._transaction.connection().connection.driver_connection
        values = operator.itemgetter(*columns)
        as_json = any(isinstance(table.c[c].type, JSON) for c in columns)
        try:
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                # names come from our table definitions, never from input
                create_stage = (
                    f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608
                    f"SELECT {names} FROM {table.name} WITH NO DATA"
                )
                cursor.execute(create_stage)
                with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        if as_json:
                            copy.write_row([_copy_value(row[c]) for c in columns])
                        else:
                            copy.write_row(values(row))
                cursor.execute(statement.format(stage=stage))
                result = cursor.fetchall() if cursor.description else []
                cursor.execute(f"TRUNCATE {stage}")
                return result
        except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
            raise translate_driver_error(error, "COPY", kind) from None


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


class KeyedTableRepository(SqlRepository, Generic[K, E]):
    """find/get/add/update on a table keyed by (institution_id, key)."""

    table: Table
    key: str
    kind: str
    order_by: tuple[str, ...] = ()
    #: reference data kept in the transaction's ReferenceCache (whole table per institution)
    cached: bool = False
    to_row: Callable[[E], dict[str, Any]]
    from_row: Callable[[Any], E]

    def _key_of(self, entity: E) -> K:
        # the key columns ("id", "code") carry the entities' attribute names
        return getattr(entity, self.key)  # type: ignore[no-any-return]

    def _select_where(
        self,
        name: str = "all",
        conditions: Callable[[], Sequence[ColumnElement[bool]]] = tuple,
        **params: Any,
    ) -> list[E]:
        """Rows of this institution matching ``conditions`` (built once, under ``name``,
        with bound parameters given in ``params``), in the table's order."""

        def build() -> Any:
            stmt = select(self.table).where(
                self.table.c.institution_id == INSTITUTION_ID, *conditions()
            )
            if self.order_by:
                stmt = stmt.order_by(*(self.table.c[c] for c in self.order_by))
            return stmt

        stmt = prebuilt((self.table.name, "select", name), build)
        convert = type(self).from_row
        params = {"iid": self._institution_id(), **params}
        rows = self._transaction.execute(stmt, params).mappings().all()
        return [convert(row) for row in rows]

    def _all_cached(self) -> dict[K, E]:
        cache_key = (self.kind, self._institution_id())
        found: dict[K, E] | None = self._transaction.cache.get(cache_key)
        if found is None:
            found = {self._key_of(e): e for e in self._select_where()}
            if not self._transaction.written:
                self._transaction.cache.put(cache_key, found)
        return found

    def _invalidate_cache(self) -> None:
        if self.cached:
            self._transaction.cache.invalidate((self.kind, self._institution_id()))

    def find(self, key: K) -> E | None:
        if self.cached:
            return self._all_cached().get(key)
        found = self._select_where(
            "by key", lambda: [self.table.c[self.key] == bindparam("key")], key=key
        )
        return found[0] if found else None

    def get(self, key: K) -> E:
        found = self.find(key)
        if found is None:
            raise NotFoundError(self.kind, key)
        return found

    def add(self, entity: E) -> None:
        self._check_owned(entity)
        self._invalidate_cache()
        self._transaction.execute(self.table.insert(), type(self).to_row(entity), kind=self.kind)

    def update(self, entity: E) -> E:
        return self._update(entity, locked=False)

    def _update(self, entity: E, *, locked: bool) -> E:
        """UPDATE the row at the entity's version. ``locked``: this transaction wrote the row
        at that version itself, so it holds the row's lock and the UPDATE cannot miss — it
        goes with the next statement or the COMMIT instead of a round trip of its own."""
        self._check_owned(entity)
        version: int = getattr(entity, "version")  # noqa: B009
        row = type(self).to_row(entity)
        row["version"] = version + 1
        key = self._key_of(entity)
        self._invalidate_cache()
        columns = tuple(row)
        stmt = prebuilt(
            (self.table.name, "update", *columns),
            lambda: (
                update(self.table)
                .where(
                    self.table.c.institution_id == bindparam("b_iid"),
                    self.table.c[self.key] == bindparam("b_key"),
                    self.table.c.version == bindparam("b_version"),
                )
                .values({c: bindparam(f"v_{c}") for c in columns})
            ),
        )
        params = {f"v_{c}": v for c, v in row.items()}
        params.update(b_iid=self._institution_id(), b_key=key, b_version=version)
        if locked:
            self._transaction.execute_later(stmt, params, kind=self.kind)
            return dataclasses.replace(entity, version=version + 1)  # type: ignore[type-var]
        result = self._transaction.execute(stmt, params, kind=self.kind)
        if result.rowcount == 0:
            if self.find(key) is None:
                raise NotFoundError(self.kind, key)
            raise ConcurrencyError(f"{self.kind} {key} was changed by someone else; reload it")
        return dataclasses.replace(entity, version=version + 1)  # type: ignore[type-var]

    #: rows that refer to this table's rows without a foreign key (so the database does not
    #: refuse the DELETE by itself): (table, column, what the message says)
    unkeyed_references: tuple[tuple[Table, str, str], ...] = ()

    def _refuse_if_referenced(self, key: K, table: Table, column: str, reason: str) -> None:
        stmt = prebuilt(
            (self.table.name, "referenced by", table.name, column),
            lambda: (
                select(literal(1))
                .where(
                    table.c.institution_id == INSTITUTION_ID, table.c[column] == bindparam("key")
                )
                .limit(1)
            ),
        )
        params = {"iid": self._institution_id(), "key": key}
        if self._transaction.execute(stmt, params).first() is not None:
            raise ConflictError(f"{self.kind} {key} {reason}", code="in_use")

    def _remove(self, key: K) -> bool:
        """DELETE the row under ``key``; False if there was none. A row still referred to is
        a ConflictError ``in_use`` (the foreign keys are ON DELETE RESTRICT)."""
        self._invalidate_cache()
        stmt = prebuilt(
            (self.table.name, "remove"),
            lambda: delete(self.table).where(
                self.table.c.institution_id == INSTITUTION_ID,
                self.table.c[self.key] == bindparam("key"),
            ),
        )
        # the savepoint keeps a refused DELETE from aborting the caller's transaction on
        # PostgreSQL, and takes the row back when a reference without a foreign key shows
        with self._transaction.savepoint():
            params = {"iid": self._institution_id(), "key": key}
            result = self._transaction.execute(stmt, params, kind=self.kind)
            removed = bool(result.rowcount > 0)
            if removed:  # a missing row is just not there, whatever else names its key
                for table, column, reason in self.unkeyed_references:
                    self._refuse_if_referenced(key, table, column, reason)
        return removed

    def _add_many(self, entities: Iterable[E]) -> int:
        """Insert new rows all together (COPY on PostgreSQL for large batches)."""
        self._invalidate_cache()
        rows = self._owned_rows(entities, type(self).to_row)
        self._bulk_insert(self.table, rows, self.kind)
        return len(rows)

    def _list_all(self) -> list[E]:
        if self.cached:
            return list(self._all_cached().values())
        return self._select_where()
