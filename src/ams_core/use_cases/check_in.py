"""Student check-in with the code shown in class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.attendance import AttendanceMark, AttendanceStatus, MarkSource
from ams_core.domain.errors import CheckInRefusal, CheckInRefusedError, NotFoundError
from ams_core.domain.identity import Principal
from ams_core.domain.ids import DeviceId, InstitutionId, NotificationId, SessionId
from ams_core.domain.institution import InstitutionSettings
from ams_core.domain.notifications import Notification, Recipient, RecipientKind
from ams_core.domain.security import SecurityEvent, SecurityEventKind
from ams_core.domain.sessions import ClassSession
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_student, tenant_of
from ams_core.use_cases.open_attendance import SECRET_BYTES


@dataclass(frozen=True, slots=True)
class CheckInCommand:
    """A student submits the code from the device bound to them."""

    actor: Principal
    session_id: SessionId
    code: str
    device_id: str
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class CheckInResult:
    """The student's mark; ``already_marked`` when a mark existed before this request."""

    status: AttendanceStatus
    marked_at: datetime
    already_marked: bool


class CheckIn:
    """Record a student as present (or late) when every rule of PRODUCT.md §2.4 holds.

    Rules in order: the session exists in the student's institution; the student belongs to
    its section; the request comes from the student's bound device and, when configured,
    from a campus network; the session is neither cancelled nor completed; an existing mark
    is returned unchanged (idempotent); the student is not locked out; the window is open;
    the code is the current or the previous one.
    Wrong codes are counted: at ``max_wrong_codes_per_student`` the student is locked out
    of the session, and at ``max_wrong_codes_per_session`` the session's secret rotates and
    its teacher is alerted.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: CheckInCommand) -> CheckInResult:
        """Check in, or raise the refusal.

        Raises:
            NotFoundError: no such session (or student) in the actor's institution.
            PermissionDeniedError: the actor is not a student.
            CheckInRefusedError: a rule refused the check-in; ``reason`` says which.
        """
        student_id = require_student(command.actor)
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            context = uow.marks.check_in_context(command.session_id, student_id)
            session, student, binding = context.session, context.student, context.binding
            if session is None:
                raise NotFoundError("session", command.session_id)
            if student is None:
                raise NotFoundError("student", student_id)
            institution = uow.institutions.get(session.institution_id)
            settings = institution.settings
            if student.section_id != session.section_id or not student.active:
                raise CheckInRefusedError(CheckInRefusal.NOT_IN_SECTION)
            if binding is None:
                raise CheckInRefusedError(CheckInRefusal.DEVICE_NOT_BOUND)

            def refuse(kind: SecurityEventKind, reason: CheckInRefusal) -> CheckInRefusedError:
                uow.security_events.add(self._event(command, session, kind, now))
                uow.commit()
                return CheckInRefusedError(reason)

            if binding.device_id != command.device_id:
                raise refuse(SecurityEventKind.SECOND_DEVICE, CheckInRefusal.DEVICE_MISMATCH)
            if not settings.allows_address(command.client_ip):
                raise refuse(SecurityEventKind.OFF_CAMPUS, CheckInRefusal.OFF_CAMPUS_NETWORK)
            # before the existing-mark lookup: completion marks everyone, so a student
            # checking in after it must hear "completed", not get their absence back
            session.require_check_ins_possible()
            existing = context.mark
            if existing is not None:
                return CheckInResult(existing.status, existing.marked_at, already_marked=True)
            if context.failures >= settings.max_wrong_codes_per_student:
                raise CheckInRefusedError(CheckInRefusal.LOCKED, attempts_left=0)
            try:
                status = session.check_in_status(command.code, now, institution.tz, settings)
            except CheckInRefusedError as refusal:
                if refusal.reason is CheckInRefusal.WRONG_CODE:
                    left = self._count_wrong_code(uow, command, session, settings, now)
                    uow.commit()
                    raise CheckInRefusedError(refusal.reason, attempts_left=left) from None
                raise
            mark, inserted = uow.marks.insert_if_absent(
                AttendanceMark(
                    institution_id=session.institution_id,
                    session_id=session.id,
                    student_id=student.id,
                    status=status,
                    marked_at=now,
                    marked_by=command.actor.email,
                    source=MarkSource.CHECK_IN,
                    device_id=DeviceId(command.device_id),
                )
            )
            uow.commit()
        return CheckInResult(mark.status, mark.marked_at, already_marked=not inserted)

    def _count_wrong_code(
        self,
        uow: UnitOfWork,
        command: CheckInCommand,
        session: ClassSession,
        settings: InstitutionSettings,
        now: datetime,
    ) -> int:
        """Count a wrong code, lock or rotate at the limits; return the attempts left."""
        student_id = require_student(command.actor)
        counts = uow.code_failures.record_failure(session.id, student_id)
        uow.security_events.add(self._event(command, session, SecurityEventKind.WRONG_CODE, now))
        left = max(0, settings.max_wrong_codes_per_student - counts.student)
        if left == 0:
            uow.security_events.add(
                self._event(command, session, SecurityEventKind.CHECK_IN_LOCKED, now)
            )
        if counts.session >= settings.max_wrong_codes_per_session:
            uow.sessions.update(session.with_rotated_secret(self._random.secret(SECRET_BYTES)))
            uow.code_failures.reset_session(session.id)
            uow.security_events.add(
                self._event(command, session, SecurityEventKind.SECRET_ROTATED, now)
            )
            uow.outbox.add(self._rotation_alert(session, counts.session, now))
        return left

    def _event(
        self,
        command: CheckInCommand,
        session: ClassSession,
        kind: SecurityEventKind,
        now: datetime,
    ) -> SecurityEvent:
        return SecurityEvent(
            institution_id=session.institution_id,
            kind=kind,
            at=now,
            actor=command.actor.email,
            student_id=command.actor.student_id,
            session_id=session.id,
            device_id=DeviceId(command.device_id[:200]),
            client_ip=command.client_ip,
        )

    def _rotation_alert(self, session: ClassSession, failures: int, now: datetime) -> Notification:
        return Notification(
            id=NotificationId(self._random.new_id()),
            institution_id=InstitutionId(session.institution_id),
            kind="attendance_code_rotated",
            title="Attendance code changed",
            body=(
                f"{failures} wrong codes were tried in your {session.subject_code} class; "
                "the code was changed. Show the new code to the class."
            ),
            recipients=(Recipient(RecipientKind.FACULTY, session.teacher_id),),
            idempotency_key=f"code-rotated:{session.id}:{session.version}",
            created_at=now,
            data={"sessionId": session.id},
        )
