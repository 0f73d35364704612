"""The contract of :class:`~ams_core.ports.UnitOfWork` and all of its repositories.

Every persistence adapter (memory, SQLAlchemy on SQLite and PostgreSQL, an institution's own)
subclasses :class:`UnitOfWorkContract` and provides one fixture, ``uow_factory``. The tests
speak only through the port, so they check exactly the semantics the port docstrings promise.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from ams_core.domain import (
    AmsError,
    AssignmentId,
    AssignmentSummary,
    AttendanceMark,
    AttendanceStatus,
    AttendanceWindow,
    AuditEntry,
    ClassSession,
    ConcurrencyError,
    ConflictError,
    CoverAssignment,
    CoverId,
    CoverSettings,
    DateRange,
    DeliveryReport,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    InstitutionSettings,
    MarkSource,
    NotFoundError,
    Notification,
    NotificationId,
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    PermissionDeniedError,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    Section,
    SectionId,
    SecurityEvent,
    SecurityEventKind,
    SessionCounts,
    SessionId,
    SessionStatus,
    SignIn,
    SignInId,
    SignInMethod,
    SlotId,
    StatusTally,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    SubjectKind,
    TeachingAssignment,
    Term,
    TermId,
    ValidationError,
    WeeklySlot,
)
from ams_core.ports import (
    CheckInContext,
    FailureCounts,
    SecurityEventFilter,
    SentNotification,
    Slice,
    UnitOfWork,
)
from ams_core.testing.builders import MONDAY, SmallCollege, seed_small_college

UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A zero-argument callable returning a fresh unit of work over one shared backing store."""

#: The week of :data:`~ams_core.testing.builders.MONDAY` (Monday to Sunday, inclusive).
WEEK = DateRange(MONDAY, MONDAY + timedelta(days=6))
#: Wide enough to hold every date the contract uses.
EVERYTHING = DateRange(date(2000, 1, 1), date(2100, 12, 31))
_FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
#: 09:00 in Asia/Kolkata on MONDAY.
T0 = datetime(2026, 11, 16, 3, 30, tzinfo=UTC)
#: An offset other than UTC: adapters must keep the instant, whatever zone they return.
IST = timezone(timedelta(hours=5, minutes=30))


# -- builders -------------------------------------------------------------------------------
def _domain(college: SmallCollege) -> str:
    return min(college.institution.email_domains)


def _day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def _session(
    college: SmallCollege,
    session_id: str,
    assignment: TeachingAssignment,
    day: date,
    start: time = time(9),
    *,
    status: SessionStatus = SessionStatus.SCHEDULED,
    slot: str | None = None,
    teacher: FacultyId | None = None,
    tally: StatusTally | None = None,
    topic: str | None = None,
) -> ClassSession:
    """A one-hour session of ``assignment`` (completed ones get a completion time)."""
    end = time(start.hour + 1, start.minute)
    return ClassSession(
        id=SessionId(session_id),
        institution_id=college.id,
        assignment_id=assignment.id,
        section_id=assignment.section_id,
        subject_code=assignment.subject_code,
        date=day,
        start=start,
        end=end,
        teacher_id=teacher if teacher is not None else assignment.faculty_id,
        venue=f"Room {assignment.id}",
        slot_id=None if slot is None else SlotId(slot),
        status=status,
        topic=topic,
        completed_at=T0 + timedelta(hours=1) if status is SessionStatus.COMPLETED else None,
        tally=tally if tally is not None else StatusTally(),
    )


def _mark(
    college: SmallCollege,
    session_id: str,
    student: Student,
    status: AttendanceStatus = AttendanceStatus.PRESENT,
    *,
    source: MarkSource = MarkSource.CHECK_IN,
    device: str | None = None,
    at: datetime = T0,
) -> AttendanceMark:
    return AttendanceMark(
        institution_id=college.id,
        session_id=SessionId(session_id),
        student_id=student.id,
        status=status,
        marked_at=at,
        marked_by=student.email if source is MarkSource.CHECK_IN else college.alice.email,
        source=source,
        device_id=None if device is None else DeviceId(device),
    )


def _audit(
    college: SmallCollege,
    session_id: str,
    student: Student,
    *,
    actor: str,
    at: datetime = T0,
    old: AttendanceStatus | None = None,
    new: AttendanceStatus = AttendanceStatus.PRESENT,
    reason: str = "",
) -> AuditEntry:
    return AuditEntry(
        institution_id=college.id,
        session_id=SessionId(session_id),
        student_id=student.id,
        actor=actor,
        at=at,
        old_status=old,
        new_status=new,
        reason=reason,
    )


def _event(
    college: SmallCollege,
    at: datetime,
    *,
    actor: str = "system",
    kind: SecurityEventKind = SecurityEventKind.WRONG_CODE,
) -> SecurityEvent:
    return SecurityEvent(institution_id=college.id, kind=kind, at=at, actor=actor)


def _cover(
    college: SmallCollege,
    cover_id: str,
    session_id: str,
    substitute: FacultyId,
    starts_at: datetime,
    minutes: int = 60,
) -> CoverAssignment:
    return CoverAssignment(
        id=CoverId(cover_id),
        institution_id=college.id,
        session_id=SessionId(session_id),
        substitute_id=substitute,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        booked_at=T0 - timedelta(days=1),
    )


def _notification(
    college: SmallCollege,
    notification_id: str,
    key: str,
    created_at: datetime = T0,
    *,
    recipients: tuple[Recipient, ...] = (Recipient(RecipientKind.SECTION, "E2-CSE-A"),),
) -> Notification:
    return Notification(
        id=NotificationId(notification_id),
        institution_id=college.id,
        kind="class_cancelled",
        title="Class cancelled",
        body="CS101 at 09:00 is cancelled",
        recipients=recipients,
        idempotency_key=key,
        created_at=created_at,
    )


def _sign_in(
    college: SmallCollege,
    sign_in_id: str,
    email: str,
    *,
    created_at: datetime = T0,
    lifetime: timedelta = timedelta(days=30),
    method: SignInMethod = SignInMethod.GOOGLE,
    device: str | None = None,
    revoked_at: datetime | None = None,
    digest: str = "0" * 64,
) -> SignIn:
    return SignIn(
        id=SignInId(sign_in_id),
        institution_id=college.id,
        email=email,
        method=method,
        refresh_digest=digest,
        created_at=created_at,
        expires_at=created_at + lifetime,
        device_id=None if device is None else DeviceId(device),
        revoked_at=revoked_at,
    )


#: Not a real hash: adapters store the text as given.
_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"


def _password(college: SmallCollege, email: str, hashed: str = _HASH) -> PasswordCredential:
    return PasswordCredential(institution_id=college.id, email=email, password_hash=hashed)


def _push(
    college: SmallCollege,
    token: str,
    *,
    student: Student | None = None,
    faculty: Faculty | None = None,
    platform: PushPlatform = PushPlatform.ANDROID,
    at: datetime = T0,
) -> PushToken:
    """A registration owned by ``student`` or ``faculty`` (their email is the owner's)."""
    owner = student if student is not None else faculty
    return PushToken(
        institution_id=college.id,
        token=token,
        platform=platform,
        owner_email=owner.email if owner is not None else f"nobody@{_domain(college)}",
        registered_at=at,
        student_id=None if student is None else student.id,
        faculty_id=None if faculty is None else faculty.id,
    )


def _broadcast(
    college: SmallCollege,
    notification_id: str,
    created_at: datetime,
    *recipients: Recipient,
    kind: str = "broadcast",
) -> Notification:
    return dataclasses.replace(
        _notification(college, notification_id, f"key-{notification_id}", created_at),
        kind=kind,
        recipients=recipients,
    )


def _operator(
    sign_in_id: str,
    email: str = "ops@ams.example",
    *,
    issued_at: datetime = T0,
    lifetime: timedelta = timedelta(minutes=15),
    revoked_at: datetime | None = None,
) -> OperatorSignIn:
    """A platform operator's recorded access token."""
    return OperatorSignIn(
        id=SignInId(sign_in_id),
        email=email,
        issued_at=issued_at,
        expires_at=issued_at + lifetime,
        revoked_at=revoked_at,
    )


#: Every method of ``operator_sign_ins``; inside an institution scope each is refused.
_OPERATOR_SIGN_IN_CALLS: list[tuple[str, Callable[[UnitOfWork], object]]] = [
    ("add", lambda u: u.operator_sign_ins.add(_operator("OP-NEW"))),
    ("find", lambda u: u.operator_sign_ins.find(SignInId("OP-1"))),
    ("list_active", lambda u: u.operator_sign_ins.list_active(T0)),
    ("revoke", lambda u: u.operator_sign_ins.revoke(SignInId("OP-1"), T0)),
    ("revoke_all", lambda u: u.operator_sign_ins.revoke_all(T0)),
    ("revoked_since", lambda u: u.operator_sign_ins.revoked_since(_FAR_PAST)),
]


#: A password email every populated college has, with a hash of its own.
_GUEST = "guest@shared.org"


# -- one case per keyed repository ----------------------------------------------------------
@dataclass(frozen=True)
class _KeyedCase:
    """A repository with find/get/add/update and the entities to exercise it with."""

    name: str
    repo: Callable[[UnitOfWork], Any]
    new: Callable[[SmallCollege], Any]  # a complete entity that the seed does not contain
    key: Callable[[Any], Any]
    change: Callable[[Any], Any]  # the same row with other field values
    missing: str
    platform: bool = False  # institutions are written in the platform scope
    listing: Callable[[Any], Any] = lambda repo: repo.list()  # every row, or a query holding it

    def open(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> UnitOfWork:
        uow = uow_factory()
        return uow.for_platform() if self.platform else uow.for_institution(college.id)


def _full_institution(_: SmallCollege) -> Institution:
    return Institution(
        id=InstitutionId("inst-z"),
        name="Zeta Institute of Technology",
        timezone="America/Sao_Paulo",
        email_domains=frozenset({"z.edu", "students.z.edu"}),
        settings=InstitutionSettings(
            attendance_threshold=Decimal("72.5"),
            code_rotation_seconds=0,
            check_in_window_minutes=15,
            late_after_minutes=5,
            open_early_minutes=20,
            auto_complete_grace_minutes=45,
            campus_networks=("10.20.0.0/16", "2001:db8::/48"),
            max_wrong_codes_per_student=3,
            max_wrong_codes_per_session=120,
            cover=CoverSettings(1, 4, 41, 26, 16, 11, 21, 16, 11),
        ),
    )


def _change_institution(institution: Institution) -> Institution:
    return dataclasses.replace(
        institution,
        name="Renamed",
        timezone="Europe/Berlin",
        email_domains=institution.email_domains | {"alumni.z.edu"},
        settings=dataclasses.replace(
            institution.settings,
            attendance_threshold=Decimal("66.67"),
            campus_networks=("192.168.0.0/24",),
        ),
    )


def _full_student(college: SmallCollege) -> Student:
    return Student(
        id=StudentId("N220042"),
        institution_id=college.id,
        name="Ravi Kumar",
        email=f"n220042@{_domain(college)}",
        section_id=college.section_b.id,
        roll_number=42,
        is_class_representative=True,
    )


def _full_faculty(college: SmallCollege) -> Faculty:
    return Faculty(
        id=FacultyId("F900"),
        institution_id=college.id,
        name="Chitra Rao",
        email=f"chitra@{_domain(college)}",
        department="PHYSICS",
        qualified_subjects=frozenset({college.cs101.code, college.ma101.code}),
        max_covers_per_day=1,
        max_covers_per_week=4,
        is_admin=True,
    )


def _full_session(college: SmallCollege) -> ClassSession:
    """A completed, covered session with a window (binary secret), tally and topic."""
    return ClassSession(
        id=SessionId("S-FULL"),
        institution_id=college.id,
        assignment_id=college.alice_cs_a.id,
        section_id=college.section_a.id,
        subject_code=college.cs101.code,
        date=MONDAY,
        start=time(9, 0),
        end=time(9, 50, 30),
        teacher_id=college.bob.id,
        venue="Room 101",
        slot_id=SlotId("A1-1"),
        status=SessionStatus.COMPLETED,
        topic="Heaps — binary and d-ary",
        window=AttendanceWindow(
            opened_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            closes_at=T0 + timedelta(minutes=11),
            secret=bytes(range(0, 256, 8)),
            rotation_seconds=30,
        ),
        completed_at=datetime(2026, 11, 16, 9, 52, 7, 123456, tzinfo=IST),
        tally=StatusTally(present=3, late=1, absent=1, excused=0),
    )


_KEYED_CASES = (
    _KeyedCase(
        name="institutions",
        repo=lambda uow: uow.institutions,
        new=_full_institution,
        key=lambda e: e.id,
        change=_change_institution,
        missing="inst-missing",
        platform=True,
    ),
    _KeyedCase(
        name="sections",
        repo=lambda uow: uow.sections,
        new=lambda c: Section(SectionId("E3-ECE-C"), c.id, 3, "ECE", "C"),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, year=4, department="EEE", name="D"),
        missing="NO-SECTION",
    ),
    _KeyedCase(
        name="students",
        repo=lambda uow: uow.students,
        new=_full_student,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            name="Ravi K.",
            email=e.email.replace("n220042", "ravi"),
            section_id=SectionId("E2-CSE-A"),
            roll_number=None,
            is_class_representative=False,
        ),
        missing="N000000",
    ),
    _KeyedCase(
        name="faculty",
        repo=lambda uow: uow.faculty,
        new=_full_faculty,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e,
            department="MATH",
            qualified_subjects=frozenset(),
            max_covers_per_day=None,
            max_covers_per_week=None,
            is_admin=False,
        ),
        missing="F000",
    ),
    _KeyedCase(
        name="subjects",
        repo=lambda uow: uow.subjects,
        new=lambda c: Subject(SubjectCode("PH101L"), c.id, "PL", "Physics Lab", SubjectKind.LAB),
        key=lambda e: e.code,
        change=lambda e: dataclasses.replace(e, name="Physics", kind=SubjectKind.THEORY),
        missing="XX000",
    ),
    _KeyedCase(
        name="assignments",
        repo=lambda uow: uow.assignments,
        new=lambda c: TeachingAssignment(
            AssignmentId("A9"), c.id, c.alice.id, c.ma101.code, c.section_b.id
        ),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, faculty_id=FacultyId("F002")),
        missing="A0",
    ),
    _KeyedCase(
        name="slots",
        repo=lambda uow: uow.slots,
        new=lambda c: WeeklySlot(
            SlotId("A1-6"), c.id, c.alice_cs_a.id, 6, time(14, 15), time(15, 45), venue="Lab 2"
        ),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, weekday=7, start=time(8), end=time(8, 50)),
        missing="NO-SLOT",
    ),
    _KeyedCase(
        name="terms",
        repo=lambda uow: uow.terms,
        new=lambda c: Term(TermId("T2"), c.id, "Spring 2027", date(2027, 1, 4), date(2027, 5, 14)),
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(e, name="Spring", end=date(2027, 5, 28)),
        missing="T0",
    ),
    _KeyedCase(
        name="sessions",
        repo=lambda uow: uow.sessions,
        new=_full_session,
        key=lambda e: e.id,
        change=lambda e: dataclasses.replace(
            e, topic=None, window=None, completed_at=None, status=SessionStatus.CANCELLED
        ),
        missing="S-MISSING",
        listing=lambda repo: repo.list_for_assignment(AssignmentId("A1")),
    ),
)


#: The keyed repositories that can remove rows (every one but institutions and sessions).
_REMOVABLE_CASES = tuple(
    c
    for c in _KEYED_CASES
    if c.name in {"sections", "students", "faculty", "subjects", "assignments", "slots", "terms"}
)


# -- rows that others refer to ----------------------------------------------------------------
def _spare_section(college: SmallCollege) -> Section:
    return Section(SectionId("SPARE-SEC"), college.id, 1, "CIVIL", "S")


def _spare_student(college: SmallCollege, section_id: SectionId | None = None) -> Student:
    section = college.section_a.id if section_id is None else section_id
    return Student(
        StudentId("N-SPARE"), college.id, "Spare", f"spare@{_domain(college)}", section, 7
    )


def _spare_teacher(college: SmallCollege) -> Faculty:
    return Faculty(
        FacultyId("F-SPARE"), college.id, "Spare", f"spare.teacher@{_domain(college)}", "CIVIL"
    )


def _spare_subject(college: SmallCollege) -> Subject:
    return Subject(SubjectCode("SP101"), college.id, "SP", "Spare Parts")


def _spare_assignment(
    college: SmallCollege,
    *,
    teacher: FacultyId | None = None,
    subject: SubjectCode | None = None,
    section: SectionId | None = None,
) -> TeachingAssignment:
    return TeachingAssignment(
        AssignmentId("A-SPARE"),
        college.id,
        college.alice.id if teacher is None else teacher,
        college.ma101.code if subject is None else subject,
        college.section_b.id if section is None else section,
    )


#: A session of the seeded CS101 assignment of section A that references can be hung on.
def _spare_session(college: SmallCollege, **changes: Any) -> ClassSession:
    session = _session(college, "S-SPARE", college.alice_cs_a, MONDAY, time(15))
    return dataclasses.replace(session, **changes)


@dataclass(frozen=True)
class _InUseCase:
    """A row that other rows refer to, so that removing it is refused with ``in_use``."""

    name: str
    refer: Callable[[UnitOfWork, SmallCollege], object]  # writes the row and what refers to it
    remove: Callable[[UnitOfWork, SmallCollege], bool]
    lookups: Callable[[UnitOfWork, SmallCollege], object]  # every way to find the row


def _in_use_cases() -> list[_InUseCase]:
    def section_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        return u.sections.find(_spare_section(c).id), list(u.sections.list())

    def student_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_student(c)
        return (
            u.students.find(spare.id),
            u.students.find_by_email(spare.email),
            list(u.students.list(spare.section_id)),
            u.students.ids_in_section(spare.section_id),
        )

    def teacher_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_teacher(c)
        return (
            u.faculty.find(spare.id),
            u.faculty.find_by_email(spare.email),
            dict(u.faculty.find_many([spare.id])),
            list(u.faculty.list()),
        )

    def subject_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        spare = _spare_subject(c)
        return u.subjects.find(spare.code), dict(u.subjects.find_many([spare.code]))

    def assignment_lookups(u: UnitOfWork, c: SmallCollege) -> object:
        return u.assignments.find(AssignmentId("A-SPARE")), list(u.assignments.list())

    def with_section(u: UnitOfWork, c: SmallCollege) -> SectionId:
        u.sections.add(_spare_section(c))
        return _spare_section(c).id

    def with_student(u: UnitOfWork, c: SmallCollege) -> Student:
        u.students.add(_spare_student(c))
        return _spare_student(c)

    def with_teacher(u: UnitOfWork, c: SmallCollege) -> Faculty:
        u.faculty.add(_spare_teacher(c))
        return _spare_teacher(c)

    def with_subject(u: UnitOfWork, c: SmallCollege) -> SubjectCode:
        u.subjects.add(_spare_subject(c))
        return _spare_subject(c).code

    def with_assignment(u: UnitOfWork, c: SmallCollege) -> TeachingAssignment:
        u.assignments.add(_spare_assignment(c))
        return _spare_assignment(c)

    def with_spare_session(u: UnitOfWork, c: SmallCollege, **changes: Any) -> ClassSession:
        session = _spare_session(c, **changes)
        u.sessions.add(session)
        return session

    def remove_section(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.sections.remove(_spare_section(c).id)

    def remove_student(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.students.remove(_spare_student(c).id)

    def remove_teacher(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.faculty.remove(_spare_teacher(c).id)

    def remove_subject(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.subjects.remove(_spare_subject(c).code)

    def remove_assignment(u: UnitOfWork, c: SmallCollege) -> bool:
        return u.assignments.remove(AssignmentId("A-SPARE"))

    return [
        _InUseCase(
            "section with students",
            lambda u, c: u.students.add(
                dataclasses.replace(_spare_student(c), section_id=with_section(u, c))
            ),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "section with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, section=with_section(u, c))),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "section with sessions",
            lambda u, c: with_spare_session(u, c, section_id=with_section(u, c)),
            remove_section,
            section_lookups,
        ),
        _InUseCase(
            "student with attendance marks",
            lambda u, c: (
                with_spare_session(u, c),
                u.marks.put_many([_mark(c, "S-SPARE", with_student(u, c))]),
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with check-in failures",
            lambda u, c: (
                with_spare_session(u, c),
                u.attempts.record_failure(SessionId("S-SPARE"), with_student(u, c).id),
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with a bound device",
            lambda u, c: u.devices.add(
                DeviceBinding(c.id, with_student(u, c).id, DeviceId("device-spare"), T0)
            ),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "student with a push token",
            lambda u, c: u.push_tokens.put(_push(c, "tok-spare", student=with_student(u, c))),
            remove_student,
            student_lookups,
        ),
        _InUseCase(
            "teacher with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, teacher=with_teacher(u, c).id)),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher of record of a session",
            lambda u, c: with_spare_session(u, c, teacher_id=with_teacher(u, c).id),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher covering a class",
            lambda u, c: (
                with_spare_session(u, c),
                u.covers.add(_cover(c, "C-SPARE", "S-SPARE", with_teacher(u, c).id, T0)),
            ),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "teacher with a push token",
            lambda u, c: u.push_tokens.put(_push(c, "tok-spare", faculty=with_teacher(u, c))),
            remove_teacher,
            teacher_lookups,
        ),
        _InUseCase(
            "subject with teaching assignments",
            lambda u, c: u.assignments.add(_spare_assignment(c, subject=with_subject(u, c))),
            remove_subject,
            subject_lookups,
        ),
        _InUseCase(
            # the session's own subject, not its assignment's
            "subject with sessions",
            lambda u, c: with_spare_session(u, c, subject_code=with_subject(u, c)),
            remove_subject,
            subject_lookups,
        ),
        _InUseCase(
            "assignment with weekly slots",
            lambda u, c: u.slots.add(
                WeeklySlot(SlotId("SPARE-1"), c.id, with_assignment(u, c).id, 6, time(8), time(9))
            ),
            remove_assignment,
            assignment_lookups,
        ),
        _InUseCase(
            "assignment with sessions",
            lambda u, c: with_spare_session(
                u,
                c,
                assignment_id=with_assignment(u, c).id,
                section_id=c.section_b.id,
                subject_code=c.ma101.code,
            ),
            remove_assignment,
            assignment_lookups,
        ),
    ]


_IN_USE_CASES = _in_use_cases()


# -- populating two tenants ------------------------------------------------------------------
def _tag(college: SmallCollege) -> str:
    return college.id.removeprefix("inst-").upper()


def _populate(uow_factory: UnitOfWorkFactory, college: SmallCollege) -> None:
    """Give a seeded college rows in every repository; ids ``*-<TAG>-*`` are its own.

    Both colleges also share every id of :func:`seed_small_college` and the session
    ``S-SHARED``, with different contents, so a leak between tenants shows.
    """
    tag, iid, domain = _tag(college), college.id, _domain(college)
    own_section = Section(SectionId(f"{tag}-ONLY"), iid, 1, "BIO", tag)
    own_student = Student(
        StudentId(f"N{tag}0001"), iid, f"Only {tag}", f"n{tag.lower()}0001@{domain}", own_section.id
    )
    own_faculty = Faculty(
        FacultyId(f"F{tag}"), iid, f"Teacher {tag}", f"f{tag.lower()}@{domain}", "BIO"
    )
    own_subject = Subject(SubjectCode(f"SUB{tag}"), iid, tag, f"Subject {tag}")
    own_assignment = TeachingAssignment(
        AssignmentId(f"AS{tag}"), iid, own_faculty.id, own_subject.code, own_section.id
    )
    is_a = tag == "A"
    shared_status = AttendanceStatus.PRESENT if is_a else AttendanceStatus.ABSENT
    s0, s1 = college.students[0], college.students[1]
    with uow_factory().for_institution(iid) as uow:
        uow.sections.add(own_section)
        uow.students.add(own_student)
        uow.faculty.add(own_faculty)
        uow.subjects.add(own_subject)
        uow.assignments.add(own_assignment)
        uow.slots.add(
            WeeklySlot(SlotId(f"AS{tag}-1"), iid, own_assignment.id, 1, time(12), time(13))
        )
        uow.terms.add(
            Term(
                TermId(f"T{tag}"),
                iid,
                f"Term {tag}",
                date(2027, 1 if is_a else 6, 4),
                date(2027, 5 if is_a else 7, 14),
            )
        )
        uow.holidays.add(Holiday(iid, _day(4 if is_a else 3), f"Holiday {tag}"))
        uow.sessions.add_many(
            [
                _session(
                    college,
                    "S-SHARED",
                    college.alice_cs_a,
                    MONDAY,
                    status=SessionStatus.COMPLETED,
                    slot="A1-1",
                    tally=StatusTally.of([shared_status, shared_status]),
                    topic=f"Topic {tag}",
                ),
                _session(
                    college,
                    f"S-{tag}-OPEN",
                    college.bob_ma_a,
                    MONDAY,
                    time(10),
                    status=SessionStatus.OPEN,
                    slot="A2-1",
                ),
                _session(college, f"S-{tag}-NEXT", college.alice_cs_a, _day(3), slot="A1-4"),
                _session(
                    college,
                    f"S-{tag}-ONLY",
                    own_assignment,
                    _day(1),
                    time(12),
                    status=SessionStatus.COMPLETED,
                    tally=StatusTally(present=1),
                ),
            ]
        )
        uow.marks.put_many(
            [
                _mark(college, "S-SHARED", s0, shared_status),
                _mark(college, "S-SHARED", s1, shared_status),
                _mark(college, f"S-{tag}-ONLY", own_student),
            ]
        )
        uow.audit.add_many(
            [_audit(college, "S-SHARED", s0, actor=f"teacher-{tag}", new=shared_status)]
        )
        uow.devices.add(DeviceBinding(iid, s0.id, DeviceId(f"device-{tag}-0001"), T0))
        uow.devices.add(DeviceBinding(iid, own_student.id, DeviceId(f"device-{tag}-only"), T0))
        for _ in range(1 if is_a else 3):
            uow.attempts.record_failure(SessionId("S-SHARED"), s0.id)
        uow.security_events.add(_event(college, T0, actor=f"actor-{tag}"))
        uow.covers.add(_cover(college, "C-SHARED", "S-SHARED", college.bob.id, T0))
        uow.covers.add(
            _cover(college, f"C-{tag}", f"S-{tag}-NEXT", own_faculty.id, T0 + timedelta(days=3))
        )
        uow.outbox.add(_notification(college, f"N-{tag}", f"key-{tag}"))
        uow.sign_ins.add(_sign_in(college, "SI-SHARED", s0.email, device=f"device-{tag}-0001"))
        uow.sign_ins.add(_sign_in(college, f"SI-{tag}", own_student.email))
        uow.sign_ins.add(
            _sign_in(college, f"SI-{tag}-OLD", own_student.email, revoked_at=T0 + timedelta(1))
        )
        uow.passwords.put(_password(college, _GUEST, f"hash-{tag}"))
        uow.passwords.put(_password(college, own_faculty.email, f"hash-{tag}-own"))
        uow.push_tokens.put(_push(college, "tok-SHARED", student=s0))
        uow.push_tokens.put(_push(college, f"tok-{tag}", faculty=own_faculty))
        uow.commit()


#: Ids written by :func:`_write_everything`, probed by :func:`_tenant_view` too.
_NEW_SECTION = SectionId("NEW-SEC")
_NEW_STUDENTS = (StudentId("NEW0001"), StudentId("NEW0002"))
_NEW_FACULTY = FacultyId("F-NEW")
_NEW_SUBJECT = SubjectCode("NEW101")
_NEW_ASSIGNMENT = AssignmentId("A-NEW")
_NEW_SLOT = SlotId("A-NEW-3")
_NEW_TERM = TermId("T-NEW")
_NEW_SESSIONS = (SessionId("S-NEW-1"), SessionId("S-NEW-2"))
_NEW_DEVICE = DeviceId("device-new-0001")
_NEW_NOTIFICATION = NotificationId("N-NEW")
_NEW_HOLIDAY = date(2026, 12, 25)
_COVER_IDS = (CoverId("C-SHARED"), CoverId("C-A"), CoverId("C-B"), CoverId("C-NEW"))


def _new_emails(college: SmallCollege) -> tuple[str, ...]:
    domain = _domain(college)
    return (f"new0001@{domain}", f"new0002@{domain}", f"new-teacher@{domain}", f"renamed@{domain}")


def _write_everything(uow: UnitOfWork, college: SmallCollege) -> None:
    """Write through every repository of a populated college (inside its scope)."""
    iid, tag, domain = college.id, _tag(college), _domain(college)
    emails = _new_emails(college)
    institution = uow.institutions.get(iid)
    uow.institutions.update(
        dataclasses.replace(
            institution,
            name="Renamed College",
            email_domains=institution.email_domains | {f"new.{domain}"},
        )
    )
    uow.sections.add(Section(_NEW_SECTION, iid, 4, "EEE", "Z"))
    with pytest.raises(ConflictError):
        uow.sections.remove(college.section_a.id)  # refused; the transaction goes on
    uow.sections.update(dataclasses.replace(uow.sections.get(college.section_b.id), name="BB"))
    uow.students.add_many(
        [
            Student(_NEW_STUDENTS[0], iid, "New One", emails[0], _NEW_SECTION, roll_number=1),
            Student(_NEW_STUDENTS[1], iid, "New Two", emails[1], _NEW_SECTION),
        ]
    )
    moved = uow.students.get(college.students[4].id)
    uow.students.update(
        dataclasses.replace(moved, email=emails[3], section_id=college.section_b.id)
    )
    uow.faculty.add(Faculty(_NEW_FACULTY, iid, "New Teacher", emails[2], "EEE"))
    uow.faculty.update(dataclasses.replace(uow.faculty.get(college.bob.id), department="PHYSICS"))
    uow.subjects.add(Subject(_NEW_SUBJECT, iid, "NS", "New Subject"))
    uow.subjects.update(dataclasses.replace(uow.subjects.get(college.ma101.code), name="Maths"))
    uow.assignments.add(
        TeachingAssignment(_NEW_ASSIGNMENT, iid, _NEW_FACULTY, _NEW_SUBJECT, _NEW_SECTION)
    )
    uow.slots.add(WeeklySlot(_NEW_SLOT, iid, _NEW_ASSIGNMENT, 3, time(8), time(9)))
    uow.terms.add(Term(_NEW_TERM, iid, "Next", date(2028, 1, 3), date(2028, 4, 28)))
    uow.terms.update(dataclasses.replace(uow.terms.get(college.term.id), name="Autumn"))
    assert uow.terms.remove(TermId(f"T{tag}"))
    assert uow.slots.remove(SlotId(f"AS{tag}-1"))
    assert uow.students.remove(college.students[3].id)
    uow.holidays.add(Holiday(iid, _NEW_HOLIDAY, "Christmas"))
    uow.holidays.remove(uow.holidays.list()[0].date)
    new_assignment = uow.assignments.get(_NEW_ASSIGNMENT)
    uow.sessions.add_many(
        [
            _session(college, _NEW_SESSIONS[0], new_assignment, _day(2), time(8), slot=_NEW_SLOT),
            _session(college, _NEW_SESSIONS[1], new_assignment, _day(2), time(15)),
        ]
    )
    upcoming = uow.sessions.get(SessionId(f"S-{tag}-NEXT"))
    uow.sessions.update(dataclasses.replace(upcoming, status=SessionStatus.OPEN))
    opened = uow.sessions.get(SessionId(f"S-{tag}-OPEN"))
    uow.sessions.update(
        dataclasses.replace(opened, status=SessionStatus.COMPLETED, tally=StatusTally(present=2))
    )
    new_one = uow.students.get(_NEW_STUDENTS[0])
    new_two = uow.students.get(_NEW_STUDENTS[1])
    uow.marks.insert_if_absent(_mark(college, _NEW_SESSIONS[0], new_one))
    uow.marks.add_missing(
        [
            _mark(college, _NEW_SESSIONS[0], new_two, AttendanceStatus.ABSENT),
            _mark(college, _NEW_SESSIONS[1], new_two, AttendanceStatus.EXCUSED),
        ]
    )
    uow.marks.put_many(
        [
            _mark(college, "S-SHARED", college.students[0], AttendanceStatus.LATE),
            _mark(college, "S-SHARED", college.students[2], AttendanceStatus.ABSENT),
        ]
    )
    uow.audit.add_many(
        [
            _audit(
                college,
                "S-SHARED",
                college.students[0],
                actor="alice",
                old=AttendanceStatus.PRESENT,
                new=AttendanceStatus.LATE,
                reason="came late",
            )
        ]
    )
    uow.devices.remove(college.students[0].id)
    uow.devices.add(DeviceBinding(iid, college.students[2].id, _NEW_DEVICE, T0))
    uow.attempts.record_failure(SessionId("S-SHARED"), college.students[1].id)
    uow.attempts.record_failure(_NEW_SESSIONS[0], new_two.id)
    uow.security_events.add(_event(college, T0 + timedelta(hours=1), actor="new-actor"))
    assert uow.covers.remove(CoverId("C-SHARED"))
    uow.covers.add(_cover(college, "C-NEW", _NEW_SESSIONS[0], _NEW_FACULTY, T0 + timedelta(days=2)))
    uow.outbox.add(_notification(college, _NEW_NOTIFICATION, f"key-new-{tag}"))
    own_email = f"n{tag.lower()}0001@{domain}"
    uow.sign_ins.add(_sign_in(college, "SI-NEW", emails[2], method=SignInMethod.PASSWORD))
    shared = uow.sign_ins.find(SignInId("SI-SHARED"))
    assert shared is not None
    uow.sign_ins.update(shared.rotated("1" * 64, shared.expires_at + timedelta(days=1), T0))
    assert uow.sign_ins.revoke_all(own_email, T0 + timedelta(hours=1)) == 1
    uow.passwords.put(_password(college, emails[2]))
    guest = uow.passwords.find(_GUEST)
    assert guest is not None
    uow.passwords.put(guest.after_failure(T0, PasswordPolicy()))
    assert uow.passwords.remove(f"f{tag.lower()}@{domain}")
    uow.push_tokens.put(_push(college, "tok-NEW", faculty=uow.faculty.get(_NEW_FACULTY)))
    assert uow.push_tokens.remove(f"tok-{tag}")
    uow.push_tokens.put(_push(college, "tok-SHARED", student=college.students[2]))


#: Sign-in ids written by :func:`_populate` and :func:`_write_everything`.
_SIGN_IN_IDS = tuple(
    SignInId(i) for i in ("SI-SHARED", "SI-A", "SI-B", "SI-A-OLD", "SI-B-OLD", "SI-NEW")
)


def _tenant_view(uow: UnitOfWork, college: SmallCollege) -> dict[str, object]:
    """Everything one tenant can observe through the ports (inside its scope)."""
    sections = list(uow.sections.list())
    students = list(uow.students.list())
    assignments = list(uow.assignments.list())
    faculty = list(uow.faculty.list())
    sessions: dict[SessionId, ClassSession] = {}
    for section in sections:
        sessions.update((s.id, s) for s in uow.sessions.list_for_section(section.id, EVERYTHING))
    for assignment in assignments:
        sessions.update((s.id, s) for s in uow.sessions.list_for_assignment(assignment.id))
    for teacher in faculty:
        sessions.update((s.id, s) for s in uow.sessions.list_for_teacher(teacher.id, EVERYTHING))
    session_ids = sorted({*sessions, *_NEW_SESSIONS})
    removed = college.students[3]  # by _write_everything
    student_ids = sorted(
        {*(s.id for s in students), *_NEW_STUDENTS, college.students[4].id, removed.id}
    )
    emails = {
        *(s.email for s in students),
        *(f.email for f in faculty),
        *_new_emails(college),
        removed.email,
    }
    domains = {*college.institution.email_domains, f"new.{_domain(college)}"}
    return {
        "institutions": list(uow.institutions.list()),
        "domains": {d: uow.institutions.find_by_domain(d) for d in sorted(domains)},
        "sections": sections,
        "new section": uow.sections.find(_NEW_SECTION),
        "students": students,
        "students by section": {s.id: list(uow.students.list(s.id)) for s in sections},
        "ids in section": {
            i: uow.students.ids_in_section(i) for i in {*(s.id for s in sections), _NEW_SECTION}
        },
        "student lookups": {i: uow.students.find(i) for i in student_ids},
        "student emails": {e: uow.students.find_by_email(e) for e in sorted(emails)},
        "faculty": faculty,
        "faculty emails": {e: uow.faculty.find_by_email(e) for e in sorted(emails)},
        "new faculty": uow.faculty.find(_NEW_FACULTY),
        "subjects": list(uow.subjects.list()),
        "new subject": uow.subjects.find(_NEW_SUBJECT),
        "assignments": assignments,
        "new assignment": uow.assignments.find(_NEW_ASSIGNMENT),
        "slots": list(uow.slots.list()),
        "new slot": uow.slots.find(_NEW_SLOT),
        "terms": list(uow.terms.list()),
        "new term": uow.terms.find(_NEW_TERM),
        "holidays": list(uow.holidays.list()),
        "sessions": [sessions[i] for i in sorted(sessions)],
        "sessions between": list(uow.sessions.list_between(EVERYTHING)),
        "session lookups": {i: uow.sessions.find(i) for i in session_ids},
        "open": sorted(s.id for s in uow.sessions.list_open()),
        "generated": uow.sessions.generated_keys(EVERYTHING),
        "counts": dict(uow.sessions.subject_counts(EVERYTHING, MONDAY)),
        "summaries": dict(
            uow.sessions.assignment_summaries([a.id for a in assignments], MONDAY, time(0))
        ),
        "marks": list(uow.marks.list_for_sessions(session_ids)),
        "tallies": dict(uow.marks.tallies(EVERYTHING)),
        "audit": {i: list(uow.audit.list_for_session(i)) for i in session_ids},
        "audit pages": {i: uow.audit.page_for_session(i, 1000) for i in session_ids},
        "student audit": {i: uow.audit.page_for_student(i, 1000) for i in student_ids},
        "alice's student audit": {
            i: uow.audit.page_for_student(i, 1000, teacher=college.alice.id) for i in student_ids
        },
        "devices": {i: uow.devices.for_student(i) for i in student_ids},
        "new device": uow.devices.for_device(_NEW_DEVICE),
        "failures": {(i, s): uow.attempts.failures(i, s) for i in session_ids for s in student_ids},
        "events": list(uow.security_events.list(limit=1000)),
        "event page": uow.security_events.page(SecurityEventFilter(), 1000),
        "covers": {
            f.id: list(uow.covers.list_for_substitute(f.id, _FAR_PAST, _FAR_FUTURE))
            for f in faculty
        },
        "cover lookups": {i: uow.covers.find(i) for i in _COVER_IDS},
        "session covers": {i: uow.covers.for_session(i) for i in session_ids},
        "session tallies": {i: uow.marks.tally(i) for i in session_ids},
        "outbox": list(uow.outbox.pending(limit=1000)),
        "history": list(uow.outbox.history("class_cancelled", limit=1000)),
        "sign ins": {i: uow.sign_ins.find(i) for i in _SIGN_IN_IDS},
        "revoked": uow.sign_ins.revoked_since(_FAR_PAST),
        "passwords": {e: uow.passwords.find(e) for e in sorted({*emails, _GUEST})},
        "push tokens": (
            list(uow.push_tokens.for_students(student_ids)),
            list(uow.push_tokens.for_faculty({*(f.id for f in faculty), _NEW_FACULTY})),
        ),
    }


def _platform_view(uow: UnitOfWork) -> dict[str, object]:
    return {
        "institutions": list(uow.institutions.list()),
        "outbox": list(uow.outbox.pending(limit=1000)),
        "history": list(uow.outbox.history("class_cancelled", limit=1000)),
        "operator sign-ins": list(uow.operator_sign_ins.list_active(_FAR_PAST)),
        "revoked operator sign-ins": uow.operator_sign_ins.revoked_since(_FAR_PAST),
    }


def _nonzero_counts(
    counts: Mapping[tuple[SectionId, SubjectCode], SessionCounts],
) -> dict[tuple[SectionId, SubjectCode], SessionCounts]:
    return {k: v for k, v in counts.items() if v != SessionCounts()}


def _nonzero_tallies(
    tallies: Mapping[tuple[StudentId, SubjectCode], StatusTally],
) -> dict[tuple[StudentId, SubjectCode], StatusTally]:
    return {k: v for k, v in tallies.items() if v.total}


def _empty_summary(summary: AssignmentSummary | None) -> bool:
    return summary is None or summary == AssignmentSummary(0, StatusTally(), None, None)


def _refused_or_empty(read: Callable[[UnitOfWork], object], uow: UnitOfWork) -> bool:
    """Whether a read raises an AmsError or finds nothing."""
    try:
        result = read(uow)
    except AmsError:
        return True
    if result is None:
        return True
    if isinstance(result, StatusTally):
        return result.total == 0
    if isinstance(result, Slice):
        return result == Slice((), 0)
    if isinstance(result, Mapping | Sequence | set | frozenset):
        return len(result) == 0
    return result == 0


# -- writes of another institution's rows, refused inside a tenant scope -------------------
_ForeignWrite = Callable[[UnitOfWork, SmallCollege], object]


def _foreign_writes() -> list[tuple[str, _ForeignWrite]]:
    """Writes, inside A's scope, of rows that belong to ``b`` (a populated college)."""
    replace = dataclasses.replace

    def student(b: SmallCollege, n: int) -> Student:
        return Student(StudentId(f"NX{n:04d}"), b.id, "X", f"nx{n:04d}@b.edu", b.section_a.id)

    def session(b: SmallCollege, sid: str) -> ClassSession:
        return _session(b, sid, b.alice_cs_a, _day(2), time(16))

    return [
        (
            "institutions.update",
            lambda u, b: u.institutions.update(replace(b.institution, name="X")),
        ),
        (
            "institutions.add",
            lambda u, b: u.institutions.add(
                Institution(InstitutionId("inst-x"), "X", "UTC", frozenset({"x.edu"}))
            ),
        ),
        ("sections.add", lambda u, b: u.sections.add(Section(SectionId("X"), b.id, 1, "X", "X"))),
        ("sections.update", lambda u, b: u.sections.update(replace(b.section_a, name="X"))),
        ("students.add", lambda u, b: u.students.add(student(b, 1))),
        ("students.add_many", lambda u, b: u.students.add_many([student(b, 2), student(b, 3)])),
        ("students.update", lambda u, b: u.students.update(replace(b.students[0], name="X"))),
        (
            "faculty.add",
            lambda u, b: u.faculty.add(Faculty(FacultyId("FX"), b.id, "X", "fx@b.edu", "X")),
        ),
        ("faculty.update", lambda u, b: u.faculty.update(replace(b.alice, name="X"))),
        ("subjects.add", lambda u, b: u.subjects.add(Subject(SubjectCode("X1"), b.id, "X", "X"))),
        ("subjects.update", lambda u, b: u.subjects.update(replace(b.cs101, name="X"))),
        (
            "assignments.add",
            lambda u, b: u.assignments.add(
                TeachingAssignment(
                    AssignmentId("AX"), b.id, b.alice.id, b.ma101.code, b.section_b.id
                )
            ),
        ),
        (
            "assignments.update",
            lambda u, b: u.assignments.update(replace(b.bob_cs_b, section_id=b.section_a.id)),
        ),
        (
            "slots.add",
            lambda u, b: u.slots.add(
                WeeklySlot(SlotId("SX"), b.id, b.alice_cs_a.id, 6, time(8), time(9))
            ),
        ),
        ("slots.update", lambda u, b: u.slots.update(replace(b.slots[0], venue="X"))),
        (
            "terms.add",
            lambda u, b: u.terms.add(
                Term(TermId("TX"), b.id, "X", date(2030, 1, 1), date(2030, 2, 1))
            ),
        ),
        ("terms.update", lambda u, b: u.terms.update(replace(b.term, name="X"))),
        ("holidays.add", lambda u, b: u.holidays.add(Holiday(b.id, date(2026, 12, 31), "X"))),
        ("sessions.add", lambda u, b: u.sessions.add(session(b, "S-X1"))),
        ("sessions.add_many", lambda u, b: u.sessions.add_many([session(b, "S-X2")])),
        (
            "sessions.update",
            lambda u, b: u.sessions.update(replace(session(b, "S-SHARED"), topic="X")),
        ),
        (
            "marks.insert_if_absent",
            lambda u, b: u.marks.insert_if_absent(_mark(b, "S-SHARED", b.students[3])),
        ),
        (
            "marks.add_missing",
            lambda u, b: u.marks.add_missing([_mark(b, "S-SHARED", b.students[3])]),
        ),
        (
            "marks.put_many",
            lambda u, b: u.marks.put_many(
                [_mark(b, "S-SHARED", b.students[0], AttendanceStatus.EXCUSED)]
            ),
        ),
        (
            "audit.add_many",
            lambda u, b: u.audit.add_many([_audit(b, "S-SHARED", b.students[0], actor="X")]),
        ),
        (
            "devices.add",
            lambda u, b: u.devices.add(
                DeviceBinding(b.id, b.students[3].id, DeviceId("device-x-0001"), T0)
            ),
        ),
        ("security_events.add", lambda u, b: u.security_events.add(_event(b, T0, actor="X"))),
        (
            "covers.add",
            lambda u, b: u.covers.add(
                _cover(b, "C-X", "S-B-OPEN", b.alice.id, T0 + timedelta(days=9))
            ),
        ),
        ("outbox.add", lambda u, b: u.outbox.add(_notification(b, "N-X", "key-x"))),
        (
            "sign_ins.add",
            lambda u, b: u.sign_ins.add(_sign_in(b, "SI-X", b.students[0].email)),
        ),
        (
            "sign_ins.update",
            lambda u, b: u.sign_ins.update(_sign_in(b, "SI-SHARED", b.students[0].email)),
        ),
        ("passwords.put", lambda u, b: u.passwords.put(_password(b, _GUEST, "hash-X"))),
        ("passwords.put new", lambda u, b: u.passwords.put(_password(b, "x@b.edu"))),
        (
            "push_tokens.put",
            lambda u, b: u.push_tokens.put(_push(b, "tok-SHARED", student=b.students[3])),
        ),
    ]


_FOREIGN_WRITES = _foreign_writes()

#: Reads of tenant-owned data; in the platform scope each must fail or find nothing.
_TENANT_READS: list[tuple[str, Callable[[UnitOfWork], object]]] = [
    ("sections.find", lambda u: u.sections.find(SectionId("E2-CSE-A"))),
    ("sections.list", lambda u: u.sections.list()),
    ("students.find", lambda u: u.students.find(StudentId("N210001"))),
    ("students.find_by_email", lambda u: u.students.find_by_email("n210001@a.edu")),
    ("students.list", lambda u: u.students.list()),
    ("faculty.list", lambda u: u.faculty.list()),
    ("subjects.list", lambda u: u.subjects.list()),
    ("assignments.list", lambda u: u.assignments.list()),
    ("slots.list", lambda u: u.slots.list()),
    ("terms.list", lambda u: u.terms.list()),
    ("holidays.list", lambda u: u.holidays.list()),
    ("sessions.find", lambda u: u.sessions.find(SessionId("S-SHARED"))),
    ("sessions.list_open", lambda u: u.sessions.list_open()),
    ("sessions.list_between", lambda u: u.sessions.list_between(EVERYTHING)),
    ("sessions.subject_counts", lambda u: u.sessions.subject_counts(EVERYTHING, MONDAY)),
    ("marks.list_for_session", lambda u: u.marks.list_for_session(SessionId("S-SHARED"))),
    ("marks.tallies", lambda u: u.marks.tallies(EVERYTHING)),
    ("audit.list_for_session", lambda u: u.audit.list_for_session(SessionId("S-SHARED"))),
    ("audit.page_for_session", lambda u: u.audit.page_for_session(SessionId("S-SHARED"), 10)),
    ("audit.page_for_student", lambda u: u.audit.page_for_student(StudentId("N210001"), 10)),
    (
        "audit.page_for_student of a teacher",
        lambda u: u.audit.page_for_student(StudentId("N210001"), 10, teacher=FacultyId("F001")),
    ),
    ("devices.for_device", lambda u: u.devices.for_device(DeviceId("device-A-0001"))),
    (
        "attempts.failures",
        lambda u: u.attempts.failures(SessionId("S-SHARED"), StudentId("N210001")),
    ),
    ("security_events.list", lambda u: u.security_events.list()),
    ("security_events.page", lambda u: u.security_events.page(SecurityEventFilter(), 10)),
    ("marks.tally", lambda u: u.marks.tally(SessionId("S-SHARED"))),
    ("covers.find", lambda u: u.covers.find(CoverId("C-SHARED"))),
    ("covers.for_session", lambda u: u.covers.for_session(SessionId("S-SHARED"))),
    (
        "covers.list_for_substitute",
        lambda u: u.covers.list_for_substitute(FacultyId("F002"), _FAR_PAST, _FAR_FUTURE),
    ),
    ("sign_ins.find", lambda u: u.sign_ins.find(SignInId("SI-SHARED"))),
    ("sign_ins.revoked_since", lambda u: u.sign_ins.revoked_since(_FAR_PAST)),
    ("passwords.find", lambda u: u.passwords.find(_GUEST)),
    ("push_tokens.for_students", lambda u: u.push_tokens.for_students([StudentId("N210001")])),
    ("push_tokens.for_faculty", lambda u: u.push_tokens.for_faculty([FacultyId("FA")])),
]


class UnitOfWorkContract:
    """What every :class:`~ams_core.ports.UnitOfWork` adapter must do.

    Subclass it in a test module whose name pytest collects, with a ``Test`` prefix, and
    override the ``uow_factory`` fixture. The factory is called with no arguments and must
    return a *fresh* unit of work each time; all units of work from one factory share one
    backing store, which must be empty at the start of each test::

        class TestSqliteUnitOfWork(UnitOfWorkContract):
            @pytest.fixture
            def uow_factory(self, tmp_path: Path) -> UnitOfWorkFactory:
                engine = make_engine(f"sqlite:///{tmp_path}/ams.db")
                return lambda: SqlUnitOfWork(engine)

    The class name has no ``Test`` prefix, so pytest collects only subclasses. The tests use
    only the port: seeding through :func:`~ams_core.testing.builders.seed_small_college`,
    then reading back in other units of work. Two tests start threads, each with its own
    unit of work, to check that ``insert_if_absent`` and ``record_failure`` are atomic.
    """

    # -- fixtures -------------------------------------------------------------------------
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        """Override: return a callable making fresh units of work over one empty store."""
        raise NotImplementedError("subclasses of UnitOfWorkContract must define uow_factory")

    @pytest.fixture
    def college(self, uow_factory: UnitOfWorkFactory) -> SmallCollege:
        """Institution ``inst-a`` (domain ``a.edu``), seeded and committed."""
        return seed_small_college(uow_factory())

    @pytest.fixture
    def tenants(self, uow_factory: UnitOfWorkFactory) -> dict[str, SmallCollege]:
        """Institutions ``A`` and ``B``: the same seed ids, plus rows of their own."""
        a = seed_small_college(uow_factory())
        b = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        _populate(uow_factory, a)
        _populate(uow_factory, b)
        return {"A": a, "B": b}

    # -- round trips ----------------------------------------------------------------------
    def test_the_seeded_college_reads_back_unchanged(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            assert uow.institutions.get(college.id) == college.institution
            assert list(uow.sections.list()) == [college.section_a, college.section_b]
            assert set(uow.students.list()) == {*college.students, college.outsider}
            assert list(uow.students.list(college.section_a.id)) == list(college.students)
            assert list(uow.students.list(college.section_b.id)) == [college.outsider]
            assert uow.students.get(college.outsider.id) == college.outsider
            assert list(uow.faculty.list()) == [college.alice, college.bob]
            assert list(uow.subjects.list()) == [college.cs101, college.ma101]
            assert list(uow.assignments.list()) == [
                college.alice_cs_a,
                college.bob_ma_a,
                college.bob_cs_b,
            ]
            assert list(uow.slots.list()) == sorted(college.slots, key=lambda s: s.id)
            assert list(uow.terms.list()) == [college.term]
            for slot in college.slots:
                assert uow.slots.get(slot.id) == slot

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_add_then_get_keeps_every_field(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            assert case.repo(uow).get(case.key(entity)) == entity
            uow.commit()
        with case.open(uow_factory, college) as uow:
            stored = case.repo(uow).get(case.key(entity))
            assert stored == entity
            assert case.repo(uow).find(case.key(entity)) == entity
            assert entity in list(case.listing(case.repo(uow)))
            for name in ("email_domains", "qualified_subjects"):
                if hasattr(entity, name):
                    assert isinstance(getattr(stored, name), frozenset)
            if isinstance(stored, Institution):
                assert isinstance(stored.settings.campus_networks, tuple)
                assert stored.settings.attendance_threshold == Decimal("72.5")
            if isinstance(stored, ClassSession):
                assert stored.window is not None
                assert stored.window.secret == bytes(range(0, 256, 8))
                assert isinstance(stored.window.secret, bytes)
                assert stored.completed_at is not None
                assert stored.completed_at.utcoffset() is not None

    def test_a_session_without_optional_values_keeps_its_nones(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        bare = _session(college, "S-BARE", college.bob_cs_b, _day(2), time(11))
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add(bare)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            stored = uow.sessions.get(bare.id)
        assert stored == bare
        assert (stored.slot_id, stored.topic, stored.window, stored.completed_at) == (None,) * 4
        assert stored.tally == StatusTally()

    def test_marks_audit_bindings_events_and_notifications_keep_every_field(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        session = _full_session(college)
        st0, st1 = college.students[0], college.students[1]
        checked_in = _mark(
            college, session.id, st0, AttendanceStatus.LATE, device="device-0001-abcd", at=T0
        )
        manual = dataclasses.replace(
            _mark(college, session.id, st1, AttendanceStatus.EXCUSED, source=MarkSource.MANUAL),
            marked_at=datetime(2026, 11, 16, 9, 40, 1, 5, tzinfo=IST),
        )
        entries = [
            _audit(college, session.id, st0, actor="n210001@a.edu", new=AttendanceStatus.LATE),
            _audit(
                college,
                session.id,
                st1,
                actor="alice@a.edu",
                at=datetime(2026, 11, 16, 9, 41, tzinfo=IST),
                old=AttendanceStatus.ABSENT,
                new=AttendanceStatus.EXCUSED,
                reason="medical leave — certificate seen",
            ),
        ]
        binding = DeviceBinding(college.id, st0.id, DeviceId("device-0001-abcd"), T0)
        event = SecurityEvent(
            institution_id=college.id,
            kind=SecurityEventKind.DEVICE_SHARED,
            at=datetime(2026, 11, 16, 9, 5, tzinfo=IST),
            actor=st1.email,
            student_id=st1.id,
            session_id=session.id,
            device_id=DeviceId("device-0001-abcd"),
            client_ip="2001:db8::7",
            detail={"bound_to": st0.id, "note": "ünïcode"},
        )
        bare_event = _event(college, T0, kind=SecurityEventKind.SECRET_ROTATED)
        notification = dataclasses.replace(
            _notification(
                college,
                "N-FULL",
                "key-full",
                datetime(2026, 11, 16, 9, 0, tzinfo=IST),
                recipients=(
                    Recipient(RecipientKind.STUDENT, st0.id),
                    Recipient(RecipientKind.FACULTY, college.alice.id),
                    Recipient(RecipientKind.SECTION, college.section_a.id),
                ),
            ),
            data={"session_id": session.id, "url": "/sessions/S-FULL"},
        )
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add(session)
            assert uow.marks.insert_if_absent(checked_in) == (checked_in, True)
            uow.marks.put_many([manual])
            uow.audit.add_many(entries)
            uow.devices.add(binding)
            uow.security_events.add(event)
            uow.security_events.add(bare_event)
            uow.outbox.add(notification)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.marks.find(session.id, st0.id) == checked_in
            assert uow.marks.find(session.id, st1.id) == manual
            assert list(uow.marks.list_for_session(session.id)) == [checked_in, manual]
            assert list(uow.audit.list_for_session(session.id)) == entries
            assert uow.devices.for_student(st0.id) == binding
            assert uow.devices.for_device(binding.device_id) == binding
            assert list(uow.security_events.list()) == [event, bare_event]  # 03:35 UTC, 03:30 UTC
            assert list(uow.outbox.pending()) == [notification]
        with uow_factory().for_platform() as uow:
            stored = list(uow.outbox.pending())
        assert stored == [notification]
        assert isinstance(stored[0].recipients, tuple)
        assert dict(stored[0].data) == dict(notification.data)

    def test_holidays_keep_their_fields_and_come_ordered_by_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        holidays = [
            Holiday(college.id, date(2026, 11, 20), "Founders' Day"),
            Holiday(college.id, date(2026, 11, 14), ""),
            Holiday(college.id, date(2026, 11, 16), "Diwali — observed"),
            Holiday(college.id, date(2026, 11, 22), "Sunday"),
        ]
        with uow_factory().for_institution(college.id) as uow:
            for holiday in holidays:
                uow.holidays.add(holiday)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.holidays.list()) == sorted(holidays, key=lambda h: h.date)
            assert list(uow.holidays.list(WEEK)) == [holidays[2], holidays[0], holidays[3]]
            assert list(uow.holidays.list(DateRange(_day(1), _day(3)))) == []
            assert uow.holidays.remove(date(2026, 11, 20)) is True
            assert uow.holidays.remove(date(2026, 11, 20)) is False
            assert uow.holidays.remove(date(2026, 11, 21)) is False
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert [h.date for h in uow.holidays.list(WEEK)] == [MONDAY, date(2026, 11, 22)]

    # -- errors of keyed repositories -----------------------------------------------------
    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_adding_an_existing_key_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow, pytest.raises(ConflictError):
            case.repo(uow).add(entity)
        with case.open(uow_factory, college) as uow, pytest.raises(ConflictError):
            case.repo(uow).add(case.change(entity))
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == entity

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_adding_a_key_twice_in_one_transaction_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            with pytest.raises(ConflictError):
                case.repo(uow).add(entity)

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_get_of_a_missing_key_is_not_found(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(case.missing) is None
            with pytest.raises(NotFoundError):
                case.repo(uow).get(case.missing)

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_update_stores_the_entity_with_its_version_plus_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        changed = case.change(entity)
        with case.open(uow_factory, college) as uow:
            first = case.repo(uow).update(changed)
            assert first == dataclasses.replace(changed, version=entity.version + 1)
            assert case.repo(uow).get(case.key(entity)) == first
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == first
            second = case.repo(uow).update(dataclasses.replace(first, version=first.version))
            assert second.version == entity.version + 2
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)).version == entity.version + 2

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_update_of_a_stale_version_is_a_concurrency_error(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            read_by_first = case.repo(uow).get(case.key(entity))
        with case.open(uow_factory, college) as uow:
            winner = case.repo(uow).update(case.change(read_by_first))
            uow.commit()
        with case.open(uow_factory, college) as uow, pytest.raises(ConcurrencyError):
            case.repo(uow).update(read_by_first)
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == winner
            assert winner.version == entity.version + 1
            with pytest.raises(ConcurrencyError):
                case.repo(uow).update(dataclasses.replace(winner, version=winner.version + 5))

    @pytest.mark.parametrize("case", _KEYED_CASES, ids=lambda c: c.name)
    def test_an_uncommitted_add_or_update_is_rolled_back(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(case.key(entity)) is None
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            case.repo(uow).update(case.change(entity))
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(case.key(entity)) == entity

    # -- removal ----------------------------------------------------------------------------
    @pytest.mark.parametrize("case", _REMOVABLE_CASES, ids=lambda c: c.name)
    def test_remove_deletes_the_row_and_is_false_when_there_is_none(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        key = case.key(entity)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).remove(case.missing) is False
            assert case.repo(uow).remove(key) is True
            assert case.repo(uow).find(key) is None
            assert entity not in list(case.listing(case.repo(uow)))
            with pytest.raises(NotFoundError):
                case.repo(uow).get(key)
            assert case.repo(uow).remove(key) is False
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(key) is None
            assert entity not in list(case.listing(case.repo(uow)))
            assert case.repo(uow).remove(key) is False
            case.repo(uow).add(entity)  # the key is free again
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(key) == entity

    @pytest.mark.parametrize("case", _REMOVABLE_CASES, ids=lambda c: c.name)
    def test_an_uncommitted_or_rolled_back_remove_keeps_the_row(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _KeyedCase
    ) -> None:
        entity = case.new(college)
        key = case.key(entity)
        with case.open(uow_factory, college) as uow:
            case.repo(uow).add(entity)
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).remove(key) is True
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).get(key) == entity
            assert case.repo(uow).remove(key) is True
            uow.rollback()
            assert case.repo(uow).get(key) == entity
            assert entity in list(case.listing(case.repo(uow)))
            # a row added and removed in one transaction leaves nothing behind
            assert case.repo(uow).remove(key) is True
            case.repo(uow).add(entity)
            assert case.repo(uow).remove(key) is True
            uow.commit()
        with case.open(uow_factory, college) as uow:
            assert case.repo(uow).find(key) is None

    def test_removal_frees_emails_and_natural_keys_and_a_rollback_takes_them_back(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        student, teacher = c.students[4], _full_faculty(c)
        assignment = _spare_assignment(c)
        with uow_factory().for_institution(c.id) as uow:
            uow.faculty.add(teacher)
            uow.assignments.add(assignment)
            uow.commit()
        twin_student = dataclasses.replace(student, id=StudentId("N-TWIN"))
        twin_teacher = dataclasses.replace(teacher, id=FacultyId("F-TWIN"))
        twin_assignment = dataclasses.replace(assignment, id=AssignmentId("A-TWIN"))
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.remove(student.id) is True
            assert uow.faculty.remove(teacher.id) is True
            assert uow.assignments.remove(assignment.id) is True
            assert uow.students.find_by_email(student.email) is None
            assert student.id not in uow.students.ids_in_section(c.section_a.id)
            assert student not in list(uow.students.list(c.section_a.id))
            assert uow.faculty.find_by_email(teacher.email) is None
            assert dict(uow.faculty.find_many([teacher.id])) == {}
            assert list(uow.assignments.list(section_id=c.section_b.id)) == [c.bob_cs_b]
            uow.students.add(twin_student)
            uow.faculty.add(twin_teacher)
            uow.assignments.add(twin_assignment)
            assert uow.students.find_by_email(student.email) == twin_student
            assert uow.faculty.find_by_email(teacher.email) == twin_teacher
            uow.rollback()
            assert uow.students.find_by_email(student.email) == student
            assert uow.students.ids_in_section(c.section_a.id) == {s.id for s in c.students}
            assert list(uow.students.list(c.section_a.id)) == list(c.students)
            assert uow.faculty.find_by_email(teacher.email) == teacher
            assert uow.assignments.find(twin_assignment.id) is None
            uow.commit()
        twins: list[Callable[[UnitOfWork], None]] = [
            lambda u: u.students.add(twin_student),
            lambda u: u.faculty.add(twin_teacher),
            lambda u: u.assignments.add(twin_assignment),
        ]
        for twin in twins:
            with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
                twin(uow)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.get(student.id) == student
            assert uow.faculty.get(teacher.id) == teacher
            assert uow.assignments.get(assignment.id) == assignment
            assert uow.students.find(twin_student.id) is None

    @pytest.mark.parametrize("case", _IN_USE_CASES, ids=lambda c: c.name)
    def test_removing_a_row_others_refer_to_is_refused_and_the_transaction_goes_on(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, case: _InUseCase
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow:
            case.refer(uow, c)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            before = case.lookups(uow, c)
            with pytest.raises(ConflictError) as refused:
                case.remove(uow, c)
            assert refused.value.code == "in_use"
            assert case.lookups(uow, c) == before
            uow.holidays.add(Holiday(c.id, date(2026, 12, 24), "after the refusal"))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert case.lookups(uow, c) == before
            assert [h.name for h in uow.holidays.list()] == ["after the refusal"]

    def test_removing_a_missing_row_is_false_whatever_names_its_key(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        ghost_student, ghost_subject = StudentId("N-GHOST"), SubjectCode("GHOST101")
        with uow_factory().for_institution(c.id) as uow:
            # neither a check-in failure nor a session's subject needs the row to exist
            uow.sessions.add(_spare_session(c, subject_code=ghost_subject))
            uow.attempts.record_failure(SessionId("S-SPARE"), ghost_student)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.remove(ghost_student) is False
            assert uow.subjects.remove(ghost_subject) is False
            assert uow.attempts.failures(SessionId("S-SPARE"), ghost_student) == 1

    def test_a_timetable_comes_apart_from_the_bottom_up(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        section, teacher, subject = _spare_section(c), _spare_teacher(c), _spare_subject(c)
        student = _spare_student(c, section.id)
        assignment = _spare_assignment(
            c, teacher=teacher.id, subject=subject.code, section=section.id
        )
        slot = WeeklySlot(SlotId("A-SPARE-1"), c.id, assignment.id, 6, time(8), time(9))

        def build(uow: UnitOfWork) -> None:
            uow.sections.add(section)
            uow.students.add(student)
            uow.faculty.add(teacher)
            uow.subjects.add(subject)
            uow.assignments.add(assignment)
            uow.slots.add(slot)

        with uow_factory().for_institution(c.id) as uow:
            build(uow)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            parents: list[Callable[[], bool]] = [
                lambda: uow.sections.remove(section.id),
                lambda: uow.faculty.remove(teacher.id),
                lambda: uow.subjects.remove(subject.code),
                lambda: uow.assignments.remove(assignment.id),
            ]
            for remove in parents:
                with pytest.raises(ConflictError):
                    remove()
            assert uow.slots.remove(slot.id) is True
            assert uow.assignments.remove(assignment.id) is True
            assert uow.faculty.remove(teacher.id) is True
            assert uow.subjects.remove(subject.code) is True
            with pytest.raises(ConflictError):
                uow.sections.remove(section.id)  # the student is still in it
            assert uow.students.remove(student.id) is True
            assert uow.sections.remove(section.id) is True
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sections.find(section.id) is None
            assert uow.students.find(student.id) is None
            assert uow.faculty.find(teacher.id) is None
            assert uow.subjects.find(subject.code) is None
            assert uow.assignments.find(assignment.id) is None
            assert uow.slots.find(slot.id) is None
            build(uow)  # every key and email is free again
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find_by_email(student.email) == student
            assert uow.slots.get(slot.id) == slot

    def test_removing_a_slot_leaves_the_sessions_generated_from_it(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        generated = _session(c, "S-GEN", c.alice_cs_a, MONDAY, slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(generated)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.slots.remove(SlotId("A1-1")) is True
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.slots.find(SlotId("A1-1")) is None
            assert uow.sessions.get(generated.id) == generated
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert list(uow.sessions.list_for_assignment(c.alice_cs_a.id)) == [generated]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_removes_another_tenants_rows(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        # students the other tenant refers to, under ids this tenant does not refer to
        marked, failed = theirs.students[3], theirs.students[4]
        with uow_factory().for_institution(theirs.id) as uow:
            uow.marks.put_many([_mark(theirs, "S-SHARED", marked)])
            uow.attempts.record_failure(SessionId("S-SHARED"), failed.id)
            uow.commit()
        with uow_factory().for_institution(theirs.id) as uow:
            their_view = _tenant_view(uow, theirs)
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sections.remove(SectionId(f"{other}-ONLY")) is False
            assert uow.students.remove(StudentId(f"N{other}0001")) is False
            assert uow.faculty.remove(FacultyId(f"F{other}")) is False
            assert uow.subjects.remove(SubjectCode(f"SUB{other}")) is False
            assert uow.assignments.remove(AssignmentId(f"AS{other}")) is False
            assert uow.slots.remove(SlotId(f"AS{other}-1")) is False
            assert uow.terms.remove(TermId(f"T{other}")) is False
            # the same ids here: this tenant's rows go, whatever refers to the other's
            assert uow.students.remove(marked.id) is True
            assert uow.students.remove(failed.id) is True
            assert uow.slots.remove(SlotId("A3-5")) is True
            assert uow.terms.remove(mine.term.id) is True
            with pytest.raises(ConflictError):
                uow.students.remove(mine.students[0].id)
            uow.commit()
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.students.find(marked.id) is None
            assert uow.students.find(failed.id) is None
            assert uow.terms.find(mine.term.id) is None
        with uow_factory().for_institution(theirs.id) as uow:
            assert _tenant_view(uow, theirs) == their_view
            assert uow.students.get(marked.id) == marked
            assert uow.terms.get(theirs.term.id) == theirs.term

    # -- ordering of lists ----------------------------------------------------------------
    def test_lists_are_ordered_as_documented(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        iid = college.id
        section_0 = Section(SectionId("A0-FIRST"), iid, 1, "CSE", "0")
        faculty_0 = Faculty(FacultyId("F000"), iid, "Zed", "zed@a.edu", "CSE")
        subject_0 = Subject(SubjectCode("AA100"), iid, "AA", "Aardvarks")
        assignment_0 = TeachingAssignment(
            AssignmentId("A0"), iid, college.alice.id, college.ma101.code, college.section_b.id
        )
        slot_0 = WeeklySlot(SlotId("A0-1"), iid, assignment_0.id, 1, time(15), time(16))
        late_term = Term(TermId("T0"), iid, "Spring 2027", date(2027, 1, 4), date(2027, 5, 1))
        early_term = Term(TermId("T9"), iid, "Summer 2026", date(2026, 5, 4), date(2026, 7, 1))
        tie = Student(StudentId("N21A003"), iid, "Tie", "n21a003@a.edu", college.section_a.id, 3)
        first = Student(StudentId("Z9"), iid, "First", "z9@a.edu", college.section_a.id, 0)
        with uow_factory().for_institution(iid) as uow:
            uow.sections.add(section_0)
            uow.faculty.add(faculty_0)
            uow.subjects.add(subject_0)
            uow.assignments.add(assignment_0)
            uow.slots.add(slot_0)
            uow.terms.add(late_term)
            uow.terms.add(early_term)
            uow.students.add_many([tie, first])
            uow.commit()
        with uow_factory().for_institution(iid) as uow:
            assert [s.id for s in uow.sections.list()] == ["A0-FIRST", "E2-CSE-A", "E2-CSE-B"]
            assert [f.id for f in uow.faculty.list()] == ["F000", "F001", "F002"]
            assert [s.code for s in uow.subjects.list()] == ["AA100", "CS101", "MA101"]
            assert [a.id for a in uow.assignments.list()] == ["A0", "A1", "A2", "A3"]
            assert [s.id for s in uow.slots.list()] == sorted(
                [slot_0.id, *(s.id for s in college.slots)]
            )
            assert [t.id for t in uow.terms.list()] == ["T9", "T1", "T0"]
            assert [s.id for s in uow.students.list(college.section_a.id)] == [
                "Z9",
                "N210001",
                "N210002",
                "N210003",
                "N21A003",
                "N210004",
                "N210005",
            ]
            ranked = [s for s in uow.students.list() if s.roll_number is not None]
            assert [s.id for s in ranked][:5] == ["Z9", "N210001", "N210002", "N210003", "N21A003"]
            assert [a.id for a in uow.assignments.list(faculty_id=college.bob.id)] == ["A2", "A3"]
            assert [a.id for a in uow.assignments.list(section_id=college.section_b.id)] == [
                "A0",
                "A3",
            ]
            assert [
                a.id
                for a in uow.assignments.list(
                    faculty_id=college.alice.id, section_id=college.section_a.id
                )
            ] == ["A1"]
            assert list(uow.assignments.list(faculty_id=FacultyId("F404"))) == []

    def test_institutions_are_listed_by_id_in_the_platform_scope(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        zeta = _full_institution(college)
        early = Institution(InstitutionId("inst-0"), "Zero", "UTC", frozenset({"zero.edu"}))
        with uow_factory().for_platform() as uow:
            uow.institutions.add(zeta)
            uow.institutions.add(early)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.institutions.list()) == [early, college.institution, zeta]

    # -- students and faculty ---------------------------------------------------------------
    def test_student_lookups_follow_updates(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        mover = college.students[4]
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(mover.email) == mover
            assert uow.students.find_by_email("nobody@a.edu") is None
            assert uow.students.ids_in_section(college.section_a.id) == frozenset(
                s.id for s in college.students
            )
            assert uow.students.ids_in_section(SectionId("NO-SECTION")) == frozenset()
            moved = uow.students.update(
                dataclasses.replace(mover, email="moved@a.edu", section_id=college.section_b.id)
            )
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email("moved@a.edu") == moved
            assert uow.students.find_by_email(mover.email) is None
            assert mover.id not in uow.students.ids_in_section(college.section_a.id)
            assert uow.students.ids_in_section(college.section_b.id) == {
                college.outsider.id,
                mover.id,
            }
            assert set(uow.students.list(college.section_b.id)) == {moved, college.outsider}
            # the freed address can be taken again
            uow.students.add(
                Student(StudentId("N219000"), college.id, "New", mover.email, college.section_a.id)
            )
            uow.commit()

    def test_student_emails_are_unique_within_an_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        taken = college.students[0].email
        clash = Student(StudentId("N219001"), college.id, "Clash", taken, college.section_a.id)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.add(clash)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.update(dataclasses.replace(college.students[1], email=taken))
        twins = [
            Student(StudentId("N219002"), college.id, "Twin 1", "twin@a.edu", college.section_a.id),
            Student(StudentId("N219003"), college.id, "Twin 2", "twin@a.edu", college.section_a.id),
        ]
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.students.add_many(twins)
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(taken) == college.students[0]
            assert uow.students.find_by_email("twin@a.edu") is None
            assert uow.students.get(college.students[1].id) == college.students[1]

    def test_faculty_emails_are_unique_within_an_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        taken = college.alice.email
        clash = Faculty(FacultyId("F777"), college.id, "Clash", taken, "CSE")
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.faculty.add(clash)
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.faculty.update(dataclasses.replace(college.bob, email=taken))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.faculty.find_by_email(taken) == college.alice
            assert uow.faculty.find_by_email(college.bob.email) == college.bob
            assert uow.faculty.find(clash.id) is None
            renamed = uow.faculty.update(dataclasses.replace(college.bob, email="robert@a.edu"))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.faculty.find_by_email("robert@a.edu") == renamed
            assert uow.faculty.find_by_email(college.bob.email) is None

    def test_the_same_email_may_be_used_in_another_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        other = seed_small_college(uow_factory(), institution_id="inst-b", domain="b.edu")
        student = Student(
            StudentId("N219500"), other.id, "Dual", college.students[0].email, other.section_a.id
        )
        teacher = Faculty(FacultyId("F500"), other.id, "Dual", college.alice.email, "CSE")
        with uow_factory().for_institution(other.id) as uow:
            uow.students.add(student)
            uow.faculty.add(teacher)
            uow.commit()
        with uow_factory().for_institution(other.id) as uow:
            assert uow.students.find_by_email(student.email) == student
            assert uow.faculty.find_by_email(teacher.email) == teacher
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.find_by_email(student.email) == college.students[0]
            assert uow.faculty.find_by_email(teacher.email) == college.alice

    def test_find_many_leaves_unknown_keys_out(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            assert dict(uow.faculty.find_many([college.bob.id, FacultyId("F404")])) == {
                college.bob.id: college.bob
            }
            assert dict(uow.faculty.find_many([])) == {}
            assert dict(
                uow.subjects.find_many({college.cs101.code, college.ma101.code, SubjectCode("X")})
            ) == {college.cs101.code: college.cs101, college.ma101.code: college.ma101}
            assert dict(uow.subjects.find_many([SubjectCode("X")])) == {}

    def test_add_many_students_is_all_or_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        def new(n: int, email: str | None = None) -> Student:
            return Student(
                StudentId(f"N23{n:04d}"),
                college.id,
                f"New {n}",
                email or f"n23{n:04d}@a.edu",
                college.section_b.id,
            )

        seeded = {*college.students, college.outsider}
        batches = (
            [new(1), new(2), dataclasses.replace(college.students[0], name="Taken id")],
            [new(3), new(4, email=college.students[0].email)],
            [new(7), new(8), new(7)],
        )
        for n, batch in enumerate(batches):
            kept = SectionId(f"KEPT-{n}")
            with uow_factory().for_institution(college.id) as uow:
                uow.sections.add(Section(kept, college.id, 1, "CSE", "K"))
                with pytest.raises(ConflictError):
                    uow.students.add_many(batch)
                # the failed batch left nothing behind, and the transaction goes on
                assert set(uow.students.list()) == seeded
                assert uow.students.ids_in_section(college.section_b.id) == {college.outsider.id}
                for student in batch[:2]:
                    assert uow.students.find_by_email(student.email) in (None, college.students[0])
                uow.commit()
            with uow_factory().for_institution(college.id) as uow:
                assert uow.sections.find(kept) is not None
                assert set(uow.students.list()) == seeded
                assert uow.students.find_by_email(college.students[0].email) == college.students[0]
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.add_many([new(5), new(6)]) == 2
            assert uow.students.add_many([]) == 0
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.ids_in_section(college.section_b.id) == {
                college.outsider.id,
                StudentId("N230005"),
                StudentId("N230006"),
            }

    # -- other unique rules ---------------------------------------------------------------
    def test_an_assignment_is_unique_per_teacher_subject_and_section(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        twin = TeachingAssignment(
            AssignmentId("A-TWIN"), c.id, c.alice.id, c.cs101.code, c.section_a.id
        )
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.assignments.add(twin)
        onto_a1 = dataclasses.replace(c.bob_cs_b, faculty_id=c.alice.id, section_id=c.section_a.id)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.assignments.update(onto_a1)
        freed = TeachingAssignment(
            AssignmentId("A-FREED"), c.id, c.bob.id, c.cs101.code, c.section_b.id
        )
        with uow_factory().for_institution(c.id) as uow:
            moved = uow.assignments.update(
                dataclasses.replace(c.bob_cs_b, section_id=c.section_a.id)
            )
            uow.assignments.add(freed)  # the key (bob, CS101, B) was released by the move
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.assignments.list()) == [freed, c.alice_cs_a, c.bob_ma_a, moved]
            assert uow.assignments.find(twin.id) is None

    def test_one_generated_session_per_slot_and_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        first = _session(c, "S-1", c.alice_cs_a, MONDAY, slot="A1-1")
        next_week = _session(c, "S-3", c.alice_cs_a, _day(7), slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(first)
            uow.sessions.add(next_week)
            uow.commit()
        clash = _session(c, "S-2", c.alice_cs_a, MONDAY, time(11), slot="A1-1")
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add(clash)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add_many([clash])
        twins = [
            _session(c, "S-4", c.alice_cs_a, _day(14), slot="A1-1"),
            _session(c, "S-5", c.alice_cs_a, _day(14), time(12), slot="A1-1"),
        ]
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.add_many(twins)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.sessions.update(dataclasses.replace(next_week, date=MONDAY))
        ad_hoc = [
            _session(c, "S-6", c.alice_cs_a, MONDAY, time(13)),
            _session(c, "S-7", c.alice_cs_a, MONDAY, time(15)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sessions.add_many(ad_hoc) == 2  # sessions without a slot never clash
            moved = uow.sessions.update(dataclasses.replace(first, date=_day(21)))
            uow.sessions.add(clash)  # the move released (A1-1, MONDAY)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sessions.generated_keys(EVERYTHING) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A1-1"), _day(7)),
                (SlotId("A1-1"), _day(21)),
            }
            assert uow.sessions.get(moved.id) == moved
            assert uow.sessions.find(SessionId("S-4")) is None

    def test_add_many_sessions_is_all_or_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        existing = _session(c, "S-1", c.alice_cs_a, MONDAY, slot="A1-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add(existing)
            uow.commit()
        batch = [
            _session(c, "S-10", c.alice_cs_a, _day(1), slot="A1-2"),
            _session(c, "S-11", c.bob_ma_a, _day(1), time(14), status=SessionStatus.OPEN),
            _session(c, "S-12", c.alice_cs_a, MONDAY, time(16), slot="A1-1"),
        ]
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConflictError):
                uow.sessions.add_many(batch)
            assert uow.sessions.find(batch[0].id) is None
            assert uow.sessions.find(batch[1].id) is None
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [existing]
            assert list(uow.sessions.list_open()) == []
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [existing]
            assert uow.sessions.generated_keys(WEEK) == {(SlotId("A1-1"), MONDAY)}
            assert uow.sessions.add_many(batch[:2]) == 2
            assert uow.sessions.add_many([]) == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_section(c.section_a.id, WEEK)) == [
                existing,
                *batch[:2],
            ]

    def test_one_holiday_per_date_in_each_institution(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        taken = Holiday(a.id, _day(4), "Another name")
        with uow_factory().for_institution(a.id) as uow, pytest.raises(ConflictError):
            uow.holidays.add(taken)
        with uow_factory().for_institution(a.id) as uow:
            uow.holidays.add(Holiday(a.id, _day(3), "B's holiday date"))  # B has one that day
            uow.commit()
        with uow_factory().for_institution(a.id) as uow:
            assert [h.date for h in uow.holidays.list(WEEK)] == [_day(3), _day(4)]
        with uow_factory().for_institution(b.id) as uow:
            assert list(uow.holidays.list()) == [Holiday(b.id, _day(3), "Holiday B")]

    def test_a_device_binds_one_student_and_a_student_one_device(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        iid, st0, st1 = college.id, college.students[0].id, college.students[1].id
        phone, tablet = DeviceId("device-aaaa-0001"), DeviceId("device-bbbb-0002")
        binding = DeviceBinding(iid, st0, phone, T0)
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_student(st0) is None
            assert uow.devices.for_device(phone) is None
            uow.devices.add(binding)
            uow.commit()
        with uow_factory().for_institution(iid) as uow, pytest.raises(ConflictError):
            uow.devices.add(DeviceBinding(iid, st0, tablet, T0))  # the student has a device
        with uow_factory().for_institution(iid) as uow, pytest.raises(ConflictError):
            uow.devices.add(DeviceBinding(iid, st1, phone, T0))  # the device has a student
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_student(st0) == binding
            assert uow.devices.for_device(phone) == binding
            assert uow.devices.for_student(st1) is None
            assert uow.devices.for_device(tablet) is None
            assert uow.devices.remove(st1) is False
            assert uow.devices.remove(st0) is True
            assert uow.devices.remove(st0) is False
            assert uow.devices.for_device(phone) is None
            rebound = DeviceBinding(iid, st1, phone, T0 + timedelta(days=1))
            uow.devices.add(rebound)
            uow.devices.add(DeviceBinding(iid, st0, tablet, T0 + timedelta(days=1)))
            uow.commit()
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_device(phone) == rebound
            assert uow.devices.for_student(st1) == rebound
            assert uow.devices.for_student(st0) == DeviceBinding(
                iid, st0, tablet, T0 + timedelta(days=1)
            )
            uow.devices.remove(st1)
        with uow_factory().for_institution(iid) as uow:
            assert uow.devices.for_device(phone) == rebound  # the removal was not committed

    def test_an_email_domain_belongs_to_one_institution(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        grabber = Institution(
            InstitutionId("inst-c"), "Grabber", "UTC", frozenset({"c.edu", "a.edu"})
        )
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.institutions.add(grabber)
        other = Institution(InstitutionId("inst-b"), "Other", "UTC", frozenset({"b.edu"}))
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find(grabber.id) is None
            uow.institutions.add(other)
            uow.commit()
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.institutions.update(
                dataclasses.replace(other, email_domains=frozenset({"b.edu", "a.edu"}))
            )
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find_by_domain("a.edu") == college.institution
            assert uow.institutions.find_by_domain("b.edu") == other
            assert uow.institutions.find_by_domain("c.edu") is None
            moved = uow.institutions.update(
                dataclasses.replace(college.institution, email_domains=frozenset({"a2.edu"}))
            )
            assert uow.institutions.find_by_domain("a.edu") is None
            taker = uow.institutions.update(
                dataclasses.replace(other, email_domains=frozenset({"b.edu", "a.edu"}))
            )
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.institutions.find_by_domain("a.edu") == taker
            assert uow.institutions.find_by_domain("a2.edu") == moved
            assert uow.institutions.find_by_domain("b.edu") == taker

    # -- transactions -----------------------------------------------------------------------
    def test_commit_makes_every_write_visible_to_other_units_of_work(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        with uow_factory().for_institution(b.id) as uow:
            b_before = _tenant_view(uow, b)
        with uow_factory().for_institution(a.id) as uow:
            before = _tenant_view(uow, a)
            _write_everything(uow, a)
            inside = _tenant_view(uow, a)  # a transaction sees its own writes
            uow.commit()
        assert [name for name in before if before[name] == inside[name]] == []
        with uow_factory().for_institution(a.id) as uow:
            after = _tenant_view(uow, a)
        assert after == inside
        with uow_factory().for_institution(b.id) as uow:
            assert _tenant_view(uow, b) == b_before

    def test_leaving_the_block_without_commit_rolls_back_every_write(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        before = self._views(uow_factory, tenants)
        with uow_factory().for_institution(a.id) as uow:
            _write_everything(uow, a)
        assert self._views(uow_factory, tenants) == before

    def test_an_exception_in_the_block_rolls_back_every_write(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        before = self._views(uow_factory, tenants)

        class BoomError(Exception):
            pass

        with pytest.raises(BoomError), uow_factory().for_institution(a.id) as uow:
            _write_everything(uow, a)
            raise BoomError
        assert self._views(uow_factory, tenants) == before

    def test_rollback_discards_the_writes_so_far_and_the_transaction_goes_on(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        with uow_factory().for_institution(a.id) as uow:
            before = _tenant_view(uow, a)
            _write_everything(uow, a)
            uow.rollback()
            assert _tenant_view(uow, a) == before
            uow.sections.add(Section(SectionId("AFTER"), a.id, 1, "CSE", "Z"))
            uow.commit()
        with uow_factory().for_institution(a.id) as uow:
            after = _tenant_view(uow, a)
            assert uow.sections.find(SectionId("AFTER")) is not None
        changed = sorted(name for name in before if before[name] != after[name])
        assert changed == ["ids in section", "sections", "students by section"]

    def test_only_what_was_committed_survives_the_block(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a = tenants["A"]
        for fail in (False, True):
            with uow_factory().for_institution(a.id) as uow:
                uow.holidays.add(Holiday(a.id, date(2027, 1, 26 if fail else 1), "kept"))
                uow.commit()
                committed = _tenant_view(uow, a)
                uow.sections.add(Section(SectionId("LATE"), a.id, 1, "CSE", "L"))
                uow.marks.put_many([_mark(a, "S-SHARED", a.students[0], AttendanceStatus.EXCUSED)])
                uow.attempts.record_failure(SessionId("S-SHARED"), a.students[0].id)
                if fail:
                    with pytest.raises(ZeroDivisionError):
                        _ = 1 / 0
            with uow_factory().for_institution(a.id) as uow:
                assert _tenant_view(uow, a) == committed
                assert uow.sections.find(SectionId("LATE")) is None

    def test_a_unit_of_work_can_run_one_transaction_after_another(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        uow = uow_factory()
        with uow.for_institution(a.id):
            uow.sections.add(Section(SectionId("FIRST"), a.id, 1, "CSE", "F"))
            uow.commit()
        with uow.for_institution(b.id):
            assert uow.sections.find(SectionId("FIRST")) is None
            uow.sections.add(Section(SectionId("SECOND"), b.id, 1, "CSE", "S"))
        with uow.for_platform():
            assert [i.id for i in uow.institutions.list()] == [a.id, b.id]
        with uow.for_institution(b.id):
            assert uow.sections.find(SectionId("SECOND")) is None
        with uow.for_institution(a.id):
            assert uow.sections.find(SectionId("FIRST")) is not None

    # -- tenant isolation -------------------------------------------------------------------
    def _views(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> dict[str, dict[str, object]]:
        views: dict[str, dict[str, object]] = {}
        for tag, college in tenants.items():
            with uow_factory().for_institution(college.id) as uow:
                views[tag] = _tenant_view(uow, college)
        with uow_factory().for_platform() as uow:
            views["platform"] = _platform_view(uow)
        return views

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_scope_sees_only_its_own_institution(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.institutions.find(theirs.id) is None
            assert list(uow.institutions.list()) == [mine.institution]
            assert uow.institutions.find_by_domain(_domain(theirs)) is None
            assert uow.institutions.find_by_domain(_domain(mine)) == mine.institution
            assert uow.institutions.get(mine.id) == mine.institution
            with pytest.raises(NotFoundError):
                uow.institutions.get(theirs.id)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_people(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        their_section = SectionId(f"{other}-ONLY")
        their_student = StudentId(f"N{other}0001")
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sections.find(their_section) is None
            assert [s.id for s in uow.sections.list()] == [f"{me}-ONLY", "E2-CSE-A", "E2-CSE-B"]
            assert {s.institution_id for s in uow.sections.list()} == {mine.id}
            assert uow.sections.get(mine.section_a.id) == mine.section_a
            assert uow.students.find(their_student) is None
            assert uow.students.find_by_email(f"n{other.lower()}0001@{_domain(theirs)}") is None
            assert uow.students.find_by_email(theirs.students[0].email) is None
            assert uow.students.get(mine.students[0].id) == mine.students[0]
            assert {s.institution_id for s in uow.students.list()} == {mine.id}
            assert {s.id for s in uow.students.list()} == {
                *(s.id for s in mine.students),
                mine.outsider.id,
                StudentId(f"N{me}0001"),
            }
            assert list(uow.students.list(their_section)) == []
            assert uow.students.ids_in_section(their_section) == frozenset()
            assert uow.faculty.find(FacultyId(f"F{other}")) is None
            assert uow.faculty.find_by_email(theirs.alice.email) is None
            assert dict(uow.faculty.find_many([FacultyId(f"F{other}"), mine.alice.id])) == {
                mine.alice.id: mine.alice
            }
            assert [f.id for f in uow.faculty.list()] == ["F001", "F002", f"F{me}"]
            assert {f.institution_id for f in uow.faculty.list()} == {mine.id}
            with pytest.raises(NotFoundError):
                uow.students.get(their_student)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_teaching(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.subjects.find(SubjectCode(f"SUB{other}")) is None
            assert dict(uow.subjects.find_many([SubjectCode(f"SUB{other}")])) == {}
            assert [s.code for s in uow.subjects.list()] == ["CS101", "MA101", f"SUB{me}"]
            assert uow.assignments.find(AssignmentId(f"AS{other}")) is None
            assert [a.id for a in uow.assignments.list()] == ["A1", "A2", "A3", f"AS{me}"]
            assert list(uow.assignments.list(faculty_id=FacultyId(f"F{other}"))) == []
            assert list(uow.assignments.list(section_id=SectionId(f"{other}-ONLY"))) == []
            assert uow.slots.find(SlotId(f"AS{other}-1")) is None
            assert len(uow.slots.list()) == len(mine.slots) + 1
            assert {s.institution_id for s in uow.slots.list()} == {mine.id}
            assert uow.terms.find(TermId(f"T{other}")) is None
            assert [t.id for t in uow.terms.list()] == ["T1", f"T{me}"]
            assert list(uow.holidays.list()) == [
                Holiday(mine.id, _day(4 if me == "A" else 3), f"Holiday {me}")
            ]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_sessions(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        a1, a2 = mine.alice_cs_a.id, mine.bob_ma_a.id
        own_assignment, their_assignment = AssignmentId(f"AS{me}"), AssignmentId(f"AS{other}")
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sessions.find(SessionId(f"S-{other}-ONLY")) is None
            assert uow.sessions.find(SessionId(f"S-{other}-OPEN")) is None
            with pytest.raises(NotFoundError):
                uow.sessions.get(SessionId(f"S-{other}-ONLY"))
            shared = uow.sessions.get(SessionId("S-SHARED"))
            assert (shared.institution_id, shared.topic) == (mine.id, f"Topic {me}")
            upcoming = uow.sessions.get(SessionId(f"S-{me}-NEXT"))
            ids = {"S-SHARED", f"S-{me}-OPEN", f"S-{me}-NEXT"}
            assert {s.id for s in uow.sessions.list_for_section(mine.section_a.id, WEEK)} == ids
            assert list(uow.sessions.list_for_section(SectionId(f"{other}-ONLY"), WEEK)) == []
            with pytest.raises(NotFoundError):
                uow.sessions.list_for_student(StudentId(f"N{other}0001"), WEEK)
            own = uow.sessions.list_for_student(mine.students[0].id, WEEK)
            assert {s.id for s in own.sessions} == ids
            assert {m.institution_id for m in own.marks.values()} == {mine.id}
            assert list(uow.sessions.list_for_teacher(FacultyId(f"F{other}"), WEEK)) == []
            assert [s.id for s in uow.sessions.list_for_teacher(mine.alice.id, WEEK)] == [
                "S-SHARED",
                f"S-{me}-NEXT",
            ]
            assert list(uow.sessions.list_for_assignment(their_assignment)) == []
            assert {s.institution_id for s in uow.sessions.list_for_assignment(a1)} == {mine.id}
            assert uow.sessions.generated_keys(WEEK) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A2-1"), MONDAY),
                (SlotId("A1-4"), _day(3)),
            }
            assert [s.id for s in uow.sessions.list_open()] == [f"S-{me}-OPEN"]
            between = list(uow.sessions.list_between(WEEK))
            assert [s.id for s in between] == [
                "S-SHARED",
                f"S-{me}-OPEN",
                f"S-{me}-ONLY",
                f"S-{me}-NEXT",
            ]
            assert between[0] == shared
            assert {s.institution_id for s in between} == {mine.id}
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, MONDAY)) == {
                (mine.section_a.id, mine.cs101.code): SessionCounts(held=1, remaining=1),
                (mine.section_a.id, mine.ma101.code): SessionCounts(held=0, remaining=1),
                (SectionId(f"{me}-ONLY"), SubjectCode(f"SUB{me}")): SessionCounts(1, 0),
            }
            summaries = uow.sessions.assignment_summaries(
                [a1, a2, own_assignment, their_assignment], MONDAY, time(0)
            )
            assert summaries[a1] == AssignmentSummary(1, shared.tally, shared, upcoming)
            assert summaries[own_assignment].held == 1
            assert summaries[own_assignment].tally == StatusTally(present=1)
            assert _empty_summary(summaries.get(their_assignment))

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_marks_or_audit(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        s0, s1 = mine.students[0].id, mine.students[1].id
        status = AttendanceStatus.PRESENT if me == "A" else AttendanceStatus.ABSENT
        shared, their_only = SessionId("S-SHARED"), SessionId(f"S-{other}-ONLY")
        their_student, own_student = StudentId(f"N{other}0001"), StudentId(f"N{me}0001")
        with uow_factory().for_institution(mine.id) as uow:
            mark = uow.marks.find(shared, s0)
            assert mark is not None
            assert (mark.institution_id, mark.status) == (mine.id, status)
            assert uow.marks.find(their_only, their_student) is None
            marks = list(uow.marks.list_for_session(shared))
            assert [(m.institution_id, m.student_id, m.status) for m in marks] == [
                (mine.id, s0, status),
                (mine.id, s1, status),
            ]
            assert list(uow.marks.list_for_sessions([shared, their_only])) == marks
            assert uow.marks.tally(shared) == StatusTally.of([status, status])
            assert uow.marks.tally(their_only) == StatusTally()
            assert dict(uow.marks.for_student(their_student, [their_only, shared])) == {}
            assert dict(uow.marks.for_student(s0, [shared])) == {shared: mark}
            foreign = uow.marks.check_in_context(their_only, their_student)
            assert foreign == CheckInContext(None, None, None, None, 0)
            assert uow.marks.check_in_context(shared, s0).mark == mark
            cs, own_subject = mine.cs101.code, SubjectCode(f"SUB{me}")
            assert _nonzero_tallies(uow.marks.tallies(WEEK)) == {
                (s0, cs): StatusTally.of([status]),
                (s1, cs): StatusTally.of([status]),
                (own_student, own_subject): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=their_student)) == {}
            other_section = SectionId(f"{other}-ONLY")
            assert _nonzero_tallies(uow.marks.tallies(WEEK, section_id=other_section)) == {}
            audit = list(uow.audit.list_for_session(shared))
            assert [(e.institution_id, e.actor) for e in audit] == [(mine.id, f"teacher-{me}")]
            assert list(uow.audit.list_for_session(their_only)) == []
            assert uow.audit.page_for_session(shared, 10) == Slice(tuple(audit), 1)
            assert uow.audit.page_for_session(their_only, 10) == Slice((), 0)
            assert uow.audit.page_for_student(s0, 10) == Slice(tuple(audit), 1)
            alice = mine.alice.id
            assert uow.audit.page_for_student(s0, 10, teacher=alice) == Slice(tuple(audit), 1)
            assert uow.audit.page_for_student(their_student, 10) == Slice((), 0)

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_devices_counters_events_or_outbox(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        s0, shared = mine.students[0].id, SessionId("S-SHARED")
        own_count, their_count = (1, 3) if me == "A" else (3, 1)
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.devices.for_device(DeviceId(f"device-{other}-0001")) is None
            assert uow.devices.for_device(DeviceId(f"device-{other}-only")) is None
            assert uow.devices.for_student(StudentId(f"N{other}0001")) is None
            assert uow.devices.for_student(s0) == DeviceBinding(
                mine.id, s0, DeviceId(f"device-{me}-0001"), T0
            )
            assert uow.attempts.failures(shared, s0) == own_count
            assert uow.attempts.record_failure(shared, s0) == FailureCounts(
                student=own_count + 1, session=own_count + 1
            )
            uow.commit()
            assert [e.actor for e in uow.security_events.list()] == [f"actor-{me}"]
            page = uow.security_events.page(SecurityEventFilter(), 10)
            assert ([e.actor for e in page.items], page.total) == ([f"actor-{me}"], 1)
            assert [n.id for n in uow.outbox.pending()] == [f"N-{me}"]
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(NotificationId(f"N-{other}"), T0, DeliveryReport(1))
        with uow_factory().for_institution(theirs.id) as uow:
            assert uow.attempts.failures(shared, s0) == their_count
            assert [n.id for n in uow.outbox.pending()] == [f"N-{other}"]

    def test_the_platform_scope_sees_every_institution_and_the_whole_outbox(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege]
    ) -> None:
        a, b = tenants["A"], tenants["B"]
        with uow_factory().for_platform() as uow:
            assert list(uow.institutions.list()) == [a.institution, b.institution]
            assert uow.institutions.get(b.id) == b.institution
            assert uow.institutions.find_by_domain("b.edu") == b.institution
            assert uow.institutions.find_by_domain("a.edu") == a.institution
            assert {n.id for n in uow.outbox.pending()} == {"N-A", "N-B"}
            uow.outbox.mark_delivered(NotificationId("N-B"), T0, DeliveryReport(delivered=1))
            uow.commit()
        with uow_factory().for_institution(b.id) as uow:
            assert list(uow.outbox.pending()) == []
        with uow_factory().for_institution(a.id) as uow:
            assert [n.id for n in uow.outbox.pending()] == ["N-A"]

    @pytest.mark.parametrize("read", [pytest.param(r, id=n) for n, r in _TENANT_READS])
    def test_tenant_repositories_find_nothing_in_the_platform_scope(
        self,
        uow_factory: UnitOfWorkFactory,
        tenants: dict[str, SmallCollege],
        read: Callable[[UnitOfWork], object],
    ) -> None:
        with uow_factory().for_platform() as uow:
            assert _refused_or_empty(read, uow)

    @pytest.mark.parametrize("write", [pytest.param(w, id=n) for n, w in _FOREIGN_WRITES])
    def test_writing_another_institutions_row_is_refused(
        self,
        uow_factory: UnitOfWorkFactory,
        tenants: dict[str, SmallCollege],
        write: _ForeignWrite,
    ) -> None:
        before = self._views(uow_factory, tenants)
        with uow_factory().for_institution(tenants["A"].id) as uow, pytest.raises(AmsError):
            write(uow, tenants["B"])
        assert self._views(uow_factory, tenants) == before

    # -- sessions -----------------------------------------------------------------------------
    def test_a_students_classes_come_with_their_own_marks_only(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0], c.students[1]
        sessions = [
            _session(c, "S2", c.bob_ma_a, MONDAY, time(10)),
            _session(c, "S1", c.alice_cs_a, MONDAY),
            _session(c, "S3", c.alice_cs_a, _day(1)),
            _session(c, "S9", c.alice_cs_a, _day(8)),
            _session(c, "SB", c.bob_cs_b, MONDAY),
        ]
        own = _mark(c, "S2", st0, AttendanceStatus.LATE)
        with uow_factory().for_institution(c.id) as uow:
            for session in sessions:
                uow.sessions.add(session)
            uow.marks.insert_if_absent(own)
            uow.marks.insert_if_absent(_mark(c, "S1", st1))
            uow.marks.insert_if_absent(_mark(c, "S9", st0))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            mine = uow.sessions.list_for_student(st0.id, WEEK)
            assert mine.student == uow.students.get(st0.id)
            assert [s.id for s in mine.sessions] == ["S1", "S2", "S3"]
            assert mine.sessions == list(uow.sessions.list_for_section(st0.section_id, WEEK))
            assert dict(mine.marks) == {SessionId("S2"): own}
            nothing = uow.sessions.list_for_student(st0.id, DateRange(_day(2), _day(3)))
            assert (nothing.student.id, list(nothing.sessions), dict(nothing.marks)) == (
                st0.id,
                [],
                {},
            )
            outsider = uow.sessions.list_for_student(c.outsider.id, WEEK)
            assert ([s.id for s in outsider.sessions], dict(outsider.marks)) == (["SB"], {})
            with pytest.raises(NotFoundError):
                uow.sessions.list_for_student(StudentId("N-NONE"), WEEK)

    def test_session_lists_are_ordered_by_date_start_and_id_and_filtered_by_date(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        sessions = [
            _session(c, "S3", c.bob_ma_a, MONDAY, time(10), slot="A2-1"),
            _session(c, "S8", c.alice_cs_a, _day(6)),
            _session(c, "S2", c.bob_ma_a, MONDAY),
            _session(c, "S9", c.alice_cs_a, _day(-1), time(11)),
            _session(c, "S1", c.alice_cs_a, MONDAY, slot="A1-1"),
            _session(c, "S0", c.alice_cs_a, _day(1), time(8), slot="A1-2", teacher=c.bob.id),
            _session(c, "S7", c.alice_cs_a, _day(7), slot="A1-1"),
            _session(c, "SB", c.bob_cs_b, MONDAY, slot="A3-1"),
            _session(c, "S4", c.alice_cs_a, MONDAY, time(13)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            for session in sessions:
                uow.sessions.add(session)
            uow.commit()
        by_id = {s.id: s for s in sessions}

        def pick(*ids: str) -> list[ClassSession]:
            return [by_id[SessionId(i)] for i in ids]

        with uow_factory().for_institution(c.id) as uow:
            s = uow.sessions
            assert list(s.list_for_section(c.section_a.id, WEEK)) == pick(
                "S1", "S2", "S3", "S4", "S0", "S8"
            )
            monday = DateRange(MONDAY, MONDAY)
            assert list(s.list_for_section(c.section_a.id, monday)) == pick("S1", "S2", "S3", "S4")
            assert list(s.list_for_section(c.section_b.id, WEEK)) == pick("SB")
            assert list(s.list_for_section(SectionId("NO-SECTION"), WEEK)) == []
            assert list(s.list_for_teacher(c.alice.id, WEEK)) == pick("S1", "S4", "S8")
            assert list(s.list_for_teacher(c.bob.id, WEEK)) == pick("S2", "SB", "S3", "S0")
            assert list(s.list_for_assignment(c.alice_cs_a.id)) == pick(
                "S9", "S1", "S4", "S0", "S8", "S7"
            )
            assert list(s.list_for_assignment(c.alice_cs_a.id, WEEK)) == pick(
                "S1", "S4", "S0", "S8"
            )
            assert list(s.list_for_assignment(c.bob_cs_b.id, DateRange(_day(1), _day(2)))) == []
            assert s.generated_keys(WEEK) == {
                (SlotId("A1-1"), MONDAY),
                (SlotId("A2-1"), MONDAY),
                (SlotId("A3-1"), MONDAY),
                (SlotId("A1-2"), _day(1)),
            }
            assert s.generated_keys(DateRange(_day(7), _day(7))) == {(SlotId("A1-1"), _day(7))}
            assert s.generated_keys(DateRange(_day(2), _day(5))) == set()
            moved = s.update(
                dataclasses.replace(by_id[SessionId("S0")], teacher_id=c.alice.id, date=_day(2))
            )
            assert list(s.list_for_teacher(c.alice.id, WEEK)) == [
                *pick("S1", "S4"),
                moved,
                *pick("S8"),
            ]
            assert list(s.list_for_teacher(c.bob.id, WEEK)) == pick("S2", "SB", "S3")
            assert (SlotId("A1-2"), _day(2)) in s.generated_keys(WEEK)
            assert (SlotId("A1-2"), _day(1)) not in s.generated_keys(WEEK)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_for_teacher(c.alice.id, DateRange(_day(2), _day(2)))) == [
                moved
            ]

    def test_list_between_holds_every_session_in_the_dates_by_date_start_and_id(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        sessions = [
            _session(c, "S3", c.bob_ma_a, MONDAY, time(10), slot="A2-1"),
            _session(c, "S8", c.alice_cs_a, _day(6), status=SessionStatus.CANCELLED),
            _session(c, "S2", c.bob_ma_a, MONDAY),
            _session(c, "S9", c.alice_cs_a, _day(-1), time(11)),
            _session(c, "S1", c.alice_cs_a, MONDAY, slot="A1-1"),
            _session(c, "S0", c.alice_cs_a, _day(1), time(8), teacher=c.bob.id),
            _session(c, "S7", c.alice_cs_a, _day(7), status=SessionStatus.COMPLETED),
            _session(c, "SB", c.bob_cs_b, MONDAY, slot="A3-1", status=SessionStatus.OPEN),
            _session(c, "S4", c.alice_cs_a, MONDAY, time(13)),
        ]
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_between(EVERYTHING)) == []
            uow.sessions.add_many(sessions)
            uow.commit()
        by_id = {s.id: s for s in sessions}

        def pick(*ids: str) -> list[ClassSession]:
            return [by_id[SessionId(i)] for i in ids]

        with uow_factory().for_institution(c.id) as uow:
            s = uow.sessions
            assert list(s.list_between(WEEK)) == pick("S1", "S2", "SB", "S3", "S4", "S0", "S8")
            assert list(s.list_between(EVERYTHING)) == pick(
                "S9", "S1", "S2", "SB", "S3", "S4", "S0", "S8", "S7"
            )
            # both ends are inside the range
            assert list(s.list_between(DateRange(_day(-1), MONDAY))) == pick(
                "S9", "S1", "S2", "SB", "S3", "S4"
            )
            assert list(s.list_between(DateRange(_day(6), _day(7)))) == pick("S8", "S7")
            assert list(s.list_between(DateRange(_day(1), _day(1)))) == pick("S0")
            assert list(s.list_between(DateRange(_day(2), _day(5)))) == []
            moved = s.update(dataclasses.replace(by_id[SessionId("S9")], date=_day(3)))
            assert list(s.list_between(DateRange(_day(-1), _day(3)))) == [
                *pick("S1", "S2", "SB", "S3", "S4", "S0"),
                moved,
            ]

    def test_list_open_follows_status_changes(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        first = _session(c, "S-1", c.alice_cs_a, MONDAY)
        second = _session(c, "S-2", c.bob_ma_a, MONDAY, time(10))
        third = _session(c, "S-3", c.bob_cs_b, MONDAY, status=SessionStatus.OPEN)
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many([first, second, third])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [third]
            first = uow.sessions.update(dataclasses.replace(first, status=SessionStatus.OPEN))
            uow.sessions.update(dataclasses.replace(third, status=SessionStatus.COMPLETED))
            assert list(uow.sessions.list_open()) == [first]
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [first]
            uow.sessions.update(dataclasses.replace(second, status=SessionStatus.OPEN))
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == [first]
            uow.sessions.update(dataclasses.replace(first, status=SessionStatus.CANCELLED))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.sessions.list_open()) == []

    def test_subject_counts_hold_completed_and_remaining_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        completed, scheduled = SessionStatus.COMPLETED, SessionStatus.SCHEDULED
        today = _day(2)
        sessions = [
            _session(c, "C1", c.alice_cs_a, MONDAY, status=completed),
            _session(c, "C2", c.alice_cs_a, _day(1), status=completed),
            _session(c, "C-OUT", c.alice_cs_a, _day(-7), status=completed),
            _session(c, "PAST", c.alice_cs_a, _day(1), time(14), status=scheduled),
            _session(c, "PAST-OPEN", c.alice_cs_a, _day(1), time(16), status=SessionStatus.OPEN),
            _session(c, "TODAY", c.alice_cs_a, today, status=scheduled),
            _session(c, "LATER", c.alice_cs_a, _day(4), status=SessionStatus.OPEN),
            _session(c, "GONE", c.alice_cs_a, _day(3), status=SessionStatus.CANCELLED),
            _session(c, "FAR", c.alice_cs_a, _day(8), status=scheduled),
            _session(c, "M1", c.bob_ma_a, MONDAY, time(10), status=completed),
            _session(c, "M-GONE", c.bob_ma_a, _day(3), time(10), status=SessionStatus.CANCELLED),
            _session(c, "B1", c.bob_cs_b, _day(3), status=scheduled),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many(sessions)
            uow.commit()
        a, b = c.section_a.id, c.section_b.id
        cs, ma = c.cs101.code, c.ma101.code
        with uow_factory().for_institution(c.id) as uow:
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, today)) == {
                (a, cs): SessionCounts(held=2, remaining=2),
                (a, ma): SessionCounts(held=1, remaining=0),
                (b, cs): SessionCounts(held=0, remaining=1),
            }
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, today, section_id=a)) == {
                (a, cs): SessionCounts(held=2, remaining=2),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert _nonzero_counts(
                uow.sessions.subject_counts(DateRange(_day(-7), _day(8)), MONDAY, section_id=a)
            ) == {
                (a, cs): SessionCounts(held=3, remaining=5),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert _nonzero_counts(uow.sessions.subject_counts(WEEK, _day(30))) == {
                (a, cs): SessionCounts(held=2, remaining=0),
                (a, ma): SessionCounts(held=1, remaining=0),
            }
            assert (
                _nonzero_counts(
                    uow.sessions.subject_counts(WEEK, today, section_id=SectionId("NO-SECTION"))
                )
                == {}
            )

    def test_assignment_summaries_sum_completed_sessions_and_find_the_next_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        completed, scheduled = SessionStatus.COMPLETED, SessionStatus.SCHEDULED
        today, now = _day(2), time(10)
        tallies = (StatusTally(3, 1, 1, 0), StatusTally(4, 0, 1, 0), StatusTally(2, 1, 1, 1))
        sessions = [
            _session(c, "C1", c.alice_cs_a, MONDAY, status=completed, tally=tallies[0], topic="1"),
            _session(c, "C3", c.alice_cs_a, _day(1), time(14), status=completed, tally=tallies[2]),
            _session(c, "C2", c.alice_cs_a, _day(1), status=completed, tally=tallies[1]),
            _session(
                c,
                "GONE",
                c.alice_cs_a,
                _day(1),
                time(16),
                status=SessionStatus.CANCELLED,
                tally=StatusTally(9, 9, 9, 9),
            ),
            _session(c, "EARLIER", c.alice_cs_a, today, time(9), status=scheduled),
            _session(c, "S-GONE", c.alice_cs_a, today, now, status=SessionStatus.CANCELLED),
            _session(c, "TOMORROW", c.alice_cs_a, _day(3), time(8), status=scheduled),
            _session(c, "LATER", c.alice_cs_a, today, time(15), status=SessionStatus.OPEN),
            _session(c, "NOW", c.alice_cs_a, today, now, status=scheduled),
            _session(c, "M-PAST", c.bob_ma_a, _day(1), time(10), status=scheduled),
            _session(c, "M-OPEN", c.bob_ma_a, today, time(11), status=SessionStatus.OPEN),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.add_many(sessions)
            uow.commit()
        by_id = {s.id: s for s in sessions}
        with uow_factory().for_institution(c.id) as uow:
            summaries = uow.sessions.assignment_summaries(
                [c.alice_cs_a.id, c.bob_ma_a.id, c.bob_cs_b.id], today, now
            )
            assert summaries[c.alice_cs_a.id] == AssignmentSummary(
                held=3,
                tally=tallies[0] + tallies[1] + tallies[2],
                last_completed=by_id[SessionId("C3")],
                next_session=by_id[SessionId("NOW")],
            )
            assert summaries[c.bob_ma_a.id] == AssignmentSummary(
                0, StatusTally(), None, by_id[SessionId("M-OPEN")]
            )
            assert _empty_summary(summaries.get(c.bob_cs_b.id))
            later = uow.sessions.assignment_summaries([c.alice_cs_a.id], today, time(10, 1))
            assert later[c.alice_cs_a.id].next_session == by_id[SessionId("LATER")]
            assert dict(uow.sessions.assignment_summaries([], today, now)) == {}
            past_all = uow.sessions.assignment_summaries([c.bob_ma_a.id], _day(9), now)
            assert _empty_summary(past_all.get(c.bob_ma_a.id))

    # -- marks ------------------------------------------------------------------------------
    def _add_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege, *sessions: ClassSession
    ) -> None:
        with uow_factory().for_institution(college.id) as uow:
            uow.sessions.add_many(list(sessions))
            uow.commit()

    def test_insert_if_absent_keeps_the_first_mark(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        first = _mark(c, "S-1", st0, AttendanceStatus.LATE, device="device-0001-abcd")
        second = _mark(c, "S-1", st0, AttendanceStatus.ABSENT, source=MarkSource.MANUAL)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(first.session_id, st0.id) is None
            assert uow.marks.insert_if_absent(first) == (first, True)
            assert uow.marks.insert_if_absent(second) == (first, False)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.insert_if_absent(second) == (first, False)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(first.session_id, st0.id) == first

    def test_check_in_context_reads_each_part_or_none(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0, st1 = college, college.students[0], college.students[1]
        s1 = SessionId("S-1")
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        binding = DeviceBinding(c.id, st0.id, DeviceId("device-context-0001"), T0)
        mark = _mark(c, "S-1", st0, AttendanceStatus.LATE, device="device-context-0001")
        with uow_factory().for_institution(c.id) as uow:
            session, student = uow.sessions.get(s1), uow.students.get(st1.id)
            bare = uow.marks.check_in_context(s1, st1.id)
            assert bare == CheckInContext(session, student, None, None, 0)
            uow.devices.add(binding)
            uow.marks.insert_if_absent(mark)
            uow.attempts.record_failure(s1, st0.id)
            uow.attempts.record_failure(s1, st0.id)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            full = uow.marks.check_in_context(s1, st0.id)
            assert full == CheckInContext(session, uow.students.get(st0.id), binding, mark, 2)
            nothing = uow.marks.check_in_context(SessionId("S-NONE"), StudentId("N-NONE"))
            assert nothing == CheckInContext(None, None, None, None, 0)
            half = uow.marks.check_in_context(SessionId("S-NONE"), st0.id)
            assert (half.session, half.student, half.binding) == (None, full.student, binding)
            assert (half.mark, half.failures) == (None, 0)

    def test_add_missing_inserts_only_absent_marks_and_returns_them(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        existing = _mark(c, "S-1", st0)
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.insert_if_absent(existing)
            uow.commit()
        absent = AttendanceStatus.ABSENT
        fill = [_mark(c, "S-1", st, absent, source=MarkSource.COMPLETION) for st in (st0, st1, st2)]
        with uow_factory().for_institution(c.id) as uow:
            inserted = uow.marks.add_missing(fill)
            assert sorted(inserted, key=lambda m: m.student_id) == fill[1:]
            assert list(uow.marks.add_missing(fill)) == []
            assert list(uow.marks.add_missing([])) == []
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(SessionId("S-1"))) == [existing, *fill[1:]]

    def test_put_many_inserts_or_replaces_and_a_replacement_bumps_the_version(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        self._add_sessions(uow_factory, c, _session(c, "S-1", c.alice_cs_a, MONDAY))
        present0, present1 = _mark(c, "S-1", st0), _mark(c, "S-1", st1)
        late0 = _mark(c, "S-1", st0, AttendanceStatus.LATE, source=MarkSource.MANUAL)
        absent2 = _mark(c, "S-1", st2, AttendanceStatus.ABSENT)
        excused0 = _mark(c, "S-1", st0, AttendanceStatus.EXCUSED, source=MarkSource.MANUAL)
        sid = SessionId("S-1")
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many([present0, present1])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.marks.find(sid, st0.id) == present0
            uow.marks.put_many([late0, absent2])
            assert uow.marks.find(sid, st0.id) == dataclasses.replace(late0, version=1)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many([excused0])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(sid)) == [
                dataclasses.replace(excused0, version=2),
                present1,
                absent2,
            ]
            assert uow.marks.tally(sid) == StatusTally(present=1, absent=1, excused=1)
            uow.marks.put_many([])

    def test_marks_are_listed_by_session_then_student(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-2", c.alice_cs_a, MONDAY),
            _session(c, "S-1", c.alice_cs_a, _day(1)),
            _session(c, "S-3", c.bob_ma_a, MONDAY, time(10)),
        )
        marks = [
            _mark(c, "S-2", st[3]),
            _mark(c, "S-1", st[2], AttendanceStatus.ABSENT),
            _mark(c, "S-2", st[0], AttendanceStatus.LATE),
            _mark(c, "S-1", st[4]),
            _mark(c, "S-3", st[1]),
        ]
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many(marks)
            uow.commit()
        s1, s2, s3 = SessionId("S-1"), SessionId("S-2"), SessionId("S-3")
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(s2)) == [marks[2], marks[0]]
            assert list(uow.marks.list_for_session(SessionId("S-404"))) == []
            assert list(uow.marks.list_for_sessions([s2, s1, SessionId("S-404")])) == [
                marks[1],
                marks[3],
                marks[2],
                marks[0],
            ]
            assert list(uow.marks.list_for_sessions([])) == []
            assert uow.marks.tally(s2) == StatusTally(present=1, late=1)
            assert uow.marks.tally(s1) == StatusTally(present=1, absent=1)
            assert uow.marks.tally(SessionId("S-404")) == StatusTally()
            assert dict(uow.marks.for_student(st[0].id, [s1, s2, s3])) == {s2: marks[2]}
            assert dict(uow.marks.for_student(st[4].id, [s1])) == {s1: marks[3]}
            assert dict(uow.marks.for_student(st[4].id, [s2, s3])) == {}
            assert dict(uow.marks.for_student(st[4].id, [])) == {}

    def test_tallies_count_marks_of_completed_sessions_in_the_dates(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1, st2 = c.students[:3]
        out = c.outsider
        done = SessionStatus.COMPLETED
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY, status=done),
            _session(c, "S-2", c.alice_cs_a, _day(1), status=done),
            _session(c, "S-3", c.bob_ma_a, MONDAY, time(10), status=done),
            _session(c, "S-4", c.alice_cs_a, _day(2), status=SessionStatus.OPEN),
            _session(c, "S-5", c.alice_cs_a, _day(-7), status=done),
            _session(c, "S-6", c.bob_cs_b, MONDAY, status=done),
            _session(c, "S-7", c.alice_cs_a, _day(3), status=SessionStatus.CANCELLED),
        )
        pr, la, ab, ex = (
            AttendanceStatus.PRESENT,
            AttendanceStatus.LATE,
            AttendanceStatus.ABSENT,
            AttendanceStatus.EXCUSED,
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.marks.put_many(
                [
                    _mark(c, "S-1", st0, pr),
                    _mark(c, "S-1", st1, la),
                    _mark(c, "S-1", st2, ab),
                    _mark(c, "S-2", st0, ex),
                    _mark(c, "S-2", st1, pr),
                    _mark(c, "S-3", st0, ab),
                    _mark(c, "S-4", st0, pr),
                    _mark(c, "S-5", st0, pr),
                    _mark(c, "S-6", out, pr),
                    _mark(c, "S-7", st0, pr),
                ]
            )
            uow.commit()
        cs, ma = c.cs101.code, c.ma101.code
        with uow_factory().for_institution(c.id) as uow:
            everyone = _nonzero_tallies(uow.marks.tallies(WEEK))
            assert everyone == {
                (st0.id, cs): StatusTally(present=1, excused=1),
                (st1.id, cs): StatusTally(present=1, late=1),
                (st2.id, cs): StatusTally(absent=1),
                (st0.id, ma): StatusTally(absent=1),
                (out.id, cs): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=st0.id)) == {
                (st0.id, cs): StatusTally(present=1, excused=1),
                (st0.id, ma): StatusTally(absent=1),
            }
            by_a = _nonzero_tallies(uow.marks.tallies(WEEK, section_id=c.section_a.id))
            assert by_a == {k: v for k, v in everyone.items() if k[0] != out.id}
            assert _nonzero_tallies(uow.marks.tallies(WEEK, section_id=c.section_b.id)) == {
                (out.id, cs): StatusTally(present=1)
            }
            assert _nonzero_tallies(uow.marks.tallies(DateRange(_day(-7), _day(1)))) == {
                (st0.id, cs): StatusTally(present=2, excused=1),
                (st1.id, cs): StatusTally(present=1, late=1),
                (st2.id, cs): StatusTally(absent=1),
                (st0.id, ma): StatusTally(absent=1),
                (out.id, cs): StatusTally(present=1),
            }
            assert _nonzero_tallies(uow.marks.tallies(DateRange(_day(1), _day(6)))) == {
                (st0.id, cs): StatusTally(excused=1),
                (st1.id, cs): StatusTally(present=1),
            }
            session = uow.sessions.get(SessionId("S-4"))
            uow.sessions.update(dataclasses.replace(session, status=done))
            assert _nonzero_tallies(uow.marks.tallies(WEEK, student_id=st0.id)) == {
                (st0.id, cs): StatusTally(present=2, excused=1),
                (st0.id, ma): StatusTally(absent=1),
            }

    def test_the_audit_trail_keeps_the_order_it_was_written_in(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY),
            _session(c, "S-2", c.bob_ma_a, MONDAY, time(10)),
        )

        def entry(session: str, student: int, minutes: int, actor: str) -> AuditEntry:
            return _audit(c, session, st[student], actor=actor, at=T0 + timedelta(minutes=minutes))

        first = [entry("S-1", 3, 5, "alice"), entry("S-1", 0, 1, "alice")]
        between = [entry("S-2", 2, 9, "bob")]
        second = [entry("S-1", 1, 0, "admin"), entry("S-1", 3, 2, "alice")]
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(first)
            uow.audit.add_many(between)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(second)
            uow.audit.add_many([])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.audit.list_for_session(SessionId("S-1"))) == first + second
            assert list(uow.audit.list_for_session(SessionId("S-2"))) == between
            assert list(uow.audit.list_for_session(SessionId("S-404"))) == []

    def test_audit_pages_of_a_session_come_newest_written_first_with_the_total(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st = c.students
        s1, s2 = SessionId("S-1"), SessionId("S-2")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
        )

        def entry(session: str, student: int, minutes: int, actor: str) -> AuditEntry:
            return _audit(c, session, st[student], actor=actor, at=T0 + timedelta(minutes=minutes))

        # the order written decides, not ``at``: the later batch carries earlier instants,
        # and a batch shares one instant (as one marking request writes it)
        first = [entry(s1, 3, 5, "alice"), entry(s1, 0, 5, "alice")]
        between = [entry(s2, 0, 9, "bob")]
        second = [entry(s1, 1, 0, "admin"), entry(s1, 3, 2, "alice")]
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(first)
            uow.audit.add_many(between)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many(second)
            uow.commit()
        newest = (second[1], second[0], first[1], first[0])
        with uow_factory().for_institution(c.id) as uow:
            pages = uow.audit
            assert pages.page_for_session(s1, 10) == Slice(newest, 4)
            assert pages.page_for_session(s1, 4) == Slice(newest, 4)
            assert pages.page_for_session(s1, 1) == Slice(newest[:1], 4)
            assert pages.page_for_session(s1, 2, 1) == Slice(newest[1:3], 4)
            assert pages.page_for_session(s1, 2, 3) == Slice(newest[3:], 4)
            assert pages.page_for_session(s1, 10, 4) == Slice((), 4)
            assert pages.page_for_session(s1, 10, 1000) == Slice((), 4)
            assert pages.page_for_session(s2, 10) == Slice(tuple(between), 1)
            assert pages.page_for_session(SessionId("S-404"), 10) == Slice((), 0)
            # a page sees the transaction's own, uncommitted entries
            latest = entry(s1, 2, 30, "admin")
            pages.add_many([latest])
            assert pages.page_for_session(s1, 2) == Slice((latest, newest[0]), 5)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.audit.page_for_session(s1, 10) == Slice(newest, 4)

    def test_a_students_audit_pages_span_sessions_and_narrow_to_a_teachers_sessions(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0], c.students[1]
        s1, s2, s3 = SessionId("S-1"), SessionId("S-2"), SessionId("S-3")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
            _session(c, s3, c.alice_cs_a, _day(1)),
        )
        a = _audit(c, s1, st0, actor="alice", at=T0)
        b = _audit(c, s2, st0, actor="bob", at=T0 + timedelta(hours=1))
        other = _audit(c, s1, st1, actor="alice", at=T0)
        d = _audit(c, s3, st0, actor="alice", at=T0 + timedelta(days=1))
        e = _audit(c, s2, st0, actor="admin", at=T0 + timedelta(days=1), reason="typo")
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many([a, b, other])
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.audit.add_many([d, e])
            uow.commit()
        alice, bob = c.alice.id, c.bob.id
        with uow_factory().for_institution(c.id) as uow:
            pages = uow.audit
            assert pages.page_for_student(st0.id, 10) == Slice((e, d, b, a), 4)
            assert pages.page_for_student(st0.id, 2, 1) == Slice((d, b), 4)
            assert pages.page_for_student(st0.id, 10, 4) == Slice((), 4)
            assert pages.page_for_student(st1.id, 10) == Slice((other,), 1)
            assert pages.page_for_student(st0.id, 10, teacher=alice) == Slice((d, a), 2)
            assert pages.page_for_student(st0.id, 1, 1, teacher=alice) == Slice((a,), 2)
            assert pages.page_for_student(st0.id, 10, teacher=bob) == Slice((e, b), 2)
            assert pages.page_for_student(st1.id, 10, teacher=bob) == Slice((), 0)
            assert pages.page_for_student(st0.id, 10, teacher=FacultyId("F404")) == Slice((), 0)
            assert pages.page_for_student(StudentId("N404"), 10) == Slice((), 0)
        # the teacher of record is the session's as stored now: bob takes over S-3
        with uow_factory().for_institution(c.id) as uow:
            uow.sessions.update(dataclasses.replace(uow.sessions.get(s3), teacher_id=bob))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.audit.page_for_student(st0.id, 10, teacher=alice) == Slice((a,), 1)
            assert uow.audit.page_for_student(st0.id, 10, teacher=bob) == Slice((e, d, b), 3)

    # -- counters, events and the outbox ------------------------------------------------------
    def test_wrong_code_counters_count_per_student_and_per_session(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        st0, st1 = c.students[0].id, c.students[1].id
        s1, s2 = SessionId("S-1"), SessionId("S-2")
        self._add_sessions(
            uow_factory,
            c,
            _session(c, s1, c.alice_cs_a, MONDAY),
            _session(c, s2, c.bob_ma_a, MONDAY, time(10)),
        )
        with uow_factory().for_institution(c.id) as uow:
            assert uow.attempts.failures(s1, st0) == 0
            assert uow.attempts.record_failure(s1, st0) == FailureCounts(student=1, session=1)
            assert uow.attempts.record_failure(s1, st1) == FailureCounts(student=1, session=2)
            assert uow.attempts.record_failure(s1, st0) == FailureCounts(student=2, session=3)
            assert uow.attempts.record_failure(s2, st0) == FailureCounts(student=1, session=1)
            assert (uow.attempts.failures(s1, st0), uow.attempts.failures(s1, st1)) == (2, 1)
            assert uow.attempts.failures(s2, st1) == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            uow.attempts.reset_session(s1)
            uow.attempts.reset_session(SessionId("S-404"))
            assert uow.attempts.failures(s1, st0) == 2
            assert uow.attempts.record_failure(s1, st1) == FailureCounts(student=2, session=1)
            assert uow.attempts.record_failure(s2, st1) == FailureCounts(student=1, session=2)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.attempts.record_failure(s1, st0) == FailureCounts(student=3, session=2)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.attempts.failures(s1, st0) == 2  # the last increment was not committed

    def test_security_events_come_newest_first_with_since_and_limit(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        minutes = (2, 0, 3, 1)
        events = [_event(college, T0 + timedelta(minutes=m), actor=f"actor-{m}") for m in minutes]
        with uow_factory().for_institution(college.id) as uow:
            for event in events[:2]:
                uow.security_events.add(event)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            for event in events[2:]:
                uow.security_events.add(event)
            uow.commit()
        newest_first = sorted(events, key=lambda e: e.at, reverse=True)
        with uow_factory().for_institution(college.id) as uow:
            listed = uow.security_events
            assert list(listed.list()) == newest_first
            assert list(listed.list(limit=2)) == newest_first[:2]
            assert list(listed.list(since=T0 + timedelta(seconds=90))) == newest_first[:2]
            assert list(listed.list(since=T0 + timedelta(seconds=30), limit=1)) == newest_first[:1]
            assert list(listed.list(since=T0 - timedelta(days=1), limit=10)) == newest_first
            assert list(listed.list(since=T0 + timedelta(hours=1))) == []
            for n in range(101):
                listed.add(_event(college, T0 - timedelta(days=1, seconds=n), actor="old"))
            assert list(listed.list()) == [
                *newest_first,
                *(
                    _event(college, T0 - timedelta(days=1, seconds=n), actor="old")
                    for n in range(96)
                ),
            ]

    def test_security_event_pages_filter_by_kind_student_session_and_since(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, kinds = college, SecurityEventKind
        st0, st1 = c.students[0].id, c.students[1].id
        s1, s2 = SessionId("S-1"), SessionId("S-2")

        def event(
            minutes: int,
            kind: SecurityEventKind,
            student: StudentId | None = None,
            session: SessionId | None = None,
        ) -> SecurityEvent:
            return SecurityEvent(
                institution_id=c.id,
                kind=kind,
                at=T0 + timedelta(minutes=minutes),
                actor=f"{kind.value}-{minutes}",
                student_id=student,
                session_id=session,
            )

        wrong_0 = event(0, kinds.WRONG_CODE, st0, s1)
        wrong_1 = event(1, kinds.WRONG_CODE, st0, s1)
        locked = event(1, kinds.CHECK_IN_LOCKED, st0, s1)  # same instant, written later
        shared = event(2, kinds.DEVICE_SHARED, st1)
        wrong_3 = event(3, kinds.WRONG_CODE, st1, s2)
        rotated = event(3, kinds.SECRET_ROTATED, st1, s2)
        reset = event(-60, kinds.DEVICE_RESET, st0)
        with uow_factory().for_institution(c.id) as uow:
            for written in (wrong_0, wrong_1, locked, shared):
                uow.security_events.add(written)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            for written in (wrong_3, rotated, reset):
                uow.security_events.add(written)
            uow.commit()
        newest = (rotated, wrong_3, shared, locked, wrong_1, wrong_0, reset)

        def page(limit: int = 100, offset: int = 0, **filters: Any) -> Slice[SecurityEvent]:
            with uow_factory().for_institution(c.id) as uow:
                return uow.security_events.page(SecurityEventFilter(**filters), limit, offset)

        with uow_factory().for_institution(c.id) as uow:
            assert tuple(uow.security_events.list()) == newest
        assert page() == Slice(newest, 7)
        assert page(2) == Slice(newest[:2], 7)
        assert page(3, 5) == Slice(newest[5:], 7)
        assert page(3, 7) == Slice((), 7)
        assert page(kind=kinds.WRONG_CODE) == Slice((wrong_3, wrong_1, wrong_0), 3)
        assert page(1, 1, kind=kinds.WRONG_CODE) == Slice((wrong_1,), 3)
        assert page(kind=kinds.OFF_CAMPUS) == Slice((), 0)
        assert page(student_id=st0) == Slice((locked, wrong_1, wrong_0, reset), 4)
        assert page(student_id=StudentId("N404")) == Slice((), 0)
        assert page(session_id=s2) == Slice((rotated, wrong_3), 2)
        assert page(since=T0 + timedelta(minutes=1)) == Slice(newest[:5], 5)
        assert page(2, 2, since=T0 + timedelta(minutes=1)) == Slice((shared, locked), 5)
        assert page(since=T0 + timedelta(minutes=1), student_id=st0) == Slice((locked, wrong_1), 2)
        assert page(kind=kinds.WRONG_CODE, student_id=st0, session_id=s1) == Slice(
            (wrong_1, wrong_0), 2
        )
        assert page(kind=kinds.WRONG_CODE, student_id=st0, session_id=s2) == Slice((), 0)
        assert page(
            kind=kinds.WRONG_CODE,
            student_id=st1,
            session_id=s2,
            since=T0 + timedelta(minutes=3),
        ) == Slice((wrong_3,), 1)

    def test_the_outbox_stores_an_idempotency_key_once(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _notification(college, "N-1", "key-1", T0)
        repeat = _notification(college, "N-2", "key-1", T0 + timedelta(minutes=1))
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.add(first)
            uow.outbox.add(repeat)
            assert list(uow.outbox.pending()) == [first]
            uow.commit()
        with uow_factory().for_platform() as uow:
            uow.outbox.add(repeat)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [first]
            uow.outbox.mark_delivered(first.id, T0, DeliveryReport(delivered=5))
            uow.commit()
        with uow_factory().for_platform() as uow:
            uow.outbox.add(repeat)
            assert list(uow.outbox.pending()) == []
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(repeat.id, T0, DeliveryReport(delivered=5))

    def test_pending_notifications_are_oldest_first_and_limited(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        minutes = (2, 0, 3, 1)
        queued = [
            _notification(college, f"N-{m}", f"key-{m}", T0 + timedelta(minutes=m)) for m in minutes
        ]
        with uow_factory().for_institution(college.id) as uow:
            for notification in queued:
                uow.outbox.add(notification)
            uow.commit()
        oldest_first = sorted(queued, key=lambda n: n.created_at)
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == oldest_first
            assert list(uow.outbox.pending(limit=2)) == oldest_first[:2]
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.pending(limit=3)) == oldest_first[:3]

    def test_mark_delivered_takes_a_notification_out_of_pending(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        queued = [
            _notification(college, f"N-{m}", f"key-{m}", T0 + timedelta(minutes=m))
            for m in range(3)
        ]
        with uow_factory().for_institution(college.id) as uow:
            for notification in queued:
                uow.outbox.add(notification)
            uow.commit()
        report = DeliveryReport(delivered=2, failed=1)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(queued[1].id, T0 + timedelta(hours=1), report)
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]
            uow.outbox.mark_delivered(queued[0].id, T0 + timedelta(hours=1), report)
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.pending()) == [queued[0], queued[2]]  # not committed
            uow.outbox.mark_delivered(queued[2].id, T0 + timedelta(hours=2), report)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [queued[0]]
            with pytest.raises(NotFoundError):
                uow.outbox.mark_delivered(NotificationId("N-404"), T0, report)

    def test_history_is_newest_first_and_filtered_by_kind_and_recipient(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        section_a = Recipient(RecipientKind.SECTION, college.section_a.id)
        section_b = Recipient(RecipientKind.SECTION, college.section_b.id)
        # the same id under another kind of recipient must not match section_a
        student_named_like_a = Recipient(RecipientKind.STUDENT, college.section_a.id)
        at = [T0 + timedelta(minutes=m) for m in range(5)]
        to_a = _broadcast(college, "N-1", at[0], section_a)
        to_b = _broadcast(college, "N-2", at[1], section_b)
        to_both = _broadcast(college, "N-3", at[2], section_b, section_a)
        to_student = _broadcast(college, "N-4", at[3], student_named_like_a)
        tied = _broadcast(college, "N-5", at[2], section_a)  # same instant, written later
        other_kind = _broadcast(college, "N-6", at[4], section_a, kind="class_cancelled")
        with uow_factory().for_institution(college.id) as uow:
            for notification in (to_a, to_b, to_both, to_student, tied, other_kind):
                uow.outbox.add(notification)
            assert [s.notification for s in uow.outbox.history("broadcast", section_a)] == [
                tied,
                to_both,
                to_a,
            ]
            uow.commit()
        pending = [SentNotification(n) for n in (to_student, tied, to_both, to_b, to_a)]
        with uow_factory().for_institution(college.id) as uow:
            assert list(uow.outbox.history("broadcast")) == pending
            assert list(uow.outbox.history("broadcast", limit=2)) == pending[:2]
            assert list(uow.outbox.history("broadcast", section_a, limit=2)) == pending[1:3]
            assert list(uow.outbox.history("broadcast", section_b)) == [pending[2], pending[3]]
            assert list(uow.outbox.history("broadcast", student_named_like_a)) == [pending[0]]
            assert list(uow.outbox.history("class_cancelled")) == [SentNotification(other_kind)]
            assert list(uow.outbox.history("nothing_like_it")) == []
            nobody = Recipient(RecipientKind.FACULTY, college.alice.id)
            assert list(uow.outbox.history("broadcast", nobody)) == []
        delivered_at = datetime(2026, 11, 16, 10, 0, tzinfo=IST)
        with uow_factory().for_platform() as uow:
            uow.outbox.mark_delivered(to_both.id, delivered_at, DeliveryReport(4, failed=2))
            uow.outbox.mark_delivered(to_a.id, delivered_at, DeliveryReport(0))
            uow.commit()
        for scope in ("institution", "platform"):
            uow = uow_factory()
            opened = uow.for_platform() if scope == "platform" else uow.for_institution(college.id)
            with opened:
                assert list(uow.outbox.history("broadcast", section_a)) == [
                    SentNotification(tied),
                    SentNotification(to_both, delivered_at, delivered=4, failed=2),
                    SentNotification(to_a, delivered_at, delivered=0, failed=0),
                ]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_history_shows_a_tenant_only_its_own_notifications_and_the_platform_all(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        section = Recipient(RecipientKind.SECTION, "E2-CSE-A")
        with uow_factory().for_institution(theirs.id) as uow:
            uow.outbox.add(_broadcast(theirs, f"N-{other}-2", T0 + timedelta(hours=1), section))
            uow.commit()
        with uow_factory().for_institution(mine.id) as uow:
            assert [s.notification.id for s in uow.outbox.history("class_cancelled")] == [f"N-{me}"]
            assert list(uow.outbox.history("class_cancelled", section)) == [
                SentNotification(_notification(mine, f"N-{me}", f"key-{me}"))
            ]
            assert list(uow.outbox.history("broadcast")) == []
        with uow_factory().for_platform() as uow:
            ids = [s.notification.id for s in uow.outbox.history("class_cancelled", section)]
            assert sorted(ids) == ["N-A", "N-B"]
            assert [s.notification.id for s in uow.outbox.history("broadcast")] == [f"N-{other}-2"]

    # -- accounts ----------------------------------------------------------------------------
    def test_sign_ins_keep_every_field_with_the_email_in_one_spelling(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        full = _sign_in(
            college,
            "SI-FULL",
            " Ravi.Kumar@A.EDU ",
            created_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            lifetime=timedelta(days=14, microseconds=1),
            method=SignInMethod.PASSWORD,
            device="phone-N210001",
            revoked_at=T0 + timedelta(hours=2),
            digest="ab" * 32,
        )
        bare = _sign_in(college, "SI-BARE", "alice@a.edu", method=SignInMethod.LOCAL)
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(full)
            uow.sign_ins.add(bare)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(full.id) == dataclasses.replace(full, email="ravi.kumar@a.edu")
            assert uow.sign_ins.find(bare.id) == bare
            assert uow.sign_ins.find(SignInId("SI-MISSING")) is None

    def test_adding_an_existing_sign_in_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _sign_in(college, "SI-1", "alice@a.edu")
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(first)
            with pytest.raises(ConflictError):
                uow.sign_ins.add(first)
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(first.id) is None  # not committed
            uow.sign_ins.add(first)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.sign_ins.add(dataclasses.replace(first, email="bob@a.edu"))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(first.id) == first

    def test_a_sign_in_update_bumps_the_version_and_refuses_a_stale_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        added = _sign_in(college, "SI-1", "alice@a.edu")
        with uow_factory().for_institution(college.id) as uow:
            uow.sign_ins.add(added)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            read_by_both = uow.sign_ins.find(added.id)
        assert read_by_both == added
        rotated_at = datetime(2026, 11, 16, 9, 5, 0, 250000, tzinfo=IST)
        rotated = read_by_both.rotated("1" * 64, T0 + timedelta(days=60), rotated_at)
        assert (rotated.previous_digest, rotated.rotated_at) == (added.refresh_digest, rotated_at)
        with uow_factory().for_institution(college.id) as uow:
            winner = uow.sign_ins.update(rotated)
            assert winner == dataclasses.replace(rotated, version=1)
            assert uow.sign_ins.find(added.id) == winner
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConcurrencyError):
            uow.sign_ins.update(read_by_both.rotated("2" * 64, T0 + timedelta(days=61), T0))
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(added.id) == winner
            ended = uow.sign_ins.update(winner.revoked(T0 + timedelta(hours=1)))
            assert (ended.version, ended.revoked_at) == (2, T0 + timedelta(hours=1))
            with pytest.raises(NotFoundError):
                uow.sign_ins.update(_sign_in(college, "SI-MISSING", "alice@a.edu"))
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.sign_ins.find(added.id) == ended

    def test_revoke_all_ends_only_that_persons_active_sessions_and_counts_them(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, at = college, T0 + timedelta(days=1)
        email = c.students[0].email
        earlier = T0 + timedelta(hours=1)
        sign_ins = {
            "phone": _sign_in(c, "SI-PHONE", email, device="phone-N210001"),
            "laptop": _sign_in(c, "SI-LAPTOP", email.upper(), method=SignInMethod.PASSWORD),
            "expired": _sign_in(c, "SI-EXPIRED", email, lifetime=timedelta(hours=3)),
            "ends now": _sign_in(c, "SI-ENDS-NOW", email, lifetime=timedelta(days=1)),
            "revoked": _sign_in(c, "SI-REVOKED", email, revoked_at=earlier),
            "someone else": _sign_in(c, "SI-OTHER", c.students[1].email),
        }
        with uow_factory().for_institution(c.id) as uow:
            for sign_in in sign_ins.values():
                uow.sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoke_all(email.upper(), at) == 2
            # not committed: leaving the block puts them back
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId("SI-REVOKED")}
            assert uow.sign_ins.revoke_all(f" {email} ", at) == 2
            assert uow.sign_ins.revoke_all(email, at + timedelta(seconds=1)) == 0
            assert uow.sign_ins.revoke_all("nobody@a.edu", at) == 0
            uow.commit()
        folded = {
            name: dataclasses.replace(s, email=s.email.lower()) for name, s in sign_ins.items()
        }
        with uow_factory().for_institution(c.id) as uow:
            found = {name: uow.sign_ins.find(s.id) for name, s in sign_ins.items()}
        ended = {
            name: dataclasses.replace(folded[name], revoked_at=at, version=1)
            for name in ("phone", "laptop")
        }
        assert found == {
            **folded,
            **ended,
        }

    def test_revoked_since_lists_the_sessions_revoked_at_or_after_an_instant(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, email = college, college.alice.email
        with uow_factory().for_institution(c.id) as uow:
            for n, revoked_at in enumerate(
                (T0 - timedelta(hours=1), T0, T0 + timedelta(microseconds=1), None)
            ):
                uow.sign_ins.add(_sign_in(c, f"SI-{n}", email, revoked_at=revoked_at))
            assert uow.sign_ins.revoked_since(T0) == {SignInId("SI-1"), SignInId("SI-2")}
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.sign_ins.revoked_since(T0.astimezone(IST)) == {
                SignInId("SI-1"),
                SignInId("SI-2"),
            }
            assert uow.sign_ins.revoked_since(T0 + timedelta(microseconds=2)) == frozenset()
            assert len(uow.sign_ins.revoked_since(_FAR_PAST)) == 3
            assert uow.sign_ins.revoke_all(email, T0 + timedelta(hours=5)) == 1
            assert uow.sign_ins.revoked_since(T0 + timedelta(hours=5)) == {SignInId("SI-3")}

    def test_a_password_is_inserted_at_version_zero_then_updated_optimistically(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, policy = college, PasswordPolicy(max_failures=2)
        rehashed = _HASH.replace("aGFzaA", "bmV3")
        given = _password(c, " Guest.User@A.EDU ")
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") is None
            stored = uow.passwords.put(given)
            assert stored == dataclasses.replace(given, email="guest.user@a.edu", version=0)
            assert uow.passwords.find("GUEST.user@a.edu") == stored
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            read_by_both = uow.passwords.find("guest.user@a.edu")
            assert read_by_both == stored
        assert read_by_both is not None
        with uow_factory().for_institution(c.id) as uow:
            once = uow.passwords.put(read_by_both.after_failure(T0, policy))
            assert (once.version, once.failed_attempts, once.locked_until) == (1, 1, None)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(read_by_both.after_success("$argon2id$new"))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(_password(c, "guest.user@a.edu", "$argon2id$fresh"))  # version 0
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConcurrencyError):
            uow.passwords.put(dataclasses.replace(_password(c, "never@a.edu"), version=3))
        now = datetime(2026, 11, 16, 9, 5, 0, 250000, tzinfo=IST)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") == once
            assert uow.passwords.find("never@a.edu") is None
            locked = uow.passwords.put(once.after_failure(now, policy))
            assert locked == dataclasses.replace(
                once, failed_attempts=0, locked_until=now + policy.lockout, version=2
            )
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest.user@a.edu") == locked
            assert locked.is_locked(now)
            cleared = uow.passwords.put(locked.after_success(rehashed))
            assert cleared.version == 3
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            found = uow.passwords.find("guest.user@a.edu")
            assert found == cleared
            assert found == dataclasses.replace(stored, password_hash=rehashed, version=3)

    def test_removing_a_password_forgets_it_and_frees_the_email(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        with uow_factory().for_institution(c.id) as uow:
            uow.passwords.put(_password(c, "guest@a.edu"))
            uow.passwords.put(_password(c, "other@a.edu"))
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.remove("GUEST@a.edu")
            assert uow.passwords.find("guest@a.edu") is None
            assert not uow.passwords.remove("guest@a.edu")
            assert not uow.passwords.remove("never@a.edu")
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") is not None  # not committed
            assert uow.passwords.remove("guest@a.edu")
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") is None
            assert uow.passwords.find("other@a.edu") == _password(c, "other@a.edu")
            again = uow.passwords.put(_password(c, "guest@a.edu", "$argon2id$again"))
            assert again.version == 0
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.passwords.find("guest@a.edu") == again

    def test_push_tokens_are_found_by_student_and_by_teacher_and_removed(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        s0, s1, s2 = c.students[:3]
        long_token = "fcm:" + "x" * 4092
        registered = {
            "s0 phone": _push(c, "tok-s0-phone", student=s0),
            "s0 web": _push(c, long_token, student=s0, platform=PushPlatform.WEB),
            "s1": _push(c, "tok-s1", student=s1, platform=PushPlatform.IOS),
            "alice": _push(c, "tok-alice", faculty=c.alice, at=T0.astimezone(IST)),
            "bob": _push(c, "tok-bob", faculty=c.bob),
        }
        shouting = dataclasses.replace(_push(c, "tok-s2", student=s2), owner_email=s2.email.upper())
        with uow_factory().for_institution(c.id) as uow:
            for token in registered.values():
                uow.push_tokens.put(token)
            uow.push_tokens.put(shouting)
            uow.commit()

        def tokens(found: Sequence[PushToken]) -> set[str]:
            return {t.token for t in found}

        with uow_factory().for_institution(c.id) as uow:
            assert sorted(uow.push_tokens.for_students([s0.id]), key=lambda t: t.token) == sorted(
                [registered["s0 phone"], registered["s0 web"]], key=lambda t: t.token
            )
            assert tokens(uow.push_tokens.for_students([s0.id, s1.id, StudentId("N0")])) == {
                "tok-s0-phone",
                long_token,
                "tok-s1",
            }
            assert list(uow.push_tokens.for_students([s2.id])) == [
                dataclasses.replace(shouting, owner_email=s2.email)
            ]
            assert list(uow.push_tokens.for_students([])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [registered["alice"]]
            assert tokens(uow.push_tokens.for_faculty([c.alice.id, c.bob.id])) == {
                "tok-alice",
                "tok-bob",
            }
            assert list(uow.push_tokens.for_faculty([])) == []
            assert uow.push_tokens.remove(long_token)
            assert not uow.push_tokens.remove(long_token)
            assert not uow.push_tokens.remove("tok-never")
            assert uow.push_tokens.remove("tok-bob")
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id])) == [registered["s0 phone"]]
            assert list(uow.push_tokens.for_faculty([c.bob.id])) == []

    def test_a_push_token_belongs_to_whoever_registered_it_last(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        s0, s1 = c.students[:2]
        first = _push(c, "tok-shared-phone", student=s0)
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(first)
            uow.commit()
        by_teacher = _push(
            c, first.token, faculty=c.alice, platform=PushPlatform.IOS, at=T0 + timedelta(days=1)
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(by_teacher)
            assert list(uow.push_tokens.for_students([s0.id])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [by_teacher]
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id])) == []
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == [by_teacher]
        by_both = dataclasses.replace(
            _push(c, first.token, student=s1, at=T0 + timedelta(days=2)), faculty_id=c.bob.id
        )
        with uow_factory().for_institution(c.id) as uow:
            uow.push_tokens.put(by_both)
            uow.push_tokens.put(by_both)  # the same registration again changes nothing
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_faculty([c.alice.id])) == []
            assert list(uow.push_tokens.for_students([s0.id, s1.id])) == [by_both]
            assert list(uow.push_tokens.for_faculty([c.alice.id, c.bob.id])) == [by_both]
            assert uow.push_tokens.remove(first.token)
            uow.push_tokens.put(first)
            # not committed
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.push_tokens.for_students([s0.id, s1.id])) == [by_both]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_sign_ins_passwords_or_push_tokens(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine, theirs = tenants[me], tenants[other]
        their_person = f"n{other.lower()}0001@{_domain(theirs)}"
        their_teacher = f"f{other.lower()}@{_domain(theirs)}"
        s0, s1 = mine.students[0], mine.students[1]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.sign_ins.find(SignInId(f"SI-{other}")) is None
            assert uow.sign_ins.find(SignInId(f"SI-{other}-OLD")) is None
            shared = uow.sign_ins.find(SignInId("SI-SHARED"))
            assert shared is not None
            assert (shared.institution_id, shared.email) == (mine.id, s0.email)
            assert shared.device_id == f"device-{me}-0001"
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId(f"SI-{me}-OLD")}
            assert uow.sign_ins.revoke_all(their_person, T0) == 0
            with pytest.raises(NotFoundError):
                uow.sign_ins.update(_sign_in(mine, f"SI-{other}", their_person))
            guest = uow.passwords.find(_GUEST)
            assert guest is not None
            assert (guest.institution_id, guest.password_hash) == (mine.id, f"hash-{me}")
            assert uow.passwords.find(their_teacher) is None
            assert not uow.passwords.remove(their_teacher)
            assert list(uow.push_tokens.for_students([s0.id])) == [
                _push(mine, "tok-SHARED", student=s0)
            ]
            assert list(uow.push_tokens.for_faculty([FacultyId(f"F{other}")])) == []
            assert not uow.push_tokens.remove(f"tok-{other}")
            uow.push_tokens.put(_push(mine, "tok-SHARED", student=s1))
            uow.commit()
        with uow_factory().for_institution(theirs.id) as uow:
            assert uow.sign_ins.revoked_since(_FAR_PAST) == {SignInId(f"SI-{other}-OLD")}
            theirs_active = uow.sign_ins.find(SignInId(f"SI-{other}"))
            assert theirs_active is not None
            assert theirs_active.revoked_at is None
            assert uow.passwords.find(their_teacher) is not None
            assert [t.token for t in uow.push_tokens.for_faculty([FacultyId(f"F{other}")])] == [
                f"tok-{other}"
            ]
            assert list(uow.push_tokens.for_students([theirs.students[0].id])) == [
                _push(theirs, "tok-SHARED", student=theirs.students[0])
            ]
            assert list(uow.push_tokens.for_students([theirs.students[1].id])) == []

    # -- operator sign-ins (platform scope only) ---------------------------------------------
    def test_operator_sign_ins_keep_every_field(self, uow_factory: UnitOfWorkFactory) -> None:
        full = _operator(
            "OP-FULL",
            " Ops.Lead@AMS.Example ",
            issued_at=datetime(2026, 11, 16, 9, 1, 2, 345678, tzinfo=IST),
            lifetime=timedelta(minutes=15, microseconds=1),
            revoked_at=T0 + timedelta(minutes=3, microseconds=7),
        )
        bare = _operator("OP-BARE")
        assert full.email == "ops.lead@ams.example"
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(full)
            uow.operator_sign_ins.add(bare)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(full.id) == full
            assert uow.operator_sign_ins.find(bare.id) == bare
            assert uow.operator_sign_ins.find(SignInId("OP-MISSING")) is None

    def test_adding_an_existing_operator_sign_in_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        first = _operator("OP-1")
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(first)
            with pytest.raises(ConflictError):
                uow.operator_sign_ins.add(first)
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(first.id) is None  # not committed
            uow.operator_sign_ins.add(first)
            uow.commit()
        with uow_factory().for_platform() as uow, pytest.raises(ConflictError):
            uow.operator_sign_ins.add(dataclasses.replace(first, email="other@ams.example"))
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(first.id) == first

    def test_active_operator_sign_ins_are_listed_oldest_first_and_revoked_one_at_a_time(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        at = T0 + timedelta(minutes=10)
        rows = {
            "later": _operator("OP-LATER", issued_at=T0 + timedelta(minutes=5)),
            "b": _operator("OP-B"),
            "a": _operator("OP-A", "other@ams.example"),
            "expired": _operator("OP-EXPIRED", issued_at=T0 - timedelta(hours=1)),
            "ends now": _operator("OP-ENDS-NOW", lifetime=timedelta(minutes=10)),
            "revoked": _operator("OP-REVOKED", revoked_at=T0 + timedelta(minutes=1)),
        }
        with uow_factory().for_platform() as uow:
            for sign_in in rows.values():
                uow.operator_sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_platform() as uow:
            active = [rows["a"], rows["b"], rows["later"]]
            assert list(uow.operator_sign_ins.list_active(at)) == active
            assert list(uow.operator_sign_ins.list_active(at.astimezone(IST))) == active
            assert uow.operator_sign_ins.revoke(SignInId("OP-B"), at)
            # not committed: leaving the block puts it back
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.find(SignInId("OP-B")) == rows["b"]
            assert uow.operator_sign_ins.revoke(SignInId("OP-B"), at)
            assert not uow.operator_sign_ins.revoke(SignInId("OP-B"), at + timedelta(seconds=1))
            for inactive in ("OP-EXPIRED", "OP-ENDS-NOW", "OP-REVOKED", "OP-MISSING"):
                assert not uow.operator_sign_ins.revoke(SignInId(inactive), at), inactive
            assert list(uow.operator_sign_ins.list_active(at)) == [rows["a"], rows["later"]]
            uow.commit()
        with uow_factory().for_platform() as uow:
            found = {name: uow.operator_sign_ins.find(s.id) for name, s in rows.items()}
        assert found == {**rows, "b": dataclasses.replace(rows["b"], revoked_at=at)}

    def test_revoke_all_ends_every_active_operator_sign_in_and_counts_them(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        at = T0 + timedelta(minutes=10)
        rows = {
            "one": _operator("OP-1"),
            "two": _operator("OP-2", "other@ams.example"),
            "expired": _operator("OP-EXPIRED", lifetime=timedelta(minutes=5)),
            "revoked": _operator("OP-REVOKED", revoked_at=T0 + timedelta(minutes=1)),
        }
        with uow_factory().for_platform() as uow:
            for sign_in in rows.values():
                uow.operator_sign_ins.add(sign_in)
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoke_all(at) == 2
            # not committed
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoked_since(_FAR_PAST) == {SignInId("OP-REVOKED")}
            assert uow.operator_sign_ins.revoke_all(at) == 2
            assert uow.operator_sign_ins.revoke_all(at + timedelta(seconds=1)) == 0
            assert list(uow.operator_sign_ins.list_active(at)) == []
            uow.commit()
        with uow_factory().for_platform() as uow:
            found = {name: uow.operator_sign_ins.find(s.id) for name, s in rows.items()}
        ended = {name: dataclasses.replace(rows[name], revoked_at=at) for name in ("one", "two")}
        assert found == {**rows, **ended}

    def test_revoked_since_lists_the_operator_sign_ins_revoked_at_or_after_an_instant(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        issued, lifetime = T0 - timedelta(hours=2), timedelta(hours=3)
        with uow_factory().for_platform() as uow:
            for n, revoked_at in enumerate(
                (T0 - timedelta(hours=1), T0, T0 + timedelta(microseconds=1), None)
            ):
                uow.operator_sign_ins.add(
                    _operator(f"OP-{n}", issued_at=issued, lifetime=lifetime, revoked_at=revoked_at)
                )
            assert uow.operator_sign_ins.revoked_since(T0) == {SignInId("OP-1"), SignInId("OP-2")}
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert uow.operator_sign_ins.revoked_since(T0.astimezone(IST)) == {
                SignInId("OP-1"),
                SignInId("OP-2"),
            }
            assert uow.operator_sign_ins.revoked_since(T0 + timedelta(microseconds=2)) == set()
            assert len(uow.operator_sign_ins.revoked_since(_FAR_PAST)) == 3
            assert uow.operator_sign_ins.revoke_all(T0 + timedelta(minutes=5)) == 1
            assert uow.operator_sign_ins.revoked_since(T0 + timedelta(minutes=5)) == {
                SignInId("OP-3")
            }

    @pytest.mark.parametrize("call", [pytest.param(c, id=n) for n, c in _OPERATOR_SIGN_IN_CALLS])
    def test_operator_sign_ins_are_refused_inside_an_institution(
        self,
        uow_factory: UnitOfWorkFactory,
        college: SmallCollege,
        call: Callable[[UnitOfWork], object],
    ) -> None:
        stored = _operator("OP-1")
        with uow_factory().for_platform() as uow:
            uow.operator_sign_ins.add(stored)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            with pytest.raises(PermissionDeniedError) as refused:
                call(uow)
            assert refused.value.code == "platform_required"
            uow.commit()
        with uow_factory().for_platform() as uow:
            assert list(uow.operator_sign_ins.list_active(T0)) == [stored]
            assert uow.operator_sign_ins.find(SignInId("OP-NEW")) is None
            assert uow.operator_sign_ins.revoked_since(_FAR_PAST) == frozenset()

    # -- covers ------------------------------------------------------------------------------
    def _cover_sessions(self, uow_factory: UnitOfWorkFactory, college: SmallCollege) -> None:
        c = college
        self._add_sessions(
            uow_factory,
            c,
            _session(c, "S-1", c.alice_cs_a, MONDAY),
            _session(c, "S-2", c.bob_ma_a, MONDAY, time(10)),
            _session(c, "S-3", c.alice_cs_a, _day(1)),
            _session(c, "S-4", c.bob_cs_b, MONDAY),
        )

    def test_covers_keep_every_field_and_are_found_by_session_and_substitute(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        nine = datetime(2026, 11, 16, 9, 0, tzinfo=IST)
        monday = CoverAssignment(
            id=CoverId("C-1"),
            institution_id=c.id,
            session_id=SessionId("S-1"),
            substitute_id=c.bob.id,
            starts_at=nine,
            ends_at=nine + timedelta(minutes=50),
            booked_at=datetime(2026, 11, 15, 18, 30, 12, 345678, tzinfo=UTC),
        )
        tuesday = _cover(c, "C-0", "S-3", c.bob.id, nine + timedelta(days=1))
        by_alice = _cover(c, "C-2", "S-2", c.alice.id, nine + timedelta(hours=1))
        with uow_factory().for_institution(c.id) as uow:
            for cover in (tuesday, monday, by_alice):
                uow.covers.add(cover)
            uow.commit()
        week_start = datetime(2026, 11, 16, tzinfo=UTC)
        with uow_factory().for_institution(c.id) as uow:
            covers = uow.covers
            assert covers.find(monday.id) == monday
            assert covers.find(CoverId("C-404")) is None
            assert covers.for_session(SessionId("S-1")) == monday
            assert covers.for_session(SessionId("S-4")) is None
            week = (week_start, week_start + timedelta(days=7))
            assert list(covers.list_for_substitute(c.bob.id, *week)) == [monday, tuesday]
            assert list(covers.list_for_substitute(c.alice.id, *week)) == [by_alice]
            assert list(covers.list_for_substitute(FacultyId("F404"), *week)) == []
            # [start, end) overlaps: touching ends do not count
            end = monday.ends_at
            assert list(covers.list_for_substitute(c.bob.id, end, end + timedelta(hours=2))) == []
            assert list(covers.list_for_substitute(c.bob.id, nine - timedelta(hours=1), nine)) == []
            minute = timedelta(minutes=1)
            assert list(covers.list_for_substitute(c.bob.id, end - minute, end)) == [monday]
            assert list(covers.list_for_substitute(c.bob.id, nine, nine + minute)) == [monday]
            stored = covers.find(monday.id)
            assert stored is not None
            assert stored.starts_at.utcoffset() is not None

    def test_a_cover_id_a_session_and_a_substitutes_time_are_taken_once(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        first = _cover(c, "C-1", "S-1", c.bob.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(first)
            uow.commit()
        same_id = _cover(c, "C-1", "S-3", c.alice.id, T0 + timedelta(days=1))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError):
            uow.covers.add(same_id)
        covered = _cover(c, "C-2", "S-1", c.alice.id, T0)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(covered)
        assert error.value.code == "session_already_covered"
        overlapping = _cover(c, "C-3", "S-2", c.bob.id, T0 + timedelta(minutes=59))
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(overlapping)
        assert error.value.code == "substitute_double_booked"
        inside = _cover(c, "C-4", "S-4", c.bob.id, T0 + timedelta(minutes=10), minutes=20)
        with uow_factory().for_institution(c.id) as uow, pytest.raises(ConflictError) as error:
            uow.covers.add(inside)
        assert error.value.code == "substitute_double_booked"
        touching = _cover(c, "C-5", "S-2", c.bob.id, T0 + timedelta(minutes=60))
        same_time_other_teacher = _cover(c, "C-6", "S-4", c.alice.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(touching)
            uow.covers.add(same_time_other_teacher)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            span = (T0 - timedelta(days=1), T0 + timedelta(days=1))
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [first, touching]
            assert uow.covers.find(CoverId("C-3")) is None
            assert uow.covers.for_session(SessionId("S-4")) == same_time_other_teacher

    def test_removing_a_cover_frees_the_session_and_the_substitute(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        first = _cover(c, "C-1", "S-1", c.bob.id, T0)
        with uow_factory().for_institution(c.id) as uow:
            uow.covers.add(first)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.remove(first.id) is True
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.find(first.id) == first  # the removal was not committed
            assert uow.covers.remove(CoverId("C-404")) is False
            assert uow.covers.remove(first.id) is True
            assert uow.covers.remove(first.id) is False
            assert uow.covers.for_session(SessionId("S-1")) is None
            again = _cover(c, "C-2", "S-1", c.alice.id, T0)
            moved = _cover(c, "C-3", "S-2", c.bob.id, T0 + timedelta(minutes=30))
            uow.covers.add(again)
            uow.covers.add(moved)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.covers.find(first.id) is None
            assert uow.covers.for_session(SessionId("S-1")) == again
            span = (T0 - timedelta(days=1), T0 + timedelta(days=1))
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [moved]

    @pytest.mark.parametrize(("me", "other"), [("A", "B"), ("B", "A")])
    def test_a_tenant_never_sees_another_tenants_covers(
        self, uow_factory: UnitOfWorkFactory, tenants: dict[str, SmallCollege], me: str, other: str
    ) -> None:
        mine = tenants[me]
        with uow_factory().for_institution(mine.id) as uow:
            assert uow.covers.find(CoverId(f"C-{other}")) is None
            assert uow.covers.for_session(SessionId(f"S-{other}-NEXT")) is None
            shared = uow.covers.for_session(SessionId("S-SHARED"))
            assert shared == _cover(mine, "C-SHARED", "S-SHARED", mine.bob.id, T0)
            assert uow.covers.find(CoverId("C-SHARED")) == shared
            span = (_FAR_PAST, _FAR_FUTURE)
            assert list(uow.covers.list_for_substitute(mine.bob.id, *span)) == [shared]
            assert list(uow.covers.list_for_substitute(FacultyId(f"F{other}"), *span)) == []
            assert [c.id for c in uow.covers.list_for_substitute(FacultyId(f"F{me}"), *span)] == [
                f"C-{me}"
            ]
            # the other tenant's bookings never block this one's substitutes
            uow.covers.add(_cover(mine, "C-FREE", f"S-{me}-OPEN", FacultyId(f"F{me}"), T0))
            uow.commit()

    # -- concurrency ------------------------------------------------------------------------------
    def test_racing_inserts_of_one_mark_have_exactly_one_winner(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0]
        self._add_sessions(uow_factory, c, _session(c, "S-RACE", c.alice_cs_a, MONDAY))
        statuses = list(AttendanceStatus)
        barrier = threading.Barrier(len(statuses))

        def attempt(status: AttendanceStatus) -> tuple[AttendanceMark, bool]:
            uow = uow_factory()
            barrier.wait(timeout=30)
            with uow.for_institution(c.id):
                result = uow.marks.insert_if_absent(_mark(c, "S-RACE", st0, status))
                uow.commit()
            return result

        with ThreadPoolExecutor(max_workers=len(statuses)) as pool:
            results = list(pool.map(attempt, statuses))
        winners = [mark for mark, inserted in results if inserted]
        assert len(winners) == 1
        assert [mark for mark, _ in results] == [winners[0]] * len(statuses)
        with uow_factory().for_institution(c.id) as uow:
            assert list(uow.marks.list_for_session(SessionId("S-RACE"))) == winners

    def test_concurrent_wrong_codes_are_all_counted(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, st0 = college, college.students[0].id
        sid = SessionId("S-RACE")
        self._add_sessions(uow_factory, c, _session(c, sid, c.alice_cs_a, MONDAY))
        workers, rounds = 4, 5
        barrier = threading.Barrier(workers)

        def hammer(_: int) -> list[FailureCounts]:
            uow = uow_factory()
            barrier.wait(timeout=30)
            seen = []
            for _round in range(rounds):
                with uow.for_institution(c.id):
                    seen.append(uow.attempts.record_failure(sid, st0))
                    uow.commit()
            return seen

        with ThreadPoolExecutor(max_workers=workers) as pool:
            seen = [counts for batch in pool.map(hammer, range(workers)) for counts in batch]
        total = workers * rounds
        assert sorted(counts.student for counts in seen) == list(range(1, total + 1))
        with uow_factory().for_institution(c.id) as uow:
            assert uow.attempts.failures(sid, st0) == total
            assert uow.attempts.record_failure(sid, st0) == FailureCounts(total + 1, total + 1)

    _REHASHED = "$argon2id$rehashed"

    def test_racing_wrong_passwords_are_all_counted_and_the_last_one_locks(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c, policy = college, PasswordPolicy(max_failures=5)
        with uow_factory().for_institution(c.id) as uow:
            uow.passwords.put(_password(c, "racer@a.edu"))
            uow.passwords.put(_password(c, "almost@a.edu"))
            uow.commit()

        def race(email: str, count: int) -> list[PasswordCredential | None]:
            barrier = threading.Barrier(count)

            def fail(_: int) -> PasswordCredential | None:
                uow = uow_factory()
                barrier.wait(timeout=30)
                with uow.for_institution(c.id):
                    counted = uow.passwords.record_failure(email, T0, policy)
                    uow.commit()
                return counted

            with ThreadPoolExecutor(max_workers=count) as pool:
                return list(pool.map(fail, range(count)))

        almost = race("almost@a.edu", policy.max_failures - 1)
        assert sorted(x.failed_attempts for x in almost if x) == [1, 2, 3, 4]
        racing = race("racer@a.edu", 4 * policy.max_failures)
        counted = [x for x in racing if x is not None]
        assert len(counted) == len(racing)
        unlocked = sorted(x.failed_attempts for x in counted if x.locked_until is None)
        assert unlocked == list(range(1, policy.max_failures))
        assert all(x.locked_until == T0 + policy.lockout for x in counted if x.locked_until)
        with uow_factory().for_institution(c.id) as uow:
            locked = uow.passwords.find("racer@a.edu")
            assert locked is not None
            assert (locked.failed_attempts, locked.locked_until) == (0, T0 + policy.lockout)
            # exactly max_failures counted: the rest met the lock and left it as it was
            assert locked.version == policy.max_failures
            assert not uow.passwords.record_success("racer@a.edu", T0 + timedelta(minutes=1))
            assert uow.passwords.find("racer@a.edu") == locked
            assert uow.passwords.record_failure("nobody@a.edu", T0, policy) is None
            assert not uow.passwords.record_success("nobody@a.edu", T0)
            still = uow.passwords.find("almost@a.edu")
            assert still is not None
            assert (still.failed_attempts, still.locked_until) == (4, None)
            assert uow.passwords.record_success("almost@a.edu", T0, self._REHASHED)
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            cleared = uow.passwords.find("almost@a.edu")
            assert cleared == dataclasses.replace(
                still, failed_attempts=0, password_hash=self._REHASHED, version=5
            )
            after_lock = T0 + policy.lockout
            assert uow.passwords.record_success("racer@a.edu", after_lock)
            found = uow.passwords.find("racer@a.edu")
            assert found is not None
            assert (found.failed_attempts, found.locked_until) == (0, None)

    def test_racing_overlapping_covers_store_exactly_one(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        self._cover_sessions(uow_factory, c)
        bookings = [
            _cover(c, f"C-{n}", f"S-{n + 1}", c.bob.id, T0 + timedelta(minutes=10 * n))
            for n in range(4)
        ]
        barrier = threading.Barrier(len(bookings))

        def book(cover: CoverAssignment) -> bool:
            uow = uow_factory()
            barrier.wait(timeout=30)
            try:
                with uow.for_institution(c.id):
                    uow.covers.add(cover)
                    uow.commit()
            except ConflictError as error:
                assert error.code == "substitute_double_booked"
                return False
            return True

        with ThreadPoolExecutor(max_workers=len(bookings)) as pool:
            booked = list(pool.map(book, bookings))
        assert booked.count(True) == 1
        winner = bookings[booked.index(True)]
        with uow_factory().for_institution(c.id) as uow:
            span = (_FAR_PAST, _FAR_FUTURE)
            assert list(uow.covers.list_for_substitute(c.bob.id, *span)) == [winner]

    # -- references -------------------------------------------------------------------------
    def test_rows_pointing_at_missing_rows_are_refused_like_foreign_keys(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        attempts: list[Callable[[UnitOfWork], object]] = [
            lambda u: u.students.add(
                Student(StudentId("NX"), c.id, "X", "nx@a.edu", SectionId("NO-SUCH-SECTION"))
            ),
            lambda u: u.assignments.add(
                TeachingAssignment(
                    AssignmentId("AX"), c.id, FacultyId("NO-ONE"), c.cs101.code, c.section_a.id
                )
            ),
            lambda u: u.slots.add(
                WeeklySlot(SlotId("SX"), c.id, AssignmentId("NO-SUCH"), 1, time(9), time(10))
            ),
            lambda u: u.devices.add(
                DeviceBinding(c.id, StudentId("NO-SUCH"), DeviceId("device-x-0001"), T0)
            ),
            lambda u: u.push_tokens.put(
                dataclasses.replace(_push(c, "tok-x"), student_id=StudentId("NO-SUCH"))
            ),
            lambda u: u.push_tokens.put(
                dataclasses.replace(_push(c, "tok-x"), faculty_id=FacultyId("NO-ONE"))
            ),
        ]
        for attempt in attempts:
            with uow_factory().for_institution(c.id) as uow, pytest.raises(NotFoundError):
                attempt(uow)
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find(StudentId("NX")) is None
            assert uow.assignments.find(AssignmentId("AX")) is None
            assert uow.slots.find(SlotId("SX")) is None
            assert list(uow.push_tokens.for_students([StudentId("NO-SUCH")])) == []
            assert list(uow.push_tokens.for_faculty([FacultyId("NO-ONE")])) == []

    # -- bulk upsert --------------------------------------------------------------------------
    def test_upserting_students_creates_updates_and_leaves_identical_rows_alone(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        renamed = dataclasses.replace(c.students[0], name="Renamed", roll_number=41)
        moved = dataclasses.replace(c.students[1], section_id=c.section_b.id)
        fresh = [
            Student(StudentId(f"NEW{n}"), c.id, f"New {n}", f"new{n}@a.edu", c.section_a.id)
            for n in range(3)
        ]
        batch = [renamed, moved, c.students[2], *fresh]
        with uow_factory().for_institution(c.id) as uow:
            counts = uow.students.upsert_many(batch)
            uow.commit()
        assert (counts.created, counts.updated, counts.unchanged) == (3, 2, 1)
        with uow_factory().for_institution(c.id) as uow:
            stored = uow.students.get(renamed.id)
            assert (stored.name, stored.roll_number, stored.version) == ("Renamed", 41, 1)
            assert uow.students.get(moved.id).section_id == c.section_b.id
            assert uow.students.get(c.students[2].id).version == 0
            assert uow.students.get(StudentId("NEW2")).email == "new2@a.edu"
            again = uow.students.upsert_many(batch)
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(batch))

    def test_a_failed_upsert_writes_nothing(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        c = college
        fresh = Student(StudentId("NEW0"), c.id, "New", "new0@a.edu", c.section_a.id)
        stealing = dataclasses.replace(c.students[1], email=c.students[0].email)
        with uow_factory().for_institution(c.id) as uow:
            with pytest.raises(ConflictError) as error:
                uow.students.upsert_many([fresh, stealing])
            assert error.value.code == "email_taken"
            assert uow.students.find(fresh.id) is None
            uow.commit()
        with uow_factory().for_institution(c.id) as uow:
            assert uow.students.find(fresh.id) is None
            assert uow.students.get(c.students[1].id) == c.students[1]
            with pytest.raises(ValidationError):
                uow.students.upsert_many([fresh, fresh])

    def test_a_second_notification_with_a_taken_id_is_a_conflict(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        first = _notification(college, "N-1", "key-1")
        with uow_factory().for_institution(college.id) as uow:
            uow.outbox.add(first)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow, pytest.raises(ConflictError):
            uow.outbox.add(_notification(college, "N-1", "key-2"))
        with uow_factory().for_platform() as uow:
            assert list(uow.outbox.pending()) == [first]

    def test_emails_are_kept_in_one_spelling(
        self, uow_factory: UnitOfWorkFactory, college: SmallCollege
    ) -> None:
        shouting = Student(StudentId("NX1"), college.id, "X", " NX1@A.EDU ", college.section_a.id)
        with uow_factory().for_institution(college.id) as uow:
            uow.students.add(shouting)
            uow.commit()
        with uow_factory().for_institution(college.id) as uow:
            assert uow.students.get(StudentId("NX1")).email == "nx1@a.edu"
            assert uow.students.find_by_email("Nx1@a.edu") == shouting
