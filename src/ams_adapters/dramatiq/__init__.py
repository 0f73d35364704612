"""The job queue on dramatiq and Redis: broker, queue adapter, dead letters and worker.

Nothing here installs dramatiq's global broker; the composition root builds a broker
with :func:`make_broker`, registers the handlers with :class:`DramatiqJobQueue` and, in
the worker process, runs :func:`run_worker`.
"""

from ams_adapters.dramatiq.broker import (
    DeadLetterLog,
    PermanentJobError,
    QueueSettings,
    broker_middleware,
    make_broker,
    make_redis,
)
from ams_adapters.dramatiq.dead_letters import DeadLetter, dead_letters, requeue_dead_letters
from ams_adapters.dramatiq.queue import DramatiqJobQueue, idempotency_key
from ams_adapters.dramatiq.worker import run_worker

__all__ = [
    "DeadLetter",
    "DeadLetterLog",
    "DramatiqJobQueue",
    "PermanentJobError",
    "QueueSettings",
    "broker_middleware",
    "dead_letters",
    "idempotency_key",
    "make_broker",
    "make_redis",
    "requeue_dead_letters",
    "run_worker",
]
