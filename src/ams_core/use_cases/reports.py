"""Reports: the section/subject register, and the students below the attendance threshold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

from ams_core.domain.attendance import AttendanceStatus, StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import (
    PermissionDeniedError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import (
    SectionId,
    SessionId,
    StudentId,
    SubjectCode,
)
from ams_core.domain.institution import parse_threshold
from ams_core.domain.reports import SessionCounts, SubjectAttendance, summarise_subject
from ams_core.domain.sessions import SessionStatus
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import (
    require_faculty,
    tenant_of,
)
from ams_core.use_cases._periods import local_now, reporting_period

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
            today = local_now(institution, self._clock.now()).date()
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
            today = local_now(institution, self._clock.now()).date()
            _, dates = reporting_period(uow.terms.list(), today)
            counts = uow.sessions.subject_counts(dates, today, section_id=command.section_id)
            tallies = uow.marks.tallies(dates, section_id=command.section_id)
            students = [s for s in uow.students.list(section_id=command.section_id) if s.active]
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
