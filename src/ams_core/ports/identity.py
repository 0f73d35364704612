"""Turning a bearer credential into a principal."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from ams_core.domain.identity import Principal


class IdentityVerifier(Protocol):
    """Verifies an access token issued by AMS (or a test double of it)."""

    @abstractmethod
    def verify(self, token: str) -> Principal:
        """Return the principal the token stands for.

        Raises:
            AuthenticationError: the token is malformed, expired, revoked or not ours.
        """
