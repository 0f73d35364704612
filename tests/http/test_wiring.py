"""How handlers get their use cases: dishka's request scope, opened only for a request that
got past authentication and its limits, and never on the three busiest routes, whose use
cases are built from recipes read at start (a new unit of work each time)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dishka import AsyncContainer, make_async_container
from dishka.exceptions import NoFactoryError
from litestar import Request
from litestar.testing import TestClient

from ams_adapters.composition import build_providers
from ams_adapters.identity import IdentitySettings
from ams_adapters.memory import FixedClock, InMemoryUnitOfWork
from ams_core.domain import Principal
from ams_core.ports import Clock, UnitOfWork
from ams_core.use_cases import CheckIn, GetSchedule
from ams_http.wiring import PrebuiltUseCases
from tests.http.conftest import SECRET, FixedSystemProvider, World, empty_app, garbage_after
from tests.http.test_attendance_api import DEVICE, _bind, _open

WEEK = "from=2026-11-16&to=2026-11-22"


class ScopeCounter:
    """The app's container, counting the request scopes opened through it."""

    def __init__(self, container: AsyncContainer) -> None:
        self.container = container
        self.opened = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return self.container(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.container, name)


@pytest.fixture
def scopes(world: World) -> ScopeCounter:
    counter = ScopeCounter(world.client.app.state.dishka_container)
    world.client.app.state.dishka_container = counter
    return counter


def test_check_in_schedule_and_dashboard_answer_without_a_request_scope(
    world: World, scopes: ScopeCounter
) -> None:
    _bind(world)
    code = _open(world)  # a teacher's route: one scope
    assert scopes.opened == 1

    checked_in = world.client.post(
        f"/api/v1/sessions/{world.session_a}/check-in",
        json={"code": code, "deviceId": DEVICE},
        headers=world.headers("a.student"),
    )
    schedule = world.client.get(f"/api/v1/me/schedule?{WEEK}", headers=world.headers("a.student"))
    dashboard = world.client.get("/api/v1/me/dashboard", headers=world.headers("a.faculty"))

    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["status"] == "present"
    assert schedule.status_code == 200, schedule.text
    assert [item["myStatus"] for item in schedule.json()["items"]].count("present") == 1
    assert dashboard.status_code == 200, dashboard.text
    assert dashboard.json()["classes"]
    assert scopes.opened == 1


def test_a_request_refused_before_its_handler_opens_no_request_scope(
    world: World, scopes: ScopeCounter
) -> None:
    unsigned = world.client.get("/api/v1/me/attendance")
    signed = world.client.get("/api/v1/me/attendance", headers=world.headers("a.student"))

    assert unsigned.status_code == 401
    assert signed.status_code == 200, signed.text
    assert scopes.opened == 1


def test_a_request_with_a_request_scope_leaves_nothing_of_it_to_the_collector(
    world: World, scopes: ScopeCounter
) -> None:
    answer, left = garbage_after(
        lambda: world.client.get("/api/v1/me/attendance", headers=world.headers("a.student"))
    )

    assert answer.status_code == 200, answer.text
    assert scopes.opened == 1
    # freed with its answer: the request's state and its container let go of each other
    assert Request not in left
    assert not [kind for kind in left if issubclass(kind, AsyncContainer)]


def _container(clock: FixedClock) -> AsyncContainer:
    identity = IdentitySettings(secret_key=SECRET)
    return make_async_container(
        *build_providers(identity=identity, system=FixedSystemProvider(clock))
    )


def test_each_build_opens_a_new_unit_of_work_and_shares_what_the_app_scope_holds() -> None:
    async def scenario() -> None:
        container = _container(FixedClock(datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("UTC"))))
        prebuilt = await PrebuiltUseCases.resolve(container, [CheckIn, GetSchedule])

        first, second = prebuilt.build(CheckIn), prebuilt.build(CheckIn)

        assert isinstance(first, CheckIn)
        assert isinstance(first._uow, InMemoryUnitOfWork)
        assert first._uow is not second._uow
        assert first._clock is second._clock is await container.get(Clock)
        assert isinstance(prebuilt.build(GetSchedule), GetSchedule)
        await container.close()

    asyncio.run(scenario())


class NeedsTheCaller:
    """A use case wanting what only a request scope gives."""

    def __init__(self, uow: UnitOfWork, actor: Principal) -> None:
        self.uow, self.actor = uow, actor


def test_a_use_case_needing_a_request_scoped_argument_is_refused_at_start() -> None:
    async def scenario() -> None:
        container = _container(FixedClock(datetime(2026, 11, 16, 9, 0, tzinfo=ZoneInfo("UTC"))))
        with pytest.raises(NoFactoryError):
            await PrebuiltUseCases.resolve(container, [NeedsTheCaller])
        await container.close()

    asyncio.run(scenario())


def test_the_app_prepares_its_busiest_use_cases_at_start() -> None:
    app = empty_app()

    with TestClient(app):
        prebuilt = app.state["prebuilt_use_cases"]
        assert isinstance(prebuilt.build(CheckIn), CheckIn)
