"""Sections, students and faculty, with their email indexes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from ams_adapters.memory.repositories._base import KeyedRepository, in_use
from ams_core.domain import (
    ConflictError,
    Faculty,
    FacultyId,
    Section,
    SectionId,
    Student,
    StudentId,
)
from ams_core.domain.people import fold_email, require_distinct_ids
from ams_core.ports import FacultyRepository, SectionRepository, StudentRepository, UpsertCounts


class InMemorySectionRepository(KeyedRepository[SectionId, Section], SectionRepository):
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
            raise in_use("section", entity.id, "still has students")
        if any(a.section_id == entity.id for a in data.assignments.values()):
            raise in_use("section", entity.id, "still has teaching assignments")
        if data.sessions_by_section.get(entity.id):
            raise in_use("section", entity.id, "has sessions")
        if any(p.section_id == entity.id for p in data.preferences.values()):
            raise in_use("section", entity.id, "has substitute preferences")


class InMemoryStudentRepository(KeyedRepository[StudentId, Student], StudentRepository):
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
        table = self._table()
        return frozenset(
            s for s in self._data.students_by_section.get(section_id, ()) if table[s].active
        )

    def remove(self, student_id: StudentId) -> bool:
        return self._remove(student_id)

    def _check_unused(self, entity: Student) -> None:
        data, sid = self._data, entity.id
        if data.marks_by_student.get(sid):
            raise in_use("student", sid, "has attendance history")
        if any(student == sid for _, student in data.attempts):
            raise in_use("student", sid, "has check-in failures on record")
        if sid in data.bindings:
            raise in_use("student", sid, "has a bound device")
        if data.push_tokens_by_student.get(sid):
            raise in_use("student", sid, "has push notification registrations")

    def _unindex(self, old: Student) -> None:
        data = self._data
        self._log.delete(data.student_emails, old.email)
        self._index_move(data.students_by_section, old.section_id, None, old.id)


class InMemoryFacultyRepository(KeyedRepository[FacultyId, Faculty], FacultyRepository):
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
            raise in_use("teacher", fid, "still has teaching assignments")
        if data.sessions_by_teacher.get(fid):
            raise in_use("teacher", fid, "is the teacher of record of sessions")
        if data.covers_by_substitute.get(fid):
            raise in_use("teacher", fid, "covers classes")
        if any(a.faculty_id == fid for a in data.absences.values()):
            raise in_use("teacher", fid, "has absences on record")
        if any(fid in (n.absent_faculty_id, n.substitute_id) for n in data.cover_needs.values()):
            raise in_use("teacher", fid, "has cover needs on record")
        if any(o.substitute_id == fid for o in data.cover_offers.values()):
            raise in_use("teacher", fid, "has cover offers on record")
        if any(fid in (p.substitute_id, p.faculty_id) for p in data.preferences.values()):
            raise in_use("teacher", fid, "has substitute preferences")
        if data.push_tokens_by_faculty.get(fid):
            raise in_use("teacher", fid, "has push notification registrations")

    def _unindex(self, old: Faculty) -> None:
        self._log.delete(self._data.faculty_emails, old.email)
