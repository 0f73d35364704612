"""Reports: defaulters and section/subject registers."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from ams_core.domain import (
    DateRange,
    FieldProblem,
    Principal,
    SectionId,
    SubjectCode,
    ValidationError,
)
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE, Sheet, WorkbookWriter
from ams_core.use_cases import (
    DefaultersResult,
    GetRegister,
    GetRegisterCommand,
    ListDefaulters,
    ListDefaultersCommand,
    Register,
)
from ams_http.controllers._run import run_in_thread
from ams_http.controllers._xlsx import VARY_ACCEPT, attachment, wants_xlsx, xlsx_name
from ams_http.openapi import INPUT, SIGNED_IN, problems, with_alternative_media_type
from ams_http.schemas.reports import DefaultersOut, RegisterOut

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (at most 500)")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


DEFAULTER_COLUMNS = (
    "Student ID",
    "Student name",
    "Section",
    "Subject code",
    "Subject",
    "Held",
    "Attended",
    "Excused",
    "Attendance %",
    "Remaining",
    "Need to attend",
    "Threshold %",
)


def _defaulters_workbook(writer: WorkbookWriter, result: DefaultersResult) -> bytes:
    rows = (
        (
            row.student_id,
            row.student_name,
            row.section_id,
            row.attendance.subject_code,
            row.attendance.subject_name,
            row.attendance.held,
            row.attendance.attended,
            row.attendance.excused,
            row.attendance.percent,
            row.attendance.remaining,
            row.attendance.need_to_attend,
            result.threshold,
        )
        for row in result.rows
    )
    return writer.write([Sheet("Defaulters", DEFAULTER_COLUMNS, rows)])


def _defaulters_filename(result: DefaultersResult, *narrowed_to: str | None) -> str:
    dates = f"{result.dates.start.isoformat()}-to-{result.dates.end.isoformat()}"
    return xlsx_name(["defaulters", *narrowed_to, dates])


REGISTER_STUDENT_COLUMNS = ("Student ID", "Student name", "Roll number")
REGISTER_SUMMARY_COLUMNS = ("Held", "Attended", "Attendance %")


def _register_workbook(writer: WorkbookWriter, register: Register) -> bytes:
    header = (
        *REGISTER_STUDENT_COLUMNS,
        *(
            f"{c.date.isoformat()} {c.start.isoformat(timespec='minutes')}"
            for c in register.columns
        ),
        *REGISTER_SUMMARY_COLUMNS,
    )
    rows = (
        (
            row.student_id,
            row.name,
            row.roll_number,
            *(status.value if status else None for status in row.statuses),
            row.summary.held,
            row.summary.attended,
            row.summary.percent,
        )
        for row in register.rows
    )
    return writer.write([Sheet("Register", header, rows)])


def _register_filename(register: Register) -> str:
    dates = f"{register.dates.start.isoformat()}-to-{register.dates.end.isoformat()}"
    return xlsx_name(("register", register.section_id, register.subject_code, dates))


@get(
    "/api/v1/reports/defaulters",
    tags=["reports"],
    operation_id="listDefaulters",
    response_headers=[VARY_ACCEPT],
    operation_class=with_alternative_media_type(
        XLSX_MEDIA_TYPE,
        "With `Accept: " + XLSX_MEDIA_TYPE + "`: every matching row (limit and offset page "
        "the JSON only) as an Excel workbook, percentages as numbers.",
    ),
    responses={
        200: ResponseSpec(DefaultersOut, generate_examples=False, description="Defaulters"),
        **problems(*SIGNED_IN, *INPUT, 403, 404),
    },
)
@inject
async def list_defaulters(
    request: Request[Any, Any, Any],
    actor: FromDishka[Principal],
    use_case: FromDishka[ListDefaulters],
    workbooks: FromDishka[WorkbookWriter],
    # msgspec cannot put ge/le on a Decimal (every request failed with a TypeError, a 500):
    # the core's parse_threshold checks 0-100; the bounds stay documented in the schema
    threshold: Annotated[
        Decimal | None,
        QueryParameter(
            description="percent, 0 to 100", schema_extra={"minimum": 0, "maximum": 100}
        ),
    ] = None,
    # one QueryParameter each: nested Annotated aliases lose the name (it was "section_id")
    section_id: Annotated[str | None, QueryParameter(name="sectionId", max_length=64)] = None,
    subject_code: Annotated[str | None, QueryParameter(name="subjectCode", max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DefaultersOut | Response[bytes]:
    """Admin or teacher: students below the threshold per subject (teachers: their classes)."""
    command = ListDefaultersCommand(
        actor,
        threshold=threshold,
        section_id=SectionId(section_id) if section_id else None,
        subject_code=SubjectCode(subject_code) if subject_code else None,
    )
    result = await run_in_thread(use_case, command)
    if not wants_xlsx(request):
        return DefaultersOut.of(result, limit, offset)
    workbook = await run_in_thread(functools.partial(_defaulters_workbook, workbooks), result)
    return attachment(workbook, _defaulters_filename(result, section_id, subject_code))


@get(
    "/api/v1/reports/register",
    tags=["reports"],
    operation_id="getRegister",
    response_headers=[VARY_ACCEPT],
    operation_class=with_alternative_media_type(
        XLSX_MEDIA_TYPE,
        "With `Accept: " + XLSX_MEDIA_TYPE + "`: the register as an Excel workbook, a "
        "row per student and a column per session (headed by its date and start time) "
        "holding the mark, then held, attended and the percentage as numbers.",
    ),
    responses={
        200: ResponseSpec(RegisterOut, generate_examples=False, description="Register"),
        **problems(*SIGNED_IN, *INPUT, 403, 404),
    },
)
@inject
async def get_register(
    request: Request[Any, Any, Any],
    actor: FromDishka[Principal],
    use_case: FromDishka[GetRegister],
    workbooks: FromDishka[WorkbookWriter],
    section_id: Annotated[str, QueryParameter(name="sectionId", min_length=1, max_length=64)],
    subject_code: Annotated[str, QueryParameter(name="subjectCode", min_length=1, max_length=64)],
    start: Annotated[
        date | None,
        QueryParameter(name="from", description="first date; give `from` and `to` together"),
    ] = None,
    end: Annotated[
        date | None,
        QueryParameter(
            name="to",
            description="last date, not before `from`; one without the other is ignored "
            "(then the reporting term)",
        ),
    ] = None,
) -> RegisterOut | Response[bytes]:
    """Admin or the class's teacher: a section/subject register, one column per session."""
    dates = None
    if start is not None and end is not None:
        if end < start:
            raise ValidationError([FieldProblem("to", "must not be before from")])
        dates = DateRange(start, end)
    command = GetRegisterCommand(actor, SectionId(section_id), SubjectCode(subject_code), dates)
    register = await run_in_thread(use_case, command)
    if not wants_xlsx(request):
        return RegisterOut.of(register)
    workbook = await run_in_thread(functools.partial(_register_workbook, workbooks), register)
    return attachment(workbook, _register_filename(register))


ROUTES = [list_defaulters, get_register]
