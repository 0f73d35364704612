"""Reading uploaded workbooks with python-calamine (Rust; formulas come back as their cached
values and are never evaluated), after :mod:`ams_adapters.excel.archive` has passed them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from python_calamine import CalamineError, CalamineWorkbook

from ams_adapters.excel.archive import check_upload
from ams_core.domain.errors import FileRefusal, UnacceptableFileError
from ams_core.domain.imports import CellValue
from ams_core.ports.workbooks import WorkbookLimits, WorkbookReader, WorksheetRows


class CalamineWorkbookReader(WorkbookReader):
    """Every sheet of an ``.xlsx`` upload as rows of plain values, within the limits."""

    def read(self, data: bytes, limits: WorkbookLimits) -> Sequence[WorksheetRows]:
        check_upload(data, limits)
        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except (CalamineError, ValueError, OSError) as error:
            raise UnacceptableFileError(
                FileRefusal.UNREADABLE, f"the workbook cannot be read: {error}"
            ) from None
        try:
            sheets: list[WorksheetRows] = []
            budget = limits.max_rows
            for name in workbook.sheet_names:
                sheet = self._sheet(workbook, name, limits, budget)
                budget -= max(len(sheet.rows) - 1, 0)
                sheets.append(sheet)
            return sheets
        finally:
            workbook.close()

    def _sheet(
        self, workbook: CalamineWorkbook, name: str, limits: WorkbookLimits, budget: int
    ) -> WorksheetRows:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except (CalamineError, ValueError) as error:
            raise UnacceptableFileError(
                FileRefusal.UNREADABLE, f"the sheet {name!r} cannot be read: {error}"
            ) from None
        if sheet.width > limits.max_columns:
            raise UnacceptableFileError(
                FileRefusal.TOO_MANY_COLUMNS,
                f"the sheet {name!r} has {sheet.width} columns; at most {limits.max_columns} "
                "are accepted",
            )
        rows: list[Sequence[CellValue]] = []
        cap = budget + 1  # the header row is not a data row
        for row in sheet.iter_rows():
            rows.append(row)
            if len(rows) > cap:
                raise UnacceptableFileError(
                    FileRefusal.TOO_MANY_ROWS,
                    f"the workbook has more than {limits.max_rows:,} data rows (sheet {name!r}); "
                    f"at most {limits.max_rows:,} are accepted per upload",
                )
        while rows and all(cell in ("", None) for cell in rows[-1]):
            rows.pop()
        # calamine yields rows from the sheet's first row (leading empty rows included)
        return WorksheetRows(name, 1, rows)
