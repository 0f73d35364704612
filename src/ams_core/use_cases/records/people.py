"""Catalogues of sections, students and faculty (admins write; staff read)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from ams_core.domain.errors import (
    ConflictError,
    FieldProblem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from ams_core.domain.identity import Principal
from ams_core.domain.ids import FacultyId, InstitutionId, SectionId, StudentId, SubjectCode
from ams_core.domain.people import Faculty, Section, Student, normalise_email
from ams_core.ports.persistence import UnitOfWork
from ams_core.use_cases._access import tenant_of
from ams_core.use_cases.records.base import (
    Catalogue,
    _Repository,
    raise_if,
    require_exists,
    require_text,
)

MAX_NAME = 200


def _require_institution_email(
    uow: UnitOfWork, problems: list[FieldProblem], institution_id: InstitutionId, email: str
) -> str:
    try:
        address = normalise_email(email)
    except ValidationError as error:
        problems.extend(error.problems)
        return email
    institution = uow.institutions.get(institution_id)
    if address.rpartition("@")[2] not in institution.email_domains:
        problems.append(
            FieldProblem("email", "must be in one of the institution's sign-in domains")
        )
    return address


def _forget_sign_in(uow: UnitOfWork, email: str, now: datetime) -> None:
    """A person removed, or whose email changed, can no longer sign in with the old one."""
    uow.sign_ins.revoke_all(email, now)
    uow.passwords.remove(email)


class SectionCatalogue(Catalogue[SectionId, Section]):
    """Class groups such as E2-CSE-A."""

    kind = "section"
    entity_type = Section
    writable = frozenset({"id", "year", "department", "name"})
    filters = frozenset({"year", "department"})

    def _repository(self, uow: UnitOfWork) -> _Repository[SectionId, Section]:
        return uow.sections

    def _all(self, uow: UnitOfWork) -> Sequence[Section]:
        return uow.sections.list()

    def _authorize_read(self, uow: UnitOfWork, actor: Principal) -> Callable[[Section], bool]:
        return lambda _section: True  # every member may see the institution's sections

    def _prepare(
        self, uow: UnitOfWork, actor: Principal, new: Section, old: Section | None
    ) -> Section:
        problems: list[FieldProblem] = []
        key = require_text(problems, "id", new.id, 64)
        department = require_text(problems, "department", new.department, 100)
        name = require_text(problems, "name", new.name, 100)
        if not 1 <= new.year <= 12:
            problems.append(FieldProblem("year", "must be 1 to 12"))
        raise_if(problems)
        return Section(SectionId(key), new.institution_id, new.year, department, name, new.version)


class StudentCatalogue(Catalogue[StudentId, Student]):
    """Students; a teacher sees only the students of sections they teach, a student only
    their own record.
    """

    kind = "student"
    entity_type = Student
    writable = frozenset(
        {"id", "name", "email", "section_id", "roll_number", "is_class_representative", "active"}
    )
    filters = frozenset({"section_id", "is_class_representative", "active"})

    def _repository(self, uow: UnitOfWork) -> _Repository[StudentId, Student]:
        return uow.students

    def _all(self, uow: UnitOfWork) -> Sequence[Student]:
        return uow.students.list()

    def _authorize_read(self, uow: UnitOfWork, actor: Principal) -> Callable[[Student], bool]:
        if actor.is_admin:
            return lambda _student: True
        if not actor.is_faculty or actor.faculty_id is None:
            raise PermissionDeniedError("only staff may see student records")
        taught = {a.section_id for a in uow.assignments.list(faculty_id=actor.faculty_id)}
        return lambda student: student.section_id in taught

    def get(self, actor: Principal, key: StudentId) -> Student:
        """Return one student: to staff as for every catalogue, and to a student their own
        record only (any other student id answers "not found", whether it exists or not).

        Raises:
            NotFoundError: no such student, or another student asking.
            PermissionDeniedError: a teacher who does not teach the student's section.
        """
        if actor.is_admin or actor.is_faculty or not actor.is_student:
            return super().get(actor, key)
        if key != actor.student_id:
            raise NotFoundError(self.kind, key)
        with self._uow.for_institution(tenant_of(actor)) as uow:
            student = self._find(uow, key)
            uow.commit()
        return student

    def _prepare(
        self, uow: UnitOfWork, actor: Principal, new: Student, old: Student | None
    ) -> Student:
        problems: list[FieldProblem] = []
        key = require_text(problems, "id", new.id, 64)
        name = require_text(problems, "name", new.name, MAX_NAME)
        email = _require_institution_email(uow, problems, new.institution_id, new.email)
        require_exists(
            problems, "section_id", uow.sections.find(new.section_id), "section", new.section_id
        )
        if new.roll_number is not None and not 1 <= new.roll_number <= 100_000:
            problems.append(FieldProblem("roll_number", "must be 1 to 100000"))
        raise_if(problems)
        if uow.faculty.find_by_email(email) is not None:
            raise ConflictError(f"{email} already belongs to a teacher", code="email_taken")
        if old is not None and old.email != email:
            _forget_sign_in(uow, old.email, self._now())
        return Student(
            StudentId(key),
            new.institution_id,
            name,
            email,
            new.section_id,
            new.roll_number,
            new.is_class_representative,
            active=new.active,
            version=new.version,
        )

    def _before_remove(self, uow: UnitOfWork, actor: Principal, entity: Student) -> None:
        uow.devices.remove(entity.id)
        for token in uow.push_tokens.for_students([entity.id]):
            uow.push_tokens.remove(token.token)
        _forget_sign_in(uow, entity.email, self._now())


class FacultyCatalogue(Catalogue[FacultyId, Faculty]):
    """Teachers and administrators; an admin cannot remove or demote themselves."""

    kind = "faculty"
    entity_type = Faculty
    writable = frozenset(
        {
            "id",
            "name",
            "email",
            "department",
            "qualified_subjects",
            "max_covers_per_day",
            "max_covers_per_week",
            "is_admin",
            "active",
        }
    )
    filters = frozenset({"department", "qualified_subjects", "is_admin", "active"})
    _caps: ClassVar[tuple[str, ...]] = ("max_covers_per_day", "max_covers_per_week")

    def _repository(self, uow: UnitOfWork) -> _Repository[FacultyId, Faculty]:
        return uow.faculty

    def _all(self, uow: UnitOfWork) -> Sequence[Faculty]:
        return uow.faculty.list()

    def _prepare(
        self, uow: UnitOfWork, actor: Principal, new: Faculty, old: Faculty | None
    ) -> Faculty:
        problems: list[FieldProblem] = []
        key = require_text(problems, "id", new.id, 64)
        name = require_text(problems, "name", new.name, MAX_NAME)
        department = require_text(problems, "department", new.department, 100)
        email = _require_institution_email(uow, problems, new.institution_id, new.email)
        subjects = frozenset(SubjectCode(code) for code in new.qualified_subjects)
        known = uow.subjects.find_many(subjects)
        for code in sorted(subjects - set(known)):
            problems.append(FieldProblem("qualified_subjects", f"no subject {code}"))
        for cap in self._caps:
            value = getattr(new, cap)
            if value is not None and not 0 <= value <= 50:
                problems.append(FieldProblem(cap, "must be 0 to 50, or null for the default"))
        raise_if(problems)
        if old is not None and old.id == actor.faculty_id and old.is_admin and not new.is_admin:
            raise ConflictError("you cannot remove your own admin role", code="self_demotion")
        if uow.students.find_by_email(email) is not None:
            raise ConflictError(f"{email} already belongs to a student", code="email_taken")
        if old is not None and old.email != email:
            _forget_sign_in(uow, old.email, self._now())
        return Faculty(
            FacultyId(key),
            new.institution_id,
            name,
            email,
            department,
            subjects,
            new.max_covers_per_day,
            new.max_covers_per_week,
            new.is_admin,
            active=new.active,
            version=new.version,
        )

    def _before_remove(self, uow: UnitOfWork, actor: Principal, entity: Faculty) -> None:
        if entity.id == actor.faculty_id:
            raise ConflictError("you cannot delete yourself", code="self_deletion")
        for token in uow.push_tokens.for_faculty([entity.id]):
            uow.push_tokens.remove(token.token)
        _forget_sign_in(uow, entity.email, self._now())
