"""Fixtures for the dramatiq job queue: a private Redis namespace per test, a worker."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq.broker import Broker

from tests.redis_support import REDIS_URL, require_redis


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A broker namespace no other test uses (CI=true: a missing Redis fails the test)."""
    require_redis()
    namespace = f"ams-test-{uuid.uuid4().hex}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=namespace + ":*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_namespace: str) -> Iterator[redis.Redis]:
    """A plain client on the test Redis (after the namespace fixture checked it is up)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    yield client
    client.close()


@contextlib.contextmanager
def running_worker(broker: Broker, *, threads: int = 2) -> Iterator[dramatiq.Worker]:
    """A dramatiq worker consuming ``broker``'s queues in this process, stopped on exit."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(timeout=10_000)


def drain(broker: Broker, worker: dramatiq.Worker, queue: str, timeout_ms: int = 20_000) -> None:
    """Wait until ``queue`` (and its delay queue) is empty and the worker is idle."""
    broker.join(queue, timeout=timeout_ms)
    worker.join()
