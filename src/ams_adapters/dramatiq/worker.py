"""Running a dramatiq worker in the current process until told to stop."""

from __future__ import annotations

import threading
from collections.abc import Callable

import dramatiq
from dramatiq.broker import Broker

from ams_adapters.dramatiq.broker import QueueSettings


def run_worker(
    broker: Broker,
    settings: QueueSettings,
    stop: threading.Event,
    *,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Consume every queue declared on ``broker`` until ``stop`` is set, then stop gracefully.

    ``settings.threads`` threads run jobs; ``settings.prefetch`` messages are fetched ahead.
    On stop, jobs in progress get up to ``settings.time_limit_ms`` to finish; prefetched
    messages go back to their queue, and anything still unacknowledged is redelivered by
    the broker's maintenance once this worker's heartbeat is older than
    ``settings.heartbeat_timeout_ms``. No signal handling here: the caller sets ``stop``.
    ``on_ready`` is called once the worker consumes.
    """
    worker = dramatiq.Worker(broker, worker_threads=settings.threads)
    # dramatiq 2.2 reads the prefetch only from an environment variable; the attribute is
    # used when the consumers start, in ``start()``
    worker.queue_prefetch = settings.prefetch
    worker.start()
    try:
        if on_ready is not None:
            on_ready()
        stop.wait()
    finally:
        worker.stop(timeout=settings.time_limit_ms)
