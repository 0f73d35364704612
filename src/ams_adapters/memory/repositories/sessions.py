"""Class sessions, indexed by section, teacher, assignment and (slot, date)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, time

from ams_adapters.memory.repositories._base import KeyedRepository
from ams_core.domain import (
    AssignmentId,
    AssignmentSummary,
    ClassSession,
    ConflictError,
    DateRange,
    FacultyId,
    NotFoundError,
    SectionId,
    SessionCounts,
    SessionId,
    SessionStatus,
    SlotId,
    StatusTally,
    StudentId,
    SubjectCode,
    TeachingAssignment,
)
from ams_core.ports import ScheduledClass, SessionRepository, TeacherBooking

_UPCOMING = (SessionStatus.SCHEDULED, SessionStatus.OPEN)


def _session_order(session: ClassSession) -> tuple[date, time, str]:
    return (session.date, session.start, session.id)


class InMemorySessionRepository(KeyedRepository[SessionId, ClassSession], SessionRepository):
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

    def list_for_student(self, student_id: StudentId, dates: DateRange) -> Sequence[ScheduledClass]:
        data = self._data
        student = data.students.get(student_id)
        if student is None:
            raise NotFoundError("student", student_id)
        marks = data.marks
        return [
            ScheduledClass(
                id=s.id,
                date=s.date,
                start=s.start,
                end=s.end,
                section_id=s.section_id,
                subject_code=s.subject_code,
                teacher_id=s.teacher_id,
                venue=s.venue,
                status=s.status,
                topic=s.topic,
                my_status=mark.status if (mark := marks.get((s.id, student_id))) else None,
            )
            for s in self.list_for_section(student.section_id, dates)
        ]

    def list_for_teacher(self, faculty_id: FacultyId, dates: DateRange) -> Sequence[ClassSession]:
        ids = self._data.sessions_by_teacher.get(faculty_id, ())
        return self._select(ids, lambda s: s.date in dates)

    def list_between(self, dates: DateRange) -> Sequence[ClassSession]:
        return self._select(self._data.sessions, lambda s: s.date in dates)

    def teacher_bookings(self, dates: DateRange) -> Sequence[TeacherBooking]:
        found = [
            TeacherBooking(s.teacher_id, s.date, s.start, s.end)
            for s in self.list_between(dates)
            if s.status is not SessionStatus.CANCELLED
        ]
        return sorted(found, key=lambda b: (b.teacher_id, b.date, b.start))

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

    def teacher_summaries(
        self, faculty_id: FacultyId, today: date, now: time
    ) -> Sequence[tuple[TeachingAssignment, AssignmentSummary]]:
        taught = sorted(
            (a for a in self._data.assignments.values() if a.faculty_id == faculty_id),
            key=lambda a: a.id,
        )
        summaries = self.assignment_summaries([a.id for a in taught], today, now)
        return [(a, summaries[a.id]) for a in taught]
