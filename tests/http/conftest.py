"""The API over the memory adapters, two institutions, one token per role."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from dishka import Provider, Scope, provide
from litestar.testing import TestClient

from ams_adapters.composition import (
    IdentityProvider,
    MemoryPersistenceProvider,
    UseCaseProvider,
)
from ams_adapters.identity import Argon2PasswordHasher, IdentitySettings, JwtAccessTokens
from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore, SeededRandomSource
from ams_core.domain import Faculty, FacultyId, SessionId
from ams_core.ports import Clock, RandomSource
from ams_core.testing.builders import MONDAY, OPERATOR, SmallCollege, seed_small_college
from ams_core.use_cases import (
    GenerateWeek,
    GenerateWeekCommand,
    IssueLocalToken,
    IssueLocalTokenCommand,
    SessionLifetimes,
    issue_operator_token,
)
from ams_http.app import create_app
from ams_http.settings import HttpSettings

SECRET = b"test-secret-key-that-is-long-enough-0123456789"
ROLES = ("student", "cr", "faculty", "other_faculty", "admin")


class FixedSystemProvider(Provider):
    scope = Scope.APP

    def __init__(self, clock: FixedClock) -> None:
        super().__init__()
        self._clock = clock

    @provide
    def clock(self) -> Clock:
        return self._clock

    @provide
    def random(self) -> RandomSource:
        return SeededRandomSource(7)


@dataclass
class World:
    client: TestClient[Any]
    store: MemoryStore
    clock: FixedClock
    a: SmallCollege
    b: SmallCollege
    tokens: dict[str, str]
    session_a: SessionId
    session_b: SessionId

    def headers(self, who: str) -> dict[str, str]:
        """``who`` is ``a.student``, ``b.admin``, ``operator`` … or ``anonymous``."""
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)


def _prepare(uow: InMemoryUnitOfWork, college: SmallCollege) -> None:
    with uow.for_institution(college.id):
        cr = uow.students.get(college.students[1].id)
        uow.students.update(dataclasses.replace(cr, is_class_representative=True))
        uow.faculty.add(
            Faculty(
                FacultyId("ADM"), college.id, "Admin", college.admin_email, "OFFICE", is_admin=True
            )
        )
        uow.commit()


def _alice_monday_session(uow: InMemoryUnitOfWork, college: SmallCollege) -> SessionId:
    with uow.for_institution(college.id):
        sessions = uow.sessions.list_for_assignment(college.alice_cs_a.id)
    return next(s.id for s in sessions if s.date == MONDAY)


@pytest.fixture
def identity_settings() -> IdentitySettings:
    return IdentitySettings(secret_key=SECRET, google_client_ids=("client-web",))


@pytest.fixture
def http_settings() -> HttpSettings:
    return HttpSettings()


@pytest.fixture
def world(identity_settings: IdentitySettings, http_settings: HttpSettings) -> Iterator[World]:
    tz = ZoneInfo("Asia/Kolkata")
    clock = FixedClock(datetime.combine(MONDAY, time(9, 5), tzinfo=tz).astimezone(ZoneInfo("UTC")))
    store = MemoryStore()
    uow = InMemoryUnitOfWork(store)
    a = seed_small_college(uow, institution_id="inst-a", domain="a.edu")
    b = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    for college in (a, b):
        _prepare(uow, college)
        GenerateWeek(uow, SeededRandomSource(1))(
            GenerateWeekCommand.for_week(OPERATOR, "2026-W47", college.id)
        )
    tokens_port = JwtAccessTokens(SECRET, clock=clock)
    issue = IssueLocalToken(uow, tokens_port, clock, SeededRandomSource(3), SessionLifetimes())
    tokens: dict[str, str] = {}
    for name, college in (("a", a), ("b", b)):
        emails = {
            "student": college.students[0].email,
            "cr": college.students[1].email,
            "faculty": college.alice.email,
            "other_faculty": college.bob.email,
            "admin": college.admin_email,
        }
        for role, email in emails.items():
            tokens[f"{name}.{role}"] = issue(IssueLocalTokenCommand(OPERATOR, email)).access_token
    tokens["operator"] = issue_operator_token(tokens_port, clock, "ops@ams.local").access_token
    app = create_app(
        FixedSystemProvider(clock),
        MemoryPersistenceProvider(store),
        IdentityProvider(
            identity_settings, Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        ),
        UseCaseProvider(),
        settings=http_settings,
    )
    with TestClient(app=app) as client:
        yield World(
            client=client,
            store=store,
            clock=clock,
            a=a,
            b=b,
            tokens=tokens,
            session_a=_alice_monday_session(uow, a),
            session_b=_alice_monday_session(uow, b),
        )


def later(world: World, minutes: int) -> None:
    world.clock.set(world.clock.now() + timedelta(minutes=minutes))


#: the Redis the edge tests use (override with ``AMS_TEST_REDIS_URL``); every test writes
#: under a fresh key prefix and deletes its keys afterwards
REDIS_URL = os.environ.get("AMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_problem() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return f"Redis at {REDIS_URL} is not reachable: {error}"
    finally:
        client.close()
    return None


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses, on the real Redis (CI=true: a missing Redis fails)."""
    problem = _redis_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI=true needs Redis: {problem}")
        pytest.skip(problem)
    prefix = f"ams-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
