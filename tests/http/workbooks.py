"""Workbooks built in tests: sheets of rows written with openpyxl into ``.xlsx`` bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook


def workbook(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """An ``.xlsx`` file with one sheet per entry, rows as given (the first is the header)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def read_back(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's rows of an ``.xlsx`` file, as openpyxl reads them."""
    book = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book}
