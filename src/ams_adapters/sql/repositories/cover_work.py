"""Teacher absences, cover needs, cover plans, cover offers and substitute preferences.

The database keeps the rules a race could break: one need that is not cancelled per
session, one open offer per need and one preference per (substitute, kind, scope) are
partial unique indexes (see :mod:`ams_adapters.sql.tables`), whose violations
:mod:`ams_adapters.sql.errors` turns into the ports' conflict codes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.sql.expression import ColumnElement, UnaryExpression

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import KeyedTableRepository
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceStatus,
    ConcurrencyError,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    FacultyId,
    NeedStatus,
    NotFoundError,
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

K = TypeVar("K")
E = TypeVar("E")

ABSENCES = t.absences.c
NEEDS = t.cover_needs.c
PLANS = t.cover_plans.c
OFFERS = t.cover_offers.c
PREFERENCES = t.substitute_preferences.c


class _CoverWorkRepository(KeyedTableRepository[K, E]):
    """Keyed rows read with ad-hoc filters (lists and pages build their statements)."""

    def add(self, entity: E) -> None:
        # a savepoint keeps a refused row (a unique index, a missing parent) from
        # aborting the caller's transaction on PostgreSQL
        with self._transaction.savepoint():
            super().add(entity)

    def update(self, entity: E) -> E:
        with self._transaction.savepoint():
            return super().update(entity)

    def _rows(
        self,
        conditions: Sequence[ColumnElement[bool]],
        order: Sequence[ColumnElement[Any] | UnaryExpression[Any]],
        limit: int | None = None,
        offset: int = 0,
    ) -> list[E]:
        stmt = (
            select(self.table)
            .where(self.table.c.institution_id == self._institution_id(), *conditions)
            .order_by(*order)
        )
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        convert: Callable[[Any], E] = type(self).from_row
        return [convert(r) for r in self._transaction.execute(stmt).mappings().all()]

    def _page(
        self,
        conditions: Sequence[ColumnElement[bool]],
        order: Sequence[ColumnElement[Any] | UnaryExpression[Any]],
        limit: int,
        offset: int,
    ) -> Slice[E]:
        count = select(func.count()).select_from(self.table)
        count = count.where(self.table.c.institution_id == self._institution_id(), *conditions)
        total = int(self._transaction.execute(count).scalar_one())
        if limit <= 0 or offset >= total:
            return Slice((), total)
        return Slice(tuple(self._rows(conditions, order, limit, max(offset, 0))), total)


def _statuses(column: Any, statuses: Iterable[Any] | None) -> list[ColumnElement[bool]]:
    if statuses is None:
        return []
    return [column.in_(sorted(s.value for s in set(statuses)))]


class SqlAbsenceRepository(_CoverWorkRepository[AbsenceId, Absence], AbsenceRepository):
    table, key, kind = t.absences, "id", "absence"
    to_row, from_row = staticmethod(m.absence_row), staticmethod(m.absence_from)

    def list_overlapping(self, start: datetime, end: datetime) -> Sequence[Absence]:
        return self._rows(
            [ABSENCES.starts_at < end, ABSENCES.ends_at > start],
            [ABSENCES.starts_at, ABSENCES.id],
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
        conditions: list[ColumnElement[bool]] = []
        if faculty_id is not None:
            conditions.append(ABSENCES.faculty_id == faculty_id)
        if status is not None:
            conditions.append(ABSENCES.status == status.value)
        if start is not None:
            conditions.append(ABSENCES.ends_at > start)
        if end is not None:
            conditions.append(ABSENCES.starts_at < end)
        return self._page(conditions, [ABSENCES.starts_at.desc(), ABSENCES.id], limit, offset)


def _days(first_day: date | None, last_day: date | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if first_day is not None:
        conditions.append(NEEDS.day >= first_day)
    if last_day is not None:
        conditions.append(NEEDS.day <= last_day)
    return conditions


class SqlCoverNeedRepository(_CoverWorkRepository[CoverNeedId, CoverNeed], CoverNeedRepository):
    table, key, kind = t.cover_needs, "id", "need"
    to_row, from_row = staticmethod(m.need_row), staticmethod(m.need_from)

    def add_many(self, needs: Sequence[CoverNeed]) -> None:
        self._add_many(needs)

    def for_session(self, session_id: SessionId) -> CoverNeed | None:
        found = self._rows(
            [NEEDS.session_id == session_id, NEEDS.status != NeedStatus.CANCELLED.value],
            [NEEDS.id],
        )
        return found[0] if found else None

    def list_for_absence(self, absence_id: AbsenceId) -> Sequence[CoverNeed]:
        return self._rows([NEEDS.absence_id == absence_id], [NEEDS.starts_at, NEEDS.id])

    def list_between(
        self, first_day: date, last_day: date, statuses: Iterable[NeedStatus] | None = None
    ) -> Sequence[CoverNeed]:
        return self._rows(
            [*_days(first_day, last_day), *_statuses(NEEDS.status, statuses)],
            [NEEDS.starts_at, NEEDS.id],
        )

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
        conditions = [*_days(first_day, last_day), *_statuses(NEEDS.status, statuses)]
        if absence_id is not None:
            conditions.append(NEEDS.absence_id == absence_id)
        return self._page(conditions, [NEEDS.starts_at, NEEDS.id], limit, offset)


class SqlCoverPlanRepository(_CoverWorkRepository[CoverPlanId, CoverPlan], CoverPlanRepository):
    table, key, kind = t.cover_plans, "id", "plan"
    to_row, from_row = staticmethod(m.plan_row), staticmethod(m.plan_from)

    def update(self, entity: CoverPlan) -> CoverPlan:
        # only the status moves once a plan is stored: the planned covers (thousands of
        # rows of JSON on a district day) are neither rewritten nor serialised again
        self._check_owned(entity)
        with self._transaction.savepoint():
            result = self._transaction.execute(
                update(t.cover_plans)
                .where(
                    PLANS.institution_id == self._institution_id(),
                    PLANS.id == entity.id,
                    PLANS.version == entity.version,
                )
                .values(
                    status=entity.status.value,
                    published_at=entity.published_at,
                    version=entity.version + 1,
                ),
                kind=self.kind,
            )
        if result.rowcount == 0:
            if self.find(entity.id) is None:
                raise NotFoundError(self.kind, entity.id)
            raise ConcurrencyError(
                f"{self.kind} {entity.id} was changed by someone else; reload it"
            )
        return dataclasses.replace(entity, version=entity.version + 1)

    def drafts_overlapping(self, first_day: date, last_day: date) -> Sequence[CoverPlan]:
        return self._rows(
            [
                PLANS.status == PlanStatus.DRAFT.value,
                PLANS.first_day <= last_day,
                PLANS.last_day >= first_day,
            ],
            [PLANS.created_at, PLANS.id],
        )

    def page(
        self, limit: int, offset: int = 0, *, status: PlanStatus | None = None
    ) -> Slice[CoverPlan]:
        conditions = [] if status is None else [PLANS.status == status.value]
        return self._page(conditions, [PLANS.created_at.desc(), PLANS.id.desc()], limit, offset)


_OPEN = OfferStatus.OFFERED.value


class SqlCoverOfferRepository(_CoverWorkRepository[CoverOfferId, CoverOffer], CoverOfferRepository):
    table, key, kind = t.cover_offers, "id", "offer"
    to_row, from_row = staticmethod(m.offer_row), staticmethod(m.offer_from)

    def open_for_need(self, need_id: CoverNeedId) -> CoverOffer | None:
        found = self._rows([OFFERS.need_id == need_id, OFFERS.status == _OPEN], [OFFERS.id])
        return found[0] if found else None

    def list_for_need(self, need_id: CoverNeedId) -> Sequence[CoverOffer]:
        return self._rows([OFFERS.need_id == need_id], [OFFERS.attempt, OFFERS.id])

    def open_for_needs(self, need_ids: Iterable[CoverNeedId]) -> Sequence[CoverOffer]:
        wanted = sorted(set(need_ids))
        if not wanted:
            return []
        return self._rows(
            [OFFERS.need_id.in_(wanted), OFFERS.status == _OPEN], [OFFERS.need_id, OFFERS.id]
        )

    def expired(self, now: datetime, limit: int = 100) -> Sequence[CoverOffer]:
        if limit <= 0:
            return []
        return self._rows(
            [OFFERS.status == _OPEN, OFFERS.expires_at <= now],
            [OFFERS.expires_at, OFFERS.id],
            limit,
        )

    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        substitute_id: FacultyId | None = None,
        status: OfferStatus | None = None,
        need_id: CoverNeedId | None = None,
    ) -> Slice[CoverOffer]:
        conditions: list[ColumnElement[bool]] = []
        if substitute_id is not None:
            conditions.append(OFFERS.substitute_id == substitute_id)
        if status is not None:
            conditions.append(OFFERS.status == status.value)
        if need_id is not None:
            conditions.append(OFFERS.need_id == need_id)
        return self._page(conditions, [OFFERS.offered_at.desc(), OFFERS.id.desc()], limit, offset)


class SqlSubstitutePreferenceRepository(
    _CoverWorkRepository[PreferenceId, SubstitutePreference], SubstitutePreferenceRepository
):
    table, key, kind, order_by = t.substitute_preferences, "id", "preference", ("id",)
    to_row, from_row = staticmethod(m.preference_row), staticmethod(m.preference_from)

    def list(self) -> Sequence[SubstitutePreference]:
        return self._list_all()

    def remove(self, preference_id: PreferenceId) -> bool:
        return self._remove(preference_id)


__all__ = [
    "SqlAbsenceRepository",
    "SqlCoverNeedRepository",
    "SqlCoverOfferRepository",
    "SqlCoverPlanRepository",
    "SqlSubstitutePreferenceRepository",
]
