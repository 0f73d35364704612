"""Managing the institution: sections, students, faculty, subjects, teaching assignments,
weekly slots, terms, holidays and the institution's settings (PRODUCT.md §2.1–2.2).

Reading is for the institution's staff (sections, terms and holidays: every member; a
teacher sees the students of the sections they teach); writing is for its admins. Another
institution's record answers 404 whatever its id. Lists are paged (``limit``, ``offset``)
and answer ``{items, total, limit, offset}``; every record carries its ``version``, which
a patch may send back to refuse overwriting somebody else's change (409
``concurrent_update``). A record that history refers to cannot be deleted (409 ``in_use``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from ams_core.domain import (
    AssignmentId,
    DateRange,
    FacultyId,
    SectionId,
    SlotId,
    StudentId,
    SubjectCode,
    SubjectKind,
    TermId,
)
from ams_core.use_cases import (
    AssignmentCatalogue,
    FacultyCatalogue,
    HolidayCalendar,
    InstitutionProfile,
    Page,
    PageRequest,
    SectionCatalogue,
    SlotCatalogue,
    StudentCatalogue,
    SubjectCatalogue,
    TermCatalogue,
)
from ams_http.auth import actor
from ams_http.controllers._run import created, run_wire
from ams_http.openapi import IDEMPOTENT, INPUT, SIGNED_IN, IdempotentOperation, problems
from ams_http.schemas.management import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPageOut,
    AssignmentPatch,
    FacultyIn,
    FacultyOut,
    FacultyPageOut,
    FacultyPatch,
    HolidayDeclaredOut,
    HolidayIn,
    HolidayOut,
    HolidayPageOut,
    InstitutionOut,
    InstitutionPatch,
    SectionIn,
    SectionOut,
    SectionPageOut,
    SectionPatch,
    SlotIn,
    SlotOut,
    SlotPageOut,
    SlotPatch,
    StudentIn,
    StudentOut,
    StudentPageOut,
    StudentPatch,
    SubjectIn,
    SubjectOut,
    SubjectPageOut,
    SubjectPatch,
    TermIn,
    TermOut,
    TermPageOut,
    TermPatch,
    counts,
)

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (at most 500)")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="items to skip")]
Search = Annotated[
    str | None,
    QueryParameter(name="q", max_length=200, description="free text (id, name, email …)"),
]
SectionPath = Annotated[str, PathParameter(max_length=64, description="section id")]
StudentPath = Annotated[str, PathParameter(max_length=64, description="student (roll) id")]
FacultyPath = Annotated[str, PathParameter(max_length=64, description="faculty id")]
SubjectPath = Annotated[str, PathParameter(max_length=64, description="subject code")]
AssignmentPath = Annotated[str, PathParameter(max_length=64, description="assignment id")]
SlotPath = Annotated[str, PathParameter(max_length=64, description="weekly slot id")]
TermPath = Annotated[str, PathParameter(max_length=64, description="term id")]

READ = problems(*SIGNED_IN, *INPUT, 403, 404)
WRITE = problems(*SIGNED_IN, *IDEMPOTENT, 403, 404, 409, 413)
REMOVE = problems(*SIGNED_IN, *IDEMPOTENT, 403, 404)


def _page(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)


# -- sections ---------------------------------------------------------------------------
SECTIONS = "/api/v1/sections"
SECTION = "/api/v1/sections/{section_id:str}"
PEOPLE = ["people"]


@get(SECTIONS, tags=PEOPLE, operation_id="listSections", responses=READ)
@inject
async def list_sections(
    request: Request[Any, Any, Any],
    catalogue: FromDishka[SectionCatalogue],
    year: Annotated[int | None, QueryParameter(ge=1, le=12)] = None,
    department: Annotated[str | None, QueryParameter(max_length=100)] = None,
    text: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SectionPageOut:
    """Every member of the institution: its sections, by id (filters: year, department)."""
    filters = {"year": year, "department": department}
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return SectionPageOut(items=[SectionOut.of(s) for s in page.items], **counts(page))


@post(
    SECTIONS,
    tags=PEOPLE,
    operation_id="createSection",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_section(
    request: Request[Any, Any, Any],
    data: JSONBody[SectionIn],
    catalogue: FromDishka[SectionCatalogue],
) -> Response[SectionOut]:
    """Admin: add a section (409 ``section_exists`` if the id is taken)."""
    section = await run_wire(catalogue.create, actor(request), data.fields())
    return created(SectionOut.of(section), f"{SECTIONS}/{section.id}")


@get(SECTION, tags=PEOPLE, operation_id="getSection", responses=READ)
@inject
async def get_section(
    request: Request[Any, Any, Any],
    section_id: SectionPath,
    catalogue: FromDishka[SectionCatalogue],
) -> SectionOut:
    """Every member of the institution: one section."""
    return SectionOut.of(await run_wire(catalogue.get, actor(request), SectionId(section_id)))


@patch(
    SECTION,
    tags=PEOPLE,
    operation_id="updateSection",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_section(
    request: Request[Any, Any, Any],
    section_id: SectionPath,
    data: JSONBody[SectionPatch],
    catalogue: FromDishka[SectionCatalogue],
) -> SectionOut:
    """Admin: change a section's year, department or name."""
    section = await run_wire(
        catalogue.update,
        actor(request),
        SectionId(section_id),
        data.fields(),
        expected_version=data.version,
    )
    return SectionOut.of(section)


@delete(
    SECTION,
    tags=PEOPLE,
    operation_id="deleteSection",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_section(
    request: Request[Any, Any, Any],
    section_id: SectionPath,
    catalogue: FromDishka[SectionCatalogue],
) -> None:
    """Admin: delete a section without students, teaching assignments or sessions."""
    await run_wire(catalogue.delete, actor(request), SectionId(section_id))


# -- students ---------------------------------------------------------------------------
STUDENTS = "/api/v1/students"
STUDENT = "/api/v1/students/{student_id:str}"


@get(STUDENTS, tags=PEOPLE, operation_id="listStudents", responses=READ)
@inject
async def list_students(
    request: Request[Any, Any, Any],
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
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return StudentPageOut(items=[StudentOut.of(s) for s in page.items], **counts(page))


@post(
    STUDENTS,
    tags=PEOPLE,
    operation_id="createStudent",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_student(
    request: Request[Any, Any, Any],
    data: JSONBody[StudentIn],
    catalogue: FromDishka[StudentCatalogue],
) -> Response[StudentOut]:
    """Admin: enrol a student (the email must be in one of the institution's domains)."""
    student = await run_wire(catalogue.create, actor(request), data.fields())
    return created(StudentOut.of(student), f"{STUDENTS}/{student.id}")


@get(STUDENT, tags=PEOPLE, operation_id="getStudent", responses=READ)
@inject
async def get_student(
    request: Request[Any, Any, Any],
    student_id: StudentPath,
    catalogue: FromDishka[StudentCatalogue],
) -> StudentOut:
    """Admin, a teacher of the student's section, or the student themself (any other
    student: 404).
    """
    return StudentOut.of(await run_wire(catalogue.get, actor(request), StudentId(student_id)))


@patch(
    STUDENT,
    tags=PEOPLE,
    operation_id="updateStudent",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_student(
    request: Request[Any, Any, Any],
    student_id: StudentPath,
    data: JSONBody[StudentPatch],
    catalogue: FromDishka[StudentCatalogue],
) -> StudentOut:
    """Admin: change a student (a new email ends the sign-ins of the old one)."""
    student = await run_wire(
        catalogue.update,
        actor(request),
        StudentId(student_id),
        data.fields(),
        expected_version=data.version,
    )
    return StudentOut.of(student)


@delete(
    STUDENT,
    tags=PEOPLE,
    operation_id="deleteStudent",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_student(
    request: Request[Any, Any, Any],
    student_id: StudentPath,
    catalogue: FromDishka[StudentCatalogue],
) -> None:
    """Admin: delete a student without attendance history (their device binding, push
    registrations and sign-ins go with them).
    """
    await run_wire(catalogue.delete, actor(request), StudentId(student_id))


# -- faculty ----------------------------------------------------------------------------
FACULTY = "/api/v1/faculty"
ONE_FACULTY = "/api/v1/faculty/{faculty_id:str}"


@get(FACULTY, tags=PEOPLE, operation_id="listFaculty", responses=READ)
@inject
async def list_faculty(
    request: Request[Any, Any, Any],
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
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return FacultyPageOut(items=[FacultyOut.of(f) for f in page.items], **counts(page))


@post(
    FACULTY,
    tags=PEOPLE,
    operation_id="createFaculty",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_faculty(
    request: Request[Any, Any, Any],
    data: JSONBody[FacultyIn],
    catalogue: FromDishka[FacultyCatalogue],
) -> Response[FacultyOut]:
    """Admin: add a teacher (``isAdmin`` makes them an administrator too)."""
    faculty = await run_wire(catalogue.create, actor(request), data.fields())
    return created(FacultyOut.of(faculty), f"{FACULTY}/{faculty.id}")


@get(ONE_FACULTY, tags=PEOPLE, operation_id="getFaculty", responses=READ)
@inject
async def get_faculty(
    request: Request[Any, Any, Any],
    faculty_id: FacultyPath,
    catalogue: FromDishka[FacultyCatalogue],
) -> FacultyOut:
    """Admins and teachers: one teacher."""
    return FacultyOut.of(await run_wire(catalogue.get, actor(request), FacultyId(faculty_id)))


@patch(
    ONE_FACULTY,
    tags=PEOPLE,
    operation_id="updateFaculty",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_faculty(
    request: Request[Any, Any, Any],
    faculty_id: FacultyPath,
    data: JSONBody[FacultyPatch],
    catalogue: FromDishka[FacultyCatalogue],
) -> FacultyOut:
    """Admin: change a teacher (an admin cannot take away their own admin role)."""
    faculty = await run_wire(
        catalogue.update,
        actor(request),
        FacultyId(faculty_id),
        data.fields(),
        expected_version=data.version,
    )
    return FacultyOut.of(faculty)


@delete(
    ONE_FACULTY,
    tags=PEOPLE,
    operation_id="deleteFaculty",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_faculty(
    request: Request[Any, Any, Any],
    faculty_id: FacultyPath,
    catalogue: FromDishka[FacultyCatalogue],
) -> None:
    """Admin: delete a teacher without assignments, sessions or covers (not oneself)."""
    await run_wire(catalogue.delete, actor(request), FacultyId(faculty_id))


# -- subjects ---------------------------------------------------------------------------
SUBJECTS = "/api/v1/subjects"
SUBJECT = "/api/v1/subjects/{code:str}"
TIMETABLE = ["timetable"]


@get(SUBJECTS, tags=TIMETABLE, operation_id="listSubjects", responses=READ)
@inject
async def list_subjects(
    request: Request[Any, Any, Any],
    catalogue: FromDishka[SubjectCatalogue],
    kind: Annotated[Literal["theory", "lab"] | None, QueryParameter()] = None,
    text: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SubjectPageOut:
    """Admins and teachers: the subjects, by code (filter: kind; ``q`` searches the code and
    names).
    """
    filters = {"kind": SubjectKind(kind) if kind else None}
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return SubjectPageOut(items=[SubjectOut.of(s) for s in page.items], **counts(page))


@post(
    SUBJECTS,
    tags=TIMETABLE,
    operation_id="createSubject",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_subject(
    request: Request[Any, Any, Any],
    data: JSONBody[SubjectIn],
    catalogue: FromDishka[SubjectCatalogue],
) -> Response[SubjectOut]:
    """Admin: add a subject (theory unless ``kind`` says lab)."""
    subject = await run_wire(catalogue.create, actor(request), data.fields())
    return created(SubjectOut.of(subject), f"{SUBJECTS}/{subject.code}")


@get(SUBJECT, tags=TIMETABLE, operation_id="getSubject", responses=READ)
@inject
async def get_subject(
    request: Request[Any, Any, Any],
    code: SubjectPath,
    catalogue: FromDishka[SubjectCatalogue],
) -> SubjectOut:
    """Admins and teachers: one subject."""
    return SubjectOut.of(await run_wire(catalogue.get, actor(request), SubjectCode(code)))


@patch(
    SUBJECT,
    tags=TIMETABLE,
    operation_id="updateSubject",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_subject(
    request: Request[Any, Any, Any],
    code: SubjectPath,
    data: JSONBody[SubjectPatch],
    catalogue: FromDishka[SubjectCatalogue],
) -> SubjectOut:
    """Admin: change a subject's names or kind (the code is its key and stays)."""
    subject = await run_wire(
        catalogue.update,
        actor(request),
        SubjectCode(code),
        data.fields(),
        expected_version=data.version,
    )
    return SubjectOut.of(subject)


@delete(
    SUBJECT,
    tags=TIMETABLE,
    operation_id="deleteSubject",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_subject(
    request: Request[Any, Any, Any],
    code: SubjectPath,
    catalogue: FromDishka[SubjectCatalogue],
) -> None:
    """Admin: delete a subject nobody teaches and no session was held in."""
    await run_wire(catalogue.delete, actor(request), SubjectCode(code))


# -- teaching assignments ---------------------------------------------------------------
ASSIGNMENTS = "/api/v1/assignments"
ASSIGNMENT = "/api/v1/assignments/{assignment_id:str}"


@get(ASSIGNMENTS, tags=TIMETABLE, operation_id="listAssignments", responses=READ)
@inject
async def list_assignments(
    request: Request[Any, Any, Any],
    catalogue: FromDishka[AssignmentCatalogue],
    faculty_id: Annotated[str | None, QueryParameter(name="facultyId", max_length=64)] = None,
    subject_code: Annotated[str | None, QueryParameter(name="subjectCode", max_length=64)] = None,
    section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
    text: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AssignmentPageOut:
    """Admins and teachers: who teaches which subject to which section, by id."""
    filters = {"faculty_id": faculty_id, "subject_code": subject_code, "section_id": section_id}
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return AssignmentPageOut(items=[AssignmentOut.of(a) for a in page.items], **counts(page))


@post(
    ASSIGNMENTS,
    tags=TIMETABLE,
    operation_id="createAssignment",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_assignment(
    request: Request[Any, Any, Any],
    data: JSONBody[AssignmentIn],
    catalogue: FromDishka[AssignmentCatalogue],
) -> Response[AssignmentOut]:
    """Admin: let a teacher teach a subject to a section (the id is generated if left out)."""
    assignment = await run_wire(catalogue.create, actor(request), data.fields())
    return created(AssignmentOut.of(assignment), f"{ASSIGNMENTS}/{assignment.id}")


@get(ASSIGNMENT, tags=TIMETABLE, operation_id="getAssignment", responses=READ)
@inject
async def get_assignment(
    request: Request[Any, Any, Any],
    assignment_id: AssignmentPath,
    catalogue: FromDishka[AssignmentCatalogue],
) -> AssignmentOut:
    """Admins and teachers: one teaching assignment."""
    found = await run_wire(catalogue.get, actor(request), AssignmentId(assignment_id))
    return AssignmentOut.of(found)


@patch(
    ASSIGNMENT,
    tags=TIMETABLE,
    operation_id="updateAssignment",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_assignment(
    request: Request[Any, Any, Any],
    assignment_id: AssignmentPath,
    data: JSONBody[AssignmentPatch],
    catalogue: FromDishka[AssignmentCatalogue],
) -> AssignmentOut:
    """Admin: hand an assignment to another teacher (its weekly slots must stay free of
    double bookings: 409 ``schedule_conflict``); subject and section change only while it
    has no sessions.
    """
    assignment = await run_wire(
        catalogue.update,
        actor(request),
        AssignmentId(assignment_id),
        data.fields(),
        expected_version=data.version,
    )
    return AssignmentOut.of(assignment)


@delete(
    ASSIGNMENT,
    tags=TIMETABLE,
    operation_id="deleteAssignment",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_assignment(
    request: Request[Any, Any, Any],
    assignment_id: AssignmentPath,
    catalogue: FromDishka[AssignmentCatalogue],
) -> None:
    """Admin: delete an assignment that has no sessions (its weekly slots go with it)."""
    await run_wire(catalogue.delete, actor(request), AssignmentId(assignment_id))


# -- weekly slots -----------------------------------------------------------------------
SLOTS = "/api/v1/slots"
SLOT = "/api/v1/slots/{slot_id:str}"


@get(SLOTS, tags=TIMETABLE, operation_id="listSlots", responses=READ)
@inject
async def list_slots(
    request: Request[Any, Any, Any],
    catalogue: FromDishka[SlotCatalogue],
    assignment_id: Annotated[str | None, QueryParameter(name="assignmentId", max_length=64)] = (
        None
    ),
    weekday: Annotated[int | None, QueryParameter(ge=1, le=7, description="1 = Monday")] = None,
    section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
    faculty_id: Annotated[str | None, QueryParameter(name="facultyId", max_length=64)] = None,
    text: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SlotPageOut:
    """Admins and teachers: the weekly timetable, by weekday and start (filters:
    assignment, weekday, section, teacher).
    """
    filters = {
        "assignment_id": assignment_id,
        "weekday": weekday,
        "section_id": section_id,
        "faculty_id": faculty_id,
    }
    page = await run_wire(catalogue.list, actor(request), filters, text, _page(limit, offset))
    return SlotPageOut(items=[SlotOut.of(s) for s in page.items], **counts(page))


@post(
    SLOTS,
    tags=TIMETABLE,
    operation_id="createSlot",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_slot(
    request: Request[Any, Any, Any],
    data: JSONBody[SlotIn],
    catalogue: FromDishka[SlotCatalogue],
) -> Response[SlotOut]:
    """Admin: add a weekly slot (``end`` after ``start``); 409 ``schedule_conflict`` (with
    ``clashes``) when the teacher, the section or the venue is booked then. Weeks generated
    later include it.
    """
    slot = await run_wire(catalogue.create, actor(request), data.fields())
    return created(SlotOut.of(slot), f"{SLOTS}/{slot.id}")


@get(SLOT, tags=TIMETABLE, operation_id="getSlot", responses=READ)
@inject
async def get_slot(
    request: Request[Any, Any, Any],
    slot_id: SlotPath,
    catalogue: FromDishka[SlotCatalogue],
) -> SlotOut:
    """Admins and teachers: one weekly slot."""
    return SlotOut.of(await run_wire(catalogue.get, actor(request), SlotId(slot_id)))


@patch(
    SLOT,
    tags=TIMETABLE,
    operation_id="updateSlot",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_slot(
    request: Request[Any, Any, Any],
    slot_id: SlotPath,
    data: JSONBody[SlotPatch],
    catalogue: FromDishka[SlotCatalogue],
) -> SlotOut:
    """Admin: move a weekly slot (the resulting ``end`` must be after ``start``; sessions
    already generated stay as they are).
    """
    slot = await run_wire(
        catalogue.update,
        actor(request),
        SlotId(slot_id),
        data.fields(),
        expected_version=data.version,
    )
    return SlotOut.of(slot)


@delete(
    SLOT,
    tags=TIMETABLE,
    operation_id="deleteSlot",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_slot(
    request: Request[Any, Any, Any],
    slot_id: SlotPath,
    catalogue: FromDishka[SlotCatalogue],
) -> None:
    """Admin: delete a weekly slot (sessions already generated from it stay)."""
    await run_wire(catalogue.delete, actor(request), SlotId(slot_id))


# -- terms ------------------------------------------------------------------------------
TERMS = "/api/v1/terms"
TERM = "/api/v1/terms/{term_id:str}"
CALENDAR = ["calendar"]


@get(TERMS, tags=CALENDAR, operation_id="listTerms", responses=READ)
@inject
async def list_terms(
    request: Request[Any, Any, Any],
    catalogue: FromDishka[TermCatalogue],
    text: Search = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TermPageOut:
    """Every member of the institution: the teaching terms, by start date."""
    page = await run_wire(catalogue.list, actor(request), None, text, _page(limit, offset))
    return TermPageOut(items=[TermOut.of(t) for t in page.items], **counts(page))


@post(
    TERMS,
    tags=CALENDAR,
    operation_id="createTerm",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_term(
    request: Request[Any, Any, Any],
    data: JSONBody[TermIn],
    catalogue: FromDishka[TermCatalogue],
) -> Response[TermOut]:
    """Admin: add a teaching term, ``end`` not before ``start`` (409 ``term_overlap`` if it
    overlaps another one).
    """
    term = await run_wire(catalogue.create, actor(request), data.fields())
    return created(TermOut.of(term), f"{TERMS}/{term.id}")


@get(TERM, tags=CALENDAR, operation_id="getTerm", responses=READ)
@inject
async def get_term(
    request: Request[Any, Any, Any],
    term_id: TermPath,
    catalogue: FromDishka[TermCatalogue],
) -> TermOut:
    """Every member of the institution: one term."""
    return TermOut.of(await run_wire(catalogue.get, actor(request), TermId(term_id)))


@patch(
    TERM,
    tags=CALENDAR,
    operation_id="updateTerm",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_term(
    request: Request[Any, Any, Any],
    term_id: TermPath,
    data: JSONBody[TermPatch],
    catalogue: FromDishka[TermCatalogue],
) -> TermOut:
    """Admin: rename a term or move its dates (the resulting ``end`` not before ``start``;
    terms never overlap).
    """
    term = await run_wire(
        catalogue.update,
        actor(request),
        TermId(term_id),
        data.fields(),
        expected_version=data.version,
    )
    return TermOut.of(term)


@delete(
    TERM,
    tags=CALENDAR,
    operation_id="deleteTerm",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def delete_term(
    request: Request[Any, Any, Any],
    term_id: TermPath,
    catalogue: FromDishka[TermCatalogue],
) -> None:
    """Admin: delete a term (sessions already generated in it stay)."""
    await run_wire(catalogue.delete, actor(request), TermId(term_id))


# -- holidays ---------------------------------------------------------------------------
HOLIDAYS = "/api/v1/holidays"


@get(HOLIDAYS, tags=CALENDAR, operation_id="listHolidays", responses=READ)
@inject
async def list_holidays(
    request: Request[Any, Any, Any],
    calendar: FromDishka[HolidayCalendar],
    start: Annotated[date | None, QueryParameter(name="from")] = None,
    end: Annotated[date | None, QueryParameter(name="to")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> HolidayPageOut:
    """Every member of the institution: holidays by date (between ``from`` and ``to``, both
    optional).
    """
    dates = None if start is None and end is None else DateRange(start or date.min, end or date.max)
    holidays = await run_wire(calendar.list, actor(request), dates)
    page = Page.of(holidays, _page(limit, offset))
    return HolidayPageOut(items=[HolidayOut.of(h) for h in page.items], **counts(page))


@post(
    HOLIDAYS,
    tags=CALENDAR,
    operation_id="declareHoliday",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def declare_holiday(
    request: Request[Any, Any, Any],
    data: JSONBody[HolidayIn],
    calendar: FromDishka[HolidayCalendar],
) -> Response[HolidayDeclaredOut]:
    """Admin: declare a holiday; the classes still scheduled that day are cancelled and
    their sections told (``cancelledSessions``). 409 ``holiday_exists`` if it is one already.
    """
    declared = await run_wire(calendar.declare, actor(request), data.date, data.name)
    return created(HolidayDeclaredOut.of(declared), f"{HOLIDAYS}/{data.date.isoformat()}")


@delete(
    "/api/v1/holidays/{day:date}",
    tags=CALENDAR,
    operation_id="removeHoliday",
    status_code=HTTP_204_NO_CONTENT,
    operation_class=IdempotentOperation,
    responses=REMOVE,
)
@inject
async def remove_holiday(
    request: Request[Any, Any, Any],
    day: Annotated[date, PathParameter(description="the holiday's date (YYYY-MM-DD)")],
    calendar: FromDishka[HolidayCalendar],
) -> None:
    """Admin: remove a holiday (classes it cancelled stay cancelled)."""
    await run_wire(calendar.remove, actor(request), day)


# -- institution settings ---------------------------------------------------------------
SETTINGS = "/api/v1/institution/settings"
INSTITUTION = ["institution"]


@get(SETTINGS, tags=INSTITUTION, operation_id="getInstitutionSettings", responses=READ)
@inject
async def get_institution_settings(
    request: Request[Any, Any, Any], profile: FromDishka[InstitutionProfile]
) -> InstitutionOut:
    """Admin: the institution's name, timezone, email domains and attendance and cover
    settings.
    """
    return InstitutionOut.of(await run_wire(profile.get, actor(request)))


@patch(
    SETTINGS,
    tags=INSTITUTION,
    operation_id="updateInstitutionSettings",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_institution_settings(
    request: Request[Any, Any, Any],
    data: JSONBody[InstitutionPatch],
    profile: FromDishka[InstitutionProfile],
) -> InstitutionOut:
    """Admin: change the name, timezone or settings; settings left out keep their values
    (``cover`` too, field by field).
    """
    institution = await run_wire(
        profile.update, actor(request), data.changes(), expected_version=data.version
    )
    return InstitutionOut.of(institution)


ROUTES = [
    list_sections,
    create_section,
    get_section,
    update_section,
    delete_section,
    list_students,
    create_student,
    get_student,
    update_student,
    delete_student,
    list_faculty,
    create_faculty,
    get_faculty,
    update_faculty,
    delete_faculty,
    list_subjects,
    create_subject,
    get_subject,
    update_subject,
    delete_subject,
    list_assignments,
    create_assignment,
    get_assignment,
    update_assignment,
    delete_assignment,
    list_slots,
    create_slot,
    get_slot,
    update_slot,
    delete_slot,
    list_terms,
    create_term,
    get_term,
    update_term,
    delete_term,
    list_holidays,
    declare_holiday,
    remove_holiday,
    get_institution_settings,
    update_institution_settings,
]
