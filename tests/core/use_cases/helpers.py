"""Shared helpers of the use-case tests: every use case wired to the memory adapters, and
readers of the stored end state (marks, audit trail, security events, outbox).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AttendanceMark,
    AttendanceStatus,
    AuditEntry,
    ClassSession,
    DateRange,
    FacultyId,
    InstitutionId,
    InstitutionSettings,
    Notification,
    Principal,
    SecurityEvent,
    SessionStatus,
    Student,
    StudentId,
    TeachingAssignment,
)
from ams_core.testing.builders import MONDAY, SmallCollege, faculty_principal, student_principal
from ams_core.use_cases import (
    BindDevice,
    BindDeviceCommand,
    CheckIn,
    CheckInCommand,
    CheckInResult,
    CompleteOverdueSessions,
    CompleteSession,
    CompleteSessionCommand,
    CompleteSessionResult,
    GenerateWeek,
    GenerateWeekCommand,
    GenerateWeekResult,
    GetAttendanceSummary,
    GetFacultyDashboard,
    GetRegister,
    GetSchedule,
    GetSessionRoster,
    ListDefaulters,
    MarkAttendance,
    MarkAttendanceCommand,
    MarkEntry,
    OpenAttendance,
    OpenAttendanceCommand,
    OpenAttendanceResult,
    ResetDeviceBinding,
)

KOLKATA = ZoneInfo("Asia/Kolkata")
#: The ISO week of :data:`~ams_core.testing.builders.MONDAY` (Monday 2026-11-16 to Sunday).
WEEK = "2026-W47"
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
THURSDAY = MONDAY + timedelta(days=3)
FRIDAY = MONDAY + timedelta(days=4)
#: A well-formed code that is (almost surely) not the one shown; tests check it is not.
NOT_THE_CODE = "000000"


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """An instant given as a wall-clock time in the college's timezone (Asia/Kolkata)."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=KOLKATA)


def phone_of(student_id: str) -> str:
    """The device id a student normally signs in from."""
    return f"phone-{student_id}"


def wrong_code(right: str) -> str:
    """A well-formed code that differs from ``right`` (and from its neighbours' codes
    only by chance, which the seeded random source makes deterministic).
    """
    return f"{(int(right) + 1) % 1_000_000:06d}"


class App:
    """The use cases over one memory store, plus readers and writers of its state."""

    def __init__(
        self,
        uow: InMemoryUnitOfWork,
        clock: FixedClock,
        random: SeededRandomSource,
        college: SmallCollege,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.random = random
        self.college = college
        self.generate_week = GenerateWeek(uow, random)
        self.open_attendance = OpenAttendance(uow, clock, random)
        self.check_in_use_case = CheckIn(uow, clock, random)
        self.mark_attendance = MarkAttendance(uow, clock)
        self.complete_session = CompleteSession(uow, clock)
        self.complete_overdue = CompleteOverdueSessions(uow, clock)
        self.bind_device = BindDevice(uow, clock)
        self.reset_device = ResetDeviceBinding(uow, clock)
        self.get_schedule = GetSchedule(uow)
        self.get_summary = GetAttendanceSummary(uow, clock)
        self.get_roster = GetSessionRoster(uow)
        self.get_register = GetRegister(uow, clock)
        self.list_defaulters = ListDefaulters(uow, clock)
        self.get_dashboard = GetFacultyDashboard(uow, clock)

    # -- time ------------------------------------------------------------------------
    def at(self, day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
        """Set the clock to a wall-clock time of the college and return the instant."""
        instant = local(day, hour, minute, second)
        self.clock.set(instant)
        return instant

    # -- arranging -------------------------------------------------------------------
    def generate(self, week: str = WEEK, college: SmallCollege | None = None) -> GenerateWeekResult:
        """Generate a week of sessions as the college's admin."""
        college = college or self.college
        return self.generate_week(GenerateWeekCommand.for_week(college.admin, week))

    def session(self, assignment: TeachingAssignment, day: date = MONDAY) -> ClassSession:
        """The one generated session of ``assignment`` on ``day``, as stored now."""
        with self.uow.for_institution(assignment.institution_id) as uow:
            found = list(uow.sessions.list_for_assignment(assignment.id, DateRange(day, day)))
        assert len(found) == 1, found
        return found[0]

    def reload(self, session: ClassSession) -> ClassSession:
        """The session as stored now."""
        with self.uow.for_institution(session.institution_id) as uow:
            return uow.sessions.get(session.id)

    def replace_session(
        self,
        session: ClassSession,
        *,
        status: SessionStatus | None = None,
        teacher_id: FacultyId | None = None,
    ) -> ClassSession:
        """Store the session cancelled (``status``) or covered by another teacher."""
        with self.uow.for_institution(session.institution_id) as uow:
            current = uow.sessions.get(session.id)
            updated = uow.sessions.update(
                dataclasses.replace(
                    current,
                    status=status or current.status,
                    teacher_id=teacher_id or current.teacher_id,
                )
            )
            uow.commit()
        return updated

    def cancel(self, session: ClassSession) -> ClassSession:
        """Mark the session cancelled (there is no cancel use case yet)."""
        return self.replace_session(session, status=SessionStatus.CANCELLED)

    def set_settings(
        self, settings: InstitutionSettings, institution_id: InstitutionId | None = None
    ) -> None:
        """Replace the settings of an institution (the college's by default)."""
        with self.uow.for_platform() as uow:
            institution = uow.institutions.get(institution_id or self.college.id)
            uow.institutions.update(dataclasses.replace(institution, settings=settings))
            uow.commit()

    def add_students(self, count: int, first: int = 100) -> list[Principal]:
        """Enrol ``count`` more students in section A; return them as principals."""
        college = self.college
        students = [
            Student(
                StudentId(f"N21{n:04d}"),
                college.id,
                f"Student {n}",
                f"n21{n:04d}@{min(college.institution.email_domains)}",
                college.section_a.id,
                roll_number=n,
            )
            for n in range(first, first + count)
        ]
        with self.uow.for_institution(college.id) as uow:
            uow.students.add_many(students)
            uow.commit()
        return [student_principal(s) for s in students]

    def teacher_of(self, session: ClassSession) -> Principal:
        """The teacher of record of ``session``, as a principal."""
        with self.uow.for_institution(session.institution_id) as uow:
            return faculty_principal(uow.faculty.get(session.teacher_id))

    def bind(self, student: Principal, device: str | None = None) -> str:
        """Bind a student's device (their usual phone by default); return its id."""
        assert student.student_id is not None
        device_id = device or phone_of(student.student_id)
        self.bind_device(BindDeviceCommand(student, device_id))
        return device_id

    def open(self, session: ClassSession, actor: Principal | None = None) -> OpenAttendanceResult:
        """Open attendance as the teacher of record (or ``actor``)."""
        return self.open_attendance(
            OpenAttendanceCommand(actor or self.teacher_of(session), session.id)
        )

    def code(self, session: ClassSession) -> str:
        """The code the teacher's screen shows right now."""
        window = self.reload(session).window
        assert window is not None
        return window.code_at(self.clock.now())

    def check_in(
        self,
        student: Principal,
        session: ClassSession,
        code: str | None = None,
        *,
        device: str | None = None,
        client_ip: str | None = None,
    ) -> CheckInResult:
        """Check in from the student's usual phone with the current code (by default)."""
        assert student.student_id is not None
        return self.check_in_use_case(
            CheckInCommand(
                actor=student,
                session_id=session.id,
                code=self.code(session) if code is None else code,
                device_id=device or phone_of(student.student_id),
                client_ip=client_ip,
            )
        )

    def mark(
        self,
        session: ClassSession,
        statuses: Mapping[StudentId, AttendanceStatus],
        *,
        actor: Principal | None = None,
        reason: str | None = None,
    ) -> None:
        """Mark students by hand as the teacher of record (or ``actor``)."""
        self.mark_attendance(
            MarkAttendanceCommand(
                actor or self.teacher_of(session),
                session.id,
                [MarkEntry(student_id, status) for student_id, status in statuses.items()],
                reason=reason,
            )
        )

    def hold(
        self,
        session: ClassSession,
        statuses: Mapping[StudentId, AttendanceStatus] | None = None,
        topic: str | None = None,
    ) -> CompleteSessionResult:
        """Hold a class: 50 minutes in, the teacher marks ``statuses`` and completes it."""
        self.clock.set(session.starts_at(KOLKATA) + timedelta(minutes=50))
        if statuses:
            self.mark(session, statuses)
        return self.complete_session(
            CompleteSessionCommand(self.teacher_of(session), session.id, topic)
        )

    # -- reading the end state -------------------------------------------------------
    def marks(self, session: ClassSession) -> dict[StudentId, AttendanceMark]:
        """The stored marks of a session, by student."""
        with self.uow.for_institution(session.institution_id) as uow:
            return {m.student_id: m for m in uow.marks.list_for_session(session.id)}

    def statuses(self, session: ClassSession) -> dict[StudentId, AttendanceStatus]:
        """The stored statuses of a session, by student."""
        return {student_id: m.status for student_id, m in self.marks(session).items()}

    def audit(self, session: ClassSession) -> list[AuditEntry]:
        """The audit trail of a session, oldest first."""
        with self.uow.for_institution(session.institution_id) as uow:
            return list(uow.audit.list_for_session(session.id))

    def events(self, institution_id: InstitutionId | None = None) -> list[SecurityEvent]:
        """Every security event of an institution (the college's by default), oldest first."""
        with self.uow.for_institution(institution_id or self.college.id) as uow:
            return list(reversed(uow.security_events.list(limit=100_000)))

    def outbox(self) -> list[Notification]:
        """Notifications waiting for delivery, oldest first."""
        with self.uow.for_platform() as uow:
            return list(uow.outbox.pending(limit=100_000))

    def sessions(
        self, dates: DateRange, institution_id: InstitutionId | None = None
    ) -> list[ClassSession]:
        """Every session of an institution (the college's by default) in ``dates``."""
        with self.uow.for_institution(institution_id or self.college.id) as uow:
            return sorted(
                (
                    s
                    for section in uow.sections.list()
                    for s in uow.sessions.list_for_section(section.id, dates)
                ),
                key=lambda s: (s.date, s.start, s.section_id, s.id),
            )


def ids(students: Sequence[Principal]) -> list[StudentId]:
    """The student ids of some student principals."""
    return [s.student_id for s in students if s.student_id is not None]
