"""Workbook imports: the sheets and their columns, reading cells, and the outcome."""

from ams_core.domain.imports.cells import CellError, CellValue
from ams_core.domain.imports.report import ImportReport, ProblemLog, SheetCounts
from ams_core.domain.imports.sheets import (
    PERIODS,
    SPECS,
    Column,
    HeaderMatch,
    SheetKind,
    SheetSpec,
    guess_spec,
    match_header,
    spec_for_sheet_name,
)

__all__ = [
    "PERIODS",
    "SPECS",
    "CellError",
    "CellValue",
    "Column",
    "HeaderMatch",
    "ImportReport",
    "ProblemLog",
    "SheetCounts",
    "SheetKind",
    "SheetSpec",
    "guess_spec",
    "match_header",
    "spec_for_sheet_name",
]
