"""Cover plans: who should hold which open need over a date range, and why not for the rest."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import date, datetime

from ams_core.domain.cover_matching import ScoreReason
from ams_core.domain.errors import ConflictError, FieldProblem, ValidationError
from ams_core.domain.ids import CoverNeedId, CoverPlanId, FacultyId, InstitutionId

MAX_PLAN_DAYS = 31


class PlanStatus(enum.Enum):
    """``draft`` → ``published``; a newer plan over the same days supersedes a draft;
    an admin may discard a draft (``cancelled``).
    """

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"


class UncoveredReason(enum.Enum):
    """Why a plan leaves a need uncovered."""

    NO_TEACHER_FREE = "no_teacher_free"
    """Every teacher is absent, teaching, covering or excluded at that time."""
    NO_QUALIFIED_TEACHER_FREE = "no_qualified_teacher_free"
    """Only qualified teachers may cover (``qualified_only``), and none of them is free."""
    CAPS_REACHED = "caps_reached"
    """Somebody is free, but their daily or weekly cover cap is used up."""
    ALL_DECLINED = "all_declined"
    """Everybody free and within caps already declined or let the offer expire."""
    CANDIDATES_NEEDED_ELSEWHERE = "candidates_needed_elsewhere"
    """The free teachers are all used for other needs of the plan (or their caps are)."""


@dataclass(frozen=True, slots=True)
class PlannedCover:
    """One need the plan gives to ``substitute_id``, with the score and its reasons."""

    need_id: CoverNeedId
    substitute_id: FacultyId
    score: int
    reasons: tuple[ScoreReason, ...]


@dataclass(frozen=True, slots=True)
class UncoveredNeed:
    """A need the plan cannot cover, and why."""

    need_id: CoverNeedId
    reason: UncoveredReason


@dataclass(frozen=True, slots=True)
class CoverPlan:
    """An optimal assignment of the open needs from ``first_day`` to ``last_day`` (local
    dates, inclusive): the most needs covered, then the best total score.
    """

    id: CoverPlanId
    institution_id: InstitutionId
    first_day: date
    last_day: date
    created_at: datetime
    created_by: str
    solver: str
    assignments: tuple[PlannedCover, ...]
    uncovered: tuple[UncoveredNeed, ...]
    status: PlanStatus = PlanStatus.DRAFT
    published_at: datetime | None = None
    version: int = 0

    def __post_init__(self) -> None:
        if self.first_day > self.last_day:
            raise ValidationError([FieldProblem("to", "must not be before from")])
        if (self.last_day - self.first_day).days >= MAX_PLAN_DAYS:
            raise ValidationError(
                [FieldProblem("to", f"a plan spans at most {MAX_PLAN_DAYS} days")]
            )

    @property
    def total_score(self) -> int:
        """The sum of the planned covers' scores."""
        return sum(a.score for a in self.assignments)

    def publish(self, now: datetime) -> CoverPlan:
        """Return the draft published.

        Raises:
            ConflictError: ``plan_<status>`` when the plan is no longer a draft.
        """
        self._require_draft()
        return dataclasses.replace(self, status=PlanStatus.PUBLISHED, published_at=now)

    def superseded(self) -> CoverPlan:
        """Return the draft replaced by a newer plan."""
        self._require_draft()
        return dataclasses.replace(self, status=PlanStatus.SUPERSEDED)

    def cancel(self) -> CoverPlan:
        """Return the draft discarded."""
        self._require_draft()
        return dataclasses.replace(self, status=PlanStatus.CANCELLED)

    def _require_draft(self) -> None:
        if self.status is not PlanStatus.DRAFT:
            raise ConflictError(
                f"the plan is {self.status.value}, not a draft", code=f"plan_{self.status.value}"
            )
