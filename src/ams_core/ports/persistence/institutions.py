"""Persistence ports: institutions (the tenants themselves).

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from ams_core.domain.ids import (
    InstitutionId,
)
from ams_core.domain.institution import Institution


class InstitutionRepository(Protocol):
    """Institutions (tenants). Usable in both scopes; inside one it sees only its own."""

    @abstractmethod
    def find(self, institution_id: InstitutionId) -> Institution | None: ...

    @abstractmethod
    def get(self, institution_id: InstitutionId) -> Institution: ...

    @abstractmethod
    def add(self, institution: Institution) -> None:
        """Store a new institution; a domain already used by another one is a ConflictError."""

    @abstractmethod
    def update(self, institution: Institution) -> Institution: ...

    @abstractmethod
    def find_by_domain(self, domain: str) -> Institution | None:
        """Return the institution owning an email domain (lower-case), if any."""

    @abstractmethod
    def list(self) -> Sequence[Institution]:
        """All visible institutions, ordered by id."""
