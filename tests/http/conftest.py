"""The API over the memory adapters, two institutions, one token per role."""

from __future__ import annotations

import copy
import dataclasses
import gc
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import redis
from dishka import Provider, Scope, provide
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ams_adapters.composition import (
    ExcelProvider,
    IdentityProvider,
    MemoryPersistenceProvider,
    SqlPersistenceProvider,
    UseCaseProvider,
)
from ams_adapters.identity import Argon2PasswordHasher, IdentitySettings, JwtAccessTokens
from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, MemoryStore, SeededRandomSource
from ams_adapters.settings import SqlSettings
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_adapters.sql.tables import metadata
from ams_core.domain import Faculty, FacultyId, SessionId
from ams_core.ports import Clock, RandomSource, UnitOfWork
from ams_core.testing.builders import MONDAY, OPERATOR, SmallCollege, seed_small_college
from ams_core.use_cases import (
    GenerateWeek,
    GenerateWeekCommand,
    IssueLocalToken,
    IssueLocalTokenCommand,
    IssueOperatorToken,
    IssueOperatorTokenCommand,
    SignInLifetimes,
)
from ams_http.app import create_app
from ams_http.settings import HttpSettings
from tests.redis_support import REDIS_URL, require_redis
from tests.sql.conftest import PostgresDatabase, postgres  # noqa: F401 - a fixture used here

T = TypeVar("T")

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
    clock: FixedClock
    a: SmallCollege
    b: SmallCollege
    tokens: dict[str, str]
    session_a: SessionId
    session_b: SessionId
    #: a provider over the same data, for another app process (memory or SQL)
    persistence: Callable[[], Provider]
    make_uow: Callable[[], UnitOfWork]
    #: every stored row, to compare before and after a request that should change nothing
    snapshot: Callable[[], object]
    backend: str = "memory"

    def headers(self, who: str) -> dict[str, str]:
        """``who`` is ``a.student``, ``b.admin``, ``operator`` … or ``anonymous``."""
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def uow(self) -> UnitOfWork:
        return self.make_uow()


class EngineProvider(SqlPersistenceProvider):
    """The SQL adapter over an engine the test already has (its reference cache included)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(SqlSettings(url=engine.url.render_as_string(hide_password=False)))
        self._engine = engine

    @provide(scope=Scope.APP)
    def engine(self) -> Engine:
        return self._engine


def _prepare(uow: UnitOfWork, college: SmallCollege) -> None:
    with uow.for_institution(college.id):
        cr = uow.students.get(college.students[1].id)
        uow.students.update(dataclasses.replace(cr, is_class_representative=True))
        uow.faculty.add(
            Faculty(
                FacultyId("ADM"), college.id, "Admin", college.admin_email, "OFFICE", is_admin=True
            )
        )
        uow.commit()


def _alice_monday_session(uow: UnitOfWork, college: SmallCollege) -> SessionId:
    with uow.for_institution(college.id):
        sessions = uow.sessions.list_for_assignment(college.alice_cs_a.id)
    return next(s.id for s in sessions if s.date == MONDAY)


def empty_app(settings: HttpSettings | None = None) -> Litestar:
    """The API over an empty memory store (for what does not depend on data: the OpenAPI
    document, headers)."""
    return create_app(
        FixedSystemProvider(FixedClock(datetime(2026, 11, 16, 3, 35, tzinfo=ZoneInfo("UTC")))),
        MemoryPersistenceProvider(MemoryStore()),
        IdentityProvider(
            IdentitySettings(secret_key=SECRET),
            Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
        ),
        ExcelProvider(),
        UseCaseProvider(),
        settings=settings,
    )


@pytest.fixture
def identity_settings() -> IdentitySettings:
    return IdentitySettings(secret_key=SECRET, google_client_ids=("client-web",))


@pytest.fixture
def http_settings() -> HttpSettings:
    return HttpSettings()


def memory_snapshot(store: MemoryStore) -> object:
    """The store's data (not its lock or its sequence counter) as a comparable copy."""
    with store.lock:
        return copy.deepcopy(
            {name: value for name, value in vars(store).items() if name not in SKIPPED}
        )


SKIPPED = frozenset({"lock", "sequence"})


def sql_snapshot(owner: Engine) -> object:
    """Every row of every table, read as the owner (past row-level security)."""
    with owner.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(select(table)).all()))
            for table in metadata.sorted_tables
        }


def build_world(
    persistence: Callable[[], Provider],
    make_uow: Callable[[], UnitOfWork],
    snapshot: Callable[[], object],
    identity_settings: IdentitySettings,
    http_settings: HttpSettings,
    backend: str = "memory",
) -> Generator[World]:
    """Two institutions seeded through the port, one token per role, and the API over them."""
    tz = ZoneInfo("Asia/Kolkata")
    clock = FixedClock(datetime.combine(MONDAY, time(9, 5), tzinfo=tz).astimezone(ZoneInfo("UTC")))
    uow = make_uow()
    a = seed_small_college(uow, institution_id="inst-a", domain="a.edu")
    b = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    for college in (a, b):
        _prepare(uow, college)
        GenerateWeek(uow, SeededRandomSource(1))(
            GenerateWeekCommand.for_week(OPERATOR, "2026-W47", college.id)
        )
    tokens_port = JwtAccessTokens(SECRET, clock=clock)
    issue = IssueLocalToken(uow, tokens_port, clock, SeededRandomSource(3), SignInLifetimes())
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
    issue_operator = IssueOperatorToken(uow, tokens_port, clock, SeededRandomSource(4))
    tokens["operator"] = issue_operator(IssueOperatorTokenCommand("ops@ams.local")).access_token
    app = create_app(
        FixedSystemProvider(clock),
        persistence(),
        IdentityProvider(
            identity_settings, Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        ),
        ExcelProvider(),
        UseCaseProvider(),
        settings=http_settings,
    )
    with TestClient(app=app) as client:
        yield World(
            client=client,
            clock=clock,
            a=a,
            b=b,
            tokens=tokens,
            session_a=_alice_monday_session(uow, a),
            session_b=_alice_monday_session(uow, b),
            persistence=persistence,
            make_uow=make_uow,
            snapshot=snapshot,
            backend=backend,
        )


@pytest.fixture
def world(identity_settings: IdentitySettings, http_settings: HttpSettings) -> Iterator[World]:
    """The API over the memory adapter."""
    store = MemoryStore()
    yield from build_world(
        lambda: MemoryPersistenceProvider(store),
        lambda: InMemoryUnitOfWork(store),
        lambda: memory_snapshot(store),
        identity_settings,
        http_settings,
    )


@pytest.fixture
def pg_world(
    request: pytest.FixtureRequest,
    identity_settings: IdentitySettings,
    http_settings: HttpSettings,
) -> Iterator[World]:
    """The API over PostgreSQL, connected as the API's login (row-level security holds)."""
    database: PostgresDatabase = request.getfixturevalue("postgres")
    database.truncate()
    yield from build_world(
        lambda: EngineProvider(database.app),
        lambda: SqlUnitOfWork(database.app),
        lambda: sql_snapshot(database.owner),
        identity_settings,
        http_settings,
        backend="postgres",
    )


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_world(request: pytest.FixtureRequest) -> World:
    """The same world on each backend: memory, then PostgreSQL as the API's login."""
    fixture = "world" if request.param == "memory" else "pg_world"
    world: World = request.getfixturevalue(fixture)
    return world


def later(world: World, minutes: int) -> None:
    world.clock.set(world.clock.now() + timedelta(minutes=minutes))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test uses, on the real Redis (CI=true: a missing Redis fails)."""
    require_redis()
    prefix = f"ams-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def garbage_after(action: Callable[[], T]) -> tuple[T, list[type]]:
    """What ``action`` returns, and the kinds of object it left to the cycle collector
    (anything reference counting did not free)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds is kept in gc.garbage
    try:
        result = action()
        gc.collect()
        return result, [type(thing) for thing in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
