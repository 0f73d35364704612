"""``/health/ready`` probes Redis too when the edge uses it; a 503 problem names what is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from ams_http.edge.stores import RedisHealthCheck
from ams_http.settings import HttpSettings
from tests.http.conftest import World
from tests.http.edge_support import make_app
from tests.redis_support import REDIS_URL


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port nothing listens on (bound, never listening, so nothing else takes it)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield int(holder.getsockname()[1])


def test_without_redis_only_the_adapters_checks_run(world: World) -> None:
    answer = world.client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "checks": []}


@pytest.mark.redis
def test_a_reachable_redis_is_ready(world: World, redis_prefix: str) -> None:
    settings = HttpSettings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    with TestClient(app=make_app(world, settings)) as client:
        answer = client.get("/health/ready")
    assert answer.status_code == 200, answer.text
    (check,) = answer.json()["checks"]
    assert check["name"] == "redis"
    assert check["ok"] is True
    assert check["latencyMs"] >= 0


def test_an_unreachable_redis_is_a_503_problem_naming_it(world: World, closed_port: int) -> None:
    settings = HttpSettings(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    with TestClient(app=make_app(world, settings)) as client:
        answer = client.get("/health/ready")
        live = client.get("/health/live")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "5"
    problem = answer.json()
    assert problem["code"] == "not_ready"
    assert problem["status"] == 503
    assert "redis" in problem["detail"]
    assert [(c["name"], c["ok"]) for c in problem["checks"]] == [("redis", False)]
    assert live.status_code == 200  # liveness touches no dependency


def test_the_redis_probe_never_raises(closed_port: int) -> None:
    check = RedisHealthCheck(f"redis://127.0.0.1:{closed_port}/0", timeout=0.5)
    status = check.check()
    check.close()
    assert status.name == "redis"
    assert not status.ok
    assert status.detail
