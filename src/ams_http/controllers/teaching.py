"""Teaching: subjects, teaching assignments and the weekly timetable (PRODUCT.md §2.1).

Admins and teachers read; admins write. Paging, ``version`` and ``in_use`` work as in
:mod:`ams_http.controllers.people`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import (
    AssignmentId,
    Principal,
    SlotId,
    SubjectCode,
    SubjectKind,
)
from ams_core.use_cases import (
    AssignmentCatalogue,
    SlotCatalogue,
    SubjectCatalogue,
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

SubjectPath = Annotated[str, PathParameter(max_length=64, description="subject code")]
AssignmentPath = Annotated[str, PathParameter(max_length=64, description="assignment id")]
SlotPath = Annotated[str, PathParameter(max_length=64, description="weekly slot id")]

SUBJECTS = "/api/v1/subjects"
TIMETABLE = ["timetable"]


class SubjectController(Controller):
    """The subjects, by code."""

    path = SUBJECTS
    tags = TIMETABLE

    @get(operation_id="listSubjects", **READS)
    @inject
    async def list_subjects(
        self,
        actor: FromDishka[Principal],
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
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return SubjectPageOut(items=[SubjectOut.of(s) for s in page.items], **counts(page))

    @post(operation_id="createSubject", **CREATES)
    @inject
    async def create_subject(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[SubjectIn],
        catalogue: FromDishka[SubjectCatalogue],
    ) -> Response[SubjectOut]:
        """Admin: add a subject (theory unless ``kind`` says lab)."""
        subject = await run(catalogue.create, actor, data.changes())
        return created(SubjectOut.of(subject), f"{SUBJECTS}/{subject.code}")

    @get("/{code:str}", operation_id="getSubject", **READS)
    @inject
    async def get_subject(
        self,
        actor: FromDishka[Principal],
        code: SubjectPath,
        catalogue: FromDishka[SubjectCatalogue],
    ) -> SubjectOut:
        """Admins and teachers: one subject."""
        return SubjectOut.of(await run(catalogue.get, actor, SubjectCode(code)))

    @patch("/{code:str}", operation_id="updateSubject", **UPDATES)
    @inject
    async def update_subject(
        self,
        actor: FromDishka[Principal],
        code: SubjectPath,
        data: JSONBody[SubjectPatch],
        catalogue: FromDishka[SubjectCatalogue],
    ) -> SubjectOut:
        """Admin: change a subject's names or kind (the code is its key and stays)."""
        return SubjectOut.of(await updated(catalogue, actor, SubjectCode(code), data))

    @delete("/{code:str}", operation_id="deleteSubject", **DELETES)
    @inject
    async def delete_subject(
        self,
        actor: FromDishka[Principal],
        code: SubjectPath,
        catalogue: FromDishka[SubjectCatalogue],
    ) -> None:
        """Admin: delete a subject nobody teaches and no session was held in."""
        await run(catalogue.delete, actor, SubjectCode(code))


ASSIGNMENTS = "/api/v1/assignments"


class AssignmentController(Controller):
    """Teaching assignments: who teaches which subject to which section."""

    path = ASSIGNMENTS
    tags = TIMETABLE

    @get(operation_id="listAssignments", **READS)
    @inject
    async def list_assignments(
        self,
        actor: FromDishka[Principal],
        catalogue: FromDishka[AssignmentCatalogue],
        faculty_id: Annotated[str | None, QueryParameter(name="facultyId", max_length=64)] = None,
        subject_code: Annotated[
            str | None, QueryParameter(name="subjectCode", max_length=64)
        ] = None,
        section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
        text: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> AssignmentPageOut:
        """Admins and teachers: who teaches which subject to which section, by id."""
        filters = {"faculty_id": faculty_id, "subject_code": subject_code, "section_id": section_id}
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return AssignmentPageOut(items=[AssignmentOut.of(a) for a in page.items], **counts(page))

    @post(operation_id="createAssignment", **CREATES)
    @inject
    async def create_assignment(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[AssignmentIn],
        catalogue: FromDishka[AssignmentCatalogue],
    ) -> Response[AssignmentOut]:
        """Admin: let a teacher teach a subject to a section (the id is generated if left out)."""
        assignment = await run(catalogue.create, actor, data.changes())
        return created(AssignmentOut.of(assignment), f"{ASSIGNMENTS}/{assignment.id}")

    @get("/{assignment_id:str}", operation_id="getAssignment", **READS)
    @inject
    async def get_assignment(
        self,
        actor: FromDishka[Principal],
        assignment_id: AssignmentPath,
        catalogue: FromDishka[AssignmentCatalogue],
    ) -> AssignmentOut:
        """Admins and teachers: one teaching assignment."""
        found = await run(catalogue.get, actor, AssignmentId(assignment_id))
        return AssignmentOut.of(found)

    @patch("/{assignment_id:str}", operation_id="updateAssignment", **UPDATES)
    @inject
    async def update_assignment(
        self,
        actor: FromDishka[Principal],
        assignment_id: AssignmentPath,
        data: JSONBody[AssignmentPatch],
        catalogue: FromDishka[AssignmentCatalogue],
    ) -> AssignmentOut:
        """Admin: hand an assignment to another teacher (its weekly slots must stay free of
        double bookings: 409 ``schedule_conflict``); subject and section change only while it
        has no sessions.
        """
        return AssignmentOut.of(await updated(catalogue, actor, AssignmentId(assignment_id), data))

    @delete("/{assignment_id:str}", operation_id="deleteAssignment", **DELETES)
    @inject
    async def delete_assignment(
        self,
        actor: FromDishka[Principal],
        assignment_id: AssignmentPath,
        catalogue: FromDishka[AssignmentCatalogue],
    ) -> None:
        """Admin: delete an assignment that has no sessions (its weekly slots go with it)."""
        await run(catalogue.delete, actor, AssignmentId(assignment_id))


SLOTS = "/api/v1/slots"


class SlotController(Controller):
    """The weekly timetable."""

    path = SLOTS
    tags = TIMETABLE

    @get(operation_id="listSlots", **READS)
    @inject
    async def list_slots(
        self,
        actor: FromDishka[Principal],
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
        page = await run(catalogue.list, actor, filters, text, page_request(limit, offset))
        return SlotPageOut(items=[SlotOut.of(s) for s in page.items], **counts(page))

    @post(operation_id="createSlot", **CREATES)
    @inject
    async def create_slot(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[SlotIn],
        catalogue: FromDishka[SlotCatalogue],
    ) -> Response[SlotOut]:
        """Admin: add a weekly slot (``end`` after ``start``); 409 ``schedule_conflict`` (with
        ``clashes``) when the teacher, the section or the venue is booked then. Weeks generated
        later include it.
        """
        slot = await run(catalogue.create, actor, data.changes())
        return created(SlotOut.of(slot), f"{SLOTS}/{slot.id}")

    @get("/{slot_id:str}", operation_id="getSlot", **READS)
    @inject
    async def get_slot(
        self,
        actor: FromDishka[Principal],
        slot_id: SlotPath,
        catalogue: FromDishka[SlotCatalogue],
    ) -> SlotOut:
        """Admins and teachers: one weekly slot."""
        return SlotOut.of(await run(catalogue.get, actor, SlotId(slot_id)))

    @patch("/{slot_id:str}", operation_id="updateSlot", **UPDATES)
    @inject
    async def update_slot(
        self,
        actor: FromDishka[Principal],
        slot_id: SlotPath,
        data: JSONBody[SlotPatch],
        catalogue: FromDishka[SlotCatalogue],
    ) -> SlotOut:
        """Admin: move a weekly slot (the resulting ``end`` must be after ``start``; sessions
        already generated stay as they are).
        """
        return SlotOut.of(await updated(catalogue, actor, SlotId(slot_id), data))

    @delete("/{slot_id:str}", operation_id="deleteSlot", **DELETES)
    @inject
    async def delete_slot(
        self,
        actor: FromDishka[Principal],
        slot_id: SlotPath,
        catalogue: FromDishka[SlotCatalogue],
    ) -> None:
        """Admin: delete a weekly slot (sessions already generated from it stay)."""
        await run(catalogue.delete, actor, SlotId(slot_id))


ROUTES = [SubjectController, AssignmentController, SlotController]
