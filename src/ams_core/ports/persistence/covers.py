"""Persistence ports: teacher absences, cover needs, plans, offers, substitute preferences
and cover assignments (a faculty member standing in for another).

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from ams_core.domain.absences import Absence, AbsenceStatus
from ams_core.domain.cover import CoverAssignment
from ams_core.domain.cover_needs import CoverNeed, NeedStatus
from ams_core.domain.cover_offers import CoverOffer, OfferStatus
from ams_core.domain.cover_plans import CoverPlan, PlanStatus
from ams_core.domain.ids import (
    AbsenceId,
    CoverId,
    CoverNeedId,
    CoverOfferId,
    CoverPlanId,
    FacultyId,
    PreferenceId,
    SessionId,
)
from ams_core.domain.substitutes import SubstitutePreference
from ams_core.ports.persistence.messaging import Slice


class CoverAssignmentRepository(Protocol):
    """Substitutes booked for sessions."""

    @abstractmethod
    def add(self, cover: CoverAssignment) -> None:
        """Book a cover. A substitute already holding an overlapping cover is a ConflictError
        ``substitute_double_booked``; a session already covered is ``session_already_covered``.
        Safe under concurrency: of many racing overlapping bookings exactly one is stored;
        a loser gets ``substitute_double_booked``, or a ``ConcurrencyError`` when the
        database broke a deadlock between racing bookings (retrying then answers the first).
        """

    @abstractmethod
    def find(self, cover_id: CoverId) -> CoverAssignment | None: ...

    @abstractmethod
    def for_session(self, session_id: SessionId) -> CoverAssignment | None: ...

    @abstractmethod
    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        """The substitute's covers overlapping [start, end), ordered by start."""

    @abstractmethod
    def list_between(self, start: datetime, end: datetime) -> Sequence[CoverAssignment]:
        """Every cover overlapping [start, end), ordered by start then id."""

    @abstractmethod
    def count_by_substitute(self, start: datetime, end: datetime) -> Mapping[FacultyId, int]:
        """How many covers each substitute holds that start in [start, end) (substitutes
        without any are left out).
        """

    @abstractmethod
    def remove(self, cover_id: CoverId) -> bool:
        """Withdraw a cover; return whether there was one."""


class AbsenceRepository(Protocol):
    """Teacher absences. ``update`` is optimistic (stale version → ConcurrencyError)."""

    @abstractmethod
    def add(self, absence: Absence) -> None: ...

    @abstractmethod
    def find(self, absence_id: AbsenceId) -> Absence | None: ...

    @abstractmethod
    def get(self, absence_id: AbsenceId) -> Absence: ...

    @abstractmethod
    def update(self, absence: Absence) -> Absence: ...

    @abstractmethod
    def list_overlapping(self, start: datetime, end: datetime) -> Sequence[Absence]:
        """Absences of any status sharing an instant with [start, end), by start then id."""

    @abstractmethod
    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        faculty_id: FacultyId | None = None,
        status: AbsenceStatus | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Slice[Absence]:
        """Absences newest start first (then id), filtered by teacher, status and overlap
        with [start, end) when given.
        """


class CoverNeedRepository(Protocol):
    """Cover needs. A session has at most one need that is not cancelled: adding a second
    is a ConflictError ``session_already_needs_cover``.
    """

    @abstractmethod
    def add_many(self, needs: Sequence[CoverNeed]) -> None: ...

    @abstractmethod
    def find(self, need_id: CoverNeedId) -> CoverNeed | None: ...

    @abstractmethod
    def get(self, need_id: CoverNeedId) -> CoverNeed: ...

    @abstractmethod
    def update(self, need: CoverNeed) -> CoverNeed: ...

    @abstractmethod
    def for_session(self, session_id: SessionId) -> CoverNeed | None:
        """The session's need that is not cancelled, if any."""

    @abstractmethod
    def list_for_absence(self, absence_id: AbsenceId) -> Sequence[CoverNeed]:
        """The absence's needs (every status), by start then id."""

    @abstractmethod
    def list_between(
        self, first_day: date, last_day: date, statuses: Iterable[NeedStatus] | None = None
    ) -> Sequence[CoverNeed]:
        """Needs whose local day is in [first_day, last_day], optionally only those in
        ``statuses``, by start then id.
        """

    @abstractmethod
    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        statuses: Iterable[NeedStatus] | None = None,
        first_day: date | None = None,
        last_day: date | None = None,
        absence_id: AbsenceId | None = None,
    ) -> Slice[CoverNeed]:
        """Needs by start then id, filtered like :meth:`list_between` and by absence."""


class CoverPlanRepository(Protocol):
    """Cover plans with their planned covers and uncovered needs (kept in order)."""

    @abstractmethod
    def add(self, plan: CoverPlan) -> None: ...

    @abstractmethod
    def find(self, plan_id: CoverPlanId) -> CoverPlan | None: ...

    @abstractmethod
    def get(self, plan_id: CoverPlanId) -> CoverPlan: ...

    @abstractmethod
    def update(self, plan: CoverPlan) -> CoverPlan:
        """Store a new status (the planned covers never change); optimistic like the rest."""

    @abstractmethod
    def drafts_overlapping(self, first_day: date, last_day: date) -> Sequence[CoverPlan]:
        """Draft plans whose days share a day with [first_day, last_day], oldest first."""

    @abstractmethod
    def page(
        self, limit: int, offset: int = 0, *, status: PlanStatus | None = None
    ) -> Slice[CoverPlan]:
        """Plans newest first (created_at, then id descending)."""


class CoverOfferRepository(Protocol):
    """Cover offers. A need has at most one open offer: adding a second is a ConflictError
    ``need_already_offered``, even under concurrency.
    """

    @abstractmethod
    def add(self, offer: CoverOffer) -> None: ...

    @abstractmethod
    def find(self, offer_id: CoverOfferId) -> CoverOffer | None: ...

    @abstractmethod
    def get(self, offer_id: CoverOfferId) -> CoverOffer: ...

    @abstractmethod
    def update(self, offer: CoverOffer) -> CoverOffer: ...

    @abstractmethod
    def open_for_need(self, need_id: CoverNeedId) -> CoverOffer | None: ...

    @abstractmethod
    def list_for_need(self, need_id: CoverNeedId) -> Sequence[CoverOffer]:
        """Every offer of the need, by attempt."""

    @abstractmethod
    def open_for_needs(self, need_ids: Iterable[CoverNeedId]) -> Sequence[CoverOffer]:
        """The open offers of the given needs, by need id."""

    @abstractmethod
    def expired(self, now: datetime, limit: int = 100) -> Sequence[CoverOffer]:
        """Open offers whose time ran out at ``now``, by expiry then id."""

    @abstractmethod
    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        substitute_id: FacultyId | None = None,
        status: OfferStatus | None = None,
        need_id: CoverNeedId | None = None,
    ) -> Slice[CoverOffer]:
        """Offers newest first (offered_at, then id descending), filtered."""


class SubstitutePreferenceRepository(Protocol):
    """Preferred and excluded substitutes. The same (substitute, kind, scope) twice is a
    ConflictError ``preference_exists``.
    """

    @abstractmethod
    def add(self, preference: SubstitutePreference) -> None: ...

    @abstractmethod
    def find(self, preference_id: PreferenceId) -> SubstitutePreference | None: ...

    @abstractmethod
    def get(self, preference_id: PreferenceId) -> SubstitutePreference: ...

    @abstractmethod
    def update(self, preference: SubstitutePreference) -> SubstitutePreference: ...

    @abstractmethod
    def list(self) -> Sequence[SubstitutePreference]:
        """Every preference of the institution, by id."""

    @abstractmethod
    def remove(self, preference_id: PreferenceId) -> bool: ...
