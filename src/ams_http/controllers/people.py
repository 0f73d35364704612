"""People: the institution's sections, students and faculty (PRODUCT.md §2.1).

Reading sections is for every member; a teacher sees the students of the sections they
teach; writing is for admins. Another institution's record answers 404 whatever its id.
Lists are paged (``limit``, ``offset``) and answer ``{items, total, limit, offset}``; every
record carries its ``version``, which a patch may send back to refuse overwriting somebody
else's change (409 ``concurrent_update``). A record that history refers to cannot be
deleted (409 ``in_use``).
"""

from __future__ import annotations

from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import (
    FacultyId,
    Principal,
    SectionId,
    StudentId,
)
from ams_core.use_cases import (
    FacultyCatalogue,
    SectionCatalogue,
    StudentCatalogue,
)
from ams_http.controllers._params import (
    CREATES,
    DELETES,
    READS,
    UPDATES,
    Limit,
    Offset,
    Search,
    page_request,
    updated,
)
from ams_http.controllers._run import created, run
from ams_http.schemas.common import counts
from ams_http.schemas.people import (
    FacultyIn,
    FacultyOut,
    FacultyPageOut,
    FacultyPatch,
    SectionIn,
    SectionOut,
    SectionPageOut,
    SectionPatch,
    StudentIn,
    StudentOut,
    StudentPageOut,
    StudentPatch,
)

SectionPath = Annotated[str, PathParameter(max_length=64, description="section id")]
StudentPath = Annotated[str, PathParameter(max_length=64, description="student (roll) id")]
FacultyPath = Annotated[str, PathParameter(max_length=64, description="faculty id")]

SECTIONS = "/api/v1/sections"
PEOPLE = ["people"]


class SectionController(Controller):
    """The institution's sections."""

    path = SECTIONS
    tags = PEOPLE

    @get(operation_id="listSections", **READS)
    @inject
    async def list_sections(
        self,
        actor: FromDishka[Principal],
        catalogue: FromDishka[SectionCatalogue],
        year: Annotated[int | None, QueryParameter(ge=1, le=12)] = None,
        department: Annotated[str | None, QueryParameter(max_length=100)] = None,
        text: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SectionPageOut:
        """Every member of the institution: its sections, by id (filters: year, department)."""
        filters = {"year": year, "department": department}
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return SectionPageOut(items=[SectionOut.of(s) for s in page.items], **counts(page))

    @post(operation_id="createSection", **CREATES)
    @inject
    async def create_section(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[SectionIn],
        catalogue: FromDishka[SectionCatalogue],
    ) -> Response[SectionOut]:
        """Admin: add a section (409 ``section_exists`` if the id is taken)."""
        section = await run(catalogue.create, actor, data.changes())
        return created(SectionOut.of(section), f"{SECTIONS}/{section.id}")

    @get("/{section_id:str}", operation_id="getSection", **READS)
    @inject
    async def get_section(
        self,
        actor: FromDishka[Principal],
        section_id: SectionPath,
        catalogue: FromDishka[SectionCatalogue],
    ) -> SectionOut:
        """Every member of the institution: one section."""
        return SectionOut.of(await run(catalogue.get, actor, SectionId(section_id)))

    @patch("/{section_id:str}", operation_id="updateSection", **UPDATES)
    @inject
    async def update_section(
        self,
        actor: FromDishka[Principal],
        section_id: SectionPath,
        data: JSONBody[SectionPatch],
        catalogue: FromDishka[SectionCatalogue],
    ) -> SectionOut:
        """Admin: change a section's year, department or name."""
        return SectionOut.of(await updated(catalogue, actor, SectionId(section_id), data))

    @delete("/{section_id:str}", operation_id="deleteSection", **DELETES)
    @inject
    async def delete_section(
        self,
        actor: FromDishka[Principal],
        section_id: SectionPath,
        catalogue: FromDishka[SectionCatalogue],
    ) -> None:
        """Admin: delete a section without students, teaching assignments or sessions."""
        await run(catalogue.delete, actor, SectionId(section_id))


STUDENTS = "/api/v1/students"


class StudentController(Controller):
    """The students, by roll number."""

    path = STUDENTS
    tags = PEOPLE

    @get(operation_id="listStudents", **READS)
    @inject
    async def list_students(
        self,
        actor: FromDishka[Principal],
        catalogue: FromDishka[StudentCatalogue],
        section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
        is_class_representative: Annotated[
            bool | None, QueryParameter(name="isClassRepresentative")
        ] = None,
        text: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> StudentPageOut:
        """Admin: every student; a teacher: the students of the sections they teach. By roll
        number (filters: section, class representatives; ``q`` searches id, name and email).
        """
        filters = {"section_id": section_id, "is_class_representative": is_class_representative}
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return StudentPageOut(items=[StudentOut.of(s) for s in page.items], **counts(page))

    @post(operation_id="createStudent", **CREATES)
    @inject
    async def create_student(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[StudentIn],
        catalogue: FromDishka[StudentCatalogue],
    ) -> Response[StudentOut]:
        """Admin: enrol a student (the email must be in one of the institution's domains)."""
        student = await run(catalogue.create, actor, data.changes())
        return created(StudentOut.of(student), f"{STUDENTS}/{student.id}")

    @get("/{student_id:str}", operation_id="getStudent", **READS)
    @inject
    async def get_student(
        self,
        actor: FromDishka[Principal],
        student_id: StudentPath,
        catalogue: FromDishka[StudentCatalogue],
    ) -> StudentOut:
        """Admin, a teacher of the student's section, or the student themself (any other
        student: 404).
        """
        return StudentOut.of(await run(catalogue.get, actor, StudentId(student_id)))

    @patch("/{student_id:str}", operation_id="updateStudent", **UPDATES)
    @inject
    async def update_student(
        self,
        actor: FromDishka[Principal],
        student_id: StudentPath,
        data: JSONBody[StudentPatch],
        catalogue: FromDishka[StudentCatalogue],
    ) -> StudentOut:
        """Admin: change a student (a new email ends the sign-ins of the old one)."""
        return StudentOut.of(await updated(catalogue, actor, StudentId(student_id), data))

    @delete("/{student_id:str}", operation_id="deleteStudent", **DELETES)
    @inject
    async def delete_student(
        self,
        actor: FromDishka[Principal],
        student_id: StudentPath,
        catalogue: FromDishka[StudentCatalogue],
    ) -> None:
        """Admin: delete a student without attendance history (their device binding, push
        registrations and sign-ins go with them).
        """
        await run(catalogue.delete, actor, StudentId(student_id))


FACULTY = "/api/v1/faculty"


class FacultyController(Controller):
    """The teachers (and admins)."""

    path = FACULTY
    tags = PEOPLE

    @get(operation_id="listFaculty", **READS)
    @inject
    async def list_faculty(
        self,
        actor: FromDishka[Principal],
        catalogue: FromDishka[FacultyCatalogue],
        department: Annotated[str | None, QueryParameter(max_length=100)] = None,
        qualified_subject: Annotated[
            str | None, QueryParameter(name="qualifiedSubject", max_length=64)
        ] = None,
        is_admin: Annotated[bool | None, QueryParameter(name="isAdmin")] = None,
        text: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FacultyPageOut:
        """Admins and teachers: the institution's teachers, by id (filters: department, a
        subject they are qualified for, admins).
        """
        filters = {
            "department": department,
            "qualified_subjects": qualified_subject,
            "is_admin": is_admin,
        }
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return FacultyPageOut(items=[FacultyOut.of(f) for f in page.items], **counts(page))

    @post(operation_id="createFaculty", **CREATES)
    @inject
    async def create_faculty(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[FacultyIn],
        catalogue: FromDishka[FacultyCatalogue],
    ) -> Response[FacultyOut]:
        """Admin: add a teacher (``isAdmin`` makes them an administrator too)."""
        faculty = await run(catalogue.create, actor, data.changes())
        return created(FacultyOut.of(faculty), f"{FACULTY}/{faculty.id}")

    @get("/{faculty_id:str}", operation_id="getFaculty", **READS)
    @inject
    async def get_faculty(
        self,
        actor: FromDishka[Principal],
        faculty_id: FacultyPath,
        catalogue: FromDishka[FacultyCatalogue],
    ) -> FacultyOut:
        """Admins and teachers: one teacher."""
        return FacultyOut.of(await run(catalogue.get, actor, FacultyId(faculty_id)))

    @patch("/{faculty_id:str}", operation_id="updateFaculty", **UPDATES)
    @inject
    async def update_faculty(
        self,
        actor: FromDishka[Principal],
        faculty_id: FacultyPath,
        data: JSONBody[FacultyPatch],
        catalogue: FromDishka[FacultyCatalogue],
    ) -> FacultyOut:
        """Admin: change a teacher (an admin cannot take away their own admin role)."""
        return FacultyOut.of(await updated(catalogue, actor, FacultyId(faculty_id), data))

    @delete("/{faculty_id:str}", operation_id="deleteFaculty", **DELETES)
    @inject
    async def delete_faculty(
        self,
        actor: FromDishka[Principal],
        faculty_id: FacultyPath,
        catalogue: FromDishka[FacultyCatalogue],
    ) -> None:
        """Admin: delete a teacher without assignments, sessions or covers (not oneself)."""
        await run(catalogue.delete, actor, FacultyId(faculty_id))


ROUTES = [SectionController, StudentController, FacultyController]
