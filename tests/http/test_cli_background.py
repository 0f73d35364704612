"""`ams worker`, `ams cleanup` and `ams jobs` as an operator runs them."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    QueueSettings,
    dead_letters,
    make_broker,
    run_worker,
)
from ams_core.domain import ConflictError
from ams_core.ports import Job
from tests.http.cli_support import SECRET, clean_env, run_ams, start_ams
from tests.redis_support import REDIS_URL, require_redis
from tests.waiting import wait_until


def _migrated(tmp_path: Path) -> dict[str, str]:
    env = clean_env(AMS_DATABASE_URL=f"sqlite:///{tmp_path / 'ams.db'}", AMS_SECRET_KEY=SECRET)
    done = run_ams("migrate", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    return env


def test_a_worker_without_redis_says_why_in_one_line(tmp_path: Path) -> None:
    done = run_ams("worker", cwd=tmp_path, env=_migrated(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "AMS_REDIS_URL" in done.stderr


def test_a_dry_run_clean_up_says_what_would_go_and_deletes_nothing(tmp_path: Path) -> None:
    env = _migrated(tmp_path)
    dry = run_ams("cleanup", "--days", "30", "--dry-run", cwd=tmp_path, env=env)
    done = run_ams("cleanup", "--days", "30", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would delete 0 notification(s) delivered before ")
    assert done.stdout.startswith("deleted 0 notification(s)")


def test_a_clean_up_keeps_at_least_one_day(tmp_path: Path) -> None:
    done = run_ams("cleanup", "--days", "0", cwd=tmp_path, env=_migrated(tmp_path))
    assert done.returncode == 2
    assert "keep at least 1 day" in done.stderr


@pytest.mark.redis
@pytest.mark.timeout(60)
def test_a_worker_starts_on_redis_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    require_redis()
    prefix = f"ams-test-{uuid.uuid4().hex[:12]}:"
    env = _migrated(tmp_path) | {"AMS_REDIS_URL": REDIS_URL, "AMS_REDIS_PREFIX": prefix}
    log = tmp_path / "worker.log"
    worker = start_ams("worker", "--threads", "2", cwd=tmp_path, env=env, log=log)
    try:
        deadline = time.monotonic() + 20
        while "AMS worker:" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
        assert "AMS worker: 2 threads, prefetch 64" in log.read_text()
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(30) == 0, log.read_text()
        listed = run_ams("jobs", "dead-letters", cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        assert "0 dead-lettered job(s)" in listed.stderr
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix.rstrip(":") + "*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.redis
@pytest.mark.timeout(60)
def test_jobs_that_failed_for_good_are_listed_and_requeued_by_the_operator_commands(
    tmp_path: Path,
) -> None:
    require_redis()
    prefix = f"ams-test-{uuid.uuid4().hex[:12]}:"
    env = _migrated(tmp_path) | {"AMS_REDIS_URL": REDIS_URL, "AMS_REDIS_PREFIX": prefix}
    options = QueueSettings(REDIS_URL, namespace=prefix.rstrip(":"))
    broker = make_broker(options)

    def refuse(job: Job) -> None:
        raise ConflictError("the session is already completed")

    try:
        queue = DramatiqJobQueue(
            broker, broker.client, {"refuse": refuse, "part": refuse}, options, spread={"part"}
        )
        queue.enqueue(Job("refuse", {"session_id": "S-1"}))
        queue.enqueue(Job("part", {"part": 1}))
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(broker, options, stop), daemon=True)
        worker.start()
        assert wait_until(lambda: len(dead_letters(broker, queues=_queues(options))) == 2, 20)
        stop.set()
        worker.join(30)

        listed = run_ams("jobs", "dead-letters", cwd=tmp_path, env=env)
        requeued = run_ams("jobs", "requeue", cwd=tmp_path, env=env)

        assert listed.returncode == 0, listed.stderr
        assert "2 dead-lettered job(s)" in listed.stderr
        assert "ConflictError: the session is already completed" in listed.stdout
        assert "{'session_id': 'S-1'}" in listed.stdout
        assert requeued.returncode == 0, requeued.stderr
        assert "queued 2 job(s) again" in requeued.stderr
        assert dead_letters(broker, queues=_queues(options)) == []
    finally:
        keys = list(broker.client.scan_iter(match=prefix.rstrip(":") + "*", count=500))
        if keys:
            broker.client.delete(*keys)
        broker.client.close()


def _queues(options: QueueSettings) -> tuple[str, str]:
    return (options.queue, options.spread_queue)
