"""The calendar: teaching terms, holidays and the institution's settings (PRODUCT.md §2.2).

Terms and holidays are read by every member; the settings by admins; writing is for admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from ams_core.domain import (
    DateRange,
    Principal,
    TermId,
)
from ams_core.use_cases import (
    HolidayCalendar,
    InstitutionProfile,
    Page,
    TermCatalogue,
)
from ams_http.controllers._params import (
    CREATES,
    DELETES,
    READS,
    UPDATES,
    Limit,
    Offset,
    page_request,
)
from ams_http.controllers._resource import Resource, ResourceDocs, resource_controller
from ams_http.controllers._run import created, run
from ams_http.schemas.calendar import (
    HolidayDeclaredOut,
    HolidayIn,
    HolidayOut,
    HolidayPageOut,
    InstitutionOut,
    InstitutionPatch,
    TermIn,
    TermOut,
    TermPageOut,
    TermPatch,
)
from ams_http.schemas.common import counts

CALENDAR = ["calendar"]

TERM_DOCS = ResourceDocs(
    list="Every member of the institution: the teaching terms, by start date.",
    create=(
        "Admin: add a teaching term, ``end`` not before ``start`` (409 ``term_overlap`` if it\n"
        "overlaps another one)."
    ),
    get="Every member of the institution: one term.",
    update=(
        "Admin: rename a term or move its dates (the resulting ``end`` not before ``start``;\n"
        "terms never overlap)."
    ),
    delete="Admin: delete a term (sessions already generated in it stay).",
)

TermController = resource_controller(
    Resource(
        path="/api/v1/terms",
        tags=CALENDAR,
        doc="The teaching terms.",
        singular="Term",
        plural="Terms",
        key="term_id",
        key_description="term id",
        key_type=TermId,
        entity_key=lambda term: term.id,
        catalogue=TermCatalogue,
        out=TermOut,
        page_out=TermPageOut,
        body=TermIn,
        patch_body=TermPatch,
        docs=TERM_DOCS,
    )
)


HOLIDAYS = "/api/v1/holidays"


class HolidayController(Controller):
    """The holidays."""

    path = HOLIDAYS
    tags = CALENDAR

    @get(operation_id="listHolidays", **READS)
    @inject
    async def list_holidays(
        self,
        actor: FromDishka[Principal],
        calendar: FromDishka[HolidayCalendar],
        start: Annotated[date | None, QueryParameter(name="from")] = None,
        end: Annotated[date | None, QueryParameter(name="to")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> HolidayPageOut:
        """Every member of the institution: holidays by date (between ``from`` and ``to``, both
        optional).
        """
        dates = (
            None if start is None and end is None else DateRange(start or date.min, end or date.max)
        )
        holidays = await run(calendar.list, actor, dates)
        page = Page.of(holidays, page_request(limit, offset))
        return HolidayPageOut(items=[HolidayOut.of(h) for h in page.items], **counts(page))

    @post(operation_id="declareHoliday", **CREATES)
    @inject
    async def declare_holiday(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[HolidayIn],
        calendar: FromDishka[HolidayCalendar],
    ) -> Response[HolidayDeclaredOut]:
        """Admin: declare a holiday; the classes still scheduled that day are cancelled and
        their sections told (``cancelledSessions``). 409 ``holiday_exists`` if it is one already.
        """
        declared = await run(calendar.declare, actor, data.date, data.name)
        return created(HolidayDeclaredOut.of(declared), f"{HOLIDAYS}/{data.date.isoformat()}")

    @delete("/{day:date}", operation_id="removeHoliday", **DELETES)
    @inject
    async def remove_holiday(
        self,
        actor: FromDishka[Principal],
        day: Annotated[date, PathParameter(description="the holiday's date (YYYY-MM-DD)")],
        calendar: FromDishka[HolidayCalendar],
    ) -> None:
        """Admin: remove a holiday (classes it cancelled stay cancelled)."""
        await run(calendar.remove, actor, day)


SETTINGS = "/api/v1/institution/settings"
INSTITUTION = ["institution"]


class InstitutionSettingsController(Controller):
    """The institution's name, timezone and settings."""

    path = SETTINGS
    tags = INSTITUTION

    @get(operation_id="getInstitutionSettings", **READS)
    @inject
    async def get_institution_settings(
        self, actor: FromDishka[Principal], profile: FromDishka[InstitutionProfile]
    ) -> InstitutionOut:
        """Admin: the institution's name, timezone, email domains and attendance and cover
        settings.
        """
        return InstitutionOut.of(await run(profile.get, actor))

    @patch(operation_id="updateInstitutionSettings", **UPDATES)
    @inject
    async def update_institution_settings(
        self,
        actor: FromDishka[Principal],
        data: JSONBody[InstitutionPatch],
        profile: FromDishka[InstitutionProfile],
    ) -> InstitutionOut:
        """Admin: change the name, timezone or settings; settings left out keep their values
        (``cover`` too, field by field).
        """
        institution = await run(
            profile.update, actor, data.changes(), expected_version=data.version
        )
        return InstitutionOut.of(institution)


ROUTES = [TermController, HolidayController, InstitutionSettingsController]
