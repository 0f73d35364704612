"""Which signed-in sessions (and operator tokens) are revoked, and turning a bearer
access token into the principal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from ams_core.domain.errors import (
    AuthenticationError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import InstitutionId, SignInId
from ams_core.ports.clock import Clock
from ams_core.ports.identity import (
    AccessTokens,
)
from ams_core.ports.persistence import UnitOfWork


class RevocationCache:
    """Which signed-in sessions were revoked, as seen by this process.

    Access tokens are checked on every request without a database round trip: revocations
    made in this process apply at once, and those made elsewhere are read from the store
    at most ``refresh_every`` apart per institution. Sessions revoked longer ago than
    ``lookback`` (the access-token lifetime) no longer matter: their tokens have expired.

    Platform operators' tokens belong to no institution: their revocations are kept under
    the institution ``None`` and reloaded the same way, from ``operator_sign_ins`` in the
    platform scope.

    One reload per institution runs at a time: while it runs, other callers answer from
    the list loaded before (stale by the reload's own duration at most) instead of each
    reading the store, which under load every few seconds took a pooled connection per
    waiting request and opened new ones. Callers with no list yet (a process's first
    requests) wait for that one read.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        lookback: timedelta,
        refresh_every: timedelta = timedelta(seconds=5),
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._lookback = lookback
        self._refresh_every = refresh_every
        self._lock = threading.Lock()
        self._revoked: dict[InstitutionId | None, frozenset[SignInId]] = {}
        self._loaded_at: dict[InstitutionId | None, datetime] = {}
        #: institutions whose list is being read right now, and the end of such a read
        self._reloading: set[InstitutionId | None] = set()
        self._read_done = threading.Condition(self._lock)

    def is_revoked(
        self,
        institution_id: InstitutionId | None,
        sign_in_id: SignInId,
        *,
        reload: bool = True,
    ) -> bool:
        """Whether the session was revoked (reloading the institution's list when stale,
        unless ``reload`` is false); ``institution_id`` ``None`` asks about a platform
        operator's token.
        """
        now = self._clock.now()
        if reload and self._is_stale(institution_id, now) and self._claim_reload(institution_id):
            self.reload_claimed(institution_id)
        return sign_in_id in self._revoked.get(institution_id, frozenset())

    def claim_reload(self, institution_id: InstitutionId | None) -> bool:
        """Claim the next read of a stale list without waiting: True when this caller is
        now to read it (:meth:`reload_claimed`), False when the list is fresh or another
        caller reads it already.

        An async caller claims on its event loop before it hands the read to a worker
        thread: the requests that arrive meanwhile then answer from the list loaded before
        (:meth:`is_current`), instead of each queueing for a worker thread of its own.
        """
        with self._lock:
            if institution_id in self._reloading or not self._is_stale(
                institution_id, self._clock.now()
            ):
                return False
            self._reloading.add(institution_id)
            return True

    def reload_claimed(self, institution_id: InstitutionId | None) -> None:
        """Read the institution's list from the store, as claimed by this caller."""
        try:
            self._reload(institution_id, self._clock.now())
        finally:
            with self._read_done:
                self._reloading.discard(institution_id)
                self._read_done.notify_all()

    def is_current(self, institution_id: InstitutionId | None) -> bool:
        """Whether :meth:`is_revoked` would answer for this institution without reading
        the store (an async caller runs it in a worker thread otherwise): the list is
        fresh, or another caller is reading it again meanwhile.
        """
        if not self._is_stale(institution_id, self._clock.now()):
            return True
        return institution_id in self._reloading and institution_id in self._loaded_at

    def _claim_reload(self, institution_id: InstitutionId | None) -> bool:
        """Whether this caller reads the list again: no one else is. While another caller
        reads it, a list loaded before answers; with none loaded yet, this caller waits
        for that read (and reads itself only if it failed).
        """
        with self._read_done:
            while institution_id in self._reloading:
                if institution_id in self._loaded_at:
                    return False
                self._read_done.wait()
            if institution_id in self._loaded_at and not self._is_stale(
                institution_id, self._clock.now()
            ):
                return False  # read meanwhile by the caller this one waited for
            self._reloading.add(institution_id)
            return True

    def _is_stale(self, institution_id: InstitutionId | None, now: datetime) -> bool:
        loaded = self._loaded_at.get(institution_id)
        return loaded is None or now - loaded >= self._refresh_every

    def add(self, institution_id: InstitutionId | None, sign_in_id: SignInId) -> None:
        """Record a revocation made by this process (``None``: a platform operator's)."""
        with self._lock:
            known = self._revoked.get(institution_id, frozenset())
            self._revoked[institution_id] = known | {sign_in_id}

    def _reload(self, institution_id: InstitutionId | None, now: datetime) -> None:
        since = now - self._lookback
        if institution_id is None:
            with self._uow_factory().for_platform() as uow:
                stored = uow.operator_sign_ins.revoked_since(since)
        else:
            with self._uow_factory().for_institution(institution_id) as uow:
                stored = uow.sign_ins.revoked_since(since)
        with self._lock:
            self._revoked[institution_id] = stored | self._revoked.get(institution_id, frozenset())
            self._loaded_at[institution_id] = now


class Authenticate:
    """Turn a bearer access token into the principal, refusing revoked sessions.

    A token without an institution (a platform operator's) must name its recorded
    sign-in: one minted before operator tokens were recorded is refused.
    """

    def __init__(self, tokens: AccessTokens, revocations: RevocationCache) -> None:
        self._tokens = tokens
        self._revocations = revocations

    def __call__(self, token: str) -> Principal:
        """Return the principal.

        Raises:
            AuthenticationError: the token is invalid or expired (``invalid_token``,
                ``token_expired``; an operator token naming no sign-in is
                ``invalid_token`` too) or its session was revoked (``session_revoked``).
        """
        principal = self.verify(token)
        self.refuse_if_revoked(principal)
        return principal

    def verify(self, token: str) -> Principal:
        """The first half of :meth:`__call__`: signature, claims and expiry, no I/O.

        Raises:
            AuthenticationError: ``invalid_token`` or ``token_expired``, as for the call.
        """
        principal = self._tokens.verify(token)
        if principal.sign_in_id is None and principal.institution_id is None:
            raise AuthenticationError(
                "the access token is not valid: an operator token must name its "
                "recorded sign-in (mint a new one)",
                code="invalid_token",
            )
        return principal

    def revocations_are_current(self, principal: Principal) -> bool:
        """Whether :meth:`refuse_if_revoked` would answer without reading the store."""
        return principal.sign_in_id is None or self._revocations.is_current(
            principal.institution_id
        )

    def claim_revocation_reload(self, principal: Principal) -> bool:
        """Whether this caller is to read the principal's stale revocation list again,
        claimed now without waiting (:meth:`RevocationCache.claim_reload`); it then calls
        :meth:`reload_and_refuse_if_revoked`, in a worker thread when it is async.
        """
        return principal.sign_in_id is not None and self._revocations.claim_reload(
            principal.institution_id
        )

    def reload_and_refuse_if_revoked(self, principal: Principal) -> None:
        """Read the revocation list claimed by :meth:`claim_revocation_reload`, then
        answer as :meth:`refuse_if_revoked`.

        Raises:
            AuthenticationError: ``session_revoked``.
        """
        self._revocations.reload_claimed(principal.institution_id)
        self.refuse_if_revoked(principal, reload=False)

    def refuse_if_revoked(self, principal: Principal, *, reload: bool = True) -> None:
        """The second half of :meth:`__call__`; it reads the store when the process's
        revocation list is stale (see :meth:`revocations_are_current`), unless ``reload``
        is false (then the list as it is answers).

        Raises:
            AuthenticationError: ``session_revoked``.
        """
        sign_in_id = principal.sign_in_id
        if sign_in_id is not None and self._revocations.is_revoked(
            principal.institution_id, sign_in_id, reload=reload
        ):
            raise AuthenticationError("you have been signed out", code="session_revoked")
