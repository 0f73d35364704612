"""Cover needs: one session of an absent teacher that somebody else has to hold."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime

from ams_core.domain.errors import ConflictError, FieldProblem, ValidationError
from ams_core.domain.ids import (
    AbsenceId,
    CoverNeedId,
    FacultyId,
    InstitutionId,
    SectionId,
    SessionId,
    SubjectCode,
)


class NeedStatus(enum.Enum):
    """Where a need stands.

    ``open`` (nobody asked yet) → ``offered`` (an offer is out) → ``covered`` (a substitute
    accepted); ``escalated`` when every candidate declined or let the offer expire (back to the
    admin, who may plan it again); ``cancelled`` when the absence was cancelled or the admin
    marked the class as not needing cover.
    """

    OPEN = "open"
    OFFERED = "offered"
    COVERED = "covered"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


#: needs a cover plan may (re)assign
PLANNABLE = frozenset({NeedStatus.OPEN, NeedStatus.ESCALATED})


@dataclass(frozen=True, slots=True)
class CoverNeed:
    """A session of ``absent_faculty_id`` inside an approved absence.

    ``day`` is the session's local date; ``starts_at``/``ends_at`` its aware instants.
    ``substitute_id`` is set while covered. ``created_at`` is when the need arose (the
    absence was reported or approved), which the lead-time analytics measure from.
    """

    id: CoverNeedId
    institution_id: InstitutionId
    absence_id: AbsenceId
    session_id: SessionId
    absent_faculty_id: FacultyId
    section_id: SectionId
    subject_code: SubjectCode
    day: date
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    status: NeedStatus = NeedStatus.OPEN
    substitute_id: FacultyId | None = None
    closed_at: datetime | None = None
    version: int = 0

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValidationError([FieldProblem("starts_at", "must be an aware instant")])
        if self.starts_at >= self.ends_at:
            raise ValidationError([FieldProblem("ends_at", "must be after the start")])

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether the need's class shares any instant with [start, end)."""
        return self.starts_at < end and start < self.ends_at

    @property
    def is_plannable(self) -> bool:
        """Whether a plan may assign the need (open or escalated)."""
        return self.status in PLANNABLE

    def offered(self) -> CoverNeed:
        """Return the need with an offer out."""
        self._require(PLANNABLE | {NeedStatus.OFFERED})
        return dataclasses.replace(self, status=NeedStatus.OFFERED)

    def covered_by(self, substitute_id: FacultyId, now: datetime) -> CoverNeed:
        """Return the need covered by ``substitute_id``."""
        self._require(PLANNABLE | {NeedStatus.OFFERED})
        return dataclasses.replace(
            self, status=NeedStatus.COVERED, substitute_id=substitute_id, closed_at=now
        )

    def escalated(self) -> CoverNeed:
        """Return the need handed back to the admin (no candidate left)."""
        return dataclasses.replace(self, status=NeedStatus.ESCALATED, substitute_id=None)

    def reopened(self) -> CoverNeed:
        """Return the need open again (its cover was withdrawn)."""
        return dataclasses.replace(self, status=NeedStatus.OPEN, substitute_id=None, closed_at=None)

    def cancelled(self, now: datetime) -> CoverNeed:
        """Return the need no longer needing cover."""
        if self.status is NeedStatus.CANCELLED:
            raise ConflictError("the cover need was cancelled", code="need_cancelled")
        return dataclasses.replace(
            self, status=NeedStatus.CANCELLED, substitute_id=None, closed_at=now
        )

    def _require(self, allowed: frozenset[NeedStatus]) -> None:
        if self.status not in allowed:
            raise ConflictError(
                f"the cover need is {self.status.value}", code=f"need_{self.status.value}"
            )
