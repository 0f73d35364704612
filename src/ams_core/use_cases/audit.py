"""Reading the audit trail of attendance changes, and reviewing suspicious events.

Every manual change of a mark is an :class:`~ams_core.domain.attendance.AuditEntry`, and so
is every completion that marked students absent (one entry for the class, without a
student: in the session's trail, in no student's). Every suspicious check-in or device
event is a :class:`~ams_core.domain.security.SecurityEvent`. These read-side use cases page
through them, newest first. Students never read either; another institution's session or
student is not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ams_core.domain.attendance import AuditEntry
from ams_core.domain.errors import FieldProblem, PermissionDeniedError, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import SessionId, StudentId
from ams_core.domain.security import SecurityEvent
from ams_core.ports.persistence import SecurityEventFilter, UnitOfWork
from ams_core.use_cases._access import (
    require_admin,
    require_faculty,
    require_teacher_of_record,
    tenant_of,
)
from ams_core.use_cases.records.base import Page, PageRequest

#: The largest page of audit entries or security events one call returns.
MAX_REVIEW_PAGE_SIZE = 200


def _review_page(page: PageRequest) -> PageRequest:
    if page.limit > MAX_REVIEW_PAGE_SIZE:
        raise ValidationError([FieldProblem("limit", f"must be 1 to {MAX_REVIEW_PAGE_SIZE}")])
    return page


def _require_staff(actor: Principal) -> None:
    """Refuse students (and anybody else who neither teaches nor administers)."""
    if not (actor.is_admin or actor.is_faculty):
        raise PermissionDeniedError("only staff may read the audit trail")


@dataclass(frozen=True, slots=True)
class GetSessionAuditCommand:
    """The audit trail of one session, one page of it."""

    actor: Principal
    session_id: SessionId
    page: PageRequest = field(default_factory=PageRequest)


class GetSessionAudit:
    """The changes of a session's marks, newest first: who, when, old → new and why.

    For the session's teacher of record and the institution's admins; another teacher
    (even one of the same class) and every student are refused.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetSessionAuditCommand) -> Page[AuditEntry]:
        """Return one page of the trail, newest written first, with the trail's length.

        Raises:
            PermissionDeniedError: a student, or a teacher who is not the teacher of record.
            NotFoundError: no such session in the actor's institution.
            ValidationError: a page larger than :data:`MAX_REVIEW_PAGE_SIZE`.
        """
        actor, page = command.actor, _review_page(command.page)
        _require_staff(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            session = uow.sessions.get(command.session_id)
            require_teacher_of_record(actor, session, or_admin=True)
            found = uow.audit.page_for_session(session.id, page.limit, page.offset)
        return Page(found.items, found.total, page.limit, page.offset)


@dataclass(frozen=True, slots=True)
class GetStudentAuditCommand:
    """The audit trail of one student across sessions, one page of it."""

    actor: Principal
    student_id: StudentId
    page: PageRequest = field(default_factory=PageRequest)


class GetStudentAudit:
    """The changes of one student's marks in every session, newest first.

    Admins see every entry; a teacher sees only the entries of the sessions they are the
    teacher of record of now (possibly none); students are refused.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: GetStudentAuditCommand) -> Page[AuditEntry]:
        """Return one page of the student's trail (as the actor may see it) and its length.

        Raises:
            PermissionDeniedError: the actor is neither an admin nor a teacher.
            NotFoundError: no such student in the actor's institution.
            ValidationError: a page larger than :data:`MAX_REVIEW_PAGE_SIZE`.
        """
        actor, page = command.actor, _review_page(command.page)
        _require_staff(actor)
        teacher = None if actor.is_admin else require_faculty(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            student = uow.students.get(command.student_id)
            found = uow.audit.page_for_student(student.id, page.limit, page.offset, teacher)
        return Page(found.items, found.total, page.limit, page.offset)


@dataclass(frozen=True, slots=True)
class ListSecurityEventsCommand:
    """One page of the institution's security events matching ``filters``."""

    actor: Principal
    filters: SecurityEventFilter = field(default_factory=SecurityEventFilter)
    page: PageRequest = field(default_factory=PageRequest)


class ListSecurityEvents:
    """Admins review suspicious events, newest first: a second device or a shared one, wrong
    codes and lock-outs, code rotations, check-ins from off campus and device resets.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __call__(self, command: ListSecurityEventsCommand) -> Page[SecurityEvent]:
        """Return one page of the matching events, newest first, and how many match.

        Raises:
            PermissionDeniedError: the actor is not an admin of an institution.
            ValidationError: a page larger than :data:`MAX_REVIEW_PAGE_SIZE`.
        """
        actor, page = command.actor, _review_page(command.page)
        require_admin(actor)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            found = uow.security_events.page(command.filters, page.limit, page.offset)
        return Page(found.items, found.total, page.limit, page.offset)
