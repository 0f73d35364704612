"""Catalogues of subjects, teaching assignments, weekly slots and terms."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ams_core.domain.errors import ConflictError, FieldProblem
from ams_core.domain.identity import Principal
from ams_core.domain.ids import AssignmentId, SlotId, SubjectCode, TermId
from ams_core.domain.scheduling import (
    Booking,
    ScheduleConflictError,
    find_clashes,
    require_no_clash,
)
from ams_core.domain.teaching import Subject, SubjectKind, TeachingAssignment, Term, WeeklySlot
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases.records.base import (
    Catalogue,
    _Repository,
    raise_if,
    require_exists,
    require_text,
)


class SubjectCatalogue(Catalogue[SubjectCode, Subject]):
    """Subjects, keyed by code (e.g. CS301), theory or lab."""

    kind = "subject"
    entity_type = Subject
    key_field = "code"
    writable = frozenset({"code", "short_name", "name", "kind"})
    filters = frozenset({"kind"})

    def _repository(self, uow: UnitOfWork) -> _Repository[SubjectCode, Subject]:
        return uow.subjects

    def _all(self, uow: UnitOfWork) -> Sequence[Subject]:
        return uow.subjects.list()

    def _text(self, entity: Subject) -> str:
        return f"{entity.code} {entity.short_name} {entity.name}"

    def _prepare(
        self, uow: UnitOfWork, actor: Principal, new: Subject, old: Subject | None
    ) -> Subject:
        problems: list[FieldProblem] = []
        code = require_text(problems, "code", new.code, 64)
        short_name = require_text(problems, "short_name", new.short_name, 32)
        name = require_text(problems, "name", new.name, 200)
        try:
            kind = SubjectKind(getattr(new.kind, "value", new.kind))
        except ValueError:
            problems.append(FieldProblem("kind", "must be theory or lab"))
            kind = SubjectKind.THEORY
        raise_if(problems)
        return Subject(SubjectCode(code), new.institution_id, short_name, name, kind, new.version)


class AssignmentCatalogue(Catalogue[AssignmentId, TeachingAssignment]):
    """Who teaches which subject to which section; deleting one deletes its weekly slots.

    The teacher may change at any time (the weekly slots must stay free of double
    bookings); the subject and the section only while no session of it exists, since
    sessions carry both and the history must not contradict itself.
    """

    kind = "assignment"
    entity_type = TeachingAssignment
    writable = frozenset({"id", "faculty_id", "subject_code", "section_id"})
    filters = frozenset({"faculty_id", "subject_code", "section_id"})
    generates_key = True

    def _repository(self, uow: UnitOfWork) -> _Repository[AssignmentId, TeachingAssignment]:
        return uow.assignments

    def _all(self, uow: UnitOfWork) -> Sequence[TeachingAssignment]:
        return uow.assignments.list()

    def _text(self, entity: TeachingAssignment) -> str:
        return f"{entity.id} {entity.faculty_id} {entity.subject_code} {entity.section_id}"

    def _prepare(
        self,
        uow: UnitOfWork,
        actor: Principal,
        new: TeachingAssignment,
        old: TeachingAssignment | None,
    ) -> TeachingAssignment:
        problems: list[FieldProblem] = []
        require_text(problems, "id", new.id, 64)
        require_exists(
            problems, "faculty_id", uow.faculty.find(new.faculty_id), "teacher", new.faculty_id
        )
        require_exists(
            problems,
            "subject_code",
            uow.subjects.find(new.subject_code),
            "subject",
            new.subject_code,
        )
        require_exists(
            problems, "section_id", uow.sections.find(new.section_id), "section", new.section_id
        )
        raise_if(problems)
        if old is None:
            return new
        moved = [n for n in ("subject_code", "section_id") if getattr(new, n) != getattr(old, n)]
        if moved and uow.sessions.list_for_assignment(old.id):
            # sessions copy the subject and section: the history would contradict itself
            raise ConflictError(
                f"assignment {old.id} has sessions: its {' and '.join(moved)} cannot change "
                "(create another assignment instead)",
                code="in_use",
            )
        if new.faculty_id != old.faculty_id or new.section_id != old.section_id:
            _require_slots_free(uow, new)
        return new

    def _before_remove(self, uow: UnitOfWork, actor: Principal, entity: TeachingAssignment) -> None:
        if uow.sessions.list_for_assignment(entity.id):
            raise ConflictError(
                f"assignment {entity.id} has sessions; its history must stay", code="in_use"
            )
        for slot in uow.slots.list():
            if slot.assignment_id == entity.id:
                uow.slots.remove(slot.id)


def _weekly_bookings(uow: UnitOfWork) -> list[Booking]:
    assignments = {a.id: a for a in uow.assignments.list()}
    return [
        Booking.of_slot(slot, assignments[slot.assignment_id])
        for slot in uow.slots.list()
        if slot.assignment_id in assignments
    ]


def _require_slots_free(uow: UnitOfWork, assignment: TeachingAssignment) -> None:
    """The assignment's slots must not double-book its (new) teacher or section."""
    assignments = {a.id: a for a in uow.assignments.list()}
    assignments[assignment.id] = assignment
    slots = uow.slots.list()
    others = [
        Booking.of_slot(slot, assignments[slot.assignment_id])
        for slot in slots
        if slot.assignment_id in assignments and slot.assignment_id != assignment.id
    ]
    clashes = [
        clash
        for slot in slots
        if slot.assignment_id == assignment.id
        for clash in find_clashes(Booking.of_slot(slot, assignment), others)
    ]
    if clashes:
        raise ScheduleConflictError(sorted(set(clashes), key=lambda c: (c.kind.value, c.other)))


class SlotCatalogue(Catalogue[SlotId, WeeklySlot]):
    """The default timetable; a slot never double-books a teacher, a section or a venue.

    Changing the timetable affects weeks generated afterwards; sessions already generated
    are managed one by one (reschedule, cancel, change venue).
    """

    kind = "slot"
    entity_type = WeeklySlot
    writable = frozenset({"id", "assignment_id", "weekday", "start", "end", "venue"})
    filters = frozenset({"assignment_id", "weekday", "section_id", "faculty_id"})
    generates_key = True

    def _repository(self, uow: UnitOfWork) -> _Repository[SlotId, WeeklySlot]:
        return uow.slots

    def _all(self, uow: UnitOfWork) -> Sequence[WeeklySlot]:
        return sorted(uow.slots.list(), key=lambda s: (s.weekday, s.start, s.id))

    def _derived(self, uow: UnitOfWork) -> Callable[[WeeklySlot, str], object]:
        assignments = {a.id: a for a in uow.assignments.list()}

        def value(slot: WeeklySlot, name: str) -> object:
            assignment = assignments.get(slot.assignment_id)
            if assignment is None or name not in ("section_id", "faculty_id"):
                return None
            return getattr(assignment, name)

        return value

    def _text(self, entity: WeeklySlot) -> str:
        return f"{entity.id} {entity.assignment_id} {entity.venue}"

    def _prepare(
        self, uow: UnitOfWork, actor: Principal, new: WeeklySlot, old: WeeklySlot | None
    ) -> WeeklySlot:
        problems: list[FieldProblem] = []
        require_text(problems, "id", new.id, 64)
        if len(new.venue) > 100:
            problems.append(FieldProblem("venue", "must be at most 100 characters"))
        assignment = uow.assignments.find(new.assignment_id)
        require_exists(problems, "assignment_id", assignment, "assignment", new.assignment_id)
        raise_if(problems)
        if assignment is not None:
            require_no_clash(Booking.of_slot(new, assignment), _weekly_bookings(uow))
        return new


class TermCatalogue(Catalogue[TermId, Term]):
    """Teaching terms; terms never overlap. Every member of the institution may read them."""

    kind = "term"
    entity_type = Term
    writable = frozenset({"id", "name", "start", "end"})
    generates_key = True

    def _repository(self, uow: UnitOfWork) -> _Repository[TermId, Term]:
        return uow.terms

    def _all(self, uow: UnitOfWork) -> Sequence[Term]:
        return uow.terms.list()

    def _authorize_read(self, uow: UnitOfWork, actor: Principal) -> Callable[[Term], bool]:
        return lambda _term: True

    def _prepare(self, uow: UnitOfWork, actor: Principal, new: Term, old: Term | None) -> Term:
        problems: list[FieldProblem] = []
        require_text(problems, "id", new.id, 64)
        name = require_text(problems, "name", new.name, 100)
        raise_if(problems)
        for other in uow.terms.list():
            if other.id != new.id and other.start <= new.end and new.start <= other.end:
                raise ConflictError(
                    f"the term overlaps {other.name} ({other.start} to {other.end})",
                    code="term_overlap",
                )
        return Term(new.id, new.institution_id, name, new.start, new.end, new.version)
