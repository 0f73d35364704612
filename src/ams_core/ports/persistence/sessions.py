"""Persistence ports: class sessions, and a student's classes read as their schedule shows them.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Protocol

from ams_core.domain.attendance import AttendanceStatus
from ams_core.domain.calendar import DateRange
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    SectionId,
    SessionId,
    SlotId,
    StudentId,
    SubjectCode,
)
from ams_core.domain.reports import AssignmentSummary, SessionCounts
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.domain.teaching import TeachingAssignment


@dataclass(frozen=True, slots=True)
class ScheduledClass:
    """One class of a student's schedule: what the schedule shows of the session, and the
    status of the student's own mark in it (``None``: no mark yet).

    A read model, not a :class:`ClassSession`: no window, tally or other state a schedule
    never shows is read or built (a week is about thirty of them per request).
    """

    id: SessionId
    date: date
    start: time
    end: time
    section_id: SectionId
    subject_code: SubjectCode
    teacher_id: FacultyId
    venue: str
    status: SessionStatus
    topic: str | None
    my_status: AttendanceStatus | None


@dataclass(frozen=True, slots=True)
class TeacherBooking:
    """When a teacher of record holds a class: all the time rules of cover need of it."""

    teacher_id: FacultyId
    date: date
    start: time
    end: time


class SessionRepository(Protocol):
    """Class sessions; at most one generated session per (weekly slot, date)."""

    @abstractmethod
    def find(self, session_id: SessionId) -> ClassSession | None: ...

    @abstractmethod
    def get(self, session_id: SessionId) -> ClassSession: ...

    @abstractmethod
    def add(self, session: ClassSession) -> None: ...

    @abstractmethod
    def add_many(self, sessions: Sequence[ClassSession]) -> int:
        """Store new sessions in bulk (all or nothing); a (slot, date) taken is a ConflictError."""

    @abstractmethod
    def update(self, session: ClassSession) -> ClassSession: ...

    @abstractmethod
    def list_for_section(self, section_id: SectionId, dates: DateRange) -> Sequence[ClassSession]:
        """Sessions of a section in ``dates``, ordered by date, start and id."""

    @abstractmethod
    def list_for_student(self, student_id: StudentId, dates: DateRange) -> Sequence[ScheduledClass]:
        """The student's section's sessions in ``dates`` as their schedule shows them
        (ordered by date, start and id), each with the status of the student's own mark.

        Raises:
            NotFoundError: no such student in the institution.
        """

    @abstractmethod
    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        """Sessions whose teacher of record is ``faculty_id``, ordered by date, start and id."""

    @abstractmethod
    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        """Every session of the institution in ``dates``, ordered by date, start and id."""

    @abstractmethod
    def teacher_bookings(self, dates: DateRange) -> Sequence[TeacherBooking]:
        """The sessions in ``dates`` that are not cancelled, as teacher of record, date,
        start and end; ordered by teacher, date and start.
        """

    @abstractmethod
    def list_for_assignment(
        self, assignment_id: AssignmentId, dates: DateRange | None = None
    ) -> Sequence[ClassSession]:
        """Sessions of one assignment, ordered by date, start and id."""

    @abstractmethod
    def generated_keys(self, dates: DateRange) -> set[tuple[SlotId, date]]:
        """The (slot, date) pairs already generated in ``dates``."""

    @abstractmethod
    def list_open(self) -> Sequence[ClassSession]:
        """Sessions whose status is ``open``."""

    @abstractmethod
    def subject_counts(
        self, dates: DateRange, today: date, section_id: SectionId | None = None
    ) -> Mapping[tuple[SectionId, SubjectCode], SessionCounts]:
        """Per (section, subject) within ``dates``: completed sessions, and sessions still
        to come (scheduled or open, dated ``today`` or later).
        """

    @abstractmethod
    def assignment_summaries(
        self, assignment_ids: Iterable[AssignmentId], today: date, now: time
    ) -> Mapping[AssignmentId, AssignmentSummary]:
        """Per assignment: completed count, summed tally, last completed and next upcoming
        (scheduled or open, starting at or after ``today``/``now``) session.
        """

    @abstractmethod
    def teacher_summaries(
        self, faculty_id: FacultyId, today: date, now: time
    ) -> Sequence[tuple[TeachingAssignment, AssignmentSummary]]:
        """Every teaching assignment of ``faculty_id``, in id order, with its summary as
        :meth:`assignment_summaries` gives it (nothing held, an empty tally and no sessions
        for an assignment without any) — one read where the store allows it.
        """
