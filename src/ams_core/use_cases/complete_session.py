"""Completing a session by hand, and the periodic job that completes sessions left open."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from ams_core.domain.attendance import (
    AttendanceStatus,
    AuditEntry,
    MarkSource,
    StatusTally,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import InstitutionId, SessionId
from ams_core.domain.institution import Institution
from ams_core.domain.sessions import ClassSession, SessionStatus, validate_topic
from ams_core.ports.clock import Clock
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import require_teacher_of_record, tenant_of

SYSTEM_ACTOR = "system:auto-complete"


@dataclass(frozen=True, slots=True)
class CompleteSessionCommand:
    """Close a session: unmarked students become absent; the topic is stored."""

    actor: Principal
    session_id: SessionId
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class CompleteSessionResult:
    """The final tally, and how many students were marked absent by this completion."""

    session_id: SessionId
    tally: StatusTally
    marked_absent: int
    already_completed: bool


def complete_session(
    uow: UnitOfWork,
    institution: Institution,
    session: ClassSession,
    actor: str,
    topic: str | None,
    now: datetime,
) -> CompleteSessionResult:
    """Complete ``session`` inside an open unit of work (shared by manual and automatic)."""
    if session.status is SessionStatus.COMPLETED:
        if topic is not None and topic != session.topic:
            uow.sessions.update(dataclasses.replace(session, topic=topic))
        return CompleteSessionResult(session.id, session.tally, 0, already_completed=True)
    # completed first, its final tally last: the absences below are then stored as marks of
    # a completed session from the start, instead of being inserted and then updated
    completed = uow.sessions.update(session.complete(now, institution.tz, topic, session.tally))
    filled = uow.marks.add_for_unmarked(
        session.id,
        AttendanceStatus.ABSENT,
        marked_at=now,
        marked_by=actor,
        source=MarkSource.COMPLETION,
    )
    if filled.added:
        # one entry for the completion, not one per absence: each absent mark already says
        # who wrote it, when and why (its source), and 75 audit rows were a fifth of the
        # time a 150-student completion took (ADR 0020)
        entry = AuditEntry.of_completion(
            session.institution_id, session.id, actor, now, filled.added
        )
        uow.audit.add_many([entry])
    uow.sessions.update(dataclasses.replace(completed, tally=filled.tally))
    return CompleteSessionResult(session.id, filled.tally, filled.added, already_completed=False)


class CompleteSession:
    """Complete a session (teacher of record or admin). Completing twice changes nothing
    but the topic.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: CompleteSessionCommand) -> CompleteSessionResult:
        """Complete the session.

        Raises:
            NotFoundError: no such session in the actor's institution.
            PermissionDeniedError: the actor is neither teacher of record nor admin.
            ValidationError: the topic is too long.
            ConflictError: the session is cancelled or has not started.
        """
        topic = validate_topic(command.topic)
        now = self._clock.now()
        with self._uow.for_institution(tenant_of(command.actor)) as uow:
            session = uow.sessions.get(command.session_id)
            require_teacher_of_record(command.actor, session, or_admin=True)
            institution = uow.institutions.get(session.institution_id)
            result = complete_session(uow, institution, session, command.actor.email, topic, now)
            uow.commit()
        return result


@dataclass(frozen=True, slots=True)
class CompleteOverdueSessionsCommand:
    """Complete the open sessions that ended more than the grace period ago.

    ``institution_id`` limits the sweep to one institution; ``None`` sweeps all of them.
    """

    institution_id: InstitutionId | None = None


@dataclass(frozen=True, slots=True)
class CompleteOverdueSessionsResult:
    """How many sessions were completed, and how many students marked absent."""

    completed: int
    marked_absent: int


class CompleteOverdueSessions:
    """The periodic job that closes sessions teachers left open (one transaction each)."""

    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def __call__(self, command: CompleteOverdueSessionsCommand) -> CompleteOverdueSessionsResult:
        """Sweep and complete."""
        now = self._clock.now()
        if command.institution_id is None:
            with self._uow.for_platform() as uow:
                institution_ids = [i.id for i in uow.institutions.list()]
        else:
            institution_ids = [command.institution_id]
        completed = absent = 0
        for institution_id in institution_ids:
            with self._uow.for_institution(institution_id) as uow:
                institution = uow.institutions.get(institution_id)
                grace = timedelta(minutes=institution.settings.auto_complete_grace_minutes)
                overdue = [
                    s.id
                    for s in uow.sessions.list_open()
                    if s.ends_at(institution.tz) + grace <= now
                ]
            for session_id in overdue:
                with self._uow.for_institution(institution_id) as uow:
                    session = uow.sessions.get(session_id)
                    if session.status is not SessionStatus.OPEN:
                        continue
                    result = complete_session(uow, institution, session, SYSTEM_ACTOR, None, now)
                    uow.commit()
                completed += 1
                absent += result.marked_absent
        return CompleteOverdueSessionsResult(completed, absent)
