"""Institutions and their email domains (readable in the platform scope too)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import delete, select, true, update
from sqlalchemy.sql.expression import ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import SqlRepository
from ams_core.domain import (
    ConcurrencyError,
    Institution,
    InstitutionId,
    NotFoundError,
    PermissionDeniedError,
)
from ams_core.ports import InstitutionRepository


class SqlInstitutionRepository(SqlRepository, InstitutionRepository):
    def _visible(self) -> ColumnElement[bool]:
        if self._transaction.is_platform():
            return true()
        return t.institutions.c.id == self._institution_id()

    def find(self, institution_id: InstitutionId) -> Institution | None:
        if not self._transaction.is_platform() and institution_id != self._institution_id():
            return None
        cache_key = ("institution", institution_id)
        cached: Institution | None = self._transaction.cache.get(cache_key)
        if cached is not None:
            return cached
        row = (
            self._transaction.execute(
                select(t.institutions).where(t.institutions.c.id == institution_id, self._visible())
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        institution = m.institution_from(row)
        if not self._transaction.written:
            self._transaction.cache.put(cache_key, institution)
        return institution

    def get(self, institution_id: InstitutionId) -> Institution:
        found = self.find(institution_id)
        if found is None:
            raise NotFoundError("institution", institution_id)
        return found

    def _check_writable(self, institution: Institution) -> None:
        if not self._transaction.is_platform() and institution.id != self._institution_id():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def add(self, institution: Institution) -> None:
        self._check_writable(institution)
        self._transaction.cache.invalidate(("institution", institution.id))
        self._transaction.execute(
            t.institutions.insert().values(m.institution_row(institution)), kind="institution"
        )
        self._transaction.execute(
            t.institution_domains.insert(),
            [{"domain": d, "institution_id": institution.id} for d in institution.email_domains],
            kind="institution",
        )

    def update(self, institution: Institution) -> Institution:
        self._check_writable(institution)
        self._transaction.cache.invalidate(("institution", institution.id))
        row = m.institution_row(institution)
        row["version"] = institution.version + 1
        result = self._transaction.execute(
            update(t.institutions)
            .where(
                t.institutions.c.id == institution.id,
                t.institutions.c.version == institution.version,
            )
            .values(row),
            kind="institution",
        )
        if result.rowcount == 0:
            if self.find(institution.id) is None:
                raise NotFoundError("institution", institution.id)
            raise ConcurrencyError(f"institution {institution.id} was changed; reload it")
        domains = t.institution_domains
        self._transaction.execute(
            delete(domains).where(
                domains.c.institution_id == institution.id,
                domains.c.domain.not_in(sorted(institution.email_domains)),
            )
        )
        existing = {
            r[0]
            for r in self._transaction.execute(
                select(domains.c.domain).where(domains.c.institution_id == institution.id)
            )
        }
        new = sorted(institution.email_domains - existing)
        if new:
            self._transaction.execute(
                domains.insert(),
                [{"domain": d, "institution_id": institution.id} for d in new],
                kind="institution",
            )
        return dataclasses.replace(institution, version=institution.version + 1)

    def find_by_domain(self, domain: str) -> Institution | None:
        row = (
            self._transaction.execute(
                select(t.institutions)
                .join(
                    t.institution_domains,
                    t.institution_domains.c.institution_id == t.institutions.c.id,
                )
                .where(t.institution_domains.c.domain == domain.lower(), self._visible())
            )
            .mappings()
            .first()
        )
        return None if row is None else m.institution_from(row)

    def list(self) -> Sequence[Institution]:
        rows = (
            self._transaction.execute(
                select(t.institutions).where(self._visible()).order_by(t.institutions.c.id)
            )
            .mappings()
            .all()
        )
        return [m.institution_from(r) for r in rows]
