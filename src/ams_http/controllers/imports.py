"""Workbook imports and their templates (admins)."""

from __future__ import annotations

from typing import Annotated

from dishka import FromDishka
from dishka.integrations.litestar import inject
from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, PathParameter, QueryParameter

from ams_core.domain import FieldProblem, Principal, ValidationError
from ams_core.domain.imports import SheetKind
from ams_core.domain.imports.cells import CellError, text, year_of_study
from ams_core.ports.workbooks import XLSX_MEDIA_TYPE
from ams_core.use_cases.imports import (
    ImportDefaults,
    ImportTemplate,
    ImportTemplateCommand,
    ImportWorkbook,
    ImportWorkbookCommand,
)
from ams_http.controllers._params import acts
from ams_http.controllers._run import run_in_thread
from ams_http.controllers._xlsx import attachment, xlsx_name
from ams_http.openapi import INPUT, SIGNED_IN, problems
from ams_http.schemas.imports import ImportForm, ImportReportOut

_KINDS = ", ".join(k.value for k in SheetKind)


def _form_values(form: ImportForm) -> tuple[ImportDefaults, SheetKind | None]:
    """The legacy form fields, checked; every problem named by its field."""
    issues: list[FieldProblem] = []
    year = department = None
    kind = None
    if form.year:
        try:
            year = year_of_study(form.year)
        except CellError as error:
            issues.append(FieldProblem("year", str(error)))
    if form.department:
        try:
            department = text(form.department, 100) or None
        except CellError as error:
            issues.append(FieldProblem("department", str(error)))
    if form.kind:
        try:
            kind = SheetKind(form.kind.strip().lower())
        except ValueError:
            issues.append(FieldProblem("kind", f"must be one of {_KINDS}"))
    if form.replace and form.replace.strip().lower() not in ("false", "0", "no", ""):
        issues.append(
            FieldProblem(
                "replace",
                "an import never deletes (sessions and marks would go with the people); "
                "re-import the full roster with deactivateMissing=true instead",
            )
        )
    if issues:
        raise ValidationError(issues)
    return ImportDefaults(year, department), kind


class ImportsController(Controller):
    """``/api/v1/imports``: upload a workbook (or check it), download templates."""

    path = "/api/v1/imports"
    tags = ["imports"]  # noqa: RUF012

    @post(
        "/",
        operation_id="importWorkbook",
        summary="Import a workbook",
        **{**acts(), "responses": problems(*SIGNED_IN, *INPUT, 403, 404, 409, 413, 415)},
    )
    @inject
    async def import_workbook(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ImportWorkbook],
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        dry_run: Annotated[
            bool,
            QueryParameter(
                name="dryRun", description="check and count, write nothing (default false)"
            ),
        ] = False,
        deactivate_missing: Annotated[
            bool,
            QueryParameter(
                name="deactivateMissing",
                description="treat Students and Faculty as full rosters: deactivate the "
                "students of the listed sections and the teachers of the listed departments "
                "who are not in the file (history kept; importing them again activates them)",
            ),
        ] = False,
    ) -> ImportReportOut:
        """Admin: import students, faculty, subjects, assignments, the timetable, holidays
        and terms from an ``.xlsx`` workbook (one sheet per kind, or one sheet per upload).

        Every row is checked first; any problem answers 422 ``import_invalid`` listing each
        one as (sheet, row, column, message), and nothing is written. Otherwise all of it is
        written in one transaction (created or updated by natural key; nothing is deleted).
        With ``dryRun=true`` the same checks run and the counts say what would change;
        ``deactivateMissing=true`` deactivates people a full roster leaves out.
        """
        defaults, kind = _form_values(data)
        content = await data.file.read()
        await data.file.close()
        command = ImportWorkbookCommand(
            actor, content, dry_run, defaults, kind, deactivate_missing=deactivate_missing
        )
        return ImportReportOut.of(await run_in_thread(use_case, command))

    @get(
        "/templates/{kind:str}",
        operation_id="getImportTemplate",
        summary="Download an import template",
        media_type=XLSX_MEDIA_TYPE,
        responses=problems(*SIGNED_IN, *INPUT, 403, 404),
    )
    @inject
    async def template(
        self,
        actor: FromDishka[Principal],
        use_case: FromDishka[ImportTemplate],
        kind: Annotated[
            str, PathParameter(description=f"{_KINDS}, or workbook for every sheet in one file")
        ],
    ) -> Response[bytes]:
        """Admin: an ``.xlsx`` template with headers, an example row, drop-down lists and a
        Notes sheet explaining each column."""
        wanted = None if kind == "workbook" else _kind(kind)
        body = await run_in_thread(use_case, ImportTemplateCommand(actor, wanted))
        kind_name = "import" if wanted is None else wanted.value
        return attachment(body, xlsx_name(("ams", kind_name, "template")))


def _kind(value: str) -> SheetKind:
    try:
        return SheetKind(value)
    except ValueError:
        raise ValidationError(
            [FieldProblem("kind", f"must be one of {_KINDS}, or workbook")]
        ) from None


ROUTES = [ImportsController]
