"""OpenAttendance: the teacher of record opens the check-in window and sees the code
(PRODUCT.md §2.4, "Opening attendance").
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_adapters.memory import InMemoryUnitOfWork
from ams_core.domain import (
    AttendanceStatus,
    ConflictError,
    InstitutionSettings,
    NotFoundError,
    PermissionDeniedError,
    SessionStatus,
)
from ams_core.testing.builders import MONDAY, seed_small_college
from ams_core.use_cases import OpenAttendanceCommand
from tests.conftest import CLASS_START
from tests.core.use_cases.helpers import App


def test_the_teacher_of_record_gets_a_six_digit_code_and_a_ten_minute_window(app: App) -> None:
    session = app.session(app.college.alice_cs_a)

    result = app.open(session, app.college.as_alice())

    assert len(result.code) == 6
    assert result.code.isdigit()
    assert result.session_id == session.id
    assert result.rotates_every_seconds == 30
    assert result.window_opened_at == CLASS_START
    assert result.window_closes_at == CLASS_START + timedelta(minutes=10)
    assert result.code_valid_until == CLASS_START + timedelta(seconds=30)
    stored = app.reload(session)
    assert stored.status is SessionStatus.OPEN
    assert stored.window is not None
    assert stored.window.opened_at == CLASS_START
    assert stored.window.closes_at == CLASS_START + timedelta(minutes=10)
    assert stored.window.code_at(CLASS_START) == result.code


def test_rotation_and_window_length_come_from_the_institution_settings(app: App) -> None:
    app.set_settings(InstitutionSettings(code_rotation_seconds=45, check_in_window_minutes=5))
    session = app.session(app.college.alice_cs_a)

    result = app.open(session)

    assert result.rotates_every_seconds == 45
    assert result.window_closes_at == CLASS_START + timedelta(minutes=5)
    assert result.code_valid_until <= CLASS_START + timedelta(seconds=45)
    assert result.code_valid_until > CLASS_START


def test_the_code_changes_every_rotation_step(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    codes = [app.open(session).code]
    for _ in range(4):
        app.clock.advance(seconds=30)
        codes.append(app.open(session).code)

    assert len(set(codes)) == 5


def test_refreshing_while_the_window_is_open_keeps_the_window_and_its_secret(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    first = app.open(session)
    opened = app.reload(session)

    app.clock.advance(minutes=4)
    refreshed = app.open(session)

    assert app.reload(session) == opened
    assert (refreshed.window_opened_at, refreshed.window_closes_at) == (
        first.window_opened_at,
        first.window_closes_at,
    )
    assert opened.window is not None
    assert refreshed.code == opened.window.code_at(app.clock.now())


def test_reopening_after_the_window_closed_starts_a_new_window_with_a_new_secret(
    app: App,
) -> None:
    session = app.session(app.college.alice_cs_a)
    app.open(session)
    first = app.reload(session).window
    assert first is not None

    app.clock.set(first.closes_at)
    result = app.open(session)

    second = app.reload(session).window
    assert second is not None
    assert second.opened_at == first.closes_at
    assert second.closes_at == first.closes_at + timedelta(minutes=10)
    assert second.secret != first.secret
    assert result.window_opened_at == second.opened_at
    assert app.reload(session).status is SessionStatus.OPEN


@pytest.mark.parametrize("who", ["other teacher", "student", "admin"])
def test_only_the_teacher_of_record_may_open_attendance(app: App, who: str) -> None:
    actor = {
        "other teacher": app.college.as_bob(),
        "student": app.college.as_student(),
        "admin": app.college.admin,
    }[who]
    session = app.session(app.college.alice_cs_a)

    with pytest.raises(PermissionDeniedError):
        app.open(session, actor)

    assert app.reload(session) == session
    assert session.window is None


def test_a_substitute_who_is_teacher_of_record_may_open_and_the_regular_teacher_may_not(
    app: App,
) -> None:
    session = app.replace_session(
        app.session(app.college.alice_cs_a), teacher_id=app.college.bob.id
    )

    with pytest.raises(PermissionDeniedError):
        app.open(session, app.college.as_alice())
    result = app.open(session, app.college.as_bob())

    assert len(result.code) == 6


def test_attendance_can_be_opened_from_fifteen_minutes_before_the_start(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    app.at(MONDAY, 8, 45)

    result = app.open(session)

    assert result.window_opened_at == CLASS_START - timedelta(minutes=15)


def test_opening_earlier_than_fifteen_minutes_before_the_start_is_refused(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    app.at(MONDAY, 8, 44, 59)

    with pytest.raises(ConflictError) as error:
        app.open(session)

    assert error.value.code == "outside_session_time"
    assert app.reload(session) == session


def test_opening_after_the_class_ended_is_refused(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    app.at(MONDAY, 10, 0)

    with pytest.raises(ConflictError) as error:
        app.open(session)

    assert error.value.code == "outside_session_time"
    assert app.reload(session).status is SessionStatus.SCHEDULED


def test_opening_a_cancelled_class_is_refused(app: App) -> None:
    session = app.cancel(app.session(app.college.alice_cs_a))

    with pytest.raises(ConflictError) as error:
        app.open(session)

    assert error.value.code == "session_cancelled"
    assert app.reload(session).window is None


def test_opening_a_completed_class_is_refused(app: App) -> None:
    session = app.session(app.college.alice_cs_a)
    app.open(session)
    app.hold(session, {app.college.students[0].id: AttendanceStatus.PRESENT})
    completed = app.reload(session)

    with pytest.raises(ConflictError) as error:
        app.open(session)

    assert error.value.code == "session_completed"
    assert app.reload(session) == completed


def test_a_session_of_another_institution_is_not_found(app: App, uow: InMemoryUnitOfWork) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    app.generate(college=other)
    foreign = app.session(other.alice_cs_a)

    with pytest.raises(NotFoundError):
        app.open_attendance(OpenAttendanceCommand(app.college.as_alice(), foreign.id))

    assert app.reload(foreign).window is None


def test_static_mode_shows_one_code_for_the_whole_window(app: App) -> None:
    app.set_settings(InstitutionSettings(code_rotation_seconds=0))
    session = app.session(app.college.alice_cs_a)

    result = app.open(session)

    assert result.rotates_every_seconds == 0
    assert result.code_valid_until == result.window_closes_at
    app.clock.advance(minutes=9, seconds=59)
    assert app.open(session).code == result.code
    student = app.college.as_student()
    app.bind(student)
    # 9 min 59 s after the start: not late yet, and the opening code still works.
    assert app.check_in(student, session, result.code).status is AttendanceStatus.PRESENT
