"""Spreadsheet exports as the handlers see them: a port with the workbook writer behind it.

Handlers may not import ``openpyxl`` (import-linter contract ``http-handlers-see-core-only``):
they ask dishka for a ``WorkbookWriter`` and ``ams_http.edge.xlsx`` provides the openpyxl one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | Decimal | date | datetime | bool | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: a title, a header row and the data rows."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]


class WorkbookWriter(Protocol):
    """Writes sheets into one workbook file (text that could run as a formula is neutralised)."""

    @abstractmethod
    def write(self, sheets: Sequence[Sheet]) -> bytes: ...
