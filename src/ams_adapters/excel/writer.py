"""The openpyxl workbook writer (write-only mode: rows stream out, memory stays flat)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation, DataValidationList

from ams_core.ports.workbooks import Cell, Sheet, WorkbookWriter

#: text starting with one of these could be taken for a formula by a spreadsheet program
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_TITLE = 31  # Excel's limit on a sheet name
#: the last spreadsheet row a drop-down list covers (the header is row 1)
CHOICE_LAST_ROW = 1000
#: Excel's limit on a list written into the validation itself ("a,b,c"); longer lists,
#: or values with a comma or a double quote, are put on a hidden sheet and referenced
MAX_INLINE_LIST = 255
CHOICES_SHEET = "_choices"
TIME_FORMAT = "hh:mm"
TIME_FORMAT_SECONDS = "hh:mm:ss"


def neutralise(value: Cell) -> Cell:
    """Text that a spreadsheet could run as a formula gets a leading apostrophe; numbers
    and instants become what Excel holds (a float; a date and time without a time zone,
    read on the clock it was given in).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _inline_list(values: Sequence[str]) -> str | None:
    """``"a,b,c"`` for a validation, or ``None`` when Excel cannot take the list inline."""
    if not values or any("," in v or '"' in v for v in values):
        return None
    formula = '"' + ",".join(values) + '"'
    return formula if len(formula) - 2 <= MAX_INLINE_LIST else None


def _validations(worksheet: WriteOnlyWorksheet) -> DataValidationList:
    """The sheet's data validations.

    A write-only sheet has no ``add_data_validation()`` (and its type stubs no
    ``data_validations``), but it is set up with the same list as an ordinary sheet and
    writes it after the rows when the workbook is saved.
    """
    found = vars(worksheet).get("data_validations")
    if not isinstance(found, DataValidationList):  # pragma: no cover - an openpyxl change
        raise TypeError("this openpyxl's write-only sheets keep no data validations")
    return found


class OpenpyxlWorkbookWriter(WorkbookWriter):
    """``.xlsx`` bytes from sheets: bold header row, frozen below it, numbers as numbers,
    times as times, a drop-down list over the data rows of each column with ``choices``.
    """

    def write(self, sheets: Sequence[Sheet]) -> bytes:
        workbook = Workbook(write_only=True)
        bold = Font(bold=True)
        long_lists: list[list[str]] = []
        pending: list[tuple[WriteOnlyWorksheet, int, int]] = []  # sheet, column, list index
        for sheet in sheets:
            worksheet = workbook.create_sheet(title=sheet.title[:MAX_TITLE])
            worksheet.freeze_panes = "A2"
            header = []
            for name in sheet.header:
                cell = WriteOnlyCell(worksheet, value=str(neutralise(name)))
                cell.font = bold
                header.append(cell)
            worksheet.append(header)
            for column, values in self._choices(sheet.choices):
                formula = _inline_list(values)
                if formula is None:
                    pending.append((worksheet, column, len(long_lists)))
                    long_lists.append(values)
                else:
                    self._validate(worksheet, column, formula)
            for row in sheet.rows:
                worksheet.append([self._cell(worksheet, value) for value in row])
        if long_lists:
            self._long_lists(workbook, long_lists, pending)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def _choices(choices: Mapping[int, Sequence[str]]) -> list[tuple[int, list[str]]]:
        return [
            (column, [str(neutralise(v)) for v in values])
            for column, values in sorted(choices.items())
            if values
        ]

    @staticmethod
    def _cell(worksheet: WriteOnlyWorksheet, value: Cell) -> object:
        value = neutralise(value)
        if isinstance(value, time):
            cell = WriteOnlyCell(worksheet)
            cell.value = value
            exact = value.second == 0 and value.microsecond == 0
            cell.number_format = TIME_FORMAT if exact else TIME_FORMAT_SECONDS
            return cell
        return value

    @staticmethod
    def _validate(worksheet: WriteOnlyWorksheet, column: int, formula: str) -> None:
        letter = get_column_letter(column + 1)
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.add(f"{letter}2:{letter}{CHOICE_LAST_ROW}")
        _validations(worksheet).append(validation)

    def _long_lists(
        self,
        workbook: Workbook,
        lists: list[list[str]],
        pending: list[tuple[WriteOnlyWorksheet, int, int]],
    ) -> None:
        """Put each long list in a column of a hidden sheet and point the validations at it."""
        hidden = workbook.create_sheet(title=CHOICES_SHEET)
        hidden.sheet_state = "hidden"
        for index in range(max(len(values) for values in lists)):
            hidden.append([values[index] if index < len(values) else None for values in lists])
        for worksheet, column, list_index in pending:
            letter = get_column_letter(list_index + 1)
            length = len(lists[list_index])
            formula = f"{quote_sheetname(hidden.title)}!${letter}$1:${letter}${length}"
            self._validate(worksheet, column, formula)
