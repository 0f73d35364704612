"""GetSessionAudit, GetStudentAudit and ListSecurityEvents: who may read the audit trail
and the security events, in which order, paged and filtered.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ams_adapters.memory import InMemoryUnitOfWork
from ams_core.domain import (
    AttendanceStatus,
    AuditEntry,
    CheckInRefusedError,
    ClassSession,
    NotFoundError,
    PermissionDeniedError,
    Principal,
    SecurityEventKind,
    SessionId,
    StudentId,
    ValidationError,
)
from ams_core.ports import SecurityEventFilter
from ams_core.testing.builders import (
    admin_principal,
    seed_small_college,
    student_principal,
)
from ams_core.use_cases import (
    GetSessionAudit,
    GetSessionAuditCommand,
    GetStudentAudit,
    GetStudentAuditCommand,
    ListSecurityEvents,
    ListSecurityEventsCommand,
    PageRequest,
)
from tests.core.use_cases.helpers import App, wrong_code

PRESENT = AttendanceStatus.PRESENT
LATE = AttendanceStatus.LATE
ABSENT = AttendanceStatus.ABSENT
EXCUSED = AttendanceStatus.EXCUSED


@pytest.fixture
def alices(app: App) -> ClassSession:
    """Alice's CS101 class for section A, Monday 09:00–10:00."""
    return app.session(app.college.alice_cs_a)


@pytest.fixture
def bobs(app: App) -> ClassSession:
    """Bob's MA101 class for section A, Monday 10:00–11:00."""
    return app.session(app.college.bob_ma_a)


def session_trail(
    app: App, session: ClassSession, actor: Principal, limit: int = 50, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    page = GetSessionAudit(app.uow)(
        GetSessionAuditCommand(actor, session.id, PageRequest(limit=limit, offset=offset))
    )
    return list(page.items), page.total


def student_trail(
    app: App, student_id: StudentId, actor: Principal, limit: int = 50, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    page = GetStudentAudit(app.uow)(
        GetStudentAuditCommand(actor, student_id, PageRequest(limit=limit, offset=offset))
    )
    return list(page.items), page.total


def changes(
    entries: list[AuditEntry],
) -> list[tuple[str | None, AttendanceStatus | None, object]]:
    return [(e.student_id, e.old_status, e.new_status) for e in entries]


# -- a session's trail -------------------------------------------------------------------------


def test_the_teacher_of_record_reads_the_sessions_changes_newest_first_with_reasons(
    app: App, alices: ClassSession
) -> None:
    st = [s.id for s in app.college.students]
    app.at(alices.date, 9, 5)
    app.mark(alices, {st[0]: PRESENT, st[1]: LATE})
    corrected_at = app.at(alices.date, 9, 20)
    app.mark(alices, {st[1]: EXCUSED}, reason="doctor's note")

    entries, total = session_trail(app, alices, app.college.as_alice())

    assert total == 3
    assert changes(entries) == [(st[1], LATE, EXCUSED), (st[1], None, LATE), (st[0], None, PRESENT)]
    newest = entries[0]
    assert (newest.actor, newest.at, newest.reason) == (
        app.college.alice.email,
        corrected_at,
        "doctor's note",
    )


def test_an_admin_reads_the_trail_of_any_session_including_its_completion(
    app: App, alices: ClassSession
) -> None:
    st = [s.id for s in app.college.students]
    app.hold(alices, {st[0]: PRESENT})

    entries, total = session_trail(app, alices, app.college.admin)

    assert total == 2
    completion, marked = entries
    assert (completion.student_id, completion.actor, completion.new_status) == (
        None,
        app.college.alice.email,
        ABSENT,
    )
    assert completion.reason == "class completed: 4 students without a mark marked absent"
    assert changes([marked]) == [(st[0], None, PRESENT)]


def test_a_completion_is_in_no_students_trail_but_a_later_correction_is(
    app: App, alices: ClassSession
) -> None:
    st = [s.id for s in app.college.students]
    app.hold(alices, {st[0]: PRESENT})
    app.clock.advance(days=1)
    app.mark(alices, {st[1]: EXCUSED}, reason="doctor's note")

    absent_student, _ = student_trail(app, st[2], app.college.admin)
    corrected, _ = student_trail(app, st[1], app.college.admin)

    assert absent_student == []
    assert changes(corrected) == [(st[1], ABSENT, EXCUSED)]


def test_pages_of_a_trail_follow_limit_and_offset_and_keep_the_total(
    app: App, alices: ClassSession
) -> None:
    st = [s.id for s in app.college.students]
    app.at(alices.date, 9, 5)
    app.mark(alices, dict.fromkeys(st, PRESENT))
    whole, _ = session_trail(app, alices, app.college.admin)

    pages = [session_trail(app, alices, app.college.admin, 2, offset) for offset in (0, 2, 4, 6)]

    assert [total for _, total in pages] == [5, 5, 5, 5]
    assert [entry for items, _ in pages for entry in items] == whole
    assert pages[-1][0] == []


def test_another_teacher_of_the_class_is_refused_the_sessions_trail(
    app: App, alices: ClassSession
) -> None:
    with pytest.raises(PermissionDeniedError):
        session_trail(app, alices, app.college.as_bob())


def test_a_student_is_refused_even_before_the_session_is_looked_up(
    app: App, alices: ClassSession
) -> None:
    student = app.college.as_student()
    with pytest.raises(PermissionDeniedError):
        session_trail(app, alices, student)
    with pytest.raises(PermissionDeniedError):
        GetSessionAudit(app.uow)(GetSessionAuditCommand(student, SessionId("no-such-session")))


def test_another_institutions_session_is_not_found_even_by_its_admin(
    app: App, uow: InMemoryUnitOfWork, alices: ClassSession
) -> None:
    [enrolled] = app.add_students(1)  # a student only a has (the seeds share their ids)
    assert enrolled.student_id is not None
    app.at(alices.date, 9, 5)
    app.mark(alices, {enrolled.student_id: LATE})
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")  # no sessions
    assert session_trail(app, alices, app.college.admin)[1] == 1
    with pytest.raises(NotFoundError):
        GetSessionAudit(uow)(GetSessionAuditCommand(other.admin, alices.id))
    with pytest.raises(NotFoundError):
        GetStudentAudit(uow)(GetStudentAuditCommand(other.admin, enrolled.student_id))
    with pytest.raises(NotFoundError):
        GetStudentAudit(uow)(GetStudentAuditCommand(other.as_alice(), enrolled.student_id))


def test_a_page_larger_than_two_hundred_is_refused(app: App, alices: ClassSession) -> None:
    with pytest.raises(ValidationError) as error:
        session_trail(app, alices, app.college.admin, limit=201)
    assert [p.field for p in error.value.problems] == ["limit"]
    assert session_trail(app, alices, app.college.admin, limit=200) == ([], 0)


# -- a student's trail -------------------------------------------------------------------------


def test_an_admin_reads_a_students_changes_across_every_session_newest_first(
    app: App, alices: ClassSession, bobs: ClassSession
) -> None:
    st0, st1 = app.college.students[0].id, app.college.students[1].id
    app.at(alices.date, 9, 5)
    app.mark(alices, {st0: LATE, st1: PRESENT})
    app.at(bobs.date, 10, 5)
    app.mark(bobs, {st0: EXCUSED}, reason="sports meet")

    entries, total = student_trail(app, st0, app.college.admin)

    assert total == 2
    assert [(e.session_id, e.new_status, e.reason) for e in entries] == [
        (bobs.id, EXCUSED, "sports meet"),
        (alices.id, LATE, ""),
    ]
    assert student_trail(app, st0, app.college.admin, limit=1, offset=1) == (entries[1:], 2)


def test_a_teacher_reads_only_the_students_changes_in_sessions_they_teach_now(
    app: App, alices: ClassSession, bobs: ClassSession
) -> None:
    st0 = app.college.students[0].id
    app.at(alices.date, 9, 5)
    app.mark(alices, {st0: LATE})
    app.at(bobs.date, 10, 5)
    app.mark(bobs, {st0: ABSENT})
    alice, bob = app.college.as_alice(), app.college.as_bob()

    assert [e.session_id for e in student_trail(app, st0, alice)[0]] == [alices.id]
    assert [e.session_id for e in student_trail(app, st0, bob)[0]] == [bobs.id]

    # bob covers alice's class: its trail is his to read now, no longer hers
    app.replace_session(alices, teacher_id=app.college.bob.id)
    assert student_trail(app, st0, alice) == ([], 0)
    entries, total = student_trail(app, st0, bob)
    assert ([e.session_id for e in entries], total) == ([bobs.id, alices.id], 2)


def test_a_teacher_who_never_taught_the_student_reads_an_empty_trail(
    app: App, alices: ClassSession
) -> None:
    outsider = app.college.outsider.id  # section B: alice does not teach it
    app.at(alices.date, 9, 5)
    app.mark(alices, {app.college.students[0].id: LATE})
    assert student_trail(app, outsider, app.college.as_alice()) == ([], 0)


def test_students_never_read_a_students_trail_not_even_their_own(app: App) -> None:
    student = app.college.students[0]
    with pytest.raises(PermissionDeniedError):
        student_trail(app, student.id, student_principal(student))


def test_an_unknown_student_is_not_found(app: App) -> None:
    with pytest.raises(NotFoundError):
        student_trail(app, StudentId("N404"), app.college.admin)


# -- security events ---------------------------------------------------------------------------


def review(
    app: App,
    actor: Principal,
    limit: int = 50,
    offset: int = 0,
    *,
    kind: SecurityEventKind | None = None,
    student_id: StudentId | None = None,
    session_id: SessionId | None = None,
    since: datetime | None = None,
) -> tuple[list[tuple[SecurityEventKind, StudentId | None]], int]:
    filters = SecurityEventFilter(kind, student_id, session_id, since)
    page = ListSecurityEvents(app.uow)(
        ListSecurityEventsCommand(actor, filters, PageRequest(limit=limit, offset=offset))
    )
    return [(e.kind, e.student_id) for e in page.items], page.total


def test_an_admin_reviews_wrong_codes_and_a_shared_device_newest_first_and_filtered(
    app: App, alices: ClassSession
) -> None:
    first, second = app.college.as_student(0), app.college.as_student(1)
    st0, st1 = first.student_id, second.student_id
    app.bind(first)
    app.at(alices.date, 9, 1)
    app.open(alices)
    app.at(alices.date, 9, 2)
    for _ in range(2):
        with pytest.raises(CheckInRefusedError):
            app.check_in(first, alices, wrong_code(app.code(alices)))
    shared_at = app.at(alices.date, 9, 3)
    with pytest.raises(PermissionDeniedError):
        app.bind(second, device=f"phone-{st0}")  # a second account on the first's phone
    admin = app.college.admin
    wrong, shared = SecurityEventKind.WRONG_CODE, SecurityEventKind.DEVICE_SHARED

    assert review(app, admin) == ([(shared, st1), (wrong, st0), (wrong, st0)], 3)
    assert review(app, admin, 1, 1) == ([(wrong, st0)], 3)
    assert review(app, admin, kind=wrong) == ([(wrong, st0), (wrong, st0)], 2)
    assert review(app, admin, student_id=st1) == ([(shared, st1)], 1)
    assert review(app, admin, session_id=alices.id) == ([(wrong, st0), (wrong, st0)], 2)
    assert review(app, admin, since=shared_at) == ([(shared, st1)], 1)
    assert review(app, admin, since=shared_at + timedelta(seconds=1)) == ([], 0)
    assert review(app, admin, kind=SecurityEventKind.OFF_CAMPUS) == ([], 0)


def test_only_admins_review_security_events_and_only_their_own_institutions(
    app: App, uow: InMemoryUnitOfWork, alices: ClassSession
) -> None:
    student = app.college.as_student(0)
    app.bind(student)
    with pytest.raises(PermissionDeniedError):
        app.bind(student, device="another-phone-0001")  # a second device
    other = seed_small_college(uow, institution_id="inst-b", domain="b.edu")

    assert review(app, app.college.admin)[1] == 1
    assert review(app, admin_principal(app.college.id, "head@a.edu"))[1] == 1
    assert review(app, other.admin) == ([], 0)
    for refused in (student, app.college.as_alice(), app.college.as_bob()):
        with pytest.raises(PermissionDeniedError):
            review(app, refused)
    with pytest.raises(ValidationError):
        review(app, app.college.admin, limit=201)
