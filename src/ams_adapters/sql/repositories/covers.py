"""Cover assignments: a substitute teaching another teacher's session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.sql.expression import ColumnElement

from ams_adapters.sql import mappers as m
from ams_adapters.sql import tables as t
from ams_adapters.sql.repositories._base import SqlRepository
from ams_core.domain import ConflictError, CoverAssignment, CoverId, FacultyId, SessionId
from ams_core.ports import CoverAssignmentRepository

COVERS = t.covers.c


class SqlCoverAssignmentRepository(SqlRepository, CoverAssignmentRepository):
    def add(self, cover: CoverAssignment) -> None:
        self._check_owned(cover)
        # SQLite has no exclusion constraints; its writers are serialised (BEGIN IMMEDIATE),
        # so this check cannot race there
        if not self._transaction.is_postgres and self.list_for_substitute(
            cover.substitute_id, cover.starts_at, cover.ends_at
        ):
            raise ConflictError(
                "the substitute already covers a class at that time",
                code="substitute_double_booked",
            )
        self._transaction.execute(t.covers.insert().values(m.cover_row(cover)), kind="cover")

    def _one(self, condition: ColumnElement[bool]) -> CoverAssignment | None:
        row = (
            self._transaction.execute(
                select(t.covers).where(COVERS.institution_id == self._institution_id(), condition)
            )
            .mappings()
            .first()
        )
        return None if row is None else m.cover_from(row)

    def find(self, cover_id: CoverId) -> CoverAssignment | None:
        return self._one(COVERS.id == cover_id)

    def for_session(self, session_id: SessionId) -> CoverAssignment | None:
        return self._one(COVERS.session_id == session_id)

    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        rows = (
            self._transaction.execute(
                select(t.covers)
                .where(
                    COVERS.institution_id == self._institution_id(),
                    COVERS.substitute_id == substitute_id,
                    COVERS.starts_at < end,
                    COVERS.ends_at > start,
                )
                .order_by(COVERS.starts_at, COVERS.id)
            )
            .mappings()
            .all()
        )
        return [m.cover_from(r) for r in rows]

    def list_between(self, start: datetime, end: datetime) -> Sequence[CoverAssignment]:
        rows = (
            self._transaction.execute(
                select(t.covers)
                .where(
                    COVERS.institution_id == self._institution_id(),
                    COVERS.starts_at < end,
                    COVERS.ends_at > start,
                )
                .order_by(COVERS.starts_at, COVERS.id)
            )
            .mappings()
            .all()
        )
        return [m.cover_from(r) for r in rows]

    def count_by_substitute(self, start: datetime, end: datetime) -> Mapping[FacultyId, int]:
        rows = self._transaction.execute(
            select(COVERS.substitute_id, func.count())
            .where(
                COVERS.institution_id == self._institution_id(),
                COVERS.starts_at >= start,
                COVERS.starts_at < end,
            )
            .group_by(COVERS.substitute_id)
        ).all()
        return {FacultyId(substitute): int(count) for substitute, count in rows}

    def remove(self, cover_id: CoverId) -> bool:
        result = self._transaction.execute(
            delete(t.covers).where(
                COVERS.institution_id == self._institution_id(), COVERS.id == cover_id
            )
        )
        return bool(result.rowcount > 0)
