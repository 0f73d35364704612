"""Importing an institution's records from Excel workbooks, and the templates to fill in."""

from ams_core.use_cases.imports.state import ImportDefaults
from ams_core.use_cases.imports.templates import ImportTemplate, ImportTemplateCommand
from ams_core.use_cases.imports.workbook import (
    ImportProgress,
    ImportWorkbook,
    ImportWorkbookCommand,
)

__all__ = [
    "ImportDefaults",
    "ImportProgress",
    "ImportTemplate",
    "ImportTemplateCommand",
    "ImportWorkbook",
    "ImportWorkbookCommand",
]
