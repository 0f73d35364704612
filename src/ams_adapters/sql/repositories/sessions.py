"""Class sessions: the timetable's occurrences, their summaries and a student's schedule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from typing import Any

from sqlalchemy import (
    Date,
    String,
    Time,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.sql.expression import ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.direct import GENERIC_PLAN
from ams_adapters.sql.repositories._base import (
    INSTITUTION_ID,
    JoinedEntity,
    KeyedTableRepository,
    one_of,
    prebuilt,
)
from ams_adapters.sql.repositories.teaching import SqlAssignmentRepository
from ams_core.domain import (
    AssignmentId,
    AssignmentSummary,
    ClassSession,
    DateRange,
    FacultyId,
    NotFoundError,
    SectionId,
    SessionCounts,
    SessionId,
    SessionStatus,
    SlotId,
    StatusTally,
    StudentId,
    SubjectCode,
    TeachingAssignment,
)
from ams_core.ports import ScheduledClass, SessionRepository, TeacherBooking

SESSIONS = t.sessions.c
COMPLETED = SessionStatus.COMPLETED.value
_UPCOMING = (SessionStatus.SCHEDULED.value, SessionStatus.OPEN.value)
#: a session on a day between the ``start`` and ``end`` parameters
_IN_DATES = SESSIONS.day.between(bindparam("start", type_=Date()), bindparam("end", type_=Date()))


def _is_upcoming(sessions: Any = None) -> ColumnElement[bool]:
    """A session (of ``sessions``, default the table) still to come: scheduled or open."""
    status = (SESSIONS if sessions is None else sessions.c).status
    # not IN (…): a literal list compiles to an expanding parameter, which direct reads skip
    return or_(*(status == value for value in _UPCOMING))


def _starts_from_now(sessions: Any = None) -> ColumnElement[bool]:
    """An upcoming session starting at or after the ``today``/``now`` parameters."""
    c = SESSIONS if sessions is None else sessions.c
    now = tuple_(bindparam("today", type_=Date()), bindparam("now", type_=Time()))
    return and_(_is_upcoming(sessions), tuple_(c.day, c.start_time) >= now)


#: the parts of joined reads (a student's schedule here, the check-in context in attendance)
JOINED_SESSION = JoinedEntity("", t.sessions, "id", m.session_from)
JOINED_STUDENT = JoinedEntity("st_", t.students, "id", m.student_from)
JOINED_MARK = JoinedEntity("m_", t.marks, "session_id", m.mark_from)
_JOINED_LAST_COMPLETED = JoinedEntity("l_", t.sessions, "id", m.session_from)
_JOINED_NEXT_UPCOMING = JoinedEntity("n_", t.sessions, "id", m.session_from)
_JOINED_ASSIGNMENT = JoinedEntity("as_", t.assignments, "id", m.assignment_from)
#: the summary of an assignment that has no sessions yet
_NOTHING_HELD = AssignmentSummary(0, StatusTally(), None, None)


#: the key (with the session id) under which a transaction remembers a session it updated:
#: ``(version, (completed, day, subject_code))``; the row stays locked by it till it ends
WRITTEN_SESSION = "session written"


class SqlSessionRepository(KeyedTableRepository[SessionId, ClassSession], SessionRepository):
    table, key, kind, order_by = t.sessions, "id", "session", ("day", "start_time", "id")
    to_row, from_row = staticmethod(m.session_row), staticmethod(m.session_from)

    def add_many(self, sessions: Sequence[ClassSession]) -> int:
        return self._add_many(sessions)

    def update(self, session: ClassSession) -> ClassSession:
        # a session this transaction updated at this version is locked by it (a completion
        # updates its session twice: completed, then its final tally)
        wrote = self._transaction.wrote
        key = (WRITTEN_SESSION, session.id)
        known = wrote.get(key)
        locked = known is not None and known[0] == session.version
        stored = self._update(session, locked=locked)
        # keep the copy of the session's subject, day and completion on its marks in step,
        # unless this transaction wrote them at the version just updated
        copied = (session.status is SessionStatus.COMPLETED, session.date, session.subject_code)
        wrote[key] = (stored.version, copied)
        if known == (session.version, copied):
            return stored
        marks = t.marks.c
        stmt = prebuilt(
            ("marks", "follow session"),
            lambda: (
                update(t.marks)
                .where(
                    marks.institution_id == INSTITUTION_ID,
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
        counted, day, subject = copied
        params = {
            "iid": self._institution_id(),
            "session": session.id,
            "counted": counted,
            "d": day,
            "subject": subject,
        }
        self._transaction.execute_later(stmt, params, kind="mark")  # its count is not read
        return stored

    def list_for_section(self, section_id: SectionId, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where(
            "section",
            lambda: [SESSIONS.section_id == bindparam("section"), _IN_DATES],
            section=section_id,
            start=dates.start,
            end=dates.end,
        )

    def list_for_student(self, student_id: StudentId, dates: DateRange) -> Sequence[ScheduledClass]:
        stmt = prebuilt(("class_sessions", "for student"), _student_classes)
        params = {
            "iid": self._institution_id(),
            "student": student_id,
            "start": dates.start,
            "end": dates.end,
        }
        rows = self._transaction.rows(stmt, params)
        if not rows:
            raise NotFoundError("student", student_id)
        # a student whose section has no session in the dates still gives one row
        return [m.scheduled_class_from(row) for row in rows if row[0] is not None]

    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where(
            "teacher",
            lambda: [SESSIONS.teacher_id == bindparam("teacher"), _IN_DATES],
            teacher=faculty_id,
            start=dates.start,
            end=dates.end,
        )

    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        return self._select_where("between", lambda: [_IN_DATES], start=dates.start, end=dates.end)

    def teacher_bookings(self, dates: DateRange) -> Sequence[TeacherBooking]:
        stmt = prebuilt(
            ("class_sessions", "teacher bookings"),
            lambda: (
                select(SESSIONS.teacher_id, SESSIONS.day, SESSIONS.start_time, SESSIONS.end_time)
                .where(
                    SESSIONS.institution_id == INSTITUTION_ID,
                    SESSIONS.status != SessionStatus.CANCELLED.value,
                    _IN_DATES,
                )
                .order_by(SESSIONS.teacher_id, SESSIONS.day, SESSIONS.start_time)
            ),
        )
        params = {"iid": self._institution_id(), "start": dates.start, "end": dates.end}
        rows = self._transaction.execute(stmt, params).all()
        return [TeacherBooking(FacultyId(r[0]), r[1], r[2], r[3]) for r in rows]

    def list_for_assignment(
        self, assignment_id: AssignmentId, dates: DateRange | None = None
    ) -> Sequence[ClassSession]:
        if dates is None:
            return self._select_where(
                "assignment", lambda: [SESSIONS.assignment_id == bindparam("a")], a=assignment_id
            )
        return self._select_where(
            "assignment in dates",
            lambda: [SESSIONS.assignment_id == bindparam("a"), _IN_DATES],
            a=assignment_id,
            start=dates.start,
            end=dates.end,
        )

    def generated_keys(self, dates: DateRange) -> set[tuple[SlotId, date]]:
        stmt = prebuilt(
            ("class_sessions", "generated keys"),
            lambda: select(SESSIONS.slot_id, SESSIONS.day).where(
                SESSIONS.institution_id == INSTITUTION_ID, SESSIONS.slot_id.is_not(None), _IN_DATES
            ),
        )
        params = {"iid": self._institution_id(), "start": dates.start, "end": dates.end}
        rows = self._transaction.execute(stmt, params)
        return {(SlotId(r[0]), r[1]) for r in rows}

    def list_open(self) -> Sequence[ClassSession]:
        return self._select_where("open", lambda: [SESSIONS.status == SessionStatus.OPEN.value])

    def subject_counts(
        self, dates: DateRange, today: date, section_id: SectionId | None = None
    ) -> Mapping[tuple[SectionId, SubjectCode], SessionCounts]:
        def build() -> Any:
            held = func.sum(case((SESSIONS.status == COMPLETED, 1), else_=0))
            upcoming = and_(_is_upcoming(), SESSIONS.day >= bindparam("today", type_=Date()))
            remaining = func.sum(case((upcoming, 1), else_=0))
            stmt = (
                select(SESSIONS.section_id, SESSIONS.subject_code, held, remaining)
                .where(SESSIONS.institution_id == INSTITUTION_ID, _IN_DATES)
                .group_by(SESSIONS.section_id, SESSIONS.subject_code)
            )
            if section_id is not None:
                stmt = stmt.where(SESSIONS.section_id == bindparam("section"))
            return stmt

        stmt = prebuilt(("class_sessions", "subject counts", str(section_id is None)), build)
        params = {
            "iid": self._institution_id(),
            "start": dates.start,
            "end": dates.end,
            "today": today,
            "section": section_id,
        }
        result = {}
        for section, code, h, r in self._transaction.execute(stmt, params):
            if h or r:
                result[(SectionId(section), SubjectCode(code))] = SessionCounts(int(h), int(r))
        return result

    def assignment_summaries(
        self, assignment_ids: Iterable[AssignmentId], today: date, now: time
    ) -> Mapping[AssignmentId, AssignmentSummary]:
        ids = sorted(set(assignment_ids))
        if not ids:
            return {}
        params = {"iid": self._institution_id(), "ids": ids, "today": today, "now": now}
        if self._transaction.is_postgres:
            stmt = prebuilt(("class_sessions", "assignment summaries", "lateral"), _summaries_pg)
            return {
                AssignmentId(row["a_id"]): _summary_of(row)
                for row in self._transaction.execute(stmt, params).mappings().all()
            }
        stmt = prebuilt(
            ("class_sessions", "assignment summaries", self._dialect),
            lambda: _assignment_summaries(self._dialect),
        )
        result: dict[AssignmentId, AssignmentSummary] = {}
        last: dict[str, ClassSession] = {}
        upcoming: dict[str, ClassSession] = {}
        for row in self._transaction.execute(stmt, params).mappings().all():
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

    def teacher_summaries(
        self, faculty_id: FacultyId, today: date, now: time
    ) -> Sequence[tuple[TeachingAssignment, AssignmentSummary]]:
        if not self._transaction.is_postgres:
            taught = SqlAssignmentRepository(self._transaction).list(faculty_id=faculty_id)
            summaries = self.assignment_summaries([a.id for a in taught], today, now)
            return [(a, summaries.get(a.id) or _NOTHING_HELD) for a in taught]
        stmt = prebuilt(("class_sessions", "teacher summaries"), _teacher_summaries_pg)
        params = {"iid": self._institution_id(), "faculty": faculty_id, "today": today, "now": now}
        return [
            (_JOINED_ASSIGNMENT.entity(row), _summary_of(row))
            for row in self._transaction.execute(stmt, params).mappings().all()
        ]


def _summary_of(row: Any) -> AssignmentSummary:
    """An assignment's summary from a row of totals joined with its last and next session
    (NULL totals: nothing held)."""
    return AssignmentSummary(
        held=int(row["a_held"] or 0),
        tally=_summed_tally(row),
        last_completed=_JOINED_LAST_COMPLETED.entity(row),
        next_session=_JOINED_NEXT_UPCOMING.entity(row),
    )


def _summed_tally(row: Any) -> StatusTally:
    """The summed tally of a totals row (zero where the assignment had no sessions)."""
    return StatusTally(
        *(int(row[name] or 0) for name in ("a_present", "a_late", "a_absent", "a_excused"))
    )


def _summary_totals(dialect: str, of: ColumnElement[bool] | None = None) -> Any:
    """Per assignment (those ``of`` picks, by default the ``ids`` parameter's): completed
    sessions and their summed tallies (index-only scan)."""
    done = SESSIONS.status == COMPLETED
    picked = one_of(SESSIONS.assignment_id, dialect) if of is None else of

    def summed(column: str) -> Any:
        return func.sum(case((done, SESSIONS[column]), else_=0))

    return (
        select(
            SESSIONS.assignment_id.label("a_id"),
            func.sum(case((done, 1), else_=0)).label("a_held"),
            summed("tally_present").label("a_present"),
            summed("tally_late").label("a_late"),
            summed("tally_absent").label("a_absent"),
            summed("tally_excused").label("a_excused"),
        )
        .where(SESSIONS.institution_id == INSTITUTION_ID, picked)
        .group_by(SESSIONS.assignment_id)
    )


def _last_and_next(assignment_id: Any) -> tuple[Any, Any]:
    """The last completed and the next upcoming session of the assignment ``assignment_id``
    names, as ``LATERAL … LIMIT 1`` walks of the (institution, assignment, day) index — no
    ranking of every session the assignment ever had."""
    last_s, next_s = t.sessions.alias("last_s"), t.sessions.alias("next_s")
    last = (
        select(last_s)
        .where(
            last_s.c.institution_id == INSTITUTION_ID,
            last_s.c.assignment_id == assignment_id,
            last_s.c.status == COMPLETED,
        )
        .order_by(last_s.c.day.desc(), last_s.c.start_time.desc(), last_s.c.id.desc())
        .limit(1)
        .lateral("last")
    )
    upcoming = (
        select(next_s)
        .where(
            next_s.c.institution_id == INSTITUTION_ID,
            next_s.c.assignment_id == assignment_id,
            _starts_from_now(next_s),
        )
        .order_by(next_s.c.day, next_s.c.start_time, next_s.c.id)
        .limit(1)
        .lateral("upcoming")
    )
    return last, upcoming


def _summaries_pg() -> Any:
    """PostgreSQL: the totals, and for each assignment its last and next session."""
    totals = _summary_totals("postgresql").subquery("totals")
    last, upcoming = _last_and_next(totals.c.a_id)
    columns = _JOINED_LAST_COMPLETED.columns(last) + _JOINED_NEXT_UPCOMING.columns(upcoming)
    joined = totals.outerjoin(last, true()).outerjoin(upcoming, true())
    return select(totals, *columns).select_from(joined)


def _teacher_summaries_pg() -> Any:
    """PostgreSQL: a teacher's assignments, each with its totals and its last and next
    session, in one statement (an assignment without sessions has NULL totals)."""
    assignments = t.assignments.c
    taught = and_(
        assignments.institution_id == INSTITUTION_ID,
        assignments.faculty_id == bindparam("faculty", type_=String()),
    )
    totals = _summary_totals(
        "postgresql", SESSIONS.assignment_id.in_(select(assignments.id).where(taught))
    ).subquery("totals")
    last, upcoming = _last_and_next(assignments.id)
    columns = [
        *_JOINED_ASSIGNMENT.columns(),
        *(totals.c[name] for name in ("a_held", "a_present", "a_late", "a_absent", "a_excused")),
        *_JOINED_LAST_COMPLETED.columns(last),
        *_JOINED_NEXT_UPCOMING.columns(upcoming),
    ]
    joined = (
        t.assignments.outerjoin(totals, totals.c.a_id == assignments.id)
        .outerjoin(last, true())
        .outerjoin(upcoming, true())
    )
    # its generic plan costs ~0.6 ms; left to choose, PostgreSQL planned it anew (0.7 ms)
    # for every dashboard, its estimate for the given teacher and day being lower
    return (
        select(*columns)
        .select_from(joined)
        .where(taught)
        .order_by(assignments.id)
        .execution_options(**GENERIC_PLAN)
    )


def _assignment_summaries(dialect: str) -> Any:
    """One statement: per assignment the held count and summed tallies, joined with the
    last completed and the next upcoming session (ranked on the covering index)."""
    in_scope = and_(
        SESSIONS.institution_id == INSTITUTION_ID, one_of(SESSIONS.assignment_id, dialect)
    )
    done = SESSIONS.status == COMPLETED
    totals = _summary_totals(dialect).cte("totals")
    upcoming = _starts_from_now()
    ranked = union_all(
        select(
            SESSIONS.assignment_id.label("r_assignment"),
            SESSIONS.id.label("r_id"),
            literal("last", String).label("which"),
            func.row_number()
            .over(
                partition_by=SESSIONS.assignment_id,
                order_by=(SESSIONS.day.desc(), SESSIONS.start_time.desc(), SESSIONS.id.desc()),
            )
            .label("r_rank"),
        ).where(in_scope, done),
        select(
            SESSIONS.assignment_id,
            SESSIONS.id,
            literal("next", String),
            func.row_number().over(
                partition_by=SESSIONS.assignment_id,
                order_by=(SESSIONS.day, SESSIONS.start_time, SESSIONS.id),
            ),
        ).where(in_scope, upcoming),
    ).cte("ranked")
    picked = select(ranked).where(ranked.c.r_rank == 1).cte("picked")
    return (
        select(totals, picked.c.which, t.sessions)
        .select_from(totals)
        .outerjoin(picked, picked.c.r_assignment == totals.c.a_id)
        .outerjoin(
            t.sessions,
            and_(SESSIONS.institution_id == INSTITUTION_ID, SESSIONS.id == picked.c.r_id),
        )
    )


def _student_classes() -> Any:
    """One statement for a student's schedule: their section's sessions in the dates, only
    the columns a schedule shows, and the status of the student's mark in each (a student
    without sessions still gives one row, of nulls; no student, no row)."""
    students, marks = t.students.c, t.marks.c
    in_dates = and_(
        SESSIONS.institution_id == students.institution_id,
        SESSIONS.section_id == students.section_id,
        SESSIONS.day.between(bindparam("start", type_=Date()), bindparam("end", type_=Date())),
    )
    own_mark = and_(
        marks.institution_id == SESSIONS.institution_id,
        marks.session_id == SESSIONS.id,
        marks.student_id == students.id,
    )
    joined = t.students.outerjoin(t.sessions, in_dates).outerjoin(t.marks, own_mark)
    times = (SESSIONS.id, SESSIONS.day, SESSIONS.start_time, SESSIONS.end_time)
    what = (SESSIONS.section_id, SESSIONS.subject_code, SESSIONS.teacher_id, SESSIONS.venue)
    return (
        select(*times, *what, SESSIONS.status, SESSIONS.topic, marks.status.label("m_status"))
        .select_from(joined)
        .where(students.institution_id == INSTITUTION_ID, students.id == bindparam("student"))
        .order_by(SESSIONS.day, SESSIONS.start_time, SESSIONS.id)
    )
