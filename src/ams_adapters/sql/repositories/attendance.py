"""Attendance marks and the wrong-code counters of check-ins."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    delete,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import BindParameter

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    JoinedEntity,
    SqlRepository,
    insert_from_arrays,
    one_of,
    prebuilt,
)
from ams_adapters.sql.repositories.sessions import (
    COMPLETED,
    JOINED_MARK,
    JOINED_SESSION,
    JOINED_STUDENT,
    SESSIONS,
    WRITTEN_SESSION,
)
from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    ConflictError,
    DateRange,
    MarkSource,
    NotFoundError,
    SectionId,
    SessionId,
    StatusTally,
    StudentId,
    SubjectCode,
)
from ams_core.ports import (
    CheckInContext,
    CheckInFailureRepository,
    FailureCounts,
    MarkRepository,
    UnmarkedFilled,
)

MARKS = t.marks.c
FAILURES = t.check_in_failures.c

_ORDERED_STATUSES = ("present", "late", "absent", "excused")


def _tally(counts: Mapping[str, int]) -> StatusTally:
    """A StatusTally from counts by status value."""
    return StatusTally(*(int(counts.get(s, 0)) for s in _ORDERED_STATUSES))


_MARK_KEY = ["institution_id", "session_id", "student_id"]
_MARK_COLUMNS = tuple(c.name for c in t.marks.columns)
#: PostgreSQL array types of the mark columns that are not varchar
_MARK_ARRAY_TYPES = {
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


# the mark columns a single check-in takes from its session row, in the INSERT itself
_MARK_COLUMNS_FROM_SESSION = ("subject_code", "day", "counted")


def _mark_from_session() -> Any:
    """INSERT one mark, its subject, day and counted flag read from the session (PostgreSQL):
    one statement where reading the session first would take two."""
    given = [c for c in t.marks.c if c.name not in _MARK_COLUMNS_FROM_SESSION]
    source = select(
        *(bindparam(f"v_{c.name}", type_=c.type) for c in given),
        SESSIONS.subject_code,
        SESSIONS.day,
        SESSIONS.status == COMPLETED,
    ).where(SESSIONS.institution_id == INSTITUTION_ID, SESSIONS.id == bindparam("v_session_id"))
    names = [c.name for c in given] + list(_MARK_COLUMNS_FROM_SESSION)
    return (
        postgresql.insert(t.marks)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=_MARK_KEY)
        .returning(t.marks.c.student_id)
    )


#: the columns a mark for every unmarked student is given, in the order of its SELECT
_FOR_UNMARKED_COLUMNS = (
    "institution_id",
    "session_id",
    "student_id",
    "status",
    "marked_at",
    "marked_by",
    "source",
    "subject_code",
    "day",
    "counted",
)


def _for_unmarked(insert: Any) -> Any:
    """INSERT a mark for every active student of the session's section who has none, the
    session's subject, day and completion copied from its row: one statement, whatever the
    size of the class (PostgreSQL and SQLite)."""
    students, marks = t.students.c, t.marks.c
    source = (
        select(
            SESSIONS.institution_id,
            SESSIONS.id,
            students.id,
            bindparam("status", type_=marks.status.type),
            bindparam("at", type_=marks.marked_at.type),
            bindparam("by", type_=marks.marked_by.type),
            bindparam("source", type_=marks.source.type),
            SESSIONS.subject_code,
            SESSIONS.day,
            SESSIONS.status == COMPLETED,
        )
        .select_from(
            t.sessions.join(
                t.students,
                and_(
                    students.institution_id == SESSIONS.institution_id,
                    students.section_id == SESSIONS.section_id,
                ),
            )
        )
        .where(
            SESSIONS.institution_id == INSTITUTION_ID,
            SESSIONS.id == bindparam("session"),
            students.active,
        )
    )
    return insert.from_select(_FOR_UNMARKED_COLUMNS, source).on_conflict_do_nothing(
        index_elements=_MARK_KEY
    )


def _for_unmarked_and_tally() -> Any:
    """The marks for the unmarked students, and the session's marks counted by status and by
    whether this statement added them (PostgreSQL): one round trip where the INSERT and the
    tally after it take two. The statement's own scan does not see the rows its INSERT adds,
    so those are counted from what the INSERT returns."""
    added = _for_unmarked(postgresql.insert(t.marks)).returning(t.marks.c.status).cte("added")
    both = union_all(
        select(added.c.status, true().label("new")),
        select(MARKS.status, false()).where(
            MARKS.institution_id == INSTITUTION_ID, MARKS.session_id == bindparam("session")
        ),
    ).subquery("marks_now")
    return select(both.c.status, both.c.new, func.count()).group_by(both.c.status, both.c.new)


_JOINED_BINDING = JoinedEntity("b_", t.device_bindings, "student_id", m.binding_from)
#: the parts of the check-in context, in the order CheckInContext takes them
_CHECK_IN_PARTS = (JOINED_SESSION, JOINED_STUDENT, _JOINED_BINDING, JOINED_MARK)


def _check_in_context() -> Any:
    """One row: the session, student, binding, mark and wrong-code count, each LEFT JOINed
    to a one-row base so that a missing part reads as NULLs instead of no row at all."""
    session: BindParameter[str] = bindparam("session", type_=String())
    student: BindParameter[str] = bindparam("student", type_=String())
    base = select(literal(1).label("one")).subquery("base")
    students, bindings = t.students.c, t.device_bindings.c
    joined = (
        base.outerjoin(
            t.sessions, and_(SESSIONS.institution_id == INSTITUTION_ID, SESSIONS.id == session)
        )
        .outerjoin(
            t.students, and_(students.institution_id == INSTITUTION_ID, students.id == student)
        )
        .outerjoin(
            t.device_bindings,
            and_(bindings.institution_id == INSTITUTION_ID, bindings.student_id == student),
        )
        .outerjoin(
            t.marks,
            and_(
                MARKS.institution_id == INSTITUTION_ID,
                MARKS.session_id == session,
                MARKS.student_id == student,
            ),
        )
        .outerjoin(
            t.check_in_failures,
            and_(
                FAILURES.institution_id == INSTITUTION_ID,
                FAILURES.session_id == session,
                FAILURES.student_id == student,
            ),
        )
    )
    columns = [c for part in _CHECK_IN_PARTS for c in part.columns()]
    return select(*columns, FAILURES.failures.label("f_failures")).select_from(joined)


class SqlMarkRepository(SqlRepository, MarkRepository):
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        stmt = prebuilt(("marks", "check-in context"), _check_in_context)
        params = {"iid": self._institution_id(), "session": session_id, "student": student_id}
        (row,) = self._transaction.mappings(stmt, params)
        session, student, binding, mark = (part.entity(row) for part in _CHECK_IN_PARTS)
        return CheckInContext(session, student, binding, mark, int(row["f_failures"] or 0))

    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None:
        stmt = prebuilt(
            ("marks", "find"),
            lambda: select(t.marks).where(
                MARKS.institution_id == INSTITUTION_ID,
                MARKS.session_id == bindparam("session"),
                MARKS.student_id == bindparam("student"),
            ),
        )
        params = {"iid": self._institution_id(), "session": session_id, "student": student_id}
        row = self._transaction.execute(stmt, params).mappings().first()
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
                .where(
                    MARKS.institution_id == INSTITUTION_ID,
                    one_of(MARKS.session_id, self._dialect),
                )
                .order_by(MARKS.session_id, MARKS.student_id)
            ),
        )
        params = {"iid": self._institution_id(), "ids": ids}
        rows = self._transaction.execute(stmt, params).mappings().all()
        return [m.mark_from(r) for r in rows]

    def _session_facts(self, session_ids: Iterable[SessionId]) -> dict[str, tuple[str, date, bool]]:
        """Subject, day and completion of each session (NotFoundError for a missing one);
        a session this transaction updated is not read again."""
        facts: dict[str, tuple[str, date, bool]] = {}
        ids = []
        for session_id in sorted(set(session_ids)):
            written = self._transaction.wrote.get((WRITTEN_SESSION, session_id))
            if written is None:
                ids.append(session_id)
            else:
                completed, day, subject_code = written[1]
                facts[session_id] = (subject_code, day, completed)
        if not ids:
            return facts
        stmt = prebuilt(
            ("marks", "session facts", self._dialect),
            lambda: select(SESSIONS.id, SESSIONS.subject_code, SESSIONS.day, SESSIONS.status).where(
                SESSIONS.institution_id == INSTITUTION_ID, one_of(SESSIONS.id, self._dialect)
            ),
        )
        rows = self._transaction.execute(stmt, {"iid": self._institution_id(), "ids": ids})
        facts.update((r[0], (r[1], r[2], r[3] == COMPLETED)) for r in rows)
        for session_id in ids:
            if session_id not in facts:
                raise NotFoundError("session", session_id)
        return facts

    def _rows(self, marks: Sequence[AttendanceMark]) -> list[dict[str, Any]]:
        facts = self._session_facts(mark.session_id for mark in marks)
        rows = []
        for mark in marks:
            self._check_owned(mark)
            subject_code, day, counted = facts[mark.session_id]
            row = m.mark_row(mark, subject_code, day, counted)
            row["version"] = 0
            rows.append(row)
        return rows

    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        if self._transaction.is_postgres:
            self._check_owned(mark)
            fresh = mark if mark.version == 0 else dataclasses.replace(mark, version=0)
            params = {
                "iid": fresh.institution_id,
                "v_institution_id": fresh.institution_id,
                "v_session_id": fresh.session_id,
                "v_student_id": fresh.student_id,
                "v_status": fresh.status.value,
                "v_marked_at": fresh.marked_at,
                "v_marked_by": fresh.marked_by,
                "v_source": fresh.source.value,
                "v_device_id": fresh.device_id,
                "v_version": 0,
            }
            stmt = prebuilt(("marks", "one from session"), _mark_from_session)
            # only a key comes back: the stored mark is the given one (version 0)
            if self._transaction.rows(stmt, params, kind="mark"):
                return fresh, True
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
        tail = f"ON CONFLICT (institution_id, session_id, student_id) {conflict}"
        stmt, params = insert_from_arrays(
            "attendance_marks", _MARK_COLUMNS, _MARK_ARRAY_TYPES, rows, tail
        )
        return self._transaction.execute(stmt, params, kind="mark")

    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        if not marks:
            return []
        rows = self._rows(marks)
        if self._transaction.is_postgres:
            # only the keys come back: the inserted marks are the given ones (version 0), so
            # a completion's absences are not read back column by column
            returned = self._write_arrays(rows, "DO NOTHING RETURNING session_id, student_id")
            inserted = {(row[0], row[1]) for row in returned}
            fresh: dict[tuple[str, str], AttendanceMark] = {}
            for mark in marks:
                key = (mark.session_id, mark.student_id)
                if key in inserted and key not in fresh:
                    fresh[key] = mark if mark.version == 0 else dataclasses.replace(mark, version=0)
            return list(fresh.values())
        stmt = prebuilt(
            ("marks", "add missing", self._dialect),
            lambda: (
                self._insert(t.marks)
                .on_conflict_do_nothing(index_elements=_MARK_KEY)
                .returning(*t.marks.c)
            ),
        )
        # executemany: the compiled statement is reused and the driver batches the rows
        result = self._transaction.execute(stmt, rows, kind="mark").mappings().all()
        return [m.mark_from(r) for r in result]

    def add_for_unmarked(
        self,
        session_id: SessionId,
        status: AttendanceStatus,
        *,
        marked_at: datetime,
        marked_by: str,
        source: MarkSource,
    ) -> UnmarkedFilled:
        params = {
            "iid": self._institution_id(),
            "session": session_id,
            "status": status.value,
            "at": marked_at,
            "by": marked_by,
            "source": source.value,
        }
        if self._transaction.is_postgres:
            stmt = prebuilt(("marks", "for unmarked and tally"), _for_unmarked_and_tally)
            added, counts = 0, Counter[str]()
            for value, new, count in self._transaction.execute(
                stmt, params, kind="mark", write=True
            ):
                counts[value] += count
                added += count if new else 0
            tally = _tally(counts)
        else:
            stmt = prebuilt(
                ("marks", "for unmarked", self._dialect),
                lambda: _for_unmarked(sqlite.insert(t.marks)),
            )
            added = self._transaction.execute(stmt, params, kind="mark").rowcount
            tally = self.tally(session_id)
        if not added:
            self._session_facts([session_id])  # NotFoundError when there is no such session
        return UnmarkedFilled(added, tally)

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

        if self._transaction.is_postgres:
            self._write_arrays(self._rows(marks), _MARK_UPSERT)
            return
        stmt = prebuilt(("marks", "put many", self._dialect), build)
        self._transaction.execute(stmt, self._rows(marks), kind="mark")

    def tally(self, session_id: SessionId) -> StatusTally:
        stmt = prebuilt(
            ("marks", "tally"),
            lambda: (
                select(MARKS.status, func.count())
                .where(
                    MARKS.institution_id == INSTITUTION_ID,
                    MARKS.session_id == bindparam("session"),
                )
                .group_by(MARKS.status)
            ),
        )
        params = {"iid": self._institution_id(), "session": session_id}
        rows = self._transaction.execute(stmt, params)
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
                MARKS.institution_id == INSTITUTION_ID,
                MARKS.student_id == bindparam("student"),
                one_of(MARKS.session_id, self._dialect),
            ),
        )
        params = {"iid": self._institution_id(), "student": student_id, "ids": ids}
        rows = self._transaction.execute(stmt, params).mappings().all()
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
                select(MARKS.student_id, MARKS.subject_code, MARKS.status, func.count())
                .where(
                    MARKS.institution_id == INSTITUTION_ID,
                    MARKS.counted == true(),
                    MARKS.day.between(
                        bindparam("start", type_=Date()), bindparam("end", type_=Date())
                    ),
                )
                .group_by(MARKS.student_id, MARKS.subject_code, MARKS.status)
            )
            if by == "student":
                return stmt.where(MARKS.student_id == bindparam("student"))
            if by == "section":
                return stmt.join(
                    t.sessions,
                    and_(
                        SESSIONS.institution_id == MARKS.institution_id,
                        SESSIONS.id == MARKS.session_id,
                    ),
                ).where(SESSIONS.section_id == bindparam("section"))
            return stmt

        stmt = prebuilt(("marks", "tallies", by), build)
        params = {
            "iid": self._institution_id(),
            "start": dates.start,
            "end": dates.end,
            "student": student_id,
            "section": section_id,
        }
        counts: dict[tuple[StudentId, SubjectCode], dict[str, int]] = {}
        for student, code, status, count in self._transaction.execute(stmt, params):
            counts.setdefault((StudentId(student), SubjectCode(code)), {})[status] = count
        return {key: _tally(value) for key, value in counts.items()}


#: the student_id of a session's whole-session wrong-code counter
_WHOLE_SESSION = ""


class SqlCheckInFailureRepository(SqlRepository, CheckInFailureRepository):
    def failures(self, session_id: SessionId, student_id: StudentId) -> int:
        stmt = prebuilt(
            ("check_in_failures", "get"),
            lambda: select(FAILURES.failures).where(
                FAILURES.institution_id == INSTITUTION_ID,
                FAILURES.session_id == bindparam("session"),
                FAILURES.student_id == bindparam("student"),
            ),
        )
        params = {"iid": self._institution_id(), "session": session_id, "student": student_id}
        return int(self._transaction.execute(stmt, params).scalar() or 0)

    def _increment(self, session_id: SessionId, student_key: str) -> int:
        stmt = prebuilt(
            ("check_in_failures", "increment", self._dialect),
            lambda: (
                self._insert(t.check_in_failures)
                .values(
                    institution_id=INSTITUTION_ID,
                    session_id=bindparam("session"),
                    student_id=bindparam("student"),
                    failures=1,
                )
                .on_conflict_do_update(
                    index_elements=["institution_id", "session_id", "student_id"],
                    set_={"failures": t.check_in_failures.c.failures + 1},
                )
                .returning(t.check_in_failures.c.failures)
            ),
        )
        params = {"iid": self._institution_id(), "session": session_id, "student": student_key}
        return int(self._transaction.execute(stmt, params, "check-in failure").scalar_one())

    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        student = self._increment(session_id, student_id)
        session = self._increment(session_id, _WHOLE_SESSION)
        return FailureCounts(student=student, session=session)

    def reset_session(self, session_id: SessionId) -> None:
        self._transaction.execute(
            delete(t.check_in_failures).where(
                FAILURES.institution_id == self._institution_id(),
                FAILURES.session_id == session_id,
                FAILURES.student_id == _WHOLE_SESSION,
            )
        )
