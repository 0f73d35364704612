"""Managing dated class sessions: list, ad hoc classes, reschedule, change venue, cancel.

Every change that moves or removes a class a section expects is announced to the section
through the outbox (kind ``session_changed``), in the same transaction as the change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, time

from ams_core.domain.calendar import DateRange
from ams_core.domain.errors import (
    ConflictError,
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import AssignmentId, FacultyId, NotificationId, SectionId, SessionId
from ams_core.domain.notifications import Notification, Recipient, RecipientKind
from ams_core.domain.scheduling import Booking, active_bookings, require_no_clash
from ams_core.domain.sessions import ClassSession, SessionStatus
from ams_core.ports.clock import Clock, RandomSource
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import (
    is_teacher_of_record,
    may_view_session,
    tenant_of,
)
from ams_core.use_cases.records.base import Page, PageRequest, require_version

SESSION_CHANGED_KIND = "session_changed"
MAX_LIST_DAYS = 92
MAX_VENUE = 100


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Which sessions to list: a date range (at most 92 days) and optional filters."""

    dates: DateRange
    section_id: SectionId | None = None
    teacher_id: FacultyId | None = None
    status: SessionStatus | None = None


@dataclass(frozen=True, slots=True)
class NewSession:
    """An ad hoc class (a make-up or extra class) for one teaching assignment."""

    assignment_id: AssignmentId
    date: date
    start: time
    end: time
    venue: str = ""


def _venue(venue: str) -> str:
    text = venue.strip()
    if len(text) > MAX_VENUE:
        raise ValidationError([FieldProblem("venue", f"must be at most {MAX_VENUE} characters")])
    return text


class SessionScheduling:
    """Dated sessions of the actor's institution.

    Admins manage every session; a teacher manages the sessions they are the teacher of
    record of and may add ad hoc classes to their own assignments; students only read
    their section's sessions.
    """

    def __init__(self, uow: UnitOfWork, clock: Clock, random: RandomSource) -> None:
        self._uow = uow
        self._clock = clock
        self._random = random

    # -- reading -----------------------------------------------------------------------
    def list(
        self, actor: Principal, query: SessionQuery, page: PageRequest | None = None
    ) -> Page[ClassSession]:
        """Sessions in the range the actor may see, ordered by date, start and id.

        Raises:
            ValidationError: a range longer than 92 days.
            PermissionDeniedError: a student asking for another section or a teacher.
        """
        if (query.dates.end - query.dates.start).days >= MAX_LIST_DAYS:
            raise ValidationError([FieldProblem("to", f"at most {MAX_LIST_DAYS} days at once")])
        with self._uow.for_institution(tenant_of(actor)) as uow:
            if actor.is_admin:
                sessions = uow.sessions.list_between(query.dates)
            elif actor.is_faculty and actor.faculty_id is not None:
                own = {a.id for a in uow.assignments.list(faculty_id=actor.faculty_id)}
                sessions = [
                    s
                    for s in uow.sessions.list_between(query.dates)
                    if s.teacher_id == actor.faculty_id or s.assignment_id in own
                ]
            elif actor.is_student and actor.student_id is not None:
                student = uow.students.get(actor.student_id)
                if query.section_id not in (None, student.section_id) or query.teacher_id:
                    raise PermissionDeniedError("a student sees only their own section's classes")
                sessions = uow.sessions.list_for_section(student.section_id, query.dates)
            else:
                raise PermissionDeniedError("only members of the institution may see classes")
            uow.commit()
        chosen = [
            s
            for s in sessions
            if query.section_id in (None, s.section_id)
            and query.teacher_id in (None, s.teacher_id)
            and query.status in (None, s.status)
        ]
        return Page.of(chosen, page or PageRequest())

    def get(self, actor: Principal, session_id: SessionId) -> ClassSession:
        """One session, for its teachers, an admin or a student of its section.

        Raises:
            NotFoundError: no such session in the actor's institution.
            PermissionDeniedError: the actor may not see it.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            session = uow.sessions.get(session_id)
            allowed = may_view_session(uow, actor, session) or (
                actor.student_id is not None
                and actor.is_student
                and uow.students.get(actor.student_id).section_id == session.section_id
            )
            uow.commit()
        if not allowed:
            raise PermissionDeniedError("you may not see this class")
        return session

    # -- changing ----------------------------------------------------------------------
    def create(self, actor: Principal, new: NewSession) -> ClassSession:
        """Schedule an ad hoc class for an assignment, taught by the assignment's teacher,
        and tell the section.

        Raises:
            NotFoundError: no such assignment.
            PermissionDeniedError: neither an admin nor the assignment's teacher.
            ValidationError: bad times, a date outside every term, a holiday or the past.
            ScheduleConflictError: the teacher, the section or the venue is booked then.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            assignment = uow.assignments.find(new.assignment_id)
            if assignment is None:
                raise NotFoundError("assignment", new.assignment_id)
            if not (
                actor.is_admin or (actor.is_faculty and actor.faculty_id == assignment.faculty_id)
            ):
                raise PermissionDeniedError(
                    "only an admin or the assignment's teacher may add classes"
                )
            session = ClassSession(
                id=SessionId(self._random.new_id()),
                institution_id=assignment.institution_id,
                assignment_id=assignment.id,
                section_id=assignment.section_id,
                subject_code=assignment.subject_code,
                date=new.date,
                start=new.start,
                end=new.end,
                teacher_id=assignment.faculty_id,
                venue=_venue(new.venue),
            )
            self._require_bookable(uow, session)
            uow.sessions.add(session)
            venue = f" in {session.venue}" if session.venue else ""
            announce_change(
                uow, self._clock, self._random, session, "added", f"an extra class{venue}"
            )
            uow.commit()
        return session

    def reschedule(
        self,
        actor: Principal,
        session_id: SessionId,
        day: date,
        start: time,
        end: time,
        venue: str | None = None,
        expected_version: int | None = None,
    ) -> ClassSession:
        """Move a scheduled class to another date or time (and venue), and tell the section.

        A class generated from a weekly slot that moves to another day becomes an ad hoc
        class (same id, no slot); the slot's class of the old day stays on record as a
        cancelled session with a new id, so generating that week again neither recreates
        the class on its old day nor, when it moved into another week, skips that week's
        own class.

        Raises:
            ConflictError: the class is open, completed, cancelled or covered by a substitute.
            ValidationError, ScheduleConflictError: as for :meth:`create`.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            session = self._load_for_change(uow, actor, session_id, expected_version)
            if session.status is not SessionStatus.SCHEDULED:
                raise ConflictError(
                    f"only a scheduled class can be moved (this one is {session.status.value})",
                    code=f"session_{session.status.value}",
                )
            if uow.covers.for_session(session.id) is not None:
                raise ConflictError(
                    "the class is covered by a substitute; cancel the cover first",
                    code="session_covered",
                )
            if not (start < end):
                raise ValidationError([FieldProblem("end", "must be after the start")])
            # a generated class moved to another day stops being that slot's class of the day
            leaves_slot = session.slot_id is not None and day != session.date
            moved = dataclasses.replace(
                session,
                date=day,
                start=start,
                end=end,
                venue=session.venue if venue is None else _venue(venue),
                slot_id=None if leaves_slot else session.slot_id,
            )
            self._require_bookable(uow, moved)
            stored = uow.sessions.update(moved)
            if leaves_slot:
                # the slot's class of that day stays on record as cancelled, so generating
                # the week again does not bring the moved class back on its old day
                uow.sessions.add(
                    dataclasses.replace(
                        session, id=SessionId(self._random.new_id()), version=0
                    ).cancel()
                )
            when = f"{day:%a %d %b} {start:%H:%M}-{end:%H:%M}"
            announce_change(
                uow, self._clock, self._random, session, "rescheduled", f"moved to {when}"
            )
            uow.commit()
        return stored

    def change_venue(
        self,
        actor: Principal,
        session_id: SessionId,
        venue: str,
        expected_version: int | None = None,
    ) -> ClassSession:
        """Move a scheduled or open class to another room, and tell the section.

        Raises:
            ConflictError: the class is completed or cancelled.
            ScheduleConflictError: the venue is booked then.
        """
        with self._uow.for_institution(tenant_of(actor)) as uow:
            session = self._load_for_change(uow, actor, session_id, expected_version)
            if session.status in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
                raise ConflictError(
                    f"the class is {session.status.value}", code=f"session_{session.status.value}"
                )
            moved = dataclasses.replace(session, venue=_venue(venue))
            others = active_bookings(uow.sessions.list_between(DateRange(moved.date, moved.date)))
            require_no_clash(Booking.of_session(moved), others)
            stored = uow.sessions.update(moved)
            announce_change(
                uow,
                self._clock,
                self._random,
                stored,
                "venue",
                f"now in {stored.venue or 'a venue to be announced'}",
            )
            uow.commit()
        return stored

    def cancel(
        self,
        actor: Principal,
        session_id: SessionId,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> ClassSession:
        """Cancel a class (marks already taken are kept), and tell the section.

        Raises:
            ConflictError: ``session_completed`` for a completed class.
        """
        note = (reason or "").strip()
        if len(note) > 500:
            raise ValidationError([FieldProblem("reason", "must be at most 500 characters")])
        with self._uow.for_institution(tenant_of(actor)) as uow:
            session = self._load_for_change(uow, actor, session_id, expected_version)
            if session.status is SessionStatus.CANCELLED:
                uow.commit()
                return session
            stored = uow.sessions.update(session.cancel())
            announce_change(
                uow,
                self._clock,
                self._random,
                stored,
                "cancelled",
                f"cancelled{': ' + note if note else ''}",
            )
            uow.commit()
        return stored

    # -- helpers -----------------------------------------------------------------------
    def _load_for_change(
        self,
        uow: UnitOfWork,
        actor: Principal,
        session_id: SessionId,
        expected_version: int | None,
    ) -> ClassSession:
        session = uow.sessions.get(session_id)
        if not (actor.is_admin or is_teacher_of_record(actor, session)):
            raise PermissionDeniedError("only the teacher of record or an admin may do this")
        require_version("session", session.version, expected_version)
        return session

    def _require_bookable(self, uow: UnitOfWork, session: ClassSession) -> None:
        """The date is a teaching day, not in the past, and nothing is double-booked."""
        institution = uow.institutions.get(session.institution_id)
        if not any(term.contains(session.date) for term in uow.terms.list()):
            raise ValidationError([FieldProblem("date", f"{session.date} is outside every term")])
        if uow.holidays.list(DateRange(session.date, session.date)):
            raise ValidationError([FieldProblem("date", f"{session.date} is a holiday")])
        if session.ends_at(institution.tz) <= self._clock.now():
            raise ValidationError([FieldProblem("date", "the class would already be over")])
        others = active_bookings(uow.sessions.list_between(DateRange(session.date, session.date)))
        require_no_clash(Booking.of_session(session), others)


def announce_change(
    uow: UnitOfWork,
    clock: Clock,
    random: RandomSource,
    session: ClassSession,
    change: str,
    what: str,
) -> Notification:
    """Queue a ``session_changed`` push to the session's section, titled with the class as
    the students knew it (subject, date and time before the change).
    """
    subject = uow.subjects.find(session.subject_code)
    label = subject.short_name if subject is not None else session.subject_code
    title = f"{label} on {session.date:%a %d %b} {session.start:%H:%M}"
    notification_id = NotificationId(random.new_id())
    notification = Notification(
        id=notification_id,
        institution_id=session.institution_id,
        kind=SESSION_CHANGED_KIND,
        title=title,
        body=f"{title}: {what}",
        recipients=(Recipient(RecipientKind.SECTION, session.section_id),),
        idempotency_key=f"{SESSION_CHANGED_KIND}:{notification_id}",
        created_at=clock.now(),
        data={"sessionId": session.id, "change": change},
    )
    uow.outbox.add(notification)
    return notification
