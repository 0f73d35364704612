"""Rate limits: sign-in per client IP, check-in per principal and per IP, the rest per principal.

Each test builds an app with small limits over the usual world; ``x-test-peer`` chooses the
address the request comes from (see ``edge_support.with_peer_header``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from ams_http.edge.stores import Limit, MemoryEdgeStore, retry_after
from ams_http.settings import HttpSettings
from tests.http.conftest import World
from tests.http.edge_support import (
    bind_devices,
    check_in_path,
    device,
    from_ip,
    make_app,
    open_attendance,
)
from tests.redis_support import REDIS_URL

NAT = "203.0.113.10"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def client_with(world: World) -> Iterator[Any]:
    """``client_with(**settings)``: a test client of an app with those edge settings."""
    clients: list[TestClient[Any]] = []

    def build(**settings: Any) -> TestClient[Any]:
        client = TestClient(app=make_app(world, HttpSettings(**settings)))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def assert_rate_limited(answer: Any) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "rate_limited"
    assert problem["status"] == 429
    assert 1 <= int(answer.headers["retry-after"]) <= 120


def _password_sign_in(client: Any, world: World, ip: str, **headers: str) -> Any:
    return client.post(
        "/api/v1/auth/password",
        json={"email": world.a.students[0].email, "password": "not the password"},
        headers={"x-test-peer": ip, **headers},
    )


def test_sign_in_is_limited_per_client_ip(client_with: Any, world: World) -> None:
    client = client_with(sign_in_per_minute=3)
    for _ in range(2):
        assert _password_sign_in(client, world, NAT).status_code == 401
    # Google and password sign-in share the budget of the address
    google = client.post(
        "/api/v1/auth/google", json={"idToken": "x.y.z"}, headers={"x-test-peer": NAT}
    )
    assert google.status_code == 401
    assert_rate_limited(_password_sign_in(client, world, NAT))
    assert_rate_limited(
        client.post("/api/v1/auth/google", json={"idToken": "x.y.z"}, headers={"x-test-peer": NAT})
    )
    # another address is not affected
    assert _password_sign_in(client, world, ELSEWHERE).status_code == 401


def test_refresh_has_its_own_per_ip_budget(client_with: Any, world: World) -> None:
    client = client_with(sign_in_per_minute=1, refresh_per_minute=2)
    body = {"refreshToken": "inst-a.no-such-sign-in.c2VjcmV0"}
    peer = {"x-test-peer": NAT}
    assert _password_sign_in(client, world, NAT).status_code == 401
    assert_rate_limited(_password_sign_in(client, world, NAT))
    for _ in range(2):
        assert client.post("/api/v1/auth/refresh", json=body, headers=peer).status_code == 401
    assert_rate_limited(client.post("/api/v1/auth/refresh", json=body, headers=peer))
    other = {"x-test-peer": ELSEWHERE}
    assert client.post("/api/v1/auth/refresh", json=body, headers=other).status_code == 401


def test_forwarded_for_counts_only_from_a_trusted_proxy(client_with: Any, world: World) -> None:
    client = client_with(sign_in_per_minute=1, trusted_proxies=("10.0.0.0/8",))
    proxy = "10.1.2.3"
    first = _password_sign_in(client, world, proxy, **{"x-forwarded-for": NAT})
    assert first.status_code == 401
    assert_rate_limited(_password_sign_in(client, world, proxy, **{"x-forwarded-for": NAT}))
    # behind the proxy, another client has its own budget
    other = _password_sign_in(client, world, proxy, **{"x-forwarded-for": ELSEWHERE})
    assert other.status_code == 401
    # an untrusted peer cannot dodge its limit by inventing X-Forwarded-For
    assert _password_sign_in(client, world, ELSEWHERE).status_code == 429
    spoofed = _password_sign_in(client, world, ELSEWHERE, **{"x-forwarded-for": "192.0.2.99"})
    assert_rate_limited(spoofed)


def _check_in(client: Any, world: World, who: str, code: str, ip: str) -> Any:
    session = world.session_a if who.startswith("a.") else world.session_b
    return client.post(
        check_in_path(session),
        json={"code": code, "deviceId": device(who)},
        headers=from_ip(world, who, ip),
    )


def test_check_in_is_limited_per_principal(client_with: Any, world: World) -> None:
    client = client_with(check_in_per_minute=2)
    bind_devices(world)
    code = open_attendance(client, world)
    first = _check_in(client, world, "a.student", code, NAT)
    assert first.status_code == 200, first.text
    assert _check_in(client, world, "a.student", code, NAT).status_code == 200  # idempotent
    assert_rate_limited(_check_in(client, world, "a.student", code, NAT))
    # a classmate on the same network is not affected
    assert _check_in(client, world, "a.cr", code, NAT).status_code == 200


def test_check_in_is_limited_per_client_ip(client_with: Any, world: World) -> None:
    client = client_with(check_in_per_minute=10, check_in_per_ip_per_minute=2)
    bind_devices(world)
    code_a = open_attendance(client, world, "a")
    code_b = open_attendance(client, world, "b")
    assert _check_in(client, world, "a.student", code_a, NAT).status_code == 200
    assert _check_in(client, world, "a.cr", code_a, NAT).status_code == 200
    # a third student behind the same address is refused, whoever they are
    assert_rate_limited(_check_in(client, world, "b.student", code_b, NAT))
    # the same student from another address is not
    assert _check_in(client, world, "b.student", code_b, ELSEWHERE).status_code == 200


def test_check_in_per_ip_default_is_generous_and_separate() -> None:
    settings = HttpSettings.from_env({})
    assert settings.check_in_per_ip_per_minute >= 3000
    assert (
        HttpSettings.from_env({"AMS_RATE_CHECK_IN_PER_IP": "50"}).check_in_per_ip_per_minute == 50
    )
    assert HttpSettings.from_env({"AMS_RATE_REQUESTS": "7"}).requests_per_minute == 7
    with pytest.raises(ValueError, match="AMS_"):
        HttpSettings.from_env({"AMS_RATE_CHECK_IN_PER_IP": "lots"})


def test_other_requests_are_limited_per_principal(client_with: Any, world: World) -> None:
    client = client_with(requests_per_minute=3)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
    assert_rate_limited(client.get("/api/v1/me", headers=world.headers("a.student")))
    assert_rate_limited(client.get("/api/v1/me/schedule", headers=world.headers("a.student")))
    # another principal, even from the same address, is not affected
    assert client.get("/api/v1/me", headers=world.headers("a.cr")).status_code == 200
    # the probes are never limited
    for _ in range(5):
        assert client.get("/health/live").status_code == 200


def test_a_limit_of_zero_is_off(client_with: Any, world: World) -> None:
    client = client_with(requests_per_minute=0)
    for _ in range(5):
        assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200


def test_the_sliding_window_lets_requests_back_in_as_the_window_slides() -> None:
    store = MemoryEdgeStore()
    limit = Limit("requests", "someone", 2, window=60)

    async def scenario() -> None:
        assert await store.hit([limit], now=600.0) is None
        assert await store.hit([limit], now=610.0) is None
        refusal = await store.hit([limit], now=620.0)
        assert refusal is not None
        assert refusal.retry_after == retry_after(limit, 2, 0, 620.0)
        # in the next window the two hits still weigh 2 × 50/60: one more would make 2.67
        assert await store.hit([limit], now=670.0) is not None
        # ... and 2 × 15/60 later on: one more fits
        assert await store.hit([limit], now=705.0) is None

    anyio.run(scenario)
    # a refused hit is told to come back when one more would fit
    assert retry_after(limit, current=2, previous=0, now=620.0) == 70
    assert retry_after(Limit("x", "y", 10), current=3, previous=14, now=630.0) == 5


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=90.0), min_size=1, max_size=40),
    limit=st.integers(min_value=1, max_value=6),
    subjects=st.lists(st.sampled_from(["ann", "bob"]), min_size=40, max_size=40),
)
def test_the_memory_store_decides_as_the_sliding_window_estimate_says(
    gaps: list[float], limit: int, subjects: list[str]
) -> None:
    """Each hit is refused exactly when previous × its remaining share + current + 1 passes
    the limit, counting only the hits that were let through, per subject."""
    store = MemoryEdgeStore()
    window = 60
    passed: dict[str, list[float]] = {"ann": [], "bob": []}

    async def scenario() -> None:
        now = 1_000.0
        for gap, subject in zip(gaps, subjects, strict=False):
            now += gap
            index = math.floor(now / window)
            counted = [math.floor(t / window) for t in passed[subject]]
            current, previous = counted.count(index), counted.count(index - 1)
            weight = (window - (now - index * window)) / window
            expected_refusal = previous * weight + current + 1 > limit
            refusal = await store.hit([Limit("requests", subject, limit, window)], now=now)
            assert (refusal is not None) == expected_refusal
            if refusal is None:
                passed[subject].append(now)
            else:
                assert refusal.retry_after == retry_after(refusal.limit, current, previous, now)

    anyio.run(scenario)


@pytest.mark.redis
def test_two_app_processes_share_the_limit_in_redis(
    world: World, redis_prefix: str, client_with: Any
) -> None:
    settings = {"requests_per_minute": 3, "redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    first, second = client_with(**settings), client_with(**settings)
    student = world.headers("a.student")
    assert first.get("/api/v1/me", headers=student).status_code == 200
    assert second.get("/api/v1/me", headers=student).status_code == 200
    assert first.get("/api/v1/me", headers=student).status_code == 200
    assert_rate_limited(second.get("/api/v1/me", headers=student))
    assert_rate_limited(first.get("/api/v1/me", headers=student))
    assert first.get("/api/v1/me", headers=world.headers("a.cr")).status_code == 200
    # the counters live under the prefix of this test, one series per principal
    store = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    keys: list[str] = list(store.scan_iter(match=redis_prefix + "rl:requests:*"))
    store.close()
    subjects = {key.removeprefix(redis_prefix).split(":")[3] for key in keys}
    assert len(subjects) == 2


@pytest.mark.redis
def test_check_in_limits_are_shared_in_redis(
    world: World, redis_prefix: str, client_with: Any
) -> None:
    settings = {"check_in_per_minute": 1, "redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    first, second = client_with(**settings), client_with(**settings)
    bind_devices(world)
    code = open_attendance(first, world)
    assert _check_in(first, world, "a.student", code, NAT).status_code == 200
    assert_rate_limited(_check_in(second, world, "a.student", code, NAT))


def test_without_the_store_sensitive_limits_count_in_the_process(
    client_with: Any, world: World
) -> None:
    """Redis down: a class still checks in and people still sign in, within per-process
    limits; the general limit lets requests through."""
    client = client_with(
        redis_url="redis://127.0.0.1:1/0", redis_prefix="unused:", sign_in_per_minute=1
    )
    bind_devices(world)
    code = open_attendance(client, world)
    assert _check_in(client, world, "a.student", code, NAT).status_code == 200
    first = _password_sign_in(client, world, NAT)
    assert first.status_code != 503, first.text
    assert_rate_limited(_password_sign_in(client, world, NAT))
    assert client.get("/api/v1/me", headers=world.headers("a.student")).status_code == 200
