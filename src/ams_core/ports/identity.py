"""Proving who is acting: identity providers, AMS access tokens and password hashes."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ams_core.domain.accounts import ExternalIdentity
from ams_core.domain.identity import Principal


class IdentityVerifier(Protocol):
    """Verifies an access token issued by AMS (or a test double of it)."""

    @abstractmethod
    def verify(self, token: str) -> Principal:
        """Return the principal the token stands for.

        Raises:
            AuthenticationError: the token is malformed, expired or not ours.
        """


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    """A signed access token and when it stops working."""

    token: str
    expires_at: datetime
    expires_in: int


class AccessTokens(IdentityVerifier, Protocol):
    """Issues and verifies AMS's short-lived signed access tokens.

    ``verify(issue(p, now).token)`` returns a principal equal to ``p`` (same
    ``sign_in_id``) until the token expires; a token signed with another key, altered or
    expired raises :class:`~ams_core.domain.errors.AuthenticationError`. Revocation is not
    this port's job: the core checks the principal's sign-in.
    """

    @abstractmethod
    def issue(self, principal: Principal, now: datetime) -> IssuedAccessToken: ...


class ExternalIdentityVerifier(Protocol):
    """Checks an identity provider's token (a Google ID token) and returns its claims.

    The adapter checks signature, issuer, audience and expiry; the core checks the policy
    (verified email, hosted domain, institution). Raises
    :class:`~ams_core.domain.errors.AuthenticationError` for any invalid token and
    :class:`~ams_core.domain.errors.UnavailableError` when the provider's keys cannot be
    fetched.
    """

    @abstractmethod
    def verify(self, id_token: str) -> ExternalIdentity: ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords (argon2id in production)."""

    @abstractmethod
    def hash(self, password: str) -> str: ...

    @abstractmethod
    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a malformed hash is simply no match."""

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than the current ones."""
