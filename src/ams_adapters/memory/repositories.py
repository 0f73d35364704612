"""Repositories of the memory adapter (stdlib only)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ams_adapters.memory.store import MemoryStore, OutboxEntry, TenantData
from ams_adapters.memory.transaction import UndoLog
from ams_core.domain import (
    AssignmentId,
    AssignmentSummary,
    AttendanceMark,
    AuditEntry,
    ClassSession,
    ConcurrencyError,
    ConflictError,
    CoverAssignment,
    CoverId,
    DateRange,
    DeliveryReport,
    DeviceBinding,
    DeviceId,
    Faculty,
    FacultyId,
    Holiday,
    Institution,
    InstitutionId,
    NotFoundError,
    Notification,
    NotificationId,
    OperatorSignIn,
    PasswordCredential,
    PasswordPolicy,
    PermissionDeniedError,
    PushToken,
    Recipient,
    Section,
    SectionId,
    SecurityEvent,
    SessionCounts,
    SessionId,
    SessionStatus,
    SignIn,
    SignInId,
    SlotId,
    StatusTally,
    Student,
    StudentId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.domain.people import fold_email, require_distinct_ids
from ams_core.ports import (
    AssignmentRepository,
    AuditRepository,
    CheckInAttemptRepository,
    CheckInContext,
    CoverAssignmentRepository,
    DeviceBindingRepository,
    FacultyRepository,
    FailureCounts,
    HolidayRepository,
    InstitutionRepository,
    MarkRepository,
    OperatorSignInRepository,
    OutboxRepository,
    PasswordCredentialRepository,
    PushTokenRepository,
    SectionRepository,
    SecurityEventFilter,
    SecurityEventRepository,
    SentNotification,
    SessionRepository,
    SignInRepository,
    Slice,
    SlotRepository,
    StudentClasses,
    StudentRepository,
    SubjectRepository,
    TermRepository,
    UpsertCounts,
)

if TYPE_CHECKING:
    from ams_adapters.memory.persistence import InMemoryUnitOfWork

K = TypeVar("K")
E = TypeVar("E")

_UPCOMING = (SessionStatus.SCHEDULED, SessionStatus.OPEN)


def _session_order(session: ClassSession) -> tuple[date, time, str]:
    return (session.date, session.start, session.id)


class _Bound:
    """Base of every repository: reaches the store through its unit of work."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _store(self) -> MemoryStore:
        return self._uow.store

    @property
    def _log(self) -> UndoLog:
        return self._uow.active_log()

    @property
    def _data(self) -> TenantData:
        return self._store.tenant(self._uow.tenant())

    def _require(self, table: Mapping[Any, Any], key: object, kind: str) -> None:
        """Refuse a reference to a row that does not exist (the analogue of a foreign key)."""
        if key not in table:
            raise NotFoundError(kind, key)

    def _own(self, entity: Any) -> None:
        """Refuse to write another institution's row (the memory analogue of RLS)."""
        if entity.institution_id != self._uow.tenant():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )


def _in_use(what: str, key: object, reason: str) -> ConflictError:
    return ConflictError(f"{what} {key} {reason}", code="in_use")


class _Keyed(_Bound, Generic[K, E]):
    """find/get/add/update over one dict, with version checks and optional unique keys."""

    kind = "object"

    def _table(self) -> dict[K, E]:
        raise NotImplementedError

    def _key(self, entity: E) -> K:
        raise NotImplementedError

    def _check_unique(self, new: E, old: E | None) -> None:
        """Raise ConflictError when ``new`` takes a unique value held by another row."""

    def _reindex(self, old: E | None, new: E) -> None:
        """Keep secondary indexes in step."""

    def _check_references(self, entity: E) -> None:
        """Raise NotFoundError when ``entity`` points at a missing row (like a foreign key)."""

    def _check_unused(self, entity: E) -> None:
        """Raise ConflictError ``in_use`` when other rows refer to ``entity`` (like a
        foreign key with ON DELETE RESTRICT)."""

    def _unindex(self, old: E) -> None:
        """Take a removed row out of the secondary indexes."""

    def find(self, key: K) -> E | None:
        return self._table().get(key)

    def get(self, key: K) -> E:
        entity = self.find(key)
        if entity is None:
            raise NotFoundError(self.kind, key)
        return entity

    def add(self, entity: E) -> None:
        self._own(entity)
        table = self._table()
        key = self._key(entity)
        if key in table:
            raise ConflictError(f"{self.kind} {key} already exists", code=f"{self.kind}_exists")
        self._check_references(entity)
        self._check_unique(entity, None)
        self._log.set(table, key, entity)
        self._reindex(None, entity)

    def update(self, entity: E) -> E:
        self._own(entity)
        table = self._table()
        key = self._key(entity)
        old = table.get(key)
        if old is None:
            raise NotFoundError(self.kind, key)
        if getattr(old, "version") != getattr(entity, "version"):  # noqa: B009
            raise ConcurrencyError(f"{self.kind} {key} was changed by someone else; reload it")
        new: E = dataclasses.replace(entity, version=getattr(entity, "version") + 1)  # type: ignore[type-var]  # noqa: B009
        self._check_references(new)
        self._check_unique(new, old)
        self._log.set(table, key, new)
        self._reindex(old, new)
        return new

    def _remove(self, key: K) -> bool:
        """Delete the row under ``key`` (undoably); False if there is none."""
        table = self._table()
        old = table.get(key)
        if old is None:
            return False
        self._check_unused(old)
        self._log.delete(table, key)
        self._unindex(old)
        return True

    def _index_move(
        self,
        index: dict[Any, set[Any]],
        old_key: object,
        new_key: object,
        member: object,
    ) -> None:
        if old_key == new_key:
            return
        if old_key is not None and old_key in index:
            self._log.discard(index[old_key], member)
        if new_key is not None:
            self._log.add(index.setdefault(new_key, set()), member)


class InMemoryInstitutionRepository(_Keyed[InstitutionId, Institution], InstitutionRepository):
    kind = "institution"

    def _table(self) -> dict[InstitutionId, Institution]:
        return self._store.institutions

    def _key(self, entity: Institution) -> InstitutionId:
        return entity.id

    def _own(self, entity: Any) -> None:
        if not self._uow.is_platform() and entity.id != self._uow.tenant():
            raise PermissionDeniedError(
                "the row belongs to another institution", code="tenant_mismatch"
            )

    def _visible(self, institution: Institution | None) -> Institution | None:
        if institution is None or self._uow.is_platform():
            return institution
        return institution if institution.id == self._uow.tenant() else None

    def find(self, institution_id: InstitutionId) -> Institution | None:
        self._uow.active_log()
        return self._visible(self._store.institutions.get(institution_id))

    def _check_unique(self, new: Institution, old: Institution | None) -> None:
        for domain in new.email_domains:
            holder = self._store.domains.get(domain)
            if holder is not None and holder != new.id:
                raise ConflictError(
                    f"the domain {domain} already belongs to another institution",
                    code="domain_taken",
                )

    def _reindex(self, old: Institution | None, new: Institution) -> None:
        for domain in old.email_domains if old else ():
            if domain not in new.email_domains:
                self._log.delete(self._store.domains, domain)
        for domain in new.email_domains:
            self._log.set(self._store.domains, domain, new.id)

    def find_by_domain(self, domain: str) -> Institution | None:
        self._uow.active_log()
        institution_id = self._store.domains.get(domain.lower())
        return None if institution_id is None else self.find(institution_id)

    def list(self) -> Sequence[Institution]:
        self._uow.active_log()
        found = (self._visible(i) for i in self._store.institutions.values())
        return sorted((i for i in found if i is not None), key=lambda i: i.id)


class InMemorySectionRepository(_Keyed[SectionId, Section], SectionRepository):
    kind = "section"

    def _table(self) -> dict[SectionId, Section]:
        return self._data.sections

    def _key(self, entity: Section) -> SectionId:
        return entity.id

    def list(self) -> Sequence[Section]:
        return sorted(self._data.sections.values(), key=lambda s: s.id)

    def remove(self, section_id: SectionId) -> bool:
        return self._remove(section_id)

    def _check_unused(self, entity: Section) -> None:
        data = self._data
        if data.students_by_section.get(entity.id):
            raise _in_use("section", entity.id, "still has students")
        if any(a.section_id == entity.id for a in data.assignments.values()):
            raise _in_use("section", entity.id, "still has teaching assignments")
        if data.sessions_by_section.get(entity.id):
            raise _in_use("section", entity.id, "has sessions")


class InMemoryStudentRepository(_Keyed[StudentId, Student], StudentRepository):
    kind = "student"

    def _table(self) -> dict[StudentId, Student]:
        return self._data.students

    def _key(self, entity: Student) -> StudentId:
        return entity.id

    def _check_references(self, entity: Student) -> None:
        self._require(self._data.sections, entity.section_id, "section")

    def _check_unique(self, new: Student, old: Student | None) -> None:
        holder = self._data.student_emails.get(new.email)
        if holder is not None and holder != new.id:
            raise ConflictError(f"the email {new.email} is taken", code="email_taken")

    def _reindex(self, old: Student | None, new: Student) -> None:
        data = self._data
        if old is not None and old.email != new.email:
            self._log.delete(data.student_emails, old.email)
        self._log.set(data.student_emails, new.email, new.id)
        self._index_move(
            data.students_by_section, old.section_id if old else None, new.section_id, new.id
        )

    def add_many(self, students: Iterable[Student]) -> int:
        count = 0
        with self._log.atomic():
            for student in students:
                self.add(student)
                count += 1
        return count

    def upsert_many(self, students: Sequence[Student]) -> UpsertCounts:
        require_distinct_ids(students)
        created = updated = 0
        with self._log.atomic():
            for student in students:
                stored = self._data.students.get(student.id)
                if stored is None:
                    self.add(dataclasses.replace(student, version=0))
                    created += 1
                elif dataclasses.replace(student, version=stored.version) != stored:
                    self.update(dataclasses.replace(student, version=stored.version))
                    updated += 1
        return UpsertCounts(created, updated, len(students) - created - updated)

    def find_by_email(self, email: str) -> Student | None:
        student_id = self._data.student_emails.get(fold_email(email))
        return None if student_id is None else self._data.students.get(student_id)

    def list(self, section_id: SectionId | None = None) -> Sequence[Student]:
        data = self._data
        if section_id is None:
            students: Iterable[Student] = data.students.values()
        else:
            students = (data.students[i] for i in data.students_by_section.get(section_id, ()))
        return sorted(
            students,
            key=lambda s: (s.roll_number is None, s.roll_number or 0, s.id),
        )

    def ids_in_section(self, section_id: SectionId) -> frozenset[StudentId]:
        return frozenset(self._data.students_by_section.get(section_id, ()))

    def remove(self, student_id: StudentId) -> bool:
        return self._remove(student_id)

    def _check_unused(self, entity: Student) -> None:
        data, sid = self._data, entity.id
        if data.marks_by_student.get(sid):
            raise _in_use("student", sid, "has attendance history")
        if any(student == sid for _, student in data.attempts):
            raise _in_use("student", sid, "has check-in failures on record")
        if sid in data.bindings:
            raise _in_use("student", sid, "has a bound device")
        if data.push_tokens_by_student.get(sid):
            raise _in_use("student", sid, "has push notification registrations")

    def _unindex(self, old: Student) -> None:
        data = self._data
        self._log.delete(data.student_emails, old.email)
        self._index_move(data.students_by_section, old.section_id, None, old.id)


class InMemoryFacultyRepository(_Keyed[FacultyId, Faculty], FacultyRepository):
    kind = "faculty"

    def _table(self) -> dict[FacultyId, Faculty]:
        return self._data.faculty

    def _key(self, entity: Faculty) -> FacultyId:
        return entity.id

    def _check_unique(self, new: Faculty, old: Faculty | None) -> None:
        holder = self._data.faculty_emails.get(new.email)
        if holder is not None and holder != new.id:
            raise ConflictError(f"the email {new.email} is taken", code="email_taken")

    def _reindex(self, old: Faculty | None, new: Faculty) -> None:
        if old is not None and old.email != new.email:
            self._log.delete(self._data.faculty_emails, old.email)
        self._log.set(self._data.faculty_emails, new.email, new.id)

    def find_by_email(self, email: str) -> Faculty | None:
        faculty_id = self._data.faculty_emails.get(fold_email(email))
        return None if faculty_id is None else self._data.faculty.get(faculty_id)

    def find_many(self, faculty_ids: Iterable[FacultyId]) -> Mapping[FacultyId, Faculty]:
        table = self._data.faculty
        return {i: table[i] for i in faculty_ids if i in table}

    def list(self) -> Sequence[Faculty]:
        return sorted(self._data.faculty.values(), key=lambda f: f.id)

    def remove(self, faculty_id: FacultyId) -> bool:
        return self._remove(faculty_id)

    def _check_unused(self, entity: Faculty) -> None:
        data, fid = self._data, entity.id
        if any(a.faculty_id == fid for a in data.assignments.values()):
            raise _in_use("teacher", fid, "still has teaching assignments")
        if data.sessions_by_teacher.get(fid):
            raise _in_use("teacher", fid, "is the teacher of record of sessions")
        if data.covers_by_substitute.get(fid):
            raise _in_use("teacher", fid, "covers classes")
        if data.push_tokens_by_faculty.get(fid):
            raise _in_use("teacher", fid, "has push notification registrations")

    def _unindex(self, old: Faculty) -> None:
        self._log.delete(self._data.faculty_emails, old.email)


class InMemorySubjectRepository(_Keyed[SubjectCode, Subject], SubjectRepository):
    kind = "subject"

    def _table(self) -> dict[SubjectCode, Subject]:
        return self._data.subjects

    def _key(self, entity: Subject) -> SubjectCode:
        return entity.code

    def find_many(self, codes: Iterable[SubjectCode]) -> Mapping[SubjectCode, Subject]:
        table = self._data.subjects
        return {c: table[c] for c in codes if c in table}

    def list(self) -> Sequence[Subject]:
        return sorted(self._data.subjects.values(), key=lambda s: s.code)

    def remove(self, code: SubjectCode) -> bool:
        return self._remove(code)

    def _check_unused(self, entity: Subject) -> None:
        data, code = self._data, entity.code
        if any(a.subject_code == code for a in data.assignments.values()):
            raise _in_use("subject", code, "is still taught")
        if any(s.subject_code == code for s in data.sessions.values()):
            raise _in_use("subject", code, "has sessions")


class InMemoryAssignmentRepository(_Keyed[AssignmentId, TeachingAssignment], AssignmentRepository):
    kind = "assignment"

    def _table(self) -> dict[AssignmentId, TeachingAssignment]:
        return self._data.assignments

    def _key(self, entity: TeachingAssignment) -> AssignmentId:
        return entity.id

    @staticmethod
    def _natural(a: TeachingAssignment) -> tuple[FacultyId, SubjectCode, SectionId]:
        return (a.faculty_id, a.subject_code, a.section_id)

    def _check_references(self, entity: TeachingAssignment) -> None:
        data = self._data
        self._require(data.faculty, entity.faculty_id, "faculty")
        self._require(data.subjects, entity.subject_code, "subject")
        self._require(data.sections, entity.section_id, "section")

    def _check_unique(self, new: TeachingAssignment, old: TeachingAssignment | None) -> None:
        holder = self._data.assignment_keys.get(self._natural(new))
        if holder is not None and holder != new.id:
            raise ConflictError(
                "this teacher already teaches this subject to this section",
                code="assignment_exists",
            )

    def _reindex(self, old: TeachingAssignment | None, new: TeachingAssignment) -> None:
        if old is not None:
            self._log.delete(self._data.assignment_keys, self._natural(old))
        self._log.set(self._data.assignment_keys, self._natural(new), new.id)

    def list(
        self, faculty_id: FacultyId | None = None, section_id: SectionId | None = None
    ) -> Sequence[TeachingAssignment]:
        return sorted(
            (
                a
                for a in self._data.assignments.values()
                if (faculty_id is None or a.faculty_id == faculty_id)
                and (section_id is None or a.section_id == section_id)
            ),
            key=lambda a: a.id,
        )

    def remove(self, assignment_id: AssignmentId) -> bool:
        return self._remove(assignment_id)

    def _check_unused(self, entity: TeachingAssignment) -> None:
        data, aid = self._data, entity.id
        if any(s.assignment_id == aid for s in data.slots.values()):
            raise _in_use("assignment", aid, "still has weekly slots")
        if data.sessions_by_assignment.get(aid):
            raise _in_use("assignment", aid, "has sessions")

    def _unindex(self, old: TeachingAssignment) -> None:
        self._log.delete(self._data.assignment_keys, self._natural(old))


class InMemorySlotRepository(_Keyed[SlotId, WeeklySlot], SlotRepository):
    kind = "slot"

    def _table(self) -> dict[SlotId, WeeklySlot]:
        return self._data.slots

    def _key(self, entity: WeeklySlot) -> SlotId:
        return entity.id

    def _check_references(self, entity: WeeklySlot) -> None:
        self._require(self._data.assignments, entity.assignment_id, "assignment")

    def list(self) -> Sequence[WeeklySlot]:
        return sorted(self._data.slots.values(), key=lambda s: s.id)

    def remove(self, slot_id: SlotId) -> bool:
        # the sessions generated from the slot keep its id, and their (slot, date) keys
        return self._remove(slot_id)


class InMemoryTermRepository(_Keyed[TermId, Term], TermRepository):
    kind = "term"

    def _table(self) -> dict[TermId, Term]:
        return self._data.terms

    def _key(self, entity: Term) -> TermId:
        return entity.id

    def list(self) -> Sequence[Term]:
        return sorted(self._data.terms.values(), key=lambda t: (t.start, t.id))

    def remove(self, term_id: TermId) -> bool:
        return self._remove(term_id)


class InMemoryHolidayRepository(_Bound, HolidayRepository):
    def add(self, holiday: Holiday) -> None:
        self._own(holiday)
        if holiday.date in self._data.holidays:
            raise ConflictError(f"{holiday.date} is already a holiday", code="holiday_exists")
        self._log.set(self._data.holidays, holiday.date, holiday)

    def remove(self, day: date) -> bool:
        present = day in self._data.holidays
        self._log.delete(self._data.holidays, day)
        return present

    def list(self, dates: DateRange | None = None) -> Sequence[Holiday]:
        return sorted(
            (h for d, h in self._data.holidays.items() if dates is None or d in dates),
            key=lambda h: h.date,
        )


class InMemorySessionRepository(_Keyed[SessionId, ClassSession], SessionRepository):
    kind = "session"

    def _table(self) -> dict[SessionId, ClassSession]:
        return self._data.sessions

    def _key(self, entity: ClassSession) -> SessionId:
        return entity.id

    def _check_references(self, entity: ClassSession) -> None:
        data = self._data
        self._require(data.assignments, entity.assignment_id, "assignment")
        self._require(data.sections, entity.section_id, "section")
        self._require(data.faculty, entity.teacher_id, "faculty")

    def _check_unique(self, new: ClassSession, old: ClassSession | None) -> None:
        if new.slot_id is None:
            return
        holder = self._data.session_keys.get((new.slot_id, new.date))
        if holder is not None and holder != new.id:
            raise ConflictError(
                f"slot {new.slot_id} already has a session on {new.date}",
                code="session_exists",
            )

    def _reindex(self, old: ClassSession | None, new: ClassSession) -> None:
        data, log = self._data, self._log
        old_key = (old.slot_id, old.date) if old and old.slot_id else None
        new_key = (new.slot_id, new.date) if new.slot_id else None
        if old_key != new_key:
            if old_key is not None:
                log.delete(data.session_keys, old_key)
            if new_key is not None:
                log.set(data.session_keys, new_key, new.id)
        self._index_move(
            data.sessions_by_section, old.section_id if old else None, new.section_id, new.id
        )
        self._index_move(
            data.sessions_by_teacher, old.teacher_id if old else None, new.teacher_id, new.id
        )
        self._index_move(
            data.sessions_by_assignment,
            old.assignment_id if old else None,
            new.assignment_id,
            new.id,
        )
        if new.status is SessionStatus.OPEN:
            log.add(data.open_sessions, new.id)
        else:
            log.discard(data.open_sessions, new.id)

    def add_many(self, sessions: Sequence[ClassSession]) -> int:
        with self._log.atomic():
            for session in sessions:
                self.add(session)
        return len(sessions)

    def _select(
        self, ids: Iterable[SessionId], keep: Callable[[ClassSession], bool]
    ) -> list[ClassSession]:
        table = self._data.sessions
        return sorted((s for s in map(table.__getitem__, ids) if keep(s)), key=_session_order)

    def list_for_section(self, section_id: SectionId, dates: DateRange) -> Sequence[ClassSession]:
        ids = self._data.sessions_by_section.get(section_id, ())
        return self._select(ids, lambda s: s.date in dates)

    def list_for_student(self, student_id: StudentId, dates: DateRange) -> StudentClasses:
        data = self._data
        student = data.students.get(student_id)
        if student is None:
            raise NotFoundError("student", student_id)
        sessions = self.list_for_section(student.section_id, dates)
        marks = {
            s.id: data.marks[(s.id, student_id)]
            for s in sessions
            if (s.id, student_id) in data.marks
        }
        return StudentClasses(student, sessions, marks)

    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        ids = self._data.sessions_by_teacher.get(faculty_id, ())
        return self._select(ids, lambda s: s.date in dates)

    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        return self._select(self._data.sessions, lambda s: s.date in dates)

    def list_for_assignment(
        self, assignment_id: AssignmentId, dates: DateRange | None = None
    ) -> Sequence[ClassSession]:
        ids = self._data.sessions_by_assignment.get(assignment_id, ())
        return self._select(ids, lambda s: dates is None or s.date in dates)

    def generated_keys(self, dates: DateRange) -> set[tuple[SlotId, date]]:
        return {key for key in self._data.session_keys if key[1] in dates}

    def list_open(self) -> Sequence[ClassSession]:
        return self._select(self._data.open_sessions, lambda s: True)

    def subject_counts(
        self, dates: DateRange, today: date, section_id: SectionId | None = None
    ) -> Mapping[tuple[SectionId, SubjectCode], SessionCounts]:
        data = self._data
        if section_id is None:
            sessions: Iterable[ClassSession] = data.sessions.values()
        else:
            sessions = map(data.sessions.__getitem__, data.sessions_by_section.get(section_id, ()))
        held: dict[tuple[SectionId, SubjectCode], int] = {}
        remaining: dict[tuple[SectionId, SubjectCode], int] = {}
        for s in sessions:
            if s.date not in dates:
                continue
            key = (s.section_id, s.subject_code)
            if s.status is SessionStatus.COMPLETED:
                held[key] = held.get(key, 0) + 1
            elif s.status in _UPCOMING and s.date >= today:
                remaining[key] = remaining.get(key, 0) + 1
        return {
            key: SessionCounts(held.get(key, 0), remaining.get(key, 0))
            for key in held.keys() | remaining.keys()
        }

    def assignment_summaries(
        self, assignment_ids: Iterable[AssignmentId], today: date, now: time
    ) -> Mapping[AssignmentId, AssignmentSummary]:
        data = self._data
        result: dict[AssignmentId, AssignmentSummary] = {}
        for assignment_id in assignment_ids:
            held = 0
            tally = StatusTally()
            last: ClassSession | None = None
            upcoming: ClassSession | None = None
            for session_id in data.sessions_by_assignment.get(assignment_id, ()):
                s = data.sessions[session_id]
                if s.status is SessionStatus.COMPLETED:
                    held += 1
                    tally = tally + s.tally
                    if last is None or _session_order(s) > _session_order(last):
                        last = s
                elif (
                    s.status in _UPCOMING
                    and (s.date, s.start) >= (today, now)
                    and (upcoming is None or _session_order(s) < _session_order(upcoming))
                ):
                    upcoming = s
            result[assignment_id] = AssignmentSummary(held, tally, last, upcoming)
        return result


class InMemoryMarkRepository(_Bound, MarkRepository):
    def check_in_context(self, session_id: SessionId, student_id: StudentId) -> CheckInContext:
        data = self._data
        return CheckInContext(
            session=data.sessions.get(session_id),
            student=data.students.get(student_id),
            binding=data.bindings.get(student_id),
            mark=data.marks.get((session_id, student_id)),
            failures=data.attempts.get((session_id, student_id), 0),
        )

    def find(self, session_id: SessionId, student_id: StudentId) -> AttendanceMark | None:
        return self._data.marks.get((session_id, student_id))

    def list_for_session(self, session_id: SessionId) -> Sequence[AttendanceMark]:
        data = self._data
        return [
            data.marks[(session_id, s)] for s in sorted(data.marks_by_session.get(session_id, ()))
        ]

    def list_for_sessions(self, session_ids: Iterable[SessionId]) -> Sequence[AttendanceMark]:
        return [m for sid in sorted(set(session_ids)) for m in self.list_for_session(sid)]

    def _write(self, mark: AttendanceMark) -> None:
        data, log = self._data, self._log
        if mark.session_id not in data.sessions:
            raise NotFoundError("session", mark.session_id)
        if mark.student_id not in data.students:
            raise NotFoundError("student", mark.student_id)
        log.set(data.marks, (mark.session_id, mark.student_id), mark)
        log.add(data.marks_by_session.setdefault(mark.session_id, set()), mark.student_id)
        log.add(data.marks_by_student.setdefault(mark.student_id, set()), mark.session_id)

    def insert_if_absent(self, mark: AttendanceMark) -> tuple[AttendanceMark, bool]:
        self._own(mark)
        existing = self.find(mark.session_id, mark.student_id)
        if existing is not None:
            return existing, False
        stored = dataclasses.replace(mark, version=0)
        self._write(stored)
        return stored, True

    def add_missing(self, marks: Sequence[AttendanceMark]) -> Sequence[AttendanceMark]:
        inserted = []
        for mark in marks:
            stored, was_inserted = self.insert_if_absent(mark)
            if was_inserted:
                inserted.append(stored)
        return inserted

    def put_many(self, marks: Sequence[AttendanceMark]) -> None:
        for mark in marks:
            self._own(mark)
            existing = self.find(mark.session_id, mark.student_id)
            version = 0 if existing is None else existing.version + 1
            self._write(dataclasses.replace(mark, version=version))

    def tally(self, session_id: SessionId) -> StatusTally:
        return StatusTally.of(m.status for m in self.list_for_session(session_id))

    def for_student(
        self, student_id: StudentId, session_ids: Iterable[SessionId]
    ) -> Mapping[SessionId, AttendanceMark]:
        marks = self._data.marks
        return {sid: marks[(sid, student_id)] for sid in session_ids if (sid, student_id) in marks}

    def tallies(
        self,
        dates: DateRange,
        *,
        student_id: StudentId | None = None,
        section_id: SectionId | None = None,
    ) -> Mapping[tuple[StudentId, SubjectCode], StatusTally]:
        data = self._data
        pairs: Iterable[tuple[SessionId, StudentId]]
        if student_id is not None:
            pairs = ((sid, student_id) for sid in data.marks_by_student.get(student_id, ()))
        elif section_id is not None:
            pairs = (
                (sid, stid)
                for sid in data.sessions_by_section.get(section_id, ())
                for stid in data.marks_by_session.get(sid, ())
            )
        else:
            pairs = data.marks.keys()
        counts: dict[tuple[StudentId, SubjectCode], list[int]] = {}
        for session_id, stid in pairs:
            session = data.sessions[session_id]
            if session.status is not SessionStatus.COMPLETED or session.date not in dates:
                continue
            status = data.marks[(session_id, stid)].status
            row = counts.setdefault((stid, session.subject_code), [0, 0, 0, 0])
            row[_STATUS_INDEX[status.value]] += 1
        return {key: StatusTally(*row) for key, row in counts.items()}


_STATUS_INDEX = {"present": 0, "late": 1, "absent": 2, "excused": 3}


def _slice(items: Sequence[E], limit: int, offset: int) -> Slice[E]:
    return Slice(tuple(items[offset : offset + limit]), len(items))


class InMemoryAuditRepository(_Bound, AuditRepository):
    def add_many(self, entries: Sequence[AuditEntry]) -> None:
        data, log = self._data, self._log
        for entry in entries:
            self._own(entry)
            sequence = self._store.next_sequence()
            log.set(data.audit, sequence, entry)
            log.append(data.audit_by_session.setdefault(entry.session_id, []), sequence)
            log.append(data.audit_by_student.setdefault(entry.student_id, []), sequence)

    def list_for_session(self, session_id: SessionId) -> Sequence[AuditEntry]:
        data = self._data
        return [data.audit[i] for i in data.audit_by_session.get(session_id, ())]

    def page_for_session(
        self, session_id: SessionId, limit: int, offset: int = 0
    ) -> Slice[AuditEntry]:
        data = self._data
        newest_first = reversed(data.audit_by_session.get(session_id, ()))
        return _slice([data.audit[i] for i in newest_first], limit, offset)

    def page_for_student(
        self,
        student_id: StudentId,
        limit: int,
        offset: int = 0,
        teacher: FacultyId | None = None,
    ) -> Slice[AuditEntry]:
        data = self._data
        entries = (data.audit[i] for i in reversed(data.audit_by_student.get(student_id, ())))
        if teacher is not None:
            taught = data.sessions_by_teacher.get(teacher, set())
            entries = (e for e in entries if e.session_id in taught)
        return _slice(list(entries), limit, offset)


class InMemoryDeviceBindingRepository(_Bound, DeviceBindingRepository):
    def for_student(self, student_id: StudentId) -> DeviceBinding | None:
        return self._data.bindings.get(student_id)

    def for_device(self, device_id: DeviceId) -> DeviceBinding | None:
        student_id = self._data.devices.get(device_id)
        return None if student_id is None else self._data.bindings.get(student_id)

    def add(self, binding: DeviceBinding) -> None:
        self._own(binding)
        data = self._data
        self._require(data.students, binding.student_id, "student")
        if binding.student_id in data.bindings:
            raise ConflictError("the student already has a device", code="device_mismatch")
        if binding.device_id in data.devices:
            raise ConflictError("the device is bound to another student", code="device_in_use")
        self._log.set(data.bindings, binding.student_id, binding)
        self._log.set(data.devices, binding.device_id, binding.student_id)

    def remove(self, student_id: StudentId) -> bool:
        data = self._data
        binding = data.bindings.get(student_id)
        if binding is None:
            return False
        self._log.delete(data.bindings, student_id)
        self._log.delete(data.devices, binding.device_id)
        return True


class InMemoryCheckInAttemptRepository(_Bound, CheckInAttemptRepository):
    def failures(self, session_id: SessionId, student_id: StudentId) -> int:
        return self._data.attempts.get((session_id, student_id), 0)

    def record_failure(self, session_id: SessionId, student_id: StudentId) -> FailureCounts:
        data = self._data
        student = data.attempts.get((session_id, student_id), 0) + 1
        session = data.session_attempts.get(session_id, 0) + 1
        self._log.set(data.attempts, (session_id, student_id), student)
        self._log.set(data.session_attempts, session_id, session)
        return FailureCounts(student=student, session=session)

    def reset_session(self, session_id: SessionId) -> None:
        self._log.delete(self._data.session_attempts, session_id)


class InMemorySecurityEventRepository(_Bound, SecurityEventRepository):
    def add(self, event: SecurityEvent) -> None:
        self._own(event)
        self._log.set(self._data.events, self._store.next_sequence(), event)

    def list(self, since: datetime | None = None, limit: int = 100) -> Sequence[SecurityEvent]:
        return self.page(SecurityEventFilter(since=since), limit).items

    def page(
        self, filters: SecurityEventFilter, limit: int, offset: int = 0
    ) -> Slice[SecurityEvent]:
        events = sorted(self._data.events.items(), key=lambda i: (i[1].at, i[0]), reverse=True)
        matching = [e for _, e in events if _matches_filter(e, filters)]
        return _slice(matching, limit, offset)


def _matches_filter(event: SecurityEvent, filters: SecurityEventFilter) -> bool:
    return (
        (filters.kind is None or event.kind is filters.kind)
        and (filters.student_id is None or event.student_id == filters.student_id)
        and (filters.session_id is None or event.session_id == filters.session_id)
        and (filters.since is None or event.at >= filters.since)
    )


class InMemoryCoverAssignmentRepository(_Bound, CoverAssignmentRepository):
    def add(self, cover: CoverAssignment) -> None:
        self._own(cover)
        data, log = self._data, self._log
        self._require(data.sessions, cover.session_id, "session")
        self._require(data.faculty, cover.substitute_id, "faculty")
        if cover.id in data.covers:
            raise ConflictError(f"cover {cover.id} already exists", code="cover_exists")
        if cover.session_id in data.cover_by_session:
            raise ConflictError("the session is already covered", code="session_already_covered")
        for other_id in data.covers_by_substitute.get(cover.substitute_id, ()):
            if data.covers[other_id].overlaps(cover):
                raise ConflictError(
                    "the substitute already covers a class at that time",
                    code="substitute_double_booked",
                )
        log.set(data.covers, cover.id, cover)
        log.set(data.cover_by_session, cover.session_id, cover.id)
        log.add(data.covers_by_substitute.setdefault(cover.substitute_id, set()), cover.id)

    def find(self, cover_id: CoverId) -> CoverAssignment | None:
        return self._data.covers.get(cover_id)

    def for_session(self, session_id: SessionId) -> CoverAssignment | None:
        cover_id = self._data.cover_by_session.get(session_id)
        return None if cover_id is None else self._data.covers[cover_id]

    def list_for_substitute(
        self, substitute_id: FacultyId, start: datetime, end: datetime
    ) -> Sequence[CoverAssignment]:
        data = self._data
        found = (data.covers[i] for i in data.covers_by_substitute.get(substitute_id, ()))
        return sorted(
            (c for c in found if c.starts_at < end and start < c.ends_at),
            key=lambda c: (c.starts_at, c.id),
        )

    def remove(self, cover_id: CoverId) -> bool:
        data, log = self._data, self._log
        cover = data.covers.get(cover_id)
        if cover is None:
            return False
        log.delete(data.covers, cover_id)
        log.delete(data.cover_by_session, cover.session_id)
        log.discard(data.covers_by_substitute.get(cover.substitute_id, set()), cover_id)
        return True


class InMemoryOutboxRepository(_Bound, OutboxRepository):
    def _visible(self, entry: OutboxEntry) -> bool:
        return self._uow.is_platform() or (entry.notification.institution_id == self._uow.tenant())

    def add(self, notification: Notification) -> None:
        store, log = self._store, self._uow.active_log()
        if not self._uow.is_platform():
            self._own(notification)
        if notification.idempotency_key in store.outbox_keys:
            return
        if notification.id in store.outbox:
            raise ConflictError(
                f"notification {notification.id} already exists", code="notification_exists"
            )
        entry = OutboxEntry(notification, store.next_sequence())
        log.set(store.outbox, notification.id, entry)
        log.set(store.outbox_keys, notification.idempotency_key, notification.id)

    def pending(self, limit: int = 100) -> Sequence[Notification]:
        self._uow.active_log()
        entries = sorted(
            (e for e in self._store.outbox.values() if e.delivered_at is None and self._visible(e)),
            key=lambda e: (e.notification.created_at, e.sequence),
        )
        return [e.notification for e in entries[:limit]]

    def mark_delivered(
        self, notification_id: NotificationId, at: datetime, report: DeliveryReport
    ) -> None:
        log = self._uow.active_log()
        entry = self._store.outbox.get(notification_id)
        if entry is None or not self._visible(entry):
            raise NotFoundError("notification", notification_id)
        log.set(
            self._store.outbox,
            notification_id,
            OutboxEntry(entry.notification, entry.sequence, at, report),
        )

    def history(
        self, kind: str, recipient: Recipient | None = None, limit: int = 50
    ) -> Sequence[SentNotification]:
        self._uow.active_log()
        entries = sorted(
            (
                e
                for e in self._store.outbox.values()
                if e.notification.kind == kind
                and (recipient is None or recipient in e.notification.recipients)
                and self._visible(e)
            ),
            key=lambda e: (e.notification.created_at, e.sequence),
            reverse=True,
        )
        return [
            SentNotification(
                e.notification,
                e.delivered_at,
                e.report.delivered if e.report else 0,
                e.report.failed if e.report else 0,
            )
            for e in entries[:limit]
        ]

    def delivered(self) -> Sequence[OutboxEntry]:
        """Delivered entries (for tests and the demo's log)."""
        self._uow.active_log()
        return [e for e in self._store.outbox.values() if e.delivered_at and self._visible(e)]


class InMemorySignInRepository(_Keyed[SignInId, SignIn], SignInRepository):
    """Sign-ins keyed by id, indexed by (folded) email for ``revoke_all``."""

    kind = "sign_in"

    def _table(self) -> dict[SignInId, SignIn]:
        return self._data.sign_ins

    def _key(self, entity: SignIn) -> SignInId:
        return entity.id

    def _reindex(self, old: SignIn | None, new: SignIn) -> None:
        self._index_move(
            self._data.sign_ins_by_email, old.email if old else None, new.email, new.id
        )

    def add(self, sign_in: SignIn) -> None:
        super().add(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def update(self, sign_in: SignIn) -> SignIn:
        return super().update(dataclasses.replace(sign_in, email=fold_email(sign_in.email)))

    def revoke_all(self, email: str, at: datetime) -> int:
        data, log = self._data, self._log
        revoked = 0
        for sign_in_id in sorted(data.sign_ins_by_email.get(fold_email(email), ())):
            sign_in = data.sign_ins[sign_in_id]
            if sign_in.is_active(at):
                ended = dataclasses.replace(sign_in, revoked_at=at, version=sign_in.version + 1)
                log.set(data.sign_ins, sign_in_id, ended)
                revoked += 1
        return revoked

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        return frozenset(
            sign_in.id
            for sign_in in self._data.sign_ins.values()
            if sign_in.revoked_at is not None and sign_in.revoked_at >= since
        )


class InMemoryOperatorSignInRepository(_Bound, OperatorSignInRepository):
    """Platform operators' tokens, keyed by id; platform scope only."""

    @property
    def _table(self) -> dict[SignInId, OperatorSignIn]:
        self._uow.require_platform()
        return self._store.operator_sign_ins

    def add(self, sign_in: OperatorSignIn) -> None:
        table = self._table
        if sign_in.id in table:
            raise ConflictError(
                f"operator sign-in {sign_in.id} already exists", code="operator_sign_in_exists"
            )
        self._log.set(table, sign_in.id, sign_in)

    def find(self, sign_in_id: SignInId) -> OperatorSignIn | None:
        return self._table.get(sign_in_id)

    def list_active(self, at: datetime) -> Sequence[OperatorSignIn]:
        active = (s for s in self._table.values() if s.is_active(at))
        return sorted(active, key=lambda s: (s.issued_at, s.id))

    def revoke(self, sign_in_id: SignInId, at: datetime) -> bool:
        table = self._table
        sign_in = table.get(sign_in_id)
        if sign_in is None or not sign_in.is_active(at):
            return False
        self._log.set(table, sign_in_id, sign_in.revoked(at))
        return True

    def revoke_all(self, at: datetime) -> int:
        return sum(self.revoke(sign_in_id, at) for sign_in_id in sorted(self._table))

    def revoked_since(self, since: datetime) -> frozenset[SignInId]:
        return frozenset(
            s.id for s in self._table.values() if s.revoked_at is not None and s.revoked_at >= since
        )


class InMemoryPasswordCredentialRepository(_Bound, PasswordCredentialRepository):
    """One credential per folded email."""

    def find(self, email: str) -> PasswordCredential | None:
        return self._data.passwords.get(fold_email(email))

    def put(self, credential: PasswordCredential) -> PasswordCredential:
        self._own(credential)
        data = self._data
        email = fold_email(credential.email)
        stored = data.passwords.get(email)
        if (0 if stored is None else stored.version) != credential.version:
            raise ConcurrencyError(f"the password of {email} was changed by someone else")
        version = 0 if stored is None else credential.version + 1
        new = dataclasses.replace(credential, email=email, version=version)
        self._log.set(data.passwords, email, new)
        return new

    def record_failure(
        self, email: str, at: datetime, policy: PasswordPolicy
    ) -> PasswordCredential | None:
        stored = self.find(email)
        if stored is None:
            return None
        return self._store_changed(stored, stored.after_failure(at, policy))

    def record_success(self, email: str, at: datetime, password_hash: str | None = None) -> bool:
        stored = self.find(email)
        if stored is None or stored.is_locked(at):
            return False
        self._store_changed(stored, stored.after_success(password_hash))
        return True

    def _store_changed(
        self, stored: PasswordCredential, changed: PasswordCredential
    ) -> PasswordCredential:
        if changed == stored:
            return stored
        new = dataclasses.replace(changed, version=stored.version + 1)
        self._log.set(self._data.passwords, stored.email, new)
        return new

    def remove(self, email: str) -> bool:
        data, key = self._data, fold_email(email)
        if key not in data.passwords:
            return False
        self._log.delete(data.passwords, key)
        return True


class InMemoryPushTokenRepository(_Bound, PushTokenRepository):
    """Push registrations keyed by token, indexed by student and by teacher."""

    def _unindex(self, token: str) -> PushToken | None:
        data, log = self._data, self._log
        old = data.push_tokens.get(token)
        if old is not None:
            if old.student_id is not None:
                log.discard(data.push_tokens_by_student.get(old.student_id, set()), token)
            if old.faculty_id is not None:
                log.discard(data.push_tokens_by_faculty.get(old.faculty_id, set()), token)
        return old

    def put(self, token: PushToken) -> None:
        self._own(token)
        data, log = self._data, self._log
        if token.student_id is not None:
            self._require(data.students, token.student_id, "student")
        if token.faculty_id is not None:
            self._require(data.faculty, token.faculty_id, "faculty")
        self._unindex(token.token)
        new = dataclasses.replace(token, owner_email=fold_email(token.owner_email))
        log.set(data.push_tokens, new.token, new)
        if new.student_id is not None:
            log.add(data.push_tokens_by_student.setdefault(new.student_id, set()), new.token)
        if new.faculty_id is not None:
            log.add(data.push_tokens_by_faculty.setdefault(new.faculty_id, set()), new.token)

    def remove(self, token: str) -> bool:
        if self._unindex(token) is None:
            return False
        self._log.delete(self._data.push_tokens, token)
        return True

    def _of(self, index: Mapping[Any, set[str]], owners: Iterable[Any]) -> Sequence[PushToken]:
        tokens = {token for owner in set(owners) for token in index.get(owner, ())}
        return [self._data.push_tokens[token] for token in sorted(tokens)]

    def for_students(self, student_ids: Iterable[StudentId]) -> Sequence[PushToken]:
        return self._of(self._data.push_tokens_by_student, student_ids)

    def for_faculty(self, faculty_ids: Iterable[FacultyId]) -> Sequence[PushToken]:
        return self._of(self._data.push_tokens_by_faculty, faculty_ids)
