"""Rows of the audit trail, security events, push tokens and the notification outbox."""

from __future__ import annotations

from typing import Any

from ams_adapters.sql.mappers._base import Row
from ams_core.domain import (
    AttendanceStatus,
    AuditEntry,
    DeviceId,
    FacultyId,
    InstitutionId,
    Notification,
    NotificationId,
    PushPlatform,
    PushToken,
    Recipient,
    RecipientKind,
    SecurityEvent,
    SecurityEventKind,
    SessionId,
    StudentId,
    digest_token,
)
from ams_core.domain.people import fold_email
from ams_core.ports import SentNotification


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
        student_id=None if row["student_id"] is None else StudentId(row["student_id"]),
        actor=row["actor"],
        at=row["at"],
        old_status=AttendanceStatus(row["old_status"]) if row["old_status"] else None,
        new_status=AttendanceStatus(row["new_status"]),
        reason=row["reason"],
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
        parts=row["parts"],
        parts_done=_bits(row["parts_done"]),
    )


def _bits(mask: int) -> frozenset[int]:
    """The positions of the bits set in ``mask`` (the parts of a notification done)."""
    return frozenset(bit for bit in range(mask.bit_length()) if mask >> bit & 1)


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
