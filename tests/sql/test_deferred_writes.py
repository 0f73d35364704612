"""Writes whose answer nobody reads wait for the next statement or the COMMIT and go in one
pipeline with it (``SqlTransaction.execute_later``): a round trip saved each, with the
transaction still all or nothing."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import pytest
from psycopg.pq import Trace
from sqlalchemy.engine import Engine

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    AuditEntry,
    ClassSession,
    Holiday,
    NotFoundError,
    SessionId,
    SessionStatus,
)
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college
from ams_core.use_cases.complete_session import complete_session
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import HOLIDAY, app_engine
from tests.sql.test_concurrency import extra_sessions

NOW = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)


@pytest.fixture
def engine(pg: PostgresDatabase) -> Iterator[Engine]:
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0, pre_ping=False)
    yield engine
    engine.dispose()


@pytest.fixture
def college(pg: PostgresDatabase) -> SmallCollege:
    return seed_small_college(SqlUnitOfWork(pg.app))


class RoundTrips:
    """Counts the round trips on the pool's one connection from libpq's own protocol trace:
    every round trip ends with a Sync (extended protocol, pipelines) or is one Query."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._file = tempfile.NamedTemporaryFile(prefix="ams-trace-", delete=False)  # noqa: SIM115

    def __enter__(self) -> Self:
        pooled = self._engine.raw_connection()
        try:
            pgconn = pooled.driver_connection.pgconn  # type: ignore[union-attr]
            pgconn.trace(self._file.fileno())
            pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        finally:
            pooled.close()
        return self

    def __exit__(self, *exc: object) -> None:
        pooled = self._engine.raw_connection()
        try:
            pooled.driver_connection.pgconn.untrace()  # type: ignore[union-attr]
        finally:
            pooled.close()
        self._file.close()
        self.lines = Path(self._file.name).read_text().splitlines()
        os.unlink(self._file.name)

    @property
    def count(self) -> int:
        sent = [line.split("\t") for line in self.lines if line.startswith("F\t")]
        return sum(1 for parts in sent if len(parts) > 2 and parts[2] in ("Sync", "Query"))


def _sessions(college: SmallCollege, count: int) -> list[ClassSession]:
    """Sessions of alice's CS101, all held on MONDAY before NOW."""
    return [dataclasses.replace(s, date=MONDAY) for s in extra_sessions(college, count)]


def _add(engine: Engine, college: SmallCollege, sessions: list[ClassSession]) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.sessions.add_many(sessions)
        uow.commit()


def _complete(engine: Engine, college: SmallCollege, session_id: SessionId) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        institution = uow.institutions.get(college.id)
        session = uow.sessions.get(session_id)
        complete_session(uow, institution, session, college.alice.email, "topic", NOW)
        uow.commit()


def test_completing_a_session_takes_four_round_trips_and_stores_everything(
    engine: Engine, college: SmallCollege
) -> None:
    sessions = _sessions(college, 3)
    _add(engine, college, sessions)
    for warm in sessions[:2]:  # statements run directly from their second sighting on
        _complete(engine, college, warm.id)

    with RoundTrips(engine) as trips:
        _complete(engine, college, sessions[2].id)

    # the session read; BEGIN, scope and the session's UPDATE; the marks following it with
    # the absences' INSERT and the tally; the audit entry and the final UPDATE with COMMIT
    assert trips.count == 4, "\n".join(trips.lines)
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        stored = uow.sessions.get(sessions[2].id)
        assert stored.status is SessionStatus.COMPLETED
        assert stored.version == sessions[2].version + 2
        assert stored.tally.absent == len(college.students) == stored.tally.total
        (entry,) = uow.audit.list_for_session(sessions[2].id)
        assert entry.student_id is None
        assert entry.reason.startswith(f"class completed: {len(college.students)} students")


def _entry(college: SmallCollege, session_id: str) -> AuditEntry:
    return AuditEntry.of_completion(college.id, SessionId(session_id), "t@a.edu", NOW, 1)


@pytest.fixture
def session(engine: Engine, college: SmallCollege) -> ClassSession:
    """A stored session, with an audit entry's INSERT seen twice (so it can be held back)."""
    (session,) = _sessions(college, 1)
    _add(engine, college, [session])
    for _ in range(2):
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            uow.holidays.add(Holiday(college.id, HOLIDAY, "begins the transaction"))
            uow.audit.add_many([_entry(college, session.id)])
            uow.rollback()
    return session


def test_a_held_back_write_that_fails_fails_the_commit_and_nothing_is_written(
    engine: Engine, college: SmallCollege, session: ClassSession
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.holidays.add(Holiday(college.id, HOLIDAY, "written before"))
        uow.audit.add_many([_entry(college, "S-NO-SUCH-SESSION")])  # held back: no error yet
        with pytest.raises(NotFoundError):
            uow.commit()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert list(uow.holidays.list()) == []
        assert list(uow.audit.list_for_session(SessionId("S-NO-SUCH-SESSION"))) == []


def test_a_held_back_write_goes_before_the_next_statement_and_a_rollback_drops_it(
    engine: Engine, college: SmallCollege, session: ClassSession
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.holidays.add(Holiday(college.id, HOLIDAY, "begins the transaction"))
        uow.audit.add_many([_entry(college, session.id)])
        assert len(uow.audit.list_for_session(session.id)) == 1  # the read sees it
        uow.audit.add_many([_entry(college, session.id)])
        uow.rollback()
        uow.holidays.add(Holiday(college.id, HOLIDAY, "a new transaction"))
        uow.commit()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert list(uow.audit.list_for_session(session.id)) == []
        assert [h.name for h in uow.holidays.list()] == ["a new transaction"]


def test_a_held_back_write_that_fails_inside_a_savepoint_is_undone_with_it_alone(
    engine: Engine, college: SmallCollege, session: ClassSession
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.holidays.add(Holiday(college.id, HOLIDAY, "kept"))
        with pytest.raises(NotFoundError), uow.savepoint():
            uow.audit.add_many([_entry(college, "S-NO-SUCH-SESSION")])
        uow.audit.add_many([_entry(college, session.id)])
        uow.sessions.update(dataclasses.replace(session, topic="after the savepoint"))
        uow.commit()

    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert [h.name for h in uow.holidays.list()] == ["kept"]
        assert len(uow.audit.list_for_session(session.id)) == 1
        assert uow.sessions.get(session.id).topic == "after the savepoint"
