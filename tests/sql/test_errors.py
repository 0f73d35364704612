"""Database failures become core errors: no driver exception crosses the port, and an
engine recovers after its server connection was lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ams_adapters.sql.persistence import SqlUnitOfWork
from ams_core.domain import (
    ConflictError,
    DeviceBinding,
    DeviceId,
    FacultyId,
    Holiday,
    InstitutionId,
    NotFoundError,
    SectionId,
    Student,
    StudentId,
    UnavailableError,
    ValidationError,
)
from ams_core.testing.builders import SmallCollege, seed_small_college
from tests.sql.conftest import PostgresDatabase
from tests.sql.helpers import HOLIDAY, app_engine

BOUND_AT = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The SQLite file database or the PostgreSQL database (as the app login), migrated
    and empty."""
    if request.param == "sqlite":
        sqlite: Engine = request.getfixturevalue("sqlite_engine")
        return sqlite
    database: PostgresDatabase = request.getfixturevalue("pg")
    return database.app


@pytest.fixture
def college(engine: Engine) -> SmallCollege:
    return seed_small_college(SqlUnitOfWork(engine), holidays=(HOLIDAY,))


def newcomer(college: SmallCollege, email: str) -> Student:
    return Student(StudentId("N21NEW"), college.id, "Newcomer", email, college.section_a.id)


# -- constraint violations --------------------------------------------------------------------


def test_a_second_student_with_the_same_email_is_a_conflict_with_code_email_taken(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        with pytest.raises(ConflictError) as taken:
            uow.students.add(newcomer(college, college.students[0].email))
        assert taken.value.code == "email_taken"
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert uow.students.find(StudentId("N21NEW")) is None


def test_a_second_teacher_with_the_same_email_is_a_conflict_with_code_email_taken(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        twin = dataclasses.replace(college.bob, id=FacultyId("F-twin"))
        with pytest.raises(ConflictError) as taken:
            uow.faculty.add(twin)
        assert taken.value.code == "email_taken"


@pytest.mark.parametrize(
    ("write", "code"),
    [
        ("holiday", "holiday_exists"),
        ("student id", "student_exists"),
        ("second device", "device_mismatch"),
        ("shared device", "device_in_use"),
    ],
)
def test_duplicate_keys_become_conflicts_with_their_own_code(
    engine: Engine, college: SmallCollege, write: str, code: str
) -> None:
    first, second = college.students[0].id, college.students[1].id
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        uow.devices.add(DeviceBinding(college.id, first, DeviceId("phone-first"), BOUND_AT))
        uow.commit()
    attempts: dict[str, Callable[[SqlUnitOfWork], None]] = {
        "holiday": lambda uow: uow.holidays.add(Holiday(college.id, HOLIDAY, "again")),
        "student id": lambda uow: uow.students.add(
            dataclasses.replace(college.students[0], email="other@a.edu")
        ),
        "second device": lambda uow: uow.devices.add(
            DeviceBinding(college.id, first, DeviceId("phone-other"), BOUND_AT)
        ),
        "shared device": lambda uow: uow.devices.add(
            DeviceBinding(college.id, second, DeviceId("phone-first"), BOUND_AT)
        ),
    }
    with (
        SqlUnitOfWork(engine).for_institution(college.id) as uow,
        pytest.raises(ConflictError) as clash,
    ):
        attempts[write](uow)
    assert clash.value.code == code


def test_a_reference_to_a_missing_parent_is_not_found(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow, pytest.raises(NotFoundError):
        uow.students.add(
            dataclasses.replace(newcomer(college, "x@a.edu"), section_id=SectionId("nowhere"))
        )


def test_a_delete_refused_by_a_foreign_key_is_a_conflict_with_code_in_use(
    engine: Engine, college: SmallCollege
) -> None:
    """The same driver error as a missing parent, told apart by the statement: a DELETE
    that would orphan rows (ON DELETE RESTRICT) is ``in_use``, never ``*_not_found``."""
    delete = text("DELETE FROM sections WHERE institution_id = :iid AND id = :id")
    with (
        SqlUnitOfWork(engine).for_institution(college.id) as uow,
        pytest.raises(ConflictError) as refused,
    ):
        uow.execute(delete, {"iid": college.id, "id": college.section_a.id})
    assert refused.value.code == "in_use"
    # PostgreSQL names the referring table (students and assignments both refer to it)
    referrers = (
        ("students", "assignments") if engine.dialect.name == "postgresql" else ("other records",)
    )
    assert str(refused.value) in {f"the row is still referred to by {r}" for r in referrers}


def test_a_refused_removal_leaves_the_unit_of_work_usable(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        with pytest.raises(ConflictError) as refused:
            uow.sections.remove(college.section_a.id)
        assert refused.value.code == "in_use"
        assert uow.sections.remove(SectionId("nowhere")) is False
        uow.holidays.add(Holiday(college.id, date(2026, 10, 3), "next day"))
        uow.commit()
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert uow.sections.get(college.section_a.id) == college.section_a
        assert [h.date for h in uow.holidays.list()] == [HOLIDAY, date(2026, 10, 3)]


def test_a_row_breaking_a_check_constraint_is_a_validation_error(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow, pytest.raises(ValidationError):
        uow.execute(
            text("UPDATE weekly_slots SET weekday = 9 WHERE institution_id = :iid AND id = :id"),
            {"iid": college.id, "id": college.slots[0].id},
        )


def test_after_a_failed_statement_the_unit_of_work_can_roll_back_and_go_on(
    engine: Engine, college: SmallCollege
) -> None:
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        with pytest.raises(ConflictError):
            uow.holidays.add(Holiday(college.id, HOLIDAY, "again"))
        uow.rollback()
        uow.holidays.add(Holiday(college.id, date(2026, 10, 3), "next day"))
        uow.commit()
    with SqlUnitOfWork(engine).for_institution(college.id) as uow:
        assert [h.date for h in uow.holidays.list()] == [HOLIDAY, date(2026, 10, 3)]


# -- an unavailable or failing server ---------------------------------------------------------


def test_a_statement_over_the_timeout_is_unavailable(pg: PostgresDatabase) -> None:
    impatient = app_engine(pg.app_url, statement_timeout_ms=50)
    try:
        with (
            SqlUnitOfWork(impatient).for_institution(InstitutionId("inst-a")) as uow,
            pytest.raises(UnavailableError),
        ):
            uow.execute(text("SELECT pg_sleep(1)"))
        with SqlUnitOfWork(impatient).for_institution(InstitutionId("inst-a")) as uow:
            assert uow.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        impatient.dispose()


def test_an_unreachable_server_is_unavailable_when_the_unit_of_work_starts(
    postgres: PostgresDatabase,
) -> None:
    nowhere = app_engine("postgresql+psycopg://ams_api_test@127.0.0.1:1/nowhere")
    uow = SqlUnitOfWork(nowhere)
    try:
        with pytest.raises(UnavailableError), uow.for_institution(InstitutionId("inst-a")):
            pytest.fail("the unit of work must not start")
        # the failed start left the unit of work idle and reusable
        with pytest.raises(UnavailableError), uow.for_institution(InstitutionId("inst-a")):
            pytest.fail("the unit of work must not start")
    finally:
        nowhere.dispose()


def test_a_killed_backend_is_unavailable_and_the_pool_recovers(pg: PostgresDatabase) -> None:
    college = seed_small_college(SqlUnitOfWork(pg.app))
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0)
    try:
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            victim = uow.execute(text("SELECT pg_backend_pid()")).scalar_one()
            assert len(uow.students.list()) == 6
            with pg.owner.connect() as owner:
                killed = owner.execute(
                    text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": victim}
                ).scalar_one()
            assert killed is True
            with pytest.raises(UnavailableError):
                uow.students.list()
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            assert uow.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
            assert len(uow.students.list()) == 6
            uow.holidays.add(Holiday(college.id, HOLIDAY, "after the outage"))
            uow.commit()
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            assert [h.name for h in uow.holidays.list()] == ["after the outage"]
    finally:
        engine.dispose()


def test_a_backend_killed_between_units_of_work_fails_one_and_then_recovers(
    pg: PostgresDatabase,
) -> None:
    """Without pre-ping the next checkout gets the dead connection: that unit of work fails
    as unavailable (never with a driver error) and the one after it works."""
    college = seed_small_college(SqlUnitOfWork(pg.app))
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0, pre_ping=False)
    try:
        victim = kill_the_pooled_backend(pg, engine, college.id)
        with (
            pytest.raises(UnavailableError),
            SqlUnitOfWork(engine).for_institution(college.id) as uow,
        ):
            uow.students.list()
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            assert uow.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
            assert len(uow.students.list()) == 6
    finally:
        engine.dispose()


def test_with_pre_ping_a_backend_killed_between_units_of_work_goes_unnoticed(
    pg: PostgresDatabase,
) -> None:
    college = seed_small_college(SqlUnitOfWork(pg.app))
    engine = app_engine(pg.app_url, pool_size=1, max_overflow=0, pre_ping=True)
    try:
        victim = kill_the_pooled_backend(pg, engine, college.id)
        with SqlUnitOfWork(engine).for_institution(college.id) as uow:
            assert uow.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
            assert len(uow.students.list()) == 6
    finally:
        engine.dispose()


def kill_the_pooled_backend(
    pg: PostgresDatabase, engine: Engine, institution_id: InstitutionId
) -> int:
    """Run one unit of work, then terminate the server process of its (pooled) connection."""
    with SqlUnitOfWork(engine).for_institution(institution_id) as uow:
        victim = int(uow.execute(text("SELECT pg_backend_pid()")).scalar_one())
    with pg.owner.connect() as owner:
        killed = owner.execute(
            text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": victim}
        ).scalar_one()
    assert killed is True
    return victim
