"""Reading the audit trail of attendance changes and reviewing suspicious events.

Pages are newest first and answer ``{items, total, limit, offset}`` (``limit`` 1–200,
default 50). The audit trail of a session is for its teacher of record and the
institution's admins; a student's trail is for admins, and for teachers only the entries
of the sessions they are the teacher of record of. Security events are for admins. Students
are refused (403); another institution's session or student is not found (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from ams_core.domain import (
    AuditEntry,
    FieldProblem,
    Principal,
    SecurityEventKind,
    SessionId,
    StudentId,
    ValidationError,
)
from ams_core.ports import SecurityEventFilter
from ams_core.use_cases import (
    MAX_REVIEW_PAGE_SIZE,
    GetSessionAudit,
    GetSessionAuditCommand,
    GetStudentAudit,
    GetStudentAuditCommand,
    ListSecurityEvents,
    ListSecurityEventsCommand,
    Page,
    PageRequest,
)
from ams_http.controllers._run import run
from ams_http.openapi import INPUT, SIGNED_IN, problems
from ams_http.schemas.audit import (
    AuditEntryOut,
    AuditPageOut,
    SecurityEventOut,
    SecurityEventPageOut,
)
from ams_http.schemas.common import counts

TAGS = ["audit"]
READ = problems(*SIGNED_IN, *INPUT, 403, 404)
Limit = Annotated[
    int,
    QueryParameter(
        ge=1, le=MAX_REVIEW_PAGE_SIZE, description=f"page size (at most {MAX_REVIEW_PAGE_SIZE})"
    ),
]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="items to skip")]
SessionPath = Annotated[str, PathParameter(max_length=64, description="session id")]
StudentPath = Annotated[str, PathParameter(max_length=64, description="student (roll) id")]


def _audit_page(page: Page[AuditEntry]) -> AuditPageOut:
    return AuditPageOut(items=[AuditEntryOut.of(e) for e in page.items], **counts(page))


class AuditController(Controller):
    """The audit trail of marks and the security events."""

    path = "/api/v1"
    tags = TAGS

    @get(
        "/sessions/{session_id:str}/audit",
        operation_id="getSessionAudit",
        responses=READ,
    )
    @inject
    async def get_session_audit(
        self,
        actor: FromDishka[Principal],
        session_id: SessionPath,
        use_case: FromDishka[GetSessionAudit],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPageOut:
        """The session's teacher of record or an admin: every change of the session's marks,
        newest first (who, when, old → new status, and the reason given).
        """
        command = GetSessionAuditCommand(
            actor, SessionId(session_id), PageRequest(limit=limit, offset=offset)
        )
        return _audit_page(await run(use_case, command))

    @get(
        "/students/{student_id:str}/audit",
        operation_id="getStudentAudit",
        responses=READ,
    )
    @inject
    async def get_student_audit(
        self,
        actor: FromDishka[Principal],
        student_id: StudentPath,
        use_case: FromDishka[GetStudentAudit],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AuditPageOut:
        """Admin: every change of one student's marks, newest first; a teacher: only the
        changes in the sessions they are the teacher of record of.
        """
        command = GetStudentAuditCommand(
            actor, StudentId(student_id), PageRequest(limit=limit, offset=offset)
        )
        return _audit_page(await run(use_case, command))

    @get(
        "/security-events",
        operation_id="listSecurityEvents",
        responses=problems(*SIGNED_IN, *INPUT, 403),
    )
    @inject
    async def list_security_events(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ListSecurityEvents],
        kind: Annotated[
            SecurityEventKind | None,
            QueryParameter(description="only events of this kind"),
        ] = None,
        student_id: Annotated[
            str | None,
            QueryParameter(name="studentId", max_length=64, description="only this student's"),
        ] = None,
        session_id: Annotated[
            str | None,
            QueryParameter(name="sessionId", max_length=64, description="only this session's"),
        ] = None,
        since: Annotated[
            datetime | None,
            QueryParameter(
                description="only events at or after this instant (with an offset, e.g. Z)"
            ),
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SecurityEventPageOut:
        """Admin: suspicious events to review, newest first: ``device_shared`` (a second account
        on a device), ``second_device``, ``wrong_code`` and ``check_in_locked`` (repeated wrong
        codes), ``secret_rotated`` (a session's code changed after too many wrong ones),
        ``off_campus`` and ``device_reset``.
        """
        if since is not None and since.utcoffset() is None:
            raise ValidationError(
                [FieldProblem("since", "give the instant with an offset, e.g. Z")]
            )
        filters = SecurityEventFilter(
            kind=kind,
            student_id=StudentId(student_id) if student_id else None,
            session_id=SessionId(session_id) if session_id else None,
            since=since,
        )
        command = ListSecurityEventsCommand(actor, filters, PageRequest(limit=limit, offset=offset))
        page = await run(use_case, command)
        return SecurityEventPageOut(
            items=[SecurityEventOut.of(e) for e in page.items], **counts(page)
        )


ROUTES = [AuditController]
