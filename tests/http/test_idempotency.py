"""``Idempotency-Key``: a retried state-changing request gets the first answer, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from dishka import Provider, decorate
from litestar.testing import TestClient

from ams_core.use_cases import Broadcast, BroadcastCommand, BroadcastResult
from ams_http.edge.stores import EdgeStore, IdempotencyRecord, MemoryEdgeStore, RedisEdgeStore
from ams_http.settings import HttpSettings
from tests.http.conftest import World, later
from tests.http.edge_support import (
    bind_devices,
    check_in_path,
    device,
    make_app,
    open_attendance,
)
from tests.redis_support import REDIS_URL

NOTICE = {"title": "Lab moved", "body": "Room 204 today"}


def _key(world: World, who: str, key: str) -> dict[str, str]:
    return {**world.headers(who), "Idempotency-Key": key}


def _broadcast(client: Any, world: World, who: str, key: str | None, body: Any = NOTICE) -> Any:
    headers = _key(world, who, key) if key is not None else world.headers(who)
    return client.post("/api/v1/notifications", json=body, headers=headers)


def _history(client: Any, world: World, who: str = "a.cr") -> list[Any]:
    answer = client.get("/api/v1/notifications", headers=world.headers(who))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_retried_check_in_gets_the_same_answer_and_leaves_one_mark(world: World) -> None:
    bind_devices(world)
    code = open_attendance(world.client, world)
    body = {"code": code, "deviceId": device("a.student")}
    path = check_in_path(world.session_a)
    first = world.client.post(path, json=body, headers=_key(world, "a.student", "tap-1"))
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    later(world, 7)  # past "late after": the replay still answers what the first one said
    retry = world.client.post(path, json=body, headers=_key(world, "a.student", "tap-1"))
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["content-type"] == first.headers["content-type"]
    uow = world.uow()
    with uow.for_institution(world.a.id):
        marks = uow.marks.list_for_session(world.session_a)
    assert [m.student_id for m in marks] == [world.a.students[0].id]


def test_a_retried_wrong_code_is_not_counted_twice(world: World) -> None:
    """The handler does not run again: the attempts left stay where the first answer put them."""
    bind_devices(world)
    code = open_attendance(world.client, world)
    wrong = "000000" if code != "000000" else "111111"
    body = {"code": wrong, "deviceId": device("a.student")}
    path = check_in_path(world.session_a)
    first = world.client.post(path, json=body, headers=_key(world, "a.student", "tap-1"))
    assert first.status_code == 400, first.text
    assert first.headers["content-type"].startswith("application/problem+json")
    retry = world.client.post(path, json=body, headers=_key(world, "a.student", "tap-1"))
    assert retry.status_code == 400
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["content-type"].startswith("application/problem+json")
    assert retry.json()["attemptsLeft"] == first.json()["attemptsLeft"]
    fresh = world.client.post(path, json=body, headers=_key(world, "a.student", "tap-2"))
    assert fresh.json()["attemptsLeft"] == first.json()["attemptsLeft"] - 1


def test_a_retried_broadcast_sends_one_broadcast(world: World) -> None:
    first = _broadcast(world.client, world, "a.cr", "notice-1")
    assert first.status_code == 201, first.text
    retry = _broadcast(world.client, world, "a.cr", "notice-1")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(_history(world.client, world)) == 1
    # without a key, or with another key, it is a new broadcast
    assert _broadcast(world.client, world, "a.cr", "notice-2").json()["id"] != first.json()["id"]
    assert _broadcast(world.client, world, "a.cr", None).status_code == 201
    assert len(_history(world.client, world)) == 3


def test_the_same_key_for_another_request_is_refused(world: World) -> None:
    assert _broadcast(world.client, world, "a.cr", "notice-1").status_code == 201
    other = _broadcast(world.client, world, "a.cr", "notice-1", {**NOTICE, "body": "Room 301"})
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"
    assert len(_history(world.client, world)) == 1
    # the same key on another path is another key
    reset = world.client.post(
        f"/api/v1/students/{world.a.students[0].id}/device-reset",
        headers=_key(world, "a.admin", "notice-1"),
    )
    assert reset.status_code == 200
    assert "idempotent-replayed" not in reset.headers


def test_two_principals_with_the_same_key_do_not_see_each_other(world: World) -> None:
    mine = _broadcast(world.client, world, "a.cr", "shared-key")
    theirs = _broadcast(world.client, world, "b.cr", "shared-key", {**NOTICE, "title": "Other"})
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert len(_history(world.client, world, "a.cr")) == 1
    assert len(_history(world.client, world, "b.cr")) == 1
    # a request refused before the handler (403) is kept for its principal only
    student = _broadcast(world.client, world, "a.student", "shared-key")
    assert student.status_code == 403
    assert _broadcast(world.client, world, "a.student", "shared-key").headers[
        "idempotent-replayed"
    ] == ("true")


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_refused(world: World, key: str) -> None:
    headers = [(name.encode(), value.encode()) for name, value in world.headers("a.cr").items()]
    headers.append((b"idempotency-key", key.encode("latin-1")))
    answer = world.client.post("/api/v1/notifications", json=NOTICE, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid_idempotency_key"
    assert _history(world.client, world) == []


def test_sign_in_routes_ignore_the_key(world: World) -> None:
    body = {"email": world.a.students[0].email, "password": "not the password"}
    for _ in range(2):
        answer = world.client.post(
            "/api/v1/auth/password", json=body, headers={"Idempotency-Key": "k"}
        )
        assert answer.status_code == 401
        assert "idempotent-replayed" not in answer.headers


class FlakyBroadcast(Provider):
    """The first broadcast fails with an unexpected error (a 500), the next ones work."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @decorate
    def flaky(self, inner: Broadcast) -> Broadcast:
        provider = self

        class Flaky:
            def __call__(self, command: BroadcastCommand) -> BroadcastResult:
                provider.calls += 1
                if provider.calls == 1:
                    raise RuntimeError("push provider exploded")
                return inner(command)

        return Flaky()  # type: ignore[return-value]


def test_a_server_error_is_not_kept(world: World) -> None:
    flaky = FlakyBroadcast()
    with TestClient(app=make_app(world, HttpSettings(), flaky)) as client:
        failed = _broadcast(client, world, "a.cr", "notice-1")
        assert failed.status_code == 500
        retry = _broadcast(client, world, "a.cr", "notice-1")
        assert retry.status_code == 201, retry.text
        assert "idempotent-replayed" not in retry.headers
        assert (
            _broadcast(client, world, "a.cr", "notice-1").headers["idempotent-replayed"] == "true"
        )
    assert flaky.calls == 2


class SlowBroadcast(Provider):
    """Broadcasts wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.release = threading.Event()

    @decorate
    def slow(self, inner: Broadcast) -> Broadcast:
        provider = self

        class Slow:
            def __call__(self, command: BroadcastCommand) -> BroadcastResult:
                provider.started.set()
                assert provider.release.wait(10)
                return inner(command)

        return Slow()  # type: ignore[return-value]


@pytest.mark.redis
def test_a_duplicate_while_the_first_is_in_flight_in_another_process_is_refused(
    world: World, redis_prefix: str
) -> None:
    # handlers run on their process's event loop (ADR 0020): a duplicate arrives while the
    # first is in flight at another process, which the shared store tells about
    slow = SlowBroadcast()
    settings = HttpSettings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    answers: dict[str, Any] = {}
    with (
        TestClient(app=make_app(world, settings, slow)) as busy,
        TestClient(app=make_app(world, settings)) as other,
    ):

        def first() -> None:
            answers["first"] = _broadcast(busy, world, "a.cr", "k1")

        in_flight = threading.Thread(target=first)
        in_flight.start()
        try:
            assert slow.started.wait(10)
            answers["second"] = _broadcast(other, world, "a.cr", "k1")
        finally:
            slow.release.set()
            in_flight.join(10)
        answers["third"] = _broadcast(other, world, "a.cr", "k1")

    assert answers["first"].status_code == 201, answers["first"].text
    assert answers["second"].status_code == 409
    assert answers["second"].json()["code"] == "idempotency_in_flight"
    assert answers["third"].status_code == 201
    assert answers["third"].headers["idempotent-replayed"] == "true"
    assert answers["third"].json() == answers["first"].json()


@pytest.fixture
def redis_clients(world: World, redis_prefix: str) -> Iterator[tuple[Any, Any]]:
    settings = HttpSettings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    with (
        TestClient(app=make_app(world, settings)) as first,
        TestClient(app=make_app(world, settings)) as second,
    ):
        yield first, second


@pytest.mark.redis
def test_the_answer_is_kept_in_redis_for_every_process(
    world: World, redis_clients: tuple[Any, Any]
) -> None:
    first, second = redis_clients
    answer = _broadcast(first, world, "a.cr", "notice-1")
    assert answer.status_code == 201
    replay = _broadcast(second, world, "a.cr", "notice-1")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == answer.json()
    mismatch = _broadcast(second, world, "a.cr", "notice-1", {**NOTICE, "title": "Else"})
    assert mismatch.json()["code"] == "idempotency_key_reused"
    assert len(_history(first, world)) == 1


async def _claim_contract(store: EdgeStore) -> None:
    token, existing = await store.claim("idem:k", "fp-1", 60)
    assert token
    assert existing is None
    again, seen = await store.claim("idem:k", "fp-2", 60)
    assert again == ""
    assert seen is not None
    assert (seen.state, seen.fingerprint) == ("in_flight", "fp-1")
    await store.release("idem:k", "not-the-token")  # someone else's claim stays
    assert (await store.claim("idem:k", "fp-1", 60))[1] is not None
    await store.release("idem:k", token)
    token, existing = await store.claim("idem:k", "fp-1", 60)
    assert existing is None
    done = IdempotencyRecord("done", "fp-1", token, 201, [("content-type", "x/y")], b"{}")
    await store.finish("idem:k", done, 60)
    assert (await store.claim("idem:k", "fp-1", 60))[1] == done
    await store.aclose()


def test_the_memory_store_claims_finishes_and_releases() -> None:
    anyio.run(_claim_contract, MemoryEdgeStore())


@pytest.mark.redis
def test_the_redis_store_claims_finishes_and_releases(redis_prefix: str) -> None:
    anyio.run(_claim_contract, RedisEdgeStore(REDIS_URL, redis_prefix))
