"""The dramatiq job queue on dramatiq's StubBroker: no Redis needed."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from typing import cast

import dramatiq
import pytest
import redis
from dramatiq.broker import Consumer
from dramatiq.brokers.stub import StubBroker

from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    PermanentJobError,
    QueueSettings,
    broker_middleware,
    idempotency_key,
    run_worker,
)
from ams_core.domain import NotFoundError
from ams_core.ports import Job, JobHandler

pytestmark = pytest.mark.timeout(30)

SETTINGS = QueueSettings("redis://unused", namespace="stub", queue="stub", min_backoff_ms=10)


class FakeKeys:
    """The two Redis commands the queue uses for idempotency keys, in a dict."""

    def __init__(self) -> None:
        self.keys: dict[str, object] = {}
        self.expiries: dict[str, int | None] = {}

    def set(
        self, name: str, value: object, *, nx: bool = False, ex: int | None = None
    ) -> bool | None:
        if nx and name in self.keys:
            return None
        self.keys[name] = value
        self.expiries[name] = ex
        return True

    def delete(self, *names: str) -> int:
        return sum(self.keys.pop(name, None) is not None for name in names)


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    broker = StubBroker(middleware=broker_middleware(SETTINGS))
    yield broker
    broker.close()


@pytest.fixture
def keys() -> FakeKeys:
    return FakeKeys()


@pytest.fixture
def worker(broker: StubBroker) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def _queue(broker: StubBroker, keys: FakeKeys, handler: JobHandler) -> DramatiqJobQueue:
    return DramatiqJobQueue(
        broker, cast(redis.Redis, keys), {"stub.job": handler, "stub.other": handler}, SETTINGS
    )


def test_an_enqueued_job_reaches_its_handler_rebuilt(
    broker: StubBroker, keys: FakeKeys, worker: dramatiq.Worker
) -> None:
    ran: list[Job] = []
    queue = _queue(broker, keys, ran.append)
    job = Job("stub.job", {"session_id": "S-1", "n": 3, "flag": True, "none": None}, "k-1")
    queue.enqueue(job)
    broker.join(SETTINGS.queue)
    worker.join()
    assert ran == [job]
    assert keys.keys == {idempotency_key("stub", "k-1"): 1}
    assert keys.expiries[idempotency_key("stub", "k-1")] == SETTINGS.key_ttl_seconds


def test_a_payload_member_named_like_the_key_argument_still_fits(
    broker: StubBroker, keys: FakeKeys, worker: dramatiq.Worker
) -> None:
    ran: list[Job] = []
    queue = _queue(broker, keys, ran.append)
    job = Job("stub.job", {"key": "payload", "idempotency_key": "also payload"}, "real-key")
    queue.enqueue(job)
    broker.join(SETTINGS.queue)
    worker.join()
    assert ran == [job]


def test_the_same_key_twice_runs_the_handler_once(
    broker: StubBroker, keys: FakeKeys, worker: dramatiq.Worker
) -> None:
    ran: list[Job] = []
    queue = _queue(broker, keys, ran.append)
    queue.enqueue(Job("stub.job", {"n": 1}, "same"))
    queue.enqueue(Job("stub.job", {"n": 1}, "same"))
    queue.enqueue(Job("stub.other", {"n": 2}, "same"))
    queue.enqueue(Job("stub.job", {"n": 3}))
    queue.enqueue(Job("stub.job", {"n": 3}))
    broker.join(SETTINGS.queue)
    worker.join()
    assert sorted(job.payload["n"] for job in ran) == [1, 3, 3]  # type: ignore[type-var]


def test_an_unknown_job_name_is_a_lookup_error(broker: StubBroker, keys: FakeKeys) -> None:
    queue = _queue(broker, keys, lambda job: None)
    with pytest.raises(LookupError, match="nope"):
        queue.enqueue(Job("nope", {}, "k"))
    assert keys.keys == {}


def test_actors_live_on_the_given_broker_not_the_global_one(broker: StubBroker) -> None:
    _queue(broker, FakeKeys(), lambda job: None)
    assert {"stub.job", "stub.other"} <= set(broker.actors)
    actor = broker.get_actor("stub.job")
    assert actor.queue_name == SETTINGS.queue
    assert actor.options["max_retries"] == SETTINGS.max_retries
    assert actor.options["time_limit"] == SETTINGS.time_limit_ms
    assert actor.options["max_age"] == SETTINGS.max_age_ms
    assert actor.options["throws"] == (PermanentJobError,)


def test_a_permanent_error_runs_once_and_is_logged_as_a_warning(
    broker: StubBroker,
    keys: FakeKeys,
    worker: dramatiq.Worker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Job] = []

    def handler(job: Job) -> None:
        calls.append(job)
        raise NotFoundError("session", "S-9")

    queue = _queue(broker, keys, handler)
    caplog.set_level(logging.INFO)
    queue.enqueue(Job("stub.job", {"session_id": "S-9"}, "perm-1"))
    broker.join(SETTINGS.queue, fail_fast=False)
    worker.join()
    assert len(calls) == 1
    assert len(broker.dead_letters) == 1
    warnings = [
        r
        for r in caplog.records
        if r.name == "ams_adapters.dramatiq" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "stub.job" in warnings[0].getMessage()
    assert "perm-1" in warnings[0].getMessage()
    assert "session S-9 was not found" in warnings[0].getMessage()


class PrefetchRecordingBroker(StubBroker):
    """A StubBroker noting the prefetch each consumer asks for."""

    def __init__(self, settings: QueueSettings) -> None:
        super().__init__(middleware=broker_middleware(settings))
        self.prefetches: dict[str, int] = {}

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 100) -> Consumer:
        self.prefetches[queue_name] = prefetch
        return super().consume(queue_name, prefetch, timeout)


def test_run_worker_runs_jobs_with_the_configured_prefetch_until_stopped(
    keys: FakeKeys,
) -> None:
    settings = dataclasses.replace(SETTINGS, prefetch=64, threads=2)
    broker = PrefetchRecordingBroker(settings)
    ran: list[Job] = []
    queue = _queue(broker, keys, ran.append)
    with _worker_thread(broker, settings):
        queue.enqueue(Job("stub.job", {"n": 1}, "run-worker"))
        broker.join(settings.queue)
        _wait_for(ran, 1)
    assert ran == [Job("stub.job", {"n": 1}, "run-worker")]
    assert broker.prefetches[settings.queue] == 64
    broker.close()


@contextlib.contextmanager
def _worker_thread(broker: StubBroker, settings: QueueSettings) -> Iterator[None]:
    """``run_worker`` in a thread, ready on entry, stopped (and checked gone) on exit."""
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(broker, settings, stop), kwargs={"on_ready": ready.set}
    )
    thread.start()
    try:
        assert ready.wait(10)
        yield
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()


def _wait_for(ran: list[Job], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(ran) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_job_older_than_max_age_is_not_run_and_is_logged(
    keys: FakeKeys, caplog: pytest.LogCaptureFixture
) -> None:
    settings = dataclasses.replace(SETTINGS, max_age_ms=50)
    broker = StubBroker(middleware=broker_middleware(settings))
    ran: list[Job] = []
    queue = DramatiqJobQueue(broker, cast(redis.Redis, keys), {"stub.job": ran.append}, settings)
    caplog.set_level(logging.WARNING, logger="ams_adapters.dramatiq")
    queue.enqueue(Job("stub.job", {}, "stale"))
    time.sleep(0.1)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        broker.join(settings.queue, fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
    assert ran == []
    assert len(broker.dead_letters) == 1
    assert any(
        "stale" in r.getMessage() and "age limit" in r.getMessage()
        for r in caplog.records
        if r.name == "ams_adapters.dramatiq"
    )


def test_spread_jobs_go_to_their_own_queue_which_a_worker_takes_one_at_a_time(
    keys: FakeKeys,
) -> None:
    settings = dataclasses.replace(SETTINGS, prefetch=64, threads=2)
    broker = PrefetchRecordingBroker(settings)
    ran: list[Job] = []
    handlers: dict[str, JobHandler] = {"stub.job": ran.append, "stub.part": ran.append}
    queue = DramatiqJobQueue(
        broker, cast(redis.Redis, keys), handlers, settings, spread={"stub.part"}
    )
    with _worker_thread(broker, settings):
        queue.enqueue(Job("stub.part", {"part": 0}))
        queue.enqueue(Job("stub.job", {"n": 1}))
        broker.join(settings.spread_queue)
        broker.join(settings.queue)
        _wait_for(ran, 2)
    assert sorted(j.name for j in ran) == ["stub.job", "stub.part"]
    assert broker.prefetches[settings.queue] == 64
    assert broker.prefetches[settings.spread_queue] == 1
    broker.close()
