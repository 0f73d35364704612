"""Persistence ports: the unit of work and its repositories.

Semantics every adapter must honour (the contract suite in ``ams_core.testing`` checks them):

* **Tenant scope.** A unit of work is entered for one institution
  (``uow.for_institution(id)``) or for the platform (``uow.for_platform()``). Inside an
  institution scope every repository sees and writes only that institution's rows, whether
  or not a query names the institution; another institution's object is simply not found.
  Only ``institutions`` and ``outbox`` work in both scopes; ``operator_sign_ins`` works only
  in the platform scope (inside an institution it raises
  :class:`~ams_core.domain.errors.PermissionDeniedError` ``platform_required``).
* **Atomicity.** Nothing is visible to other units of work before ``commit()``; leaving the
  ``with`` block without committing (or with an exception) rolls everything back.
* **Errors.** ``get`` raises :class:`~ams_core.domain.errors.NotFoundError`; ``add`` of an
  existing key raises :class:`~ams_core.domain.errors.ConflictError`; ``update`` of a stale
  version raises :class:`~ams_core.domain.errors.ConcurrencyError` and stores the entity with
  ``version + 1``. Adapters never let a driver exception escape: an unreachable backend is
  :class:`~ams_core.domain.errors.UnavailableError`.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from ams_core.domain.accounts import (
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    PushToken,
    SignIn,
)
from ams_core.domain.attendance import AttendanceMark, AuditEntry, StatusTally
from ams_core.domain.calendar import DateRange
from ams_core.domain.cover import CoverAssignment
from ams_core.domain.ids import (
    AssignmentId,
    CoverId,
    DeviceId,
    FacultyId,
    InstitutionId,
    NotificationId,
    SectionId,
    SessionId,
    SignInId,
    SlotId,
    StudentId,
    SubjectCode,
    TermId,
)
from ams_core.domain.institution import Institution
from ams_core.domain.notifications import DeliveryReport, Notification, Recipient
from ams_core.domain.people import DeviceBinding, Faculty, Section, Student
from ams_core.domain.reports import AssignmentSummary, SessionCounts
from ams_core.domain.security import SecurityEvent, SecurityEventKind
from ams_core.domain.sessions import ClassSession
from ams_core.domain.teaching import Holiday, Subject, TeachingAssignment, Term, WeeklySlot


class InstitutionRepository(Protocol):
    """Institutions (tenants). Usable in both scopes; inside one it sees only its own."""

    @abstractmethod
    def find(self, institution_id: InstitutionId) -> Institution | None: ...

    @abstractmethod
    def get(self, institution_id: InstitutionId) -> Institution: ...

    @abstractmethod
    def add(self, institution: Institution) -> None:
        """Store a new institution; a domain already used by another one is a ConflictError."""

    @abstractmethod
    def update(self, institution: Institution) -> Institution: ...

    @abstractmethod
    def find_by_domain(self, domain: str) -> Institution | None:
        """Return the institution owning an email domain (lower-case), if any."""

    @abstractmethod
    def list(self) -> Sequence[Institution]:
        """All visible institutions, ordered by id."""


class SectionRepository(Protocol):
    """Class groups of the current institution."""

    @abstractmethod
    def find(self, section_id: SectionId) -> Section | None: ...

    @abstractmethod
    def get(self, section_id: SectionId) -> Section: ...

    @abstractmethod
    def add(self, section: Section) -> None: ...

    @abstractmethod
    def update(self, section: Section) -> Section: ...

    @abstractmethod
    def list(self) -> Sequence[Section]:
        """All sections, ordered by id."""

    @abstractmethod
    def remove(self, section_id: SectionId) -> bool:
        """Delete the section; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) students, teaching assignments or sessions
                still belong to it.
        """


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What a bulk upsert did."""

    created: int
    updated: int
    unchanged: int


class StudentRepository(Protocol):
    """Students of the current institution; email is unique within it."""

    @abstractmethod
    def find(self, student_id: StudentId) -> Student | None: ...

    @abstractmethod
    def get(self, student_id: StudentId) -> Student: ...

    @abstractmethod
    def add(self, student: Student) -> None:
        """Store a new student; a taken id or email is a ConflictError."""

    @abstractmethod
    def add_many(self, students: Iterable[Student]) -> int:
        """Store many new students at once (all or nothing); return how many."""

    @abstractmethod
    def upsert_many(self, students: Sequence[Student]) -> UpsertCounts:
        """Insert new students and update changed ones, keyed by id (all or nothing).

        A changed row gets ``version + 1``; an identical one is left alone (``unchanged``).
        The same id twice in ``students`` is a ValidationError; an email taken by another
        student is a ConflictError ``email_taken``.
        """

    @abstractmethod
    def update(self, student: Student) -> Student: ...

    @abstractmethod
    def find_by_email(self, email: str) -> Student | None: ...

    @abstractmethod
    def list(self, section_id: SectionId | None = None) -> Sequence[Student]:
        """Students (of one section when given), ordered by roll number then id."""

    @abstractmethod
    def ids_in_section(self, section_id: SectionId) -> frozenset[StudentId]: ...

    @abstractmethod
    def remove(self, student_id: StudentId) -> bool:
        """Delete the student; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) attendance marks, check-in failures, a device
                binding or push registrations still refer to them.
        """


class FacultyRepository(Protocol):
    """Teachers of the current institution; email is unique within it."""

    @abstractmethod
    def find(self, faculty_id: FacultyId) -> Faculty | None: ...

    @abstractmethod
    def get(self, faculty_id: FacultyId) -> Faculty: ...

    @abstractmethod
    def add(self, faculty: Faculty) -> None: ...

    @abstractmethod
    def update(self, faculty: Faculty) -> Faculty: ...

    @abstractmethod
    def find_by_email(self, email: str) -> Faculty | None: ...

    @abstractmethod
    def find_many(self, faculty_ids: Iterable[FacultyId]) -> Mapping[FacultyId, Faculty]:
        """The teachers among ``faculty_ids`` that exist (unknown ids are left out)."""

    @abstractmethod
    def list(self) -> Sequence[Faculty]:
        """All teachers, ordered by id."""

    @abstractmethod
    def remove(self, faculty_id: FacultyId) -> bool:
        """Delete the teacher; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) teaching assignments, sessions (as teacher of
                record), covers (as substitute) or push registrations still refer to them.
        """


class SubjectRepository(Protocol):
    """Subjects of the current institution, keyed by code."""

    @abstractmethod
    def find(self, code: SubjectCode) -> Subject | None: ...

    @abstractmethod
    def get(self, code: SubjectCode) -> Subject: ...

    @abstractmethod
    def add(self, subject: Subject) -> None: ...

    @abstractmethod
    def update(self, subject: Subject) -> Subject: ...

    @abstractmethod
    def find_many(self, codes: Iterable[SubjectCode]) -> Mapping[SubjectCode, Subject]:
        """The subjects among ``codes`` that exist (unknown codes are left out)."""

    @abstractmethod
    def list(self) -> Sequence[Subject]:
        """All subjects, ordered by code."""

    @abstractmethod
    def remove(self, code: SubjectCode) -> bool:
        """Delete the subject; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) teaching assignments or sessions still refer to it.
        """


class AssignmentRepository(Protocol):
    """Teaching assignments; (faculty, subject, section) is unique."""

    @abstractmethod
    def find(self, assignment_id: AssignmentId) -> TeachingAssignment | None: ...

    @abstractmethod
    def get(self, assignment_id: AssignmentId) -> TeachingAssignment: ...

    @abstractmethod
    def add(self, assignment: TeachingAssignment) -> None: ...

    @abstractmethod
    def update(self, assignment: TeachingAssignment) -> TeachingAssignment: ...

    @abstractmethod
    def list(
        self, faculty_id: FacultyId | None = None, section_id: SectionId | None = None
    ) -> Sequence[TeachingAssignment]:
        """Assignments, filtered by teacher and/or section, ordered by id."""

    @abstractmethod
    def remove(self, assignment_id: AssignmentId) -> bool:
        """Delete the teaching assignment; False if it does not exist.

        Raises:
            ConflictError: (code ``in_use``) weekly slots or sessions still refer to it.
        """


class SlotRepository(Protocol):
    """The weekly timetable."""

    @abstractmethod
    def find(self, slot_id: SlotId) -> WeeklySlot | None: ...

    @abstractmethod
    def get(self, slot_id: SlotId) -> WeeklySlot: ...

    @abstractmethod
    def add(self, slot: WeeklySlot) -> None: ...

    @abstractmethod
    def update(self, slot: WeeklySlot) -> WeeklySlot: ...

    @abstractmethod
    def list(self) -> Sequence[WeeklySlot]:
        """All slots, ordered by id."""

    @abstractmethod
    def remove(self, slot_id: SlotId) -> bool:
        """Delete the weekly slot; False if it does not exist.

        Sessions generated from it are history and stay (they keep the slot id as a plain
        value, and their (slot, date) key stays taken).
        """


class TermRepository(Protocol):
    """Teaching terms."""

    @abstractmethod
    def find(self, term_id: TermId) -> Term | None: ...

    @abstractmethod
    def get(self, term_id: TermId) -> Term: ...

    @abstractmethod
    def add(self, term: Term) -> None: ...

    @abstractmethod
    def update(self, term: Term) -> Term: ...

    @abstractmethod
    def list(self) -> Sequence[Term]:
        """All terms, ordered by start date."""

    @abstractmethod
    def remove(self, term_id: TermId) -> bool:
        """Delete the term; False if it does not exist (sessions never refer to terms)."""


class HolidayRepository(Protocol):
    """Institution-wide holidays, one per date."""

    @abstractmethod
    def add(self, holiday: Holiday) -> None:
        """Store a holiday; a second one on the same date is a ConflictError."""

    @abstractmethod
    def remove(self, day: date) -> bool:
        """Remove the holiday on ``day``; return whether there was one."""

    @abstractmethod
    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        """Holidays (inside ``dates`` when given), ordered by date."""


class SessionRepository(Protocol):
    """Class sessions; at most one generated session per (weekly slot, date)."""

    @abstractmethod
    def find(self, session_id: SessionId) -> ClassSession | None: ...

    @abstractmethod
    def get(self, session_id: SessionId) -> ClassSession: ...

    @abstractmethod
    def add(self, session: ClassSession) -> None: ...

    @abstractmethod
    def add_many(self, sessions: Sequence[ClassSession]) -> int:
        """Store new sessions in bulk (all or nothing); a (slot, date) taken is a ConflictError."""

    @abstractmethod
    def update(self, session: ClassSession) -> ClassSession: ...

    @abstractmethod
    def list_for_section(self, section_id: SectionId, dates: DateRange) -> Sequence[ClassSession]:
        """Sessions of a section in ``dates``, ordered by date, start and id."""

    @abstractmethod
    def list_for_student(self, student_id: StudentId, dates: DateRange) -> StudentClasses:
        """The student, their section's sessions in ``dates`` (ordered by date, start and
        id) and the student's marks in them, read together.

        Raises:
            NotFoundError: no such student in the institution.
        """

    @abstractmethod
    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        """Sessions whose teacher of record is ``faculty_id``, ordered by date, start and id."""

    @abstractmethod
    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        """Every session of the institution in ``dates``, ordered by date, start and id."""

    @abstractmethod
    def list_for_assignment(
        self, assignment_id: AssignmentId, dates: DateRange | None = None
    ) -> Sequence[ClassSession]:
        """Sessions of one assignment, ordered by date, start and id."""

    @abstractmethod
    def generated_keys(self, dates: DateRange) -> set[tuple[SlotId, date]]:
        """The (slot, date) pairs already generated in ``dates``."""

    @abstractmethod
    def list_open(self) -> Sequence[ClassSession]:
        """Sessions whose status is ``open``."""

    @abstractmethod
    def subject_counts(
        self, dates: DateRange, today: date, section_id: SectionId | None = None
    ) -> Mapping[tuple[SectionId, SubjectCode], SessionCounts]:
        """Per (section, subject) within ``dates``: completed sessions, and sessions still
        to come (scheduled or open, dated ``today`` or later).
        """

    @abstractmethod
    def assignment_summaries(
        self, assignment_ids: Iterable[AssignmentId], today: date, now: time
    ) -> Mapping[AssignmentId, AssignmentSummary]:
        """Per assignment: completed count, summed tally, last completed and next upcoming
        (scheduled or open, starting at or after ``today``/``now``) session.
        """


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Wrong codes so far: by one student in a session, and in the whole session."""

    student: int
    session: int


@dataclass(frozen=True, slots=True)
class StudentClasses:
    """A student's classes in some dates, with the student's own marks in them."""

    student: Student
    sessions: Sequence[ClassSession]
    marks: Mapping[SessionId, AttendanceMark]


@dataclass(frozen=True, slots=True)
class CheckInContext:
    """Everything a check-in decides on, read together (None or 0 where there is none)."""

    session: ClassSession | None
    student: Student | None
    binding: DeviceBinding | None
    mark: AttendanceMark | None
    failures: int


class MarkRepository(Protocol):
    """Attendance marks: at most one per (session, student)."""

    @abstractmethod
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        """The session, the student, the student's device binding, the student's mark in
        the session and their wrong-code count there, as of one moment (one read where the
        adapter can).
        """

    @abstractmethod
    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None: ...

    @abstractmethod
    def list_for_session(self, session_id: SessionId) -> Sequence[AttendanceMark]:
        """Marks of a session, ordered by student id."""

    @abstractmethod
    def list_for_sessions(self, session_ids: Iterable[SessionId]) -> Sequence[AttendanceMark]:
        """Marks of several sessions, ordered by session id then student id."""

    @abstractmethod
    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        """Store ``mark`` unless the pair already has one; return the stored mark and whether
        it was inserted. Safe under concurrency: exactly one of many racing inserts wins.
        """

    @abstractmethod
    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        """Insert the marks whose (session, student) has none yet; return those inserted.
        A mark written concurrently by someone else is kept, never overwritten.
        """

    @abstractmethod
    def put_many(self, marks: Sequence[AttendanceMark]) -> None:
        """Insert or replace marks (replacement bumps the version)."""

    @abstractmethod
    def tally(self, session_id: SessionId) -> StatusTally:
        """Counts of the marks of one session, by status."""

    @abstractmethod
    def for_student(
        self, student_id: StudentId, session_ids: Iterable[SessionId]
    ) -> Mapping[SessionId, AttendanceMark]:
        """One student's marks in the given sessions."""

    @abstractmethod
    def tallies(
        self,
        dates: DateRange,
        *,
        student_id: StudentId | None = None,
        section_id: SectionId | None = None,
    ) -> Mapping[tuple[StudentId, SubjectCode], StatusTally]:
        """Per (student, subject): counts of marks on **completed** sessions in ``dates``
        (of one student, or of the students of one section's sessions, when given).
        """


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """Some consecutive items of a longer ordered list, and how long the whole list is.

    ``total`` counts every item the read matched, not only those in ``items``; an
    ``offset`` past the end gives no items and the same ``total``.
    """

    items: tuple[T, ...]
    total: int


class AuditRepository(Protocol):
    """The append-only audit trail of attendance changes.

    Pages (``page_for_session``, ``page_for_student``) come **newest first**: the reverse of
    the order the entries were written in, which also orders entries written together
    (one ``add_many``, one ``at``). ``limit`` is at least 1 and ``offset`` at least 0.
    """

    @abstractmethod
    def add_many(self, entries: Sequence[AuditEntry]) -> None: ...

    @abstractmethod
    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        """Entries of a session in the order they were written."""

    @abstractmethod
    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        """Entries of a session, newest written first, ``limit`` of them after skipping
        ``offset``; ``total`` counts all of the session's entries.
        """

    @abstractmethod
    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        """Entries about one student across all sessions, newest written first.

        With ``teacher``, only the entries of sessions whose teacher of record is
        ``teacher`` (as the sessions are stored now); ``total`` counts the entries that
        match. A student without entries (or unknown) gives an empty slice.
        """


class DeviceBindingRepository(Protocol):
    """One device per student, one student per device."""

    @abstractmethod
    def for_student(self, student_id: StudentId) -> DeviceBinding | None: ...

    @abstractmethod
    def for_device(self, device_id: DeviceId) -> DeviceBinding | None: ...

    @abstractmethod
    def add(self, binding: DeviceBinding) -> None:
        """Bind; a student or a device already bound is a ConflictError."""

    @abstractmethod
    def remove(self, student_id: StudentId) -> bool:
        """Unbind a student's device; return whether there was one."""


class CheckInAttemptRepository(Protocol):
    """Counters of wrong check-in codes (atomic increments)."""

    @abstractmethod
    def failures(self, session_id: SessionId, student_id: StudentId) -> int: ...

    @abstractmethod
    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        """Count one more wrong code and return both counters after the increment."""

    @abstractmethod
    def reset_session(self, session_id: SessionId) -> None:
        """Reset the session-wide counter (after a secret rotation); per-student counts stay."""


@dataclass(frozen=True, slots=True)
class SecurityEventFilter:
    """Which security events to review: every field given must match (``None``: any).

    ``since`` keeps the events at or after that instant.
    """

    kind: SecurityEventKind | None = None
    student_id: StudentId | None = None
    session_id: SessionId | None = None
    since: datetime | None = None


class SecurityEventRepository(Protocol):
    """Suspicious events for review, newest ``at`` first (ties: last written first)."""

    @abstractmethod
    def add(self, event: SecurityEvent) -> None: ...

    @abstractmethod
    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        """Events at or after ``since``, newest ``at`` first (ties: last written first)."""

    @abstractmethod
    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        """Events matching ``filters`` in the order of :meth:`list`, ``limit`` of them
        (at least 1) after skipping ``offset``; ``total`` counts every match.
        """


class CoverAssignmentRepository(Protocol):
    """Substitutes booked for sessions."""

    @abstractmethod
    def add(self, cover: CoverAssignment) -> None:
        """Book a cover. A substitute already holding an overlapping cover is a ConflictError
        ``substitute_double_booked``; a session already covered is ``session_already_covered``.
        Safe under concurrency: of many racing overlapping bookings exactly one is stored.
        """

    @abstractmethod
    def find(self, cover_id: CoverId) -> CoverAssignment | None: ...

    @abstractmethod
    def for_session(self, session_id: SessionId) -> CoverAssignment | None: ...

    @abstractmethod
    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        """The substitute's covers overlapping [start, end), ordered by start."""

    @abstractmethod
    def remove(self, cover_id: CoverId) -> bool:
        """Withdraw a cover; return whether there was one."""


class SignInRepository(Protocol):
    """Signed-in sessions of the institution's people."""

    @abstractmethod
    def add(self, sign_in: SignIn) -> None: ...

    @abstractmethod
    def find(self, sign_in_id: SignInId) -> SignIn | None: ...

    @abstractmethod
    def update(self, sign_in: SignIn) -> SignIn:
        """Optimistic: a stale ``version`` raises ConcurrencyError (two refreshes raced)."""

    @abstractmethod
    def revoke_all(self, email: str, at: datetime) -> int:
        """Revoke every active session of one person; return how many were active."""

    @abstractmethod
    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        """Ids of sessions revoked at or after ``since`` (feeds the revocation cache)."""


class OperatorSignInRepository(Protocol):
    """Access tokens minted for platform operators: **platform scope only**.

    Inside an institution scope every method raises
    :class:`~ams_core.domain.errors.PermissionDeniedError` (``platform_required``): an
    institution never sees or writes operators' tokens. Emails are stored folded
    (:func:`~ams_core.domain.people.fold_email`). A sign-in is *active* at ``at`` when it is
    not revoked and ``at`` is before its ``expires_at``.
    """

    @abstractmethod
    def add(self, sign_in: OperatorSignIn) -> None:
        """Record a newly minted token; an id already recorded is a ConflictError."""

    @abstractmethod
    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None: ...

    @abstractmethod
    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        """The sign-ins active at ``at``, ordered by ``issued_at`` then id."""

    @abstractmethod
    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        """End one sign-in at ``at``; return whether it was active then (an unknown,
        revoked or expired one is left as it is).
        """

    @abstractmethod
    def revoke_all(self, at: datetime) -> int:
        """End every sign-in active at ``at``; return how many."""

    @abstractmethod
    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        """Ids of sign-ins revoked at or after ``since`` (feeds the revocation cache)."""


class PasswordCredentialRepository(Protocol):
    """Passwords given by admins, one per person (email) of the institution."""

    @abstractmethod
    def find(self, email: str) -> PasswordCredential | None: ...

    @abstractmethod
    def put(self, credential: PasswordCredential) -> PasswordCredential:
        """Insert (``version`` 0 and none stored) or update (optimistic), return stored."""

    @abstractmethod
    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        """Count one wrong password as :meth:`PasswordCredential.after_failure` does, in one
        atomic step: of N racing failures all N count, whatever the concurrency, so the
        ``policy.max_failures``-th locks the account exactly. Returns the stored credential
        (``None`` when there is none); never raises ``ConcurrencyError``.
        """

    @abstractmethod
    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        """Clear the failure count after a right password (storing ``password_hash`` when a
        re-hash is given), atomically and only if the credential is not locked at ``at``.

        Returns whether it was cleared: ``False`` when there is no credential or it is locked
        (a lock that a racing failure set after the caller read the credential included).
        """

    @abstractmethod
    def remove(self, email: str) -> bool: ...


class PushTokenRepository(Protocol):
    """Push registrations; a token belongs to whoever registered it last."""

    @abstractmethod
    def put(self, token: PushToken) -> None:
        """Store the token, replacing an earlier registration of the same token."""

    @abstractmethod
    def remove(self, token: str) -> bool: ...

    @abstractmethod
    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]: ...

    @abstractmethod
    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]: ...


@dataclass(frozen=True, slots=True)
class SentNotification:
    """A notification with what became of it (``delivered_at`` is ``None`` while pending)."""

    notification: Notification
    delivered_at: datetime | None = None
    delivered: int = 0
    failed: int = 0


class OutboxRepository(Protocol):
    """Notifications waiting for delivery, written in the transaction that causes them."""

    @abstractmethod
    def add(self, notification: Notification) -> None:
        """Queue a notification; the same idempotency key twice is stored once."""

    @abstractmethod
    def pending(self, limit: int = 100) -> Sequence[Notification]:
        """Undelivered notifications, oldest ``created_at`` first (ties: first written first)."""

    @abstractmethod
    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None: ...

    @abstractmethod
    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        """Notifications of one kind (optionally to one recipient), newest first."""


class UnitOfWork(Protocol):
    """One transaction over every repository, scoped to an institution or the platform.

    Use it as ``with uow.for_institution(iid): ...; uow.commit()``.
    """

    institutions: InstitutionRepository
    sections: SectionRepository
    students: StudentRepository
    faculty: FacultyRepository
    subjects: SubjectRepository
    assignments: AssignmentRepository
    slots: SlotRepository
    terms: TermRepository
    holidays: HolidayRepository
    sessions: SessionRepository
    marks: MarkRepository
    audit: AuditRepository
    devices: DeviceBindingRepository
    attempts: CheckInAttemptRepository
    security_events: SecurityEventRepository
    covers: CoverAssignmentRepository
    outbox: OutboxRepository
    sign_ins: SignInRepository
    operator_sign_ins: OperatorSignInRepository
    passwords: PasswordCredentialRepository
    push_tokens: PushTokenRepository

    @abstractmethod
    def for_institution(self, institution_id: InstitutionId) -> Self:
        """Scope the next transaction to one institution; returns ``self`` to enter."""

    @abstractmethod
    def for_platform(self) -> Self:
        """Scope the next transaction to the platform (institutions, outbox and operator
        sign-ins only).
        """

    @abstractmethod
    def __enter__(self) -> Self: ...

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...
