"""Cover races the database must win: two hundred substitutes' answers at once never
double-book one teacher, on PostgreSQL (exclusion constraint) and SQLite (serialised
writers).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.memory import FixedClock, SeededRandomSource
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    ConcurrencyError,
    ConflictError,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    NeedStatus,
)
from ams_core.testing.builders import faculty_principal, seed_small_college
from ams_core.use_cases import AcceptCoverOffer, AnswerOfferCommand, AnswerResult
from tests.sql.conftest import PostgresDatabase
from tests.sql.test_concurrency import WORKERS, extra_sessions, race

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DAY = date(2027, 1, 4)


def accept_overlapping_offers(engine: Engine, count: int, workers: int) -> list[object]:
    """``count`` classes at overlapping times, each a need of one absence of alice, each
    offered to bob; race bob's ``count`` accepts and return the outcomes.
    """
    college = seed_small_college(SqlUnitOfWork(engine))
    # every class on one day at 09:00; each need starts up to half an hour later, so all
    # of them overlap
    sessions = [dataclasses.replace(s, date=DAY) for s in extra_sessions(college, count)]
    tz = college.institution.tz
    absence = Absence(
        id=AbsenceId("absence-1"),
        institution_id=college.id,
        faculty_id=college.alice.id,
        starts_at=sessions[0].starts_at(tz) - timedelta(hours=1),
        ends_at=sessions[0].ends_at(tz) + timedelta(hours=1),
        kind=AbsenceKind.SICK,
        status=AbsenceStatus.APPROVED,
        reported_at=NOW,
        reported_by="admin@a.edu",
    )
    needs = [
        CoverNeed(
            id=CoverNeedId(f"need-{n:03d}"),
            institution_id=college.id,
            absence_id=absence.id,
            session_id=session.id,
            absent_faculty_id=college.alice.id,
            section_id=session.section_id,
            subject_code=session.subject_code,
            day=session.date,
            starts_at=session.starts_at(tz) + timedelta(minutes=n % 30),
            ends_at=session.ends_at(tz),
            created_at=NOW,
            status=NeedStatus.OFFERED,
        )
        for n, session in enumerate(sessions)
    ]
    offers = [
        CoverOffer(
            id=CoverOfferId(f"offer-{n:03d}"),
            institution_id=college.id,
            need_id=need.id,
            substitute_id=college.bob.id,
            plan_id=None,
            attempt=1,
            score=50,
            reasons=(),
            offered_at=NOW,
            expires_at=NOW + timedelta(hours=2),
        )
        for n, need in enumerate(needs)
    ]
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.sessions.add_many(sessions)
        uow.absences.add(absence)
        uow.cover_needs.add_many(needs)
        for offer in offers:
            uow.cover_offers.add(offer)
        uow.commit()
    bob = faculty_principal(college.bob)

    def accept(index: int) -> AnswerResult:
        use_case = AcceptCoverOffer(
            SqlUnitOfWork(engine), FixedClock(NOW), SeededRandomSource(index)
        )
        return use_case(AnswerOfferCommand(bob, offers[index].id))

    return list(race(count, workers, accept))


def assert_exactly_one_accepted(engine: Engine, outcomes: list[object]) -> None:
    accepted = [o for o in outcomes if isinstance(o, AnswerResult)]
    refused = [o for o in outcomes if not isinstance(o, AnswerResult)]
    assert len(accepted) == 1, refused[:3]
    assert all(isinstance(e, ConflictError | ConcurrencyError) for e in refused), refused[:3]
    with engine.connect() as connection:
        covers = connection.execute(text("SELECT count(*) FROM cover_assignments")).scalar_one()
        taken = connection.execute(
            text(
                "SELECT count(*) FROM class_sessions"
                " WHERE teacher_id = 'F002' AND id LIKE 'extra-%'"
            )
        ).scalar_one()
        covered = connection.execute(
            text("SELECT count(*) FROM cover_needs WHERE status = 'covered'")
        ).scalar_one()
    assert (covers, taken, covered) == (1, 1, 1)


def test_two_hundred_simultaneous_accepts_that_would_double_book_leave_one_cover_on_postgresql(
    pg: PostgresDatabase,
) -> None:
    outcomes = accept_overlapping_offers(pg.app, 200, WORKERS)
    assert_exactly_one_accepted(pg.owner, outcomes)


def test_simultaneous_accepts_that_would_double_book_leave_one_cover_on_sqlite(
    sqlite_engine: Engine,
) -> None:
    outcomes = accept_overlapping_offers(sqlite_engine, 20, 20)
    assert_exactly_one_accepted(sqlite_engine, outcomes)
