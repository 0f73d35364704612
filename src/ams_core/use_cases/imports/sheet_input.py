"""From a workbook's sheets to typed inputs: which kind each sheet is, where its header is,
and one accessor per data row that reads a column's cell by key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ams_core.domain.imports import (
    SPECS,
    CellError,
    CellValue,
    HeaderMatch,
    ProblemLog,
    SheetKind,
    SheetSpec,
    guess_spec,
    match_header,
    spec_for_sheet_name,
)
from ams_core.domain.imports.cells import is_blank
from ams_core.domain.imports.sheets import fold_header
from ams_core.ports.workbooks import WorksheetRows

#: sheets that explain a workbook rather than hold records (the templates have one)
_NOTE_SHEETS = frozenset({"notes", "readme", "instructions", "help", "about"})

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class SheetInput:
    """One sheet to import: its kind, its header and its data rows with their row numbers."""

    name: str
    spec: SheetSpec
    header: HeaderMatch
    first_data_row: int
    rows: Sequence[Sequence[CellValue]]

    def __len__(self) -> int:
        return len(self.rows)


class Row:
    """One data row of a sheet: cells by column key, and problems noted against the row."""

    __slots__ = ("_cells", "_log", "_sheet", "failed", "number", "problems")

    def __init__(
        self, sheet: SheetInput, number: int, cells: Sequence[CellValue], log: ProblemLog
    ) -> None:
        self._sheet = sheet
        self._cells = cells
        self._log = log
        self.number = number
        self.failed = False
        self.problems = 0

    def has_problems(self) -> bool:
        """Whether a problem was noted against this row (a call: it changes as cells are read)."""
        return self.failed

    @property
    def sheet_name(self) -> str:
        """The name of the sheet the row is on."""
        return self._sheet.name

    def has(self, key: str) -> bool:
        """Whether the sheet has the column ``key``."""
        return key in self._sheet.header.positions

    def raw(self, key: str) -> CellValue:
        """The cell of column ``key`` as read (``None`` when the sheet lacks the column)."""
        index = self._sheet.header.positions.get(key)
        if index is None or index >= len(self._cells):
            return None
        return self._cells[index]

    def blank(self, key: str) -> bool:
        """Whether the cell of ``key`` is empty (or the sheet lacks the column)."""
        return is_blank(self.raw(key))

    def read(
        self, key: str, reader: Callable[[CellValue], V], *, required: bool = False
    ) -> V | None:
        """The cell of ``key`` read by ``reader``; ``None`` when it is empty and not required.

        A problem is noted (and ``None`` returned) when the cell is empty but required or
        cannot be read.
        """
        value = self.raw(key)
        if is_blank(value):
            if required:
                self.problem(key, "must not be empty")
            return None
        try:
            return reader(value)
        except CellError as error:
            self.problem(key, str(error))
            return None

    def problem(self, key: str | None, message: str) -> None:
        """Note a problem with this row (in the column ``key`` when given)."""
        self.failed = True
        self.problems += 1
        label = None
        if key is not None:
            label = self._sheet.header.labels.get(key) or self._sheet.spec.column(key).header
        self._log.add(self._sheet.name, self.number, label, message)


def rows_of(sheet: SheetInput, log: ProblemLog) -> Iterator[Row]:
    """The sheet's data rows, skipping empty ones."""
    number = sheet.first_data_row
    for cells in sheet.rows:
        if not all(is_blank(c) for c in cells):
            yield Row(sheet, number, cells, log)
        number += 1


def locate_sheets(
    sheets: Sequence[WorksheetRows],
    given: frozenset[str],
    kind: SheetKind | None,
    log: ProblemLog,
) -> list[SheetInput]:
    """Recognise each sheet, find its header and check it; problems go to ``log``.

    A sheet is recognised by its name (``Students``, ``Default Schedule`` …), else by
    ``kind`` when the upload has one sheet, else by its header. Empty sheets and note sheets
    are skipped.
    """
    found: list[SheetInput] = []
    for sheet in sheets:
        header_at = next(
            (i for i, cells in enumerate(sheet.rows) if not all(is_blank(c) for c in cells)),
            None,
        )
        if header_at is None or fold_header(sheet.name) in _NOTE_SHEETS:
            continue
        header = sheet.rows[header_at]
        spec = spec_for_sheet_name(sheet.name)
        if spec is None and kind is not None and len(sheets) == 1:
            spec = SPECS[kind]
        if spec is None:
            spec = guess_spec(header, given)
        if spec is None:
            names = ", ".join(s.title for s in SPECS.values())
            log.add(
                sheet.name,
                sheet.first_row + header_at,
                None,
                f"cannot tell what this sheet holds: name it one of {names}, or give its kind",
            )
            continue
        matched = match_header(spec, header, given)
        for column, message in matched.problems:
            log.add(sheet.name, sheet.first_row + header_at, column, message)
        if matched.problems:
            continue
        found.append(
            SheetInput(
                sheet.name,
                spec,
                matched,
                sheet.first_row + header_at + 1,
                sheet.rows[header_at + 1 :],
            )
        )
    if not found and not log.total:
        log.add("", None, None, "the workbook has no sheet with records to import")
    return found
