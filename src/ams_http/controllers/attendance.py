"""The attendance side of the contract: schedule, codes, check-in, marking, reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import (
    AttendanceStatus,
    DateRange,
    FieldProblem,
    Principal,
    SessionId,
    StudentId,
    ValidationError,
)
from ams_core.use_cases import (
    CheckIn,
    CheckInCommand,
    CompleteSession,
    CompleteSessionCommand,
    GenerateWeek,
    GenerateWeekCommand,
    GetAttendanceSummary,
    GetAttendanceSummaryCommand,
    GetFacultyDashboard,
    GetFacultyDashboardCommand,
    GetSchedule,
    GetScheduleCommand,
    GetSessionRoster,
    GetSessionRosterCommand,
    MarkAttendance,
    MarkAttendanceCommand,
    MarkEntry,
    OpenAttendance,
    OpenAttendanceCommand,
)
from ams_http.auth import client_ip, signed_in
from ams_http.controllers._params import acts
from ams_http.controllers._run import run, run_in_thread
from ams_http.edge.ratelimit import CHECK_IN, RATE_LIMIT
from ams_http.openapi import INPUT, SIGNED_IN, problems
from ams_http.schemas.attendance import (
    AttendanceCodeOut,
    AttendanceSummaryOut,
    CheckInBody,
    CheckInOut,
    CompleteBody,
    CompleteOut,
    DashboardOut,
    GenerateWeekOut,
    MarkAttendanceBody,
    MarkAttendanceOut,
    RosterOut,
    ScheduleItemOut,
    ScheduleOut,
)
from ams_http.settings import HttpSettings
from ams_http.wiring import NO_REQUEST_SCOPE, build

MAX_SCHEDULE_DAYS = 62
ME = ["me"]
ATTENDANCE = ["attendance"]
#: what a signed-in person reads of their own (404: no such student or teacher record)
MINE = problems(*SIGNED_IN, 403, 404)
SessionPath = Annotated[str, PathParameter(max_length=64, description="session id")]


#: the dates a schedule may ask about (arithmetic near date.max would overflow)
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def _dates(start: date | None, end: date | None) -> DateRange:
    for name, given in (("from", start), ("to", end)):
        if given is not None and not EARLIEST <= given <= LATEST:
            raise ValidationError([FieldProblem(name, f"must be between {EARLIEST} and {LATEST}")])
    today = date.today()  # noqa: DTZ011 - a default window only; the range is explicit otherwise
    first = start or today - timedelta(days=today.weekday())
    last = end or first + timedelta(days=6)
    if last < first:
        raise ValidationError([FieldProblem("to", "must not be before from")])
    if (last - first).days >= MAX_SCHEDULE_DAYS:
        raise ValidationError(
            [FieldProblem("to", f"a schedule covers at most {MAX_SCHEDULE_DAYS} days")]
        )
    return DateRange(first, last)


class MyAttendanceController(Controller):
    """What a signed-in student or teacher sees of their own classes."""

    path = "/api/v1/me"
    tags = ME

    @get(
        "/schedule",
        operation_id="getMySchedule",
        responses=problems(*SIGNED_IN, *INPUT, 403, 404),
        opt={NO_REQUEST_SCOPE: True},
    )
    async def get_my_schedule(
        self,
        request: Request[Any, Any, Any],
        start: Annotated[
            date | None,
            QueryParameter(name="from", description="first date (default: this Monday)"),
        ] = None,
        end: Annotated[
            date | None,
            QueryParameter(
                name="to",
                description=f"last date (default: `from` + 6 days); not before `from`, and at most "
                f"{MAX_SCHEDULE_DAYS} days from `from` to `to`, both included",
            ),
        ] = None,
    ) -> ScheduleOut:
        """A student's or teacher's sessions between two dates (default: this week)."""
        dates = _dates(start, end)
        command = GetScheduleCommand(signed_in(request), dates)
        result = await run(build(request, GetSchedule), command)
        return ScheduleOut(
            from_=dates.start, to=dates.end, items=[ScheduleItemOut.of(e) for e in result.entries]
        )

    @get("/attendance", operation_id="getMyAttendance", responses=MINE)
    @inject
    async def get_my_attendance(
        self, actor: FromDishka[Principal], use_case: FromDishka[GetAttendanceSummary]
    ) -> AttendanceSummaryOut:
        """Student: per subject held, attended, percent and how many classes are still needed."""
        summary = await run(use_case, GetAttendanceSummaryCommand(actor))
        return AttendanceSummaryOut.of(summary)

    @get(
        "/dashboard",
        operation_id="getMyDashboard",
        responses=MINE,
        opt={NO_REQUEST_SCOPE: True},
    )
    async def get_my_dashboard(self, request: Request[Any, Any, Any]) -> DashboardOut:
        """Teacher: per class sessions held, average attendance, last topic, next session."""
        command = GetFacultyDashboardCommand(signed_in(request))
        return DashboardOut.of(await run(build(request, GetFacultyDashboard), command))


class SessionAttendanceController(Controller):
    """A session's check-in window, check-ins, roster, marks and completion."""

    path = "/api/v1/sessions/{session_id:str}"
    tags = ATTENDANCE

    @post("/attendance-code", operation_id="openAttendance", **acts(body=False))
    @inject
    async def open_attendance(
        self,
        actor: FromDishka[Principal],
        session_id: SessionPath,
        use_case: FromDishka[OpenAttendance],
    ) -> AttendanceCodeOut:
        """Teacher of record: open (or refresh) the check-in window and get the current code."""
        command = OpenAttendanceCommand(actor, SessionId(session_id))
        return AttendanceCodeOut.of(await run(use_case, command))

    @post(
        "/check-in",
        operation_id="checkIn",
        opt={RATE_LIMIT: CHECK_IN, NO_REQUEST_SCOPE: True},
        **acts(),
    )
    async def check_in(
        self,
        request: Request[Any, Any, Any],
        session_id: SessionPath,
        data: JSONBody[CheckInBody],
    ) -> CheckInOut:
        """Student: check in with the code shown in class, from the bound phone."""
        settings: HttpSettings = request.app.state.settings
        command = CheckInCommand(
            actor=signed_in(request),
            session_id=SessionId(session_id),
            code=data.code,
            device_id=data.device_id,
            client_ip=client_ip(request, settings.trusted_proxies),
        )
        return CheckInOut.of(await run(build(request, CheckIn), command))

    @get(
        "/attendance",
        operation_id="getSessionAttendance",
        responses=problems(*SIGNED_IN, *INPUT, 403, 404),
    )
    @inject
    async def get_session_attendance(
        self,
        actor: FromDishka[Principal],
        session_id: SessionPath,
        use_case: FromDishka[GetSessionRoster],
    ) -> RosterOut:
        """Teacher or admin: the session's roster with every student's mark."""
        command = GetSessionRosterCommand(actor, SessionId(session_id))
        return RosterOut.of(await run(use_case, command))

    @put("/attendance", operation_id="markAttendance", **acts())
    @inject
    async def mark_attendance(
        self,
        actor: FromDishka[Principal],
        session_id: SessionPath,
        data: JSONBody[MarkAttendanceBody],
        use_case: FromDishka[MarkAttendance],
    ) -> MarkAttendanceOut:
        """Teacher of record or admin: set statuses by hand. Each student at most once in
        ``marks``; correcting a completed session needs a ``reason``.
        """
        command = MarkAttendanceCommand(
            actor=actor,
            session_id=SessionId(session_id),
            marks=[
                MarkEntry(StudentId(m.student_id), AttendanceStatus(m.status)) for m in data.marks
            ],
            reason=data.reason,
        )
        result = await run(use_case, command)
        return MarkAttendanceOut(changed=result.changed, unchanged=result.unchanged)

    @post("/complete", operation_id="completeSession", **acts())
    @inject
    async def complete_session(
        self,
        actor: FromDishka[Principal],
        session_id: SessionPath,
        data: JSONBody[CompleteBody],
        use_case: FromDishka[CompleteSession],
    ) -> CompleteOut:
        """Teacher of record: record the topic and mark everyone unmarked absent."""
        command = CompleteSessionCommand(actor, SessionId(session_id), data.topic)
        return CompleteOut.of(await run(use_case, command))


@get(
    "/api/v1/students/{student_id:str}/attendance",
    tags=["reports"],
    operation_id="getStudentAttendance",
    responses=problems(*SIGNED_IN, *INPUT, 403, 404),
)
@inject
async def get_student_attendance(
    actor: FromDishka[Principal],
    student_id: Annotated[str, PathParameter(max_length=64)],
    use_case: FromDishka[GetAttendanceSummary],
) -> AttendanceSummaryOut:
    """Admin (or the student themself): one student's attendance summary."""
    command = GetAttendanceSummaryCommand(actor, StudentId(student_id))
    return AttendanceSummaryOut.of(await run(use_case, command))


@post(
    "/api/v1/weeks/{iso_week:str}/generate",
    tags=["timetable"],
    operation_id="generateWeek",
    **acts(body=False),
)
@inject
async def generate_week(
    actor: FromDishka[Principal],
    iso_week: Annotated[str, PathParameter(max_length=10, pattern=r"^\d{4}-W\d{2}$")],
    use_case: FromDishka[GenerateWeek],
) -> GenerateWeekOut:
    """Admin: expand the weekly timetable into sessions for an ISO week (e.g. 2026-W47)."""
    try:
        command = GenerateWeekCommand.for_week(actor, iso_week)
    except ValueError as error:
        raise ValidationError([FieldProblem("isoWeek", str(error))]) from None
    return GenerateWeekOut.of(await run_in_thread(use_case, command))


ROUTES = [
    MyAttendanceController,
    SessionAttendanceController,
    get_student_attendance,
    generate_week,
]
#: the use cases of the routes marked NO_REQUEST_SCOPE, prepared at start (ams_http.wiring)
PREBUILT = (CheckIn, GetSchedule, GetFacultyDashboard)
