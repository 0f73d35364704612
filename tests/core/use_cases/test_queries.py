"""The read side (schedules, summaries, rosters, registers, defaulters, the faculty
dashboard) and the outbox relay (PRODUCT.md §2.4 "Reports", §2.5).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from ams_adapters.memory import (
    InMemoryUnitOfWork,
    RecordingNotifier,
)
from ams_core.domain import (
    AttendanceStatus,
    CheckInRefusedError,
    ClassSession,
    DateRange,
    InstitutionSettings,
    MarkSource,
    NotFoundError,
    Notification,
    NotificationId,
    PermissionDeniedError,
    Principal,
    Recipient,
    RecipientKind,
    SectionId,
    SessionStatus,
    StatusTally,
    StudentId,
    SubjectAttendance,
    SubjectCode,
    ValidationError,
)
from ams_core.testing.builders import MONDAY, seed_small_college, student_principal
from ams_core.use_cases import (
    DeliverNotifications,
    DeliverNotificationsCommand,
    DeliverNotificationsResult,
    GetAttendanceSummaryCommand,
    GetFacultyDashboardCommand,
    GetRegisterCommand,
    GetScheduleCommand,
    GetSessionRosterCommand,
    ListDefaultersCommand,
)
from tests.conftest import CLASS_START
from tests.core.use_cases.helpers import (
    KOLKATA,
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    App,
    wrong_code,
)

P = AttendanceStatus.PRESENT
L = AttendanceStatus.LATE
A = AttendanceStatus.ABSENT
E = AttendanceStatus.EXCUSED
WEEK_DATES = DateRange(MONDAY, MONDAY + timedelta(days=6))


#: Alice's CS101 classes for section A, Monday to Wednesday, per student (index 0–4).
CS101_A = {
    MONDAY: (P, A, P, L, P),
    TUESDAY: (A, A, P, P, L),
    WEDNESDAY: (E, A, P, A, P),
}
CS101_TOPICS = {MONDAY: "Arrays", TUESDAY: "Linked lists", WEDNESDAY: "Stacks"}
#: Bob's MA101 class for section A on Monday.
MA101_A = (P, P, A, P, P)


def hold_three_days(app: App) -> None:
    """Hold CS101-A Mon–Wed, MA101-A and CS101-B (outsider absent) on Monday.

    The clock ends on Wednesday 09:50, just after the last class was completed.
    """
    college = app.college
    students = [s.id for s in college.students]

    def statuses(row: tuple[AttendanceStatus, ...]) -> dict[StudentId, AttendanceStatus]:
        # Absent students are left unmarked: completion marks them absent.
        return {s: st for s, st in zip(students, row, strict=True) if st is not A}

    app.hold(app.session(college.alice_cs_a, MONDAY), statuses(CS101_A[MONDAY]), "Arrays")
    app.hold(app.session(college.bob_cs_b, MONDAY), {}, "Sorting")
    app.hold(app.session(college.bob_ma_a, MONDAY), statuses(MA101_A), "Limits")
    for day in (TUESDAY, WEDNESDAY):
        app.hold(app.session(college.alice_cs_a, day), statuses(CS101_A[day]), CS101_TOPICS[day])
    assert app.clock.now() == datetime.combine(WEDNESDAY, time(9, 50), tzinfo=KOLKATA)


# -- GetSchedule -----------------------------------------------------------------------------


def test_a_student_sees_the_classes_of_their_section_with_their_own_status(app: App) -> None:
    student = app.college.as_student(0)
    app.bind(student)
    monday_cs = app.session(app.college.alice_cs_a)
    app.open(monday_cs)
    app.check_in(student, monday_cs)

    schedule = app.get_schedule(GetScheduleCommand(student, WEEK_DATES))

    assert schedule.dates == WEEK_DATES
    assert len(schedule.entries) == 10
    assert {e.section_id for e in schedule.entries} == {app.college.section_a.id}
    assert [(e.date, e.start) for e in schedule.entries] == sorted(
        (e.date, e.start) for e in schedule.entries
    )
    first, second = schedule.entries[:2]
    assert (first.subject_code, first.subject_name, first.teacher_name) == (
        "CS101",
        "Data Structures",
        "Alice",
    )
    assert first.starts_at == CLASS_START
    assert first.ends_at == CLASS_START + timedelta(hours=1)
    assert first.venue == "Room A1"
    assert first.status is SessionStatus.OPEN
    assert first.my_status is P
    assert (second.subject_code, second.teacher_name, second.my_status) == ("MA101", "Bob", None)
    assert all(e.my_status is None for e in schedule.entries[1:])


def test_a_student_of_another_section_sees_only_that_sections_classes(app: App) -> None:
    outsider = student_principal(app.college.outsider)

    schedule = app.get_schedule(GetScheduleCommand(outsider, WEEK_DATES))

    assert len(schedule.entries) == 5
    assert {(e.section_id, e.subject_code) for e in schedule.entries} == {
        (app.college.section_b.id, "CS101")
    }


def test_a_teacher_sees_the_classes_they_are_teacher_of_record_for(app: App) -> None:
    # Bob covers Alice's Tuesday class.
    app.replace_session(app.session(app.college.alice_cs_a, TUESDAY), teacher_id=app.college.bob.id)

    alice = app.get_schedule(GetScheduleCommand(app.college.as_alice(), WEEK_DATES))
    bob = app.get_schedule(GetScheduleCommand(app.college.as_bob(), WEEK_DATES))

    assert [e.date for e in alice.entries] == [MONDAY, WEDNESDAY, THURSDAY, MONDAY + timedelta(4)]
    assert all(e.teacher_id == app.college.alice.id for e in alice.entries)
    assert all(e.my_status is None for e in alice.entries)
    assert len(bob.entries) == 11
    assert [(e.section_id, e.subject_code) for e in bob.entries if e.date == TUESDAY] == [
        (app.college.section_a.id, "CS101"),
        (app.college.section_b.id, "CS101"),
        (app.college.section_a.id, "MA101"),
    ]


def test_a_schedule_of_up_to_62_days_is_allowed_and_longer_is_refused(app: App) -> None:
    student = app.college.as_student(0)
    longest = DateRange(MONDAY, MONDAY + timedelta(days=61))
    assert len(app.get_schedule(GetScheduleCommand(student, longest)).entries) == 10

    with pytest.raises(ValidationError) as error:
        app.get_schedule(
            GetScheduleCommand(student, DateRange(MONDAY, MONDAY + timedelta(days=62)))
        )

    assert [p.field for p in error.value.problems] == ["to"]


def test_an_admin_who_neither_studies_nor_teaches_has_no_schedule(app: App) -> None:
    with pytest.raises(PermissionDeniedError):
        app.get_schedule(GetScheduleCommand(app.college.admin, WEEK_DATES))


# -- GetAttendanceSummary --------------------------------------------------------------------


def line(summary_subjects: tuple[SubjectAttendance, ...], code: str) -> SubjectAttendance:
    [found] = [s for s in summary_subjects if s.subject_code == code]
    return found


def test_a_students_summary_counts_held_attended_excused_and_the_look_ahead(app: App) -> None:
    hold_three_days(app)
    student = app.college.as_student(0)

    summary = app.get_summary(GetAttendanceSummaryCommand(student))

    assert summary.student_id == app.college.students[0].id
    assert summary.section_id == app.college.section_a.id
    assert summary.term_name == "Autumn 2026"
    assert summary.dates == DateRange(app.college.term.start, app.college.term.end)
    assert summary.threshold == Decimal(75)
    assert [s.subject_code for s in summary.subjects] == ["CS101", "MA101"]
    cs = line(summary.subjects, "CS101")
    # Present Monday, absent Tuesday, excused Wednesday: 1 / (3 − 1).
    assert (cs.held, cs.attended, cs.excused, cs.percent) == (3, 1, 1, Decimal("50.00"))
    assert cs.subject_name == "Data Structures"
    # Thursday and Friday remain: (1 + 2) / (3 − 1 + 2) = 75 %.
    assert (cs.remaining, cs.need_to_attend, cs.reachable) == (2, 2, True)
    assert cs.below_threshold is True
    ma = line(summary.subjects, "MA101")
    assert (ma.held, ma.attended, ma.excused, ma.percent) == (1, 1, 0, Decimal("100.00"))
    # Wednesday 10:00, Thursday and Friday remain: (1 + 2) / 4 = 75 %.
    assert (ma.remaining, ma.need_to_attend, ma.below_threshold) == (3, 2, False)


def test_the_look_ahead_says_when_the_threshold_can_no_longer_be_reached(app: App) -> None:
    hold_three_days(app)

    summary = app.get_summary(GetAttendanceSummaryCommand(app.college.as_student(1)))

    cs = line(summary.subjects, "CS101")
    assert (cs.held, cs.attended, cs.percent, cs.remaining) == (3, 0, Decimal("0.00"), 2)
    assert cs.need_to_attend is None
    assert cs.reachable is False
    assert cs.below_threshold is True


def test_the_look_ahead_shrinks_as_classes_go_by(app: App) -> None:
    hold_three_days(app)
    student = app.college.as_student(0)
    student_id = app.college.students[0].id
    thursday = app.session(app.college.alice_cs_a, THURSDAY)

    app.hold(thursday, {student_id: P}, "Queues")
    summary = app.get_summary(GetAttendanceSummaryCommand(student))

    cs = line(summary.subjects, "CS101")
    assert (cs.held, cs.attended, cs.excused, cs.percent) == (4, 2, 1, Decimal("66.67"))
    assert (cs.remaining, cs.need_to_attend) == (1, 1)


def test_a_summary_before_any_class_was_held_has_no_percentage(app: App) -> None:
    summary = app.get_summary(GetAttendanceSummaryCommand(app.college.as_student(0)))

    cs = line(summary.subjects, "CS101")
    assert (cs.held, cs.attended, cs.percent, cs.remaining) == (0, 0, None, 5)
    assert cs.need_to_attend == 4
    assert cs.below_threshold is False


def test_the_threshold_of_the_summary_comes_from_the_institution_settings(app: App) -> None:
    hold_three_days(app)
    app.set_settings(InstitutionSettings(attendance_threshold=Decimal(50)))

    summary = app.get_summary(GetAttendanceSummaryCommand(app.college.as_student(0)))

    cs = line(summary.subjects, "CS101")
    assert summary.threshold == Decimal(50)
    assert (cs.below_threshold, cs.need_to_attend) == (False, 1)


def test_a_student_asking_for_another_students_summary_is_told_it_does_not_exist(
    app: App,
) -> None:
    with pytest.raises(NotFoundError):
        app.get_summary(
            GetAttendanceSummaryCommand(app.college.as_student(0), app.college.students[1].id)
        )


def test_a_teacher_of_the_section_and_an_admin_may_see_a_students_summary(app: App) -> None:
    hold_three_days(app)
    student_id = app.college.students[3].id

    by_alice = app.get_summary(GetAttendanceSummaryCommand(app.college.as_alice(), student_id))
    by_bob = app.get_summary(GetAttendanceSummaryCommand(app.college.as_bob(), student_id))
    by_admin = app.get_summary(GetAttendanceSummaryCommand(app.college.admin, student_id))

    assert by_alice == by_bob == by_admin
    cs = line(by_alice.subjects, "CS101")
    assert (cs.attended, cs.percent) == (2, Decimal("66.67"))


def test_a_teacher_who_does_not_teach_the_students_section_is_refused(app: App) -> None:
    with pytest.raises(PermissionDeniedError):
        app.get_summary(
            GetAttendanceSummaryCommand(app.college.as_alice(), app.college.outsider.id)
        )


def test_a_summary_of_a_student_of_another_institution_is_not_found(
    app: App, uow: InMemoryUnitOfWork
) -> None:
    seed_small_college(uow, institution_id="inst-b", domain="b.edu", holidays=())

    with pytest.raises(NotFoundError):
        app.get_summary(GetAttendanceSummaryCommand(app.college.admin, StudentId("N210099")))


# -- GetSessionRoster ------------------------------------------------------------------------


def monday_with_marks(app: App) -> ClassSession:
    """Monday's CS101-A class, open: student 0 checked in, student 1 marked late by hand."""
    session = app.session(app.college.alice_cs_a)
    student = app.college.as_student(0)
    app.bind(student)
    app.open(session)
    app.check_in(student, session)
    app.clock.advance(minutes=12)
    app.mark(session, {app.college.students[1].id: L})
    return session


def test_the_roster_lists_every_student_of_the_section_with_their_mark(app: App) -> None:
    session = monday_with_marks(app)

    roster = app.get_roster(GetSessionRosterCommand(app.college.as_alice(), session.id))

    assert roster.session.id == session.id
    assert roster.session.status is SessionStatus.OPEN
    assert [r.student_id for r in roster.rows] == [s.id for s in app.college.students]
    assert [r.roll_number for r in roster.rows] == [1, 2, 3, 4, 5]
    assert [r.status for r in roster.rows] == [P, L, None, None, None]
    assert [r.source for r in roster.rows[:2]] == [MarkSource.CHECK_IN, MarkSource.MANUAL]
    assert roster.rows[0].marked_at == CLASS_START
    assert roster.rows[1].marked_at == CLASS_START + timedelta(minutes=12)
    assert roster.rows[0].name == "Student 1"
    assert roster.unmarked == 3
    assert roster.tally == StatusTally(present=1, late=1)


def test_an_admin_may_see_a_roster(app: App) -> None:
    session = monday_with_marks(app)

    roster = app.get_roster(GetSessionRosterCommand(app.college.admin, session.id))

    assert roster.unmarked == 3


@pytest.mark.parametrize("who", ["other teacher", "student"])
def test_a_roster_is_refused_to_anyone_not_teaching_or_administering_the_class(
    app: App, who: str
) -> None:
    session = monday_with_marks(app)
    actor = app.college.as_bob() if who == "other teacher" else app.college.as_student(0)

    with pytest.raises(PermissionDeniedError):
        app.get_roster(GetSessionRosterCommand(actor, session.id))


def test_a_substitute_and_the_regular_teacher_may_both_see_a_covered_roster(app: App) -> None:
    session = app.replace_session(
        app.session(app.college.alice_cs_a), teacher_id=app.college.bob.id
    )

    by_bob = app.get_roster(GetSessionRosterCommand(app.college.as_bob(), session.id))
    by_alice = app.get_roster(GetSessionRosterCommand(app.college.as_alice(), session.id))

    assert by_bob == by_alice
    assert by_bob.unmarked == 5


def test_a_roster_of_another_institution_is_not_found(app: App, uow: InMemoryUnitOfWork) -> None:
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")
    app.generate(college=other)
    foreign = app.session(other.alice_cs_a)

    with pytest.raises(NotFoundError):
        app.get_roster(GetSessionRosterCommand(app.college.admin, foreign.id))


# -- GetRegister -----------------------------------------------------------------------------


def test_the_register_aligns_each_students_statuses_with_the_held_classes(app: App) -> None:
    hold_three_days(app)

    register = app.get_register(
        GetRegisterCommand(app.college.as_alice(), app.college.section_a.id, SubjectCode("CS101"))
    )

    assert (register.section_id, register.subject_code, register.subject_name) == (
        "E2-CSE-A",
        "CS101",
        "Data Structures",
    )
    assert register.dates == DateRange(app.college.term.start, app.college.term.end)
    assert [(c.date, c.start, c.status, c.topic) for c in register.columns] == [
        (day, time(9), SessionStatus.COMPLETED, CS101_TOPICS[day]) for day in CS101_A
    ]
    assert [r.student_id for r in register.rows] == [s.id for s in app.college.students]
    for index, row in enumerate(register.rows):
        assert row.statuses == tuple(CS101_A[day][index] for day in CS101_A)
    assert [r.summary.percent for r in register.rows] == [
        Decimal("50.00"),
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("66.67"),
        Decimal("100.00"),
    ]
    assert {(r.summary.held, r.summary.remaining) for r in register.rows} == {(3, 2)}


def test_a_running_class_appears_in_the_register_without_counting_yet(app: App) -> None:
    session = monday_with_marks(app)

    register = app.get_register(
        GetRegisterCommand(app.college.admin, app.college.section_a.id, SubjectCode("CS101"))
    )

    assert [(c.session_id, c.status) for c in register.columns] == [
        (session.id, SessionStatus.OPEN)
    ]
    assert [r.statuses for r in register.rows] == [(P,), (L,), (None,), (None,), (None,)]
    assert {(r.summary.held, r.summary.attended, r.summary.percent) for r in register.rows} == {
        (0, 0, None)
    }


def test_a_register_can_be_limited_to_some_dates(app: App) -> None:
    hold_three_days(app)

    register = app.get_register(
        GetRegisterCommand(
            app.college.as_alice(),
            app.college.section_a.id,
            SubjectCode("CS101"),
            DateRange(TUESDAY, WEDNESDAY),
        )
    )

    assert [c.date for c in register.columns] == [TUESDAY, WEDNESDAY]
    assert register.rows[0].statuses == (A, E)
    assert register.rows[0].summary.percent == Decimal("0.00")


@pytest.mark.parametrize("who", ["teacher of other classes", "student"])
def test_a_register_is_refused_to_anyone_not_teaching_that_subject_to_that_section(
    app: App, who: str
) -> None:
    # Bob teaches MA101 to A and CS101 to B, but not CS101 to A.
    actor = app.college.as_bob() if who != "student" else app.college.as_student(0)

    with pytest.raises(PermissionDeniedError):
        app.get_register(GetRegisterCommand(actor, app.college.section_a.id, SubjectCode("CS101")))


def test_a_register_of_an_unknown_subject_is_not_found(app: App) -> None:
    with pytest.raises(NotFoundError):
        app.get_register(
            GetRegisterCommand(app.college.admin, app.college.section_a.id, SubjectCode("XX999"))
        )


# -- ListDefaulters --------------------------------------------------------------------------


def defaulters(
    app: App,
    actor: Principal,
    *,
    threshold: str | int | None = None,
    section_id: SectionId | None = None,
    subject_code: SubjectCode | None = None,
) -> list[tuple[Decimal | None, str, str]]:
    result = app.list_defaulters(
        ListDefaultersCommand(actor, threshold, section_id=section_id, subject_code=subject_code)
    )
    return [(r.attendance.percent, r.student_id, r.attendance.subject_code) for r in result.rows]


def test_an_admin_sees_every_student_below_the_threshold_lowest_first(app: App) -> None:
    hold_three_days(app)

    result = app.list_defaulters(ListDefaultersCommand(app.college.admin))

    assert result.threshold == Decimal(75)
    assert result.dates == DateRange(app.college.term.start, app.college.term.end)
    assert [
        (r.attendance.percent, r.student_id, r.attendance.subject_code) for r in result.rows
    ] == [
        (Decimal("0.00"), "N210002", "CS101"),
        (Decimal("0.00"), "N210003", "MA101"),
        (Decimal("0.00"), "N219999", "CS101"),
        (Decimal("50.00"), "N210001", "CS101"),
        (Decimal("66.67"), "N210004", "CS101"),
    ]
    assert result.rows[2].section_id == app.college.section_b.id
    assert result.rows[0].student_name == "Student 2"


def test_a_threshold_override_replaces_the_institutions_threshold(app: App) -> None:
    hold_three_days(app)
    admin = app.college.admin

    assert [row[1:] for row in defaulters(app, admin, threshold=60)] == [
        ("N210002", "CS101"),
        ("N210003", "MA101"),
        ("N219999", "CS101"),
        ("N210001", "CS101"),
    ]
    # 2 / 3 is 66.666…: below 66.67, not below 66.66 (the comparison is exact).
    assert ("N210004", "CS101") in [r[1:] for r in defaulters(app, admin, threshold="66.67")]
    assert ("N210004", "CS101") not in [r[1:] for r in defaulters(app, admin, threshold="66.66")]
    assert defaulters(app, admin, threshold=0) == []


def test_a_teacher_sees_only_the_defaulters_of_their_own_classes(app: App) -> None:
    hold_three_days(app)

    assert [r[1:] for r in defaulters(app, app.college.as_alice())] == [
        ("N210002", "CS101"),
        ("N210001", "CS101"),
        ("N210004", "CS101"),
    ]
    assert [r[1:] for r in defaulters(app, app.college.as_bob())] == [
        ("N210003", "MA101"),
        ("N219999", "CS101"),
    ]


def test_defaulters_can_be_narrowed_to_a_section_or_a_subject(app: App) -> None:
    hold_three_days(app)
    admin = app.college.admin

    assert [r[1:] for r in defaulters(app, admin, section_id=app.college.section_b.id)] == [
        ("N219999", "CS101")
    ]
    assert [r[1:] for r in defaulters(app, admin, subject_code=SubjectCode("MA101"))] == [
        ("N210003", "MA101")
    ]


def test_a_student_may_not_list_defaulters(app: App) -> None:
    with pytest.raises(PermissionDeniedError):
        app.list_defaulters(ListDefaultersCommand(app.college.as_student(0)))


@pytest.mark.parametrize("threshold", ["abc", 150, -1, "NaN", "Infinity"])
def test_an_invalid_threshold_is_refused(app: App, threshold: str | int) -> None:
    with pytest.raises(ValidationError) as error:
        app.list_defaulters(ListDefaultersCommand(app.college.admin, threshold=threshold))

    assert [p.field for p in error.value.problems] == ["threshold"]


# -- GetFacultyDashboard ---------------------------------------------------------------------


def test_the_dashboard_shows_held_count_average_last_topic_and_next_class(app: App) -> None:
    hold_three_days(app)

    dashboard = app.get_dashboard(GetFacultyDashboardCommand(app.college.as_alice()))

    assert dashboard.faculty_id == app.college.alice.id
    [cs] = dashboard.classes
    assert (cs.assignment_id, cs.section_id, cs.subject_code, cs.subject_name) == (
        "A1",
        "E2-CSE-A",
        "CS101",
        "Data Structures",
    )
    assert cs.sessions_held == 3
    # 9 attended of 14 countable marks (one excused mark is left out).
    assert cs.average_percent == Decimal("64.29")
    assert (cs.last_topic, cs.last_held_on) == ("Stacks", WEDNESDAY)
    assert cs.next_session is not None
    assert cs.next_session.id == app.session(app.college.alice_cs_a, THURSDAY).id


def test_the_dashboard_lists_every_class_of_a_teacher_by_section_then_subject(
    app: App,
) -> None:
    hold_three_days(app)

    dashboard = app.get_dashboard(GetFacultyDashboardCommand(app.college.as_bob()))

    maths, cs_b = dashboard.classes
    assert (maths.section_id, maths.subject_code) == ("E2-CSE-A", "MA101")
    assert (maths.sessions_held, maths.average_percent, maths.last_topic) == (
        1,
        Decimal("80.00"),
        "Limits",
    )
    # Wednesday 10:00 is still to come at 09:50.
    assert maths.next_session is not None
    assert (maths.next_session.date, maths.next_session.start) == (WEDNESDAY, time(10))
    assert (cs_b.section_id, cs_b.subject_code) == ("E2-CSE-B", "CS101")
    assert (cs_b.sessions_held, cs_b.average_percent, cs_b.last_topic) == (
        1,
        Decimal("0.00"),
        "Sorting",
    )
    # Wednesday 09:00 has begun already: the next one is Thursday's.
    assert cs_b.next_session is not None
    assert cs_b.next_session.date == THURSDAY


def test_a_dashboard_before_any_class_was_held_is_empty_but_shows_the_next_class(
    app: App,
) -> None:
    app.at(MONDAY, 8, 0)

    [cs] = app.get_dashboard(GetFacultyDashboardCommand(app.college.as_alice())).classes

    assert (cs.sessions_held, cs.average_percent, cs.last_topic, cs.last_held_on) == (
        0,
        None,
        None,
        None,
    )
    assert cs.next_session is not None
    assert (cs.next_session.date, cs.next_session.start) == (MONDAY, time(9))


def test_an_admin_may_see_a_named_teachers_dashboard(app: App) -> None:
    hold_three_days(app)

    dashboard = app.get_dashboard(
        GetFacultyDashboardCommand(app.college.admin, app.college.alice.id)
    )

    assert dashboard.faculty_id == app.college.alice.id
    assert dashboard.classes[0].sessions_held == 3


def test_a_student_has_no_dashboard(app: App) -> None:
    with pytest.raises(PermissionDeniedError):
        app.get_dashboard(
            GetFacultyDashboardCommand(app.college.as_student(0), app.college.alice.id)
        )


# -- DeliverNotifications --------------------------------------------------------------------


def queue(app: App, key: str) -> Notification:
    notification = Notification(
        id=NotificationId(app.random.new_id()),
        institution_id=app.college.id,
        kind="test",
        title=f"Title {key}",
        body="Body",
        recipients=(Recipient(RecipientKind.FACULTY, app.college.alice.id),),
        idempotency_key=key,
        created_at=datetime(2026, 11, 16, tzinfo=UTC),
    )
    with app.uow.for_platform() as uow:
        uow.outbox.add(notification)
        uow.commit()
    return notification


def test_pending_notifications_are_delivered_once_oldest_first(app: App) -> None:
    first, second = queue(app, "one"), queue(app, "two")
    notifier = RecordingNotifier()
    deliver = DeliverNotifications(app.uow, notifier, app.clock)

    result = deliver(DeliverNotificationsCommand())
    again = deliver(DeliverNotificationsCommand())

    assert result == DeliverNotificationsResult(delivered=2, transport_unavailable=False)
    assert again == DeliverNotificationsResult(delivered=0, transport_unavailable=False)
    assert notifier.sent == [first, second]
    assert app.outbox() == []


def test_a_transport_outage_leaves_notifications_pending_until_a_retry(app: App) -> None:
    notification = queue(app, "one")
    notifier = RecordingNotifier()
    notifier.unavailable = True
    deliver = DeliverNotifications(app.uow, notifier, app.clock)

    down = deliver(DeliverNotificationsCommand())

    assert down == DeliverNotificationsResult(delivered=0, transport_unavailable=True)
    assert app.outbox() == [notification]
    assert notifier.sent == []

    notifier.unavailable = False
    retry = deliver(DeliverNotificationsCommand())

    assert retry == DeliverNotificationsResult(delivered=1, transport_unavailable=False)
    assert notifier.sent == [notification]
    assert app.outbox() == []


def test_a_delivery_run_hands_over_at_most_its_limit(app: App) -> None:
    for key in ("one", "two", "three"):
        queue(app, key)
    notifier = RecordingNotifier()
    deliver = DeliverNotifications(app.uow, notifier, app.clock)

    assert deliver(DeliverNotificationsCommand(limit=2)).delivered == 2
    assert [n.idempotency_key for n in app.outbox()] == ["three"]


def test_the_code_rotation_alert_reaches_the_teacher(app: App) -> None:
    app.set_settings(InstitutionSettings(max_wrong_codes_per_session=1))
    session = app.session(app.college.alice_cs_a)
    student = app.college.as_student(0)
    app.bind(student)
    shown = app.open(session).code
    with pytest.raises(CheckInRefusedError):
        app.check_in(student, session, wrong_code(shown))
    notifier = RecordingNotifier()

    DeliverNotifications(app.uow, notifier, app.clock)(DeliverNotificationsCommand())

    [alert] = notifier.sent
    assert alert.recipients == (Recipient(RecipientKind.FACULTY, app.college.alice.id),)
    assert alert.kind == "attendance_code_rotated"
    assert app.outbox() == []
