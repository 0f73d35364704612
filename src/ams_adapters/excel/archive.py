"""The checks an uploaded ``.xlsx`` passes before any parser sees it.

An ``.xlsx`` file is a ZIP archive of XML documents. Its directory is checked first (member
count, declared sizes, compression ratio, member names) without decompressing anything;
then every member is decompressed once, in bounded chunks, by :mod:`zipfile`, which stops at
the declared size and checks the CRC, so an archive that lies about its sizes is refused, and
the XML (any part named or starting like XML, in UTF-8, UTF-16 or UTF-32) is searched for a
document type declaration (no part of a real workbook has one; it is how entity-expansion and
external-entity attacks start) and for rows and cells placed beyond the row and column caps
(:mod:`ams_adapters.excel.grid`: a parser would lay out everything up to them).
"""

from __future__ import annotations

import io
import stat
import zipfile

from ams_adapters.excel.grid import GridScan, place_exactly
from ams_core.domain.errors import FileRefusal, UnacceptableFileError
from ams_core.ports.workbooks import WorkbookLimits

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REQUIRED_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
_CHUNK = 1 << 20
#: a document type declaration as it starts in each encoding an XML parser must or may detect
#: (UTF-8 and its ASCII subset, UTF-16 and UTF-32 in either byte order): a part written in
#: UTF-16 would otherwise hide its declaration from a search for the UTF-8 bytes
_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
#: per encoding: how ``<!`` starts and how ``DOCTYPE`` (any case) follows it
_MARKUP = tuple(("<!".encode(e), len("DOCTYPE".encode(e)), e) for e in _ENCODINGS)
_OVERLAP = max(len("<!DOCTYPE".encode(e)) for e in _ENCODINGS) - 1
#: below this size a member's compression ratio is not judged (tiny XML compresses well)
_RATIO_FLOOR = 1 << 20


def _refuse(reason: FileRefusal, message: str) -> UnacceptableFileError:
    return UnacceptableFileError(reason, message)


def check_upload(data: bytes, limits: WorkbookLimits) -> None:
    """Refuse ``data`` unless it is a safe ``.xlsx`` archive within ``limits``.

    Raises:
        UnacceptableFileError: too large, not an ``.xlsx`` workbook, or unsafe.
    """
    if len(data) > limits.max_bytes:
        raise _refuse(
            FileRefusal.TOO_LARGE,
            f"the file is {len(data):,} bytes; at most {limits.max_bytes:,} are accepted",
        )
    if data.startswith(_OLE_MAGIC):
        raise _refuse(
            FileRefusal.NOT_XLSX,
            "this is an old-style .xls workbook; save it as .xlsx (Excel Workbook) and upload that",
        )
    if not data.startswith(_ZIP_MAGIC):
        raise _refuse(
            FileRefusal.NOT_XLSX, "the file is not an .xlsx workbook (not an Office Open XML file)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(FileRefusal.NOT_XLSX, "the file is not a readable .xlsx workbook") from None
    with archive:
        members = archive.infolist()
        _check_directory(members, limits)
        rows = _RowCount(limits.max_rows)
        for member in members:
            _check_member(archive, member, rows, limits)


class _RowCount:
    """Rows of every worksheet part, counted while the parts are decompressed, so a sheet
    of a million rows is refused before a parser builds them (a header row per sheet is
    allowed on top of the data rows)."""

    def __init__(self, max_rows: int) -> None:
        self._max_rows = max_rows
        self._rows = 0
        self._sheets = 0

    def start(self) -> None:
        self._sheets += 1

    def add(self, window: bytes, tail: bytes) -> None:
        # a row element starts "<row " or "<row>"; the tail (shorter than either) only
        # completes one that the previous chunk cut
        self._rows += window.count(b"<row ") + window.count(b"<row>")
        self._rows -= tail.count(b"<row ") + tail.count(b"<row>")
        if self._rows > self._max_rows + self._sheets:
            raise _refuse(
                FileRefusal.TOO_MANY_ROWS,
                f"the workbook has more than {self._max_rows:,} data rows; at most "
                f"{self._max_rows:,} are accepted per upload",
            )


def _check_directory(members: list[zipfile.ZipInfo], limits: WorkbookLimits) -> None:
    if len(members) > limits.max_members:
        raise _refuse(
            FileRefusal.UNSAFE_ARCHIVE,
            f"the workbook archive has {len(members)} parts; at most {limits.max_members} are "
            "accepted",
        )
    names = {m.filename for m in members}
    if missing := [n for n in _REQUIRED_MEMBERS if n not in names]:
        raise _refuse(
            FileRefusal.NOT_XLSX, f"the file is a ZIP archive but not a workbook (no {missing[0]})"
        )
    unpacked = 0
    for member in members:
        name = member.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            raise _refuse(
                FileRefusal.UNSAFE_ARCHIVE, f"the archive has an unsafe part name {name!r}"
            )
        if stat.S_ISLNK(member.external_attr >> 16):
            raise _refuse(FileRefusal.UNSAFE_ARCHIVE, f"the archive part {name!r} is a link")
        unpacked += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
            raise _refuse(
                FileRefusal.UNSAFE_ARCHIVE,
                f"the archive part {name!r} unpacks {ratio:,.0f} times its packed size "
                f"(at most {limits.max_ratio}): refused as a decompression bomb",
            )
    if unpacked > limits.max_unpacked_bytes:
        raise _refuse(
            FileRefusal.UNSAFE_ARCHIVE,
            f"the workbook unpacks to {unpacked:,} bytes; at most {limits.max_unpacked_bytes:,} "
            "are accepted",
        )


def _declares_doctype(xml: bytes) -> bool:
    """Whether ``<!DOCTYPE`` (in any letter case, in any of the encodings) occurs in ``xml``.

    Only the few ``<!`` of a part (comments, CDATA) are looked at closely, so a large sheet
    costs one fast byte search (one per encoding where it holds NUL bytes) rather than a
    copy of it in upper case.
    """
    # UTF-16 and UTF-32 write "<!" with NUL bytes: where there is none, UTF-8's search will do
    for opening, width, encoding in _MARKUP if b"\x00" in xml else _MARKUP[:1]:
        at = xml.find(opening)
        while at != -1:
            start = at + len(opening)
            word = xml[start : start + width].decode(encoding, errors="replace")
            if word.upper() == "DOCTYPE":
                return True
            at = xml.find(opening, at + 1)
    return False


def _looks_like_xml(chunk: bytes) -> bool | None:
    """Whether a part starts like an XML document (after a byte order mark and white space),
    whatever its name: a sheet is found through the workbook's relationships, so it can be
    stored under any name. ``None`` while all of it so far is white space (XML may begin
    with any amount of it), so the next chunk decides.
    """
    rest = chunk.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    return rest.startswith(b"<") if rest else None


def _check_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, rows: _RowCount, limits: WorkbookLimits
) -> None:
    named_xml = member.filename.endswith((".xml", ".rels", ".vml"))
    worksheet = member.filename.startswith("xl/worksheets/") and named_xml
    if worksheet:
        rows.start()
    grid = GridScan(limits)
    xml: bool | None = True if named_xml else None
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                if xml is None:
                    xml = _looks_like_xml(chunk)
                if xml:
                    grid.feed(chunk)
                window = tail + chunk
                if xml and _declares_doctype(window):
                    raise _refuse(
                        FileRefusal.XML_ENTITIES,
                        f"the workbook part {member.filename!r} declares a document type "
                        "(XML entities are refused)",
                    )
                if worksheet:
                    rows.add(window, tail)
                tail = chunk[-_OVERLAP:]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError):
        raise _refuse(
            FileRefusal.UNSAFE_ARCHIVE,
            f"the workbook part {member.filename!r} is damaged or does not match its declared size",
        ) from None
    except EOFError:
        raise _refuse(FileRefusal.UNREADABLE, "the workbook is truncated") from None
    grid.finish()
    if grid.needs_exact_scan:
        # only now: the whole part has been searched for a document type declaration
        place_exactly(archive, member, limits, _CHUNK)
