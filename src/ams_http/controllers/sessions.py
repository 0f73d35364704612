"""Managing dated class sessions: list, ad hoc classes, reschedule, change venue, cancel.

Admins manage every session; a teacher manages the sessions they are the teacher of record
of and adds classes to their own assignments; students read their own section's sessions.
Every change a section should hear about (moved, new venue, cancelled) is pushed to it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Response, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET

from ams_core.domain import (
    AssignmentId,
    DateRange,
    FacultyId,
    FieldProblem,
    Principal,
    SectionId,
    SessionId,
    SessionStatus,
    ValidationError,
)
from ams_core.use_cases import NewSession, PageRequest, SessionQuery, SessionScheduling
from ams_http.controllers._run import created, run
from ams_http.openapi import IDEMPOTENT, INPUT, SIGNED_IN, IdempotentOperation, problems
from ams_http.schemas.common import counts, local_times
from ams_http.schemas.sessions import (
    CancelSessionIn,
    ClassSessionOut,
    ClassSessionPageOut,
    NewSessionIn,
    SessionPatch,
)

SESSIONS = "/api/v1/sessions"
SESSION = "/api/v1/sessions/{session_id:str}"
TAGS = ["sessions"]
SessionPath = Annotated[str, PathParameter(max_length=64, description="session id")]
READ = problems(*SIGNED_IN, *INPUT, 403, 404)
WRITE = problems(*SIGNED_IN, *IDEMPOTENT, 403, 404, 409, 413)


@get(SESSIONS, tags=TAGS, operation_id="listSessions", responses=READ)
@inject
async def list_sessions(
    actor: FromDishka[Principal],
    scheduling: FromDishka[SessionScheduling],
    start: Annotated[date, QueryParameter(name="from", description="first date")],
    end: Annotated[
        date,
        QueryParameter(
            name="to",
            description="last date: not before `from`, and at most 92 days from `from` to "
            "`to`, both included",
        ),
    ],
    section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
    teacher_id: Annotated[str | None, QueryParameter(name="teacherId", max_length=64)] = None,
    status: Annotated[
        Literal["scheduled", "open", "completed", "cancelled"] | None, QueryParameter()
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500, description="page size")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
) -> ClassSessionPageOut:
    """Admin: every session between two dates; a teacher: the sessions they teach; a
    student: their section's. Ordered by date, start and id (filters: section, teacher of
    record, status).
    """
    query = SessionQuery(
        dates=DateRange(start, end),
        section_id=SectionId(section_id) if section_id else None,
        teacher_id=FacultyId(teacher_id) if teacher_id else None,
        status=SessionStatus(status) if status else None,
    )
    page = await run(scheduling.list, actor, query, PageRequest(limit=limit, offset=offset))
    return ClassSessionPageOut(items=[ClassSessionOut.of(s) for s in page.items], **counts(page))


@post(
    SESSIONS,
    tags=TAGS,
    operation_id="createSession",
    status_code=HTTP_201_CREATED,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def create_session(
    actor: FromDishka[Principal],
    data: JSONBody[NewSessionIn],
    scheduling: FromDishka[SessionScheduling],
) -> Response[ClassSessionOut]:
    """Admin, or the assignment's teacher: schedule an ad hoc (make-up or extra) class on a
    teaching day (``end`` after ``start``); 409 ``schedule_conflict`` (with ``clashes``)
    when the teacher, the section or the venue is booked then.
    """
    times = local_times(start=data.start, end=data.end)
    new = NewSession(
        assignment_id=AssignmentId(data.assignment_id),
        date=data.date,
        start=times["start"],
        end=times["end"],
        venue=data.venue,
    )
    session = await run(scheduling.create, actor, new)
    return created(ClassSessionOut.of(session), f"{SESSIONS}/{session.id}")


@get(SESSION, tags=TAGS, operation_id="getSession", responses=READ)
@inject
async def get_session(
    actor: FromDishka[Principal],
    session_id: SessionPath,
    scheduling: FromDishka[SessionScheduling],
) -> ClassSessionOut:
    """Admin, the session's teachers, or a student of its section: one session."""
    session = await run(scheduling.get, actor, SessionId(session_id))
    return ClassSessionOut.of(session)


@patch(
    SESSION,
    tags=TAGS,
    operation_id="updateSession",
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def update_session(
    actor: FromDishka[Principal],
    session_id: SessionPath,
    data: JSONBody[SessionPatch],
    scheduling: FromDishka[SessionScheduling],
) -> ClassSessionOut:
    """Admin or the teacher of record: move a scheduled class (any of ``date``, ``start``,
    ``end``; the others stay, and the resulting ``end`` must be after ``start``) and/or
    change its ``venue`` (an open class may change venue too). The section is told. 409
    ``schedule_conflict`` when the new time or room is taken.
    """
    who, key = actor, SessionId(session_id)
    moves = (data.date, data.start, data.end)
    if all(value is UNSET for value in moves):
        if data.venue is UNSET:
            raise ValidationError(
                [FieldProblem("", "nothing to change: give date, start, end or venue")]
            )
        session = await run(
            scheduling.change_venue, who, key, data.venue, expected_version=data.version
        )
        return ClassSessionOut.of(session)
    expected = data.version
    times = local_times(start=data.start, end=data.end)
    day = None if data.date is UNSET else data.date
    start, end = times.get("start"), times.get("end")
    if day is None or start is None or end is None:
        current = await run(scheduling.get, who, key)
        # the missing parts come from this read: refuse if the session changes meanwhile
        expected = current.version if expected is None else expected
        day = current.date if day is None else day
        start = current.start if start is None else start
        end = current.end if end is None else end
    venue = None if data.venue is UNSET else data.venue
    session = await run(
        scheduling.reschedule, who, key, day, start, end, venue, expected_version=expected
    )
    return ClassSessionOut.of(session)


@post(
    f"{SESSION}/cancel",
    tags=TAGS,
    operation_id="cancelSession",
    status_code=200,
    operation_class=IdempotentOperation,
    responses=WRITE,
)
@inject
async def cancel_session(
    actor: FromDishka[Principal],
    session_id: SessionPath,
    scheduling: FromDishka[SessionScheduling],
    data: JSONBody[CancelSessionIn | None] = None,
) -> ClassSessionOut:
    """Admin or the teacher of record: cancel a class that is not completed (marks already
    taken are kept) and tell the section; cancelling twice changes nothing. The body
    (``reason``, ``version``) may be left out.
    """
    body = data or CancelSessionIn()
    session = await run(
        scheduling.cancel,
        actor,
        SessionId(session_id),
        body.reason,
        expected_version=body.version,
    )
    return ClassSessionOut.of(session)


ROUTES = [list_sessions, create_session, get_session, update_session, cancel_session]
