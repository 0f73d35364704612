"""Races the database must win: many simultaneous check-ins of one student leave one mark,
and many simultaneous bookings of one substitute at overlapping times leave one cover.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.memory import SeededRandomSource
from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    ClassSession,
    ConcurrencyError,
    ConflictError,
    CoverAssignment,
    CoverId,
    DeliveryReport,
    Notification,
    NotificationId,
    Recipient,
    RecipientKind,
    SessionId,
)
from ams_core.testing.builders import SmallCollege, seed_small_college
from ams_core.use_cases import (
    BindDevice,
    BindDeviceCommand,
    CheckIn,
    CheckInCommand,
    CheckInResult,
    OpenAttendance,
    OpenAttendanceCommand,
)
from tests.conftest import CLASS_START
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import clock, monday_class

R = TypeVar("R")
WORKERS = 50
COVER_START = datetime(2027, 1, 4, 3, 30, tzinfo=UTC)


def race(count: int, workers: int, attempt: Callable[[int], R]) -> list[R | Exception]:
    """Run ``attempt(0..count-1)`` on ``workers`` threads released together in waves of
    ``workers``; return each result or the exception it raised."""
    assert count % workers == 0
    barrier = threading.Barrier(workers, timeout=20)

    def run(index: int) -> R | Exception:
        barrier.wait()
        try:
            return attempt(index)
        except Exception as error:  # noqa: BLE001 - the caller judges every outcome
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(count)))


# -- one student, one session -----------------------------------------------------------------


def test_two_hundred_simultaneous_check_ins_of_one_student_leave_one_mark(
    pg: PostgresDatabase,
) -> None:
    college, session = monday_class(pg.app)
    stopped = clock()
    student = college.as_student(0)
    device = f"phone-{college.students[0].id}"
    BindDevice(SqlUnitOfWork(pg.app), stopped)(BindDeviceCommand(student, device))
    opened = OpenAttendance(SqlUnitOfWork(pg.app), stopped, SeededRandomSource(2))(
        OpenAttendanceCommand(college.as_alice(), session.id)
    )

    def check_in(_: int) -> CheckInResult:
        use_case = CheckIn(SqlUnitOfWork(pg.app), stopped, SeededRandomSource(3))
        return use_case(CheckInCommand(student, session.id, opened.code, device))

    outcomes = race(200, WORKERS, check_in)

    results = [o for o in outcomes if isinstance(o, CheckInResult)]
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, ConflictError | ConcurrencyError) for e in errors), errors[:3]
    assert sum(not r.already_marked for r in results) == 1
    assert len({(r.status, r.marked_at) for r in results}) == 1
    with pg.owner.connect() as connection:
        marks = connection.execute(
            text("SELECT count(*) FROM attendance_marks WHERE session_id = :s AND student_id = :p"),
            {"s": session.id, "p": college.students[0].id},
        ).scalar_one()
    assert marks == 1


# -- one substitute, overlapping covers -------------------------------------------------------


def extra_sessions(college: SmallCollege, count: int) -> list[ClassSession]:
    """Ad-hoc sessions of alice's CS101 on ``count`` distinct days (no slot)."""
    assignment = college.alice_cs_a
    return [
        ClassSession(
            id=SessionId(f"extra-{n:03d}"),
            institution_id=college.id,
            assignment_id=assignment.id,
            section_id=assignment.section_id,
            subject_code=assignment.subject_code,
            date=date(2027, 1, 1) + timedelta(days=n),
            start=time(9),
            end=time(10),
            teacher_id=assignment.faculty_id,
        )
        for n in range(count)
    ]


def book_overlapping_covers(engine: Engine, count: int, workers: int) -> list[object]:
    """Seed a college with ``count`` sessions and race ``count`` bookings of bob, all from
    COVER_START to an hour later, one per session; return the outcomes."""
    college = seed_small_college(SqlUnitOfWork(engine))
    sessions = extra_sessions(college, count)
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert uow.sessions.add_many(sessions) == count
        uow.commit()

    def book(index: int) -> CoverId:
        cover = CoverAssignment(
            id=CoverId(f"cover-{index:03d}"),
            institution_id=college.id,
            session_id=sessions[index].id,
            substitute_id=college.bob.id,
            starts_at=COVER_START + timedelta(minutes=index % 30),
            ends_at=COVER_START + timedelta(hours=1),
            booked_at=CLASS_START,
        )
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            uow.covers.add(cover)
            uow.commit()
        return cover.id

    outcomes: list[object] = list(race(count, workers, book))
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        stored = uow.covers.list_for_substitute(
            college.bob.id, COVER_START - timedelta(days=1), COVER_START + timedelta(days=1)
        )
    booked = [o for o in outcomes if isinstance(o, str)]
    assert [c.id for c in stored] == booked
    return outcomes


def assert_one_booking_won(outcomes: list[object]) -> None:
    booked = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if not isinstance(o, str)]
    assert len(booked) == 1, refused[:3]
    assert all(isinstance(e, ConflictError) for e in refused), refused[:3]
    codes = {e.code for e in refused if isinstance(e, ConflictError)}
    assert codes == {"substitute_double_booked"}, [e for e in refused if str(e)][:3]


def test_two_hundred_simultaneous_overlapping_covers_of_one_substitute_book_one_on_postgresql(
    pg: PostgresDatabase,
) -> None:
    outcomes = book_overlapping_covers(pg.app, 200, WORKERS)
    assert_one_booking_won(outcomes)
    with pg.owner.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cover_assignments")).scalar_one() == 1


def test_simultaneous_overlapping_covers_of_one_substitute_book_one_on_sqlite(
    sqlite_engine: Engine,
) -> None:
    outcomes = book_overlapping_covers(sqlite_engine, 20, 20)
    assert_one_booking_won(outcomes)
    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cover_assignments")).scalar_one() == 1


@pytest.mark.parametrize("minutes_apart", [60, 90])
def test_back_to_back_covers_of_one_substitute_do_not_clash(
    pg: PostgresDatabase, minutes_apart: int
) -> None:
    """Guard for the race: covers that merely touch or are apart are both booked."""
    college = seed_small_college(SqlUnitOfWork(pg.app))
    sessions = extra_sessions(college, 2)
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        uow.sessions.add_many(sessions)
        for n, session in enumerate(sessions):
            start = COVER_START + timedelta(minutes=minutes_apart * n)
            uow.covers.add(
                CoverAssignment(
                    CoverId(f"c{n}"),
                    college.id,
                    session.id,
                    college.bob.id,
                    start,
                    start + timedelta(hours=1),
                    CLASS_START,
                )
            )
        uow.commit()
    with pg.owner.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cover_assignments")).scalar_one() == 2


# -- one account, many wrong passwords ---------------------------------------------------------


def test_twenty_parallel_wrong_passwords_lock_after_exactly_five_and_answer_alike(
    pg: PostgresDatabase,
) -> None:
    from ams_adapters.identity import Argon2PasswordHasher, JwtAccessTokens
    from ams_core.domain import AuthenticationError, PasswordCredential, PasswordPolicy
    from ams_core.use_cases import SignInLifetimes, SignInWithPassword, SignInWithPasswordCommand

    college = seed_small_college(SqlUnitOfWork(pg.app))
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    right = "correct horse battery staple"
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        uow.passwords.put(PasswordCredential(college.id, college.alice.email, hasher.hash(right)))
        uow.commit()
    stopped = clock()
    policy = PasswordPolicy(max_failures=5)

    def sign_in(command: SignInWithPasswordCommand) -> object:  # one use case per request
        return SignInWithPassword(
            SqlUnitOfWork(pg.app),
            hasher,
            JwtAccessTokens(b"k" * 48, clock=stopped),
            stopped,
            SeededRandomSource(3),
            SignInLifetimes(),
            policy,
        )(command)

    def attempt(n: int) -> object:
        return sign_in(SignInWithPasswordCommand(college.alice.email, f"wrong guess {n}"))

    outcomes = race(20, 20, attempt)

    answers = {(type(o).__name__, getattr(o, "code", ""), str(o)) for o in outcomes}
    assert len(answers) == 1, answers
    assert all(isinstance(o, AuthenticationError) for o in outcomes)
    with pytest.raises(AuthenticationError) as unknown:
        sign_in(SignInWithPasswordCommand("nobody@a.edu", "wrong guess"))
    assert answers == {("AuthenticationError", unknown.value.code, str(unknown.value))}
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        credential = uow.passwords.find(college.alice.email)
    assert credential is not None
    assert credential.locked_until == stopped.now() + policy.lockout
    assert credential.version == policy.max_failures  # exactly five counted
    with pytest.raises(AuthenticationError):  # locked: the right password is refused too
        sign_in(SignInWithPasswordCommand(college.alice.email, right))


# -- one app, one refresh token, several refreshes at once -------------------------------------


def test_simultaneous_refreshes_with_one_token_keep_the_session_and_agree_on_the_token(
    pg: PostgresDatabase,
) -> None:
    from ams_adapters.identity import JwtAccessTokens
    from ams_core.testing.builders import OPERATOR
    from ams_core.use_cases import (
        IssueLocalToken,
        IssueLocalTokenCommand,
        RefreshSignIn,
        RefreshSignInCommand,
        RevocationCache,
        SignInLifetimes,
    )

    college = seed_small_college(SqlUnitOfWork(pg.app))
    stopped = clock()
    tokens = JwtAccessTokens(b"k" * 48, clock=stopped)
    lifetimes = SignInLifetimes()
    issued = IssueLocalToken(
        SqlUnitOfWork(pg.app), tokens, stopped, SeededRandomSource(2), lifetimes
    )(IssueLocalTokenCommand(OPERATOR, college.alice.email))
    revocations = RevocationCache(
        lambda: SqlUnitOfWork(pg.app), stopped, lookback=timedelta(minutes=15)
    )

    def attempt(_: int) -> str:
        refresh = RefreshSignIn(
            SqlUnitOfWork(pg.app), tokens, stopped, SeededRandomSource(5), lifetimes, revocations
        )
        return refresh(RefreshSignInCommand(issued.refresh_token)).refresh_token

    outcomes = race(10, 10, attempt)

    assert all(isinstance(o, str) for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    assert issued.principal.sign_in_id is not None
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        sign_in = uow.sign_ins.find(issued.principal.sign_in_id)
    assert sign_in is not None
    assert sign_in.revoked_at is None
    assert sign_in.version == 1  # one rotation stored; the others agreed with it


# -- one notification, its parts ---------------------------------------------------------------


def test_the_parts_of_a_notification_recorded_at_once_all_count_and_the_last_delivers_it(
    pg: PostgresDatabase,
) -> None:
    college = seed_small_college(SqlUnitOfWork(pg.app))
    parts = 40
    notification = Notification(
        NotificationId("N-parts"),
        college.id,
        "broadcast",
        "Lab moved",
        "Room 204",
        (Recipient(RecipientKind.SECTION, "E2-CSE-A"),),
        "key-parts",
        COVER_START,
    )
    with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
        uow.outbox.add(notification)
        uow.outbox.split(notification.id, parts)
        uow.commit()

    def record(part: int) -> bool:
        with SqlUnitOfWork(pg.app).for_institution(college.id) as uow:
            at = COVER_START + timedelta(seconds=part)
            recorded = uow.outbox.record_part(notification.id, part, at, DeliveryReport(3, 1))
            uow.commit()
            return recorded

    # every part twice, all released together: each counts once, none is lost
    outcomes = race(2 * parts, parts, lambda index: record(index % parts))
    assert sorted(o for o in outcomes if isinstance(o, bool)).count(True) == parts
    with SqlUnitOfWork(pg.app).for_platform() as uow:
        sent = uow.outbox.find(notification.id)
    assert sent is not None
    assert sent.parts_done == frozenset(range(parts))
    assert (sent.delivered, sent.failed) == (3 * parts, parts)
    assert sent.delivered_at is not None
