"""Pure row <-> entity conversion (no database needed to test them)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ams_core.domain import (
    AssignmentId,
    AttendanceMark,
    AttendanceStatus,
    AttendanceWindow,
    AuditEntry,
    ClassSession,
    CoverAssignment,
    CoverId,
    CoverSettings,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    InstitutionSettings,
    MarkSource,
    Notification,
    NotificationId,
    OperatorSignIn,
    PasswordCredential,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    Section,
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
    StudentId,
    Subject,
    SubjectCode,
    SubjectKind,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
    digest_token,
)
from ams_core.domain.people import fold_email
from ams_core.ports import SentNotification

Row = Mapping[Any, Any]


# -- institutions -------------------------------------------------------------------------


def settings_to_json(settings: InstitutionSettings) -> dict[str, Any]:
    return {
        "attendance_threshold": str(settings.attendance_threshold),
        "code_rotation_seconds": settings.code_rotation_seconds,
        "check_in_window_minutes": settings.check_in_window_minutes,
        "late_after_minutes": settings.late_after_minutes,
        "open_early_minutes": settings.open_early_minutes,
        "auto_complete_grace_minutes": settings.auto_complete_grace_minutes,
        "campus_networks": list(settings.campus_networks),
        "max_wrong_codes_per_student": settings.max_wrong_codes_per_student,
        "max_wrong_codes_per_session": settings.max_wrong_codes_per_session,
        "cover": dataclasses.asdict(settings.cover),
    }


def settings_from_json(data: Mapping[str, Any]) -> InstitutionSettings:
    defaults = InstitutionSettings()
    known = {f.name for f in dataclasses.fields(InstitutionSettings)} - {"cover"}
    values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    if "attendance_threshold" in values:
        values["attendance_threshold"] = Decimal(values["attendance_threshold"])
    if "campus_networks" in values:
        values["campus_networks"] = tuple(values["campus_networks"])
    cover_fields = {f.name for f in dataclasses.fields(CoverSettings)}
    cover = CoverSettings(
        **{k: v for k, v in dict(data.get("cover", {})).items() if k in cover_fields}
    )
    return dataclasses.replace(defaults, **values, cover=cover)


def institution_row(i: Institution) -> dict[str, Any]:
    return {
        "id": i.id,
        "name": i.name,
        "timezone": i.timezone,
        "email_domains": sorted(i.email_domains),
        "settings": settings_to_json(i.settings),
        "version": i.version,
    }


def institution_from(row: Row) -> Institution:
    return Institution(
        id=InstitutionId(row["id"]),
        name=row["name"],
        timezone=row["timezone"],
        email_domains=frozenset(row["email_domains"]),
        settings=settings_from_json(row["settings"]),
        version=row["version"],
    )


# -- people and teaching -----------------------------------------------------------------


def section_row(s: Section) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "year": s.year,
        "department": s.department,
        "name": s.name,
        "version": s.version,
    }


def section_from(row: Row) -> Section:
    return Section(
        SectionId(row["id"]),
        InstitutionId(row["institution_id"]),
        row["year"],
        row["department"],
        row["name"],
        row["version"],
    )


def student_row(s: Student) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "name": s.name,
        "email": s.email,
        "section_id": s.section_id,
        "roll_number": s.roll_number,
        "is_class_representative": s.is_class_representative,
        "version": s.version,
    }


def student_from(row: Row) -> Student:
    return Student(
        id=StudentId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        name=row["name"],
        email=row["email"],
        section_id=SectionId(row["section_id"]),
        roll_number=row["roll_number"],
        is_class_representative=bool(row["is_class_representative"]),
        version=row["version"],
    )


def faculty_row(f: Faculty) -> dict[str, Any]:
    return {
        "institution_id": f.institution_id,
        "id": f.id,
        "name": f.name,
        "email": f.email,
        "department": f.department,
        "qualified_subjects": sorted(f.qualified_subjects),
        "max_covers_per_day": f.max_covers_per_day,
        "max_covers_per_week": f.max_covers_per_week,
        "is_admin": f.is_admin,
        "version": f.version,
    }


def faculty_from(row: Row) -> Faculty:
    return Faculty(
        id=FacultyId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        name=row["name"],
        email=row["email"],
        department=row["department"],
        qualified_subjects=frozenset(SubjectCode(c) for c in row["qualified_subjects"]),
        max_covers_per_day=row["max_covers_per_day"],
        max_covers_per_week=row["max_covers_per_week"],
        is_admin=bool(row["is_admin"]),
        version=row["version"],
    )


def subject_row(s: Subject) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "code": s.code,
        "short_name": s.short_name,
        "name": s.name,
        "kind": s.kind.value,
        "version": s.version,
    }


def subject_from(row: Row) -> Subject:
    return Subject(
        SubjectCode(row["code"]),
        InstitutionId(row["institution_id"]),
        row["short_name"],
        row["name"],
        SubjectKind(row["kind"]),
        row["version"],
    )


def assignment_row(a: TeachingAssignment) -> dict[str, Any]:
    return {
        "institution_id": a.institution_id,
        "id": a.id,
        "faculty_id": a.faculty_id,
        "subject_code": a.subject_code,
        "section_id": a.section_id,
        "version": a.version,
    }


def assignment_from(row: Row) -> TeachingAssignment:
    return TeachingAssignment(
        AssignmentId(row["id"]),
        InstitutionId(row["institution_id"]),
        FacultyId(row["faculty_id"]),
        SubjectCode(row["subject_code"]),
        SectionId(row["section_id"]),
        row["version"],
    )


def slot_row(s: WeeklySlot) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "assignment_id": s.assignment_id,
        "weekday": s.weekday,
        "start_time": s.start,
        "end_time": s.end,
        "venue": s.venue,
        "version": s.version,
    }


def slot_from(row: Row) -> WeeklySlot:
    return WeeklySlot(
        SlotId(row["id"]),
        InstitutionId(row["institution_id"]),
        AssignmentId(row["assignment_id"]),
        row["weekday"],
        row["start_time"],
        row["end_time"],
        row["venue"],
        row["version"],
    )


def term_row(t: Term) -> dict[str, Any]:
    return {
        "institution_id": t.institution_id,
        "id": t.id,
        "name": t.name,
        "start_date": t.start,
        "end_date": t.end,
        "version": t.version,
    }


def term_from(row: Row) -> Term:
    return Term(
        TermId(row["id"]),
        InstitutionId(row["institution_id"]),
        row["name"],
        row["start_date"],
        row["end_date"],
        row["version"],
    )


def holiday_row(h: Holiday) -> dict[str, Any]:
    return {"institution_id": h.institution_id, "day": h.date, "name": h.name}


def holiday_from(row: Row) -> Holiday:
    return Holiday(InstitutionId(row["institution_id"]), row["day"], row["name"])


# -- sessions and attendance -----------------------------------------------------------------


def session_row(s: ClassSession) -> dict[str, Any]:
    w = s.window
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "assignment_id": s.assignment_id,
        "section_id": s.section_id,
        "subject_code": s.subject_code,
        "day": s.date,
        "start_time": s.start,
        "end_time": s.end,
        "teacher_id": s.teacher_id,
        "venue": s.venue,
        "slot_id": s.slot_id,
        "status": s.status.value,
        "topic": s.topic,
        "window_opened_at": w.opened_at if w else None,
        "window_closes_at": w.closes_at if w else None,
        "window_secret": w.secret if w else None,
        "window_rotation_seconds": w.rotation_seconds if w else None,
        "completed_at": s.completed_at,
        "tally_present": s.tally.present,
        "tally_late": s.tally.late,
        "tally_absent": s.tally.absent,
        "tally_excused": s.tally.excused,
        "version": s.version,
    }


def session_from(row: Row) -> ClassSession:
    window = None
    if row["window_opened_at"] is not None:
        window = AttendanceWindow(
            opened_at=row["window_opened_at"],
            closes_at=row["window_closes_at"],
            secret=bytes(row["window_secret"]),
            rotation_seconds=row["window_rotation_seconds"],
        )
    return ClassSession(
        id=SessionId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        assignment_id=AssignmentId(row["assignment_id"]),
        section_id=SectionId(row["section_id"]),
        subject_code=SubjectCode(row["subject_code"]),
        date=row["day"],
        start=row["start_time"],
        end=row["end_time"],
        teacher_id=FacultyId(row["teacher_id"]),
        venue=row["venue"],
        slot_id=SlotId(row["slot_id"]) if row["slot_id"] is not None else None,
        status=SessionStatus(row["status"]),
        topic=row["topic"],
        window=window,
        completed_at=row["completed_at"],
        tally=StatusTally(
            row["tally_present"], row["tally_late"], row["tally_absent"], row["tally_excused"]
        ),
        version=row["version"],
    )


def mark_row(m: AttendanceMark, subject_code: str, day: object, counted: bool) -> dict[str, Any]:
    return {
        "institution_id": m.institution_id,
        "session_id": m.session_id,
        "student_id": m.student_id,
        "status": m.status.value,
        "marked_at": m.marked_at,
        "marked_by": m.marked_by,
        "source": m.source.value,
        "device_id": m.device_id,
        "version": m.version,
        "subject_code": subject_code,
        "day": day,
        "counted": counted,
    }


def mark_from(row: Row) -> AttendanceMark:
    return AttendanceMark(
        institution_id=InstitutionId(row["institution_id"]),
        session_id=SessionId(row["session_id"]),
        student_id=StudentId(row["student_id"]),
        status=AttendanceStatus(row["status"]),
        marked_at=row["marked_at"],
        marked_by=row["marked_by"],
        source=MarkSource(row["source"]),
        device_id=DeviceId(row["device_id"]) if row["device_id"] is not None else None,
        version=row["version"],
    )


def audit_row(e: AuditEntry) -> dict[str, Any]:
    return {
        "institution_id": e.institution_id,
        "session_id": e.session_id,
        "student_id": e.student_id,
        "actor": e.actor,
        "at": e.at,
        "old_status": e.old_status.value if e.old_status else None,
        "new_status": e.new_status.value,
        "reason": e.reason,
    }


def audit_from(row: Row) -> AuditEntry:
    return AuditEntry(
        institution_id=InstitutionId(row["institution_id"]),
        session_id=SessionId(row["session_id"]),
        student_id=StudentId(row["student_id"]),
        actor=row["actor"],
        at=row["at"],
        old_status=AttendanceStatus(row["old_status"]) if row["old_status"] else None,
        new_status=AttendanceStatus(row["new_status"]),
        reason=row["reason"],
    )


def binding_row(b: DeviceBinding) -> dict[str, Any]:
    return {
        "institution_id": b.institution_id,
        "student_id": b.student_id,
        "device_id": b.device_id,
        "bound_at": b.bound_at,
    }


def binding_from(row: Row) -> DeviceBinding:
    return DeviceBinding(
        InstitutionId(row["institution_id"]),
        StudentId(row["student_id"]),
        DeviceId(row["device_id"]),
        row["bound_at"],
    )


def event_row(e: SecurityEvent) -> dict[str, Any]:
    return {
        "institution_id": e.institution_id,
        "kind": e.kind.value,
        "at": e.at,
        "actor": e.actor,
        "student_id": e.student_id,
        "session_id": e.session_id,
        "device_id": e.device_id,
        "client_ip": e.client_ip,
        "detail": dict(e.detail),
    }


def event_from(row: Row) -> SecurityEvent:
    return SecurityEvent(
        institution_id=InstitutionId(row["institution_id"]),
        kind=SecurityEventKind(row["kind"]),
        at=row["at"],
        actor=row["actor"],
        student_id=StudentId(row["student_id"]) if row["student_id"] else None,
        session_id=SessionId(row["session_id"]) if row["session_id"] else None,
        device_id=DeviceId(row["device_id"]) if row["device_id"] else None,
        client_ip=row["client_ip"],
        detail=dict(row["detail"]),
    )


def cover_row(c: CoverAssignment) -> dict[str, Any]:
    return {
        "institution_id": c.institution_id,
        "id": c.id,
        "session_id": c.session_id,
        "substitute_id": c.substitute_id,
        "starts_at": c.starts_at,
        "ends_at": c.ends_at,
        "booked_at": c.booked_at,
        "version": c.version,
    }


def cover_from(row: Row) -> CoverAssignment:
    return CoverAssignment(
        id=CoverId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        session_id=SessionId(row["session_id"]),
        substitute_id=FacultyId(row["substitute_id"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        booked_at=row["booked_at"],
        version=row["version"],
    )


def notification_row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "institution_id": n.institution_id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "recipients": [[r.kind.value, r.id] for r in n.recipients],
        "idempotency_key": n.idempotency_key,
        "created_at": n.created_at,
        "data": dict(n.data),
    }


def sent_from(row: Row) -> SentNotification:
    return SentNotification(
        notification_from(row),
        delivered_at=row["delivered_at"],
        delivered=row["delivered"] or 0,
        failed=row["failed"] or 0,
    )


def notification_from(row: Row) -> Notification:
    return Notification(
        id=NotificationId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        recipients=tuple(Recipient(RecipientKind(k), i) for k, i in row["recipients"]),
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        data=dict(row["data"]),
    )


# -- accounts ----------------------------------------------------------------------------------


def sign_in_row(s: SignIn) -> dict[str, Any]:
    return {
        "institution_id": s.institution_id,
        "id": s.id,
        "email": fold_email(s.email),
        "method": s.method.value,
        "refresh_digest": s.refresh_digest,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "device_id": s.device_id,
        "revoked_at": s.revoked_at,
        "version": s.version,
        "previous_digest": s.previous_digest,
        "rotated_at": s.rotated_at,
    }


def sign_in_from(row: Row) -> SignIn:
    return SignIn(
        id=SignInId(row["id"]),
        institution_id=InstitutionId(row["institution_id"]),
        email=row["email"],
        method=SignInMethod(row["method"]),
        refresh_digest=row["refresh_digest"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        device_id=DeviceId(row["device_id"]) if row["device_id"] is not None else None,
        revoked_at=row["revoked_at"],
        version=row["version"],
        previous_digest=row["previous_digest"],
        rotated_at=row["rotated_at"],
    )


def operator_sign_in_row(s: OperatorSignIn) -> dict[str, Any]:
    return {
        "id": s.id,
        "email": fold_email(s.email),
        "issued_at": s.issued_at,
        "expires_at": s.expires_at,
        "revoked_at": s.revoked_at,
    }


def operator_sign_in_from(row: Row) -> OperatorSignIn:
    return OperatorSignIn(
        id=SignInId(row["id"]),
        email=row["email"],
        issued_at=row["issued_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def password_row(c: PasswordCredential) -> dict[str, Any]:
    return {
        "institution_id": c.institution_id,
        "email": fold_email(c.email),
        "password_hash": c.password_hash,
        "failed_attempts": c.failed_attempts,
        "locked_until": c.locked_until,
        "version": c.version,
    }


def password_from(row: Row) -> PasswordCredential:
    return PasswordCredential(
        institution_id=InstitutionId(row["institution_id"]),
        email=row["email"],
        password_hash=row["password_hash"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        version=row["version"],
    )


def push_token_row(p: PushToken) -> dict[str, Any]:
    return {
        "institution_id": p.institution_id,
        "token_digest": digest_token(p.token),
        "token": p.token,
        "platform": p.platform.value,
        "owner_email": fold_email(p.owner_email),
        "registered_at": p.registered_at,
        "student_id": p.student_id,
        "faculty_id": p.faculty_id,
    }


def push_token_from(row: Row) -> PushToken:
    return PushToken(
        institution_id=InstitutionId(row["institution_id"]),
        token=row["token"],
        platform=PushPlatform(row["platform"]),
        owner_email=row["owner_email"],
        registered_at=row["registered_at"],
        student_id=StudentId(row["student_id"]) if row["student_id"] is not None else None,
        faculty_id=FacultyId(row["faculty_id"]) if row["faculty_id"] is not None else None,
    )
