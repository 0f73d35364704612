"""Cover assignments: a substitute holding a class of an absent teacher."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.ids import CoverId, FacultyId, InstitutionId, SessionId


@dataclass(frozen=True, slots=True)
class CoverAssignment:
    """A substitute booked for one session, from ``starts_at`` to ``ends_at`` (aware UTC).

    A substitute can never hold two covers whose times overlap, and a session has at most
    one cover; the persistence adapters enforce both even under concurrent bookings.
    """

    id: CoverId
    institution_id: InstitutionId
    session_id: SessionId
    substitute_id: FacultyId
    starts_at: datetime
    ends_at: datetime
    booked_at: datetime
    version: int = 0

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValidationError([FieldProblem("starts_at", "must be an aware instant")])
        if self.starts_at >= self.ends_at:
            raise ValidationError([FieldProblem("ends_at", "must be after the start")])

    def overlaps(self, other: CoverAssignment) -> bool:
        """Whether the two covers share any instant (touching ends do not overlap)."""
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at
