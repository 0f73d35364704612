"""The openpyxl workbook writer (write-only mode: rows stream out, memory stays flat)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ams_http.edge.exports import Cell, Sheet, WorkbookWriter

#: text starting with one of these could be taken for a formula by a spreadsheet program
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_TITLE = 31  # Excel's limit on a sheet name


def neutralise(value: Cell) -> Cell:
    """Text that a spreadsheet could run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value)
    return value


class OpenpyxlWorkbookWriter(WorkbookWriter):
    """``.xlsx`` bytes from sheets: bold header row, frozen below it, numbers as numbers."""

    def write(self, sheets: Sequence[Sheet]) -> bytes:
        workbook = Workbook(write_only=True)
        bold = Font(bold=True)
        for sheet in sheets:
            worksheet = workbook.create_sheet(title=sheet.title[:MAX_TITLE])
            worksheet.freeze_panes = "A2"
            header = []
            for name in sheet.header:
                cell = WriteOnlyCell(worksheet, value=str(neutralise(name)))
                cell.font = bold
                header.append(cell)
            worksheet.append(header)
            for row in sheet.rows:
                worksheet.append([neutralise(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
