"""Shared authorization and loading helpers of the use cases (not public API)."""

from __future__ import annotations

from ams_core.domain.errors import NotFoundError, PermissionDeniedError
from ams_core.domain.identity import Principal, Role
from ams_core.domain.ids import FacultyId, InstitutionId, StudentId
from ams_core.domain.sessions import ClassSession
from ams_core.ports.persistence import UnitOfWork


def tenant_of(actor: Principal) -> InstitutionId:
    """Return the institution the actor acts in; platform-only principals have none."""
    if actor.institution_id is None:
        raise PermissionDeniedError("this action needs a member of an institution")
    return actor.institution_id


def target_institution(actor: Principal, requested: InstitutionId | None) -> InstitutionId:
    """Resolve the institution an admin-level action targets.

    Platform operators may name any institution; everybody else acts in their own, and
    naming another one answers "not found" (its existence is never confirmed).
    """
    if actor.has(Role.PLATFORM_OPERATOR) and requested is not None:
        return requested
    own = tenant_of(actor)
    if requested is not None and requested != own:
        raise NotFoundError("institution", requested)
    return own


def require_admin(actor: Principal) -> None:
    """Refuse anybody but an institution admin (or a platform operator)."""
    if not (actor.is_admin or actor.has(Role.PLATFORM_OPERATOR)):
        raise PermissionDeniedError("only an administrator may do this")


def require_student(actor: Principal) -> StudentId:
    """Return the acting student's id, or refuse a non-student."""
    if actor.student_id is None or not actor.is_student:
        raise PermissionDeniedError("only a student may do this")
    return actor.student_id


def require_faculty(actor: Principal) -> FacultyId:
    """Return the acting teacher's id, or refuse a non-teacher."""
    if actor.faculty_id is None or not actor.is_faculty:
        raise PermissionDeniedError("only a teacher may do this")
    return actor.faculty_id


def is_teacher_of_record(actor: Principal, session: ClassSession) -> bool:
    """Whether the actor is the session's teacher of record."""
    return actor.is_faculty and actor.faculty_id == session.teacher_id


def require_teacher_of_record(actor: Principal, session: ClassSession, *, or_admin: bool) -> None:
    """Refuse anybody but the teacher of record (and, when allowed, an admin)."""
    if is_teacher_of_record(actor, session) or (or_admin and actor.is_admin):
        return
    raise PermissionDeniedError("only the teacher of record may do this for the session")


def may_view_session(uow: UnitOfWork, actor: Principal, session: ClassSession) -> bool:
    """Teacher of record, the assignment's own teacher, or an admin may see a roster."""
    if actor.is_admin or is_teacher_of_record(actor, session):
        return True
    if not actor.is_faculty:
        return False
    assignment = uow.assignments.find(session.assignment_id)
    return assignment is not None and assignment.faculty_id == actor.faculty_id
