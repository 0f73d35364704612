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

from litestar.params import QueryParameter

from ams_core.domain import FacultyId, SectionId, StudentId
from ams_core.use_cases import FacultyCatalogue, SectionCatalogue, StudentCatalogue
from ams_http.controllers._resource import ListFilter, Resource, ResourceDocs, resource_controller
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

PEOPLE = ("people",)
SectionFilter = Annotated[str | None, QueryParameter(name="sectionId", max_length=64)]

SECTION_DOCS = ResourceDocs(
    list="Every member of the institution: its sections, by id (filters: year, department).",
    create="Admin: add a section (409 ``section_exists`` if the id is taken).",
    get="Every member of the institution: one section.",
    update="Admin: change a section's year, department or name.",
    delete="Admin: delete a section without students, teaching assignments or sessions.",
)

SectionController = resource_controller(
    Resource(
        path="/api/v1/sections",
        tags=PEOPLE,
        doc="The institution's sections.",
        singular="Section",
        plural="Sections",
        key="section_id",
        key_description="section id",
        key_type=SectionId,
        entity_key=lambda section: section.id,
        catalogue=SectionCatalogue,
        out=SectionOut,
        page_out=SectionPageOut,
        body=SectionIn,
        patch_body=SectionPatch,
        filters=(
            ListFilter("year", Annotated[int | None, QueryParameter(ge=1, le=12)]),
            ListFilter("department", Annotated[str | None, QueryParameter(max_length=100)]),
        ),
        docs=SECTION_DOCS,
    )
)

STUDENT_DOCS = ResourceDocs(
    list=(
        "Admin: every student; a teacher: the students of the sections they teach. By roll\n"
        "number (filters: section, class representatives; ``q`` searches id, name and email)."
    ),
    create="Admin: enrol a student (the email must be in one of the institution's domains).",
    get=(
        "Admin, a teacher of the student's section, or the student themself (any other\n"
        "student: 404)."
    ),
    update="Admin: change a student (a new email ends the sign-ins of the old one).",
    delete=(
        "Admin: delete a student without attendance history (their device binding, push\n"
        "registrations and sign-ins go with them)."
    ),
)

StudentController = resource_controller(
    Resource(
        path="/api/v1/students",
        tags=PEOPLE,
        doc="The students, by roll number.",
        singular="Student",
        plural="Students",
        key="student_id",
        key_description="student (roll) id",
        key_type=StudentId,
        entity_key=lambda student: student.id,
        catalogue=StudentCatalogue,
        out=StudentOut,
        page_out=StudentPageOut,
        body=StudentIn,
        patch_body=StudentPatch,
        filters=(
            ListFilter("section_id", SectionFilter),
            ListFilter(
                "is_class_representative",
                Annotated[bool | None, QueryParameter(name="isClassRepresentative")],
            ),
        ),
        docs=STUDENT_DOCS,
    )
)

FACULTY_DOCS = ResourceDocs(
    list=(
        "Admins and teachers: the institution's teachers, by id (filters: department, a\n"
        "subject they are qualified for, admins)."
    ),
    create="Admin: add a teacher (``isAdmin`` makes them an administrator too).",
    get="Admins and teachers: one teacher.",
    update="Admin: change a teacher (an admin cannot take away their own admin role).",
    delete="Admin: delete a teacher without assignments, sessions or covers (not oneself).",
)

FacultyController = resource_controller(
    Resource(
        path="/api/v1/faculty",
        tags=PEOPLE,
        doc="The teachers (and admins).",
        singular="Faculty",
        plural="Faculty",
        key="faculty_id",
        key_description="faculty id",
        key_type=FacultyId,
        entity_key=lambda faculty: faculty.id,
        catalogue=FacultyCatalogue,
        out=FacultyOut,
        page_out=FacultyPageOut,
        body=FacultyIn,
        patch_body=FacultyPatch,
        filters=(
            ListFilter("department", Annotated[str | None, QueryParameter(max_length=100)]),
            ListFilter(
                "qualified_subject",
                Annotated[str | None, QueryParameter(name="qualifiedSubject", max_length=64)],
                field="qualified_subjects",
            ),
            ListFilter("is_admin", Annotated[bool | None, QueryParameter(name="isAdmin")]),
        ),
        docs=FACULTY_DOCS,
    )
)

ROUTES = [SectionController, StudentController, FacultyController]
