"""A workbook reader that needs no file: sheets given as rows (tests of the import rules)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ams_core.domain.imports import CellValue
from ams_core.ports.workbooks import WorkbookLimits, WorkbookReader, WorksheetRows


class RowsWorkbookReader(WorkbookReader):
    """Reads every upload as the sheets it was built with (the bytes are ignored); the row
    limit is enforced as a real reader does.
    """

    def __init__(self, sheets: Mapping[str, Sequence[Sequence[CellValue]]]) -> None:
        self._sheets = [WorksheetRows(name, 1, rows) for name, rows in sheets.items()]

    def read(self, data: bytes, limits: WorkbookLimits) -> Sequence[WorksheetRows]:
        from ams_core.domain.errors import FileRefusal, UnacceptableFileError

        rows = sum(max(len(s.rows) - 1, 0) for s in self._sheets)
        if rows > limits.max_rows:
            raise UnacceptableFileError(FileRefusal.TOO_MANY_ROWS, f"{rows} rows")
        return self._sheets
