"""On an event loop's thread a unit of work keeps its pooled connection for the next one
(ams_adapters.sql.held): one checkout for many check-ins, and never a connection lost."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from ams_adapters.sql import held
from ams_adapters.sql.direct import kept_wire
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import InstitutionId, UnavailableError
from ams_core.testing.builders import SmallCollege, seed_small_college
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import app_engine


@pytest.fixture
def engine(pg: PostgresDatabase) -> Iterator[Engine]:
    engine = app_engine(pg.app_url, pool_size=3, max_overflow=0, pre_ping=False)
    yield engine
    engine.dispose()


@pytest.fixture
def college(pg: PostgresDatabase) -> SmallCollege:
    return seed_small_college(SqlUnitOfWork(pg.app))


@pytest.fixture
def checkouts(engine: Engine) -> list[Any]:
    """The driver connection of every checkout from the engine's pool."""
    taken: list[Any] = []
    event.listen(engine.pool, "checkout", lambda dbapi, record, proxy: taken.append(dbapi))
    return taken


def _checked_out(engine: Engine) -> int:
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def _reads(engine: Engine, institution: InstitutionId) -> int:
    """One unit of work of direct reads (a statement runs directly from its second run)."""
    with SqlUnitOfWork(engine).for_institution(institution) as uow:
        return len(uow.students.list())


def _on_a_loop(work: Callable[[], Any]) -> Any:
    async def run() -> Any:
        return work()

    return asyncio.run(run())


def _warm(engine: Engine, college: SmallCollege) -> None:
    for _ in range(2):
        _reads(engine, college.id)


def test_on_an_event_loop_units_of_work_take_the_connection_from_the_pool_once(
    engine: Engine, college: SmallCollege, checkouts: list[Any]
) -> None:
    _warm(engine, college)
    checkouts.clear()

    def three() -> list[int]:
        counts = [_reads(engine, college.id) for _ in range(3)]
        assert _checked_out(engine) == 1  # kept between them
        return counts

    assert _on_a_loop(three) == [6, 6, 6]
    assert len(checkouts) == 1


def test_off_an_event_loop_every_unit_of_work_gives_its_connection_back(
    engine: Engine, college: SmallCollege, checkouts: list[Any]
) -> None:
    _warm(engine, college)
    checkouts.clear()

    for _ in range(3):
        assert _reads(engine, college.id) == 6
        assert _checked_out(engine) == 0

    assert len(checkouts) == 3


def test_a_held_connection_is_closed_and_its_place_freed_when_its_thread_ends(
    engine: Engine, college: SmallCollege, checkouts: list[Any]
) -> None:
    _warm(engine, college)
    checkouts.clear()
    thread = threading.Thread(target=_on_a_loop, args=(lambda: _reads(engine, college.id),))
    thread.start()
    thread.join()
    gc.collect()

    assert _checked_out(engine) == 0
    assert checkouts[0].closed


def test_a_held_connection_goes_back_once_it_was_held_for_hold_seconds(
    engine: Engine, college: SmallCollege, checkouts: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _warm(engine, college)
    checkouts.clear()
    monkeypatch.setattr(held, "HOLD_SECONDS", 0.0)

    def three() -> None:
        for _ in range(3):
            _reads(engine, college.id)
            assert _checked_out(engine) == 1

    _on_a_loop(three)

    assert len(checkouts) == 3  # each time from the pool again, recycled by its rules


def test_a_unit_of_work_inside_another_keeps_one_connection_and_gives_the_other_back(
    engine: Engine, college: SmallCollege
) -> None:
    _warm(engine, college)

    def nested() -> None:
        with SqlUnitOfWork(engine).for_institution(college.id) as outer:
            outer.students.list()
            assert _reads(engine, college.id) == 6
            outer.students.list()
        assert _checked_out(engine) == 1

    _on_a_loop(nested)


def test_a_held_connection_of_a_disposed_pool_is_closed_instead_of_used_again(
    engine: Engine, college: SmallCollege, checkouts: list[Any]
) -> None:
    _warm(engine, college)
    checkouts.clear()
    _on_a_loop(lambda: _reads(engine, college.id))
    (old,) = checkouts

    engine.dispose()
    fresh: list[Any] = []
    event.listen(engine.pool, "checkout", lambda dbapi, record, proxy: fresh.append(dbapi))

    assert _on_a_loop(lambda: _reads(engine, college.id)) == 6
    assert old.closed
    assert len(fresh) == 1
    assert fresh[0] is not old


def test_a_held_connection_whose_server_process_died_fails_once_and_is_then_replaced(
    engine: Engine, college: SmallCollege, checkouts: list[Any], pg: PostgresDatabase
) -> None:
    _warm(engine, college)
    checkouts.clear()
    _on_a_loop(lambda: _reads(engine, college.id))
    (connection,) = checkouts
    with pg.owner.connect() as owner:
        pid = connection.info.backend_pid
        killed = owner.execute(text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
        assert killed.scalar_one() is True

    def after() -> int:
        with pytest.raises(UnavailableError):
            _reads(engine, college.id)
        return _reads(engine, college.id)

    assert _on_a_loop(after) == 6
    assert checkouts[-1] is not connection
    assert _checked_out(engine) == 1


def test_a_connection_keeps_one_wire_for_its_direct_statements(engine: Engine) -> None:
    pooled, other = engine.raw_connection(), engine.raw_connection()
    try:
        raw = pooled.driver_connection
        first = kept_wire(pooled.info, raw)

        assert kept_wire(pooled.info, raw) is first
        # a record whose connection was replaced gets a wire for the new connection
        assert kept_wire(pooled.info, other.driver_connection).raw is other.driver_connection
    finally:
        pooled.close()
        other.close()


def test_with_pre_ping_on_every_unit_of_work_takes_a_tested_connection_from_the_pool(
    pg: PostgresDatabase, college: SmallCollege
) -> None:
    engine = app_engine(pg.app_url, pool_size=3, max_overflow=0, pre_ping=True)
    taken: list[Any] = []
    event.listen(engine.pool, "checkout", lambda dbapi, record, proxy: taken.append(dbapi))
    try:
        _warm(engine, college)
        taken.clear()

        _on_a_loop(lambda: [_reads(engine, college.id) for _ in range(3)])

        assert len(taken) == 3
        assert _checked_out(engine) == 0
    finally:
        engine.dispose()
