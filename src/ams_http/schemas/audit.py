"""The audit trail of attendance changes and the review list of security events."""

from __future__ import annotations

from datetime import datetime

from ams_core.domain import AuditEntry, SecurityEvent, SecurityEventKind
from ams_http.schemas.attendance import Status
from ams_http.schemas.base import CamelStruct


class AuditEntryOut(CamelStruct):
    """One change of a mark; ``oldStatus`` is null when the student had no mark yet.

    ``studentId`` is null in the entry of a completion: the whole class, whose students
    without a mark became absent (``reason`` says how many; their marks have source
    ``completion``).
    """

    session_id: str
    student_id: str | None
    actor: str
    at: datetime
    old_status: Status | None
    new_status: Status
    reason: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            session_id=entry.session_id,
            student_id=entry.student_id,
            actor=entry.actor,
            at=entry.at,
            old_status=entry.old_status.value if entry.old_status else None,
            new_status=entry.new_status.value,
            reason=entry.reason,
        )


class AuditPageOut(CamelStruct):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class SecurityEventOut(CamelStruct):
    """One suspicious event; never holds a code, a secret or a token.

    ``kind`` is the core's enum itself, so a kind the core adds is on the wire (and in the
    OpenAPI document) at once.
    """

    kind: SecurityEventKind
    at: datetime
    actor: str
    student_id: str | None
    session_id: str | None
    device_id: str | None
    client_ip: str | None
    detail: dict[str, str]

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventOut:
        return cls(
            kind=event.kind,
            at=event.at,
            actor=event.actor,
            student_id=event.student_id,
            session_id=event.session_id,
            device_id=event.device_id,
            client_ip=event.client_ip,
            detail=dict(event.detail),
        )


class SecurityEventPageOut(CamelStruct):
    items: list[SecurityEventOut]
    total: int
    limit: int
    offset: int
