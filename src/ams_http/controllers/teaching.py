"""Teaching: subjects, teaching assignments and the weekly timetable (PRODUCT.md §2.1).

Admins and teachers read; admins write. Paging, ``version`` and ``in_use`` work as in
:mod:`ams_http.controllers.people`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import QueryParameter

from ams_core.domain import AssignmentId, SlotId, SubjectCode, SubjectKind
from ams_core.use_cases import AssignmentCatalogue, SlotCatalogue, SubjectCatalogue
from ams_http.controllers._resource import ListFilter, Resource, ResourceDocs, resource_controller
from ams_http.schemas.teaching import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPageOut,
    AssignmentPatch,
    SlotIn,
    SlotOut,
    SlotPageOut,
    SlotPatch,
    SubjectIn,
    SubjectOut,
    SubjectPageOut,
    SubjectPatch,
)

TIMETABLE = ("timetable",)


def _id_filter(name: str, wire: str) -> ListFilter:
    """A filter by another record's id (``sectionId=…``)."""
    return ListFilter(name, Annotated[str | None, QueryParameter(name=wire, max_length=64)])


SUBJECT_DOCS = ResourceDocs(
    list=(
        "Admins and teachers: the subjects, by code (filter: kind; ``q`` searches the code and\n"
        "names)."
    ),
    create="Admin: add a subject (theory unless ``kind`` says lab).",
    get="Admins and teachers: one subject.",
    update="Admin: change a subject's names or kind (the code is its key and stays).",
    delete="Admin: delete a subject nobody teaches and no session was held in.",
)

SubjectController = resource_controller(
    Resource(
        path="/api/v1/subjects",
        tags=TIMETABLE,
        doc="The subjects, by code.",
        singular="Subject",
        plural="Subjects",
        key="code",
        key_description="subject code",
        key_type=SubjectCode,
        entity_key=lambda subject: subject.code,
        catalogue=SubjectCatalogue,
        out=SubjectOut,
        page_out=SubjectPageOut,
        body=SubjectIn,
        patch_body=SubjectPatch,
        filters=(
            ListFilter(
                "kind",
                Annotated[Literal["theory", "lab"] | None, QueryParameter()],
                convert=SubjectKind,
            ),
        ),
        docs=SUBJECT_DOCS,
    )
)

ASSIGNMENT_DOCS = ResourceDocs(
    list="Admins and teachers: who teaches which subject to which section, by id.",
    create="Admin: let a teacher teach a subject to a section (the id is generated if left out).",
    get="Admins and teachers: one teaching assignment.",
    update=(
        "Admin: hand an assignment to another teacher (its weekly slots must stay free of\n"
        "double bookings: 409 ``schedule_conflict``); subject and section change only while it\n"
        "has no sessions."
    ),
    delete="Admin: delete an assignment that has no sessions (its weekly slots go with it).",
)

AssignmentController = resource_controller(
    Resource(
        path="/api/v1/assignments",
        tags=TIMETABLE,
        doc="Teaching assignments: who teaches which subject to which section.",
        singular="Assignment",
        plural="Assignments",
        key="assignment_id",
        key_description="assignment id",
        key_type=AssignmentId,
        entity_key=lambda assignment: assignment.id,
        catalogue=AssignmentCatalogue,
        out=AssignmentOut,
        page_out=AssignmentPageOut,
        body=AssignmentIn,
        patch_body=AssignmentPatch,
        filters=(
            _id_filter("faculty_id", "facultyId"),
            _id_filter("subject_code", "subjectCode"),
            _id_filter("section_id", "sectionId"),
        ),
        docs=ASSIGNMENT_DOCS,
    )
)

SLOT_DOCS = ResourceDocs(
    list=(
        "Admins and teachers: the weekly timetable, by weekday and start (filters:\n"
        "assignment, weekday, section, teacher)."
    ),
    create=(
        "Admin: add a weekly slot (``end`` after ``start``); 409 ``schedule_conflict`` (with\n"
        "``clashes``) when the teacher, the section or the venue is booked then. Weeks generated\n"
        "later include it."
    ),
    get="Admins and teachers: one weekly slot.",
    update=(
        "Admin: move a weekly slot (the resulting ``end`` must be after ``start``; sessions\n"
        "already generated stay as they are)."
    ),
    delete="Admin: delete a weekly slot (sessions already generated from it stay).",
)

SlotController = resource_controller(
    Resource(
        path="/api/v1/slots",
        tags=TIMETABLE,
        doc="The weekly timetable.",
        singular="Slot",
        plural="Slots",
        key="slot_id",
        key_description="weekly slot id",
        key_type=SlotId,
        entity_key=lambda slot: slot.id,
        catalogue=SlotCatalogue,
        out=SlotOut,
        page_out=SlotPageOut,
        body=SlotIn,
        patch_body=SlotPatch,
        filters=(
            _id_filter("assignment_id", "assignmentId"),
            ListFilter(
                "weekday",
                Annotated[int | None, QueryParameter(ge=1, le=7, description="1 = Monday")],
            ),
            _id_filter("section_id", "sectionId"),
            _id_filter("faculty_id", "facultyId"),
        ),
        docs=SLOT_DOCS,
    )
)

ROUTES = [SubjectController, AssignmentController, SlotController]
