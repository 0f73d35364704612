"""Persistence ports: cover assignments (a faculty member standing in for another).

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ams_core.domain.cover import CoverAssignment
from ams_core.domain.ids import (
    CoverId,
    FacultyId,
    SessionId,
)


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
    def remove(self, cover_id: CoverId) -> bool:
        """Withdraw a cover; return whether there was one."""
