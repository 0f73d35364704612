"""The bearer middleware never reads the store on the event loop: the signature check runs
there, and the revocation list, when it is due to be read again, is read in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Self

import pytest
from dishka import Scope, provide

from ams_adapters.composition import MemoryPersistenceProvider
from ams_adapters.identity import IdentitySettings
from ams_adapters.memory import InMemoryUnitOfWork, MemoryStore
from ams_core.domain import InstitutionId
from ams_core.ports import UnitOfWork, UnitOfWorkFactory
from ams_http.settings import HttpSettings
from tests.http.conftest import World, build_world, later, memory_snapshot


class LoopWatchingUnitOfWork(InMemoryUnitOfWork):
    """Notes every transaction opened on a thread that runs an event loop."""

    on_loop: list[str]

    def _note(self, scope: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.on_loop.append(scope)

    def for_institution(self, institution_id: InstitutionId) -> Self:
        self._note(f"institution {institution_id}")
        return super().for_institution(institution_id)

    def for_platform(self) -> Self:
        self._note("platform")
        return super().for_platform()


class WatchedMemoryProvider(MemoryPersistenceProvider):
    def __init__(self, store: MemoryStore, on_loop: list[str]) -> None:
        super().__init__(store)
        self._watched_store = store
        self._on_loop = on_loop

    @provide(scope=Scope.APP)
    def uow_factory(self) -> UnitOfWorkFactory:
        def make() -> UnitOfWork:
            uow = LoopWatchingUnitOfWork(self._watched_store)
            uow.on_loop = self._on_loop
            return uow

        return make


@pytest.fixture
def watched(identity_settings: IdentitySettings) -> Generator[tuple[World, list[str]]]:
    store, on_loop = MemoryStore(), list[str]()
    worlds = build_world(
        lambda: WatchedMemoryProvider(store, on_loop),
        lambda: InMemoryUnitOfWork(store),
        lambda: memory_snapshot(store),
        identity_settings,
        HttpSettings(),
    )
    yield next(worlds), on_loop
    worlds.close()


def test_revocation_lists_are_read_in_a_worker_thread_and_still_apply(
    watched: tuple[World, list[str]],
) -> None:
    world, on_loop = watched
    student, operator = world.headers("a.student"), world.headers("operator")
    assert world.client.get("/api/v1/me", headers=student).status_code == 200
    assert world.client.get("/api/v1/me", headers=operator).status_code == 200
    later(world, 1)  # past the refresh interval: both lists are read again
    assert world.client.post("/api/v1/auth/sign-out", headers=student).status_code == 204
    later(world, 1)

    refused = world.client.get("/api/v1/me", headers=student)

    assert refused.status_code == 401
    assert refused.json()["code"] == "session_revoked"
    assert world.client.get("/api/v1/me", headers=operator).status_code == 200
    assert on_loop == []
