"""The :class:`~ams_core.ports.JobQueue` port on dramatiq."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping

import dramatiq
import redis
from dramatiq.broker import Broker
from dramatiq.errors import BrokerError

from ams_adapters.dramatiq.broker import PermanentJobError, QueueSettings
from ams_core.domain import AmsError, UnavailableError
from ams_core.ports import Job, JobHandler, JobQueue, JobValue

logger = logging.getLogger("ams_adapters.dramatiq")


def idempotency_key(namespace: str, key: str) -> str:
    """The Redis key marking that a job with idempotency key ``key`` was queued."""
    return f"{namespace}:job-key:{key}"


def _actor_function(name: str, handler: JobHandler) -> Callable[..., None]:
    """The function dramatiq runs: rebuilds the :class:`Job` from primitives, calls ``handler``.

    The idempotency key is the single positional argument (positional-only, so a payload
    member of any name fits in ``payload``).
    """

    def run(key: str | None, /, **payload: JobValue) -> None:
        try:
            handler(Job(name, payload, idempotency_key=key))
        except UnavailableError:
            raise
        except AmsError as error:
            raise PermanentJobError(error) from error

    run.__name__ = run.__qualname__ = f"job_{name}".replace(".", "_")
    return run


class DramatiqJobQueue(JobQueue):
    """Queues jobs on a dramatiq broker; a worker process runs them (at least once).

    One actor per job name is registered on ``broker`` (never dramatiq's global broker).
    Idempotency keys are deduplicated across processes in Redis with ``SET NX EX``; a job
    whose key is already there is dropped. Handlers raising ``UnavailableError`` or a
    non-``AmsError`` are retried with backoff; another ``AmsError`` is permanent: not
    retried, logged at WARNING and kept in the dead-letter queue.

    Jobs named in ``spread`` go to the settings' ``spread_queue``, which each worker process
    consumes one job at a time (see :func:`~ams_adapters.dramatiq.run_worker`): a burst of
    long jobs, such as the parts of a notification to thousands of devices, is shared by
    every worker process instead of being fetched ahead by the first.
    """

    def __init__(
        self,
        broker: Broker,
        redis: redis.Redis,
        handlers: Mapping[str, JobHandler],
        settings: QueueSettings,
        *,
        spread: Collection[str] = (),
    ) -> None:
        self._broker = broker
        self._redis = redis
        self._settings = settings
        self._actors: dict[str, dramatiq.Actor[..., None]] = {}
        for name, handler in handlers.items():
            declare = dramatiq.actor(
                broker=broker,
                actor_name=name,
                queue_name=settings.spread_queue if name in spread else settings.queue,
                max_retries=settings.max_retries,
                min_backoff=settings.min_backoff_ms,
                max_backoff=settings.max_backoff_ms,
                time_limit=settings.time_limit_ms,
                max_age=settings.max_age_ms,
                throws=(PermanentJobError,),
            )
            self._actors[name] = declare(_actor_function(name, handler))

    @property
    def broker(self) -> Broker:
        """The broker the actors are registered on (a worker consumes from it)."""
        return self._broker

    @property
    def queue_name(self) -> str:
        """The dramatiq queue every job goes to."""
        return self._settings.queue

    def enqueue(self, job: Job) -> None:
        actor = self._actors.get(job.name)
        if actor is None:
            raise LookupError(f"no handler for job {job.name!r}")
        marker: str | None = None
        if job.idempotency_key is not None:
            marker = idempotency_key(self._settings.namespace, job.idempotency_key)
            try:
                fresh = self._redis.set(marker, 1, nx=True, ex=self._settings.key_ttl_seconds)
            except (redis.RedisError, OSError) as error:
                raise UnavailableError(f"the job queue is unreachable: {error}") from error
            if not fresh:
                return
        try:
            actor.send_with_options(args=(job.idempotency_key,), kwargs=dict(job.payload))
        except (redis.RedisError, BrokerError, OSError) as error:
            if marker is not None:
                self._forget(marker)
            raise UnavailableError(f"the job queue is unreachable: {error}") from error

    def _forget(self, marker: str) -> None:
        try:
            self._redis.delete(marker)
        except (redis.RedisError, OSError):
            logger.warning(
                "could not remove idempotency marker %s after a failed enqueue; a new "
                "enqueue with that key is dropped until it expires",
                marker,
            )
