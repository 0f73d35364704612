"""Cover offers: one substitute asked to hold one need, until they answer or time runs out."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.cover_matching import ScoreReason
from ams_core.domain.errors import ConflictError, FieldProblem, ValidationError
from ams_core.domain.ids import CoverNeedId, CoverOfferId, CoverPlanId, FacultyId, InstitutionId

MAX_DECLINE_REASON = 500


class OfferStatus(enum.Enum):
    """``offered`` → ``accepted`` | ``declined`` | ``expired`` | ``withdrawn``."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class CoverOffer:
    """A need offered to ``substitute_id``; ``attempt`` counts the offers of the need so far
    (1 for the plan's choice, 2 for the next candidate after a decline or expiry, …).
    """

    id: CoverOfferId
    institution_id: InstitutionId
    need_id: CoverNeedId
    substitute_id: FacultyId
    plan_id: CoverPlanId | None
    attempt: int
    score: int
    reasons: tuple[ScoreReason, ...]
    offered_at: datetime
    expires_at: datetime
    status: OfferStatus = OfferStatus.OFFERED
    answered_at: datetime | None = None
    decline_reason: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        if self.expires_at <= self.offered_at:
            raise ValidationError([FieldProblem("expires_at", "must be after the offer")])
        if len(self.decline_reason) > MAX_DECLINE_REASON:
            raise ValidationError(
                [FieldProblem("reason", f"must be at most {MAX_DECLINE_REASON} characters")]
            )

    @property
    def is_open(self) -> bool:
        """Whether the offer still waits for an answer."""
        return self.status is OfferStatus.OFFERED

    def is_expired_at(self, now: datetime) -> bool:
        """Whether an open offer has run out of time at ``now``."""
        return self.is_open and now >= self.expires_at

    def accept(self, now: datetime) -> CoverOffer:
        """Return the offer accepted.

        Raises:
            ConflictError: ``offer_expired`` past its time, ``offer_<status>`` once answered.
        """
        self._require_answerable(now)
        return dataclasses.replace(self, status=OfferStatus.ACCEPTED, answered_at=now)

    def decline(self, now: datetime, reason: str = "") -> CoverOffer:
        """Return the offer declined (same errors as :meth:`accept`)."""
        self._require_answerable(now)
        return dataclasses.replace(
            self, status=OfferStatus.DECLINED, answered_at=now, decline_reason=reason.strip()
        )

    def expire(self, now: datetime) -> CoverOffer:
        """Return the open offer expired."""
        self._require_open()
        return dataclasses.replace(self, status=OfferStatus.EXPIRED, answered_at=now)

    def withdraw(self, now: datetime) -> CoverOffer:
        """Return the open offer withdrawn (the absence was cancelled, or the admin took it
        back).
        """
        self._require_open()
        return dataclasses.replace(self, status=OfferStatus.WITHDRAWN, answered_at=now)

    def _require_open(self) -> None:
        if not self.is_open:
            raise ConflictError(
                f"the offer was already {self.status.value}", code=f"offer_{self.status.value}"
            )

    def _require_answerable(self, now: datetime) -> None:
        self._require_open()
        if now >= self.expires_at:
            raise ConflictError("the offer has expired", code="offer_expired")
