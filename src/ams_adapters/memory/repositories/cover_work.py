"""Teacher absences, cover needs, cover plans, cover offers and substitute preferences.

The unique rules the SQL adapter keeps with partial unique indexes (one need that is not
cancelled per session, one open offer per need, one preference per (substitute, kind,
scope)) are secondary indexes here, kept in step through the undo log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from ams_adapters.memory.repositories._base import KeyedRepository, page_of
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceStatus,
    ConflictError,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    FacultyId,
    NeedStatus,
    OfferStatus,
    PlanStatus,
    PreferenceId,
    SessionId,
    SubstitutePreference,
)
from ams_core.ports import (
    AbsenceRepository,
    CoverNeedRepository,
    CoverOfferRepository,
    CoverPlanRepository,
    Slice,
    SubstitutePreferenceRepository,
)


class InMemoryAbsenceRepository(KeyedRepository[AbsenceId, Absence], AbsenceRepository):
    kind = "absence"

    def _table(self) -> dict[AbsenceId, Absence]:
        return self._data.absences

    def _key(self, entity: Absence) -> AbsenceId:
        return entity.id

    def _check_references(self, entity: Absence) -> None:
        self._require(self._data.faculty, entity.faculty_id, "faculty")

    def list_overlapping(self, start: datetime, end: datetime) -> Sequence[Absence]:
        return sorted(
            (a for a in self._data.absences.values() if a.overlaps(start, end)),
            key=lambda a: (a.starts_at, a.id),
        )

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
        def wanted(a: Absence) -> bool:
            return (
                (faculty_id is None or a.faculty_id == faculty_id)
                and (status is None or a.status is status)
                and (start is None or a.ends_at > start)
                and (end is None or a.starts_at < end)
            )

        by_id = sorted((a for a in self._data.absences.values() if wanted(a)), key=lambda a: a.id)
        # newest start first; a stable sort keeps the ids in order among equal starts
        return page_of(sorted(by_id, key=lambda a: a.starts_at, reverse=True), limit, offset)


def _in_days(
    need: CoverNeed,
    first_day: date | None,
    last_day: date | None,
    statuses: frozenset[NeedStatus] | None,
) -> bool:
    return (
        (first_day is None or need.day >= first_day)
        and (last_day is None or need.day <= last_day)
        and (statuses is None or need.status in statuses)
    )


class InMemoryCoverNeedRepository(KeyedRepository[CoverNeedId, CoverNeed], CoverNeedRepository):
    kind = "need"

    def _table(self) -> dict[CoverNeedId, CoverNeed]:
        return self._data.cover_needs

    def _key(self, entity: CoverNeed) -> CoverNeedId:
        return entity.id

    def _check_references(self, entity: CoverNeed) -> None:
        data = self._data
        self._require(data.absences, entity.absence_id, "absence")
        self._require(data.sessions, entity.session_id, "session")
        self._require(data.faculty, entity.absent_faculty_id, "faculty")
        if entity.substitute_id is not None:
            self._require(data.faculty, entity.substitute_id, "faculty")

    def _check_unique(self, new: CoverNeed, old: CoverNeed | None) -> None:
        if new.status is NeedStatus.CANCELLED:
            return
        holder = self._data.active_need_by_session.get(new.session_id)
        if holder is not None and holder != new.id:
            raise ConflictError(
                "the session already needs cover", code="session_already_needs_cover"
            )

    def _reindex(self, old: CoverNeed | None, new: CoverNeed) -> None:
        index, log = self._data.active_need_by_session, self._log
        if old is not None and index.get(old.session_id) == old.id:
            log.delete(index, old.session_id)
        if new.status is not NeedStatus.CANCELLED:
            log.set(index, new.session_id, new.id)

    def add_many(self, needs: Sequence[CoverNeed]) -> None:
        with self._log.atomic():
            for need in needs:
                self.add(need)

    def for_session(self, session_id: SessionId) -> CoverNeed | None:
        need_id = self._data.active_need_by_session.get(session_id)
        return None if need_id is None else self._data.cover_needs[need_id]

    def list_for_absence(self, absence_id: AbsenceId) -> Sequence[CoverNeed]:
        return sorted(
            (n for n in self._data.cover_needs.values() if n.absence_id == absence_id),
            key=lambda n: (n.starts_at, n.id),
        )

    def _matching(self, keep: Callable[[CoverNeed], bool]) -> list[CoverNeed]:
        return sorted(
            (n for n in self._data.cover_needs.values() if keep(n)),
            key=lambda n: (n.starts_at, n.id),
        )

    def list_between(
        self, first_day: date, last_day: date, statuses: Iterable[NeedStatus] | None = None
    ) -> Sequence[CoverNeed]:
        wanted = None if statuses is None else frozenset(statuses)
        return self._matching(lambda n: _in_days(n, first_day, last_day, wanted))

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
        wanted = None if statuses is None else frozenset(statuses)
        found = self._matching(
            lambda n: (
                _in_days(n, first_day, last_day, wanted)
                and (absence_id is None or n.absence_id == absence_id)
            )
        )
        return page_of(found, limit, offset)


class InMemoryCoverPlanRepository(KeyedRepository[CoverPlanId, CoverPlan], CoverPlanRepository):
    kind = "plan"

    def _table(self) -> dict[CoverPlanId, CoverPlan]:
        return self._data.cover_plans

    def _key(self, entity: CoverPlan) -> CoverPlanId:
        return entity.id

    def drafts_overlapping(self, first_day: date, last_day: date) -> Sequence[CoverPlan]:
        return sorted(
            (
                p
                for p in self._data.cover_plans.values()
                if p.status is PlanStatus.DRAFT
                and p.first_day <= last_day
                and p.last_day >= first_day
            ),
            key=lambda p: (p.created_at, p.id),
        )

    def page(
        self, limit: int, offset: int = 0, *, status: PlanStatus | None = None
    ) -> Slice[CoverPlan]:
        found = sorted(
            (p for p in self._data.cover_plans.values() if status is None or p.status is status),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
        return page_of(found, limit, offset)


class InMemoryCoverOfferRepository(KeyedRepository[CoverOfferId, CoverOffer], CoverOfferRepository):
    kind = "offer"

    def _table(self) -> dict[CoverOfferId, CoverOffer]:
        return self._data.cover_offers

    def _key(self, entity: CoverOffer) -> CoverOfferId:
        return entity.id

    def _check_references(self, entity: CoverOffer) -> None:
        data = self._data
        self._require(data.cover_needs, entity.need_id, "need")
        self._require(data.faculty, entity.substitute_id, "faculty")
        if entity.plan_id is not None:
            self._require(data.cover_plans, entity.plan_id, "plan")

    def _check_unique(self, new: CoverOffer, old: CoverOffer | None) -> None:
        if not new.is_open:
            return
        holder = self._data.open_offer_by_need.get(new.need_id)
        if holder is not None and holder != new.id:
            raise ConflictError(
                "the cover need already has an open offer", code="need_already_offered"
            )

    def _reindex(self, old: CoverOffer | None, new: CoverOffer) -> None:
        data, log = self._data, self._log
        if old is not None and old.is_open and data.open_offer_by_need.get(old.need_id) == old.id:
            log.delete(data.open_offer_by_need, old.need_id)
        if new.is_open:
            log.set(data.open_offer_by_need, new.need_id, new.id)
        self._index_move(data.offers_by_need, old.need_id if old else None, new.need_id, new.id)

    def open_for_need(self, need_id: CoverNeedId) -> CoverOffer | None:
        offer_id = self._data.open_offer_by_need.get(need_id)
        return None if offer_id is None else self._data.cover_offers[offer_id]

    def list_for_need(self, need_id: CoverNeedId) -> Sequence[CoverOffer]:
        data = self._data
        return sorted(
            (data.cover_offers[i] for i in data.offers_by_need.get(need_id, ())),
            key=lambda o: (o.attempt, o.id),
        )

    def open_for_needs(self, need_ids: Iterable[CoverNeedId]) -> Sequence[CoverOffer]:
        found = (self.open_for_need(n) for n in set(need_ids))
        return sorted((o for o in found if o is not None), key=lambda o: (o.need_id, o.id))

    def expired(self, now: datetime, limit: int = 100) -> Sequence[CoverOffer]:
        if limit <= 0:
            return []
        data = self._data
        found = sorted(
            (
                o
                for o in (data.cover_offers[i] for i in data.open_offer_by_need.values())
                if o.is_expired_at(now)
            ),
            key=lambda o: (o.expires_at, o.id),
        )
        return found[:limit]

    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        substitute_id: FacultyId | None = None,
        status: OfferStatus | None = None,
        need_id: CoverNeedId | None = None,
    ) -> Slice[CoverOffer]:
        found = sorted(
            (
                o
                for o in self._data.cover_offers.values()
                if (substitute_id is None or o.substitute_id == substitute_id)
                and (status is None or o.status is status)
                and (need_id is None or o.need_id == need_id)
            ),
            key=lambda o: (o.offered_at, o.id),
            reverse=True,
        )
        return page_of(found, limit, offset)


def _preference_key(
    p: SubstitutePreference,
) -> tuple[FacultyId, Any, str | None, str | None, str | None]:
    return (p.substitute_id, p.kind, p.faculty_id, p.section_id, p.subject_code)


class InMemorySubstitutePreferenceRepository(
    KeyedRepository[PreferenceId, SubstitutePreference], SubstitutePreferenceRepository
):
    kind = "preference"

    def _table(self) -> dict[PreferenceId, SubstitutePreference]:
        return self._data.preferences

    def _key(self, entity: SubstitutePreference) -> PreferenceId:
        return entity.id

    def _check_references(self, entity: SubstitutePreference) -> None:
        data = self._data
        self._require(data.faculty, entity.substitute_id, "faculty")
        if entity.faculty_id is not None:
            self._require(data.faculty, entity.faculty_id, "faculty")
        if entity.section_id is not None:
            self._require(data.sections, entity.section_id, "section")
        if entity.subject_code is not None:
            self._require(data.subjects, entity.subject_code, "subject")

    def _check_unique(self, new: SubstitutePreference, old: SubstitutePreference | None) -> None:
        holder = self._data.preference_keys.get(_preference_key(new))
        if holder is not None and holder != new.id:
            raise ConflictError(
                "the substitute already has that preference", code="preference_exists"
            )

    def _reindex(self, old: SubstitutePreference | None, new: SubstitutePreference) -> None:
        keys, log = self._data.preference_keys, self._log
        if old is not None and keys.get(_preference_key(old)) == old.id:
            log.delete(keys, _preference_key(old))
        log.set(keys, _preference_key(new), new.id)

    def _unindex(self, old: SubstitutePreference) -> None:
        self._log.delete(self._data.preference_keys, _preference_key(old))

    def list(self) -> Sequence[SubstitutePreference]:
        return sorted(self._data.preferences.values(), key=lambda p: p.id)

    def remove(self, preference_id: PreferenceId) -> bool:
        return self._remove(preference_id)


__all__ = [
    "InMemoryAbsenceRepository",
    "InMemoryCoverNeedRepository",
    "InMemoryCoverOfferRepository",
    "InMemoryCoverPlanRepository",
    "InMemorySubstitutePreferenceRepository",
]
