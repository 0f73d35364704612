"""Manual marking: a teacher or admin marks or corrects attendance by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ams_core.domain.attendance import (
    AttendanceMark,
    AttendanceStatus,
    AuditEntry,
    MarkSource,
    StatusTally,
)
from ams_core.domain.errors import FieldProblem, ValidationError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import SessionId, StudentId
from ams_core.domain.sessions import SessionStatus
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_teacher_of_record, tenant_of

MAX_MARKS_PER_REQUEST = 1000
MAX_REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class MarkEntry:
    """One student's status in a manual marking request."""

    student_id: StudentId
    status: AttendanceStatus


@dataclass(frozen=True, slots=True)
class MarkAttendanceCommand:
    """Set the status of some students of a session, with an optional reason."""

    actor: Principal
    session_id: SessionId
    marks: Sequence[MarkEntry]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class MarkAttendanceResult:
    """How many marks changed, and how many already had the requested status."""

    changed: int
    unchanged: int


class MarkAttendance:
    """Mark or correct attendance by hand; every change goes to the audit trail.

    The teacher of record or an admin may mark any student of the session's section, in
    any session that is not cancelled and has begun. Correcting a completed session needs a
    reason, and keeps the session's tally (used by reports) up to date.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: MarkAttendanceCommand) -> MarkAttendanceResult:
        """Apply the marks all together, or none of them.

        Raises:
            NotFoundError: no such session in the actor's institution.
            PermissionDeniedError: the actor is neither teacher of record nor admin.
            ValidationError: no marks, duplicates, unknown students, reason missing or long.
            ConflictError: the session is cancelled or has not begun.
        """
        reason = _validate_marks(command)
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            session = uow.sessions.get(command.session_id)
            require_teacher_of_record(command.actor, session, or_admin=True)
            institution = uow.institutions.get(session.institution_id)
            session.require_markable(now, institution.tz, institution.settings)
            if session.status is SessionStatus.COMPLETED and not reason:
                raise ValidationError(
                    [FieldProblem("reason", "a reason is required to correct a completed class")]
                )
            enrolled = uow.students.ids_in_section(session.section_id)
            unknown = [
                FieldProblem(f"marks[{i}].student_id", f"{m.student_id} is not in this class")
                for i, m in enumerate(command.marks)
                if m.student_id not in enrolled
            ]
            if unknown:
                raise ValidationError(unknown)
            current = {m.student_id: m for m in uow.marks.list_for_session(session.id)}
            changed: list[AttendanceMark] = []
            entries: list[AuditEntry] = []
            for entry in command.marks:
                old = current.get(entry.student_id)
                if old is not None and old.status is entry.status:
                    continue
                mark = AttendanceMark(
                    institution_id=session.institution_id,
                    session_id=session.id,
                    student_id=entry.student_id,
                    status=entry.status,
                    marked_at=now,
                    marked_by=command.actor.email,
                    source=MarkSource.MANUAL,
                    version=old.version if old is not None else 0,
                )
                changed.append(mark)
                current[entry.student_id] = mark
                entries.append(
                    AuditEntry(
                        institution_id=session.institution_id,
                        session_id=session.id,
                        student_id=entry.student_id,
                        actor=command.actor.email,
                        at=now,
                        old_status=old.status if old is not None else None,
                        new_status=entry.status,
                        reason=reason or "",
                    )
                )
            if changed:
                uow.marks.put_many(changed)
                uow.audit.add_many(entries)
                if session.status is SessionStatus.COMPLETED:
                    tally = StatusTally.of(m.status for m in current.values())
                    uow.sessions.update(session.with_tally(tally))
            uow.commit()
        return MarkAttendanceResult(len(changed), len(command.marks) - len(changed))


def _validate_marks(command: MarkAttendanceCommand) -> str | None:
    problems: list[FieldProblem] = []
    if not command.marks:
        problems.append(FieldProblem("marks", "give at least one mark"))
    if len(command.marks) > MAX_MARKS_PER_REQUEST:
        problems.append(FieldProblem("marks", f"at most {MAX_MARKS_PER_REQUEST} marks a request"))
    seen: set[StudentId] = set()
    for i, entry in enumerate(command.marks):
        if entry.student_id in seen:
            problems.append(FieldProblem(f"marks[{i}].student_id", "appears twice"))
        seen.add(entry.student_id)
    reason = command.reason.strip() if command.reason else None
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        problems.append(FieldProblem("reason", f"at most {MAX_REASON_LENGTH} characters"))
    if problems:
        raise ValidationError(problems)
    return reason or None
