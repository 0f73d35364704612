"""Attendance statuses, marks, audit entries and status tallies."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.ids import DeviceId, InstitutionId, SessionId, StudentId


class AttendanceStatus(enum.Enum):
    """A student's attendance in one class session."""

    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"

    @property
    def attended(self) -> bool:
        """Present and late both count as attended."""
        return self in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class MarkSource(enum.Enum):
    """How a mark came to be."""

    CHECK_IN = "check_in"
    MANUAL = "manual"
    COMPLETION = "completion"


@dataclass(frozen=True, slots=True)
class AttendanceMark:
    """The attendance of one student in one session (at most one per pair)."""

    institution_id: InstitutionId
    session_id: SessionId
    student_id: StudentId
    status: AttendanceStatus
    marked_at: datetime
    marked_by: str
    source: MarkSource
    device_id: DeviceId | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change of a mark: who, when, old → new, and why.

    An entry without a student (``student_id`` None) records the completion of the whole
    session: ``new_status`` is absent and ``reason`` says how many students without a mark
    became absent. Those absences get no entry each; their marks say who wrote them and
    when, with source :attr:`MarkSource.COMPLETION`.
    """

    institution_id: InstitutionId
    session_id: SessionId
    student_id: StudentId | None
    actor: str
    at: datetime
    old_status: AttendanceStatus | None
    new_status: AttendanceStatus
    reason: str

    @classmethod
    def of_completion(
        cls,
        institution_id: InstitutionId,
        session_id: SessionId,
        actor: str,
        at: datetime,
        marked_absent: int,
    ) -> AuditEntry:
        """The one entry of a completion that marked ``marked_absent`` students absent."""
        students = "student" if marked_absent == 1 else "students"
        return cls(
            institution_id=institution_id,
            session_id=session_id,
            student_id=None,
            actor=actor,
            at=at,
            old_status=None,
            new_status=AttendanceStatus.ABSENT,
            reason=f"class completed: {marked_absent} {students} without a mark marked absent",
        )


@dataclass(frozen=True, slots=True)
class StatusTally:
    """How many marks of each status (of one student, session or class)."""

    present: int = 0
    late: int = 0
    absent: int = 0
    excused: int = 0

    @classmethod
    def of(cls, statuses: Iterable[AttendanceStatus]) -> StatusTally:
        """Count ``statuses``."""
        counts = dict.fromkeys(AttendanceStatus, 0)
        for status in statuses:
            counts[status] += 1
        return cls(
            present=counts[AttendanceStatus.PRESENT],
            late=counts[AttendanceStatus.LATE],
            absent=counts[AttendanceStatus.ABSENT],
            excused=counts[AttendanceStatus.EXCUSED],
        )

    def __add__(self, other: StatusTally) -> StatusTally:
        return StatusTally(
            self.present + other.present,
            self.late + other.late,
            self.absent + other.absent,
            self.excused + other.excused,
        )

    @property
    def attended(self) -> int:
        """Present plus late."""
        return self.present + self.late

    @property
    def total(self) -> int:
        """All marks."""
        return self.present + self.late + self.absent + self.excused

    @property
    def countable(self) -> int:
        """Marks that count towards a percentage: all but excused."""
        return self.present + self.late + self.absent
