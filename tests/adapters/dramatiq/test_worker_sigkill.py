"""A worker killed with SIGKILL mid-job: another worker runs the job to completion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from ams_adapters.dramatiq import DramatiqJobQueue, make_broker
from ams_core.ports import Job
from tests.adapters.dramatiq.sigkill_worker import JOB, settings_for
from tests.redis_support import REDIS_URL
from tests.waiting import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.timeout(45)]

ROOT = Path(__file__).resolve().parents[3]

Spawn = Callable[[], subprocess.Popen[str]]


@pytest.fixture
def spawn(redis_namespace: str) -> Iterator[Spawn]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tests.adapters.dramatiq.sigkill_worker"]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, REDIS_URL, redis_namespace, "sigkill"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _count(client: redis.Redis, key: str) -> int:
    value = client.get(key)
    return int(value) if isinstance(value, bytes) else 0


def test_a_job_of_a_killed_worker_is_redelivered_and_completed(
    spawn: Spawn, redis_namespace: str, redis_client: redis.Redis
) -> None:
    settings = settings_for(REDIS_URL, redis_namespace, "sigkill")
    broker = make_broker(settings)
    try:
        queue = DramatiqJobQueue(broker, broker.client, {JOB: lambda job: None}, settings)
        started, done = f"{redis_namespace}:started", f"{redis_namespace}:done"

        first = spawn()
        queue.enqueue(Job(JOB, {"sleep_s": 3}, "sigkill-1"))
        assert wait_until(lambda: _count(redis_client, started) == 1, 10), "job never started"
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=5) == -signal.SIGKILL
        assert _count(redis_client, done) == 0

        killed_at = time.monotonic()
        second = spawn()
        assert wait_until(lambda: _count(redis_client, done) == 1, 20), "job never completed"
        redelivered_after = time.monotonic() - killed_at
        assert _count(redis_client, started) == 2
        assert redelivered_after < 15

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
        assert _count(redis_client, done) == 1
        assert redis_client.llen(f"{redis_namespace}:sigkill") == 0
        assert redis_client.hlen(f"{redis_namespace}:sigkill.msgs") == 0
    finally:
        broker.client.close()
