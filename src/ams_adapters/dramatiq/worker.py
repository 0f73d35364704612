"""Running a dramatiq worker in the current process until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import dramatiq
from dramatiq.broker import Broker

from ams_adapters.dramatiq.broker import QueueSettings


class _SecondWorkerWarning(logging.Filter):
    """Drops dramatiq's warning that a second worker's middleware joins the broker: the
    spread queue's worker is a second :class:`dramatiq.Worker` on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "same type twice" not in record.getMessage()


def run_worker(
    broker: Broker,
    settings: QueueSettings,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Consume every queue declared on ``broker`` until ``stop`` is set, then stop gracefully.

    ``settings.threads`` threads run jobs; ``settings.prefetch`` messages are fetched ahead.
    The spread queue, if declared, has its own thread and fetches one message at a time,
    so its jobs spread over every worker process. On stop, jobs in progress get up to
    ``settings.time_limit_ms`` to finish; prefetched messages go back to their queue, and
    anything still unacknowledged is redelivered by the broker's maintenance once this
    worker's heartbeat is older than ``settings.heartbeat_timeout_ms``. No signal handling
    here: the caller sets ``stop``. ``on_ready`` is called once the worker consumes.
    """
    declared = set(broker.get_declared_queues())
    spread = settings.spread_queue in declared
    others = declared - {settings.spread_queue}
    # an empty whitelist would mean every queue, the spread one too
    workers = [_worker(broker, settings, others, settings.threads, None)] if others else []
    if spread:
        broker_logger: logging.Logger = broker.logger
        if not any(isinstance(f, _SecondWorkerWarning) for f in broker_logger.filters):
            broker_logger.addFilter(_SecondWorkerWarning())
        workers.append(_worker(broker, settings, {settings.spread_queue}, 1, 1))
    try:
        for worker in workers:
            worker.start()
        if on_ready is not None:
            on_ready()
        stop.wait()
    finally:
        for worker in workers:
            worker.stop(timeout=settings.time_limit_ms)


def _worker(
    broker: Broker, settings: QueueSettings, queues: set[str], threads: int, prefetch: int | None
) -> dramatiq.Worker:
    worker = dramatiq.Worker(
        broker, queues=queues, worker_threads=threads, worker_timeout=settings.idle_poll_ms
    )
    # dramatiq 2.2 reads the prefetch only from an environment variable; the attribute is
    # used when the consumers start, in ``start()``
    worker.queue_prefetch = prefetch or settings.prefetch
    return worker
