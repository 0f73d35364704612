"""What teachers and admins read about their classes: a session's roster, and the
faculty dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ams_core.domain.attendance import AttendanceStatus, MarkSource, StatusTally
from ams_core.domain.errors import (
    PermissionDeniedError,
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
from ams_core.domain.sessions import ClassSession
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import (
    may_view_session,
    require_faculty,
    tenant_of,
)
from ams_core.use_cases._periods import local_now

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
            local = local_now(institution, self._clock.now())
            taught = sorted(
                uow.sessions.teacher_summaries(
                    faculty_id, local.date(), local.time().replace(tzinfo=None)
                ),
                key=lambda pair: (pair[0].section_id, pair[0].subject_code, pair[0].id),
            )
            subjects = uow.subjects.find_many({a.subject_code for a, _ in taught})
        classes = []
        for a, summary in taught:
            last = summary.last_completed
            classes.append(
                DashboardClass(
                    assignment_id=a.id,
                    section_id=a.section_id,
                    subject_code=a.subject_code,
                    subject_name=subjects[a.subject_code].name
                    if a.subject_code in subjects
                    else "",
                    sessions_held=summary.held,
                    average_percent=summary.average_percent,
                    last_topic=last.topic if last else None,
                    last_held_on=last.date if last else None,
                    next_session=summary.next_session,
                )
            )
        return FacultyDashboard(faculty_id, tuple(classes))
