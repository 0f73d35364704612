"""Reads before a unit of work's first write go straight to psycopg, scope included, with
no BEGIN or COMMIT (ADR 0013); everything from the first write on is one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import Holiday, UnavailableError
from ams_core.testing.builders import SmallCollege, seed_small_college
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import HOLIDAY, app_engine
from tests.sql.test_errors import kill_the_pooled_backend


@pytest.fixture
def engine(pg: PostgresDatabase) -> Iterator[Engine]:
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0, pre_ping=False)
    yield engine
    engine.dispose()


@pytest.fixture
def college(pg: PostgresDatabase) -> SmallCollege:
    return seed_small_college(SqlUnitOfWork(pg.app))


@pytest.fixture
def sent(engine: Engine) -> Iterator[list[str]]:
    """The first word of every statement sent on the engine's connections."""
    seen: list[str] = []

    def spy(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        seen.append(" ".join(statement.split()[:2]).upper())

    event.listen(engine, "before_cursor_execute", spy)
    yield seen
    event.remove(engine, "before_cursor_execute", spy)


def _read_twice(engine: Engine, college: SmallCollege) -> None:
    """Direct reads start with a statement's second run (a statement built for one call
    only is left to SQLAlchemy's cache)."""
    for _ in range(2):
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            uow.students.list()


def test_a_read_only_unit_of_work_sends_its_scope_with_each_read_and_no_transaction(
    engine: Engine, college: SmallCollege, sent: list[str]
) -> None:
    _read_twice(engine, college)
    sent.clear()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert len(uow.students.list()) == 6
        assert len(uow.students.list()) == 6

    assert (
        sent == ["SELECT SET_CONFIG('APP.INSTITUTION_ID',", "SELECT STUDENTS.INSTITUTION_ID,"] * 2
    )


def test_the_first_write_begins_one_transaction_that_later_reads_join(
    engine: Engine, college: SmallCollege, sent: list[str], pg: PostgresDatabase
) -> None:
    _read_twice(engine, college)
    sent.clear()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.students.list()
        uow.holidays.add(Holiday(college.id, HOLIDAY, "read, then written"))
        uow.students.list()
        uow.rollback()

    begins = [n for n, s in enumerate(sent) if s == "BEGIN"]
    assert len(begins) == 1
    assert sent[begins[0] + 1].startswith("SELECT SET_CONFIG")
    assert sent[begins[0] + 2].startswith("INSERT INTO")
    assert sent[begins[0] + 3].startswith("SELECT STUDENTS")
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert list(uow.holidays.list()) == []  # rolled back as one transaction
    with pg.owner.connect() as owner:
        states = (
            owner.execute(
                # this run's database only: other test runs on the server use the same login
                text(
                    "SELECT state FROM pg_stat_activity "
                    "WHERE usename = :app AND datname = current_database()"
                ),
                {"app": engine.url.username},
            )
            .scalars()
            .all()
        )
    assert states
    assert set(states) == {"idle"}  # pooled, with no transaction left open


def test_the_pool_gets_its_connection_back_out_of_autocommit(
    engine: Engine, college: SmallCollege
) -> None:
    _read_twice(engine, college)
    with engine.connect() as connection:
        assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]


def test_a_backend_killed_before_a_direct_read_is_unavailable_and_the_pool_recovers(
    engine: Engine, college: SmallCollege, pg: PostgresDatabase
) -> None:
    _read_twice(engine, college)
    victim = kill_the_pooled_backend(pg, engine, college.id)

    with pytest.raises(UnavailableError), SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.students.list()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert len(uow.students.list()) == 6
        assert uow.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim


def _prepared_by_ams(engine: Engine, drop: bool = False) -> int:
    """How many statements AMS prepared on the pooled connection (the engine has one);
    with ``drop``, ``DEALLOCATE ALL`` first, as a pooler or a tool might send it."""
    with engine.connect() as connection:
        if drop:
            connection.exec_driver_sql("DEALLOCATE ALL")
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements WHERE starts_with(name, 'ams_')"
            ).scalar_one()
        )


def test_a_session_that_lost_its_prepared_statements_reads_and_writes_on(
    engine: Engine, college: SmallCollege
) -> None:
    for holiday in (HOLIDAY, HOLIDAY + timedelta(days=1)):  # the write runs directly next time
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            uow.holidays.add(Holiday(college.id, holiday, "before"))
            uow.rollback()
    _read_twice(engine, college)
    assert _prepared_by_ams(engine) >= 2  # the scope, the list of students, …

    assert _prepared_by_ams(engine, drop=True) == 0
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert len(uow.students.list()) == 6  # sent again, prepared anew
    assert _prepared_by_ams(engine) >= 2

    assert _prepared_by_ams(engine, drop=True) == 0
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.holidays.add(Holiday(college.id, HOLIDAY, "after"))  # BEGIN, scope, INSERT again
        uow.commit()
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert [h.name for h in uow.holidays.list()] == ["after"]


def _plans_of(engine: Engine, fragment: str) -> tuple[int, int]:
    """(generic, custom) plans so far of the pooled connection's prepared statements whose
    text holds ``fragment``."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) "
                "FROM pg_prepared_statements WHERE statement LIKE :fragment"
            ),
            {"fragment": f"%{fragment}%"},
        ).one()
    return int(row[0]), int(row[1])


def test_a_teachers_dashboard_runs_on_its_generic_plan_not_planned_anew_each_time(
    engine: Engine, college: SmallCollege
) -> None:
    # PostgreSQL plans a prepared statement anew for each of its first five executions,
    # and keeps doing so when it estimates that cheaper; this one is told not to
    for _ in range(8):
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            summaries = uow.sessions.teacher_summaries(college.alice.id, HOLIDAY, time(9))
            assert [a.id for a, _ in summaries] == sorted(a.id for a, _ in summaries)

    generic, custom = _plans_of(engine, "AS a_held")

    assert custom == 0
    assert generic >= 6  # every run from the second, the first going through SQLAlchemy


def test_other_reads_keep_postgresqls_own_choice_of_plan(
    engine: Engine, college: SmallCollege
) -> None:
    _read_twice(engine, college)
    for _ in range(5):
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            uow.students.list()

    _, custom = _plans_of(engine, "FROM students")

    assert custom >= 5  # the first five executions of a prepared statement are custom plans
