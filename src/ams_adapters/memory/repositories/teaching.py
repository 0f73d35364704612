"""What is taught, by whom, when: subjects, teaching assignments, weekly slots, terms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ams_adapters.memory.repositories._base import KeyedRepository, in_use
from ams_core.domain import (
    AssignmentId,
    ConflictError,
    FacultyId,
    SectionId,
    SlotId,
    Subject,
    SubjectCode,
    TeachingAssignment,
    Term,
    TermId,
    WeeklySlot,
)
from ams_core.ports import AssignmentRepository, SlotRepository, SubjectRepository, TermRepository


class InMemorySubjectRepository(KeyedRepository[SubjectCode, Subject], SubjectRepository):
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
            raise in_use("subject", code, "is still taught")
        if any(s.subject_code == code for s in data.sessions.values()):
            raise in_use("subject", code, "has sessions")
        if any(p.subject_code == code for p in data.preferences.values()):
            raise in_use("subject", code, "has substitute preferences")


class InMemoryAssignmentRepository(
    KeyedRepository[AssignmentId, TeachingAssignment], AssignmentRepository
):
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

    def sections_by_teacher(self) -> Mapping[FacultyId, frozenset[SectionId]]:
        found: dict[FacultyId, set[SectionId]] = {}
        for assignment in self._data.assignments.values():
            found.setdefault(assignment.faculty_id, set()).add(assignment.section_id)
        return {k: frozenset(v) for k, v in found.items()}

    def remove(self, assignment_id: AssignmentId) -> bool:
        return self._remove(assignment_id)

    def _check_unused(self, entity: TeachingAssignment) -> None:
        data, aid = self._data, entity.id
        if any(s.assignment_id == aid for s in data.slots.values()):
            raise in_use("assignment", aid, "still has weekly slots")
        if data.sessions_by_assignment.get(aid):
            raise in_use("assignment", aid, "has sessions")

    def _unindex(self, old: TeachingAssignment) -> None:
        self._log.delete(self._data.assignment_keys, self._natural(old))


class InMemorySlotRepository(KeyedRepository[SlotId, WeeklySlot], SlotRepository):
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


class InMemoryTermRepository(KeyedRepository[TermId, Term], TermRepository):
    kind = "term"

    def _table(self) -> dict[TermId, Term]:
        return self._data.terms

    def _key(self, entity: Term) -> TermId:
        return entity.id

    def list(self) -> Sequence[Term]:
        return sorted(self._data.terms.values(), key=lambda t: (t.start, t.id))

    def remove(self, term_id: TermId) -> bool:
        return self._remove(term_id)
