"""Class sessions: one dated meeting of a teaching assignment, and its attendance window."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from ams_core.domain.attendance import AttendanceStatus, StatusTally
from ams_core.domain.codes import code_matches, code_step, current_code, is_well_formed
from ams_core.domain.errors import (
    CheckInRefusal,
    CheckInRefusedError,
    ConflictError,
    FieldProblem,
    ValidationError,
)
from ams_core.domain.ids import (
    AssignmentId,
    FacultyId,
    InstitutionId,
    SectionId,
    SessionId,
    SlotId,
    SubjectCode,
)
from ams_core.domain.institution import InstitutionSettings

MAX_TOPIC_LENGTH = 500


class SessionStatus(enum.Enum):
    """``scheduled → open → completed``, or ``cancelled``."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class AttendanceWindow:
    """An open check-in window and the secret its rotating codes derive from."""

    opened_at: datetime
    closes_at: datetime
    secret: bytes = dataclasses.field(repr=False)
    rotation_seconds: int

    def is_open_at(self, at: datetime) -> bool:
        """Return whether check-in is accepted at ``at``."""
        return self.opened_at <= at < self.closes_at

    def code_at(self, at: datetime) -> str:
        """Return the code shown at ``at``."""
        return current_code(self.secret, at, self.rotation_seconds)

    def code_valid_until(self, at: datetime) -> datetime:
        """Return when the code shown at ``at`` stops being shown (or the window closes)."""
        if self.rotation_seconds <= 0:
            return self.closes_at
        next_step = (code_step(at, self.rotation_seconds) + 1) * self.rotation_seconds
        return min(self.closes_at, datetime.fromtimestamp(next_step, tz=at.tzinfo))


@dataclass(frozen=True, slots=True)
class ClassSession:
    """One dated meeting: generated from a weekly slot or created ad hoc.

    ``date``, ``start`` and ``end`` are local to the institution's timezone. ``teacher_id`` is
    the teacher of record (the substitute when covered). ``tally`` counts the marks of a
    completed session and is kept up to date when a completed session is corrected, so
    reports never have to scan marks.
    """

    id: SessionId
    institution_id: InstitutionId
    assignment_id: AssignmentId
    section_id: SectionId
    subject_code: SubjectCode
    date: date
    start: time
    end: time
    teacher_id: FacultyId
    venue: str = ""
    slot_id: SlotId | None = None
    status: SessionStatus = SessionStatus.SCHEDULED
    topic: str | None = None
    window: AttendanceWindow | None = None
    completed_at: datetime | None = None
    tally: StatusTally = dataclasses.field(default_factory=StatusTally)
    version: int = 0

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValidationError([FieldProblem("end", "must be after the start")])

    # -- time -------------------------------------------------------------------------
    def starts_at(self, tz: tzinfo) -> datetime:
        """The start as an aware instant."""
        return datetime.combine(self.date, self.start, tzinfo=tz)

    def ends_at(self, tz: tzinfo) -> datetime:
        """The end as an aware instant."""
        return datetime.combine(self.date, self.end, tzinfo=tz)

    # -- attendance window -----------------------------------------------------------
    def open_attendance(
        self, now: datetime, tz: tzinfo, settings: InstitutionSettings, new_secret: bytes
    ) -> ClassSession:
        """Open (or reopen) the check-in window; a window still open is kept as it is.

        Raises:
            ConflictError: the session is cancelled or completed (``session_cancelled`` /
                ``session_completed``), or ``now`` is not between ``open_early_minutes``
                before the start and the end (``outside_session_time``).
        """
        self._require_active()
        if self.window is not None and self.window.is_open_at(now):
            return self
        earliest = self.starts_at(tz) - timedelta(minutes=settings.open_early_minutes)
        if not earliest <= now < self.ends_at(tz):
            raise ConflictError(
                "attendance can be opened only from "
                f"{settings.open_early_minutes} minutes before the class until it ends",
                code="outside_session_time",
            )
        window = AttendanceWindow(
            opened_at=now,
            closes_at=now + timedelta(minutes=settings.check_in_window_minutes),
            secret=new_secret,
            rotation_seconds=settings.code_rotation_seconds,
        )
        return dataclasses.replace(self, status=SessionStatus.OPEN, window=window)

    def with_rotated_secret(self, new_secret: bytes) -> ClassSession:
        """Return the session with a fresh code secret (old codes stop working at once)."""
        if self.window is None:
            return self
        return dataclasses.replace(self, window=dataclasses.replace(self.window, secret=new_secret))

    def require_check_ins_possible(self) -> None:
        """Refuse every check-in to a cancelled or completed session, whatever was marked.

        Raises:
            CheckInRefusedError: ``session_cancelled`` or ``session_completed``.
        """
        if self.status is SessionStatus.CANCELLED:
            raise CheckInRefusedError(CheckInRefusal.SESSION_CANCELLED)
        if self.status is SessionStatus.COMPLETED:
            raise CheckInRefusedError(CheckInRefusal.SESSION_COMPLETED)

    def check_in_status(
        self, code: str, now: datetime, tz: tzinfo, settings: InstitutionSettings
    ) -> AttendanceStatus:
        """Check the session state, the window and the code; return present or late.

        Raises:
            CheckInRefusedError: with the reason that refused the check-in.
        """
        self.require_check_ins_possible()
        if self.window is None or now < self.window.opened_at:
            raise CheckInRefusedError(CheckInRefusal.ATTENDANCE_NOT_OPEN)
        if not self.window.is_open_at(now):
            raise CheckInRefusedError(CheckInRefusal.ATTENDANCE_CLOSED)
        if not is_well_formed(code):
            raise CheckInRefusedError(CheckInRefusal.MALFORMED_CODE)
        if not code_matches(self.window.secret, code, now, self.window.rotation_seconds):
            raise CheckInRefusedError(CheckInRefusal.WRONG_CODE)
        late_from = self.starts_at(tz) + timedelta(minutes=settings.late_after_minutes)
        return AttendanceStatus.LATE if now > late_from else AttendanceStatus.PRESENT

    # -- marking and completion ------------------------------------------------------
    def require_markable(self, now: datetime, tz: tzinfo, settings: InstitutionSettings) -> None:
        """Refuse manual marks on cancelled sessions and on sessions not begun yet."""
        if self.status is SessionStatus.CANCELLED:
            raise ConflictError("the session was cancelled", code="session_cancelled")
        earliest = self.starts_at(tz) - timedelta(minutes=settings.open_early_minutes)
        if now < earliest:
            raise ConflictError("the session has not started yet", code="session_not_started")

    def complete(
        self, now: datetime, tz: tzinfo, topic: str | None, tally: StatusTally
    ) -> ClassSession:
        """Return the session completed with ``topic`` and the final ``tally`` of its marks.

        Raises:
            ConflictError: the session is cancelled or has not started yet.
        """
        if self.status is SessionStatus.CANCELLED:
            raise ConflictError("the session was cancelled", code="session_cancelled")
        if now < self.starts_at(tz):
            raise ConflictError("the session has not started yet", code="session_not_started")
        window = self.window
        if window is not None and window.closes_at > now:
            window = dataclasses.replace(window, closes_at=now)
        return dataclasses.replace(
            self,
            status=SessionStatus.COMPLETED,
            topic=topic if topic is not None else self.topic,
            completed_at=self.completed_at or now,
            window=window,
            tally=tally,
        )

    def cancel(self) -> ClassSession:
        """Return the session cancelled (its marks, if any, are kept).

        Raises:
            ConflictError: the session is already completed (``session_completed``).
        """
        if self.status is SessionStatus.COMPLETED:
            raise ConflictError("a completed session cannot be cancelled", code="session_completed")
        if self.status is SessionStatus.CANCELLED:
            return self
        return dataclasses.replace(self, status=SessionStatus.CANCELLED, window=None)

    def with_tally(self, tally: StatusTally) -> ClassSession:
        """Return the session with a recomputed tally (after a correction)."""
        return dataclasses.replace(self, tally=tally)

    def _require_active(self) -> None:
        if self.status is SessionStatus.CANCELLED:
            raise ConflictError("the session was cancelled", code="session_cancelled")
        if self.status is SessionStatus.COMPLETED:
            raise ConflictError("the session is already completed", code="session_completed")


def validate_topic(topic: str | None) -> str | None:
    """Return the topic stripped, or raise if it is too long."""
    if topic is None:
        return None
    text = topic.strip()
    if len(text) > MAX_TOPIC_LENGTH:
        raise ValidationError(
            [FieldProblem("topic", f"must be at most {MAX_TOPIC_LENGTH} characters")]
        )
    return text or None
