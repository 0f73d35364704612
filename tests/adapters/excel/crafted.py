"""Workbooks crafted for the reader's tests: a real ``.xlsx`` written by openpyxl whose parts
are then replaced, added or dropped, and the reader's verdict on it, bounded in CPU time (the
process's own, so a busy machine does not fail it) or measured in a fresh process.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ams_adapters.excel.reader import CalamineWorkbookReader
from ams_core.domain.errors import UnacceptableFileError
from ams_core.ports.workbooks import WorkbookLimits, WorksheetRows

LIMITS = WorkbookLimits()
SHEET = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#: a generous bound on the CPU time of any refusal or small read
SECONDS = 1.0
#: how much a hostile read may grow the process's peak memory
MAX_GROWTH = 50 * 1024 * 1024

#: reads the file named by argv[1] in a fresh process and prints the refusal, the CPU seconds
#: the read took and how many bytes the process's peak memory grew by
MEASURE = """
import resource, sys, time
from pathlib import Path
from ams_adapters.excel.reader import CalamineWorkbookReader
from ams_core.domain.errors import UnacceptableFileError
from ams_core.ports.workbooks import WorkbookLimits

data = Path(sys.argv[1]).read_bytes()
reader = CalamineWorkbookReader()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.process_time()
try:
    reader.read(data, WorkbookLimits())
except UnacceptableFileError as error:
    outcome = error.reason.name
else:
    outcome = "ACCEPTED"
elapsed = time.process_time() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(outcome, elapsed, (after - before) * 1024)
"""


def workbook(*rows: Sequence[Any], title: str = "Sheet") -> bytes:
    """A real ``.xlsx`` written by openpyxl with one sheet holding ``rows``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite(
    data: bytes,
    replace: Mapping[str, bytes] | None = None,
    add: Sequence[tuple[zipfile.ZipInfo | str, bytes]] = (),
    drop: Sequence[str] = (),
) -> bytes:
    """``data`` with some parts replaced, added or dropped (everything else copied as is)."""
    replace = replace or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in drop:
                continue
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, content in add:
            target.writestr(name, content)
    return out.getvalue()


def part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return source.read(name)


def with_sheet(body: str | bytes) -> bytes:
    """A workbook whose one sheet is ``body``: the inside of ``<sheetData>`` as text, or a
    whole sheet part as bytes."""
    sheet = sheet_xml(body) if isinstance(body, str) else body
    return rewrite(workbook(["a"]), replace={SHEET: sheet})


def with_sheet_stored_as(name: str, sheet: bytes) -> bytes:
    """A workbook whose one sheet, ``sheet``, is stored as part ``name`` (under ``xl/``),
    found through the workbook's relationships as calamine finds any sheet."""
    base = workbook(["a"])
    moved = name.removeprefix("xl/").encode()
    return rewrite(
        base,
        replace={
            rels: part(base, rels).replace(b"worksheets/sheet1.xml", moved)
            for rels in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml")
        },
        drop=[SHEET],
        add=[(name, sheet)],
    )


def sheet_xml(body: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{body}</sheetData></worksheet>'.encode()


def refusal(data: bytes, limits: WorkbookLimits = LIMITS) -> UnacceptableFileError:
    """The error the reader refuses ``data`` with, asserting it took under a second of CPU."""
    start = time.process_time()
    with pytest.raises(UnacceptableFileError) as caught:
        CalamineWorkbookReader().read(data, limits)
    assert time.process_time() - start < SECONDS
    return caught.value


def read(data: bytes, limits: WorkbookLimits = LIMITS) -> list[WorksheetRows]:
    start = time.process_time()
    sheets = list(CalamineWorkbookReader().read(data, limits))
    assert time.process_time() - start < SECONDS
    return sheets


def measured(path: Path) -> tuple[str, float, int]:
    """Read the file at ``path`` in a fresh interpreter: (outcome, seconds, peak growth)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome, seconds, growth = done.stdout.split()
    return outcome, float(seconds), int(growth)
