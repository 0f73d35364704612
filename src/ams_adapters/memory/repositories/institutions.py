"""Institutions and their holidays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ams_adapters.memory.repositories._base import KeyedRepository, MemoryRepository
from ams_core.domain import (
    ConflictError,
    DateRange,
    Holiday,
    Institution,
    InstitutionId,
    PermissionDeniedError,
)
from ams_core.ports import HolidayRepository, InstitutionRepository


class InMemoryInstitutionRepository(
    KeyedRepository[InstitutionId, Institution], InstitutionRepository
):
    kind = "institution"

    def _table(self) -> dict[InstitutionId, Institution]:
        return self._store.institutions

    def _key(self, entity: Institution) -> InstitutionId:
        return entity.id

    def _own(self, entity: Any) -> None:
        if not self._tx.is_platform() and entity.id != self._tx.tenant():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def _visible(self, institution: Institution | None) -> Institution | None:
        if institution is None or self._tx.is_platform():
            return institution
        return institution if institution.id == self._tx.tenant() else None

    def find(self, institution_id: InstitutionId) -> Institution | None:
        self._tx.active_log()
        return self._visible(self._store.institutions.get(institution_id))

    def _check_unique(self, new: Institution, old: Institution | None) -> None:
        for domain in new.email_domains:
            holder = self._store.domains.get(domain)
            if holder is not None and holder != new.id:
                raise ConflictError(
                    f"the domain {domain} already belongs to another institution",
                    code="domain_taken",
                )

    def _reindex(self, old: Institution | None, new: Institution) -> None:
        for domain in old.email_domains if old else ():
            if domain not in new.email_domains:
                self._log.delete(self._store.domains, domain)
        for domain in new.email_domains:
            self._log.set(self._store.domains, domain, new.id)

    def find_by_domain(self, domain: str) -> Institution | None:
        self._tx.active_log()
        institution_id = self._store.domains.get(domain.lower())
        return None if institution_id is None else self.find(institution_id)

    def list(self) -> Sequence[Institution]:
        self._tx.active_log()
        found = (self._visible(i) for i in self._store.institutions.values())
        return sorted((i for i in found if i is not None), key=lambda i: i.id)


class InMemoryHolidayRepository(MemoryRepository, HolidayRepository):
    def add(self, holiday: Holiday) -> None:
        self._own(holiday)
        if holiday.date in self._data.holidays:
            raise ConflictError(f"{holiday.date} is already a holiday", code="holiday_exists")
        self._log.set(self._data.holidays, holiday.date, holiday)

    def remove(self, day: date) -> bool:
        present = day in self._data.holidays
        self._log.delete(self._data.holidays, day)
        return present

    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        return sorted(
            (h for d, h in self._data.holidays.items() if dates is None or d in dates),
            key=lambda h: h.date,
        )
