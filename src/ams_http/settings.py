"""Settings of the HTTP edge, read from the environment (``AMS_*``)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How the API behaves at its edge.

    Attributes:
        cors_origins: browser origins allowed to call the API (the mobile app needs none).
        trusted_proxies: networks whose ``X-Forwarded-For`` is believed for the client IP.
        max_body_bytes: largest request body accepted on JSON endpoints.
        expose_docs: serve ``/schema`` (OpenAPI and its interactive page).
        sign_in_per_minute: Google and password sign-ins allowed per client IP per minute.
        refresh_per_minute: token refreshes allowed per client IP per minute (generous: a
            whole campus can sit behind one NAT address, and the app refreshes on its own).
        check_in_per_minute: check-ins allowed per principal per minute.
        check_in_per_ip_per_minute: check-ins allowed per client IP per minute (generous, for
            the same NAT reason).
        requests_per_minute: all other requests allowed per principal per minute.
        redis_url: rate-limit and idempotency store shared by all processes; memory if unset.
        redis_prefix: prefix of every key the edge writes to Redis.
        worker_threads: threads per process running the (synchronous) use cases; keep it
            at most ``AMS_DATABASE_POOL_SIZE``, or busy threads open and close overflow
            database connections on every request.

    A limit of 0 (or less) switches that limit off.
    """

    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    expose_docs: bool = True
    sign_in_per_minute: int = 100
    refresh_per_minute: int = 3000
    check_in_per_minute: int = 30
    check_in_per_ip_per_minute: int = 3000
    requests_per_minute: int = 1200
    redis_url: str | None = None
    redis_prefix: str = "ams:"
    worker_threads: int = 10

    def __post_init__(self) -> None:
        if self.worker_threads < 1:
            raise ValueError("worker_threads must be at least 1")
        for network in self.trusted_proxies:
            ipaddress.ip_network(network, strict=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        """Read ``AMS_CORS_ORIGINS``, ``AMS_TRUSTED_PROXIES``, ``AMS_MAX_BODY_BYTES``,
        ``AMS_EXPOSE_DOCS``, ``AMS_RATE_SIGN_IN``, ``AMS_RATE_REFRESH_PER_IP``,
        ``AMS_RATE_CHECK_IN``, ``AMS_RATE_CHECK_IN_PER_IP``, ``AMS_RATE_REQUESTS``,
        ``AMS_REDIS_URL``, ``AMS_REDIS_PREFIX`` and ``AMS_WORKER_THREADS`` (limits are per
        minute)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        try:
            return cls(
                cors_origins=_list(env.get("AMS_CORS_ORIGINS", "")),
                trusted_proxies=_list(env.get("AMS_TRUSTED_PROXIES", "")),
                max_body_bytes=int(env.get("AMS_MAX_BODY_BYTES", defaults.max_body_bytes)),
                expose_docs=_bool(env.get("AMS_EXPOSE_DOCS", "true")),
                sign_in_per_minute=int(env.get("AMS_RATE_SIGN_IN", defaults.sign_in_per_minute)),
                refresh_per_minute=int(
                    env.get("AMS_RATE_REFRESH_PER_IP", defaults.refresh_per_minute)
                ),
                check_in_per_minute=int(env.get("AMS_RATE_CHECK_IN", defaults.check_in_per_minute)),
                check_in_per_ip_per_minute=int(
                    env.get("AMS_RATE_CHECK_IN_PER_IP", defaults.check_in_per_ip_per_minute)
                ),
                requests_per_minute=int(env.get("AMS_RATE_REQUESTS", defaults.requests_per_minute)),
                redis_url=env.get("AMS_REDIS_URL") or None,
                redis_prefix=env.get("AMS_REDIS_PREFIX", defaults.redis_prefix),
                worker_threads=int(env.get("AMS_WORKER_THREADS", defaults.worker_threads)),
            )
        except ValueError as error:
            raise ValueError(f"invalid AMS_* HTTP setting: {error}") from None
