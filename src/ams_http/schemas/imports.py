"""Workbook imports on the wire: the upload form and the per-sheet report."""

from __future__ import annotations

from litestar.datastructures import UploadFile

from ams_core.domain.imports import ImportReport, SheetCounts
from ams_http.schemas.base import CamelStruct


class ImportForm(CamelStruct):
    """``multipart/form-data``: the ``.xlsx`` file, and the legacy upload forms' fields.

    ``year`` (1–12 or E1–E12) and ``department`` stand in for missing Year and Department
    columns; ``kind`` (students, faculty, subjects, assignments, timetable, holidays, terms)
    names what a one-sheet upload holds when its sheet name does not say. The legacy
    ``replace`` field is accepted only as ``false``: an import never deletes (see
    ``deactivateMissing``).
    """

    file: UploadFile
    year: str | None = None
    department: str | None = None
    kind: str | None = None
    replace: str | None = None


class SheetCountsOut(CamelStruct):
    sheet: str
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    deactivated: int
    ignored_columns: list[str]

    @classmethod
    def of(cls, counts: SheetCounts) -> SheetCountsOut:
        return cls(
            sheet=counts.sheet,
            kind=counts.kind.value,
            rows=counts.rows,
            created=counts.created,
            updated=counts.updated,
            unchanged=counts.unchanged,
            deactivated=counts.deactivated,
            ignored_columns=list(counts.ignored_columns),
        )


class ImportReportOut(CamelStruct):
    dry_run: bool
    sheets: list[SheetCountsOut]
    sections_created: int
    faculty_created_from_assignments: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            dry_run=report.dry_run,
            sheets=[SheetCountsOut.of(s) for s in report.sheets],
            sections_created=report.sections_created,
            faculty_created_from_assignments=report.faculty_created_from_assignments,
        )
