"""MarkAttendance, CompleteSession and CompleteOverdueSessions (PRODUCT.md §2.4, "Manual
marking" and completion).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ams_adapters.memory import InMemoryUnitOfWork
from ams_core.domain import (
    AttendanceStatus,
    ClassSession,
    ConflictError,
    InstitutionId,
    InstitutionSettings,
    MarkSource,
    NotFoundError,
    PermissionDeniedError,
    SessionId,
    SessionStatus,
    StatusTally,
    StudentId,
    ValidationError,
)
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college
from ams_core.use_cases import (
    CompleteOverdueSessionsCommand,
    CompleteOverdueSessionsResult,
    CompleteSessionCommand,
    MarkAttendanceCommand,
    MarkAttendanceResult,
    MarkEntry,
)
from ams_core.use_cases.complete_session import SYSTEM_ACTOR
from tests.conftest import CLASS_START
from tests.core.use_cases.helpers import TUESDAY, App

PRESENT = AttendanceStatus.PRESENT
LATE = AttendanceStatus.LATE
ABSENT = AttendanceStatus.ABSENT
EXCUSED = AttendanceStatus.EXCUSED


@pytest.fixture
def session(app: App) -> ClassSession:
    """Alice's CS101 class for section A, Monday 09:00–10:00."""
    return app.session(app.college.alice_cs_a)


@pytest.fixture
def sid(college: SmallCollege) -> list[StudentId]:
    """The ids of section A's five students."""
    return [s.id for s in college.students]


def mark(
    app: App,
    session: ClassSession,
    entries: list[tuple[StudentId, AttendanceStatus]],
    *,
    actor: str = "alice",
    reason: str | None = None,
) -> MarkAttendanceResult:
    principal = {
        "alice": app.college.as_alice(),
        "bob": app.college.as_bob(),
        "admin": app.college.admin,
        "student": app.college.as_student(),
    }[actor]
    return app.mark_attendance(
        MarkAttendanceCommand(
            principal, session.id, [MarkEntry(s, st) for s, st in entries], reason=reason
        )
    )


# -- MarkAttendance --------------------------------------------------------------------------


def test_the_teacher_of_record_marks_several_students_in_one_request(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    result = mark(app, session, [(sid[0], PRESENT), (sid[1], LATE), (sid[2], EXCUSED)])

    assert result == MarkAttendanceResult(changed=3, unchanged=0)
    marks = app.marks(session)
    assert {s: m.status for s, m in marks.items()} == {
        sid[0]: PRESENT,
        sid[1]: LATE,
        sid[2]: EXCUSED,
    }
    assert all(m.source is MarkSource.MANUAL for m in marks.values())
    assert all(m.marked_by == app.college.as_alice().email for m in marks.values())
    assert all(m.marked_at == CLASS_START for m in marks.values())
    audit = app.audit(session)
    assert [(e.student_id, e.old_status, e.new_status) for e in audit] == [
        (sid[0], None, PRESENT),
        (sid[1], None, LATE),
        (sid[2], None, EXCUSED),
    ]
    assert all(e.actor == app.college.as_alice().email and e.at == CLASS_START for e in audit)
    assert app.reload(session).status is SessionStatus.SCHEDULED


def test_an_admin_may_mark(app: App, session: ClassSession, sid: list[StudentId]) -> None:
    mark(app, session, [(sid[0], EXCUSED)], actor="admin", reason="medical certificate")

    assert app.statuses(session) == {sid[0]: EXCUSED}
    [entry] = app.audit(session)
    assert (entry.actor, entry.reason) == (app.college.admin.email, "medical certificate")


@pytest.mark.parametrize("actor", ["bob", "student"])
def test_only_the_teacher_of_record_or_an_admin_may_mark(
    app: App, session: ClassSession, sid: list[StudentId], actor: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        mark(app, session, [(sid[0], PRESENT)], actor=actor)

    assert app.marks(session) == {}
    assert app.audit(session) == []


def test_a_student_not_in_the_class_is_refused_naming_the_field_and_nothing_is_stored(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    with pytest.raises(ValidationError) as error:
        mark(
            app,
            session,
            [(sid[0], PRESENT), (StudentId("N200000"), PRESENT), (app.college.outsider.id, LATE)],
        )

    assert [p.field for p in error.value.problems] == [
        "marks[1].student_id",
        "marks[2].student_id",
    ]
    assert app.marks(session) == {}
    assert app.audit(session) == []


def test_a_student_named_twice_is_refused(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    with pytest.raises(ValidationError) as error:
        mark(app, session, [(sid[0], PRESENT), (sid[0], ABSENT)])

    assert [p.field for p in error.value.problems] == ["marks[1].student_id"]
    assert app.marks(session) == {}


def test_a_request_without_marks_is_refused(app: App, session: ClassSession) -> None:
    with pytest.raises(ValidationError) as error:
        mark(app, session, [])

    assert [p.field for p in error.value.problems] == ["marks"]


def test_a_reason_longer_than_500_characters_is_refused(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    with pytest.raises(ValidationError) as error:
        mark(app, session, [(sid[0], PRESENT)], reason="x" * 501)

    assert [p.field for p in error.value.problems] == ["reason"]
    assert app.marks(session) == {}


def test_a_change_is_audited_from_old_to_new_status_with_its_reason(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    student = app.college.as_student(0)
    app.bind(student)
    app.open(session)
    app.check_in(student, session)
    app.clock.advance(minutes=20)

    result = mark(app, session, [(sid[0], LATE)], reason="  left and came back  ")

    assert result == MarkAttendanceResult(changed=1, unchanged=0)
    stored = app.marks(session)[sid[0]]
    assert (stored.status, stored.source) == (LATE, MarkSource.MANUAL)
    [entry] = app.audit(session)
    assert (entry.student_id, entry.old_status, entry.new_status) == (sid[0], PRESENT, LATE)
    assert entry.reason == "left and came back"
    assert entry.at == CLASS_START + timedelta(minutes=20)
    assert entry.actor == app.college.as_alice().email


def test_marking_the_status_a_student_already_has_changes_and_audits_nothing(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    mark(app, session, [(sid[0], PRESENT)])
    before = app.marks(session)

    result = mark(app, session, [(sid[0], PRESENT), (sid[1], ABSENT)])

    assert result == MarkAttendanceResult(changed=1, unchanged=1)
    assert app.marks(session)[sid[0]] == before[sid[0]]
    assert [(e.student_id, e.new_status) for e in app.audit(session)] == [
        (sid[0], PRESENT),
        (sid[1], ABSENT),
    ]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_correcting_a_completed_class_needs_a_reason(
    app: App, session: ClassSession, sid: list[StudentId], reason: str | None
) -> None:
    app.hold(session, {sid[0]: PRESENT})
    completed = app.reload(session)

    with pytest.raises(ValidationError) as error:
        mark(app, session, [(sid[1], PRESENT)], reason=reason)

    assert [p.field for p in error.value.problems] == ["reason"]
    assert app.reload(session) == completed
    assert app.statuses(session)[sid[1]] is ABSENT


def test_correcting_a_completed_class_updates_its_tally_and_the_audit_trail(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.hold(session, {sid[0]: PRESENT})
    assert app.reload(session).tally == StatusTally(present=1, absent=4)
    audited = len(app.audit(session))
    app.clock.advance(days=1)

    result = mark(app, session, [(sid[1], PRESENT), (sid[2], EXCUSED)], reason="attendance sheet")

    assert result == MarkAttendanceResult(changed=2, unchanged=0)
    stored = app.reload(session)
    assert stored.status is SessionStatus.COMPLETED
    assert stored.tally == StatusTally(present=2, absent=2, excused=1)
    new_entries = app.audit(session)[audited:]
    assert [(e.student_id, e.old_status, e.new_status, e.reason) for e in new_entries] == [
        (sid[1], ABSENT, PRESENT, "attendance sheet"),
        (sid[2], ABSENT, EXCUSED, "attendance sheet"),
    ]


def test_marking_before_the_class_starts_is_refused(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.at(MONDAY, 8, 0)

    with pytest.raises(ConflictError) as error:
        mark(app, session, [(sid[0], PRESENT)])

    assert error.value.code == "session_not_started"
    assert app.marks(session) == {}


def test_marking_tomorrows_class_today_is_refused(app: App, sid: list[StudentId]) -> None:
    tomorrow = app.session(app.college.alice_cs_a, TUESDAY)

    with pytest.raises(ConflictError) as error:
        mark(app, tomorrow, [(sid[0], PRESENT)])

    assert error.value.code == "session_not_started"


def test_marking_a_cancelled_class_is_refused(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.cancel(session)

    with pytest.raises(ConflictError) as error:
        mark(app, session, [(sid[0], PRESENT)])

    assert error.value.code == "session_cancelled"
    assert app.marks(session) == {}


def test_marking_a_session_of_another_institution_is_not_found(
    app: App, uow: InMemoryUnitOfWork, sid: list[StudentId]
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    app.generate(college=other)
    foreign = app.session(other.alice_cs_a)

    with pytest.raises(NotFoundError):
        mark(app, foreign, [(sid[0], PRESENT)])

    assert app.marks(foreign) == {}


# -- CompleteSession -------------------------------------------------------------------------


def complete(
    app: App, session: ClassSession, topic: str | None = None, *, actor: str = "alice"
) -> None:
    principal = {
        "alice": app.college.as_alice(),
        "bob": app.college.as_bob(),
        "admin": app.college.admin,
        "student": app.college.as_student(),
    }[actor]
    app.complete_session(CompleteSessionCommand(principal, session.id, topic))


def test_completing_marks_every_unmarked_student_absent_and_stores_the_topic(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    for i in (0, 1):
        app.bind(app.college.as_student(i))
    app.open(session)
    app.check_in(app.college.as_student(0), session)
    app.clock.advance(minutes=10, seconds=30)
    app.open(session)  # the first window closed at 09:10: a second one
    app.check_in(app.college.as_student(1), session)
    app.clock.set(CLASS_START + timedelta(minutes=55))

    result = app.complete_session(
        CompleteSessionCommand(app.college.as_alice(), session.id, "  Stacks and queues ")
    )

    assert result.marked_absent == 3
    assert result.already_completed is False
    assert result.tally == StatusTally(present=1, late=1, absent=3)
    assert app.statuses(session) == {
        sid[0]: PRESENT,
        sid[1]: LATE,
        sid[2]: ABSENT,
        sid[3]: ABSENT,
        sid[4]: ABSENT,
    }
    absent_marks = [m for m in app.marks(session).values() if m.status is ABSENT]
    assert all(m.source is MarkSource.COMPLETION for m in absent_marks)
    assert all(m.marked_by == app.college.as_alice().email for m in absent_marks)
    assert all(m.marked_at == CLASS_START + timedelta(minutes=55) for m in absent_marks)
    [entry] = app.audit(session)
    assert (entry.student_id, entry.old_status, entry.new_status, entry.reason) == (
        None,
        None,
        ABSENT,
        "class completed: 3 students without a mark marked absent",
    )
    assert (entry.actor, entry.at) == (
        app.college.as_alice().email,
        CLASS_START + timedelta(minutes=55),
    )
    stored = app.reload(session)
    assert stored.status is SessionStatus.COMPLETED
    assert stored.topic == "Stacks and queues"
    assert stored.completed_at == CLASS_START + timedelta(minutes=55)
    assert stored.tally == result.tally


def test_completing_a_class_that_was_never_opened_marks_everyone_absent(
    app: App, session: ClassSession
) -> None:
    app.clock.set(CLASS_START + timedelta(minutes=30))

    complete(app, session)

    assert set(app.statuses(session).values()) == {ABSENT}
    assert len(app.statuses(session)) == 5
    assert app.reload(session).tally == StatusTally(absent=5)


def test_a_completion_that_marks_one_student_absent_says_so_in_the_singular(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.hold(session, dict.fromkeys(sid[1:], PRESENT))

    completion = [e for e in app.audit(session) if e.student_id is None]

    assert [e.reason for e in completion] == [
        "class completed: 1 student without a mark marked absent"
    ]


def test_a_completion_that_finds_everyone_marked_writes_no_audit_entry(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.hold(session, dict.fromkeys(sid, PRESENT))

    assert [e.student_id for e in app.audit(session)] == sid
    assert app.reload(session).tally == StatusTally(present=5)


def test_completing_twice_changes_nothing_but_the_topic(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    app.hold(session, {sid[0]: PRESENT}, topic="Arrays")
    first = app.reload(session)
    marks, audit = app.marks(session), app.audit(session)
    app.clock.advance(hours=2)

    again = app.complete_session(
        CompleteSessionCommand(app.college.as_alice(), session.id, "Arrays and slices")
    )
    complete(app, session)

    assert again.already_completed is True
    assert again.marked_absent == 0
    assert again.tally == first.tally
    stored = app.reload(session)
    assert stored.topic == "Arrays and slices"
    assert (stored.status, stored.completed_at, stored.tally, stored.window) == (
        first.status,
        first.completed_at,
        first.tally,
        first.window,
    )
    assert app.marks(session) == marks
    assert app.audit(session) == audit


def test_completing_before_the_class_starts_is_refused_and_marks_nobody(
    app: App, session: ClassSession
) -> None:
    app.at(MONDAY, 8, 50)
    app.open(session)

    with pytest.raises(ConflictError) as error:
        complete(app, session)

    assert error.value.code == "session_not_started"
    assert app.marks(session) == {}
    assert app.audit(session) == []
    assert app.reload(session).status is SessionStatus.OPEN


def test_completing_a_cancelled_class_is_refused(app: App, session: ClassSession) -> None:
    app.cancel(session)

    with pytest.raises(ConflictError) as error:
        complete(app, session)

    assert error.value.code == "session_cancelled"
    assert app.marks(session) == {}


def test_a_topic_longer_than_500_characters_is_refused(app: App, session: ClassSession) -> None:
    with pytest.raises(ValidationError) as error:
        complete(app, session, "t" * 501)

    assert [p.field for p in error.value.problems] == ["topic"]
    assert app.reload(session).status is SessionStatus.SCHEDULED
    complete(app, session, "t" * 500)
    assert app.reload(session).topic == "t" * 500


def test_an_admin_may_complete_a_class(app: App, session: ClassSession) -> None:
    complete(app, session, actor="admin")

    assert app.reload(session).status is SessionStatus.COMPLETED
    assert {e.actor for e in app.audit(session)} == {app.college.admin.email}


@pytest.mark.parametrize("actor", ["bob", "student"])
def test_only_the_teacher_of_record_or_an_admin_may_complete(
    app: App, session: ClassSession, actor: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        complete(app, session, actor=actor)

    assert app.reload(session).status is SessionStatus.SCHEDULED
    assert app.marks(session) == {}


def test_completing_while_the_window_is_open_closes_it(app: App, session: ClassSession) -> None:
    app.open(session)
    app.clock.advance(minutes=5)

    complete(app, session)

    window = app.reload(session).window
    assert window is not None
    assert window.closes_at == CLASS_START + timedelta(minutes=5)


# -- CompleteOverdueSessions -----------------------------------------------------------------


def open_with_one_check_in(app: App, session: ClassSession) -> None:
    app.clock.set(session.starts_at(app.college.institution.tz))
    app.open(session)
    student = app.college.as_student(0)
    app.bind(student)
    app.check_in(student, session)


def test_an_open_class_is_completed_once_its_end_plus_the_grace_period_has_passed(
    app: App, session: ClassSession, sid: list[StudentId]
) -> None:
    open_with_one_check_in(app, session)
    app.at(MONDAY, 10, 30)

    result = app.complete_overdue(CompleteOverdueSessionsCommand(app.college.id))

    assert result == CompleteOverdueSessionsResult(completed=1, marked_absent=4)
    stored = app.reload(session)
    assert stored.status is SessionStatus.COMPLETED
    assert stored.tally == StatusTally(present=1, absent=4)
    assert stored.topic is None
    assert app.statuses(session)[sid[0]] is PRESENT
    assert {e.actor for e in app.audit(session)} == {SYSTEM_ACTOR}
    assert {m.marked_by for m in app.marks(session).values() if m.status is ABSENT} == {
        SYSTEM_ACTOR
    }


def test_an_open_class_within_the_grace_period_is_left_open(
    app: App, session: ClassSession
) -> None:
    open_with_one_check_in(app, session)
    app.at(MONDAY, 10, 29, 59)

    result = app.complete_overdue(CompleteOverdueSessionsCommand(app.college.id))

    assert result == CompleteOverdueSessionsResult(completed=0, marked_absent=0)
    assert app.reload(session).status is SessionStatus.OPEN
    assert len(app.marks(session)) == 1


def test_the_grace_period_comes_from_the_institution_settings(
    app: App, session: ClassSession
) -> None:
    app.set_settings(InstitutionSettings(auto_complete_grace_minutes=0))
    open_with_one_check_in(app, session)
    app.at(MONDAY, 10, 0)

    result = app.complete_overdue(CompleteOverdueSessionsCommand(app.college.id))

    assert result.completed == 1


def test_a_scheduled_class_that_was_never_opened_is_not_completed(
    app: App, session: ClassSession
) -> None:
    open_with_one_check_in(app, session)
    maths = app.session(app.college.bob_ma_a)
    app.at(MONDAY, 18, 0)

    result = app.complete_overdue(CompleteOverdueSessionsCommand(app.college.id))

    assert result.completed == 1
    assert app.reload(maths).status is SessionStatus.SCHEDULED
    assert app.marks(maths) == {}


def test_sweeping_twice_completes_nothing_the_second_time(app: App, session: ClassSession) -> None:
    open_with_one_check_in(app, session)
    app.at(MONDAY, 11, 0)
    app.complete_overdue(CompleteOverdueSessionsCommand())
    completed = app.reload(session)

    result = app.complete_overdue(CompleteOverdueSessionsCommand())

    assert result == CompleteOverdueSessionsResult(completed=0, marked_absent=0)
    assert app.reload(session) == completed


def test_a_sweep_without_an_institution_covers_every_institution(
    app: App, uow: InMemoryUnitOfWork, session: ClassSession
) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    app.generate(college=other)
    foreign = app.session(other.alice_cs_a)
    open_with_one_check_in(app, session)
    app.open(foreign)
    app.at(MONDAY, 10, 30)

    only_b = app.complete_overdue(CompleteOverdueSessionsCommand(InstitutionId("inst-b")))
    assert only_b == CompleteOverdueSessionsResult(completed=1, marked_absent=5)
    assert app.reload(session).status is SessionStatus.OPEN

    everywhere = app.complete_overdue(CompleteOverdueSessionsCommand(None))

    assert everywhere == CompleteOverdueSessionsResult(completed=1, marked_absent=4)
    assert app.reload(session).status is SessionStatus.COMPLETED
    assert app.reload(foreign).status is SessionStatus.COMPLETED


def test_an_unknown_session_is_not_found(app: App) -> None:
    with pytest.raises(NotFoundError):
        app.complete_session(CompleteSessionCommand(app.college.admin, SessionId("missing"), None))
