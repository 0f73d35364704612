"""Open attendance: start (or refresh) a session's check-in window and show its code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ams_core.domain.identity import Principal
from ams_core.domain.ids import SessionId
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_teacher_of_record, tenant_of

SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class OpenAttendanceCommand:
    """The teacher of record asks for the code of a session."""

    actor: Principal
    session_id: SessionId


@dataclass(frozen=True, slots=True)
class OpenAttendanceResult:
    """The code to show, and when it and the window run out.

    Only ever returned to the teacher of record.
    """

    session_id: SessionId
    code: str
    rotates_every_seconds: int
    code_valid_until: datetime
    window_opened_at: datetime
    window_closes_at: datetime


class OpenAttendance:
    """Open the check-in window, or refresh the code of a window that is still open."""

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    def __call__(self, command: OpenAttendanceCommand) -> OpenAttendanceResult:
        """Open or refresh, returning the current code.

        Raises:
            NotFoundError: no such session in the actor's institution.
            PermissionDeniedError: the actor is not the teacher of record.
            ConflictError: the session is cancelled or completed, or it is not its time.
        """
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            session = uow.sessions.get(command.session_id)
            require_teacher_of_record(command.actor, session, or_admin=False)
            institution = uow.institutions.get(session.institution_id)
            opened = session.open_attendance(
                now, institution.tz, institution.settings, self._random.secret(SECRET_BYTES)
            )
            if opened is not session:
                opened = uow.sessions.update(opened)
            uow.commit()
        window = opened.window
        assert window is not None  # noqa: S101 - open_attendance always leaves a window
        return OpenAttendanceResult(
            session_id=opened.id,
            code=window.code_at(now),
            rotates_every_seconds=window.rotation_seconds,
            code_valid_until=window.code_valid_until(now),
            window_opened_at=window.opened_at,
            window_closes_at=window.closes_at,
        )
