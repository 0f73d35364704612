"""Ports: spreadsheet workbooks read for imports and written for templates and exports.

The core never parses or writes ``.xlsx`` itself: an adapter (``ams_adapters.excel``) reads
uploads into plain rows and writes sheets into a file, so a reader or writer can be
replaced without touching the import rules or the reports.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Protocol

from ams_core.domain.imports.cells import CellValue

#: the media type of an Office Open XML workbook (``.xlsx``)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: a cell as a writer takes it
Cell = str | int | float | Decimal | date | datetime | time | bool | None


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """What an uploaded workbook may be, checked before and while it is read.

    ``max_bytes`` bounds the file as uploaded; ``max_unpacked_bytes``, ``max_ratio`` and
    ``max_members`` bound the archive inside it (checked on its directory before anything is
    decompressed); ``max_rows`` counts data rows over all sheets; ``max_columns`` is per sheet.
    """

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 400 * 1024 * 1024
    max_ratio: int = 200
    max_members: int = 200
    max_rows: int = 200_000
    max_columns: int = 64


@dataclass(frozen=True, slots=True)
class WorksheetRows:
    """One sheet as read: its name, the spreadsheet row number of ``rows[0]`` and the rows.

    An empty cell is ``None`` or ``""``; trailing empty rows are dropped.
    """

    name: str
    first_row: int
    rows: Sequence[Sequence[CellValue]]


class WorkbookReader(Protocol):
    """Reads an uploaded workbook into rows."""

    @abstractmethod
    def read(self, data: bytes, limits: WorkbookLimits) -> Sequence[WorksheetRows]:
        """Every sheet of the workbook in ``data``, in the workbook's order.

        Raises:
            UnacceptableFileError: the file is too large, is not an ``.xlsx`` workbook, is an
                unsafe archive (a decompression bomb, unsafe member names), uses XML entity
                declarations, has more rows or columns than ``limits`` allow, or cannot be
                read.
        """


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet to write: a title, a header row and the data rows.

    ``choices`` offers a drop-down list of values for a column (by its index in ``header``).
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    choices: Mapping[int, Sequence[str]] = field(default_factory=dict)


class WorkbookWriter(Protocol):
    """Writes sheets into one workbook file (text that could run as a formula is neutralised:
    a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
    with a leading apostrophe, so a spreadsheet program shows it as text).
    """

    @abstractmethod
    def write(self, sheets: Sequence[Sheet]) -> bytes: ...
