"""What a student (or a teacher) reads day to day: the schedule, and the attendance
summary per subject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from ams_core.domain.attendance import AttendanceStatus, StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import (
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import (
    FacultyId,
    SectionId,
    SessionId,
    StudentId,
    SubjectCode,
)
from ams_core.domain.people import Student
from ams_core.domain.reports import SessionCounts, SubjectAttendance, summarise_subject
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import ScheduledClass, UnitOfWork
from ams_core.use_cases._access import (
    tenant_of,
)
from ams_core.use_cases._periods import local_now, reporting_period

MAX_SCHEDULE_DAYS = 62


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
            classes: Sequence[ScheduledClass | ClassSession]
            if actor.is_student and actor.student_id is not None:
                classes = uow.sessions.list_for_student(actor.student_id, command.dates)
            elif actor.is_faculty and actor.faculty_id is not None:
                classes = uow.sessions.list_for_teacher(actor.faculty_id, command.dates)
            else:
                raise PermissionDeniedError("only students and teachers have a schedule")
            subjects = uow.subjects.find_many({c.subject_code for c in classes})
            teachers = uow.faculty.find_many({c.teacher_id for c in classes})
        tz = institution.tz
        combine = datetime.combine
        entries = tuple(
            ScheduleEntry(
                session_id=c.id,
                date=c.date,
                start=c.start,
                end=c.end,
                starts_at=combine(c.date, c.start, tzinfo=tz),
                ends_at=combine(c.date, c.end, tzinfo=tz),
                section_id=c.section_id,
                subject_code=c.subject_code,
                subject_name=subjects[c.subject_code].name if c.subject_code in subjects else "",
                teacher_id=c.teacher_id,
                teacher_name=teachers[c.teacher_id].name if c.teacher_id in teachers else "",
                venue=c.venue,
                status=c.status,
                topic=c.topic,
                # a teacher's own sessions carry no mark of theirs
                my_status=c.my_status if isinstance(c, ScheduledClass) else None,
            )
            for c in classes
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
            today = local_now(institution, self._clock.now()).date()
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
