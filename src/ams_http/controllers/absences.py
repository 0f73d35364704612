"""Teacher absences: report, list, read, approve and cancel (PRODUCT.md §2.6).

A teacher reports and reads their own absences (another teacher's is not found); an admin
records anybody's and approves or cancels any. An approved absence turns every class of the
teacher inside it into a cover need (see ``/api/v1/cover``); cancelling one withdraws its
open offers, takes its covers back and gives the classes back to the teacher.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import AbsenceId, FacultyId, FieldProblem, Principal, ValidationError
from ams_core.use_cases import (
    ApproveAbsence,
    CancelAbsence,
    DecideAbsenceCommand,
    GetAbsence,
    GetAbsenceCommand,
    ListAbsences,
    ListAbsencesCommand,
    ReportAbsence,
    ReportAbsenceCommand,
)
from ams_http.controllers._params import CREATES, READ, Limit, Offset, acts
from ams_http.controllers._run import created, run
from ams_http.schemas.cover import AbsenceIn, AbsenceOut, AbsencePageOut, AbsenceWithNeedsOut

ABSENCES = "/api/v1/absences"
ABSENCE = "/api/v1/absences/{absence_id:str}"
TAGS = ["absences"]
AbsencePath = Annotated[str, PathParameter(max_length=64, description="absence id")]


def require_offsets(**instants: datetime | None) -> None:
    """Refuse instants without a UTC offset (they cannot be compared with stored ones)."""
    problems = [
        FieldProblem(name, "must be an instant with a UTC offset")
        for name, instant in instants.items()
        if instant is not None and instant.utcoffset() is None
    ]
    if problems:
        raise ValidationError(problems)


@post(ABSENCES, tags=TAGS, operation_id="reportAbsence", **CREATES)
@inject
async def report_absence(
    actor: FromDishka[Principal],
    data: JSONBody[AbsenceIn],
    use_case: FromDishka[ReportAbsence],
) -> Response[AbsenceWithNeedsOut]:
    """A teacher: report their own absence (``facultyId`` left out or their own; another
    teacher's id is not found). An admin: record a teacher's absence (``facultyId``
    required). ``start`` and ``end`` are instants with their UTC offset, ``end`` after
    ``start``, at most 92 days apart. The absence is approved at once, unless the
    institution requires approval of the absences teachers report; once approved, every
    class of the teacher inside it becomes a cover need (``coverNeeds``).
    """
    command = ReportAbsenceCommand(
        actor,
        start=data.start,
        end=data.end,
        type=data.type,
        faculty_id=FacultyId(data.faculty_id) if data.faculty_id else None,
        note=data.note,
    )
    result = await run(use_case, command)
    return created(AbsenceWithNeedsOut.of_result(result), f"{ABSENCES}/{result.absence.id}")


@get(ABSENCES, tags=TAGS, operation_id="listAbsences", responses=READ)
@inject
async def list_absences(
    actor: FromDishka[Principal],
    use_case: FromDishka[ListAbsences],
    faculty_id: Annotated[
        str | None,
        QueryParameter(name="facultyId", max_length=64, description="admins: one teacher's"),
    ] = None,
    status: Annotated[Literal["reported", "approved", "cancelled"] | None, QueryParameter()] = None,
    start: Annotated[
        datetime | None,
        QueryParameter(name="from", description="absences ending after this instant"),
    ] = None,
    end: Annotated[
        datetime | None,
        QueryParameter(name="to", description="absences starting before this instant"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AbsencePageOut:
    """An admin: the institution's absences; a teacher: their own (``facultyId`` is
    ignored). Newest first (filters: teacher, status, and the instants ``from``/``to``
    with their UTC offset, which the absence must overlap).
    """
    require_offsets(**{"from": start, "to": end})
    command = ListAbsencesCommand(
        actor,
        limit=limit,
        offset=offset,
        faculty_id=FacultyId(faculty_id) if faculty_id else None,
        status=status,
        start=start,
        end=end,
    )
    page = await run(use_case, command)
    return AbsencePageOut(
        items=[AbsenceOut.of(a) for a in page.items], total=page.total, limit=limit, offset=offset
    )


@get(ABSENCE, tags=TAGS, operation_id="getAbsence", responses=READ)
@inject
async def get_absence(
    actor: FromDishka[Principal],
    absence_id: AbsencePath,
    use_case: FromDishka[GetAbsence],
) -> AbsenceWithNeedsOut:
    """The absent teacher or an admin: one absence and its cover needs."""
    result = await run(use_case, GetAbsenceCommand(actor, AbsenceId(absence_id)))
    return AbsenceWithNeedsOut.of_result(result)


@post(f"{ABSENCE}/approve", tags=TAGS, operation_id="approveAbsence", **acts(body=False))
@inject
async def approve_absence(
    actor: FromDishka[Principal],
    absence_id: AbsencePath,
    use_case: FromDishka[ApproveAbsence],
) -> AbsenceWithNeedsOut:
    """Admin: approve a reported absence; its classes become cover needs. 409
    ``absence_already_approved`` or ``absence_cancelled``.
    """
    result = await run(use_case, DecideAbsenceCommand(actor, AbsenceId(absence_id)))
    return AbsenceWithNeedsOut.of_result(result)


@post(f"{ABSENCE}/cancel", tags=TAGS, operation_id="cancelAbsence", **acts(body=False))
@inject
async def cancel_absence(
    actor: FromDishka[Principal],
    absence_id: AbsencePath,
    use_case: FromDishka[CancelAbsence],
) -> AbsenceWithNeedsOut:
    """The absent teacher or an admin: cancel an absence. Its open offers are withdrawn,
    accepted covers taken back and the classes given back to the teacher; ``coverNeeds``
    are the needs it cancelled. 409 ``absence_cancelled`` when it already was.
    """
    result = await run(use_case, DecideAbsenceCommand(actor, AbsenceId(absence_id)))
    return AbsenceWithNeedsOut.of_result(result)


ROUTES = [report_absence, list_absences, get_absence, approve_absence, cancel_absence]
