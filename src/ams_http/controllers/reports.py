"""Reports: defaulters and section/subject registers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Request, get
from litestar.params import QueryParameter

from ams_core.domain import DateRange, FieldProblem, SectionId, SubjectCode, ValidationError
from ams_core.use_cases import (
    GetRegister,
    GetRegisterCommand,
    ListDefaulters,
    ListDefaultersCommand,
)
from ams_http.auth import actor
from ams_http.controllers._run import run
from ams_http.schemas.reports import DefaultersOut, RegisterOut

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (at most 500)")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
IdQuery = Annotated[str | None, QueryParameter(max_length=64)]


@get("/api/v1/reports/defaulters", tags=["reports"], operation_id="listDefaulters")
@inject
async def list_defaulters(
    request: Request[Any, Any, Any],
    use_case: FromDishka[ListDefaulters],
    # msgspec cannot put ge/le on a Decimal (every request failed with a TypeError, a 500):
    # the core's parse_threshold checks 0-100; the bounds stay documented in the schema
    threshold: Annotated[
        Decimal | None,
        QueryParameter(
            description="percent, 0 to 100", schema_extra={"minimum": 0, "maximum": 100}
        ),
    ] = None,
    section_id: Annotated[IdQuery, QueryParameter(name="sectionId", max_length=64)] = None,
    subject_code: Annotated[IdQuery, QueryParameter(name="subjectCode", max_length=64)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DefaultersOut:
    """Admin or teacher: students below the threshold per subject (teachers: their classes)."""
    command = ListDefaultersCommand(
        actor(request),
        threshold=threshold,
        section_id=SectionId(section_id) if section_id else None,
        subject_code=SubjectCode(subject_code) if subject_code else None,
    )
    return DefaultersOut.of(await run(use_case, command), limit, offset)


@get("/api/v1/reports/register", tags=["reports"], operation_id="getRegister")
@inject
async def get_register(
    request: Request[Any, Any, Any],
    use_case: FromDishka[GetRegister],
    section_id: Annotated[str, QueryParameter(name="sectionId", min_length=1, max_length=64)],
    subject_code: Annotated[str, QueryParameter(name="subjectCode", min_length=1, max_length=64)],
    start: Annotated[date | None, QueryParameter(name="from")] = None,
    end: Annotated[date | None, QueryParameter(name="to")] = None,
) -> RegisterOut:
    """Admin or the class's teacher: a section/subject register, one column per session."""
    dates = None
    if start is not None and end is not None:
        if end < start:
            raise ValidationError([FieldProblem("to", "must not be before from")])
        dates = DateRange(start, end)
    command = GetRegisterCommand(
        actor(request), SectionId(section_id), SubjectCode(subject_code), dates
    )
    return RegisterOut.of(await run(use_case, command))


ROUTES = [list_defaulters, get_register]
