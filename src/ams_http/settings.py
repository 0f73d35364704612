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
        import_max_bytes: largest workbook accepted by ``POST /api/v1/imports`` (the upload
            is refused with 413 before it is read past this; ``AMS_IMPORT_MAX_BYTES``, which
            the import itself also enforces).
        expose_docs: serve ``/schema`` (the OpenAPI document and its Swagger UI page, with
            assets from the app itself); on by default, so the demo and developers have them.
            Switch it off where the API surface should not be advertised.
        expose_metrics: serve ``GET /metrics`` (Prometheus text, no token); on by default for
            the scraper. Switch it off where the port is reachable by others and no scraper
            needs it (``/metrics`` then answers 404).
        hsts_seconds: ``max-age`` of ``Strict-Transport-Security``; 0 (the default) sends
            none, since the demo runs on plain http. Set it only behind https.
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
        max_header_bytes: largest request line plus headers ``ams serve`` reads (431 above).
        max_header_count: most headers in one request ``ams serve`` reads (431 above).
        queue_limit: requests one ``ams serve`` process holds at once, running or waiting
            for its event loop; one more is answered ``503`` (``overloaded``) with
            ``Retry-After`` at once (ADR 0020). Lower, it would shed the burst of a class
            checking in at once, which one process drains in well under ``queue_wait_ms``.
        queue_wait_ms: longest a request may wait for its process's event loop, counted
            from when it reached the process (the wait unread in its socket while the loop
            was busy included); one that waited longer is answered ``503``
            (``overloaded``) instead of run, since its client has most likely given up or
            will retry (ADR 0020).

    A limit of 0 (or less) switches that limit off.
    """

    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    import_max_bytes: int = 20 * 1024 * 1024
    expose_docs: bool = True
    expose_metrics: bool = True
    hsts_seconds: int = 0
    sign_in_per_minute: int = 100
    refresh_per_minute: int = 3000
    check_in_per_minute: int = 30
    check_in_per_ip_per_minute: int = 3000
    requests_per_minute: int = 1200
    redis_url: str | None = None
    redis_prefix: str = "ams:"
    worker_threads: int = 10
    max_header_bytes: int = 16 * 1024
    max_header_count: int = 100
    queue_limit: int = 64
    queue_wait_ms: int = 250

    def __post_init__(self) -> None:
        if self.worker_threads < 1:
            raise ValueError("worker_threads must be at least 1")
        if self.max_header_bytes < 1024 or self.max_header_count < 16:
            raise ValueError("requests must be allowed 1024 header bytes and 16 headers at least")
        if self.hsts_seconds < 0:
            raise ValueError("hsts_seconds must not be negative")
        for network in self.trusted_proxies:
            ipaddress.ip_network(network, strict=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        """Read ``AMS_CORS_ORIGINS``, ``AMS_TRUSTED_PROXIES``, ``AMS_MAX_BODY_BYTES``,
        ``AMS_IMPORT_MAX_BYTES``,
        ``AMS_EXPOSE_DOCS``, ``AMS_EXPOSE_METRICS``, ``AMS_HSTS_SECONDS``,
        ``AMS_RATE_SIGN_IN``, ``AMS_RATE_REFRESH_PER_IP``, ``AMS_RATE_CHECK_IN``,
        ``AMS_RATE_CHECK_IN_PER_IP``, ``AMS_RATE_REQUESTS``, ``AMS_REDIS_URL``,
        ``AMS_REDIS_PREFIX``, ``AMS_WORKER_THREADS``, ``AMS_MAX_HEADER_BYTES``,
        ``AMS_MAX_HEADER_COUNT``, ``AMS_QUEUE_LIMIT`` and ``AMS_QUEUE_WAIT_MS`` (rate limits
        are per minute)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        try:
            return cls(
                cors_origins=_list(env.get("AMS_CORS_ORIGINS", "")),
                trusted_proxies=_list(env.get("AMS_TRUSTED_PROXIES", "")),
                max_body_bytes=int(env.get("AMS_MAX_BODY_BYTES", defaults.max_body_bytes)),
                import_max_bytes=int(env.get("AMS_IMPORT_MAX_BYTES", defaults.import_max_bytes)),
                expose_docs=_bool(env.get("AMS_EXPOSE_DOCS", "true")),
                expose_metrics=_bool(env.get("AMS_EXPOSE_METRICS", "true")),
                hsts_seconds=int(env.get("AMS_HSTS_SECONDS", defaults.hsts_seconds)),
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
                max_header_bytes=int(env.get("AMS_MAX_HEADER_BYTES", defaults.max_header_bytes)),
                max_header_count=int(env.get("AMS_MAX_HEADER_COUNT", defaults.max_header_count)),
                queue_limit=int(env.get("AMS_QUEUE_LIMIT", defaults.queue_limit)),
                queue_wait_ms=int(env.get("AMS_QUEUE_WAIT_MS", defaults.queue_wait_ms)),
            )
        except ValueError as error:
            raise ValueError(f"invalid AMS_* HTTP setting: {error}") from None
