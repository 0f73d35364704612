"""GenerateWeek: expanding the weekly timetable into dated sessions (PRODUCT.md §2.3)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from ams_adapters.memory import FixedClock, InMemoryUnitOfWork, SeededRandomSource
from ams_core.domain import (
    AttendanceStatus,
    DateRange,
    Holiday,
    InstitutionId,
    NotFoundError,
    PermissionDeniedError,
    SessionStatus,
    ValidationError,
)
from ams_core.testing.builders import MONDAY, OPERATOR, SmallCollege, seed_small_college
from ams_core.use_cases import GenerateWeekCommand, GenerateWeekResult
from tests.core.use_cases.helpers import WEDNESDAY, WEEK, App


@pytest.fixture
def app(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    random_source: SeededRandomSource,
    college: SmallCollege,
) -> App:
    return App(uow, clock, random_source, college)


WEEK_DATES = DateRange(MONDAY, MONDAY + timedelta(days=6))


def test_a_term_week_creates_one_session_per_weekly_slot_and_weekday(app: App) -> None:
    result = app.generate()

    assert result == GenerateWeekResult(
        created=15, already_present=0, skipped_holidays=0, skipped_outside_term=0
    )
    sessions = app.sessions(WEEK_DATES)
    assert len(sessions) == 15
    assert {s.date for s in sessions} == {MONDAY + timedelta(days=i) for i in range(5)}
    assert all(s.status is SessionStatus.SCHEDULED for s in sessions)
    assert len({s.id for s in sessions}) == 15
    monday_cs_a = app.session(app.college.alice_cs_a)
    assert (monday_cs_a.start, monday_cs_a.end) == (time(9), time(10))
    assert monday_cs_a.teacher_id == app.college.alice.id
    assert monday_cs_a.section_id == app.college.section_a.id
    assert monday_cs_a.subject_code == app.college.cs101.code
    assert monday_cs_a.venue == "Room A1"
    assert monday_cs_a.slot_id == "A1-1"


def test_generating_the_same_week_twice_creates_nothing_the_second_time(app: App) -> None:
    app.generate()
    before = app.sessions(WEEK_DATES)

    again = app.generate()

    assert again == GenerateWeekResult(
        created=0, already_present=15, skipped_holidays=0, skipped_outside_term=0
    )
    assert app.sessions(WEEK_DATES) == before


def test_a_range_overlapping_a_generated_week_only_adds_the_missing_days(app: App) -> None:
    app.generate()

    result = app.generate_week(
        GenerateWeekCommand(app.college.admin, DateRange(WEDNESDAY, MONDAY + timedelta(days=9)))
    )

    # Wed–Fri of week 47 exist already; Mon–Wed of week 48 are new.
    assert (result.created, result.already_present) == (9, 9)
    assert len(app.sessions(DateRange(MONDAY, MONDAY + timedelta(days=13)))) == 24


def test_holidays_are_skipped_and_counted(app: App) -> None:
    with app.uow.for_institution(app.college.id) as uow:
        uow.holidays.add(Holiday(app.college.id, WEDNESDAY, "Festival"))
        uow.commit()

    result = app.generate()

    assert result == GenerateWeekResult(
        created=12, already_present=0, skipped_holidays=3, skipped_outside_term=0
    )
    assert WEDNESDAY not in {s.date for s in app.sessions(WEEK_DATES)}


def test_dates_outside_every_term_are_skipped_and_counted(app: App) -> None:
    # The term ends on Friday 2026-12-18: the week after it is outside every term.
    dates = DateRange(date(2026, 12, 14), date(2026, 12, 27))

    result = app.generate_week(GenerateWeekCommand(app.college.admin, dates))

    assert result == GenerateWeekResult(
        created=15, already_present=0, skipped_holidays=0, skipped_outside_term=15
    )
    assert max(s.date for s in app.sessions(dates)) == date(2026, 12, 18)


def test_a_holiday_outside_the_term_counts_as_a_holiday(app: App) -> None:
    with app.uow.for_institution(app.college.id) as uow:
        uow.holidays.add(Holiday(app.college.id, date(2026, 12, 21), "Winter break"))
        uow.commit()

    result = app.generate("2026-W52")

    assert result == GenerateWeekResult(
        created=0, already_present=0, skipped_holidays=3, skipped_outside_term=12
    )


def test_completed_sessions_are_left_untouched_by_a_second_run(app: App) -> None:
    app.generate()
    session = app.session(app.college.alice_cs_a)
    app.hold(
        session,
        {app.college.students[0].id: AttendanceStatus.PRESENT},
        topic="Linked lists",
    )
    completed = app.reload(session)

    result = app.generate()

    assert result.created == 0
    assert result.already_present == 15
    assert app.reload(session) == completed
    assert completed.status is SessionStatus.COMPLETED
    assert completed.topic == "Linked lists"
    assert app.statuses(completed)[app.college.students[0].id] is AttendanceStatus.PRESENT


@pytest.mark.parametrize("who", ["student", "faculty"])
def test_only_an_admin_may_generate(app: App, who: str) -> None:
    actor = app.college.as_student() if who == "student" else app.college.as_alice()

    with pytest.raises(PermissionDeniedError):
        app.generate_week(GenerateWeekCommand.for_week(actor, WEEK))

    assert app.sessions(WEEK_DATES) == []


def test_an_admin_naming_another_institution_is_told_it_does_not_exist(
    app: App, uow: InMemoryUnitOfWork
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")

    with pytest.raises(NotFoundError):
        app.generate_week(GenerateWeekCommand.for_week(other.admin, WEEK, app.college.id))

    assert app.sessions(WEEK_DATES) == []
    assert app.sessions(WEEK_DATES, other.id) == []


def test_an_admin_may_name_their_own_institution(app: App) -> None:
    result = app.generate_week(
        GenerateWeekCommand.for_week(app.college.admin, WEEK, app.college.id)
    )

    assert result.created == 15


def test_a_platform_operator_may_generate_for_a_named_institution(
    app: App, uow: InMemoryUnitOfWork
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")

    result = app.generate_week(GenerateWeekCommand.for_week(OPERATOR, WEEK, other.id))

    assert result.created == 15
    assert len(app.sessions(WEEK_DATES, other.id)) == 15
    assert app.sessions(WEEK_DATES) == []


def test_a_platform_operator_must_name_the_institution(app: App) -> None:
    with pytest.raises(PermissionDeniedError):
        app.generate_week(GenerateWeekCommand.for_week(OPERATOR, WEEK))


def test_a_platform_operator_naming_an_unknown_institution_is_told_it_does_not_exist(
    app: App,
) -> None:
    with pytest.raises(NotFoundError):
        app.generate_week(GenerateWeekCommand.for_week(OPERATOR, WEEK, InstitutionId("nope")))


def test_a_range_longer_than_a_year_is_refused(app: App) -> None:
    dates = DateRange(date(2026, 8, 3), date(2026, 8, 3) + timedelta(days=366))
    assert len(dates) == 367

    with pytest.raises(ValidationError) as error:
        app.generate_week(GenerateWeekCommand(app.college.admin, dates))

    assert [p.field for p in error.value.problems] == ["dates"]
    assert app.sessions(DateRange(date(2026, 8, 3), date(2026, 12, 31))) == []


def test_a_range_of_exactly_a_year_is_accepted(app: App) -> None:
    dates = DateRange(date(2026, 8, 3), date(2026, 8, 3) + timedelta(days=365))

    result = app.generate_week(GenerateWeekCommand(app.college.admin, dates))

    # The term runs Monday 2026-08-03 to Friday 2026-12-18: 20 weeks of 15 sessions.
    assert result.created == 20 * 15
    assert (
        result.created + result.skipped_outside_term
        == len([d for d in dates if d.isoweekday() <= 5]) * 3
    )
