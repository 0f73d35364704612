"""A unit of work and the repositories it attached are freed as soon as the request drops
them: nothing waits for the garbage collector, whose full passes stall the event loop and
every request waiting on it (ADR 0020)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.testing.builders import SmallCollege, seed_small_college
from tests.sql.conftest import PostgresDatabase


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _freed_after_a_transaction(engine: Engine, college: SmallCollege) -> None:
    uow = SqlUnitOfWork(engine)
    with uow.for_institution(college.id):
        marks, institutions = uow.marks, uow.institutions
        assert uow.students.list()
        assert uow.marks is marks  # attached once per transaction
        institutions.get(college.id)
    del marks, institutions
    freed = weakref.ref(uow)

    del uow

    assert freed() is None


def test_a_sqlite_unit_of_work_is_freed_without_the_collector(
    sqlite_engine: Engine, collector_off: None
) -> None:
    college = seed_small_college(SqlUnitOfWork(sqlite_engine))

    _freed_after_a_transaction(sqlite_engine, college)


def test_a_postgres_unit_of_work_is_freed_without_the_collector(
    pg: PostgresDatabase, collector_off: None
) -> None:
    college = seed_small_college(SqlUnitOfWork(pg.app))

    _freed_after_a_transaction(pg.app, college)


def test_a_repository_asked_for_after_the_transaction_is_attached_anew(
    sqlite_engine: Engine,
) -> None:
    college = seed_small_college(SqlUnitOfWork(sqlite_engine))
    uow = SqlUnitOfWork(sqlite_engine)
    with uow.for_institution(college.id):
        before = uow.students

    with uow.for_institution(college.id):
        after = uow.students
        assert after.list()

    assert after is not before
