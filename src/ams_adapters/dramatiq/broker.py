"""The dramatiq Redis broker, configured explicitly from :class:`QueueSettings`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Middleware,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

logger = logging.getLogger("ams_adapters.dramatiq")

_WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """How the job queue reaches Redis and how it retries, times out and dead-letters jobs.

    Times are in milliseconds (dramatiq's unit) except ``key_ttl_seconds`` and
    ``socket_timeout_s``. ``prefetch`` is the number of messages one worker process fetches
    ahead: dramatiq's default (twice the threads) caps a one-process worker near 550 jobs/s
    on Redis; 64 measured ~6,000/s. Jobs queued on :attr:`spread_queue` (the parts of a
    large notification) are the exception: each worker process takes one at a time, so a
    burst of them spreads over the processes. An idle worker looks for work at least every
    ``idle_poll_ms`` (dramatiq's default, 1 s, delays a lone job by up to a second).
    """

    redis_url: str
    namespace: str = "ams"
    queue: str = "ams"
    max_retries: int = 8
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 300_000
    time_limit_ms: int = 60_000
    max_age_ms: int = 86_400_000
    heartbeat_timeout_ms: int = 60_000
    dead_message_ttl_ms: int = _WEEK_MS
    key_ttl_seconds: int = 7 * 24 * 3600
    prefetch: int = 64
    threads: int = 8
    idle_poll_ms: int = 100
    #: how many Redis commands out of a million also run the broker's maintenance
    #: (requeue a dead worker's unacked messages, expire dead letters); dramatiq's default
    maintenance_chance: int = 1_000
    #: connect and read timeout of the Redis client, so a hung Redis cannot block a request
    socket_timeout_s: float = 5.0

    @property
    def spread_queue(self) -> str:
        """The queue of jobs each worker process takes one at a time."""
        return f"{self.queue}-spread"


class PermanentJobError(Exception):
    """A job failed with an error retrying cannot fix; dramatiq does not retry it.

    The queue raises it (``from`` the handler's ``AmsError``) so that one exception type
    can be given to dramatiq's ``throws=`` while ``UnavailableError`` is still retried.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class DeadLetterLog(Middleware):
    """Logs a job that failed for good (it now sits in the broker's dead-letter queue).

    Retries exhausted: ERROR with the job name, idempotency key, retries and last error.
    A permanent error (an ``AmsError`` other than ``UnavailableError``, not retried) or a
    job older than its age limit: WARNING with the job name and key. On a Redis broker it
    also keeps the last error text next to the dead-letter queue, for
    :func:`~ams_adapters.dramatiq.dead_letters`.
    """

    def after_process_message(
        self,
        broker: Any,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not message.failed:
            return
        name = message.actor_name
        key = message.args[0] if message.args else None
        if isinstance(exception, PermanentJobError):
            error = str(exception)
            logger.warning(
                "job %s (key %s) failed with a permanent error, not retried: %s",
                name,
                key,
                error,
            )
        else:
            error = f"{type(exception).__name__}: {exception}"
            retries = max(int(message.options.get("retries", 1)) - 1, 0)
            logger.error(
                "job %s (key %s) failed for good after %d retries, moved to the dead-letter "
                "queue; last error: %s",
                name,
                key,
                retries,
                error,
            )
        _remember_error(broker, message, error)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        if not message.failed:
            return
        key = message.args[0] if message.args else None
        logger.warning(
            "job %s (key %s) was not run: older than its age limit; moved to the dead-letter queue",
            message.actor_name,
            key,
        )
        _remember_error(broker, message, "skipped: older than the age limit (max_age)")


def _remember_error(broker: Any, message: Any, error: str) -> None:
    if not isinstance(broker, RedisBroker):
        return
    message_id = message.options.get("redis_message_id")
    if message_id is None:
        return
    key = errors_key(broker.namespace, message.queue_name)
    try:
        pipe = broker.client.pipeline(transaction=False)
        pipe.hset(key, message_id, error[:4_000])
        pipe.pexpire(key, broker.dead_message_ttl)
        pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("could not record the error of dead job %s", message.actor_name)


def errors_key(namespace: str, queue: str) -> str:
    """The Redis hash keeping the last error text of each dead-lettered message."""
    queue = queue.removesuffix(".DQ")
    return f"{namespace}:{queue}.XQ.errors"


def broker_middleware(settings: QueueSettings) -> list[Middleware]:
    """The middleware every AMS broker runs, in order (also for a StubBroker in tests)."""
    # dramatiq runs the ``after_*`` hooks in reverse order: DeadLetterLog comes first so it
    # sees the message after Retries has decided to fail it.
    return [
        DeadLetterLog(),
        AgeLimit(max_age=settings.max_age_ms),
        TimeLimit(time_limit=settings.time_limit_ms),
        ShutdownNotifications(),
        Retries(
            max_retries=settings.max_retries,
            min_backoff=settings.min_backoff_ms,
            max_backoff=settings.max_backoff_ms,
        ),
    ]


def make_redis(settings: QueueSettings) -> redis.Redis:
    """A Redis client for ``settings.redis_url`` with connect and read timeouts."""
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.socket_timeout_s,
        socket_connect_timeout=settings.socket_timeout_s,
    )


def make_broker(settings: QueueSettings, *, client: redis.Redis | None = None) -> RedisBroker:
    """A Redis broker configured from ``settings`` (never installed as dramatiq's global).

    ``client`` defaults to :func:`make_redis`; the composition root may share it with
    :class:`~ams_adapters.dramatiq.DramatiqJobQueue` for the idempotency keys.
    """
    return RedisBroker(  # type: ignore[no-untyped-call]
        client=client if client is not None else make_redis(settings),
        namespace=settings.namespace,
        middleware=broker_middleware(settings),
        maintenance_chance=settings.maintenance_chance,
        heartbeat_timeout=settings.heartbeat_timeout_ms,
        dead_message_ttl=settings.dead_message_ttl_ms,
    )
