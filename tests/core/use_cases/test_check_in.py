"""CheckIn: a student checks in with the code shown in class (PRODUCT.md §2.4, "Student
check-in" and "Limits"). Every refusal reason has its own test.
"""

from __future__ import annotations

import pytest

from ams_adapters.memory import InMemoryUnitOfWork
from ams_core.domain import (
    AttendanceStatus,
    CheckInRefusal,
    CheckInRefusedError,
    ClassSession,
    InstitutionSettings,
    MarkSource,
    NotFoundError,
    PermissionDeniedError,
    Principal,
    Recipient,
    RecipientKind,
    SecurityEventKind,
    SessionId,
)
from ams_core.testing.builders import MONDAY, seed_small_college, student_principal
from ams_core.use_cases import CheckInCommand
from tests.conftest import CLASS_START
from tests.core.use_cases.helpers import App, phone_of, wrong_code


@pytest.fixture
def session(app: App) -> ClassSession:
    """Alice's CS101 class for section A, Monday 09:00–10:00 (not opened yet)."""
    return app.session(app.college.alice_cs_a)


@pytest.fixture
def student(app: App) -> Principal:
    """The first student of section A, with their phone bound."""
    principal = app.college.as_student(0)
    app.bind(principal)
    return principal


def refusal(
    app: App,
    student: Principal,
    session: ClassSession,
    code: str | None = None,
    **kwargs: str | None,
) -> CheckInRefusedError:
    """Check in expecting a refusal; return it."""
    with pytest.raises(CheckInRefusedError) as error:
        app.check_in(student, session, code, **kwargs)
    return error.value


def event_kinds(app: App) -> list[SecurityEventKind]:
    return [e.kind for e in app.events()]


# -- accepted ------------------------------------------------------------------------------


def test_the_current_code_from_the_bound_phone_marks_the_student_present(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)

    result = app.check_in(student, session)

    assert result.status is AttendanceStatus.PRESENT
    assert result.marked_at == CLASS_START
    assert result.already_marked is False
    assert student.student_id is not None
    mark = app.marks(session)[student.student_id]
    assert mark.status is AttendanceStatus.PRESENT
    assert mark.source is MarkSource.CHECK_IN
    assert mark.device_id == phone_of(student.student_id)
    assert mark.marked_by == student.email
    assert len(app.marks(session)) == 1
    assert app.events() == []


def test_a_check_in_exactly_ten_minutes_after_the_start_is_still_present(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.at(MONDAY, 9, 5)
    app.open(session)
    app.at(MONDAY, 9, 10)

    assert app.check_in(student, session).status is AttendanceStatus.PRESENT


def test_a_check_in_later_than_ten_minutes_after_the_start_is_late(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.at(MONDAY, 9, 5)
    app.open(session)
    app.at(MONDAY, 9, 10, 1)

    result = app.check_in(student, session)

    assert result.status is AttendanceStatus.LATE
    assert student.student_id is not None
    assert app.statuses(session) == {student.student_id: AttendanceStatus.LATE}


def test_late_after_minutes_comes_from_the_institution_settings(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.set_settings(InstitutionSettings(late_after_minutes=2))
    app.open(session)
    app.clock.advance(minutes=2, seconds=1)

    assert app.check_in(student, session).status is AttendanceStatus.LATE


def test_a_check_in_before_the_start_in_an_early_window_is_present(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.at(MONDAY, 8, 50)
    app.open(session)

    assert app.check_in(student, session).status is AttendanceStatus.PRESENT


def test_the_code_of_the_previous_step_is_still_accepted(
    app: App, session: ClassSession, student: Principal
) -> None:
    shown = app.open(session).code
    app.clock.advance(seconds=30)
    assert app.code(session) != shown

    result = app.check_in(student, session, shown)

    assert result.status is AttendanceStatus.PRESENT


def test_the_code_of_two_steps_ago_is_refused_as_wrong(
    app: App, session: ClassSession, student: Principal
) -> None:
    shown = app.open(session).code
    app.clock.advance(seconds=60)

    error = refusal(app, student, session, shown)

    assert error.reason is CheckInRefusal.WRONG_CODE
    assert app.marks(session) == {}


def test_checking_in_twice_is_idempotent(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)
    first = app.check_in(student, session)
    app.clock.advance(minutes=5)

    second = app.check_in(student, session)

    assert second.already_marked is True
    assert (second.status, second.marked_at) == (first.status, first.marked_at)
    assert len(app.marks(session)) == 1
    assert student.student_id is not None
    assert app.marks(session)[student.student_id].marked_at == CLASS_START


def test_students_are_marked_independently(app: App, session: ClassSession) -> None:
    students = [app.college.as_student(i) for i in range(5)]
    for principal in students:
        app.bind(principal)
    app.open(session)

    for principal in students[:3]:
        app.check_in(principal, session)

    assert app.statuses(session) == {
        s.id: AttendanceStatus.PRESENT for s in app.college.students[:3]
    }


# -- refusals, one per reason ----------------------------------------------------------------


def test_a_student_of_another_section_is_refused_as_not_in_section(
    app: App, session: ClassSession
) -> None:
    outsider = student_principal(app.college.outsider)
    app.bind(outsider)
    app.open(session)

    error = refusal(app, outsider, session)

    assert error.reason is CheckInRefusal.NOT_IN_SECTION
    assert error.code == "not_in_section"
    assert app.marks(session) == {}


def test_a_cancelled_class_refuses_check_in(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)
    code = app.code(session)
    app.cancel(session)

    error = refusal(app, student, session, code)

    assert error.reason is CheckInRefusal.SESSION_CANCELLED
    assert app.marks(session) == {}


def test_a_completed_class_refuses_check_in_even_to_a_student_it_marked_absent(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)
    code = app.code(session)
    app.hold(session)
    app.at(MONDAY, 9, 50)

    error = refusal(app, student, session, code)

    assert error.reason is CheckInRefusal.SESSION_COMPLETED
    assert student.student_id is not None
    assert app.statuses(session)[student.student_id] is AttendanceStatus.ABSENT


def test_a_class_not_opened_yet_refuses_check_in(
    app: App, session: ClassSession, student: Principal
) -> None:
    error = refusal(app, student, session, "123456")

    assert error.reason is CheckInRefusal.ATTENDANCE_NOT_OPEN
    assert app.marks(session) == {}


def test_a_check_in_after_the_window_closed_is_refused_until_it_is_reopened(
    app: App, session: ClassSession, student: Principal
) -> None:
    opened = app.open(session)
    app.clock.set(opened.window_closes_at)

    error = refusal(app, student, session, opened.code)

    assert error.reason is CheckInRefusal.ATTENDANCE_CLOSED
    assert app.marks(session) == {}
    app.open(session)
    app.clock.advance(minutes=1)
    assert app.check_in(student, session).status is AttendanceStatus.LATE


def test_a_student_without_a_bound_device_is_refused(app: App, session: ClassSession) -> None:
    unbound = app.college.as_student(1)
    app.open(session)

    error = refusal(app, unbound, session)

    assert error.reason is CheckInRefusal.DEVICE_NOT_BOUND
    assert app.marks(session) == {}


def test_a_device_other_than_the_bound_one_is_refused_and_recorded(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)

    error = refusal(app, student, session, device="someone-elses-phone", client_ip="10.1.1.1")

    assert error.reason is CheckInRefusal.DEVICE_MISMATCH
    assert app.marks(session) == {}
    [event] = app.events()
    assert event.kind is SecurityEventKind.SECOND_DEVICE
    assert (event.student_id, event.session_id) == (student.student_id, session.id)
    assert event.device_id == "someone-elses-phone"
    assert event.client_ip == "10.1.1.1"
    assert event.actor == student.email


def test_a_phone_bound_to_another_student_is_refused(
    app: App, session: ClassSession, student: Principal
) -> None:
    friend = app.college.as_student(1)
    app.bind(friend)
    app.open(session)
    assert friend.student_id is not None

    error = refusal(app, student, session, device=phone_of(friend.student_id))

    assert error.reason is CheckInRefusal.DEVICE_MISMATCH
    assert app.marks(session) == {}


CAMPUS = InstitutionSettings(campus_networks=("10.0.0.0/8",))


def test_a_check_in_from_a_campus_network_is_accepted(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.set_settings(CAMPUS)
    app.open(session)

    result = app.check_in(student, session, client_ip="10.20.30.40")

    assert result.status is AttendanceStatus.PRESENT


@pytest.mark.parametrize("client_ip", ["192.168.1.5", "11.0.0.1", "not-an-ip", None])
def test_a_check_in_from_outside_the_campus_networks_is_refused_and_recorded(
    app: App, session: ClassSession, student: Principal, client_ip: str | None
) -> None:
    app.set_settings(CAMPUS)
    app.open(session)

    error = refusal(app, student, session, client_ip=client_ip)

    assert error.reason is CheckInRefusal.OFF_CAMPUS_NETWORK
    assert app.marks(session) == {}
    [event] = app.events()
    assert event.kind is SecurityEventKind.OFF_CAMPUS
    assert event.client_ip == client_ip


def test_without_campus_networks_any_address_may_check_in(
    app: App, session: ClassSession, student: Principal
) -> None:
    app.open(session)

    assert app.check_in(student, session, client_ip="203.0.113.9").already_marked is False


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "", " 12345", "１２３４５６"])
def test_a_code_that_is_not_six_ascii_digits_is_refused_as_malformed_without_counting(
    app: App, session: ClassSession, student: Principal, code: str
) -> None:
    shown = app.open(session).code

    error = refusal(app, student, session, code)

    assert error.reason is CheckInRefusal.MALFORMED_CODE
    assert error.attempts_left is None
    assert app.events() == []
    assert refusal(app, student, session, wrong_code(shown)).attempts_left == 4


def test_a_wrong_code_counts_against_the_student_and_says_how_many_attempts_are_left(
    app: App, session: ClassSession, student: Principal
) -> None:
    shown = app.open(session).code

    lefts = []
    for _ in range(3):
        error = refusal(app, student, session, wrong_code(shown), client_ip="10.9.9.9")
        assert error.reason is CheckInRefusal.WRONG_CODE
        lefts.append(error.attempts_left)

    assert lefts == [4, 3, 2]
    assert app.marks(session) == {}
    events = app.events()
    assert [e.kind for e in events] == [SecurityEventKind.WRONG_CODE] * 3
    assert all(
        (e.student_id, e.session_id, e.device_id, e.client_ip)
        == (student.student_id, session.id, phone_of(str(student.student_id)), "10.9.9.9")
        for e in events
    )
    assert all(wrong_code(shown) not in repr(e) and shown not in repr(e) for e in events)
    # Another student's count is their own.
    other = app.college.as_student(1)
    app.bind(other)
    assert refusal(app, other, session, wrong_code(shown)).attempts_left == 4


def test_after_five_wrong_codes_even_the_right_code_is_refused_but_the_teacher_can_mark(
    app: App, session: ClassSession, student: Principal
) -> None:
    shown = app.open(session).code
    lefts = [refusal(app, student, session, wrong_code(shown)).attempts_left for _ in range(5)]
    assert lefts == [4, 3, 2, 1, 0]

    error = refusal(app, student, session, shown)

    assert error.reason is CheckInRefusal.LOCKED
    assert error.code == "check_in_locked"
    assert error.attempts_left == 0
    assert app.marks(session) == {}
    assert event_kinds(app) == [SecurityEventKind.WRONG_CODE] * 5 + [
        SecurityEventKind.CHECK_IN_LOCKED
    ]
    # The lock holds for this session only, and the teacher can still mark by hand.
    other = app.college.as_student(1)
    app.bind(other)
    assert app.check_in(other, session).status is AttendanceStatus.PRESENT
    assert student.student_id is not None
    app.mark(session, {student.student_id: AttendanceStatus.PRESENT}, reason="locked out")
    mark = app.marks(session)[student.student_id]
    assert (mark.status, mark.source) == (AttendanceStatus.PRESENT, MarkSource.MANUAL)


def test_a_lock_in_one_class_does_not_lock_the_student_out_of_the_next(
    app: App, session: ClassSession, student: Principal
) -> None:
    shown = app.open(session).code
    for _ in range(5):
        refusal(app, student, session, wrong_code(shown))
    maths = app.session(app.college.bob_ma_a)
    app.at(MONDAY, 10, 0)
    app.open(maths)

    assert app.check_in(student, maths).status is AttendanceStatus.PRESENT


# -- rotating the secret ---------------------------------------------------------------------


def test_too_many_wrong_codes_in_a_session_rotate_its_secret_and_alert_the_teacher(
    app: App, session: ClassSession
) -> None:
    app.set_settings(InstitutionSettings(max_wrong_codes_per_session=3))
    students = [app.college.as_student(i) for i in range(5)]
    for principal in students:
        app.bind(principal)
    old_code = app.open(session).code
    old_window = app.reload(session).window
    assert old_window is not None

    for principal in students[:3]:
        refusal(app, principal, session, wrong_code(old_code))

    new_window = app.reload(session).window
    assert new_window is not None
    assert new_window.secret != old_window.secret
    assert (new_window.opened_at, new_window.closes_at) == (
        old_window.opened_at,
        old_window.closes_at,
    )
    assert event_kinds(app).count(SecurityEventKind.SECRET_ROTATED) == 1
    [alert] = app.outbox()
    assert alert.kind == "attendance_code_rotated"
    assert alert.recipients == (Recipient(RecipientKind.FACULTY, app.college.alice.id),)
    assert alert.institution_id == app.college.id
    assert alert.data["sessionId"] == session.id
    assert old_code not in alert.body
    # The old code stops working at once; the new one works.
    assert refusal(app, students[3], session, old_code).reason is CheckInRefusal.WRONG_CODE
    assert app.check_in(students[4], session).status is AttendanceStatus.PRESENT
    assert len(app.outbox()) == 1


def test_two_hundred_wrong_codes_in_a_session_rotate_its_secret_once(
    app: App, session: ClassSession
) -> None:
    crowd = app.add_students(40)
    for principal in crowd:
        app.bind(principal)
    shown = app.open(session).code
    wrong = wrong_code(shown)

    for principal in crowd[:-1]:
        for _ in range(5):
            refusal(app, principal, session, wrong)
    last = crowd[-1]
    for _ in range(4):
        refusal(app, last, session, wrong)
    assert SecurityEventKind.SECRET_ROTATED not in event_kinds(app)
    assert app.outbox() == []

    refusal(app, last, session, wrong)

    assert event_kinds(app).count(SecurityEventKind.SECRET_ROTATED) == 1
    assert len(app.outbox()) == 1
    assert app.code(session) != shown
    assert event_kinds(app).count(SecurityEventKind.WRONG_CODE) == 200
    assert event_kinds(app).count(SecurityEventKind.CHECK_IN_LOCKED) == 40


# -- who may check in ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "admin"])
def test_only_a_student_may_check_in(app: App, session: ClassSession, who: str) -> None:
    actor = app.college.as_alice() if who == "teacher" else app.college.admin
    shown = app.open(session).code

    with pytest.raises(PermissionDeniedError):
        app.check_in_use_case(CheckInCommand(actor, session.id, shown, "phone-of-teacher"))

    assert app.marks(session) == {}


def test_a_session_of_another_institution_is_not_found(
    app: App, uow: InMemoryUnitOfWork, student: Principal
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    app.generate(college=other)
    foreign = app.session(other.alice_cs_a)
    shown = app.open(foreign).code

    with pytest.raises(NotFoundError):
        app.check_in(student, foreign, shown)

    assert app.marks(foreign) == {}


def test_an_unknown_session_is_not_found(app: App, student: Principal) -> None:
    with pytest.raises(NotFoundError):
        app.check_in_use_case(
            CheckInCommand(student, SessionId("no-such-session"), "123456", "phone-N210001")
        )
