"""The dramatiq job queue on the real Redis: contract, retries, dead letters, outages."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    QueueSettings,
    dead_letters,
    idempotency_key,
    make_broker,
    requeue_dead_letters,
    run_worker,
)
from ams_core.domain import ConflictError, UnavailableError
from ams_core.ports import Job, JobHandler
from ams_core.testing.contracts.jobs import JobQueueContract, RanJobs
from tests.adapters.dramatiq.conftest import drain, running_worker
from tests.redis_support import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.timeout(60)]


@pytest.fixture
def settings(redis_namespace: str) -> QueueSettings:
    return QueueSettings(
        REDIS_URL,
        namespace=redis_namespace,
        queue="q_" + redis_namespace.rsplit("-", 1)[-1][:12],
        threads=2,
        prefetch=8,
        min_backoff_ms=200,
        max_backoff_ms=400,
    )


@pytest.fixture
def broker(settings: QueueSettings) -> Iterator[RedisBroker]:
    broker = make_broker(settings)
    yield broker
    broker.client.close()


def _queue(
    broker: RedisBroker, settings: QueueSettings, handlers: dict[str, JobHandler]
) -> DramatiqJobQueue:
    return DramatiqJobQueue(broker, broker.client, handlers, settings)


class TestDramatiqJobQueue(JobQueueContract):
    @pytest.fixture
    def ran(self) -> list[Job]:
        return []

    @pytest.fixture
    def job_queue(
        self, broker: RedisBroker, settings: QueueSettings, ran: list[Job]
    ) -> DramatiqJobQueue:
        return _queue(broker, settings, dict.fromkeys(self.job_names, ran.append))

    @pytest.fixture
    def ran_jobs(
        self, broker: RedisBroker, settings: QueueSettings, ran: list[Job], job_queue: object
    ) -> Iterator[RanJobs]:
        with running_worker(broker) as worker:

            def drained() -> list[Job]:
                drain(broker, worker, settings.queue)
                return list(ran)

            yield drained


def test_the_idempotency_marker_is_a_redis_key_with_the_configured_ttl(
    broker: RedisBroker, settings: QueueSettings, redis_client: redis.Redis
) -> None:
    queue = _queue(broker, settings, {"job": lambda job: None})
    queue.enqueue(Job("job", {}, "ttl-key"))
    marker = idempotency_key(settings.namespace, "ttl-key")
    assert redis_client.get(marker) == b"1"
    ttl = redis_client.ttl(marker)
    assert isinstance(ttl, int)
    assert settings.key_ttl_seconds - 5 <= ttl <= settings.key_ttl_seconds


def test_a_transient_error_twice_then_success_runs_three_times_with_backoff(
    broker: RedisBroker, settings: QueueSettings
) -> None:
    attempts: list[float] = []

    def flaky(job: Job) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise UnavailableError("push provider down")
        if len(attempts) == 2:
            raise ConnectionError("any non-AmsError is retried too")

    queue = _queue(broker, settings, {"flaky": flaky})
    queue.enqueue(Job("flaky", {"n": 1}, "flaky-1"))
    with running_worker(broker) as worker:
        drain(broker, worker, settings.queue)
    assert len(attempts) == 3
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert all(gap >= settings.min_backoff_ms / 1000 for gap in gaps), gaps
    assert dead_letters(broker) == []


def test_a_permanent_error_runs_once_and_is_a_dead_letter_with_its_error(
    broker: RedisBroker, settings: QueueSettings
) -> None:
    calls: list[Job] = []

    def refuse(job: Job) -> None:
        calls.append(job)
        raise ConflictError("the session is already completed")

    queue = _queue(broker, settings, {"refuse": refuse})
    queue.enqueue(Job("refuse", {"session_id": "S-1"}, "refuse-1"))
    with running_worker(broker) as worker:
        drain(broker, worker, settings.queue)
        time.sleep(0.3)  # a retry would be due by now
        drain(broker, worker, settings.queue)
    assert len(calls) == 1
    [letter] = dead_letters(broker)
    assert (letter.job_name, letter.idempotency_key) == ("refuse", "refuse-1")
    assert letter.error == "ConflictError: the session is already completed"


def test_exhausted_retries_leave_a_logged_dead_letter_that_can_be_requeued(
    broker: RedisBroker, settings: QueueSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(settings, max_retries=2, min_backoff_ms=50, max_backoff_ms=100)
    broken = threading.Event()
    broken.set()
    calls: list[Job] = []

    def sometimes(job: Job) -> None:
        calls.append(job)
        if broken.is_set():
            raise UnavailableError("still down")

    queue = _queue(broker, settings, {"always.down": sometimes})
    caplog.set_level(logging.WARNING, logger="ams_adapters.dramatiq")
    started = time.time()
    queue.enqueue(Job("always.down", {"student_id": "ST-1", "n": 7}, "down-1"))
    with running_worker(broker) as worker:
        drain(broker, worker, settings.queue)
    assert len(calls) == 3  # the first run and max_retries=2 retries

    xq = f"{settings.namespace}:{settings.queue}.XQ"
    assert broker.client.zcard(xq) == 1
    [letter] = dead_letters(broker)
    assert letter.job_name == "always.down"
    assert letter.idempotency_key == "down-1"
    assert dict(letter.payload) == {"student_id": "ST-1", "n": 7}
    assert letter.error == "UnavailableError: still down"
    assert letter.failed_at is not None
    assert started - 1 <= letter.failed_at.timestamp() <= time.time() + 1

    errors = [
        r
        for r in caplog.records
        if r.name == "ams_adapters.dramatiq" and r.levelno == logging.ERROR
    ]
    assert len(errors) == 1
    text = errors[0].getMessage()
    assert "always.down" in text
    assert "down-1" in text
    assert "2 retries" in text
    assert "UnavailableError: still down" in text

    assert requeue_dead_letters(broker) == 1
    assert broker.client.zcard(xq) == 0
    assert dead_letters(broker) == []
    assert broker.client.llen(f"{settings.namespace}:{settings.queue}") == 1
    broken.clear()
    with running_worker(broker) as worker:
        drain(broker, worker, settings.queue)
    assert len(calls) == 4
    assert dead_letters(broker) == []
    assert requeue_dead_letters(broker) == 0


def test_an_unreachable_queue_raises_unavailable_and_keeps_no_key(
    settings: QueueSettings, redis_client: redis.Redis
) -> None:
    down = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0", socket_timeout_s=1)
    broker = make_broker(down)
    try:
        queue = _queue(broker, down, {"job": lambda job: None})
        with pytest.raises(UnavailableError):
            queue.enqueue(Job("job", {}, "down-key"))
        with pytest.raises(UnavailableError):
            queue.enqueue(Job("job", {}))

        # the key store is up but the broker is down: the marker set first is removed again
        split_broker = make_broker(down)
        split = DramatiqJobQueue(split_broker, redis_client, {"job": lambda job: None}, down)
        with pytest.raises(UnavailableError):
            split.enqueue(Job("job", {}, "split-key"))
        split_broker.client.close()
        assert redis_client.exists(idempotency_key(down.namespace, "split-key")) == 0
        assert redis_client.exists(idempotency_key(down.namespace, "down-key")) == 0
    finally:
        broker.client.close()

    # once the queue is reachable again the same key is accepted
    up = make_broker(settings)
    try:
        ran: list[Job] = []
        queue = _queue(up, settings, {"job": ran.append})
        queue.enqueue(Job("job", {}, "split-key"))
        with running_worker(up) as worker:
            drain(up, worker, settings.queue)
        assert ran == [Job("job", {}, "split-key")]
    finally:
        up.client.close()


def test_a_burst_of_spread_jobs_is_shared_by_every_worker_instead_of_fetched_by_the_first(
    settings: QueueSettings,
) -> None:
    # two brokers with their own workers stand for two `ams worker` processes
    options = dataclasses.replace(settings, prefetch=64, threads=4)
    ran_by: list[str] = []
    lock = threading.Lock()

    def handler_of(worker: str) -> JobHandler:
        def run(job: Job) -> None:
            time.sleep(0.2)
            with lock:
                ran_by.append(worker)

        return run

    brokers = [make_broker(options) for _ in range(2)]
    queues = [
        DramatiqJobQueue(b, b.client, {"part": handler_of(f"w{n}")}, options, spread={"part"})
        for n, b in enumerate(brokers)
    ]
    stop = threading.Event()
    ready = [threading.Event() for _ in brokers]
    threads = [
        threading.Thread(
            target=run_worker, args=(b, options, stop), kwargs={"on_ready": r.set}, daemon=True
        )
        for b, r in zip(brokers, ready, strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        assert all(r.wait(10) for r in ready)
        for part in range(6):
            queues[0].enqueue(Job("part", {"part": part}))
        deadline = time.monotonic() + 20
        while len(ran_by) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
        for b in brokers:
            b.client.close()
    assert len(ran_by) == 6
    # one at a time per worker: each took about half, not all six
    assert 2 <= ran_by.count("w0") <= 4
