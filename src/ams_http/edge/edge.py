"""What the edge adds around the handlers: limits, idempotency, the Redis probe.

``create_app`` builds one ``EdgeServices`` from the settings and takes its middleware (after
authentication: limits and idempotency need the principal), its dishka provider (listed
after the adapters' providers: it decorates their ``HealthChecks``) and its shutdown hook.
"""

from __future__ import annotations

from typing import Any

from dishka import Provider, decorate
from litestar.middleware.base import DefineMiddleware

from ams_core.ports import HealthCheck, HealthChecks
from ams_http.edge.idempotency import IdempotencyMiddleware
from ams_http.edge.ratelimit import RateLimiter, RateLimitMiddleware
from ams_http.edge.stores import EdgeStore, RedisHealthCheck, open_store
from ams_http.settings import HttpSettings


class EdgeServices:
    """The store shared by the rate limits and idempotency, and what is built on it."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.store: EdgeStore = open_store(settings.redis_url, settings.redis_prefix)
        self._redis_check = RedisHealthCheck(settings.redis_url) if settings.redis_url else None
        self.limiter = RateLimiter(settings, self.store)

    @property
    def health_checks(self) -> tuple[HealthCheck, ...]:
        return (self._redis_check,) if self._redis_check is not None else ()

    @property
    def middleware(self) -> list[DefineMiddleware]:
        return [
            DefineMiddleware(RateLimitMiddleware, limiter=self.limiter),
            DefineMiddleware(IdempotencyMiddleware, store=self.store),
        ]

    @property
    def provider(self) -> Provider:
        return EdgeProvider(self)

    async def aclose(self, app: Any = None) -> None:
        """Close the store's connections (an ``on_shutdown`` hook)."""
        await self.store.aclose()
        if self._redis_check is not None:
            self._redis_check.close()


class EdgeProvider(Provider):
    """Adds the Redis probe to the readiness checks."""

    def __init__(self, edge: EdgeServices) -> None:
        super().__init__()
        self._edge = edge

    @decorate
    def health(self, checks: HealthChecks) -> HealthChecks:
        return HealthChecks((*checks.checks, *self._edge.health_checks))
