"""Teacher absences: who is away, when and why, and whether an admin has approved it."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from ams_core.domain.errors import ConflictError, FieldProblem, ValidationError
from ams_core.domain.ids import AbsenceId, FacultyId, InstitutionId

MAX_ABSENCE_DAYS = 92
MAX_NOTE_LENGTH = 1000


class AbsenceKind(enum.Enum):
    """Why the teacher is away."""

    SICK = "sick"
    PERSONAL = "personal"
    OFFICIAL_DUTY = "official_duty"
    OTHER = "other"


class AbsenceStatus(enum.Enum):
    """``reported → approved``, or ``cancelled``. Only an approved absence makes cover needs."""

    REPORTED = "reported"
    APPROVED = "approved"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Absence:
    """A teacher away from ``starts_at`` to ``ends_at`` (aware instants, at most 92 days).

    A full day is the span from local midnight to the next; part of a day or several days
    are spans like any other. ``reported_by`` and ``decided_by`` are account emails.
    """

    id: AbsenceId
    institution_id: InstitutionId
    faculty_id: FacultyId
    starts_at: datetime
    ends_at: datetime
    kind: AbsenceKind
    status: AbsenceStatus
    reported_at: datetime
    reported_by: str
    note: str = ""
    decided_at: datetime | None = None
    decided_by: str | None = None
    version: int = 0

    def __post_init__(self) -> None:
        problems: list[FieldProblem] = []
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            problems.append(FieldProblem("start", "must be an instant with a UTC offset"))
        elif self.starts_at >= self.ends_at:
            problems.append(FieldProblem("end", "must be after the start"))
        elif self.ends_at - self.starts_at > timedelta(days=MAX_ABSENCE_DAYS):
            problems.append(
                FieldProblem("end", f"an absence lasts at most {MAX_ABSENCE_DAYS} days")
            )
        if len(self.note) > MAX_NOTE_LENGTH:
            problems.append(FieldProblem("note", f"must be at most {MAX_NOTE_LENGTH} characters"))
        if problems:
            raise ValidationError(problems)

    @property
    def is_effective(self) -> bool:
        """Whether the absence takes the teacher away (approved and not cancelled)."""
        return self.status is AbsenceStatus.APPROVED

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the absence shares any instant with [start, end)."""
        return self.starts_at < end and start < self.ends_at

    def approve(self, now: datetime, by: str) -> Absence:
        """Return the absence approved.

        Raises:
            ConflictError: ``absence_cancelled``, or ``absence_already_approved``.
        """
        if self.status is AbsenceStatus.CANCELLED:
            raise ConflictError("the absence was cancelled", code="absence_cancelled")
        if self.status is AbsenceStatus.APPROVED:
            raise ConflictError("the absence is already approved", code="absence_already_approved")
        return dataclasses.replace(
            self, status=AbsenceStatus.APPROVED, decided_at=now, decided_by=by
        )

    def cancel(self, now: datetime, by: str) -> Absence:
        """Return the absence cancelled.

        Raises:
            ConflictError: ``absence_cancelled`` when it already was.
        """
        if self.status is AbsenceStatus.CANCELLED:
            raise ConflictError("the absence was cancelled", code="absence_cancelled")
        return dataclasses.replace(
            self, status=AbsenceStatus.CANCELLED, decided_at=now, decided_by=by
        )
