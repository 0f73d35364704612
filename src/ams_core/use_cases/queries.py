"""Read-side use cases: schedules, attendance summaries, rosters, registers, defaulters and
the faculty dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from ams_core.domain.attendance import AttendanceStatus, MarkSource, StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import (
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    SectionId,
    SessionId,
    StudentId,
    SubjectCode,
)
from ams_core.domain.institution import Institution, parse_threshold
from ams_core.domain.people import Student
from ams_core.domain.reports import SessionCounts, SubjectAttendance, summarise_subject
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.domain.teaching import Term
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import (
    may_view_session,
    require_faculty,
    tenant_of,
)

MAX_SCHEDULE_DAYS = 62
_ALL_TIME = DateRange(date(1970, 1, 1), date(9999, 12, 31))


def reporting_period(terms: Sequence[Term], today: date) -> tuple[Term | None, DateRange]:
    """The term reports cover: the one containing ``today``, else the latest one that has
    already started, else (no term at all) all time.
    """
    started = [t for t in terms if t.start <= today]
    current = [t for t in started if t.contains(today)]
    chosen = current[-1] if current else (max(started, key=lambda t: t.end) if started else None)
    if chosen is None:
        return None, _ALL_TIME
    return chosen, DateRange(chosen.start, chosen.end)


def _local_now(institution: Institution, now: datetime) -> datetime:
    return now.astimezone(institution.tz)


# -- schedule ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetScheduleCommand:
    """The actor's own classes (as a student, or as the teacher of record) in ``dates``."""

    actor: Principal
    dates: DateRange


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One class in a schedule; ``my_status`` is a student's own mark, if any."""

    session_id: SessionId
    date: date
    start: time
    end: time
    starts_at: datetime
    ends_at: datetime
    section_id: SectionId
    subject_code: SubjectCode
    subject_name: str
    teacher_id: FacultyId
    teacher_name: str
    venue: str
    status: SessionStatus
    topic: str | None
    my_status: AttendanceStatus | None


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """Classes in date and time order."""

    dates: DateRange
    entries: tuple[ScheduleEntry, ...]


class GetSchedule:
    """A student's or a teacher's classes for a day or a week."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetScheduleCommand) -> ScheduleResult:
        """Return the schedule.

        Raises:
            ValidationError: the range is longer than 62 days.
            PermissionDeniedError: the actor is neither a student nor a teacher.
        """
        if len(command.dates) > MAX_SCHEDULE_DAYS:
            raise ValidationError(
                [FieldProblem("to", f"ask for at most {MAX_SCHEDULE_DAYS} days at once")]
            )
        actor = command.actor
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            mine: dict[SessionId, AttendanceStatus] = {}
            sessions: Sequence[ClassSession]
            if actor.is_student and actor.student_id is not None:
                classes = uow.sessions.list_for_student(actor.student_id, command.dates)
                sessions = classes.sessions
                mine = {sid: m.status for sid, m in classes.marks.items()}
            elif actor.is_faculty and actor.faculty_id is not None:
                sessions = uow.sessions.list_for_teacher(actor.faculty_id, command.dates)
            else:
                raise PermissionDeniedError("only students and teachers have a schedule")
            subjects = uow.subjects.find_many({s.subject_code for s in sessions})
            teachers = uow.faculty.find_many({s.teacher_id for s in sessions})
        tz = institution.tz
        entries = tuple(
            ScheduleEntry(
                session_id=s.id,
                date=s.date,
                start=s.start,
                end=s.end,
                starts_at=s.starts_at(tz),
                ends_at=s.ends_at(tz),
                section_id=s.section_id,
                subject_code=s.subject_code,
                subject_name=subjects[s.subject_code].name if s.subject_code in subjects else "",
                teacher_id=s.teacher_id,
                teacher_name=teachers[s.teacher_id].name if s.teacher_id in teachers else "",
                venue=s.venue,
                status=s.status,
                topic=s.topic,
                my_status=mine.get(s.id),
            )
            for s in sessions
        )
        return ScheduleResult(command.dates, entries)


# -- attendance summary --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetAttendanceSummaryCommand:
    """A student's attendance per subject. ``student_id`` defaults to the actor."""

    actor: Principal
    student_id: StudentId | None = None


@dataclass(frozen=True, slots=True)
class AttendanceSummary:
    """Per-subject attendance of one student over the reporting term."""

    student_id: StudentId
    student_name: str
    section_id: SectionId
    term_name: str | None
    dates: DateRange
    threshold: Decimal
    subjects: tuple[SubjectAttendance, ...]


class GetAttendanceSummary:
    """Held, attended, percentage and how many more classes a student needs, per subject.

    A student sees only their own summary (another student's answers "not found"); a
    teacher sees the students of the sections they teach; an admin sees everyone.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: GetAttendanceSummaryCommand) -> AttendanceSummary:
        """Return the summary.

        Raises:
            NotFoundError: no such student, or not the actor's own.
            PermissionDeniedError: a teacher of other sections, or another role.
        """
        actor = command.actor
        student_id = command.student_id or actor.student_id
        if student_id is None:
            raise PermissionDeniedError("name the student whose attendance to show")
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            student = uow.students.get(student_id)
            _require_may_view_student(uow, actor, student)
            today = _local_now(institution, self._clock.now()).date()
            term, dates = reporting_period(uow.terms.list(), today)
            counts = uow.sessions.subject_counts(dates, today, section_id=student.section_id)
            tallies = uow.marks.tallies(dates, student_id=student.id)
            codes = {code for (_, code) in counts} | {code for (_, code) in tallies}
            subjects = uow.subjects.find_many(codes)
        threshold = institution.settings.attendance_threshold
        lines = tuple(
            summarise_subject(
                code,
                subjects[code].name if code in subjects else code,
                counts.get((student.section_id, code), SessionCounts()),
                tallies.get((student.id, code), StatusTally()),
                threshold,
            )
            for code in sorted(codes)
        )
        return AttendanceSummary(
            student_id=student.id,
            student_name=student.name,
            section_id=student.section_id,
            term_name=term.name if term else None,
            dates=dates,
            threshold=threshold,
            subjects=lines,
        )


def _require_may_view_student(uow: UnitOfWork, actor: Principal, student: Student) -> None:
    if actor.is_admin:
        return
    if actor.student_id == student.id:
        return
    if actor.is_faculty and actor.faculty_id is not None:
        if uow.assignments.list(faculty_id=actor.faculty_id, section_id=student.section_id):
            return
        raise PermissionDeniedError("you do not teach this student")
    raise NotFoundError("student", student.id)


# -- session roster ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetSessionRosterCommand:
    """The students of a session with their marks."""

    actor: Principal
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One student of the session's section and their mark, if any."""

    student_id: StudentId
    name: str
    roll_number: int | None
    status: AttendanceStatus | None
    marked_at: datetime | None
    source: MarkSource | None


@dataclass(frozen=True, slots=True)
class SessionRoster:
    """A session's roster, ordered by roll number then student id."""

    session: ClassSession
    rows: tuple[RosterRow, ...]
    tally: StatusTally

    @property
    def unmarked(self) -> int:
        """Students without a mark yet."""
        return sum(1 for row in self.rows if row.status is None)


class GetSessionRoster:
    """The roster of a session (teacher of record, the class's own teacher, or an admin)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetSessionRosterCommand) -> SessionRoster:
        """Return the roster.

        Raises:
            NotFoundError: no such session in the actor's institution.
            PermissionDeniedError: the actor may not see this session's marks.
        """
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            session = uow.sessions.get(command.session_id)
            if not may_view_session(uow, command.actor, session):
                raise PermissionDeniedError("only the class's teachers and admins see its marks")
            students = uow.students.list(section_id=session.section_id)
            marks = {m.student_id: m for m in uow.marks.list_for_session(session.id)}
        rows = tuple(
            RosterRow(
                student_id=s.id,
                name=s.name,
                roll_number=s.roll_number,
                status=marks[s.id].status if s.id in marks else None,
                marked_at=marks[s.id].marked_at if s.id in marks else None,
                source=marks[s.id].source if s.id in marks else None,
            )
            for s in students
        )
        return SessionRoster(session, rows, StatusTally.of(m.status for m in marks.values()))


# -- register ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetRegisterCommand:
    """The register of one subject for one section (defaults to the reporting term)."""

    actor: Principal
    section_id: SectionId
    subject_code: SubjectCode
    dates: DateRange | None = None


@dataclass(frozen=True, slots=True)
class RegisterColumn:
    """A held (or running) session of the register."""

    session_id: SessionId
    date: date
    start: time
    status: SessionStatus
    topic: str | None


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """A student's marks, aligned with the register's columns, and their summary."""

    student_id: StudentId
    name: str
    roll_number: int | None
    statuses: tuple[AttendanceStatus | None, ...]
    summary: SubjectAttendance


@dataclass(frozen=True, slots=True)
class Register:
    """Students × sessions of one subject in one section."""

    section_id: SectionId
    subject_code: SubjectCode
    subject_name: str
    dates: DateRange
    columns: tuple[RegisterColumn, ...]
    rows: tuple[RegisterRow, ...]


class GetRegister:
    """The section/subject register (admins, and the teachers of that class)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: GetRegisterCommand) -> Register:
        """Return the register.

        Raises:
            NotFoundError: no such section or subject in the actor's institution.
            PermissionDeniedError: the actor neither administers nor teaches this class.
        """
        actor = command.actor
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            section = uow.sections.get(command.section_id)
            subject = uow.subjects.get(command.subject_code)
            assignments = [
                a
                for a in uow.assignments.list(section_id=section.id)
                if a.subject_code == subject.code
            ]
            if not actor.is_admin and not any(
                a.faculty_id == actor.faculty_id for a in assignments
            ):
                raise PermissionDeniedError("you do not teach this subject to this section")
            today = _local_now(institution, self._clock.now()).date()
            _, term_dates = reporting_period(uow.terms.list(), today)
            dates = command.dates or term_dates
            sessions = sorted(
                (
                    s
                    for a in assignments
                    for s in uow.sessions.list_for_assignment(a.id, dates)
                    if s.status in (SessionStatus.COMPLETED, SessionStatus.OPEN)
                ),
                key=lambda s: (s.date, s.start, s.id),
            )
            marks = uow.marks.list_for_sessions([s.id for s in sessions])
            students = uow.students.list(section_id=section.id)
            counts = uow.sessions.subject_counts(dates, today, section_id=section.id)
        by_pair = {(m.session_id, m.student_id): m.status for m in marks}
        subject_counts = counts.get((section.id, subject.code), SessionCounts())
        threshold = institution.settings.attendance_threshold
        completed_ids = {s.id for s in sessions if s.status is SessionStatus.COMPLETED}
        rows = []
        for student in students:
            statuses = tuple(by_pair.get((s.id, student.id)) for s in sessions)
            tally = StatusTally.of(
                status
                for s, status in zip(sessions, statuses, strict=True)
                if status is not None and s.id in completed_ids
            )
            rows.append(
                RegisterRow(
                    student_id=student.id,
                    name=student.name,
                    roll_number=student.roll_number,
                    statuses=statuses,
                    summary=summarise_subject(
                        subject.code, subject.name, subject_counts, tally, threshold
                    ),
                )
            )
        columns = tuple(RegisterColumn(s.id, s.date, s.start, s.status, s.topic) for s in sessions)
        return Register(section.id, subject.code, subject.name, dates, columns, tuple(rows))


# -- defaulters ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListDefaultersCommand:
    """Students below a threshold (the institution's by default), optionally narrowed."""

    actor: Principal
    threshold: Decimal | float | int | str | None = None
    section_id: SectionId | None = None
    subject_code: SubjectCode | None = None


@dataclass(frozen=True, slots=True)
class DefaulterRow:
    """A student below the threshold in one subject."""

    student_id: StudentId
    student_name: str
    section_id: SectionId
    attendance: SubjectAttendance


@dataclass(frozen=True, slots=True)
class DefaultersResult:
    """Defaulters, lowest percentage first."""

    threshold: Decimal
    dates: DateRange
    rows: tuple[DefaulterRow, ...]


class ListDefaulters:
    """Students below the attendance threshold: all of them for an admin, the classes they
    teach for a teacher.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: ListDefaultersCommand) -> DefaultersResult:
        """Return the defaulter list.

        Raises:
            PermissionDeniedError: the actor is neither admin nor teacher.
            ValidationError: the threshold is not a number from 0 to 100.
        """
        actor = command.actor
        if not actor.is_admin and not actor.is_faculty:
            raise PermissionDeniedError("only admins and teachers see defaulters")
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            threshold = (
                institution.settings.attendance_threshold
                if command.threshold is None
                else parse_threshold(command.threshold)
            )
            allowed: set[tuple[SectionId, SubjectCode]] | None = None
            if not actor.is_admin:
                allowed = {
                    (a.section_id, a.subject_code)
                    for a in uow.assignments.list(faculty_id=require_faculty(actor))
                }
            if command.section_id is not None:
                uow.sections.get(command.section_id)
            today = _local_now(institution, self._clock.now()).date()
            _, dates = reporting_period(uow.terms.list(), today)
            counts = uow.sessions.subject_counts(dates, today, section_id=command.section_id)
            tallies = uow.marks.tallies(dates, section_id=command.section_id)
            students = uow.students.list(section_id=command.section_id)
            subjects = uow.subjects.find_many({code for (_, code) in counts})
        by_section: dict[SectionId, list[tuple[SubjectCode, SessionCounts]]] = {}
        for (section_id, code), session_counts in counts.items():
            if command.subject_code is not None and code != command.subject_code:
                continue
            if allowed is not None and (section_id, code) not in allowed:
                continue
            by_section.setdefault(section_id, []).append((code, session_counts))
        rows: list[DefaulterRow] = []
        for student in students:
            for code, session_counts in by_section.get(student.section_id, ()):
                line = summarise_subject(
                    code,
                    subjects[code].name if code in subjects else code,
                    session_counts,
                    tallies.get((student.id, code), StatusTally()),
                    threshold,
                )
                if line.below_threshold:
                    rows.append(DefaulterRow(student.id, student.name, student.section_id, line))
        rows.sort(
            key=lambda r: (
                r.attendance.percent or Decimal(0),
                r.student_id,
                r.attendance.subject_code,
            )
        )
        return DefaultersResult(threshold, dates, tuple(rows))


# -- faculty dashboard -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GetFacultyDashboardCommand:
    """A teacher's classes at a glance (an admin may name the teacher)."""

    actor: Principal
    faculty_id: FacultyId | None = None


@dataclass(frozen=True, slots=True)
class DashboardClass:
    """One class (teaching assignment) of the dashboard."""

    assignment_id: AssignmentId
    section_id: SectionId
    subject_code: SubjectCode
    subject_name: str
    sessions_held: int
    average_percent: Decimal | None
    last_topic: str | None
    last_held_on: date | None
    next_session: ClassSession | None


@dataclass(frozen=True, slots=True)
class FacultyDashboard:
    """Per-class summary of a teacher's classes, ordered by section then subject."""

    faculty_id: FacultyId
    classes: tuple[DashboardClass, ...]


class GetFacultyDashboard:
    """Sessions held, average attendance, last topic and next session, per class."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: GetFacultyDashboardCommand) -> FacultyDashboard:
        """Return the dashboard.

        Raises:
            PermissionDeniedError: not a teacher (or an admin naming one).
            NotFoundError: an admin named an unknown teacher.
        """
        actor = command.actor
        if command.faculty_id is not None and actor.is_admin:
            faculty_id = command.faculty_id
        else:
            faculty_id = require_faculty(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            institution = uow.institutions.get(tenant_of(actor))
            uow.faculty.get(faculty_id)
            assignments = sorted(
                uow.assignments.list(faculty_id=faculty_id),
                key=lambda a: (a.section_id, a.subject_code, a.id),
            )
            local = _local_now(institution, self._clock.now())
            summaries = uow.sessions.assignment_summaries(
                [a.id for a in assignments], local.date(), local.time().replace(tzinfo=None)
            )
            subjects = uow.subjects.find_many({a.subject_code for a in assignments})
        classes = []
        for a in assignments:
            summary = summaries.get(a.id)
            last = summary.last_completed if summary else None
            classes.append(
                DashboardClass(
                    assignment_id=a.id,
                    section_id=a.section_id,
                    subject_code=a.subject_code,
                    subject_name=subjects[a.subject_code].name
                    if a.subject_code in subjects
                    else "",
                    sessions_held=summary.held if summary else 0,
                    average_percent=summary.average_percent if summary else None,
                    last_topic=last.topic if last else None,
                    last_held_on=last.date if last else None,
                    next_session=summary.next_session if summary else None,
                )
            )
        return FacultyDashboard(faculty_id, tuple(classes))
