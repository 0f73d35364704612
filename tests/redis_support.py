"""The real Redis the tests use (``AMS_TEST_REDIS_URL``): under ``CI=true`` a missing Redis
fails the test, elsewhere it skips with the reason."""

from __future__ import annotations

import os

import pytest
import redis

REDIS_URL = os.environ.get("AMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_problem() -> str | None:
    """Why Redis cannot be used, or ``None``."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return f"Redis at {REDIS_URL} is not reachable: {error}"
    finally:
        client.close()
    return None


def require_redis() -> None:
    """Skip the test without Redis, or fail it in CI."""
    problem = redis_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
        pytest.fail(f"CI=true needs Redis: {problem}")
    pytest.skip(problem)
