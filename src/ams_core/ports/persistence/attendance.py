"""Persistence ports: attendance marks and wrong-code check-in failures.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ams_core.domain.attendance import AttendanceMark, AttendanceStatus, MarkSource, StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.ids import (
    SectionId,
    SessionId,
    StudentId,
    SubjectCode,
)
from ams_core.domain.people import DeviceBinding, Student
from ams_core.domain.sessions import ClassSession


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Wrong codes so far: by one student in a session, and in the whole session."""

    student: int
    session: int


@dataclass(frozen=True, slots=True)
class UnmarkedFilled:
    """What :meth:`MarkRepository.add_for_unmarked` did: how many marks it added, and the
    session's tally with them.
    """

    added: int
    tally: StatusTally


@dataclass(frozen=True, slots=True)
class CheckInContext:
    """Everything a check-in decides on, read together (None or 0 where there is none)."""

    session: ClassSession | None
    student: Student | None
    binding: DeviceBinding | None
    mark: AttendanceMark | None
    failures: int


class MarkRepository(Protocol):
    """Attendance marks: at most one per (session, student)."""

    @abstractmethod
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        """The session, the student, the student's device binding, the student's mark in
        the session and their wrong-code count there, as of one moment (one read where the
        adapter can).
        """

    @abstractmethod
    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None: ...

    @abstractmethod
    def list_for_session(self, session_id: SessionId) -> Sequence[AttendanceMark]:
        """Marks of a session, ordered by student id."""

    @abstractmethod
    def list_for_sessions(self, session_ids: Iterable[SessionId]) -> Sequence[AttendanceMark]:
        """Marks of several sessions, ordered by session id then student id."""

    @abstractmethod
    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        """Store ``mark`` unless the pair already has one; return the stored mark and whether
        it was inserted. Safe under concurrency: exactly one of many racing inserts wins.
        """

    @abstractmethod
    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        """Insert the marks whose (session, student) has none yet; return those inserted.
        A mark written concurrently by someone else is kept, never overwritten.
        """

    @abstractmethod
    def add_for_unmarked(
        self,
        session_id: SessionId,
        status: AttendanceStatus,
        *,
        marked_at: datetime,
        marked_by: str,
        source: MarkSource,
    ) -> UnmarkedFilled:
        """Give every active student of the session's section who has no mark in it yet a
        mark of ``status`` (version 0, no device); return how many marks were added and the
        session's tally with them.

        One set-wise write where the adapter can, the tally read with it: a completion's
        absences never travel student by student. A mark written concurrently by someone
        else is kept, never overwritten.

        Raises:
            NotFoundError: no such session in this institution.
        """

    @abstractmethod
    def put_many(self, marks: Sequence[AttendanceMark]) -> None:
        """Insert or replace marks (replacement bumps the version)."""

    @abstractmethod
    def tally(self, session_id: SessionId) -> StatusTally:
        """Counts of the marks of one session, by status."""

    @abstractmethod
    def for_student(
        self, student_id: StudentId, session_ids: Iterable[SessionId]
    ) -> Mapping[SessionId, AttendanceMark]:
        """One student's marks in the given sessions."""

    @abstractmethod
    def tallies(
        self,
        dates: DateRange,
        *,
        student_id: StudentId | None = None,
        section_id: SectionId | None = None,
    ) -> Mapping[tuple[StudentId, SubjectCode], StatusTally]:
        """Per (student, subject): counts of marks on **completed** sessions in ``dates``
        (of one student, or of the students of one section's sessions, when given).
        """


class CheckInFailureRepository(Protocol):
    """Counters of wrong check-in codes (atomic increments)."""

    @abstractmethod
    def failures(self, session_id: SessionId, student_id: StudentId) -> int: ...

    @abstractmethod
    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        """Count one more wrong code and return both counters after the increment."""

    @abstractmethod
    def reset_session(self, session_id: SessionId) -> None:
        """Reset the session-wide counter (after a secret rotation); per-student counts stay."""
