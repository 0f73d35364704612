"""Hostile uploads: the archive checks and the calamine reader refuse them quickly and cheaply.

Every fixture is built here: a real workbook written by openpyxl, whose parts are then
rewritten with :mod:`zipfile` (or whose ZIP headers are patched) to craft the attack
(:mod:`tests.adapters.excel.crafted`). Each refusal is asserted by its reason and bounded in
CPU time; the entity and decompression bombs are also read in a separate process, whose peak
memory must not grow by more than 50 MB.
"""

from __future__ import annotations

import io
import math
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.xml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ams_adapters.excel.archive import check_upload
from ams_core.domain.errors import FileRefusal
from ams_core.ports.workbooks import WorkbookLimits
from tests.adapters.excel.crafted import (
    MAIN_NS,
    MAX_GROWTH,
    SECONDS,
    SHEET,
    measured,
    part,
    read,
    refusal,
    rewrite,
    sheet_xml,
    with_sheet,
    with_sheet_stored_as,
    workbook,
)

SHARED = "xl/sharedStrings.xml"
GIB = 1 << 30

BILLION_LAUGHS = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>"""

EXTERNAL_ENTITY = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="{MAIN_NS}"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>
</sheetData></worksheet>"""


# -- building and rewriting workbooks -------------------------------------------------------


def patch_headers(
    data: bytes, name: str, *, file_size: int | None = None, crc: int | None = None
) -> bytes:
    """``data`` with the declared uncompressed size and/or CRC of part ``name`` overwritten,
    in both its local header and its central directory entry (the data itself is unchanged).
    """
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        local = source.getinfo(name).header_offset
    end = data.rfind(b"PK\x05\x06")
    count, _, position = struct.unpack_from("<HII", data, end + 10)
    central = None
    for _ in range(count):
        assert data[position : position + 4] == b"PK\x01\x02"
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == name.encode():
            central = position
        position += 46 + name_length + extra_length + comment_length
    assert central is not None
    assert data[local : local + 4] == b"PK\x03\x04"
    # the CRC is at 14 in a local header and 16 in a central entry; the sizes follow it
    for offset in (local + 14, central + 16):
        if crc is not None:
            struct.pack_into("<I", patched, offset, crc)
        if file_size is not None:
            struct.pack_into("<I", patched, offset + 8, file_size)
    return bytes(patched)


def stream_bomb(path: Path, size: int) -> None:
    """Write to ``path`` a workbook whose sheet part unpacks to ``size`` bytes of spaces.

    The sheet is written in 1 MiB chunks through :meth:`zipfile.ZipFile.open`, so neither the
    unpacked sheet nor the packed file is ever held in memory whole.
    """
    base = workbook(["a"])
    chunk = b" " * (1 << 20)
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, source.read(info))
        with target.open(SHEET, "w", force_zip64=True) as member:
            member.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            for _ in range(size // len(chunk)):
                member.write(chunk)
            member.write(b"</sheetData></worksheet>")


# -- asserting refusals -----------------------------------------------------------------


@pytest.fixture(scope="module")
def gib_bomb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    stream_bomb(path, GIB)
    yield path
    path.unlink()


# -- 1, 2: XML entities -----------------------------------------------------------------


def entity_bomb() -> bytes:
    return rewrite(workbook(["a"]), add=[(SHARED, BILLION_LAUGHS.encode())])


def test_an_entity_expansion_bomb_in_the_shared_strings_is_refused() -> None:
    error = refusal(entity_bomb())
    assert error.reason is FileRefusal.XML_ENTITIES
    assert SHARED in str(error)


def test_an_entity_expansion_bomb_is_refused_without_growing_the_process(tmp_path: Path) -> None:
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(entity_bomb())
    outcome, seconds, growth = measured(path)
    assert outcome == FileRefusal.XML_ENTITIES.name
    assert seconds < SECONDS
    assert growth < MAX_GROWTH


def test_an_external_entity_naming_a_local_file_is_refused_without_reading_it() -> None:
    data = with_sheet(EXTERNAL_ENTITY.encode())
    error = refusal(data)
    assert error.reason is FileRefusal.XML_ENTITIES
    assert "root:" not in str(error)
    assert all("root:" not in str(arg) for arg in error.args)


def test_a_document_type_split_across_decompression_chunks_is_still_found() -> None:
    # the declaration straddles the 1 MiB boundary of the chunked scan
    filler = os.urandom(1 << 19).hex().encode()[: (1 << 20) - 4]  # incompressible
    body = filler + EXTERNAL_ENTITY.split("\n", 1)[1].encode()
    error = refusal(with_sheet(body))
    assert error.reason is FileRefusal.XML_ENTITIES


def test_a_document_type_in_a_utf16_part_is_refused() -> None:
    xml = BILLION_LAUGHS.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = rewrite(workbook(["a"]), add=[(SHARED, xml.encode("utf-16"))])
    assert refusal(data).reason is FileRefusal.XML_ENTITIES


def test_a_document_type_in_a_sheet_stored_under_a_non_xml_name_is_refused() -> None:
    renamed = "xl/worksheets/sheet1.dat"
    error = refusal(with_sheet_stored_as(renamed, EXTERNAL_ENTITY.encode()))
    assert error.reason is FileRefusal.XML_ENTITIES
    assert renamed in str(error)


# -- 3: decompression bombs -------------------------------------------------------------


def test_a_sheet_that_unpacks_to_a_gibibyte_is_refused_before_it_is_parsed(
    gib_bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gib_bomb.stat().st_size < 8 * 1024 * 1024  # a few MB on the wire
    data = gib_bomb.read_bytes()

    def must_not_parse(*_: object) -> None:
        raise AssertionError("the bomb reached the parser")

    monkeypatch.setattr("ams_adapters.excel.reader.CalamineWorkbook.from_filelike", must_not_parse)
    error = refusal(data)
    assert error.reason is FileRefusal.UNSAFE_ARCHIVE
    assert SHEET in str(error)


def test_a_gibibyte_bomb_is_refused_without_growing_the_process(gib_bomb: Path) -> None:
    outcome, seconds, growth = measured(gib_bomb)
    assert outcome == FileRefusal.UNSAFE_ARCHIVE.name
    assert seconds < SECONDS
    assert growth < MAX_GROWTH


def test_a_bomb_just_under_the_ratio_floor_but_over_the_unpacked_total_is_refused() -> None:
    # 120 parts of 1 MiB each stay at the per-part ratio floor; the total is what counts
    limits = WorkbookLimits(max_unpacked_bytes=100 * 1024 * 1024, max_members=400)
    filler = b" " * (1 << 20)
    data = rewrite(workbook(["a"]), add=[(f"xl/media/pad{n}.bin", filler) for n in range(120)])
    error = refusal(data, limits)
    assert error.reason is FileRefusal.UNSAFE_ARCHIVE
    assert "unpacks to" in str(error)


def padded_sheet(size: int) -> tuple[bytes, bytes]:
    """A workbook whose sheet part is ``size`` bytes of real XML, and that part's head."""
    head = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>')
    body = head[: -len(b"</worksheet>")] + b"<!--" + b"x" * size + b"-->" + b"</worksheet>"
    return with_sheet(body), body[:100]


def test_a_part_whose_directory_understates_its_size_is_refused() -> None:
    data, _ = padded_sheet(5 * 1024 * 1024)
    lying = patch_headers(data, SHEET, file_size=100)
    error = refusal(lying)
    assert error.reason is FileRefusal.UNSAFE_ARCHIVE
    assert "declared size" in str(error)


def test_a_part_that_understates_its_size_and_forges_its_crc_is_still_refused() -> None:
    # the CRC matches the declared 100 bytes, so zipfile (which stops at the declared size)
    # accepts the part; the reader's zip library notices the extra data and refuses to read it
    data, head = padded_sheet(5 * 1024 * 1024)
    lying = patch_headers(data, SHEET, file_size=len(head), crc=zlib.crc32(head))
    assert refusal(lying).reason in {FileRefusal.UNSAFE_ARCHIVE, FileRefusal.UNREADABLE}


# -- 4: not a workbook --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "said"),
    [
        pytest.param(b"name,email\nalice,alice@example.org\n", "not an .xlsx", id="csv"),
        pytest.param(b"<html><body><table><tr><td>1</td></tr></table>", "not an .xlsx", id="html"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "old-style .xls", id="xls"),
        pytest.param(b"PK\x03\x04" + b"garbage" * 10, "not a readable", id="broken-zip"),
        pytest.param(b"", "not an .xlsx", id="empty"),
    ],
)
def test_a_file_that_is_not_a_zip_workbook_is_refused_as_not_xlsx(data: bytes, said: str) -> None:
    error = refusal(data)
    assert error.reason is FileRefusal.NOT_XLSX
    assert said in str(error)


@pytest.mark.parametrize("missing", ["[Content_Types].xml", "xl/workbook.xml"])
def test_a_zip_without_the_workbook_parts_is_refused_as_not_xlsx(missing: str) -> None:
    error = refusal(rewrite(workbook(["a"]), drop=[missing]))
    assert error.reason is FileRefusal.NOT_XLSX
    assert missing in str(error)


def test_a_plain_zip_of_other_files_is_refused_as_not_xlsx() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("readme.txt", "hello")
    assert refusal(out.getvalue()).reason is FileRefusal.NOT_XLSX


# -- 5: unsafe part names and links -----------------------------------------------------


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix, so the mode bits are meaningful
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param("../evil.xml", id="parent"),
        pytest.param("xl/../../evil.xml", id="nested-parent"),
        pytest.param("..\\evil.xml", id="backslash-parent"),
        pytest.param("/etc/evil.xml", id="absolute"),
        pytest.param("C:/evil.xml", id="drive"),
        pytest.param(symlink("xl/media/link"), id="symlink"),
    ],
)
def test_an_unsafe_part_name_or_a_link_is_refused(entry: zipfile.ZipInfo | str) -> None:
    data = rewrite(workbook(["a"]), add=[(entry, b"/etc/passwd")])
    assert refusal(data).reason is FileRefusal.UNSAFE_ARCHIVE


def test_too_many_parts_are_refused() -> None:
    data = rewrite(workbook(["a"]), add=[(f"xl/media/p{n}.bin", b"") for n in range(10)])
    assert refusal(data, WorkbookLimits(max_members=15)).reason is FileRefusal.UNSAFE_ARCHIVE


# -- 6: row and column caps ---------------------------------------------------------------


def header_and(count: int) -> bytes:
    return workbook(["Name", "Email"], *([f"p{n}", f"p{n}@example.org"] for n in range(count)))


def test_more_data_rows_than_the_limit_are_refused() -> None:
    assert refusal(header_and(11), WorkbookLimits(max_rows=10)).reason is FileRefusal.TOO_MANY_ROWS


def test_exactly_the_limit_of_data_rows_is_read() -> None:
    (sheet,) = read(header_and(10), WorkbookLimits(max_rows=10))
    assert len(sheet.rows) == 11
    assert sheet.rows[-1] == ["p9", "p9@example.org"]


def test_the_row_limit_counts_data_rows_over_all_sheets() -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    for title, sheet in (("One", first), ("Two", book.create_sheet())):
        sheet.title = title
        sheet.append(["Name"])
        for n in range(6):
            sheet.append([f"p{n}"])
    out = io.BytesIO()
    book.save(out)
    assert refusal(out.getvalue(), WorkbookLimits(max_rows=10)).reason is FileRefusal.TOO_MANY_ROWS


def test_more_columns_than_the_limit_are_refused() -> None:
    data = workbook([f"c{n}" for n in range(65)])
    error = refusal(data)
    assert error.reason is FileRefusal.TOO_MANY_COLUMNS
    assert "65" in str(error)


def test_exactly_the_limit_of_columns_is_read() -> None:
    (sheet,) = read(workbook([f"c{n}" for n in range(64)]))
    assert len(sheet.rows[0]) == 64


def test_a_single_cell_in_the_last_row_of_the_sheet_is_refused_as_too_many_rows() -> None:
    body = '<row r="1048576"><c r="A1048576" t="n"><v>1</v></c></row>'
    data = with_sheet(body)
    assert refusal(data).reason is FileRefusal.TOO_MANY_ROWS


# -- 7: a lying dimension -----------------------------------------------------------------


def test_a_dimension_claiming_the_whole_grid_does_not_inflate_a_three_row_sheet() -> None:
    body = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>row {r}</t></is></c>'
        f'<c r="B{r}" t="n"><v>{r}</v></c></row>'
        for r in (1, 2, 3)
    )
    data = rewrite(workbook(["a"]), replace={SHEET: sheet_xml(body, "A1:XFD1048576")})
    (sheet,) = read(data)
    assert sheet.first_row == 1
    assert sheet.rows == [["row 1", 1.0], ["row 2", 2.0], ["row 3", 3.0]]


# -- 8: too large -------------------------------------------------------------------------


def test_a_fifty_megabyte_file_is_refused_as_too_large_without_opening_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = b"PK\x03\x04" + os.urandom(50 * 1024 * 1024)

    def must_not_open(*_: object, **__: object) -> None:
        raise AssertionError("the oversized file was opened")

    monkeypatch.setattr(zipfile, "ZipFile", must_not_open)
    error = refusal(data)
    assert error.reason is FileRefusal.TOO_LARGE
    assert "52,428,804" in str(error)


# -- 9: formulas ----------------------------------------------------------------------------


def test_a_formula_without_a_cached_value_reads_as_empty_and_is_not_evaluated() -> None:
    data = workbook(["Link", "Sum"], ['=HYPERLINK("http://x","y")', "=1+1"])
    assert b"<f>HYPERLINK(" in part(data, SHEET)  # openpyxl wrote it as a formula
    (sheet,) = read(data)
    assert sheet.rows[0] == ["Link", "Sum"]
    # with no value in either cell the trailing empty row is dropped
    assert len(sheet.rows) == 1


def test_a_formula_reads_as_its_cached_value() -> None:
    data = workbook(["Link", "Sum", "Plain"], ['=HYPERLINK("http://x","y")', "=1+1", "z"])
    xml = part(data, SHEET)
    assert xml.count(b"<v />") == 2
    xml = xml.replace(b'<c r="A2"><f>', b'<c r="A2" t="str"><f>', 1)
    xml = xml.replace(b"<v />", b"<v>cached text</v>", 1).replace(b"<v />", b"<v>7</v>", 1)
    (sheet,) = read(rewrite(data, replace={SHEET: xml}))
    assert sheet.rows[1] == ["cached text", 7.0, "z"]


# -- 10: openpyxl parses with defusedxml --------------------------------------------------


def test_openpyxl_parses_xml_through_defusedxml() -> None:
    assert openpyxl.xml.DEFUSEDXML is True


# -- 11: round trip -------------------------------------------------------------------------

_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc", "Cn"))
XML_SPACE = " \t\r\n"
_TEXT = (
    st.text(_CHARACTERS, min_size=1, max_size=30)
    | st.builds(
        lambda c, n: c * n, st.text(_CHARACTERS, min_size=1, max_size=3), st.integers(1, 3_400)
    )
).filter(lambda s: not s.startswith("="))  # openpyxl writes "=…" as a formula
#: Excel's numbers are doubles below 1e308 (near the double limit openpyxl's 16-digit text
#: would round to infinity); integers beyond 2**53 would lose digits as doubles
_NUMBERS = st.integers(-(10**15), 10**15) | st.floats(-1e300, 1e300, allow_nan=False)
_CELLS = st.none() | _TEXT | _NUMBERS
_HEADERS = st.lists(
    st.sampled_from(["Name", "Email", "Name", "名前", "Ünïcødé", " x "]), min_size=1, max_size=6
)


@st.composite
def _sheets(draw: st.DrawFn) -> list[list[Any]]:
    header = draw(_HEADERS)
    width = len(header)
    rows = draw(st.lists(st.lists(_CELLS, min_size=width, max_size=width), max_size=8))
    return [header, *rows]


def _expected(grid: list[list[Any]]) -> list[list[Any]]:
    """What the reader returns for ``grid`` written from A1: empty cells as ``""``, numbers as
    floats, trailing empty rows dropped, rows as wide as the widest used column. A text cell
    of only XML white space (space, tab, CR, LF) comes back empty (calamine drops such text;
    an import takes it as blank either way); other white space, a no-break space say, stays.
    """
    used = [list(row) for row in grid]
    width = max((i + 1 for row in used for i, c in enumerate(row) if c is not None), default=0)
    rows = [
        [
            ""
            if c is None or (isinstance(c, str) and not c.strip(XML_SPACE))
            else float(c)
            if isinstance(c, int | float)
            else c
            for c in row[:width]
        ]
        + [""] * (width - len(row))
        for row in used
    ]
    while rows and all(c == "" for c in rows[-1]):
        rows.pop()
    return rows


@settings(max_examples=25, deadline=None)
@given(sheets=st.lists(_sheets(), min_size=1, max_size=3))
def test_sheets_written_by_openpyxl_read_back_with_the_same_rows_and_text(
    sheets: list[list[list[Any]]],
) -> None:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    for index, grid in enumerate(sheets):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = f"Sheet {index}"
        for row in grid:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    got = read(out.getvalue())
    assert [s.name for s in got] == [f"Sheet {n}" for n in range(len(sheets))]
    for sheet_rows, grid in zip(got, sheets, strict=True):
        assert sheet_rows.first_row == 1
        rows = [list(row) for row in sheet_rows.rows]
        expected = _expected(grid)
        assert len(rows) == len(expected)
        for row, wanted in zip(rows, expected, strict=True):
            assert len(row) == len(wanted)
            for cell, value in zip(row, wanted, strict=True):
                if isinstance(value, float):
                    # openpyxl writes a float with at most 16 significant digits
                    assert isinstance(cell, float)
                    assert math.isclose(cell, value, rel_tol=1e-15, abs_tol=1e-300)
                else:
                    assert cell == value


def test_a_sheet_of_too_many_rows_is_refused_while_it_is_unpacked_before_any_parser(
    never_parsed: list[bytes],
) -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 3003))
    data = with_sheet(rows.decode())

    refused = refusal(data, WorkbookLimits(max_rows=3_000))

    assert refused.reason is FileRefusal.TOO_MANY_ROWS
    assert never_parsed == []
    check_upload(data, WorkbookLimits(max_rows=3_001))  # one more allowed: it passes
