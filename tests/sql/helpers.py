"""Shared helpers of the SQL adapter tests: two seeded colleges, throw-away databases and
engines that connect as the API's login role.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from ams_adapters.memory import FixedClock, SeededRandomSource
from ams_adapters.settings import SqlSettings
from ams_adapters.sql.engine import make_engine
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import ClassSession, DateRange, InstitutionId, SessionId
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college
from ams_core.use_cases import GenerateWeek, GenerateWeekCommand
from tests.conftest import CLASS_START
from tests.sql.conftest import ADMIN_URL

#: The ISO week of MONDAY (2026-11-16) that the tests generate.
WEEK = "2026-W47"
WEEK_DATES = DateRange(MONDAY, date(2026, 11, 22))
#: A holiday of both colleges outside the generated week.
HOLIDAY = date(2026, 10, 2)
A = InstitutionId("inst-a")
B = InstitutionId("inst-b")


@dataclass(frozen=True)
class TwoColleges:
    """Two institutions seeded alike (same student and section ids, other domains), each
    with the week of MONDAY generated; their session ids differ."""

    a: SmallCollege
    b: SmallCollege
    a_sessions: tuple[ClassSession, ...]
    b_sessions: tuple[ClassSession, ...]

    def sessions_of(self, institution_id: InstitutionId) -> tuple[ClassSession, ...]:
        return self.a_sessions if institution_id == A else self.b_sessions

    def session(
        self, college: SmallCollege, assignment_id: str, day: date = MONDAY
    ) -> ClassSession:
        """The generated session of ``assignment_id`` on ``day`` in ``college``."""
        found = [
            s
            for s in self.sessions_of(college.id)
            if s.assignment_id == assignment_id and s.date == day
        ]
        assert len(found) == 1, found
        return found[0]


def _sessions(engine: Engine, institution_id: InstitutionId) -> tuple[ClassSession, ...]:
    found: list[ClassSession] = []
    with SqlUnitOfWork(engine).for_institution(institution_id) as uow:
        for assignment in uow.assignments.list():
            found.extend(uow.sessions.list_for_assignment(assignment.id, WEEK_DATES))
    return tuple(found)


def seed_two_colleges(engine: Engine) -> TwoColleges:
    """Seed colleges A and B through the unit of work and generate a week for each."""
    a = seed_small_college(SqlUnitOfWork(engine), holidays=(HOLIDAY,))
    b = seed_small_college(
        SqlUnitOfWork(engine), institution_id=B, domain="b.edu", holidays=(HOLIDAY,)
    )
    for college, seed in ((a, 1), (b, 2)):
        generate = GenerateWeek(SqlUnitOfWork(engine), SeededRandomSource(seed))
        result = generate(GenerateWeekCommand.for_week(college.admin, WEEK))
        assert result.created == 15, result
    colleges = TwoColleges(a, b, _sessions(engine, A), _sessions(engine, B))
    a_ids = {s.id for s in colleges.a_sessions}
    assert a_ids.isdisjoint(s.id for s in colleges.b_sessions)
    return colleges


def clock() -> FixedClock:
    """A clock stopped at the start of alice's Monday CS101 class."""
    return FixedClock(CLASS_START)


def session_ids(sessions: tuple[ClassSession, ...]) -> set[SessionId]:
    return {s.id for s in sessions}


def app_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 0,
    statement_timeout_ms: int = 5000,
    pre_ping: bool = False,
) -> Engine:
    """An engine built by the adapter's own factory (``make_engine``)."""
    return make_engine(
        SqlSettings(
            url=url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            statement_timeout_ms=statement_timeout_ms,
            pre_ping=pre_ping,
        )
    )


@contextmanager
def scratch_database(prefix: str = "ams_scratch") -> Iterator[str]:
    """Create an empty database on the test server; yield its owner URL; drop it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def monday_class(engine: Engine) -> tuple[SmallCollege, ClassSession]:
    """The small college seeded on ``engine`` with week 47 generated, and Alice's Monday
    CS101 class of section A."""
    college = seed_small_college(SqlUnitOfWork(engine))
    GenerateWeek(SqlUnitOfWork(engine), SeededRandomSource(1))(
        GenerateWeekCommand.for_week(college.admin, WEEK)
    )
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        (session,) = uow.sessions.list_for_assignment(
            college.alice_cs_a.id, DateRange(MONDAY, MONDAY)
        )
    return college, session
