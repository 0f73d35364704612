"""Cover assignments: a substitute teaching another teacher's session."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from ams_adapters.memory.repositories._base import MemoryRepository
from ams_core.domain import ConflictError, CoverAssignment, CoverId, FacultyId, SessionId
from ams_core.ports import CoverAssignmentRepository


class InMemoryCoverAssignmentRepository(MemoryRepository, CoverAssignmentRepository):
    def add(self, cover: CoverAssignment) -> None:
        self._own(cover)
        data, log = self._data, self._log
        self._require(data.sessions, cover.session_id, "session")
        self._require(data.faculty, cover.substitute_id, "faculty")
        if cover.id in data.covers:
            raise ConflictError(f"cover {cover.id} already exists", code="cover_exists")
        if cover.session_id in data.cover_by_session:
            raise ConflictError("the session is already covered", code="session_already_covered")
        for other_id in data.covers_by_substitute.get(cover.substitute_id, ()):
            if data.covers[other_id].overlaps(cover):
                raise ConflictError(
                    "the substitute already covers a class at that time",
                    code="substitute_double_booked",
                )
        log.set(data.covers, cover.id, cover)
        log.set(data.cover_by_session, cover.session_id, cover.id)
        log.add(data.covers_by_substitute.setdefault(cover.substitute_id, set()), cover.id)

    def find(self, cover_id: CoverId) -> CoverAssignment | None:
        return self._data.covers.get(cover_id)

    def for_session(self, session_id: SessionId) -> CoverAssignment | None:
        cover_id = self._data.cover_by_session.get(session_id)
        return None if cover_id is None else self._data.covers[cover_id]

    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        data = self._data
        found = (data.covers[i] for i in data.covers_by_substitute.get(substitute_id, ()))
        return sorted(
            (c for c in found if c.starts_at < end and start < c.ends_at),
            key=lambda c: (c.starts_at, c.id),
        )

    def list_between(self, start: datetime, end: datetime) -> Sequence[CoverAssignment]:
        return sorted(
            (c for c in self._data.covers.values() if c.starts_at < end and start < c.ends_at),
            key=lambda c: (c.starts_at, c.id),
        )

    def count_by_substitute(self, start: datetime, end: datetime) -> Mapping[FacultyId, int]:
        counts: dict[FacultyId, int] = {}
        for cover in self._data.covers.values():
            if start <= cover.starts_at < end:
                counts[cover.substitute_id] = counts.get(cover.substitute_id, 0) + 1
        return counts

    def remove(self, cover_id: CoverId) -> bool:
        data, log = self._data, self._log
        cover = data.covers.get(cover_id)
        if cover is None:
            return False
        log.delete(data.covers, cover_id)
        log.delete(data.cover_by_session, cover.session_id)
        log.discard(data.covers_by_substitute.get(cover.substitute_id, set()), cover_id)
        return True
