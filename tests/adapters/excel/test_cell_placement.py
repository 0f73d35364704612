"""Rows and cells placed beyond the caps are refused while the archive is unpacked, before
calamine lays a sheet out as a grid spanning its first and last cells (a few bytes of XML
naming ``A1`` and ``XFD150000`` would otherwise take tens of gigabytes and the process down).
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook

from ams_adapters.excel.archive import check_upload
from ams_adapters.excel.grid import GridScan
from ams_core.domain.errors import FileRefusal, UnacceptableFileError
from ams_core.ports.workbooks import WorkbookLimits
from tests.adapters.excel.crafted import (
    MAIN_NS,
    MAX_GROWTH,
    SHEET,
    measured,
    part,
    read,
    refusal,
    sheet_xml,
    with_sheet,
    with_sheet_stored_as,
    workbook,
)

CHUNK = 1 << 20


def number(reference: str) -> str:
    return f'<c r="{reference}" t="n"><v>1</v></c>'


def far_apart(last: str) -> bytes:
    row = "".join(ch for ch in last if ch.isdigit())
    return with_sheet(f'<row r="1">{number("A1")}</row><row r="{row}">{number(last)}</row>')


# -- two cells far apart ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "reason", "named"),
    [
        ("XFD150000", FileRefusal.TOO_MANY_COLUMNS, "column XFD (column number 16,384"),
        ("BM2", FileRefusal.TOO_MANY_COLUMNS, "column BM (column number 65"),
        ("A1048576", FileRefusal.TOO_MANY_ROWS, "row 1,048,576"),
        ("A200002", FileRefusal.TOO_MANY_ROWS, "row 200,002"),
    ],
)
def test_two_cells_far_apart_are_refused_before_any_parser(
    never_parsed: list[bytes], last: str, reason: FileRefusal, named: str
) -> None:
    error = refusal(far_apart(last))
    assert error.reason is reason
    assert named in str(error)
    assert SHEET in str(error)
    assert never_parsed == []


def test_the_last_row_and_column_a_sheet_may_use_are_read() -> None:
    (sheet,) = read(far_apart("J1001"), WorkbookLimits(max_rows=1_000, max_columns=10))
    assert len(sheet.rows) == 1_001
    assert len(sheet.rows[0]) == 10
    assert sheet.rows[-1][-1] == 1.0


def test_the_default_caps_let_the_usual_scan_pass_their_last_cell_and_no_further() -> None:
    limits = WorkbookLimits()
    assert not verdict([number("BL200001").encode()], limits)
    assert verdict([number("BM200001").encode()], limits)
    assert verdict([number("BL200002").encode()], limits)


def test_two_cells_far_apart_are_refused_without_growing_the_process(tmp_path: Path) -> None:
    path = tmp_path / "far-apart.xlsx"
    path.write_bytes(far_apart("XFD150000"))
    outcome, _, growth = measured(path)
    assert outcome == FileRefusal.TOO_MANY_COLUMNS.name
    assert growth < MAX_GROWTH


# -- rows and cells without references ------------------------------------------------------


def test_cells_without_references_are_placed_one_after_another() -> None:
    wide = "<row>" + '<c t="n"><v>1</v></c>' * 16_384 + "</row>" + "<row/>" * 100_000
    error = refusal(with_sheet(wide))
    assert error.reason is FileRefusal.TOO_MANY_COLUMNS
    assert "column BM" in str(error)


def test_a_row_without_a_reference_follows_the_row_before_it() -> None:
    body = f'<row r="200001">{number("A200001")}</row><row><c t="n"><v>2</v></c></row>'
    error = refusal(with_sheet(body))
    assert error.reason is FileRefusal.TOO_MANY_ROWS
    assert "row 200,002" in str(error)


def test_a_sheet_with_lower_case_references_is_placed_and_read() -> None:
    body = '<row r="1"><c r="a1" t="n"><v>1</v></c><c r="c1" t="n"><v>3</v></c></row>'
    (sheet,) = read(with_sheet(body))
    assert sheet.rows == [[1.0, "", 3.0]]


def test_a_sheet_written_without_references_reads_as_the_same_sheet_with_them() -> None:
    plain = "".join(
        "<row>" + "".join(f'<c t="n"><v>{r * 10 + c}</v></c>' for c in range(64)) + "</row>"
        for r in range(1, 4)
    )
    referenced = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c r="{get_column_letter(c + 1)}{r}" t="n"><v>{r * 10 + c}</v></c>' for c in range(64)
        )
        + "</row>"
        for r in range(1, 4)
    )
    assert read(with_sheet(plain)) == read(with_sheet(referenced))


# -- the same far cell, spelled every way a parser accepts -----------------------------------


PREFIXED = (
    f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData><x:row r="1">'
    '<x:c r="A1" t="n"><x:v>1</x:v></x:c><x:c r="XFD1" t="n"><x:v>1</x:v></x:c>'
    "</x:row></x:sheetData></x:worksheet>"
)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('<row r="1"><c t="n" r="XFD1"><v>1</v></c></row>', id="reference-not-first"),
        pytest.param("<row r='1'><c r='XFD1' t='n'><v>1</v></c></row>", id="single-quotes"),
        pytest.param('<row r="1"><c\n r="XFD1" t="n"><v>1</v></c></row>', id="new-line"),
        pytest.param('<row r="1"><c  r="XFD1" t="n"><v>1</v></c></row>', id="two-spaces"),
        pytest.param('<row r="1"><c r = "XFD1" t="n"><v>1</v></c></row>', id="spaced-equals"),
        pytest.param('<row r="1"><c r="&#88;FD1" t="n"><v>1</v></c></row>', id="char-reference"),
        pytest.param('<row r="1"><c r="xfd1" t="n"><v>1</v></c></row>', id="lower-case"),
        pytest.param(PREFIXED.encode(), id="namespace-prefix"),
        pytest.param('<row r="1"><:c r="XFD1" t="n"><v>1</v></:c></row>', id="empty-prefix"),
        pytest.param(
            sheet_xml('<row r="1"><c r="XFD1" t="n"><v>1</v></c></row>').decode().encode("utf-16"),
            id="utf-16",
        ),
    ],
)
def test_a_far_cell_is_refused_however_it_is_spelled(
    never_parsed: list[bytes], body: str | bytes
) -> None:
    error = refusal(with_sheet(body))
    assert error.reason is FileRefusal.TOO_MANY_COLUMNS
    assert never_parsed == []


@pytest.mark.parametrize("attributes", ['r="A1" r="XFD1"', 'r="A1"r="XFD1"'])
def test_a_cell_with_two_references_is_refused_as_unreadable(
    never_parsed: list[bytes], attributes: str
) -> None:
    # calamine would take the last one; XML forbids an attribute twice
    error = refusal(with_sheet(f'<row r="1"><c {attributes} t="n"><v>1</v></c></row>'))
    assert error.reason is FileRefusal.UNREADABLE
    assert "not well-formed" in str(error)
    assert never_parsed == []


def test_a_far_cell_in_a_sheet_stored_under_another_name_is_refused(
    never_parsed: list[bytes],
) -> None:
    renamed = "xl/elsewhere.bin"
    sheet = sheet_xml(f'<row r="1">{number("XFD1")}</row>')
    error = refusal(with_sheet_stored_as(renamed, sheet))
    assert error.reason is FileRefusal.TOO_MANY_COLUMNS
    assert renamed in str(error)
    assert never_parsed == []


@pytest.mark.parametrize("lead", [300, CHUNK + 100], ids=["300-bytes", "over-a-chunk"])
def test_a_far_cell_after_white_space_in_a_part_not_named_xml_is_refused(
    never_parsed: list[bytes], lead: int
) -> None:
    # XML may begin with any amount of white space; mixed, it does not compress like a bomb
    space = bytes(random.Random(7).choices(b" \t\r\n", k=lead))  # noqa: S311 - test data
    sheet = space + sheet_xml(f'<row r="1">{number("XFD1")}</row>')
    error = refusal(with_sheet_stored_as("xl/elsewhere.bin", sheet))
    assert error.reason is FileRefusal.TOO_MANY_COLUMNS
    assert never_parsed == []


@pytest.mark.parametrize("cut", range(1, 14))
def test_a_far_cell_cut_by_a_decompression_chunk_is_still_found(
    never_parsed: list[bytes], cut: int
) -> None:
    # the chunk boundary falls inside '<c r="XFD1"', at each of its characters in turn
    head = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = f"</t></is></c>{number('XFD1')}</row></sheetData></worksheet>"
    filler = os.urandom(CHUNK).hex()  # incompressible, so no ratio check refuses it first
    before_cell = CHUNK - cut - len(head) - len("</t></is></c>")
    xml = head + filler[:before_cell] + tail
    assert xml.encode()[CHUNK - cut : CHUNK - cut + 2] == b"<c"
    assert refusal(with_sheet(xml.encode())).reason is FileRefusal.TOO_MANY_COLUMNS
    assert never_parsed == []


def test_a_part_sent_to_the_exact_scan_that_is_not_well_formed_is_unreadable() -> None:
    error = refusal(with_sheet('<row><c t="n"><v>1</v></row>'))
    assert error.reason is FileRefusal.UNREADABLE
    assert SHEET in str(error)
    assert "line 1" in str(error)


def test_a_cell_reference_that_is_not_one_is_unreadable() -> None:
    error = refusal(with_sheet('<row r="1"><c r="1A" t="n"><v>1</v></c></row>'))
    assert error.reason is FileRefusal.UNREADABLE
    assert "'1A'" in str(error)


# -- the scan itself: cheap for usual workbooks, never fooled by where a chunk ends ----------


LIMITS = WorkbookLimits(max_rows=10, max_columns=3)


def verdict(chunks: list[bytes], limits: WorkbookLimits = LIMITS) -> bool:
    scan = GridScan(limits)
    for chunk in chunks:
        scan.feed(chunk)
    scan.finish()
    return scan.needs_exact_scan


def test_a_workbook_written_by_openpyxl_never_needs_the_exact_scan() -> None:
    data = workbook(["Name", "Email", 3.5], *([f"p{n}", f"p{n}@example.org", n] for n in range(50)))
    assert not verdict([part(data, SHEET)], WorkbookLimits())


def test_prefixed_elements_that_are_not_rows_or_cells_need_no_exact_scan() -> None:
    # what Excel writes after the sheet data: conditional formats in an extension list
    excel_tail = (
        '<extLst><ext uri="{78C0D931}"><x14:conditionalFormattings><x14:conditionalFormatting>'
        '<x14:cfRule type="dataBar" id="{1}"/><xm:sqref>A1:A9</xm:sqref>'
        "</x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst>"
    )
    assert not verdict([f'<row r="1" spans="1:2">{number("B1")}</row>{excel_tail}'.encode()])


@given(
    column=st.integers(min_value=1, max_value=16_384),
    row=st.integers(min_value=1, max_value=1_048_576),
)
def test_a_usual_reference_needs_the_exact_scan_exactly_when_it_lies_beyond_the_caps(
    column: int, row: int
) -> None:
    body = f'<row r="{row}"><c r="{get_column_letter(column)}{row}" t="n"><v>1</v></c></row>'
    assert verdict([body.encode()]) == (column > 3 or row > 11)


@given(st.data())
def test_where_the_chunks_end_never_changes_the_verdict(data: st.DataObject) -> None:
    far = data.draw(st.booleans())
    cells = [number(f"{get_column_letter(c)}{r}") for r in range(1, 12) for c in range(1, 4)]
    if far:
        cells.insert(data.draw(st.integers(0, len(cells))), number("D5"))
    xml = f'<sheetData><row r="1">{"".join(cells)}</row></sheetData>'.encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(xml)), max_size=6)))
    chunks = [xml[a:b] for a, b in zip([0, *cuts], [*cuts, len(xml)], strict=True) if a < b]
    assert verdict(chunks) == far


def test_an_element_name_still_running_where_a_chunk_ends_needs_the_exact_scan() -> None:
    long_name = b"<" + b"p" * 600
    assert verdict([b'<row r="1">' + b"x" * CHUNK + long_name, b':c r="D1"/>'])
    assert not verdict([b'<row r="1">' + b"x" * CHUNK + b"<v>" + b"1" * 600, b"</v>"])


# -- soundness: whatever the spelling, nothing the checks let through lies beyond the caps ------

#: how a row or cell may carry its reference: the usual way, or any other way XML allows
SPELLINGS = (' r="{}"', " r='{}'", ' r = "{}"', '\n r="{}"', ' t="n" r="{}"', ' spans="1:2" r="{}"')


ODD_WAYS = ("no r", "spelled", "prefixed", "second r", "second spelled")

#: within the caps (3 columns, 11 rows with the header) or just past them or far beyond
row_numbers = st.sampled_from([1, 2, 11, 12, 40])
cell_references = st.builds(
    lambda column, row, lower: (
        (get_column_letter(column).lower() if lower else get_column_letter(column)) + str(row)
    ),
    st.sampled_from([1, 3, 4, 30]),
    row_numbers,
    st.booleans(),
)


@st.composite
def odd_start(draw: st.DrawFn, name: str) -> str:
    """A row or cell start written one odd way, its references anywhere."""
    reference = row_numbers.map(str) if name == "row" else cell_references
    usual = f' r="{draw(reference)}"'
    way = draw(st.sampled_from(ODD_WAYS))
    if way == "no r":
        return f"<{name}"
    if way == "spelled":
        spelling: str = draw(st.sampled_from(SPELLINGS[1:]))
        return f"<{name}" + spelling.format(draw(reference))
    if way == "prefixed":
        return f"<{draw(st.sampled_from(['x:', ':']))}{name}{usual}"
    # two r attributes: calamine takes the last
    second: str = SPELLINGS[0] if way == "second r" else draw(st.sampled_from(SPELLINGS[1:]))
    return f"<{name}{usual}" + second.format(draw(reference))


@st.composite
def sheets(draw: st.DrawFn) -> bytes:
    """A small sheet of usual rows and cells within the caps, one or two of them odd."""
    widths = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    count = len(widths) + sum(widths)
    odd = draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=2))
    body, position = [], 0
    for row, width in enumerate(widths, start=1):
        start = draw(odd_start("row")) if position in odd else f'<row r="{row}"'
        position += 1
        row_name = start[1:].split(" ", 1)[0].split("\n", 1)[0]
        body.append(start + ">")
        for column in range(1, width + 1):
            usual = f'<c r="{get_column_letter(column)}{row}"'
            cell = draw(odd_start("c")) if position in odd else usual
            position += 1
            cell_name = cell[1:].split(" ", 1)[0].split("\n", 1)[0]
            body.append(f"{cell}><v>1</v></{cell_name}>")
        body.append(f"</{row_name}>")
    return (
        f'<worksheet xmlns="{MAIN_NS}" xmlns:x="{MAIN_NS}"><sheetData>{"".join(body)}'
        "</sheetData></worksheet>"
    ).encode()


@settings(max_examples=300, deadline=None)
@given(sheets())
def test_a_sheet_the_checks_let_through_never_reaches_beyond_the_caps(sheet: bytes) -> None:
    data = with_sheet(sheet)
    try:
        check_upload(data, LIMITS)
    except UnacceptableFileError:
        return
    workbook_read = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        end = workbook_read.get_sheet_by_name("Sheet").end
    except (CalamineError, ValueError):
        return  # calamine cannot read it: nothing laid out
    finally:
        workbook_read.close()
    if end is not None:
        last_row, last_column = end
        assert last_row < LIMITS.max_rows + 1
        assert last_column < LIMITS.max_columns
