"""A worker process for the SIGKILL test: ``python -m tests.adapters.dramatiq.sigkill_worker``.

Arguments: the Redis URL, the broker namespace and the queue. The one job, ``sigkill.job``,
counts its starts in ``<namespace>:started``, sleeps ``payload["sleep_s"]`` seconds, then
counts its completions in ``<namespace>:done``. The broker declares a worker dead after
2 s without a heartbeat and runs maintenance on every command, so a killed worker's
message is redelivered quickly. SIGTERM stops the worker gracefully (as the CLI would).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType

from ams_adapters.dramatiq import DramatiqJobQueue, QueueSettings, make_broker, run_worker
from ams_core.ports import Job

JOB = "sigkill.job"


def settings_for(redis_url: str, namespace: str, queue: str) -> QueueSettings:
    """The settings both the workers and the test's enqueuing side use."""
    return QueueSettings(
        redis_url,
        namespace=namespace,
        queue=queue,
        heartbeat_timeout_ms=2_000,
        maintenance_chance=1_000_000,
        threads=1,
        prefetch=1,
        min_backoff_ms=100,
        time_limit_ms=20_000,
    )


def main(argv: list[str]) -> None:
    redis_url, namespace, queue = argv
    settings = settings_for(redis_url, namespace, queue)
    broker = make_broker(settings)
    client = broker.client

    def handler(job: Job) -> None:
        client.incr(f"{namespace}:started")
        sleep_s = job.payload.get("sleep_s")
        time.sleep(float(sleep_s) if isinstance(sleep_s, int) else 0.0)
        client.incr(f"{namespace}:done")

    DramatiqJobQueue(broker, client, {JOB: handler}, settings)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    run_worker(broker, settings, stop, on_ready=lambda: print("ready", flush=True))


if __name__ == "__main__":
    main(sys.argv[1:])
