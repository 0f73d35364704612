"""Persistence ports: sign-ins, operator sign-ins and password credentials.

The rules every adapter must honour are in :mod:`ams_core.ports.persistence`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ams_core.domain.accounts import (
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    SignIn,
)
from ams_core.domain.ids import (
    SignInId,
)


class SignInRepository(Protocol):
    """Signed-in sessions of the institution's people."""

    @abstractmethod
    def add(self, sign_in: SignIn) -> None: ...

    @abstractmethod
    def find(self, sign_in_id: SignInId) -> SignIn | None: ...

    @abstractmethod
    def update(self, sign_in: SignIn) -> SignIn:
        """Optimistic: a stale ``version`` raises ConcurrencyError (two refreshes raced)."""

    @abstractmethod
    def revoke_all(self, email: str, at: datetime) -> int:
        """Revoke every active session of one person; return how many were active."""

    @abstractmethod
    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        """Ids of sessions revoked at or after ``since`` (feeds the revocation cache)."""


class OperatorSignInRepository(Protocol):
    """Access tokens minted for platform operators: **platform scope only**.

    Inside an institution scope every method raises
    :class:`~ams_core.domain.errors.PermissionDeniedError` (``platform_required``): an
    institution never sees or writes operators' tokens. Emails are stored folded
    (:func:`~ams_core.domain.people.fold_email`). A sign-in is *active* at ``at`` when it is
    not revoked and ``at`` is before its ``expires_at``.
    """

    @abstractmethod
    def add(self, sign_in: OperatorSignIn) -> None:
        """Record a newly minted token; an id already recorded is a ConflictError."""

    @abstractmethod
    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None: ...

    @abstractmethod
    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        """The sign-ins active at ``at``, ordered by ``issued_at`` then id."""

    @abstractmethod
    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        """End one sign-in at ``at``; return whether it was active then (an unknown,
        revoked or expired one is left as it is).
        """

    @abstractmethod
    def revoke_all(self, at: datetime) -> int:
        """End every sign-in active at ``at``; return how many."""

    @abstractmethod
    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        """Ids of sign-ins revoked at or after ``since`` (feeds the revocation cache)."""


class PasswordCredentialRepository(Protocol):
    """Passwords given by admins, one per person (email) of the institution."""

    @abstractmethod
    def find(self, email: str) -> PasswordCredential | None: ...

    @abstractmethod
    def put(self, credential: PasswordCredential) -> PasswordCredential:
        """Insert (``version`` 0 and none stored) or update (optimistic), return stored."""

    @abstractmethod
    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        """Count one wrong password as :meth:`PasswordCredential.after_failure` does, in one
        atomic step: of N racing failures all N count, whatever the concurrency, so the
        ``policy.max_failures``-th locks the account exactly. Returns the stored credential
        (``None`` when there is none); never raises ``ConcurrencyError``.
        """

    @abstractmethod
    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        """Clear the failure count after a right password (storing ``password_hash`` when a
        re-hash is given), atomically and only if the credential is not locked at ``at``.

        Returns whether it was cleared: ``False`` when there is no credential or it is locked
        (a lock that a racing failure set after the caller read the credential included).
        """

    @abstractmethod
    def remove(self, email: str) -> bool: ...
