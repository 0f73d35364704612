"""Builders of the rows the persistence contract writes, and the dates it uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

from ams_core.domain import (
    Absence,
    AbsenceId,
    AbsenceKind,
    AbsenceStatus,
    AttendanceMark,
    AttendanceStatus,
    AuditEntry,
    ClassSession,
    CoverAssignment,
    CoverId,
    CoverNeed,
    CoverNeedId,
    CoverOffer,
    CoverOfferId,
    CoverPlan,
    CoverPlanId,
    DateRange,
    DeviceId,
    Faculty,
    FacultyId,
    MarkSource,
    NeedStatus,
    Notification,
    NotificationId,
    OfferStatus,
    OperatorSignIn,
    PasswordCredential,
    PlannedCover,
    PlanStatus,
    PreferenceId,
    PreferenceKind,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    ScoreReason,
    SectionId,
    SecurityEvent,
    SecurityEventKind,
    SessionId,
    SessionStatus,
    SignIn,
    SignInId,
    SignInMethod,
    SlotId,
    StatusTally,
    Student,
    SubjectCode,
    SubstitutePreference,
    TeachingAssignment,
    UncoveredNeed,
)
from ams_core.ports import UnitOfWork
from ams_core.testing.builders import MONDAY, SmallCollege

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


def _absence(
    college: SmallCollege,
    absence_id: str,
    faculty_id: FacultyId,
    starts_at: datetime,
    hours: int = 8,
    *,
    status: AbsenceStatus = AbsenceStatus.APPROVED,
    kind: AbsenceKind = AbsenceKind.SICK,
) -> Absence:
    return Absence(
        id=AbsenceId(absence_id),
        institution_id=college.id,
        faculty_id=faculty_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        kind=kind,
        status=status,
        reported_at=T0 - timedelta(days=2),
        reported_by=college.admin_email,
    )


def _need(
    college: SmallCollege,
    need_id: str,
    absence_id: str,
    session_id: str,
    starts_at: datetime,
    *,
    faculty_id: FacultyId | None = None,
    status: NeedStatus = NeedStatus.OPEN,
    substitute_id: FacultyId | None = None,
    minutes: int = 60,
) -> CoverNeed:
    """A need of one of the college's sessions; its day is the IST date of ``starts_at``."""
    return CoverNeed(
        id=CoverNeedId(need_id),
        institution_id=college.id,
        absence_id=AbsenceId(absence_id),
        session_id=SessionId(session_id),
        absent_faculty_id=college.alice.id if faculty_id is None else faculty_id,
        section_id=college.section_a.id,
        subject_code=college.cs101.code,
        day=starts_at.astimezone(IST).date(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        created_at=T0 - timedelta(days=1),
        status=status,
        substitute_id=substitute_id,
    )


def _plan(
    college: SmallCollege,
    plan_id: str,
    first_day: date,
    last_day: date,
    created_at: datetime,
    *,
    status: PlanStatus = PlanStatus.DRAFT,
    assignments: tuple[PlannedCover, ...] = (),
    uncovered: tuple[UncoveredNeed, ...] = (),
) -> CoverPlan:
    return CoverPlan(
        id=CoverPlanId(plan_id),
        institution_id=college.id,
        first_day=first_day,
        last_day=last_day,
        created_at=created_at,
        created_by=college.admin_email,
        solver="reference",
        assignments=assignments,
        uncovered=uncovered,
        status=status,
    )


def _offer(
    college: SmallCollege,
    offer_id: str,
    need_id: str,
    substitute_id: FacultyId,
    offered_at: datetime,
    *,
    attempt: int = 1,
    status: OfferStatus = OfferStatus.OFFERED,
    plan_id: str | None = None,
    hours: int = 2,
    reasons: tuple[ScoreReason, ...] = (),
) -> CoverOffer:
    return CoverOffer(
        id=CoverOfferId(offer_id),
        institution_id=college.id,
        need_id=CoverNeedId(need_id),
        substitute_id=substitute_id,
        plan_id=None if plan_id is None else CoverPlanId(plan_id),
        attempt=attempt,
        score=sum(r.points for r in reasons),
        reasons=reasons,
        offered_at=offered_at,
        expires_at=offered_at + timedelta(hours=hours),
        status=status,
        answered_at=None if status is OfferStatus.OFFERED else offered_at + timedelta(hours=1),
    )


def _preference(
    college: SmallCollege,
    preference_id: str,
    substitute_id: FacultyId,
    kind: PreferenceKind = PreferenceKind.PREFERRED,
    *,
    faculty_id: FacultyId | None = None,
    section_id: SectionId | None = None,
    subject_code: SubjectCode | None = None,
    note: str = "",
) -> SubstitutePreference:
    return SubstitutePreference(
        id=PreferenceId(preference_id),
        institution_id=college.id,
        substitute_id=substitute_id,
        kind=kind,
        faculty_id=faculty_id,
        section_id=section_id,
        subject_code=subject_code,
        note=note,
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
