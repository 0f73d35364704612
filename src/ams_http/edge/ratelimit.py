"""Rate limits per client IP and per principal, checked after authentication.

A handler names its limit in ``opt={RATE_LIMIT: ...}``: ``SIGN_IN`` (Google and password
sign-in, per client IP), ``REFRESH`` (per client IP), ``CHECK_IN`` (per principal and per
client IP) or ``EXEMPT``. Every other signed-in request counts against the principal's
general limit; anonymous requests to open paths without a named limit (probes, metrics,
the OpenAPI document) are not limited. The client IP is ``ams_http.auth.client_ip`` (it
believes ``X-Forwarded-For`` only from the trusted proxies).

When the shared store does not answer, sign-in, refresh and check-in count against this
process's own counters (a Redis outage must not stop a class checking in) and the general
limit lets requests through (logged at most once a minute per process): see ADR 0011.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from ams_core.domain import Principal, TooManyAttemptsError
from ams_http.auth import scope_client_ip
from ams_http.edge.stores import EdgeStore, Limit, MemoryEdgeStore, StoreUnavailableError
from ams_http.settings import HttpSettings

RATE_LIMIT = "rate_limit"
SIGN_IN = "sign-in"
REFRESH = "refresh"
CHECK_IN = "check-in"
EXEMPT = "exempt"
#: the limits that protect a sensitive flow and so fail closed when the store is down
SENSITIVE = frozenset({SIGN_IN, REFRESH, CHECK_IN})

log = logging.getLogger("ams.http.ratelimit")


def principal_subject(principal: Principal) -> str:
    """A short stable key for a principal (no e-mail address in the store's keys)."""
    return _subject(principal.institution_id, principal.email)


@functools.lru_cache(maxsize=16_384)
def _subject(institution_id: str | None, email: str) -> str:
    identity = f"{institution_id or '*'}|{email.lower()}"
    return hashlib.blake2b(identity.encode(), digest_size=12).hexdigest()


class RateLimiter:
    """Which limits a request counts against (settings and the route's ``opt``), and the count."""

    WARN_EVERY_SECONDS = 60.0

    def __init__(self, settings: HttpSettings, store: EdgeStore) -> None:
        self._settings = settings
        self._store = store
        # while the shared store is down, the sensitive limits count in this process only
        self._fallback = MemoryEdgeStore()
        self._warned_at = -self.WARN_EVERY_SECONDS
        # the same subjects come back request after request: their limits are built once
        self._limits = functools.lru_cache(maxsize=16_384)(self._build_limits)

    def limits_for(self, scope: Scope) -> tuple[str | None, tuple[Limit, ...]]:
        """The kind of limit (``None``: the general one) and the limits to count."""
        kind = scope["route_handler"].opt.get(RATE_LIMIT)
        if kind == EXEMPT:
            return kind, ()
        if kind in (SIGN_IN, REFRESH):
            return kind, self._limits(kind, "", self._ip(scope))
        user = scope.get("user")
        if not isinstance(user, Principal):
            return None, ()
        if kind == CHECK_IN:
            return kind, self._limits(kind, principal_subject(user), self._ip(scope))
        return None, self._limits(None, principal_subject(user), "")

    def _build_limits(self, kind: str | None, subject: str, ip: str) -> tuple[Limit, ...]:
        settings = self._settings
        if kind == SIGN_IN:
            limits = [Limit(SIGN_IN, ip, settings.sign_in_per_minute)]
        elif kind == REFRESH:
            limits = [Limit(REFRESH, ip, settings.refresh_per_minute)]
        elif kind == CHECK_IN:
            limits = [
                Limit(CHECK_IN, subject, settings.check_in_per_minute),
                Limit("check-in-ip", ip, settings.check_in_per_ip_per_minute),
            ]
        else:
            limits = [Limit("requests", subject, settings.requests_per_minute)]
        return tuple(limit for limit in limits if limit.limit > 0)

    def _ip(self, scope: Scope) -> str:
        return scope_client_ip(scope, self._settings.trusted_proxies) or "unknown"

    async def check(self, scope: Scope) -> None:
        """Count the request, or raise ``TooManyAttemptsError`` (``rate_limited``)."""
        kind, limits = self.limits_for(scope)
        if not limits:
            return
        try:
            refusal = await self._store.hit(limits)
        except StoreUnavailableError as error:
            self._warn(error)
            if kind not in SENSITIVE:
                return
            # sign-in, refresh and check-in keep a limit: this process's own counters (the
            # core's lockouts and wrong-code counts, kept in the database, hold regardless)
            refusal = await self._fallback.hit(limits)
        if refusal is not None:
            raise TooManyAttemptsError(
                f"too many requests ({refusal.limit.name}: {refusal.limit.limit} per "
                f"{refusal.limit.window} s); try again in {refusal.retry_after} s",
                retry_after_seconds=refusal.retry_after,
                code="rate_limited",
            )

    def _warn(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "rate-limit store unavailable; sign-in, refresh and check-in limits count in "
                "this process only, the general limit is off: %s",
                error,
            )


class RateLimitMiddleware:
    """Count every HTTP request against its limits before the handler runs."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self._limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await self._limiter.check(scope)
        await self.app(scope, receive, send)
