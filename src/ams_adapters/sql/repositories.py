"""Repositories of the SQL adapter: explicit statements per aggregate, no ORM."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import (
    Date,
    Integer,
    String,
    Table,
    Time,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import BindParameter, ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.errors import translate_driver_error
from ams_core.domain import (
    AssignmentId,
    AssignmentSummary,
    AttendanceMark,
    AuditEntry,
    ClassSession,
    ConcurrencyError,
    ConflictError,
    CoverAssignment,
    CoverId,
    DateRange,
    DeliveryReport,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    NotFoundError,
    Notification,
    NotificationId,
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    PermissionDeniedError,
    PushToken,
    Recipient,
    Section,
    SectionId,
    SecurityEvent,
    SessionCounts,
    SessionId,
    SessionStatus,
    SignIn,
    SignInId,
    SlotId,
    StatusTally,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
    digest_token,
)
from ams_core.domain.people import fold_email, require_distinct_ids
from ams_core.ports import (
    AssignmentRepository,
    AuditRepository,
    CheckInAttemptRepository,
    CheckInContext,
    CoverAssignmentRepository,
    DeviceBindingRepository,
    FacultyRepository,
    FailureCounts,
    HolidayRepository,
    InstitutionRepository,
    MarkRepository,
    OperatorSignInRepository,
    OutboxRepository,
    PasswordCredentialRepository,
    PushTokenRepository,
    SectionRepository,
    SecurityEventFilter,
    SecurityEventRepository,
    SentNotification,
    SessionRepository,
    SignInRepository,
    Slice,
    SlotRepository,
    StudentClasses,
    StudentRepository,
    SubjectRepository,
    TermRepository,
    UpsertCounts,
)

if TYPE_CHECKING:
    from ams_adapters.sql.persistence import SqlUnitOfWork

K = TypeVar("K")
E = TypeVar("E")

_COMPLETED = SessionStatus.COMPLETED.value
_UPCOMING = (SessionStatus.SCHEDULED.value, SessionStatus.OPEN.value)
_BATCH = 500
# below this many rows one multi-row INSERT beats COPY through a staging table
_COPY_FROM = 1000
_ORDERED_STATUSES = ("present", "late", "absent", "excused")


_PREBUILT: dict[tuple[str, ...], Any] = {}


def prebuilt(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """A statement built once per process: building and hashing SQLAlchemy constructs costs
    more than running a simple indexed query, so hot paths reuse them with bound values."""
    statement = _PREBUILT.get(key)
    if statement is None:
        statement = _PREBUILT[key] = build()
    return statement


IID: BindParameter[str] = bindparam("iid", type_=String())


def _is_upcoming(sessions: Any = None) -> ColumnElement[bool]:
    """A session (of ``sessions``, default the table) still to come: scheduled or open."""
    status = (_S if sessions is None else sessions.c).status
    # not IN (…): a literal list compiles to an expanding parameter, which direct reads skip
    return or_(*(status == value for value in _UPCOMING))


def _starts_from_now(sessions: Any = None) -> ColumnElement[bool]:
    """An upcoming session starting at or after the ``today``/``now`` parameters."""
    c = _S if sessions is None else sessions.c
    now = tuple_(bindparam("today", type_=Date()), bindparam("now", type_=Time()))
    return and_(_is_upcoming(sessions), tuple_(c.day, c.start_time) >= now)


@dataclasses.dataclass(frozen=True)
class _Part:
    """One table's columns in a joined read, labelled ``prefix + name`` (an empty prefix
    keeps the names, so the mapper reads the row as it is)."""

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
    def _names(self) -> tuple[tuple[str, str], ...]:
        return tuple((c.name, self.prefix + c.name) for c in self.table.c)

    def entity(self, row: Any) -> Any:
        """The part's entity in ``row``, or None where the join found none."""
        if row[self.prefix + self.key] is None:
            return None
        if not self.prefix:
            return self.from_row(row)
        return self.from_row({name: row[label] for name, label in self._names})


_SESSION_PART = _Part("", t.sessions, "id", m.session_from)
_STUDENT_PART = _Part("st_", t.students, "id", m.student_from)
_BINDING_PART = _Part("b_", t.device_bindings, "student_id", m.binding_from)
_MARK_PART = _Part("m_", t.marks, "session_id", m.mark_from)
_CONTEXT_PARTS = (_SESSION_PART, _STUDENT_PART, _BINDING_PART, _MARK_PART)
_LAST_PART = _Part("l_", t.sessions, "id", m.session_from)
_NEXT_PART = _Part("n_", t.sessions, "id", m.session_from)


def one_of(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """``column IN (:ids)``: one array parameter on PostgreSQL (a fixed statement the server
    prepares once and the unit of work can run directly), an expanding list elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=postgresql.ARRAY(String())))
    return column.in_(bindparam("ids", expanding=True))


def _tally(counts: Mapping[str, int]) -> StatusTally:
    return StatusTally(*(int(counts.get(s, 0)) for s in _ORDERED_STATUSES))


class _Repo:
    """Base of every repository: statements run through the unit of work."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _iid(self) -> InstitutionId:
        return self._uow.tenant()

    @property
    def _dialect(self) -> str:
        return self._uow.engine.dialect.name

    def _own(self, entity: Any) -> None:
        if entity.institution_id != self._iid():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def _owned_rows(
        self, entities: Iterable[E], to_row: Callable[[E], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The rows of ``entities``, refusing any that belongs to another institution."""
        rows = []
        for entity in entities:
            self._own(entity)
            rows.append(to_row(entity))
        return rows

    def _insert(self, table: Table) -> Any:
        module = postgresql if self._uow.is_postgres else sqlite
        return module.insert(table)

    def _bulk_insert(self, table: Table, rows: Sequence[Mapping[str, Any]], kind: str) -> None:
        """Insert many rows, all or none: executemany on SQLite; on PostgreSQL COPY into a
        temporary staging table, then one INSERT ... SELECT (COPY cannot write into a table
        under row-level security, and the INSERT is still checked by the policies)."""
        if not rows:
            return
        # a savepoint keeps a failed batch from poisoning the rest of the transaction
        with self._uow.savepoint():
            if self._uow.is_postgres and len(rows) >= _COPY_FROM:
                self._copy_insert(table, rows, kind)
            else:
                self._uow.execute(table.insert(), rows, kind)

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
        self._uow.written = True
        columns = list(rows[0])
        names = ", ".join(columns)
        stage = f"ams_stage_{table.name}_{len(columns)}"
        raw = self._uow.connection().connection.driver_connection
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
                        copy.write_row([_copy_value(row[c]) for c in columns])
                cursor.execute(statement.format(stage=stage))
                result = cursor.fetchall() if cursor.description else []
                cursor.execute(f"TRUNCATE {stage}")
                return result
        except Exception as error:  # noqa: BLE001 - psycopg raises its own classes here
            raise translate_driver_error(error, "COPY", kind) from None


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


class _Keyed(_Repo, Generic[K, E]):
    """find/get/add/update on a table keyed by (institution_id, key)."""

    table: Table
    key: str
    kind: str
    order_by: tuple[str, ...] = ()
    #: reference data kept in the unit of work's ReferenceCache (whole table per institution)
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
            stmt = select(self.table).where(self.table.c.institution_id == IID, *conditions())
            if self.order_by:
                stmt = stmt.order_by(*(self.table.c[c] for c in self.order_by))
            return stmt

        stmt = prebuilt((self.table.name, "select", name), build)
        convert = type(self).from_row
        rows = self._uow.execute(stmt, {"iid": self._iid(), **params}).mappings().all()
        return [convert(row) for row in rows]

    def _all_cached(self) -> dict[K, E]:
        cache_key = (self.kind, self._iid())
        found: dict[K, E] | None = self._uow.cache.get(cache_key)
        if found is None:
            found = {self._key_of(e): e for e in self._select_where()}
            if not self._uow.written:
                self._uow.cache.put(cache_key, found)
        return found

    def _forget(self) -> None:
        if self.cached:
            self._uow.cache.invalidate((self.kind, self._iid()))

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
        self._own(entity)
        self._forget()
        self._uow.execute(self.table.insert(), type(self).to_row(entity), kind=self.kind)

    def update(self, entity: E) -> E:
        self._own(entity)
        version: int = getattr(entity, "version")  # noqa: B009
        row = type(self).to_row(entity)
        row["version"] = version + 1
        key = self._key_of(entity)
        self._forget()
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
        params.update(b_iid=self._iid(), b_key=key, b_version=version)
        result = self._uow.execute(stmt, params, kind=self.kind)
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
                .where(table.c.institution_id == IID, table.c[column] == bindparam("key"))
                .limit(1)
            ),
        )
        if self._uow.execute(stmt, {"iid": self._iid(), "key": key}).first() is not None:
            raise ConflictError(f"{self.kind} {key} {reason}", code="in_use")

    def _remove(self, key: K) -> bool:
        """DELETE the row under ``key``; False if there was none. A row still referred to is
        a ConflictError ``in_use`` (the foreign keys are ON DELETE RESTRICT)."""
        self._forget()
        stmt = prebuilt(
            (self.table.name, "remove"),
            lambda: delete(self.table).where(
                self.table.c.institution_id == IID, self.table.c[self.key] == bindparam("key")
            ),
        )
        # the savepoint keeps a refused DELETE from aborting the caller's transaction on
        # PostgreSQL, and takes the row back when a reference without a foreign key shows
        with self._uow.savepoint():
            result = self._uow.execute(stmt, {"iid": self._iid(), "key": key}, kind=self.kind)
            removed = bool(result.rowcount > 0)
            if removed:  # a missing row is just not there, whatever else names its key
                for table, column, reason in self.unkeyed_references:
                    self._refuse_if_referenced(key, table, column, reason)
        return removed

    def _add_many(self, entities: Iterable[E]) -> int:
        """Insert new rows all together (COPY on PostgreSQL for large batches)."""
        self._forget()
        rows = self._owned_rows(entities, type(self).to_row)
        self._bulk_insert(self.table, rows, self.kind)
        return len(rows)

    def _list_all(self) -> list[E]:
        if self.cached:
            return list(self._all_cached().values())
        return self._select_where()


class SqlInstitutionRepository(_Repo, InstitutionRepository):
    def _visible(self) -> ColumnElement[bool]:
        if self._uow.is_platform():
            return true()
        return t.institutions.c.id == self._iid()

    def find(self, institution_id: InstitutionId) -> Institution | None:
        if not self._uow.is_platform() and institution_id != self._iid():
            return None
        cache_key = ("institution", institution_id)
        cached: Institution | None = self._uow.cache.get(cache_key)
        if cached is not None:
            return cached
        row = (
            self._uow.execute(
                select(t.institutions).where(t.institutions.c.id == institution_id, self._visible())
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        institution = m.institution_from(row)
        if not self._uow.written:
            self._uow.cache.put(cache_key, institution)
        return institution

    def get(self, institution_id: InstitutionId) -> Institution:
        found = self.find(institution_id)
        if found is None:
            raise NotFoundError("institution", institution_id)
        return found

    def _check_writable(self, institution: Institution) -> None:
        if not self._uow.is_platform() and institution.id != self._iid():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def add(self, institution: Institution) -> None:
        self._check_writable(institution)
        self._uow.cache.invalidate(("institution", institution.id))
        self._uow.execute(
            t.institutions.insert().values(m.institution_row(institution)), kind="institution"
        )
        self._uow.execute(
            t.institution_domains.insert(),
            [{"domain": d, "institution_id": institution.id} for d in institution.email_domains],
            kind="institution",
        )

    def update(self, institution: Institution) -> Institution:
        self._check_writable(institution)
        self._uow.cache.invalidate(("institution", institution.id))
        row = m.institution_row(institution)
        row["version"] = institution.version + 1
        result = self._uow.execute(
            update(t.institutions)
            .where(
                t.institutions.c.id == institution.id,
                t.institutions.c.version == institution.version,
            )
            .values(row),
            kind="institution",
        )
        if result.rowcount == 0:
            if self.find(institution.id) is None:
                raise NotFoundError("institution", institution.id)
            raise ConcurrencyError(f"institution {institution.id} was changed; reload it")
        domains = t.institution_domains
        self._uow.execute(
            delete(domains).where(
                domains.c.institution_id == institution.id,
                domains.c.domain.not_in(sorted(institution.email_domains)),
            )
        )
        existing = {
            r[0]
            for r in self._uow.execute(
                select(domains.c.domain).where(domains.c.institution_id == institution.id)
            )
        }
        new = sorted(institution.email_domains - existing)
        if new:
            self._uow.execute(
                domains.insert(),
                [{"domain": d, "institution_id": institution.id} for d in new],
                kind="institution",
            )
        return dataclasses.replace(institution, version=institution.version + 1)

    def find_by_domain(self, domain: str) -> Institution | None:
        row = (
            self._uow.execute(
                select(t.institutions)
                .join(
                    t.institution_domains,
                    t.institution_domains.c.institution_id == t.institutions.c.id,
                )
                .where(t.institution_domains.c.domain == domain.lower(), self._visible())
            )
            .mappings()
            .first()
        )
        return None if row is None else m.institution_from(row)

    def list(self) -> Sequence[Institution]:
        rows = (
            self._uow.execute(
                select(t.institutions).where(self._visible()).order_by(t.institutions.c.id)
            )
            .mappings()
            .all()
        )
        return [m.institution_from(r) for r in rows]


class SqlSectionRepository(_Keyed[SectionId, Section], SectionRepository):
    table, key, kind, order_by = t.sections, "id", "section", ("id",)
    to_row, from_row = staticmethod(m.section_row), staticmethod(m.section_from)

    def list(self) -> Sequence[Section]:
        return self._list_all()

    def remove(self, section_id: SectionId) -> bool:
        return self._remove(section_id)


_STUDENT_FIELDS = ("name", "email", "section_id", "roll_number", "is_class_representative")


class SqlStudentRepository(_Keyed[StudentId, Student], StudentRepository):
    table, key, kind = t.students, "id", "student"
    to_row, from_row = staticmethod(m.student_row), staticmethod(m.student_from)
    # check_in_failures.student_id also holds '' (the whole session's counter): no foreign key
    unkeyed_references = ((t.check_in_failures, "student_id", "has check-in failures on record"),)

    def remove(self, student_id: StudentId) -> bool:
        return self._remove(student_id)

    def add_many(self, students: Iterable[Student]) -> int:
        return self._add_many(students)

    def upsert_many(self, students: Sequence[Student]) -> UpsertCounts:
        require_distinct_ids(students)
        if not students:
            return UpsertCounts(0, 0, 0)
        rows = self._owned_rows(
            (dataclasses.replace(s, version=0) for s in students), m.student_row
        )
        with self._uow.savepoint():
            if self._uow.is_postgres:
                created, updated = self._upsert_postgres(rows)
            else:
                created, updated = self._upsert_sqlite(rows)
        return UpsertCounts(created, updated, len(rows) - created - updated)

    def _upsert_postgres(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        names = ", ".join(rows[0])
        new = ", ".join(f"EXCLUDED.{c}" for c in _STUDENT_FIELDS)
        old = ", ".join(f"students.{c}" for c in _STUDENT_FIELDS)
        assignments = ", ".join(f"{c} = EXCLUDED.{c}" for c in _STUDENT_FIELDS)
        statement = (
            f"WITH written AS (INSERT INTO students ({names}) SELECT {names} FROM {{stage}} "  # noqa: S608
            f"ON CONFLICT (institution_id, id) DO UPDATE SET {assignments}, "
            f"version = students.version + 1 WHERE ({old}) IS DISTINCT FROM ({new}) "
            "RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
            "FROM written"
        )
        ((created, updated),) = self._through_stage(t.students, rows, "student", statement)
        return int(created), int(updated)

    def _upsert_sqlite(self, rows: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
        c = t.students.c
        existing: dict[str, Any] = {}
        for start in range(0, len(rows), _BATCH):
            ids = [r["id"] for r in rows[start : start + _BATCH]]
            found = (
                self._uow.execute(
                    select(t.students).where(c.institution_id == self._iid(), c.id.in_(ids))
                )
                .mappings()
                .all()
            )
            existing.update({r["id"]: r for r in found})
        new_rows = [r for r in rows if r["id"] not in existing]
        changed = [
            r
            for r in rows
            if r["id"] in existing and any(r[f] != existing[r["id"]][f] for f in _STUDENT_FIELDS)
        ]
        if changed:
            self._uow.execute(
                update(t.students)
                .where(c.institution_id == bindparam("b_institution_id"), c.id == bindparam("b_id"))
                .values(
                    {f: bindparam(f"b_{f}") for f in _STUDENT_FIELDS} | {"version": c.version + 1}
                ),
                [{f"b_{k}": v for k, v in r.items()} for r in changed],
                "student",
            )
        if new_rows:
            self._uow.execute(t.students.insert(), new_rows, "student")
        return len(new_rows), len(changed)

    def find_by_email(self, email: str) -> Student | None:
        found = self._select_where(
            "by email", lambda: [t.students.c.email == bindparam("email")], email=fold_email(email)
        )
        return found[0] if found else None

    def list(self, section_id: SectionId | None = None) -> Sequence[Student]:
        c = t.students.c

        def build() -> Any:
            stmt = select(t.students).where(c.institution_id == IID)
            if section_id is not None:
                stmt = stmt.where(c.section_id == bindparam("section"))
            return stmt.order_by(c.roll_number.is_(None), c.roll_number, c.id)

        stmt = prebuilt(("students", "list", str(section_id is None)), build)
        rows = self._uow.execute(stmt, {"iid": self._iid(), "section": section_id}).mappings().all()
        return [m.student_from(r) for r in rows]

    def ids_in_section(self, section_id: SectionId) -> frozenset[StudentId]:
        c = t.students.c
        stmt = prebuilt(
            ("students", "ids in section"),
            lambda: select(c.id).where(c.institution_id == IID, c.section_id == bindparam("s")),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "s": section_id})
        return frozenset(StudentId(r[0]) for r in rows)


class SqlFacultyRepository(_Keyed[FacultyId, Faculty], FacultyRepository):
    table, key, kind, order_by, cached = t.faculty, "id", "faculty", ("id",), True
    to_row, from_row = staticmethod(m.faculty_row), staticmethod(m.faculty_from)

    def find_by_email(self, email: str) -> Faculty | None:
        wanted = fold_email(email)
        return next((f for f in self._all_cached().values() if f.email == wanted), None)

    def find_many(self, faculty_ids: Iterable[FacultyId]) -> Mapping[FacultyId, Faculty]:
        everyone = self._all_cached()
        return {i: everyone[i] for i in faculty_ids if i in everyone}

    def list(self) -> Sequence[Faculty]:
        return self._list_all()

    def remove(self, faculty_id: FacultyId) -> bool:
        return self._remove(faculty_id)


class SqlSubjectRepository(_Keyed[SubjectCode, Subject], SubjectRepository):
    table, key, kind, order_by, cached = t.subjects, "code", "subject", ("code",), True
    to_row, from_row = staticmethod(m.subject_row), staticmethod(m.subject_from)

    # class_sessions.subject_code is a copy with no foreign key of its own
    unkeyed_references = ((t.sessions, "subject_code", "has sessions"),)

    def find_many(self, codes: Iterable[SubjectCode]) -> Mapping[SubjectCode, Subject]:
        everything = self._all_cached()
        return {c: everything[c] for c in codes if c in everything}

    def list(self) -> Sequence[Subject]:
        return self._list_all()

    def remove(self, code: SubjectCode) -> bool:
        return self._remove(code)


class SqlAssignmentRepository(_Keyed[AssignmentId, TeachingAssignment], AssignmentRepository):
    table, key, kind, order_by = t.assignments, "id", "assignment", ("id",)
    to_row, from_row = staticmethod(m.assignment_row), staticmethod(m.assignment_from)

    def list(
        self, faculty_id: FacultyId | None = None, section_id: SectionId | None = None
    ) -> Sequence[TeachingAssignment]:
        c = t.assignments.c

        def conditions() -> list[ColumnElement[bool]]:
            found = []
            if faculty_id is not None:
                found.append(c.faculty_id == bindparam("faculty"))
            if section_id is not None:
                found.append(c.section_id == bindparam("section"))
            return found

        name = f"faculty={faculty_id is not None},section={section_id is not None}"
        return self._select_where(name, conditions, faculty=faculty_id, section=section_id)

    def remove(self, assignment_id: AssignmentId) -> bool:
        return self._remove(assignment_id)


class SqlSlotRepository(_Keyed[SlotId, WeeklySlot], SlotRepository):
    table, key, kind, order_by = t.slots, "id", "slot", ("id",)
    to_row, from_row = staticmethod(m.slot_row), staticmethod(m.slot_from)

    def list(self) -> Sequence[WeeklySlot]:
        return self._list_all()

    def remove(self, slot_id: SlotId) -> bool:
        # class_sessions.slot_id has no foreign key: generated sessions keep the id
        return self._remove(slot_id)


class SqlTermRepository(_Keyed[TermId, Term], TermRepository):
    table, key, kind, order_by, cached = t.terms, "id", "term", ("start_date", "id"), True
    to_row, from_row = staticmethod(m.term_row), staticmethod(m.term_from)

    def list(self) -> Sequence[Term]:
        return self._list_all()

    def remove(self, term_id: TermId) -> bool:
        return self._remove(term_id)


class SqlHolidayRepository(_Repo, HolidayRepository):
    def add(self, holiday: Holiday) -> None:
        self._own(holiday)
        self._uow.execute(t.holidays.insert().values(m.holiday_row(holiday)), kind="holiday")

    def remove(self, day: date) -> bool:
        c = t.holidays.c
        result = self._uow.execute(
            delete(t.holidays).where(c.institution_id == self._iid(), c.day == day)
        )
        return bool(result.rowcount > 0)

    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        c = t.holidays.c
        stmt = select(t.holidays).where(c.institution_id == self._iid())
        if dates is not None:
            stmt = stmt.where(c.day.between(dates.start, dates.end))
        return [m.holiday_from(r) for r in self._uow.execute(stmt.order_by(c.day)).mappings().all()]


_S = t.sessions.c
_IN_DATES = _S.day.between(bindparam("start", type_=Date()), bindparam("end", type_=Date()))


class SqlSessionRepository(_Keyed[SessionId, ClassSession], SessionRepository):
    table, key, kind, order_by = t.sessions, "id", "session", ("day", "start_time", "id")
    to_row, from_row = staticmethod(m.session_row), staticmethod(m.session_from)

    def add_many(self, sessions: Sequence[ClassSession]) -> int:
        return self._add_many(sessions)

    def update(self, session: ClassSession) -> ClassSession:
        stored = super().update(session)
        # keep the copy of the session's subject, day and completion on its marks in step
        marks = t.marks.c
        stmt = prebuilt(
            ("marks", "follow session"),
            lambda: (
                update(t.marks)
                .where(
                    marks.institution_id == IID,
                    marks.session_id == bindparam("session"),
                    or_(
                        marks.counted != bindparam("counted"),
                        marks.day != bindparam("d"),
                        marks.subject_code != bindparam("subject"),
                    ),
                )
                .values(
                    counted=bindparam("counted"),
                    day=bindparam("d"),
                    subject_code=bindparam("subject"),
                )
            ),
        )
        params = {
            "iid": self._iid(),
            "session": session.id,
            "counted": session.status is SessionStatus.COMPLETED,
            "d": session.date,
            "subject": session.subject_code,
        }
        self._uow.execute(stmt, params)
        return stored

    def list_for_section(self, section_id: SectionId, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where(
            "section",
            lambda: [_S.section_id == bindparam("section"), _IN_DATES],
            section=section_id,
            start=dates.start,
            end=dates.end,
        )

    def list_for_student(self, student_id: StudentId, dates: DateRange) -> StudentClasses:
        stmt = prebuilt(("class_sessions", "for student"), _student_classes)
        params = {
            "iid": self._iid(),
            "student": student_id,
            "start": dates.start,
            "end": dates.end,
        }
        rows = self._uow.execute(stmt, params).mappings().all()
        if not rows:
            raise NotFoundError("student", student_id)
        student = _STUDENT_PART.entity(rows[0])
        sessions = [m.session_from(r) for r in rows if r["id"] is not None]
        marks = {
            SessionId(r["m_session_id"]): _MARK_PART.entity(r)
            for r in rows
            if r["m_session_id"] is not None
        }
        return StudentClasses(student, sessions, marks)

    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where(
            "teacher",
            lambda: [_S.teacher_id == bindparam("teacher"), _IN_DATES],
            teacher=faculty_id,
            start=dates.start,
            end=dates.end,
        )

    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where("between", lambda: [_IN_DATES], start=dates.start, end=dates.end)

    def list_for_assignment(
        self, assignment_id: AssignmentId, dates: DateRange | None = None
    ) -> Sequence[ClassSession]:
        if dates is None:
            return self._select_where(
                "assignment", lambda: [_S.assignment_id == bindparam("a")], a=assignment_id
            )
        return self._select_where(
            "assignment in dates",
            lambda: [_S.assignment_id == bindparam("a"), _IN_DATES],
            a=assignment_id,
            start=dates.start,
            end=dates.end,
        )

    def generated_keys(self, dates: DateRange) -> set[tuple[SlotId, date]]:
        stmt = prebuilt(
            ("class_sessions", "generated keys"),
            lambda: select(_S.slot_id, _S.day).where(
                _S.institution_id == IID, _S.slot_id.is_not(None), _IN_DATES
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "start": dates.start, "end": dates.end})
        return {(SlotId(r[0]), r[1]) for r in rows}

    def list_open(self) -> Sequence[ClassSession]:
        return self._select_where("open", lambda: [_S.status == SessionStatus.OPEN.value])

    def subject_counts(
        self, dates: DateRange, today: date, section_id: SectionId | None = None
    ) -> Mapping[tuple[SectionId, SubjectCode], SessionCounts]:
        def build() -> Any:
            held = func.sum(case((_S.status == _COMPLETED, 1), else_=0))
            upcoming = and_(_is_upcoming(), _S.day >= bindparam("today", type_=Date()))
            remaining = func.sum(case((upcoming, 1), else_=0))
            stmt = (
                select(_S.section_id, _S.subject_code, held, remaining)
                .where(_S.institution_id == IID, _IN_DATES)
                .group_by(_S.section_id, _S.subject_code)
            )
            if section_id is not None:
                stmt = stmt.where(_S.section_id == bindparam("section"))
            return stmt

        stmt = prebuilt(("class_sessions", "subject counts", str(section_id is None)), build)
        params = {
            "iid": self._iid(),
            "start": dates.start,
            "end": dates.end,
            "today": today,
            "section": section_id,
        }
        result = {}
        for section, code, h, r in self._uow.execute(stmt, params):
            if h or r:
                result[(SectionId(section), SubjectCode(code))] = SessionCounts(int(h), int(r))
        return result

    def assignment_summaries(
        self, assignment_ids: Iterable[AssignmentId], today: date, now: time
    ) -> Mapping[AssignmentId, AssignmentSummary]:
        ids = sorted(set(assignment_ids))
        if not ids:
            return {}
        params = {"iid": self._iid(), "ids": ids, "today": today, "now": now}
        if self._uow.is_postgres:
            stmt = prebuilt(("class_sessions", "assignment summaries", "lateral"), _summaries_pg)
            return {
                AssignmentId(row["a_id"]): AssignmentSummary(
                    held=int(row["a_held"]),
                    tally=_summed_tally(row),
                    last_completed=_LAST_PART.entity(row),
                    next_session=_NEXT_PART.entity(row),
                )
                for row in self._uow.execute(stmt, params).mappings().all()
            }
        stmt = prebuilt(
            ("class_sessions", "assignment summaries", self._dialect),
            lambda: _assignment_summaries(self._dialect),
        )
        result: dict[AssignmentId, AssignmentSummary] = {}
        last: dict[str, ClassSession] = {}
        upcoming: dict[str, ClassSession] = {}
        for row in self._uow.execute(stmt, params).mappings().all():
            assignment_id = AssignmentId(row["a_id"])
            result[assignment_id] = AssignmentSummary(
                held=int(row["a_held"]),
                tally=_summed_tally(row),
                last_completed=None,
                next_session=None,
            )
            if row["which"] is not None:
                target = last if row["which"] == "last" else upcoming
                target[assignment_id] = m.session_from(row)
        return {
            key: dataclasses.replace(
                summary, last_completed=last.get(key), next_session=upcoming.get(key)
            )
            for key, summary in result.items()
        }


def _summed_tally(row: Any) -> StatusTally:
    return StatusTally(
        int(row["a_present"]), int(row["a_late"]), int(row["a_absent"]), int(row["a_excused"])
    )


def _summary_totals(dialect: str) -> Any:
    """Per assignment: completed sessions and their summed tallies (index-only scan)."""
    done = _S.status == _COMPLETED

    def summed(column: str) -> Any:
        return func.sum(case((done, _S[column]), else_=0))

    return (
        select(
            _S.assignment_id.label("a_id"),
            func.sum(case((done, 1), else_=0)).label("a_held"),
            summed("tally_present").label("a_present"),
            summed("tally_late").label("a_late"),
            summed("tally_absent").label("a_absent"),
            summed("tally_excused").label("a_excused"),
        )
        .where(_S.institution_id == IID, one_of(_S.assignment_id, dialect))
        .group_by(_S.assignment_id)
    )


def _summaries_pg() -> Any:
    """PostgreSQL: the totals, and for each assignment its last completed and next upcoming
    session as ``LATERAL … LIMIT 1`` walks of the (institution, assignment, day) index —
    no ranking of every session the assignment ever had."""
    totals = _summary_totals("postgresql").subquery("totals")
    last_s, next_s = t.sessions.alias("last_s"), t.sessions.alias("next_s")
    last = (
        select(last_s)
        .where(
            last_s.c.institution_id == IID,
            last_s.c.assignment_id == totals.c.a_id,
            last_s.c.status == _COMPLETED,
        )
        .order_by(last_s.c.day.desc(), last_s.c.start_time.desc(), last_s.c.id.desc())
        .limit(1)
        .lateral("last")
    )
    upcoming = (
        select(next_s)
        .where(
            next_s.c.institution_id == IID,
            next_s.c.assignment_id == totals.c.a_id,
            _starts_from_now(next_s),
        )
        .order_by(next_s.c.day, next_s.c.start_time, next_s.c.id)
        .limit(1)
        .lateral("upcoming")
    )
    columns = _LAST_PART.columns(last) + _NEXT_PART.columns(upcoming)
    joined = totals.outerjoin(last, true()).outerjoin(upcoming, true())
    return select(totals, *columns).select_from(joined)


def _assignment_summaries(dialect: str) -> Any:
    """One statement: per assignment the held count and summed tallies, joined with the
    last completed and the next upcoming session (ranked on the covering index)."""
    in_scope = and_(_S.institution_id == IID, one_of(_S.assignment_id, dialect))
    done = _S.status == _COMPLETED
    totals = _summary_totals(dialect).cte("totals")
    upcoming = _starts_from_now()
    ranked = union_all(
        select(
            _S.assignment_id.label("r_assignment"),
            _S.id.label("r_id"),
            literal("last", String).label("which"),
            func.row_number()
            .over(
                partition_by=_S.assignment_id,
                order_by=(_S.day.desc(), _S.start_time.desc(), _S.id.desc()),
            )
            .label("r_rank"),
        ).where(in_scope, done),
        select(
            _S.assignment_id,
            _S.id,
            literal("next", String),
            func.row_number().over(
                partition_by=_S.assignment_id, order_by=(_S.day, _S.start_time, _S.id)
            ),
        ).where(in_scope, upcoming),
    ).cte("ranked")
    picked = select(ranked).where(ranked.c.r_rank == 1).cte("picked")
    return (
        select(totals, picked.c.which, t.sessions)
        .select_from(totals)
        .outerjoin(picked, picked.c.r_assignment == totals.c.a_id)
        .outerjoin(t.sessions, and_(_S.institution_id == IID, _S.id == picked.c.r_id))
    )


_M = t.marks.c
_MARK_KEY = ["institution_id", "session_id", "student_id"]
_MARK_COLUMNS = tuple(c.name for c in t.marks.columns)
_MARK_TYPES = {
    "marked_at": "timestamptz[]",
    "version": "integer[]",
    "day": "date[]",
    "counted": "boolean[]",
}
_MARK_UPSERT = (
    "DO UPDATE SET status = EXCLUDED.status, marked_at = EXCLUDED.marked_at, "
    "marked_by = EXCLUDED.marked_by, source = EXCLUDED.source, device_id = EXCLUDED.device_id, "
    "version = attendance_marks.version + 1"
)


def _marks_from_arrays(conflict: str) -> str:
    arrays = ", ".join(
        f"CAST(:c{i} AS {_MARK_TYPES.get(c, 'varchar[]')})" for i, c in enumerate(_MARK_COLUMNS)
    )
    return (
        f"INSERT INTO attendance_marks ({', '.join(_MARK_COLUMNS)}) "  # noqa: S608 - our names
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT (institution_id, session_id, student_id) {conflict}"
    )


# the mark columns a single check-in takes from its session row, in the INSERT itself
_FROM_SESSION = ("subject_code", "day", "counted")


def _mark_from_session() -> Any:
    """INSERT one mark, its subject, day and counted flag read from the session (PostgreSQL):
    one statement where reading the session first would take two."""
    given = [c for c in t.marks.c if c.name not in _FROM_SESSION]
    source = select(
        *(bindparam(f"v_{c.name}", type_=c.type) for c in given),
        _S.subject_code,
        _S.day,
        _S.status == _COMPLETED,
    ).where(_S.institution_id == IID, _S.id == bindparam("v_session_id"))
    names = [c.name for c in given] + list(_FROM_SESSION)
    return (
        postgresql.insert(t.marks)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=_MARK_KEY)
        .returning(*t.marks.c)
    )


def _student_classes() -> Any:
    """One statement for a student's schedule: the student, their section's sessions in the
    dates and their marks (a student without sessions still gives one row)."""
    st = t.students.c
    in_dates = and_(
        _S.institution_id == st.institution_id,
        _S.section_id == st.section_id,
        _S.day.between(bindparam("start", type_=Date()), bindparam("end", type_=Date())),
    )
    own_mark = and_(
        _M.institution_id == _S.institution_id,
        _M.session_id == _S.id,
        _M.student_id == st.id,
    )
    joined = t.students.outerjoin(t.sessions, in_dates).outerjoin(t.marks, own_mark)
    return (
        select(*_STUDENT_PART.columns(), *_SESSION_PART.columns(), *_MARK_PART.columns())
        .select_from(joined)
        .where(st.institution_id == IID, st.id == bindparam("student"))
        .order_by(_S.day, _S.start_time, _S.id)
    )


def _check_in_context() -> Any:
    """One row: the session, student, binding, mark and wrong-code count, each LEFT JOINed
    to a one-row base so that a missing part reads as NULLs instead of no row at all."""
    session: BindParameter[str] = bindparam("session", type_=String())
    student: BindParameter[str] = bindparam("student", type_=String())
    base = select(literal(1).label("one")).subquery("base")
    st, b = t.students.c, t.device_bindings.c
    joined = (
        base.outerjoin(t.sessions, and_(_S.institution_id == IID, _S.id == session))
        .outerjoin(t.students, and_(st.institution_id == IID, st.id == student))
        .outerjoin(t.device_bindings, and_(b.institution_id == IID, b.student_id == student))
        .outerjoin(
            t.marks,
            and_(_M.institution_id == IID, _M.session_id == session, _M.student_id == student),
        )
        .outerjoin(
            t.check_in_failures,
            and_(_F.institution_id == IID, _F.session_id == session, _F.student_id == student),
        )
    )
    columns = [c for part in _CONTEXT_PARTS for c in part.columns()]
    return select(*columns, _F.failures.label("f_failures")).select_from(joined)


class SqlMarkRepository(_Repo, MarkRepository):
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        stmt = prebuilt(("marks", "check-in context"), _check_in_context)
        params = {"iid": self._iid(), "session": session_id, "student": student_id}
        row = self._uow.execute(stmt, params).mappings().one()
        session, student, binding, mark = (part.entity(row) for part in _CONTEXT_PARTS)
        return CheckInContext(session, student, binding, mark, int(row["f_failures"] or 0))

    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None:
        stmt = prebuilt(
            ("marks", "find"),
            lambda: select(t.marks).where(
                _M.institution_id == IID,
                _M.session_id == bindparam("session"),
                _M.student_id == bindparam("student"),
            ),
        )
        params = {"iid": self._iid(), "session": session_id, "student": student_id}
        row = self._uow.execute(stmt, params).mappings().first()
        return None if row is None else m.mark_from(row)

    def list_for_session(self, session_id: SessionId) -> Sequence[AttendanceMark]:
        return self.list_for_sessions([session_id])

    def list_for_sessions(self, session_ids: Iterable[SessionId]) -> Sequence[AttendanceMark]:
        ids = sorted(set(session_ids))
        if not ids:
            return []
        stmt = prebuilt(
            ("marks", "for sessions", self._dialect),
            lambda: (
                select(t.marks)
                .where(_M.institution_id == IID, one_of(_M.session_id, self._dialect))
                .order_by(_M.session_id, _M.student_id)
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "ids": ids}).mappings().all()
        return [m.mark_from(r) for r in rows]

    def _session_facts(self, session_ids: Iterable[SessionId]) -> dict[str, tuple[str, date, bool]]:
        ids = sorted(set(session_ids))
        stmt = prebuilt(
            ("marks", "session facts", self._dialect),
            lambda: select(_S.id, _S.subject_code, _S.day, _S.status).where(
                _S.institution_id == IID, one_of(_S.id, self._dialect)
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "ids": ids})
        facts = {r[0]: (r[1], r[2], r[3] == _COMPLETED) for r in rows}
        for session_id in ids:
            if session_id not in facts:
                raise NotFoundError("session", session_id)
        return facts

    def _rows(self, marks: Sequence[AttendanceMark]) -> list[dict[str, Any]]:
        facts = self._session_facts(mark.session_id for mark in marks)
        rows = []
        for mark in marks:
            self._own(mark)
            subject_code, day, counted = facts[mark.session_id]
            fresh = dataclasses.replace(mark, version=0)
            rows.append(m.mark_row(fresh, subject_code, day, counted))
        return rows

    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        if self._uow.is_postgres:
            self._own(mark)
            row = m.mark_row(dataclasses.replace(mark, version=0), "", None, False)
            params = {f"v_{k}": v for k, v in row.items() if k not in _FROM_SESSION}
            params["iid"] = self._iid()
            stmt = prebuilt(("marks", "one from session"), _mark_from_session)
            stored = self._uow.execute(stmt, params, kind="mark").mappings().first()
            if stored is not None:
                return m.mark_from(stored), True
            existing = self.find(mark.session_id, mark.student_id)
            if existing is None:  # nothing conflicted, so the session row was not there
                raise NotFoundError("session", mark.session_id)
            return existing, False
        inserted = self.add_missing([mark])
        if inserted:
            return inserted[0], True
        existing = self.find(mark.session_id, mark.student_id)
        if existing is None:  # pragma: no cover - the conflict row vanished mid-transaction
            raise ConflictError("the mark changed concurrently; try again")
        return existing, False

    def _write_arrays(self, rows: Sequence[Mapping[str, Any]], conflict: str) -> Any:
        """One INSERT of every row as column arrays (PostgreSQL): a fixed statement the server
        prepares once, where executemany with RETURNING would go row by row."""
        params = {f"c{i}": [row[c] for row in rows] for i, c in enumerate(_MARK_COLUMNS)}
        stmt = prebuilt(("marks", "arrays", conflict), lambda: text(_marks_from_arrays(conflict)))
        return self._uow.execute(stmt, params, kind="mark")

    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        if not marks:
            return []
        rows = self._rows(marks)
        if self._uow.is_postgres:
            result = self._write_arrays(rows, "DO NOTHING RETURNING *").mappings().all()
            return [m.mark_from(r) for r in result]
        stmt = prebuilt(
            ("marks", "add missing", self._uow.engine.dialect.name),
            lambda: (
                self._insert(t.marks)
                .on_conflict_do_nothing(index_elements=_MARK_KEY)
                .returning(*t.marks.c)
            ),
        )
        # executemany: the compiled statement is reused and the driver batches the rows
        result = self._uow.execute(stmt, rows, kind="mark").mappings().all()
        return [m.mark_from(r) for r in result]

    def put_many(self, marks: Sequence[AttendanceMark]) -> None:
        if not marks:
            return

        def build() -> Any:
            stmt = self._insert(t.marks)
            return stmt.on_conflict_do_update(
                index_elements=_MARK_KEY,
                set_={
                    "status": stmt.excluded.status,
                    "marked_at": stmt.excluded.marked_at,
                    "marked_by": stmt.excluded.marked_by,
                    "source": stmt.excluded.source,
                    "device_id": stmt.excluded.device_id,
                    "version": t.marks.c.version + 1,
                },
            )

        if self._uow.is_postgres:
            self._write_arrays(self._rows(marks), _MARK_UPSERT)
            return
        stmt = prebuilt(("marks", "put many", self._uow.engine.dialect.name), build)
        self._uow.execute(stmt, self._rows(marks), kind="mark")

    def tally(self, session_id: SessionId) -> StatusTally:
        stmt = prebuilt(
            ("marks", "tally"),
            lambda: (
                select(_M.status, func.count())
                .where(_M.institution_id == IID, _M.session_id == bindparam("session"))
                .group_by(_M.status)
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "session": session_id})
        return _tally(dict(rows.all()))

    def for_student(
        self, student_id: StudentId, session_ids: Iterable[SessionId]
    ) -> Mapping[SessionId, AttendanceMark]:
        ids = sorted(set(session_ids))
        if not ids:
            return {}
        stmt = prebuilt(
            ("marks", "for student", self._dialect),
            lambda: select(t.marks).where(
                _M.institution_id == IID,
                _M.student_id == bindparam("student"),
                one_of(_M.session_id, self._dialect),
            ),
        )
        params = {"iid": self._iid(), "student": student_id, "ids": ids}
        rows = self._uow.execute(stmt, params).mappings().all()
        return {SessionId(r["session_id"]): m.mark_from(r) for r in rows}

    def tallies(
        self,
        dates: DateRange,
        *,
        student_id: StudentId | None = None,
        section_id: SectionId | None = None,
    ) -> Mapping[tuple[StudentId, SubjectCode], StatusTally]:
        by = "student" if student_id is not None else "section" if section_id else "all"

        def build() -> Any:
            stmt = (
                select(_M.student_id, _M.subject_code, _M.status, func.count())
                .where(
                    _M.institution_id == IID,
                    _M.counted == true(),
                    _M.day.between(
                        bindparam("start", type_=Date()), bindparam("end", type_=Date())
                    ),
                )
                .group_by(_M.student_id, _M.subject_code, _M.status)
            )
            if by == "student":
                return stmt.where(_M.student_id == bindparam("student"))
            if by == "section":
                return stmt.join(
                    t.sessions,
                    and_(_S.institution_id == _M.institution_id, _S.id == _M.session_id),
                ).where(_S.section_id == bindparam("section"))
            return stmt

        stmt = prebuilt(("marks", "tallies", by), build)
        params = {
            "iid": self._iid(),
            "start": dates.start,
            "end": dates.end,
            "student": student_id,
            "section": section_id,
        }
        counts: dict[tuple[StudentId, SubjectCode], dict[str, int]] = {}
        for student, code, status, count in self._uow.execute(stmt, params):
            counts.setdefault((StudentId(student), SubjectCode(code)), {})[status] = count
        return {key: _tally(value) for key, value in counts.items()}


class SqlAuditRepository(_Repo, AuditRepository):
    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        self._bulk_insert(t.audit_entries, self._owned_rows(entries, m.audit_row), "audit entry")

    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        c = t.audit_entries.c
        rows = (
            self._uow.execute(
                select(t.audit_entries)
                .where(c.institution_id == self._iid(), c.session_id == session_id)
                .order_by(c.id)
            )
            .mappings()
            .all()
        )
        return [m.audit_from(r) for r in rows]

    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        return self._page("session", {"key": session_id}, limit, offset)

    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        if teacher is None:
            return self._page("student", {"key": student_id}, limit, offset)
        return self._page(
            "student_of_teacher", {"key": student_id, "teacher": teacher}, limit, offset
        )

    def _page(self, by: str, params: dict[str, Any], limit: int, offset: int) -> Slice[AuditEntry]:
        """Entries of one session or one student (of one teacher's sessions), newest
        written first: by the identity column, descending."""

        def source_and_conditions() -> tuple[Any, list[ColumnElement[bool]]]:
            if by == "session":
                return t.audit_entries, [
                    _A.institution_id == IID,
                    _A.session_id == bindparam("key"),
                ]
            conditions = [_A.institution_id == IID, _A.student_id == bindparam("key")]
            if by == "student":
                return t.audit_entries, conditions
            joined = t.audit_entries.join(
                t.sessions, and_(_S.institution_id == _A.institution_id, _S.id == _A.session_id)
            )
            return joined, [*conditions, _S.teacher_id == bindparam("teacher")]

        def build_count() -> Any:
            source, conditions = source_and_conditions()
            return select(func.count()).select_from(source).where(*conditions)

        def build_rows() -> Any:
            source, conditions = source_and_conditions()
            return (
                select(t.audit_entries)
                .select_from(source)
                .where(*conditions)
                .order_by(_A.id.desc())
                .limit(bindparam("limit", type_=Integer()))
                .offset(bindparam("offset", type_=Integer()))
            )

        values = {"iid": self._iid(), **params}
        count = prebuilt(("attendance_audit", "count", by), build_count)
        total = int(self._uow.execute(count, values).scalar_one())
        if offset >= total:
            return Slice((), total)
        rows_statement = prebuilt(("attendance_audit", "page", by), build_rows)
        rows = (
            self._uow.execute(rows_statement, {**values, "limit": limit, "offset": offset})
            .mappings()
            .all()
        )
        return Slice(tuple(m.audit_from(r) for r in rows), total)


_A = t.audit_entries.c


class SqlDeviceBindingRepository(_Repo, DeviceBindingRepository):
    def _one(self, column: str, value: str) -> DeviceBinding | None:
        c = t.device_bindings.c
        stmt = prebuilt(
            ("device_bindings", column),
            lambda: select(t.device_bindings).where(
                c.institution_id == IID, c[column] == bindparam("v")
            ),
        )
        row = self._uow.execute(stmt, {"iid": self._iid(), "v": value}).mappings().first()
        return None if row is None else m.binding_from(row)

    def for_student(self, student_id: StudentId) -> DeviceBinding | None:
        return self._one("student_id", student_id)

    def for_device(self, device_id: DeviceId) -> DeviceBinding | None:
        return self._one("device_id", device_id)

    def add(self, binding: DeviceBinding) -> None:
        self._own(binding)
        self._uow.execute(
            t.device_bindings.insert().values(m.binding_row(binding)), kind="device binding"
        )

    def remove(self, student_id: StudentId) -> bool:
        c = t.device_bindings.c
        result = self._uow.execute(
            delete(t.device_bindings).where(
                c.institution_id == self._iid(), c.student_id == student_id
            )
        )
        return bool(result.rowcount > 0)


_F = t.check_in_failures.c
_WHOLE_SESSION = ""


class SqlCheckInAttemptRepository(_Repo, CheckInAttemptRepository):
    def failures(self, session_id: SessionId, student_id: StudentId) -> int:
        stmt = prebuilt(
            ("check_in_failures", "get"),
            lambda: select(_F.failures).where(
                _F.institution_id == IID,
                _F.session_id == bindparam("session"),
                _F.student_id == bindparam("student"),
            ),
        )
        params = {"iid": self._iid(), "session": session_id, "student": student_id}
        return int(self._uow.execute(stmt, params).scalar() or 0)

    def _increment(self, session_id: SessionId, student_key: str) -> int:
        stmt = self._insert(t.check_in_failures).values(
            institution_id=self._iid(), session_id=session_id, student_id=student_key, failures=1
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["institution_id", "session_id", "student_id"],
            set_={"failures": t.check_in_failures.c.failures + 1},
        ).returning(t.check_in_failures.c.failures)
        return int(self._uow.execute(stmt, kind="check-in failure").scalar_one())

    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        student = self._increment(session_id, student_id)
        session = self._increment(session_id, _WHOLE_SESSION)
        return FailureCounts(student=student, session=session)

    def reset_session(self, session_id: SessionId) -> None:
        self._uow.execute(
            delete(t.check_in_failures).where(
                _F.institution_id == self._iid(),
                _F.session_id == session_id,
                _F.student_id == _WHOLE_SESSION,
            )
        )


class SqlSecurityEventRepository(_Repo, SecurityEventRepository):
    def add(self, event: SecurityEvent) -> None:
        self._own(event)
        self._uow.execute(t.security_events.insert().values(m.event_row(event)), kind="event")

    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        c = t.security_events.c
        stmt = select(t.security_events).where(c.institution_id == self._iid())
        if since is not None:
            stmt = stmt.where(c.at >= since)
        rows = (
            self._uow.execute(stmt.order_by(c.at.desc(), c.id.desc()).limit(limit)).mappings().all()
        )
        return [m.event_from(r) for r in rows]

    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        given = {
            name: value
            for name, value in (
                ("kind", filters.kind.value if filters.kind is not None else None),
                ("student", filters.student_id),
                ("session", filters.session_id),
                ("since", filters.since),
            )
            if value is not None
        }
        # one prebuilt statement per combination of filters given: no "(:x IS NULL OR ...)",
        # so PostgreSQL can use the (institution, student, at) and (institution, at) indexes
        by = tuple(sorted(given))

        def conditions() -> list[ColumnElement[bool]]:
            found = [_E.institution_id == IID]
            if "kind" in given:
                found.append(_E.kind == bindparam("kind"))
            if "student" in given:
                found.append(_E.student_id == bindparam("student"))
            if "session" in given:
                found.append(_E.session_id == bindparam("session"))
            if "since" in given:
                found.append(_E.at >= bindparam("since"))
            return found

        def build_count() -> Any:
            return select(func.count()).select_from(t.security_events).where(*conditions())

        def build_rows() -> Any:
            return (
                select(t.security_events)
                .where(*conditions())
                .order_by(_E.at.desc(), _E.id.desc())
                .limit(bindparam("limit", type_=Integer()))
                .offset(bindparam("offset", type_=Integer()))
            )

        values = {"iid": self._iid(), **given}
        count = prebuilt(("security_events", "count", *by), build_count)
        total = int(self._uow.execute(count, values).scalar_one())
        if offset >= total:
            return Slice((), total)
        rows_statement = prebuilt(("security_events", "page", *by), build_rows)
        rows = (
            self._uow.execute(rows_statement, {**values, "limit": limit, "offset": offset})
            .mappings()
            .all()
        )
        return Slice(tuple(m.event_from(r) for r in rows), total)


_E = t.security_events.c


_C = t.covers.c


class SqlCoverAssignmentRepository(_Repo, CoverAssignmentRepository):
    def add(self, cover: CoverAssignment) -> None:
        self._own(cover)
        # SQLite has no exclusion constraints; its writers are serialised (BEGIN IMMEDIATE),
        # so this check cannot race there
        if not self._uow.is_postgres and self.list_for_substitute(
            cover.substitute_id, cover.starts_at, cover.ends_at
        ):
            raise ConflictError(
                "the substitute already covers a class at that time",
                code="substitute_double_booked",
            )
        self._uow.execute(t.covers.insert().values(m.cover_row(cover)), kind="cover")

    def _one(self, condition: ColumnElement[bool]) -> CoverAssignment | None:
        row = (
            self._uow.execute(select(t.covers).where(_C.institution_id == self._iid(), condition))
            .mappings()
            .first()
        )
        return None if row is None else m.cover_from(row)

    def find(self, cover_id: CoverId) -> CoverAssignment | None:
        return self._one(_C.id == cover_id)

    def for_session(self, session_id: SessionId) -> CoverAssignment | None:
        return self._one(_C.session_id == session_id)

    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        rows = (
            self._uow.execute(
                select(t.covers)
                .where(
                    _C.institution_id == self._iid(),
                    _C.substitute_id == substitute_id,
                    _C.starts_at < end,
                    _C.ends_at > start,
                )
                .order_by(_C.starts_at, _C.id)
            )
            .mappings()
            .all()
        )
        return [m.cover_from(r) for r in rows]

    def remove(self, cover_id: CoverId) -> bool:
        result = self._uow.execute(
            delete(t.covers).where(_C.institution_id == self._iid(), _C.id == cover_id)
        )
        return bool(result.rowcount > 0)


_O = t.outbox.c


class SqlOutboxRepository(_Repo, OutboxRepository):
    def _visible(self) -> ColumnElement[bool]:
        if self._uow.is_platform():
            return true()
        return _O.institution_id == self._iid()

    def add(self, notification: Notification) -> None:
        if not self._uow.is_platform():
            self._own(notification)
        stmt = (
            self._insert(t.outbox)
            .values(m.notification_row(notification))
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        self._uow.execute(stmt, kind="notification")

    def pending(self, limit: int = 100) -> Sequence[Notification]:
        rows = (
            self._uow.execute(
                select(t.outbox)
                .where(_O.delivered_at.is_(None), self._visible())
                .order_by(_O.created_at, _O.sequence)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return [m.notification_from(r) for r in rows]

    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None:
        result = self._uow.execute(
            update(t.outbox)
            .where(_O.id == notification_id, self._visible())
            .values(delivered_at=at, delivered=report.delivered, failed=report.failed)
        )
        if result.rowcount == 0:
            raise NotFoundError("notification", notification_id)

    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        stmt = select(t.outbox).where(_O.kind == kind, self._visible())
        if recipient is not None:
            stmt = stmt.where(
                _RECIPIENT_IN_OUTBOX[self._uow.is_postgres].bindparams(
                    r_kind=recipient.kind.value, r_id=recipient.id
                )
            )
        stmt = stmt.order_by(_O.created_at.desc(), _O.sequence.desc()).limit(limit)
        rows = self._uow.execute(stmt).mappings().all()
        return [m.sent_from(r) for r in rows]


#: "the notification's recipients hold this (kind, id) pair", per backend (by is_postgres)
_RECIPIENT_IN_OUTBOX = {
    True: text(
        "EXISTS (SELECT 1 FROM jsonb_array_elements(outbox.recipients) AS r(v) "
        "WHERE r.v ->> 0 = :r_kind AND r.v ->> 1 = :r_id)"
    ),
    False: text(
        "EXISTS (SELECT 1 FROM json_each(outbox.recipients) AS r "
        "WHERE json_extract(r.value, '$[0]') = :r_kind "
        "AND json_extract(r.value, '$[1]') = :r_id)"
    ),
}


# -- accounts ----------------------------------------------------------------------------------

_SI = t.sign_ins.c
_AT: BindParameter[datetime] = bindparam("at", type_=t.Instant)


class SqlSignInRepository(_Keyed[SignInId, SignIn], SignInRepository):
    table, key, kind = t.sign_ins, "id", "sign_in"
    to_row, from_row = staticmethod(m.sign_in_row), staticmethod(m.sign_in_from)

    def update(self, sign_in: SignIn) -> SignIn:
        return super().update(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def revoke_all(self, email: str, at: datetime) -> int:
        stmt = prebuilt(
            ("sign_ins", "revoke all"),
            lambda: (
                update(t.sign_ins)
                .where(
                    _SI.institution_id == IID,
                    _SI.email == bindparam("b_email"),
                    _SI.revoked_at.is_(None),
                    _SI.expires_at > _AT,
                )
                .values(revoked_at=_AT, version=_SI.version + 1)
            ),
        )
        params = {"iid": self._iid(), "b_email": fold_email(email), "at": at}
        return int(self._uow.execute(stmt, params, kind=self.kind).rowcount)

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        stmt = prebuilt(
            ("sign_ins", "revoked since"),
            lambda: select(_SI.id).where(
                _SI.institution_id == IID, _SI.revoked_at >= bindparam("since", type_=t.Instant)
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "since": since})
        return frozenset(SignInId(r[0]) for r in rows)


_OP = t.operator_sign_ins.c
#: an operator sign-in active at the ``at`` parameter
_OPERATOR_ACTIVE = and_(_OP.revoked_at.is_(None), _OP.expires_at > _AT)


class SqlOperatorSignInRepository(_Repo, OperatorSignInRepository):
    """Platform operators' tokens: platform scope only (the table's policy agrees)."""

    kind = "operator_sign_in"

    def _execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        self._uow.require_platform()
        return self._uow.execute(statement, parameters, kind=self.kind)

    def add(self, sign_in: OperatorSignIn) -> None:
        self._execute(t.operator_sign_ins.insert().values(m.operator_sign_in_row(sign_in)))

    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None:
        stmt = prebuilt(
            ("operator_sign_ins", "find"),
            lambda: select(t.operator_sign_ins).where(_OP.id == bindparam("sid")),
        )
        row = self._execute(stmt, {"sid": sign_in_id}).mappings().first()
        return None if row is None else m.operator_sign_in_from(row)

    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        stmt = prebuilt(
            ("operator_sign_ins", "active"),
            lambda: (
                select(t.operator_sign_ins).where(_OPERATOR_ACTIVE).order_by(_OP.issued_at, _OP.id)
            ),
        )
        rows = self._execute(stmt, {"at": at}).mappings().all()
        return [m.operator_sign_in_from(r) for r in rows]

    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        stmt = prebuilt(
            ("operator_sign_ins", "revoke"),
            lambda: (
                update(t.operator_sign_ins)
                .where(_OP.id == bindparam("sid"), _OPERATOR_ACTIVE)
                .values(revoked_at=_AT)
            ),
        )
        return bool(self._execute(stmt, {"sid": sign_in_id, "at": at}).rowcount > 0)

    def revoke_all(self, at: datetime) -> int:
        stmt = prebuilt(
            ("operator_sign_ins", "revoke all"),
            lambda: update(t.operator_sign_ins).where(_OPERATOR_ACTIVE).values(revoked_at=_AT),
        )
        return int(self._execute(stmt, {"at": at}).rowcount)

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        stmt = prebuilt(
            ("operator_sign_ins", "revoked since"),
            lambda: select(_OP.id).where(_OP.revoked_at >= bindparam("since", type_=t.Instant)),
        )
        return frozenset(SignInId(r[0]) for r in self._execute(stmt, {"since": since}))


_PW = t.password_credentials.c
_PASSWORD_FIELDS = ("password_hash", "failed_attempts", "locked_until")
#: the credential is locked at the ``at`` parameter
_PASSWORD_LOCKED = and_(_PW.locked_until.is_not(None), _PW.locked_until > _AT)


class SqlPasswordCredentialRepository(_Repo, PasswordCredentialRepository):
    def find(self, email: str) -> PasswordCredential | None:
        stmt = prebuilt(
            ("password_credentials", "find"),
            lambda: select(t.password_credentials).where(
                _PW.institution_id == IID, _PW.email == bindparam("email")
            ),
        )
        params = {"iid": self._iid(), "email": fold_email(email)}
        row = self._uow.execute(stmt, params).mappings().first()
        return None if row is None else m.password_from(row)

    def put(self, credential: PasswordCredential) -> PasswordCredential:
        self._own(credential)
        row = m.password_row(credential)
        stored = dataclasses.replace(credential, email=row["email"])
        stmt = prebuilt(
            ("password_credentials", "update"),
            lambda: (
                update(t.password_credentials)
                .where(
                    _PW.institution_id == bindparam("b_iid"),
                    _PW.email == bindparam("b_email"),
                    _PW.version == bindparam("b_version"),
                )
                .values(
                    {c: bindparam(f"v_{c}") for c in _PASSWORD_FIELDS}
                    | {"version": _PW.version + 1}
                )
            ),
        )
        params = {f"v_{c}": row[c] for c in _PASSWORD_FIELDS}
        params.update(b_iid=self._iid(), b_email=row["email"], b_version=credential.version)
        if self._uow.execute(stmt, params, kind="password").rowcount:
            return dataclasses.replace(stored, version=credential.version + 1)
        if credential.version == 0:
            insert = prebuilt(
                ("password_credentials", "insert", self._uow.engine.dialect.name),
                lambda: (
                    self._insert(t.password_credentials)
                    .on_conflict_do_nothing(index_elements=["institution_id", "email"])
                    .returning(_PW.version)
                ),
            )
            # RETURNING tells whether the row went in (rowcount of INSERT is not reliable)
            if self._uow.execute(insert, row, kind="password").first() is not None:
                return stored
        raise ConcurrencyError(f"the password of {row['email']} was changed by someone else")

    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        # one UPDATE: the row lock serialises racing failures and each sees the count the
        # previous one left (PasswordCredential.after_failure, written in SQL); a locked
        # credential is not written at all
        stmt = prebuilt(
            ("password_credentials", "record failure"),
            lambda: (
                update(t.password_credentials)
                .where(
                    _PW.institution_id == IID,
                    _PW.email == bindparam("b_email"),
                    ~_PASSWORD_LOCKED,
                )
                .values(
                    failed_attempts=case(
                        (_PW.failed_attempts + 1 >= bindparam("b_max"), 0),
                        else_=_PW.failed_attempts + 1,
                    ),
                    locked_until=case(
                        (
                            _PW.failed_attempts + 1 >= bindparam("b_max"),
                            bindparam("b_until", type_=t.Instant),
                        ),
                        else_=_PW.locked_until,
                    ),
                    version=_PW.version + 1,
                )
                .returning(*t.password_credentials.c)
            ),
        )
        params = {
            "iid": self._iid(),
            "b_email": fold_email(email),
            "at": at,
            "b_max": policy.max_failures,
            "b_until": at + policy.lockout,
        }
        row = self._uow.execute(stmt, params, kind="password").mappings().first()
        return self.find(email) if row is None else m.password_from(row)

    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        stmt = prebuilt(
            ("password_credentials", "record success"),
            lambda: (
                update(t.password_credentials)
                .where(
                    _PW.institution_id == IID,
                    _PW.email == bindparam("b_email"),
                    ~_PASSWORD_LOCKED,
                )
                .values(
                    failed_attempts=0,
                    locked_until=None,
                    password_hash=func.coalesce(
                        bindparam("b_hash", type_=String()), _PW.password_hash
                    ),
                    version=_PW.version + 1,
                )
            ),
        )
        params = {
            "iid": self._iid(),
            "b_email": fold_email(email),
            "at": at,
            "b_hash": password_hash,
        }
        return bool(self._uow.execute(stmt, params, kind="password").rowcount)

    def remove(self, email: str) -> bool:
        stmt = prebuilt(
            ("password_credentials", "remove"),
            lambda: delete(t.password_credentials).where(
                _PW.institution_id == IID, _PW.email == bindparam("email")
            ),
        )
        result = self._uow.execute(stmt, {"iid": self._iid(), "email": fold_email(email)})
        return bool(result.rowcount > 0)


_PT = t.push_tokens.c
_PUSH_FIELDS = ("token", "platform", "owner_email", "registered_at", "student_id", "faculty_id")


class SqlPushTokenRepository(_Repo, PushTokenRepository):
    def put(self, token: PushToken) -> None:
        self._own(token)

        def build() -> Any:
            stmt = self._insert(t.push_tokens)
            return stmt.on_conflict_do_update(
                index_elements=["institution_id", "token_digest"],
                set_={c: stmt.excluded[c] for c in _PUSH_FIELDS},
            )

        stmt = prebuilt(("push_tokens", "put", self._uow.engine.dialect.name), build)
        self._uow.execute(stmt, m.push_token_row(token), kind="push token")

    def remove(self, token: str) -> bool:
        stmt = prebuilt(
            ("push_tokens", "remove"),
            lambda: delete(t.push_tokens).where(
                _PT.institution_id == IID, _PT.token_digest == bindparam("digest")
            ),
        )
        result = self._uow.execute(stmt, {"iid": self._iid(), "digest": digest_token(token)})
        return bool(result.rowcount > 0)

    def _of(self, column: str, owners: Iterable[str]) -> Sequence[PushToken]:
        ids = sorted(set(owners))
        if not ids:
            return []
        stmt = prebuilt(
            ("push_tokens", "of", column, self._dialect),
            lambda: (
                select(t.push_tokens)
                .where(_PT.institution_id == IID, one_of(_PT[column], self._dialect))
                .order_by(_PT.token)
            ),
        )
        rows = self._uow.execute(stmt, {"iid": self._iid(), "ids": ids}).mappings().all()
        return [m.push_token_from(r) for r in rows]

    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]:
        return self._of("student_id", student_ids)

    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]:
        return self._of("faculty_id", faculty_ids)
